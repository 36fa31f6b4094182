//! Face consistency: does the generated person have the reference's face?
//!
//! Both faces are aligned to a canonical 112 × 112 crop by the similarity
//! transform that maps their eyes, nose tip and mouth corners onto fixed
//! template positions. Two measures follow:
//! - **geometry**: the landmark shapes after a best-fit similarity (all
//!   mesh points when both sides have a mesh, otherwise the five), residual
//!   RMS over the inter-ocular distance: proportions of another face differ;
//! - **appearance**: SSIM of the aligned grey crops inside a face oval,
//!   after normalising each crop's brightness and contrast so a change of
//!   lighting is not read as another person.
//!
//! An identity-embedding model can be plugged in through [`FaceEmbedder`]
//! (the pipeline plugs in face-api's `faceRecognitionNet`, converted by
//! `garmax-person::face_id`); its cosine, mapped through the model's own
//! same-person range, then carries half of the score.

use serde_json::json;

use crate::config::{Metric, Thresholds};
use crate::imgops::{Gray, Similarity, ssim, warp};
use crate::validator::{FaceLayout, FacePoints, ValidationInput, Validator, ValidatorResult};

/// Side of the aligned crop.
pub const CROP: usize = 112;

/// Where the five key points land in the aligned crop: the widely used
/// 112 × 112 five-point face template (eyes, nose tip, mouth corners).
pub const TEMPLATE: [[f32; 2]; 5] = [
    [38.2946, 51.6963],
    [73.5318, 51.5014],
    [56.0252, 71.7366],
    [41.5493, 92.3655],
    [70.7299, 92.2041],
];

/// Inter-ocular distance in the template, the unit of landmark error.
fn template_iod() -> f32 {
    let [a, b] = [TEMPLATE[0], TEMPLATE[1]];
    (a[0] - b[0]).hypot(a[1] - b[1])
}

/// An identity embedding of an aligned RGB face crop. Implementations wrap
/// a local model; similarity is the cosine of two embeddings.
pub trait FaceEmbedder: Send + Sync {
    fn name(&self) -> &str;
    /// `crop` is [`CROP`]² RGB, aligned to [`TEMPLATE`]; `None` if the model
    /// could not run.
    fn embed(&self, crop: &image::RgbImage) -> Option<Vec<f32>>;
    /// The cosines between which this model's identity score rises from 0
    /// (different people) to 1 (the same person). Models differ widely:
    /// ArcFace-style networks put different people near 0.2 and the same
    /// person above 0.6 (the default); dlib-style ResNets compress both
    /// near 1, so each model says where its own line lies.
    fn same_person_cosines(&self) -> [f32; 2] {
        [0.2, 0.6]
    }
}

#[derive(Default)]
pub struct FaceValidator {
    pub embedder: Option<Box<dyn FaceEmbedder>>,
}

/// Geometry residual (fraction of the inter-ocular distance) at which the
/// geometry score is one half. Landmark detectors jitter by ≈ 2 % of the IOD.
const GEOMETRY_HALF: f32 = 0.08;

/// Aligned crop of `image` for face `points`, plus the fraction of the crop
/// that lay inside the image.
pub fn aligned_crop(image: &Gray, points: &[[f32; 2]; 5]) -> Option<(Gray, f32, Similarity)> {
    let to_crop = Similarity::fit(points, &TEMPLATE)?;
    let back = to_crop.inverse()?;
    let (crop, inside) = warp(image, &back, CROP, CROP);
    Some((crop, inside, to_crop))
}

fn aligned_rgb(image: &image::RgbaImage, to_crop: &Similarity) -> Option<image::RgbImage> {
    let back = to_crop.inverse()?;
    let mut out = image::RgbImage::new(CROP as u32, CROP as u32);
    // Bilinear: an embedding network sees a resampled face, and nearest
    // neighbour sampling adds aliasing that no training crop had.
    let (w, h) = (image.width() as f32, image.height() as f32);
    for (x, y, p) in out.enumerate_pixels_mut() {
        let [sx, sy] = back.apply([x as f32, y as f32]);
        if sx < 0.0 || sy < 0.0 || sx > w - 1.0 || sy > h - 1.0 {
            continue;
        }
        let (x0, y0) = (sx.floor() as u32, sy.floor() as u32);
        let (x1, y1) = ((x0 + 1).min(w as u32 - 1), (y0 + 1).min(h as u32 - 1));
        let (fx, fy) = (sx - x0 as f32, sy - y0 as f32);
        let at = |x: u32, y: u32, c: usize| f32::from(image.get_pixel(x, y).0[c]);
        *p = image::Rgb(std::array::from_fn(|c| {
            let top = at(x0, y0, c) * (1.0 - fx) + at(x1, y0, c) * fx;
            let bottom = at(x0, y1, c) * (1.0 - fx) + at(x1, y1, c) * fx;
            (top * (1.0 - fy) + bottom * fy).round() as u8
        }));
    }
    Some(out)
}

/// Weight of each crop pixel: an ellipse over the inner face, so hair,
/// ears and background (which may legitimately change) do not count.
fn face_oval() -> Vec<f32> {
    let (cx, cy, rx, ry) = (56.0f32, 68.0f32, 40.0f32, 50.0f32);
    (0..CROP * CROP)
        .map(|i| {
            let (x, y) = ((i % CROP) as f32, (i / CROP) as f32);
            let d = ((x - cx) / rx).powi(2) + ((y - cy) / ry).powi(2);
            if d <= 1.0 { 1.0 } else { 0.0 }
        })
        .collect()
}

/// Zero mean, unit standard deviation inside the oval.
fn normalise(g: &mut Gray, oval: &[f32]) {
    let (mut s, mut ss, mut n) = (0.0f64, 0.0f64, 0.0f64);
    for (v, w) in g.data.iter().zip(oval) {
        if *w > 0.0 {
            s += f64::from(*v);
            ss += f64::from(v * v);
            n += 1.0;
        }
    }
    if n < 1.0 {
        return;
    }
    let mean = s / n;
    let sd = (ss / n - mean * mean).max(1e-8).sqrt();
    // Rescale to a 0–1-like range (mean 0.5, sd 0.15) so SSIM's constants
    // keep their usual meaning.
    for v in &mut g.data {
        *v = (0.5 + 0.15 * ((f64::from(*v) - mean) / sd)) as f32;
    }
}

/// RMS residual of the best similarity fit between two point sets, over the
/// inter-ocular distance of `to`.
fn shape_distance(from: &[[f32; 2]], to: &[[f32; 2]], iod: f32) -> Option<f32> {
    let s = Similarity::fit(from, to)?;
    let n = from.len().min(to.len());
    let sum: f32 = (0..n)
        .map(|i| {
            let p = s.apply(from[i]);
            (p[0] - to[i][0]).powi(2) + (p[1] - to[i][1]).powi(2)
        })
        .sum();
    Some((sum / n as f32).sqrt() / iod.max(1e-6))
}

fn cosine(a: &[f32], b: &[f32]) -> Option<f32> {
    if a.len() != b.len() || a.is_empty() {
        return None;
    }
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    (na > 0.0 && nb > 0.0).then(|| dot / (na * nb))
}

impl Validator for FaceValidator {
    fn name(&self) -> &str {
        "Face consistency"
    }
    fn key(&self) -> &str {
        Metric::Face.as_str()
    }

    fn validate(&self, input: &ValidationInput<'_>, thresholds: &Thresholds) -> ValidatorResult {
        let (key, name) = (self.key(), self.name());
        let Some(reference) = input.reference else {
            return ValidatorResult::skipped(key, name, "no reference photo");
        };
        let (Some(ref_face), Some(gen_face)) = (input.reference_face, input.generated_face) else {
            return ValidatorResult::skipped(
                key,
                name,
                "no landmarks (face points of the reference and of the render)",
            );
        };
        let (Some(ref_key), Some(gen_key)) = (ref_face.key_points(), gen_face.key_points()) else {
            return ValidatorResult::skipped(key, name, "face landmarks incomplete");
        };
        let ref_gray = Gray::from_rgba(reference);
        let gen_gray = input.generated_gray();
        let (Some((mut ref_crop, ref_in, ref_t)), Some((mut gen_crop, gen_in, gen_t))) = (
            aligned_crop(&ref_gray, &ref_key),
            aligned_crop(gen_gray, &gen_key),
        ) else {
            return ValidatorResult::skipped(
                key,
                name,
                "face landmarks degenerate (all points coincide)",
            );
        };
        if ref_in < 0.5 || gen_in < 0.5 {
            return ValidatorResult::skipped(key, name, "face mostly outside the image");
        }
        // Faces smaller than ~12 px between the eyes hold too little detail.
        let iod_px = |k: &[[f32; 2]; 5]| (k[0][0] - k[1][0]).hypot(k[0][1] - k[1][1]);
        if iod_px(&ref_key) < 12.0 || iod_px(&gen_key) < 12.0 {
            return ValidatorResult::skipped(key, name, "face too small to compare");
        }

        // Geometry in the template frame, so both faces share one scale.
        let to_template = |pts: &FacePoints, t: &Similarity| -> Vec<[f32; 2]> {
            pts.points.iter().map(|&p| t.apply(p)).collect()
        };
        let both_mesh = ref_face.layout == FaceLayout::Mesh468
            && gen_face.layout == FaceLayout::Mesh468
            && ref_face.points.len() >= 468
            && gen_face.points.len() >= 468;
        let (ref_pts, gen_pts): (Vec<[f32; 2]>, Vec<[f32; 2]>) = if both_mesh {
            (
                to_template(ref_face, &ref_t)[..468].to_vec(),
                to_template(gen_face, &gen_t)[..468].to_vec(),
            )
        } else {
            (
                ref_key.iter().map(|&p| ref_t.apply(p)).collect(),
                gen_key.iter().map(|&p| gen_t.apply(p)).collect(),
            )
        };
        let geo_dist = shape_distance(&gen_pts, &ref_pts, template_iod()).unwrap_or(1.0);
        let geometry = 1.0 / (1.0 + (geo_dist / GEOMETRY_HALF).powi(2));

        // Appearance: a light blur first, so resampling noise and JPEG
        // blocks do not count as structure.
        let oval = face_oval();
        ref_crop = ref_crop.box_blur(1);
        gen_crop = gen_crop.box_blur(1);
        normalise(&mut ref_crop, &oval);
        normalise(&mut gen_crop, &oval);
        let s = ssim(&ref_crop, &gen_crop, 3, Some(&oval));
        // SSIM of two different faces aligned this way lies around 0.2–0.5;
        // the same face re-rendered lies above 0.8.
        let appearance = ((s - 0.35) / (0.85 - 0.35)).clamp(0.0, 1.0);

        let identity = self.embedder.as_ref().and_then(|e| {
            let a = e.embed(&aligned_rgb(reference, &ref_t)?)?;
            let b = e.embed(&aligned_rgb(input.generated, &gen_t)?)?;
            let [different, same] = e.same_person_cosines();
            let c = cosine(&a, &b)?;
            Some((
                c,
                ((c - different) / (same - different).max(1e-6)).clamp(0.0, 1.0),
            ))
        });
        let score = match identity {
            // Identity carries half the score: it is the question the
            // seed's face score asks; appearance and proportions back it.
            Some((_, same)) => 0.5 * same + 0.3 * appearance + 0.2 * geometry,
            None => 0.65 * appearance + 0.35 * geometry,
        };
        let threshold = thresholds.of(Metric::Face);
        let mut feedback = Vec::new();
        if score >= 0.85 {
            feedback.push("Excellent model consistency".to_string());
        } else if score >= threshold {
            feedback.push("Face consistent with the reference".to_string());
        } else {
            if appearance < 0.6 {
                feedback.push(format!("Face looks different from the reference (aligned SSIM {s:.2}); raise model reference strength"));
            }
            if geometry < 0.6 {
                feedback.push(format!(
                    "Face proportions differ from the reference ({:.1}% of eye distance)",
                    geo_dist * 100.0
                ));
            }
        }
        ValidatorResult::scored(
            key,
            name,
            score,
            threshold,
            feedback,
            json!({
                "alignedSsim": s,
                "appearance": appearance,
                "geometryDistance": geo_dist,
                "geometry": geometry,
                "geometryPoints": ref_pts.len(),
                "identityCosine": identity.map(|(c, _)| c),
                "identity": identity.map(|(_, same)| same),
                "embedder": self.embedder.as_ref().map(|e| e.name().to_string()),
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mesh_key_points_use_eye_centres() {
        let mut pts = vec![[0.0f32, 0.0]; 468];
        pts[33] = [10.0, 20.0];
        pts[133] = [20.0, 20.0];
        pts[362] = [40.0, 20.0];
        pts[263] = [50.0, 20.0];
        pts[1] = [30.0, 35.0];
        pts[61] = [20.0, 50.0];
        pts[291] = [40.0, 50.0];
        let f = FacePoints {
            layout: FaceLayout::Mesh468,
            points: pts,
        };
        let k = f.key_points().unwrap();
        assert_eq!(k[0], [15.0, 20.0]);
        assert_eq!(k[1], [45.0, 20.0]);
        assert_eq!(k[2], [30.0, 35.0]);
        let short = FacePoints {
            layout: FaceLayout::Mesh468,
            points: vec![[0.0, 0.0]; 100],
        };
        assert!(short.key_points().is_none());
    }

    /// A stand-in identity model: the crop's mean colour.
    struct MeanColour;

    impl FaceEmbedder for MeanColour {
        fn name(&self) -> &str {
            "mean-colour"
        }
        fn embed(&self, crop: &image::RgbImage) -> Option<Vec<f32>> {
            let n = (crop.width() * crop.height()) as f32;
            let mut m = vec![0.0f32; 3];
            for p in crop.pixels() {
                for (a, v) in m.iter_mut().zip(p.0) {
                    *a += f32::from(v) / n;
                }
            }
            Some(m)
        }
    }

    #[test]
    fn an_embedder_takes_part_in_the_score() {
        let face = crate::testkit::astronaut_face();
        let img = image::RgbaImage::from_fn(160, 160, |x, y| {
            image::Rgba([(x * 3 % 256) as u8, (y * 5 % 256) as u8, 90, 255])
        });
        let g =
            garmax_vision::synthetic::generate(garmax_vision::shape::GarmentType::Tshirt, 1, 96);
        let decoded = garmax_vision::DecodedImage::from_rgba(g.image.clone());
        let out =
            garmax_vision::analyze_garment(&decoded, &garmax_vision::AnalysisOptions::default())
                .unwrap();
        let shifted = crate::testkit::scale_face(&face, 0.5);
        let mut input = ValidationInput::new(
            &img,
            crate::ProductInput {
                analysis: &out.analysis,
                image: &g.image,
                mask: &out.mask,
            },
        );
        input.reference = Some(&img);
        input.reference_face = Some(&shifted);
        input.generated_face = Some(&shifted);
        let th = crate::QualityConfig::default().tiers.standard.thresholds;
        let with = FaceValidator {
            embedder: Some(Box::new(MeanColour)),
        }
        .validate(&input, &th);
        assert_eq!(with.details["embedder"], "mean-colour");
        assert!(with.details["identityCosine"].as_f64().unwrap() > 0.999);
        assert!(with.score.unwrap() > 0.95, "{:?}", with);
        let without = FaceValidator::default().validate(&input, &th);
        assert!(without.details["identityCosine"].is_null());
    }

    #[test]
    fn shape_distance_ignores_similarity_but_not_proportions() {
        let t: Vec<[f32; 2]> = TEMPLATE.to_vec();
        let moved: Vec<[f32; 2]> = t
            .iter()
            .map(|p| [p[0] * 2.0 + 5.0, p[1] * 2.0 - 3.0])
            .collect();
        assert!(shape_distance(&moved, &t, template_iod()).unwrap() < 1e-3);
        let mut wide = t.clone();
        wide[3][0] -= 8.0;
        wide[4][0] += 8.0;
        assert!(shape_distance(&wide, &t, template_iod()).unwrap() > 0.05);
    }
}

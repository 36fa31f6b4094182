//! The avatar stage: person analysis → body fit → guidance maps, computed
//! once per photo and stored.

use std::time::Instant;

use garmax_core::pose::PoseLandmarks;
use garmax_person::FaceAnalysis;
use garmax_render::{ClothingRegions, PersonInput};
use garmax_vision::DecodedImage;
use image::{GrayImage, RgbImage, RgbaImage};
use serde::{Deserialize, Serialize};

use crate::files::{self, Gray16Image};
use crate::{Models, ProgressSink, Stage, Timing, TryOnError};

/// What a render and its validation need to know about the person, computed
/// once per photo ([`prepare_person`]) and reusable by every try-on.
#[derive(Debug, Clone)]
pub struct PreparedPerson {
    /// The photo at working resolution (see [`crate::DEFAULT_MAX_SIDE`]);
    /// every map and coordinate below refers to it.
    pub photo: RgbaImage,
    /// BlazePose landmarks in the photo's pixels.
    pub landmarks: PoseLandmarks,
    /// Person mask (0 background … 255 person).
    pub mask: GrayImage,
    /// The face mesh, when one was found (face consistency needs it).
    pub face: Option<FaceAnalysis>,
    /// Where the landmarks came from (the report's `person` object).
    pub summary: PersonSummary,
    /// The body fit's guidance maps, when the body model is loaded and the
    /// fit succeeded.
    pub guidance: Option<Guidance>,
    pub warnings: Vec<String>,
    pub timings: Vec<Timing>,
}

/// The fitted body's maps, all at the photo's size.
#[derive(Debug, Clone, PartialEq)]
pub struct Guidance {
    pub depth: Gray16Image,
    pub normal: RgbImage,
    pub parts: RgbImage,
    /// Clothing-aware segmentation in `garmax_body::raster::SegmentClass`
    /// colours; the renderer's regions come from it.
    pub segment: RgbImage,
    /// OpenPose skeleton.
    pub pose: RgbImage,
    pub overlay: RgbImage,
    /// glTF body for the studio.
    pub glb: Vec<u8>,
    /// `smpl.json` as `garmax body` writes it: β, θ, camera, fit errors …
    /// (`garmax_body::outputs::SmplJson`).
    pub smpl_json: Vec<u8>,
    /// The same as a JSON value (the report's `body`).
    pub smpl: serde_json::Value,
}

/// How the person's landmarks were obtained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PersonSummary {
    /// Found by the person analysis.
    #[serde(rename_all = "camelCase")]
    Analyzed {
        people_detected: usize,
        detection_score: f32,
        presence: f32,
        face: Option<FaceSummary>,
    },
    /// Known exactly because the pipeline drew the person (a mannequin).
    Rendered { source: String },
}

/// The face of the report: detector score and box.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaceSummary {
    pub score: f32,
    pub bbox: [f32; 4],
}

/// The report's `person` object: landmarks plus the summary's fields.
#[derive(Debug, Clone, Serialize)]
pub struct PersonReport {
    pub landmarks: PoseLandmarks,
    #[serde(flatten)]
    pub summary: PersonSummary,
}

/// `person.json` of the stored files.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PersonFile {
    landmarks: PoseLandmarks,
    face: Option<FaceAnalysis>,
    summary: PersonSummary,
    warnings: Vec<String>,
    timings: Vec<Timing>,
}

/// Analyses a person photo: landmarks, mask and face, then (with a body
/// model) the body fit and its guidance maps. A photo larger than
/// `models.max_side` is downscaled first (a warning says so). A failed body
/// fit is a warning, not an error: the render falls back to regions from
/// the landmarks.
pub fn prepare_person(
    models: &Models,
    image: &DecodedImage,
    sink: &mut dyn ProgressSink,
) -> Result<PreparedPerson, TryOnError> {
    prepare(models, &image.rgba, None, sink)
}

/// A person the pipeline drew itself (a mannequin): its landmarks, mask
/// and the exact body behind them, so nothing needs analysing or fitting.
pub(crate) struct KnownPerson {
    pub landmarks: PoseLandmarks,
    pub mask: GrayImage,
    pub body: garmax_body::BodyParams,
    pub camera: garmax_body::Camera,
    /// Says where the person came from (the report's `person.source`).
    pub source: String,
}

/// As [`prepare_person`]; `known` is a person the pipeline rendered itself
/// (a mannequin): the analysis is skipped and the guidance maps are drawn
/// from its exact body instead of a fit.
pub(crate) fn prepare(
    models: &Models,
    photo: &RgbaImage,
    known: Option<KnownPerson>,
    sink: &mut dyn ProgressSink,
) -> Result<PreparedPerson, TryOnError> {
    let mut warnings = Vec::new();
    let mut timings = Vec::new();
    let mut t = Instant::now();
    sink.stage(Stage::Start, "person landmarks and mask");
    let capped = match &known {
        Some(_) => None,
        None => files::cap_side(photo, models.max_side),
    };
    if let Some(c) = &capped {
        warnings.push(format!(
            "person photo downscaled from {}×{} to {}×{} (working resolution cap {} px)",
            photo.width(),
            photo.height(),
            c.width(),
            c.height(),
            models.max_side
        ));
    }
    let photo = capped.unwrap_or_else(|| photo.clone());
    let rgb: RgbImage = image::DynamicImage::ImageRgba8(photo.clone()).to_rgb8();
    let (landmarks, mask, summary, face, known_body) = match known {
        Some(k) => (
            k.landmarks,
            k.mask,
            PersonSummary::Rendered { source: k.source },
            None,
            Some((k.body, k.camera)),
        ),
        None => {
            let pa = models.analyzer.analyze(&rgb).map_err(TryOnError::Person)?;
            if pa.people_detected > 1 {
                warnings.push(format!(
                    "{} people detected; the most prominent one is dressed",
                    pa.people_detected
                ));
            }
            let summary = PersonSummary::Analyzed {
                people_detected: pa.people_detected,
                detection_score: pa.detection_score,
                presence: pa.presence,
                face: pa.face.as_ref().map(|f| FaceSummary {
                    score: f.score,
                    bbox: f.bbox,
                }),
            };
            (pa.landmarks, pa.mask, summary, pa.face, None)
        }
    };
    lap(&mut timings, "person analysis", &mut t);
    sink.stage(Stage::PersonAnalysis, "fitting the body, guidance maps");
    let mut guidance = None;
    if let Some(model) = &models.body {
        let body = known_body.as_ref().map(|(p, c)| (p, *c));
        match body_guidance(model, &rgb, &landmarks, &mask, body, sink) {
            Ok(g) => guidance = Some(g),
            // A body the pipeline drew itself must give its maps.
            Err(e) if body.is_some() => return Err(e),
            // The render does not need the body: say so and go on.
            Err(e) => warnings.push(format!(
                "body fit failed ({e}); regions from landmarks only"
            )),
        }
        lap(&mut timings, "body fit + maps", &mut t);
    }
    sink.stage(Stage::GuidanceMaps, "avatar ready");
    Ok(PreparedPerson {
        photo,
        landmarks,
        mask,
        face,
        summary,
        guidance,
        warnings,
        timings,
    })
}

/// The guidance maps of a person: from a body fit to the landmarks and
/// mask, or — given `known` parameters and their camera (a mannequin) —
/// drawn from that exact body, so the depth and part maps carry its true
/// occlusion order (a forearm across the chest is in front of the torso).
pub(crate) fn body_guidance(
    model: &garmax_body::BodyModel,
    rgb: &RgbImage,
    landmarks: &PoseLandmarks,
    mask: &GrayImage,
    known: Option<(&garmax_body::BodyParams, garmax_body::Camera)>,
    sink: &mut dyn ProgressSink,
) -> Result<Guidance, TryOnError> {
    let binary_mask = GrayImage::from_fn(mask.width(), mask.height(), |x, y| {
        image::Luma([if mask.get_pixel(x, y).0[0] > 127 {
            255
        } else {
            0
        }])
    });
    let mut fitted = |stage: garmax_body::outputs::Stage, _: usize, finished: bool| {
        if finished && stage == garmax_body::outputs::Stage::Fit {
            sink.stage(Stage::BodyFit, "depth, normals, parts, segmentation, pose");
        }
    };
    let out = match known {
        Some((params, camera)) => garmax_body::outputs::outputs_for_params(
            model,
            params,
            camera,
            rgb,
            landmarks,
            &binary_mask,
            &mut fitted,
        )?,
        None => garmax_body::outputs::compute_outputs(
            model,
            rgb,
            landmarks,
            &binary_mask,
            &garmax_body::FitOptions::default(),
            &mut fitted,
        )?,
    };
    // `smpl` is read back from the JSON text, as `from_files` does, so a
    // stored avatar has exactly the same values (f32 → text → f64 is not
    // f32 → f64).
    let smpl_json = files::json(&out.smpl, "smpl.json")?;
    Ok(Guidance {
        smpl: files::read_json(&smpl_json, "smpl.json")?,
        smpl_json,
        depth: out.depth,
        normal: out.normal,
        parts: out.parts,
        segment: out.segment,
        pose: out.pose,
        overlay: out.overlay,
        glb: out.glb,
    })
}

pub(crate) fn lap(timings: &mut Vec<Timing>, stage: &str, t: &mut Instant) {
    timings.push(Timing {
        stage: stage.to_string(),
        ms: t.elapsed().as_secs_f64() * 1000.0,
    });
    *t = Instant::now();
}

/// The body crate's class colours and part map → the renderer's region
/// masks; `exact` when the body is the one the pipeline drew (a mannequin).
pub fn regions_from_segment(seg: &RgbImage, parts: &RgbImage, exact: bool) -> ClothingRegions {
    use garmax_body::BodyPart;
    use garmax_body::raster::SegmentClass;
    // 255 where a label map shows one of `colours`.
    let mask_of = |map: &RgbImage, colours: &[[u8; 3]]| {
        GrayImage::from_fn(map.width(), map.height(), |x, y| {
            image::Luma([if colours.contains(&map.get_pixel(x, y).0) {
                255
            } else {
                0
            }])
        })
    };
    let mask = |class: SegmentClass| mask_of(seg, &[class.color()]);
    let arms_front = mask_of(
        parts,
        &[
            BodyPart::LeftUpperArm,
            BodyPart::RightUpperArm,
            BodyPart::LeftForearm,
            BodyPart::RightForearm,
            BodyPart::LeftHand,
            BodyPart::RightHand,
        ]
        .map(BodyPart::color),
    );
    ClothingRegions {
        upper_garment: mask(SegmentClass::UpperGarment),
        arms: mask(SegmentClass::Arms),
        hands: mask(SegmentClass::Hands),
        face_hair: mask(SegmentClass::FaceHair),
        arms_front,
        exact,
    }
}

impl PreparedPerson {
    /// Whether the pipeline drew this person (a mannequin), so its body is
    /// known exactly rather than fitted.
    pub fn is_drawn(&self) -> bool {
        matches!(self.summary, PersonSummary::Rendered { .. })
    }

    /// The renderer's view of the person.
    pub fn render_input(&self) -> PersonInput {
        PersonInput {
            photo: self.photo.clone(),
            landmarks: self.landmarks.clone(),
            mask: self.mask.clone(),
            regions: self
                .guidance
                .as_ref()
                .map(|g| regions_from_segment(&g.segment, &g.parts, self.is_drawn())),
            normal_map: self.guidance.as_ref().map(|g| g.normal.clone()),
        }
    }

    /// The report's `person` object.
    pub fn report(&self) -> PersonReport {
        PersonReport {
            landmarks: self.landmarks.clone(),
            summary: self.summary.clone(),
        }
    }

    /// The files to store: `photo.png`, `mask.png`, `person.json` and, with
    /// a body fit, `depth.png` (16-bit), `normal.png`, `parts.png`,
    /// `segment.png`, `pose.png`, `overlay.png`, `body.glb`, `smpl.json`.
    pub fn to_files(&self) -> Result<Vec<(String, Vec<u8>)>, TryOnError> {
        let mut out = vec![
            (
                "photo.png".to_string(),
                files::png_rgba(&self.photo, "photo.png")?,
            ),
            (
                "mask.png".to_string(),
                files::png_gray(&self.mask, "mask.png")?,
            ),
        ];
        if let Some(g) = &self.guidance {
            out.extend(g.to_files()?);
        }
        let person = PersonFile {
            landmarks: self.landmarks.clone(),
            face: self.face.clone(),
            summary: self.summary.clone(),
            warnings: self.warnings.clone(),
            timings: self.timings.clone(),
        };
        out.push(("person.json".into(), files::json(&person, "person.json")?));
        Ok(out)
    }

    /// Reads back what [`PreparedPerson::to_files`] stored; `lookup` returns
    /// a file's bytes by name. Guidance maps are read when `smpl.json` is
    /// there.
    pub fn from_files(
        lookup: impl Fn(&str) -> Option<Vec<u8>>,
    ) -> Result<PreparedPerson, TryOnError> {
        let lookup: &dyn Fn(&str) -> Option<Vec<u8>> = &lookup;
        let person: PersonFile =
            files::read_json(&files::need(lookup, "person.json")?, "person.json")?;
        let photo =
            files::decode_png(&files::need(lookup, "photo.png")?, "photo.png")?.into_rgba8();
        let mask = files::decode_png(&files::need(lookup, "mask.png")?, "mask.png")?.into_luma8();
        if mask.dimensions() != photo.dimensions()
            || person.landmarks.image_size != [photo.width(), photo.height()]
        {
            return Err(TryOnError::stored(
                "person",
                "photo, mask and landmarks differ in size",
            ));
        }
        let guidance = match lookup("smpl.json") {
            Some(smpl) => Some(Guidance::from_files(lookup, &smpl, photo.dimensions())?),
            None => None,
        };
        Ok(PreparedPerson {
            photo,
            landmarks: person.landmarks,
            mask,
            face: person.face,
            summary: person.summary,
            guidance,
            warnings: person.warnings,
            timings: person.timings,
        })
    }
}

const RGB_MAPS: [&str; 5] = [
    "normal.png",
    "parts.png",
    "segment.png",
    "pose.png",
    "overlay.png",
];

impl Guidance {
    fn rgb_maps(&self) -> [&RgbImage; 5] {
        [
            &self.normal,
            &self.parts,
            &self.segment,
            &self.pose,
            &self.overlay,
        ]
    }

    /// `smpl.json`, `depth.png`, the RGB maps and `body.glb` — the names
    /// `garmax body` and `garmax tryon` write into `guidance/`.
    pub fn to_files(&self) -> Result<Vec<(String, Vec<u8>)>, TryOnError> {
        let mut out = vec![
            ("smpl.json".to_string(), self.smpl_json.clone()),
            (
                "depth.png".to_string(),
                files::png_gray16(&self.depth, "depth.png")?,
            ),
        ];
        for (name, img) in RGB_MAPS.into_iter().zip(self.rgb_maps()) {
            out.push((name.to_string(), files::png_rgb(img, name)?));
        }
        out.push(("body.glb".into(), self.glb.clone()));
        Ok(out)
    }

    fn from_files(
        lookup: &dyn Fn(&str) -> Option<Vec<u8>>,
        smpl: &[u8],
        size: (u32, u32),
    ) -> Result<Guidance, TryOnError> {
        let rgb = |name: &str| -> Result<RgbImage, TryOnError> {
            let img = files::decode_png(&files::need(lookup, name)?, name)?.into_rgb8();
            if img.dimensions() != size {
                return Err(TryOnError::stored(name, "differs in size from the photo"));
            }
            Ok(img)
        };
        let depth = match files::decode_png(&files::need(lookup, "depth.png")?, "depth.png")? {
            image::DynamicImage::ImageLuma16(d) => d,
            _ => {
                return Err(TryOnError::stored(
                    "depth.png",
                    "not a 16-bit greyscale PNG",
                ));
            }
        };
        Ok(Guidance {
            depth,
            normal: rgb("normal.png")?,
            parts: rgb("parts.png")?,
            segment: rgb("segment.png")?,
            pose: rgb("pose.png")?,
            overlay: rgb("overlay.png")?,
            glb: files::need(lookup, "body.glb")?,
            smpl: files::read_json(smpl, "smpl.json")?,
            smpl_json: smpl.to_vec(),
        })
    }
}

//! Garment analysis of a product photo: the seed's "Enhanced Product
//! Analysis" — colours, branding, type, style — plus the view (front or
//! back: a try-on needs the front) and the mask and landmarks the renderer
//! needs to warp the garment onto a person. Photos that do not show one
//! whole garment (nothing found, a crop, a close-up) are refused with
//! `GAR_008`.
//!
//! The photo is analysed at a working resolution (longest side
//! [`AnalysisOptions::working_size`]); every coordinate in the result is
//! scaled back to the original photo.

use std::collections::BTreeMap;

use garmax_core::{Coded, ErrorCode};
use image::RgbaImage;
use imageproc::distance_transform::Norm;
use serde::Serialize;

use crate::branding::{BrandingKind, BrandingRegion, SHADING_TOLERANT, find_branding};
use crate::color::{Lab, delta_e2000_weighted, srgb_to_lab};
use crate::input::DecodedImage;
use crate::mask::{GarmentMask, Mask, MaskSource, ON, area, garment_mask, median_lab};
use crate::palette::{Swatch, kmeans};
use crate::shape::{GarmentType, ShapeFeatures, View, analyse_shape};

#[derive(Debug, Clone, Copy)]
pub struct AnalysisOptions {
    /// Longest side of the image the analysis works on.
    pub working_size: u32,
    /// Largest number of palette entries.
    pub palette_size: usize,
}

impl Default for AnalysisOptions {
    fn default() -> Self {
        AnalysisOptions {
            working_size: 512,
            palette_size: 6,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    #[error("no garment found: {0}")]
    NoGarment(String),
    /// A close-up or a crop: what the mask found is not a whole garment.
    #[error(
        "not a whole garment (a detail or cropped shot): {0}; use a photo that shows the whole garment on a plain background"
    )]
    DetailShot(String),
}

impl Coded for AnalysisError {
    fn code(&self) -> ErrorCode {
        match self {
            AnalysisError::NoGarment(_) | AnalysisError::DetailShot(_) => ErrorCode::NoGarmentFound,
        }
    }
}

/// Share of one frame border a garment may run along: generated whole
/// garments run along at most 0.02 of one, a crop cut off at one side 0.76.
const MAX_BORDER_RUN: f32 = 0.35;
/// Outline raggedness above which the mask is not a garment's outline: the
/// generated whole garments measure 4.0–6.5 (trousers' leg gap the most),
/// the lacy masks left by close-ups of prints 8–12.
const RAGGED_OUTLINE: f32 = 7.5;
/// Smallest share of the frame a whole garment's box spans in a product
/// photo; a fragment (a logo or a shadow found in a close-up) spans less.
/// Generated whole garments span ≥ 0.39 (shorts), fragments found in
/// close-ups 0.19–0.40, so this catches only the smaller fragments.
const MIN_FRAME_SPAN: f32 = 0.3;

/// Refuses what is not a photo of one whole garment: a mask running into
/// two or more frame borders or along much of one (a crop), a ragged
/// outline (the mask follows a print, not a garment), or a small fragment of
/// the frame.
fn refuse_detail_shot(f: &ShapeFeatures) -> Result<(), AnalysisError> {
    if f.borders_touched >= 2 {
        return Err(AnalysisError::DetailShot(format!(
            "the garment runs into {} edges of the photo",
            f.borders_touched
        )));
    }
    if f.border_run > MAX_BORDER_RUN {
        return Err(AnalysisError::DetailShot(format!(
            "the garment is cut off along {:.0} % of one edge of the photo",
            f.border_run * 100.0
        )));
    }
    if f.outline_raggedness > RAGGED_OUTLINE {
        return Err(AnalysisError::DetailShot(format!(
            "the outline found is ragged ({:.1} outline pixels per √area, a garment has under {RAGGED_OUTLINE})",
            f.outline_raggedness
        )));
    }
    if f.frame_span < MIN_FRAME_SPAN {
        return Err(AnalysisError::DetailShot(format!(
            "what stands out spans only {:.0} % of the photo",
            f.frame_span * 100.0
        )));
    }
    Ok(())
}

/// A colour as reported to users.
#[derive(Debug, Clone, Serialize)]
pub struct ColorValue {
    pub r: u8,
    pub g: u8,
    pub b: u8,
    pub hex: String,
    pub lab: Lab,
}

impl ColorValue {
    pub fn from_lab(lab: Lab) -> ColorValue {
        let s = Swatch::from_lab(lab, 1.0);
        ColorValue {
            r: s.rgb[0],
            g: s.rgb[1],
            b: s.rgb[2],
            hex: s.hex,
            lab,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Colors {
    /// The base fabric's colour (decoration excluded).
    pub dominant: ColorValue,
    /// Clusters of all garment pixels, largest first.
    pub palette: Vec<Swatch>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Branding {
    pub has_logo: bool,
    pub has_print: bool,
    pub has_embroidery: bool,
    pub has_heat_transfer: bool,
    /// Confidence that the branding verdict (present or absent) is right.
    pub confidence: f32,
    pub regions: Vec<BrandingRegion>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StyleReport {
    pub fit: crate::shape::Fit,
    pub neckline: crate::shape::Neckline,
    pub sleeve_length: crate::shape::SleeveLength,
    pub confidence: StyleConfidence,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StyleConfidence {
    pub fit: f32,
    pub neckline: f32,
    pub sleeve_length: f32,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MaskReport {
    pub source: MaskSource,
    /// Garment pixels / all pixels.
    pub area_share: f32,
    /// `[x, y, width, height]` in the photo.
    pub bbox: [u32; 4],
}

/// The analysis result; serialises to the seed's JSON shape plus extras.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GarmentAnalysis {
    pub colors: Colors,
    pub branding: Branding,
    pub garment_type: GarmentType,
    pub garment_type_confidence: f32,
    pub style: StyleReport,
    /// Which side of the garment the photo shows; a try-on needs the front.
    pub view: View,
    pub view_confidence: f32,
    /// Overall confidence of the analysis, 0–1.
    pub confidence: f32,
    /// Named landmarks in photo pixels (image left/right).
    pub landmarks: BTreeMap<&'static str, [f32; 2]>,
    pub mask: MaskReport,
    pub image: ImageInfo,
    /// The raw shape measurements, in working-resolution pixels.
    pub features: ShapeFeatures,
}

#[derive(Debug, Clone, Serialize)]
pub struct ImageInfo {
    pub width: u32,
    pub height: u32,
    pub format: crate::input::SourceFormat,
}

/// Analysis plus the intermediate images a caller may want to draw or reuse.
pub struct AnalysisOutput {
    pub analysis: GarmentAnalysis,
    /// Garment mask at the photo's resolution.
    pub mask: Mask,
}

/// Analyses a decoded product photo.
pub fn analyze_garment(
    input: &DecodedImage,
    options: &AnalysisOptions,
) -> Result<AnalysisOutput, AnalysisError> {
    let (w, h) = input.rgba.dimensions();
    let scale = (w.max(h) as f32 / options.working_size as f32).max(1.0);
    let work: RgbaImage = if scale > 1.0 {
        let (ww, wh) = (
            ((w as f32) / scale).round().max(1.0) as u32,
            ((h as f32) / scale).round().max(1.0) as u32,
        );
        // Area averaging: every source pixel counts once, which is what the
        // colour statistics want, and it is several times cheaper than a
        // filtered resize.
        image::imageops::thumbnail(&input.rgba, ww, wh)
    } else {
        input.rgba.clone()
    };
    let GarmentMask { mask, source, .. } = garment_mask(&work, input.has_alpha);
    let garment_px = area(&mask);
    let total_px = (work.width() * work.height()) as usize;
    let share = garment_px as f32 / total_px as f32;
    if share < 0.015 {
        return Err(AnalysisError::NoGarment(
            "nothing stands out from the background; use a photo of one garment on a plain background or a cut-out PNG".into(),
        ));
    }
    if share > 0.985 {
        return Err(AnalysisError::NoGarment(
            "the garment fills the whole photo, so its outline cannot be found; leave some plain background around it".into(),
        ));
    }
    if border_contact(&mask) > 0.2 {
        return Err(AnalysisError::NoGarment(
            "the garment is cut off by the photo's edges (a detail shot?); use a photo that shows the whole garment".into(),
        ));
    }
    let Some(bbox) = crate::mask::bounding_box(&mask) else {
        return Err(AnalysisError::NoGarment("empty garment mask".into()));
    };
    let garment_width = (bbox[2] - bbox[0] + 1) as f32;

    // Colour statistics use the interior only: outline pixels are mixed with
    // the backdrop by anti-aliasing and resampling.
    let interior = imageproc::morphology::erode(&mask, Norm::LInf, 2);
    let mut samples: Vec<Lab> = Vec::new();
    for (x, y, m) in interior.enumerate_pixels() {
        if m.0[0] == ON {
            let p = work.get_pixel(x, y).0;
            samples.push(srgb_to_lab([p[0], p[1], p[2]]));
        }
    }
    if samples.len() < 50 {
        return Err(AnalysisError::NoGarment(
            "the garment region is too thin to measure".into(),
        ));
    }
    let clusters = kmeans(&samples, options.palette_size, 20, 4.0);
    let mut order: Vec<usize> = (0..clusters.centres.len()).collect();
    order.sort_by(|a, b| clusters.shares[*b].total_cmp(&clusters.shares[*a]));
    let palette: Vec<Swatch> = order
        .iter()
        .map(|&i| Swatch::from_lab(clusters.centres[i], clusters.shares[i]))
        .collect();

    // Fabric = the largest cluster and every cluster that is the same cloth
    // in more or less light.
    let first_guess = fabric_colour(&samples, &clusters, order[0], None);
    let (regions, ink) = find_branding(&work, &mask, first_guess, garment_width, garment_px);
    let ink_samples: Vec<bool> = interior
        .enumerate_pixels()
        .filter(|(_, _, m)| m.0[0] == ON)
        .map(|(x, y, _)| ink.get_pixel(x, y).0[0] == ON)
        .collect();
    let dominant = fabric_colour(&samples, &clusters, order[0], Some(&ink_samples));

    let shape = analyse_shape(&mask, &work, &ink)
        .ok_or_else(|| AnalysisError::NoGarment("empty garment mask".into()))?;
    refuse_detail_shot(&shape.features)?;

    let up = |v: f32| v * scale;
    let up_u = |v: u32| ((v as f32) * scale).round() as u32;
    let regions: Vec<BrandingRegion> = regions
        .into_iter()
        .map(|mut r| {
            r.bbox = [
                up_u(r.bbox[0]),
                up_u(r.bbox[1]),
                up_u(r.bbox[2]),
                up_u(r.bbox[3]),
            ];
            r
        })
        .collect();
    let has = |k: BrandingKind| regions.iter().any(|r| r.kind == k);
    let branding_confidence = if regions.is_empty() {
        0.8
    } else {
        regions
            .iter()
            .map(|r| r.kind_confidence)
            .fold(0.0, f32::max)
            .max(0.7)
    };
    let branding = Branding {
        has_logo: !regions.is_empty(),
        has_print: has(BrandingKind::Print),
        has_embroidery: has(BrandingKind::Embroidery),
        has_heat_transfer: has(BrandingKind::HeatTransfer),
        confidence: branding_confidence,
        regions,
    };
    let landmarks = shape
        .landmarks
        .iter()
        .map(|(k, [x, y])| (*k, [up(*x), up(*y)]))
        .collect();

    let fabric_share = {
        let fabric_px = samples
            .iter()
            .filter(|s| delta_e2000_weighted(**s, dominant, SHADING_TOLERANT) < 9.0)
            .count();
        fabric_px as f32 / samples.len() as f32
    };
    let style = StyleReport {
        fit: shape.style.fit.value,
        neckline: shape.style.neckline.value,
        sleeve_length: shape.style.sleeve_length.value,
        confidence: StyleConfidence {
            fit: shape.style.fit.confidence,
            neckline: shape.style.neckline.confidence,
            sleeve_length: shape.style.sleeve_length.confidence,
        },
    };
    let confidence = (shape.garment_type.confidence
        * (0.6 + 0.4 * fabric_share.min(1.0))
        * branding_confidence.max(0.8))
    .clamp(0.0, 0.99);

    let full_mask = if scale > 1.0 {
        upscale_mask(&mask, w, h)
    } else {
        mask.clone()
    };
    let full_bbox = crate::mask::bounding_box(&full_mask).unwrap_or([0, 0, w - 1, h - 1]);
    Ok(AnalysisOutput {
        analysis: GarmentAnalysis {
            colors: Colors {
                dominant: ColorValue::from_lab(dominant),
                palette,
            },
            branding,
            garment_type: shape.garment_type.value,
            garment_type_confidence: shape.garment_type.confidence,
            style,
            view: shape.view.value,
            view_confidence: shape.view.confidence,
            confidence,
            landmarks,
            mask: MaskReport {
                source,
                area_share: share,
                bbox: [
                    full_bbox[0],
                    full_bbox[1],
                    full_bbox[2] - full_bbox[0] + 1,
                    full_bbox[3] - full_bbox[1] + 1,
                ],
            },
            image: ImageInfo {
                width: w,
                height: h,
                format: input.format,
            },
            features: shape.features,
        },
        mask: full_mask,
    })
}

/// Median colour of the fabric: samples near the seed cluster under the
/// shading-tolerant metric, minus decoration. The median, not the mean, so
/// that what decoration remains cannot drag the colour.
fn fabric_colour(
    samples: &[Lab],
    clusters: &crate::palette::Clusters,
    seed: usize,
    exclude: Option<&[bool]>,
) -> Lab {
    let seed_colour = clusters.centres[seed];
    let family: Vec<bool> = clusters
        .centres
        .iter()
        .map(|c| delta_e2000_weighted(*c, seed_colour, SHADING_TOLERANT) < 8.0)
        .collect();
    let chosen: Vec<Lab> = samples
        .iter()
        .zip(&clusters.assignment)
        .enumerate()
        .filter(|(i, (_, a))| family[**a] && !exclude.is_some_and(|e| e[*i]))
        .map(|(_, (s, _))| *s)
        .collect();
    if chosen.is_empty() {
        seed_colour
    } else {
        median_lab(chosen.into_iter())
    }
}

/// Fraction of the image's border pixels that are garment.
fn border_contact(mask: &Mask) -> f32 {
    let (w, h) = mask.dimensions();
    let on = |x: u32, y: u32| usize::from(mask.get_pixel(x, y).0[0] == ON);
    let mut touching = 0;
    for x in 0..w {
        touching += on(x, 0) + on(x, h - 1);
    }
    for y in 0..h {
        touching += on(0, y) + on(w - 1, y);
    }
    touching as f32 / (2 * (w + h)) as f32
}

/// Bilinear upsampling of a 0/255 mask followed by a threshold at half: the
/// outline follows the sub-pixel edge instead of the working resolution's
/// staircase.
fn upscale_mask(mask: &Mask, w: u32, h: u32) -> Mask {
    let (mw, mh) = mask.dimensions();
    let sx = mw as f32 / w as f32;
    let sy = mh as f32 / h as f32;
    let at = |x: i64, y: i64| -> f32 {
        let x = x.clamp(0, mw as i64 - 1) as u32;
        let y = y.clamp(0, mh as i64 - 1) as u32;
        f32::from(mask.get_pixel(x, y).0[0])
    };
    image::GrayImage::from_fn(w, h, |x, y| {
        let fx = (x as f32 + 0.5) * sx - 0.5;
        let fy = (y as f32 + 0.5) * sy - 0.5;
        let (x0, y0) = (fx.floor(), fy.floor());
        let (tx, ty) = (fx - x0, fy - y0);
        let (x0, y0) = (x0 as i64, y0 as i64);
        let top = at(x0, y0) * (1.0 - tx) + at(x0 + 1, y0) * tx;
        let bottom = at(x0, y0 + 1) * (1.0 - tx) + at(x0 + 1, y0 + 1) * tx;
        let v = top * (1.0 - ty) + bottom * ty;
        image::Luma([if v >= 127.5 { ON } else { 0 }])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upscaled_mask_keeps_the_shape() {
        let mut mask = image::GrayImage::new(10, 10);
        for y in 2..8 {
            for x in 3..7 {
                mask.put_pixel(x, y, image::Luma([ON]));
            }
        }
        let big = upscale_mask(&mask, 20, 20);
        assert_eq!(crate::mask::bounding_box(&big), Some([6, 4, 13, 15]));
        assert_eq!(crate::mask::area(&big), 8 * 12);
    }
}

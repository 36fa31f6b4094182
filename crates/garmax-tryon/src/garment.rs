//! The garment stage: product analysis of one product photo, stored and
//! reused by every try-on of that garment.

use std::time::Instant;

use garmax_render::GarmentInput;
use garmax_vision::input::SourceFormat;
use garmax_vision::{AnalysisOptions, DecodedImage, GarmentAnalysis, analyze_garment};
use serde::{Deserialize, Serialize};

use crate::files;
use crate::{DEFAULT_MAX_SIDE, Timing, TryOnError};

/// A product photo with its analysis and the renderer's view of it.
#[derive(Debug, Clone)]
pub struct PreparedGarment {
    /// The analysis (serialises as `garmax analyze --json` prints it).
    pub analysis: GarmentAnalysis,
    /// Photo (at working resolution), mask, landmarks, colour, branding.
    pub input: GarmentInput,
    /// How the photo was decoded (the analysis reads `has_alpha`).
    pub source: GarmentSource,
    pub warnings: Vec<String>,
    pub timings: Vec<Timing>,
}

/// What the analysis needs to know about the photo's source beyond its
/// pixels (`garment.json` of the stored files).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GarmentSource {
    /// `jpeg`, `png` or `webp`.
    pub format: String,
    pub has_alpha: bool,
    pub reoriented: bool,
}

/// Analyses a product photo (capped at [`DEFAULT_MAX_SIDE`] first).
/// GAR_008 when no garment is found, when the photo is a detail or cropped
/// shot, or when it shows the garment's back.
pub fn prepare_garment(image: &DecodedImage) -> Result<PreparedGarment, TryOnError> {
    prepare_garment_with(image, DEFAULT_MAX_SIDE)
}

/// As [`prepare_garment`] with another working-resolution cap.
pub fn prepare_garment_with(
    image: &DecodedImage,
    max_side: u32,
) -> Result<PreparedGarment, TryOnError> {
    let t = Instant::now();
    let mut warnings = Vec::new();
    let capped = files::cap_side(&image.rgba, max_side.max(1)).map(|rgba| {
        warnings.push(format!(
            "product photo downscaled from {}×{} to {}×{} (working resolution cap {max_side} px)",
            image.rgba.width(),
            image.rgba.height(),
            rgba.width(),
            rgba.height()
        ));
        DecodedImage {
            rgba,
            format: image.format,
            has_alpha: image.has_alpha,
            source_layout: image.source_layout.clone(),
            reoriented: image.reoriented,
        }
    });
    let image = capped.as_ref().unwrap_or(image);
    let out = analyze_garment(image, &AnalysisOptions::default()).map_err(TryOnError::Analysis)?;
    let input = GarmentInput::from_analysis(image.rgba.clone(), &out)?;
    Ok(PreparedGarment {
        analysis: out.analysis,
        input,
        source: GarmentSource {
            format: format_name(image.format).into(),
            has_alpha: image.has_alpha,
            reoriented: image.reoriented,
        },
        warnings,
        timings: vec![Timing {
            stage: "product analysis".into(),
            ms: t.elapsed().as_secs_f64() * 1000.0,
        }],
    })
}

fn format_name(f: SourceFormat) -> &'static str {
    match f {
        SourceFormat::Jpeg => "jpeg",
        SourceFormat::Png => "png",
        SourceFormat::Webp => "webp",
    }
}

impl PreparedGarment {
    /// The files to store: `photo.png` (working resolution, with alpha),
    /// `analysis.json` (as `garmax analyze --json`) and `garment.json`.
    pub fn to_files(&self) -> Result<Vec<(String, Vec<u8>)>, TryOnError> {
        Ok(vec![
            (
                "photo.png".into(),
                files::png_rgba(&self.input.photo, "photo.png")?,
            ),
            (
                "analysis.json".into(),
                files::json(&self.analysis, "analysis.json")?,
            ),
            (
                "garment.json".into(),
                files::json(&self.source, "garment.json")?,
            ),
        ])
    }

    /// Reads back what [`PreparedGarment::to_files`] stored. The typed
    /// analysis is recomputed from the stored photo (deterministic, about
    /// 0.1 s): `analysis.json` is for readers, `GarmentAnalysis` has no
    /// deserialiser.
    pub fn from_files(
        lookup: impl Fn(&str) -> Option<Vec<u8>>,
    ) -> Result<PreparedGarment, TryOnError> {
        let lookup: &dyn Fn(&str) -> Option<Vec<u8>> = &lookup;
        let source: GarmentSource =
            files::read_json(&files::need(lookup, "garment.json")?, "garment.json")?;
        let format = [SourceFormat::Jpeg, SourceFormat::Png, SourceFormat::Webp]
            .into_iter()
            .find(|f| format_name(*f) == source.format)
            .ok_or_else(|| TryOnError::stored("garment.json", "unknown format"))?;
        let rgba = files::decode_png(&files::need(lookup, "photo.png")?, "photo.png")?.into_rgba8();
        let image = DecodedImage {
            rgba,
            format,
            has_alpha: source.has_alpha,
            source_layout: "Rgba8".into(),
            reoriented: source.reoriented,
        };
        // Already at working resolution: no cap can apply.
        prepare_garment_with(&image, u32::MAX)
    }
}

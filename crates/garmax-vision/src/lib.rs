//! Pixels in, facts out: safe image decoding, garment analysis of product
//! photos, colour science (CIELAB, ΔE2000) and the drawing helpers the
//! overlays use. No I/O beyond the bytes it is handed, no async, no HTTP.

pub mod analysis;
pub mod branding;
pub mod color;
pub mod construction;
pub mod input;
pub mod mask;
pub mod overlay;
pub mod palette;
pub mod rng;
pub mod shape;
pub mod synthetic;

pub use analysis::{
    AnalysisError, AnalysisOptions, AnalysisOutput, GarmentAnalysis, analyze_garment,
};
pub use input::{DecodedImage, ImageError, ImageLimits, decode_image};

//! Pixels in, facts out: safe image decoding, garment analysis of product
//! photos, colour science (CIELAB, ΔE2000) and the drawing helpers the
//! overlays use. No I/O beyond the bytes it is handed, no async, no HTTP.

pub mod input;

pub use input::{ImageError, ImageLimits, decode_image};

//! Safe image input (written next).
use garmax_core::{Coded, ErrorCode};

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("not a supported image: {0}")]
    Unsupported(String),
}
impl Coded for ImageError {
    fn code(&self) -> ErrorCode {
        ErrorCode::InvalidImage
    }
}
pub struct ImageLimits;
pub fn decode_image(_bytes: &[u8], _limits: &ImageLimits) -> Result<image::DynamicImage, ImageError> {
    Err(ImageError::Unsupported("decoder not written yet".into()))
}

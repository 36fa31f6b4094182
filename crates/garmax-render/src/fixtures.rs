//! Loading the person fixtures (landmarks + mask produced by MediaPipe
//! Python, see `tools/reference/person_fixtures.py`) that the tests, the
//! gallery and benchmarks share.

use garmax_core::pose::PoseLandmarks;
use image::RgbaImage;
use serde::Deserialize;

use crate::error::RenderError;
use crate::person::PersonInput;

/// One fixture file: where the photo comes from and what MediaPipe found.
#[derive(Debug, Clone, Deserialize)]
pub struct PersonFixture {
    /// Packaged asset name of the source photo.
    pub source: String,
    /// `[x, y, w, h]` crop of the source photo, if any.
    pub crop: Option<[u32; 4]>,
    pub landmarks: PoseLandmarks,
}

impl PersonFixture {
    pub fn from_json(text: &str) -> Result<PersonFixture, RenderError> {
        serde_json::from_str(text).map_err(|e| RenderError::Config(format!("person fixture: {e}")))
    }

    /// Builds the render input from the (already decoded) source photo and
    /// the fixture's mask PNG bytes.
    pub fn person_input(
        &self,
        source: &RgbaImage,
        mask_png: &[u8],
    ) -> Result<PersonInput, RenderError> {
        let photo = crop(source, self.crop)?;
        let mask = image::load_from_memory(mask_png)
            .map_err(|e| RenderError::Config(format!("fixture mask: {e}")))?
            .to_luma8();
        Ok(PersonInput {
            photo,
            landmarks: self.landmarks.clone(),
            mask,
            regions: None,
            normal_map: None,
        })
    }
}

/// `[x, y, w, h]` crop, checked against the image bounds.
pub fn crop(img: &RgbaImage, crop: Option<[u32; 4]>) -> Result<RgbaImage, RenderError> {
    match crop {
        None => Ok(img.clone()),
        Some([x, y, w, h]) => {
            if w == 0
                || h == 0
                || x.saturating_add(w) > img.width()
                || y.saturating_add(h) > img.height()
            {
                return Err(RenderError::Input(format!(
                    "crop {x},{y} {w}×{h} lies outside the {}×{} photo",
                    img.width(),
                    img.height()
                )));
            }
            Ok(image::imageops::crop_imm(img, x, y, w, h).to_image())
        }
    }
}

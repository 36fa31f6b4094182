//! The garment side of a render: the product photo, its mask, its
//! landmarks and colours as plain data, built from the garment analysis.

use std::collections::BTreeMap;

use garmax_vision::AnalysisOutput;
use garmax_vision::color::Lab;
use image::{GrayImage, RgbaImage};
use serde::Serialize;

use crate::error::RenderError;
use crate::geometry::P2;

/// The garment landmarks the renderer uses, in product-photo pixels;
/// left/right are image sides.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct GarmentLandmarks {
    pub collar_centre: P2,
    pub neck_left: P2,
    pub neck_right: P2,
    pub shoulder_left: P2,
    pub shoulder_right: P2,
    pub armpit_left: P2,
    pub armpit_right: P2,
    pub sleeve_end_left: P2,
    pub sleeve_end_right: P2,
    pub hem_left: P2,
    pub hem_right: P2,
}

impl GarmentLandmarks {
    /// Reads the analysis's named landmarks; every one is required.
    pub fn from_map(
        map: &BTreeMap<&'static str, [f32; 2]>,
    ) -> Result<GarmentLandmarks, RenderError> {
        let get = |k: &str| {
            map.get(k)
                .map(|v| P2::from_arr(*v))
                .filter(|p| p.is_finite())
                .ok_or_else(|| {
                    RenderError::Garment(format!("the garment analysis found no '{k}' landmark"))
                })
        };
        Ok(GarmentLandmarks {
            collar_centre: get("collar_centre")?,
            neck_left: get("neck_left")?,
            neck_right: get("neck_right")?,
            shoulder_left: get("shoulder_left")?,
            shoulder_right: get("shoulder_right")?,
            armpit_left: get("armpit_left")?,
            armpit_right: get("armpit_right")?,
            sleeve_end_left: get("sleeve_end_left")?,
            sleeve_end_right: get("sleeve_end_right")?,
            hem_left: get("hem_left")?,
            hem_right: get("hem_right")?,
        })
    }

    pub fn shoulders(&self) -> [P2; 2] {
        [self.shoulder_left, self.shoulder_right]
    }
    pub fn armpits(&self) -> [P2; 2] {
        [self.armpit_left, self.armpit_right]
    }
    pub fn hems(&self) -> [P2; 2] {
        [self.hem_left, self.hem_right]
    }
    pub fn sleeve_ends(&self) -> [P2; 2] {
        [self.sleeve_end_left, self.sleeve_end_right]
    }

    pub fn scaled(&self, k: f32) -> GarmentLandmarks {
        let s = |p: P2| p.scale(k);
        GarmentLandmarks {
            collar_centre: s(self.collar_centre),
            neck_left: s(self.neck_left),
            neck_right: s(self.neck_right),
            shoulder_left: s(self.shoulder_left),
            shoulder_right: s(self.shoulder_right),
            armpit_left: s(self.armpit_left),
            armpit_right: s(self.armpit_right),
            sleeve_end_left: s(self.sleeve_end_left),
            sleeve_end_right: s(self.sleeve_end_right),
            hem_left: s(self.hem_left),
            hem_right: s(self.hem_right),
        }
    }
}

/// Everything the renderer needs to know about the garment.
#[derive(Debug, Clone)]
pub struct GarmentInput {
    /// The product photo (straight alpha).
    pub photo: RgbaImage,
    /// Garment mask at the photo's resolution (0/255).
    pub mask: GrayImage,
    pub landmarks: GarmentLandmarks,
    /// The product's base fabric colour.
    pub dominant: Lab,
    /// Logo / print boxes `[x, y, w, h]` in product pixels.
    pub branding: Vec<[u32; 4]>,
    /// Garment type name, for the report.
    pub garment_type: String,
}

impl GarmentInput {
    /// Builds the input from a garment analysis of `photo`. Only upper-body
    /// garments are supported by this renderer.
    pub fn from_analysis(
        photo: RgbaImage,
        out: &AnalysisOutput,
    ) -> Result<GarmentInput, RenderError> {
        let a = &out.analysis;
        if a.view == garmax_vision::shape::View::Back {
            // Dressing a person in a back view would put the back's neckline
            // and plain panel on their front: refuse rather than mislead.
            return Err(RenderError::Garment(
                "the photo shows the garment's back; use a photo of its front".into(),
            ));
        }
        if !a.garment_type.is_upper_body() {
            return Err(RenderError::Garment(format!(
                "a {} is not an upper-body garment; the local renderer dresses tees, polos, shirts, hoodies and sweaters",
                a.garment_type.name()
            )));
        }
        if out.mask.dimensions() != photo.dimensions() {
            return Err(RenderError::Input(
                "garment mask and photo differ in size".into(),
            ));
        }
        Ok(GarmentInput {
            landmarks: GarmentLandmarks::from_map(&a.landmarks)?,
            dominant: a.colors.dominant.lab,
            branding: a.branding.regions.iter().map(|r| r.bbox).collect(),
            garment_type: a.garment_type.name().to_string(),
            mask: out.mask.clone(),
            photo,
        })
    }

    /// Checks the landmarks describe a plausible upper-body garment.
    pub fn validate(&self) -> Result<(), RenderError> {
        let l = &self.landmarks;
        let width = l.shoulder_left.dist(l.shoulder_right);
        if width < 8.0 {
            return Err(RenderError::Garment(
                "the garment's shoulders are too close together".into(),
            ));
        }
        if l.shoulder_left.x >= l.shoulder_right.x {
            return Err(RenderError::Garment(
                "the garment's shoulders are in the wrong order".into(),
            ));
        }
        let length = l
            .shoulder_left
            .mid(l.shoulder_right)
            .dist(l.hem_left.mid(l.hem_right));
        if length < 0.3 * width {
            return Err(RenderError::Garment(
                "the garment is too short between shoulders and hem".into(),
            ));
        }
        if self.mask.dimensions() != self.photo.dimensions() {
            return Err(RenderError::Input(
                "garment mask and photo differ in size".into(),
            ));
        }
        Ok(())
    }
}

/// Which side of the line `a → b` the point is on, oriented so that the
/// garment's outside (the sleeve) is positive for `side` 0 (image left,
/// whose sleeve extends to the left of the shoulder–armpit line).
pub fn sleeve_side(p: P2, shoulder: P2, armpit: P2, side: usize) -> f32 {
    let d = armpit.minus(shoulder).unit_or(P2::new(0.0, 1.0));
    let n = p.minus(shoulder);
    // Cross > 0: p is to the left of the downward line (on screen, y down,
    // left of a downward vector means smaller x... see the test).
    let c = d.cross(n);
    if side == 0 { c } else { -c }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sleeve_side_is_positive_outside_the_torso() {
        let (sh, ap) = (P2::new(100.0, 50.0), P2::new(100.0, 150.0));
        assert!(sleeve_side(P2::new(60.0, 100.0), sh, ap, 0) > 0.0);
        assert!(sleeve_side(P2::new(140.0, 100.0), sh, ap, 0) < 0.0);
        assert!(sleeve_side(P2::new(140.0, 100.0), sh, ap, 1) > 0.0);
    }

    #[test]
    fn missing_landmark_is_a_garment_error() {
        let mut map = BTreeMap::new();
        map.insert("collar_centre", [1.0, 2.0]);
        let err = GarmentLandmarks::from_map(&map).unwrap_err();
        assert_eq!(
            garmax_core::Coded::code(&err),
            garmax_core::ErrorCode::NoGarmentFound
        );
    }
}

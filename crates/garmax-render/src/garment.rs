//! The garment side of a render: the product photo, its mask, its
//! landmarks and colours as plain data, built from the garment analysis;
//! how it is worn ([`GarmentFit`]): a top, a dress, or a bottom.

use std::collections::BTreeMap;

use garmax_vision::AnalysisOutput;
use garmax_vision::color::Lab;
use garmax_vision::shape::GarmentType;
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
    /// Reads a sleeveless garment's landmarks (a dress without sleeves):
    /// the sleeve ends fall on the shoulders.
    pub fn from_map_sleeveless(
        map: &BTreeMap<&'static str, [f32; 2]>,
    ) -> Result<GarmentLandmarks, RenderError> {
        let mut map = map.clone();
        for (end, shoulder) in [
            ("sleeve_end_left", "shoulder_left"),
            ("sleeve_end_right", "shoulder_right"),
        ] {
            if !map.contains_key(end)
                && let Some(p) = map.get(shoulder).copied()
            {
                map.insert(end, p);
            }
        }
        GarmentLandmarks::from_map(&map)
    }

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

    /// The sleeve a texel belongs to and how far outside its shoulder–armpit
    /// seam it lies; `None` for the torso. A sleeve is bounded by the seam
    /// and by its underside, the line from the armpit through the sleeve's
    /// end: the flank below the armpit, which flares past the seam's line
    /// on most flat lays, is torso. A garment whose sleeve ends sit on the
    /// seam (sleeveless) has no sleeves.
    pub fn sleeve_of(&self, q: P2) -> Option<(usize, f32)> {
        (0..2).find_map(|s| {
            let (shoulder, armpit, end) = (
                self.shoulders()[s],
                self.armpits()[s],
                self.sleeve_ends()[s],
            );
            let d = sleeve_side(q, shoulder, armpit, s);
            if d <= 0.0 || sleeve_side(end, shoulder, armpit, s) <= 1.0 {
                return None;
            }
            let underside = end.minus(armpit);
            let upper = underside.cross(shoulder.minus(armpit)).signum();
            (underside.cross(q.minus(armpit)) * upper >= 0.0).then_some((s, d))
        })
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

/// Which lower-body garment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BottomKind {
    Skirt,
    Shorts,
    Pants,
}

/// The landmarks of a skirt, shorts or pants, in product-photo pixels
/// (image sides): the waistband's ends, the hem's outer ends and, for
/// two-legged garments, the crotch and the hems' inner ends.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct BottomLandmarks {
    pub kind: BottomKind,
    pub waist_left: P2,
    pub waist_right: P2,
    /// Outer end of the image-left / image-right hem (the skirt's hem ends).
    pub hem_left_outer: P2,
    pub hem_right_outer: P2,
    /// Two-legged garments: the crotch and the inner hem ends.
    pub legs: Option<LegLandmarks>,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct LegLandmarks {
    pub crotch: P2,
    pub hem_left_inner: P2,
    pub hem_right_inner: P2,
}

impl BottomLandmarks {
    pub fn from_map(
        kind: BottomKind,
        map: &BTreeMap<&'static str, [f32; 2]>,
    ) -> Result<BottomLandmarks, RenderError> {
        let get = |k: &str| {
            map.get(k)
                .map(|v| P2::from_arr(*v))
                .filter(|p| p.is_finite())
                .ok_or_else(|| {
                    RenderError::Garment(format!("the garment analysis found no '{k}' landmark"))
                })
        };
        let (hem_left_outer, hem_right_outer, legs) = match kind {
            BottomKind::Skirt => (get("hem_left")?, get("hem_right")?, None),
            BottomKind::Shorts | BottomKind::Pants => (
                get("hem_left_outer")?,
                get("hem_right_outer")?,
                Some(LegLandmarks {
                    crotch: get("crotch")?,
                    hem_left_inner: get("hem_left_inner")?,
                    hem_right_inner: get("hem_right_inner")?,
                }),
            ),
        };
        Ok(BottomLandmarks {
            kind,
            waist_left: get("waist_left")?,
            waist_right: get("waist_right")?,
            hem_left_outer,
            hem_right_outer,
            legs,
        })
    }

    pub fn waist_width(&self) -> f32 {
        self.waist_left.dist(self.waist_right)
    }

    pub fn scaled(&self, k: f32) -> BottomLandmarks {
        let s = |p: P2| p.scale(k);
        BottomLandmarks {
            kind: self.kind,
            waist_left: s(self.waist_left),
            waist_right: s(self.waist_right),
            hem_left_outer: s(self.hem_left_outer),
            hem_right_outer: s(self.hem_right_outer),
            legs: self.legs.map(|l| LegLandmarks {
                crotch: s(l.crotch),
                hem_left_inner: s(l.hem_left_inner),
                hem_right_inner: s(l.hem_right_inner),
            }),
        }
    }
}

/// How a garment is worn, with the landmarks its placement pins.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "lowercase", tag = "fit")]
pub enum GarmentFit {
    /// Tee, polo, shirt, hoodie, sweater, jacket: shoulders to hips.
    Top(GarmentLandmarks),
    /// Shoulders to the hem over torso and legs (the hem falls where the
    /// dress's length puts it).
    Dress(GarmentLandmarks),
    /// Skirt, shorts, pants: from the waist down.
    Bottom(BottomLandmarks),
}

/// Everything the renderer needs to know about the garment.
#[derive(Debug, Clone)]
pub struct GarmentInput {
    /// The product photo (straight alpha).
    pub photo: RgbaImage,
    /// Garment mask at the photo's resolution (0/255).
    pub mask: GrayImage,
    /// How it is worn, with its landmarks.
    pub fit: GarmentFit,
    /// The product's base fabric colour.
    pub dominant: Lab,
    /// Logo / print boxes `[x, y, w, h]` in product pixels.
    pub branding: Vec<[u32; 4]>,
    /// Garment type name, for the report.
    pub garment_type: String,
}

impl GarmentInput {
    /// Builds the input from a garment analysis of `photo`: every garment
    /// type the analysis knows (tops, dresses, skirts, shorts, pants).
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
        if out.mask.dimensions() != photo.dimensions() {
            return Err(RenderError::Input(
                "garment mask and photo differ in size".into(),
            ));
        }
        let bottom = |kind| BottomLandmarks::from_map(kind, &a.landmarks);
        let fit = match a.garment_type {
            GarmentType::Dress => GarmentFit::Dress(dress_shoulders_from_mask(
                GarmentLandmarks::from_map_sleeveless(&a.landmarks)?,
                &out.mask,
            )),
            GarmentType::Skirt => GarmentFit::Bottom(bottom(BottomKind::Skirt)?),
            GarmentType::Shorts => GarmentFit::Bottom(bottom(BottomKind::Shorts)?),
            GarmentType::Pants => GarmentFit::Bottom(bottom(BottomKind::Pants)?),
            _ => GarmentFit::Top(GarmentLandmarks::from_map(&a.landmarks)?),
        };
        Ok(GarmentInput {
            fit,
            dominant: a.colors.dominant.lab,
            branding: a.branding.regions.iter().map(|r| r.bbox).collect(),
            garment_type: a.garment_type.name().to_string(),
            mask: out.mask.clone(),
            photo,
        })
    }

    /// The shoulders-to-hem landmarks of a top or dress.
    pub fn upper_landmarks(&self) -> Option<&GarmentLandmarks> {
        match &self.fit {
            GarmentFit::Top(l) | GarmentFit::Dress(l) => Some(l),
            GarmentFit::Bottom(_) => None,
        }
    }

    /// Checks the landmarks describe a plausible garment of its fit.
    pub fn validate(&self) -> Result<(), RenderError> {
        if self.mask.dimensions() != self.photo.dimensions() {
            return Err(RenderError::Input(
                "garment mask and photo differ in size".into(),
            ));
        }
        let l = match &self.fit {
            GarmentFit::Top(l) | GarmentFit::Dress(l) => l,
            GarmentFit::Bottom(b) => return validate_bottom(b),
        };
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
        Ok(())
    }
}

/// A dress's shoulders and armpits read from its mask when the analysis's
/// are implausible. The analysis places a top's shoulders on its side lines,
/// which it takes from the hem's width; on a dress flaring below a narrow
/// bodice those lines land on the skirt, and the "shoulders" come out below
/// the armpits. Then the shoulders are the ends of the mask's top rows and
/// the armpits lie 0.45 shoulder widths below them on the bodice's sides.
fn dress_shoulders_from_mask(mut l: GarmentLandmarks, mask: &GrayImage) -> GarmentLandmarks {
    let plausible = l.shoulder_left.y < l.armpit_left.y && l.shoulder_right.y < l.armpit_right.y;
    if plausible {
        return l;
    }
    let extent = |y: u32| -> Option<(u32, u32)> {
        let on: Vec<u32> = (0..mask.width())
            .filter(|&x| mask.get_pixel(x, y).0[0] >= 128)
            .collect();
        Some((*on.first()?, *on.last()?))
    };
    let Some(top) = (0..mask.height()).find(|&y| extent(y).is_some()) else {
        return l;
    };
    // A few rows down, past the anti-aliased top edge.
    let y_sh = (top + 4).min(mask.height() - 1);
    let Some((x0, x1)) = extent(y_sh) else {
        return l;
    };
    let width = (x1 - x0) as f32;
    let y_ap = ((y_sh as f32 + 0.45 * width) as u32).min(mask.height() - 1);
    let (a0, a1) = extent(y_ap).unwrap_or((x0, x1));
    // Short sleeves reach past the bodice: keep the armpits near the
    // shoulder lines.
    let slack = 0.15 * width;
    let (a0, a1) = (
        (a0 as f32).max(x0 as f32 - slack),
        (a1 as f32).min(x1 as f32 + slack),
    );
    l.shoulder_left = P2::new(x0 as f32, y_sh as f32);
    l.shoulder_right = P2::new(x1 as f32, y_sh as f32);
    l.armpit_left = P2::new(a0, y_ap as f32);
    l.armpit_right = P2::new(a1, y_ap as f32);
    for (end, sh) in [
        (&mut l.sleeve_end_left, l.shoulder_left),
        (&mut l.sleeve_end_right, l.shoulder_right),
    ] {
        if end.y > y_ap as f32 {
            *end = sh;
        }
    }
    l
}

/// Checks a bottom's landmarks: a waistband of some width, ends in order,
/// some length below it.
fn validate_bottom(b: &BottomLandmarks) -> Result<(), RenderError> {
    let width = b.waist_width();
    if width < 8.0 || b.waist_left.x >= b.waist_right.x {
        return Err(RenderError::Garment(
            "the garment's waistband is too narrow or its ends are in the wrong order".into(),
        ));
    }
    let length = b
        .waist_left
        .mid(b.waist_right)
        .dist(b.hem_left_outer.mid(b.hem_right_outer));
    if length < 0.3 * width {
        return Err(RenderError::Garment(
            "the garment is too short between waistband and hem".into(),
        ));
    }
    Ok(())
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
    fn a_sleeve_ends_at_its_underside_and_the_flank_below_is_torso() {
        // A flat-lay tee: sleeves out and down from the shoulders, the body
        // flaring past the seam's line toward the hem.
        let g = GarmentLandmarks {
            collar_centre: P2::new(100.0, 20.0),
            neck_left: P2::new(80.0, 10.0),
            neck_right: P2::new(120.0, 10.0),
            shoulder_left: P2::new(50.0, 20.0),
            shoulder_right: P2::new(150.0, 20.0),
            armpit_left: P2::new(52.0, 70.0),
            armpit_right: P2::new(148.0, 70.0),
            sleeve_end_left: P2::new(10.0, 80.0),
            sleeve_end_right: P2::new(190.0, 80.0),
            hem_left: P2::new(45.0, 200.0),
            hem_right: P2::new(155.0, 200.0),
        };
        assert_eq!(g.sleeve_of(P2::new(30.0, 50.0)).map(|x| x.0), Some(0));
        assert_eq!(g.sleeve_of(P2::new(170.0, 50.0)).map(|x| x.0), Some(1));
        // The flank below the armpit, outside the seam's line.
        assert_eq!(g.sleeve_of(P2::new(46.0, 180.0)), None);
        assert_eq!(g.sleeve_of(P2::new(154.0, 180.0)), None);
        assert_eq!(g.sleeve_of(P2::new(100.0, 100.0)), None);
        // Sleeveless: the ends sit on the shoulders.
        let vest = GarmentLandmarks {
            sleeve_end_left: g.shoulder_left,
            sleeve_end_right: g.shoulder_right,
            ..g
        };
        assert_eq!(vest.sleeve_of(P2::new(30.0, 50.0)), None);
    }

    #[test]
    fn sleeve_side_is_positive_outside_the_torso() {
        let (sh, ap) = (P2::new(100.0, 50.0), P2::new(100.0, 150.0));
        assert!(sleeve_side(P2::new(60.0, 100.0), sh, ap, 0) > 0.0);
        assert!(sleeve_side(P2::new(140.0, 100.0), sh, ap, 0) < 0.0);
        assert!(sleeve_side(P2::new(140.0, 100.0), sh, ap, 1) > 0.0);
    }

    #[test]
    fn every_analysed_type_gets_its_fit() {
        use crate::render::test_scene::garment_of;
        let pants = garment_of(GarmentType::Pants);
        let GarmentFit::Bottom(b) = pants.fit else {
            panic!("pants are a bottom")
        };
        assert_eq!(b.kind, BottomKind::Pants);
        let legs = b.legs.expect("two legs");
        assert!(legs.crotch.y > b.waist_left.y && legs.crotch.y < b.hem_left_outer.y);
        let skirt = garment_of(GarmentType::Skirt);
        let GarmentFit::Bottom(b) = skirt.fit else {
            panic!("a skirt is a bottom")
        };
        assert!(b.legs.is_none());
        assert!(skirt.validate().is_ok());
        // A dress's shoulders lie above its armpits, whatever the analysis
        // put on its skirt.
        let dress = garment_of(GarmentType::Dress);
        let GarmentFit::Dress(l) = dress.fit else {
            panic!("a dress")
        };
        assert!(l.shoulder_left.y < l.armpit_left.y && l.shoulder_right.y < l.armpit_right.y);
        assert!(l.shoulder_left.y < l.hem_left.y - 0.5 * l.shoulder_left.dist(l.shoulder_right));
        assert!(dress.upper_landmarks().is_some() && skirt.upper_landmarks().is_none());
    }

    #[test]
    fn a_bottom_without_a_waistband_is_a_garment_error() {
        let mut g = crate::render::test_scene::garment_of(GarmentType::Shorts);
        if let GarmentFit::Bottom(b) = &mut g.fit {
            b.waist_right = b.waist_left;
        }
        let err = g.validate().unwrap_err();
        assert_eq!(
            garmax_core::Coded::code(&err),
            garmax_core::ErrorCode::NoGarmentFound
        );
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

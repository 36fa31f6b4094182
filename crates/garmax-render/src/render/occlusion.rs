//! Occlusion: what stays in front of the new garment (face, hair, hands;
//! skin-coloured forearms in front of the torso) and how far the fabric may
//! stand off the silhouette.

use rayon::prelude::*;

use crate::geometry::P2;
use crate::person::{BodyFrame, Regions, point_in_polygon, torso_polygon};
use crate::plane::{Plane, grow};

use super::placement::Placement;

/// The depth order and clip masks of one render.
pub struct Occlusion {
    /// Where the torso layer may show: the person grown by the fabric
    /// margin `(1.2 − reference strength) × 6 %` of the shoulder width.
    pub clip: Plane,
    /// The same for sleeves, with a wider margin (× 20 %): a tee's sleeve is
    /// wider than the arm it hangs on.
    pub sleeve_clip: Plane,
    /// Face, hair and hands grown by `reference strength × 6 %` of the
    /// shoulder width: always in front, restored from the photo last.
    pub protect: Plane,
    /// Face, hair and hands un-grown.
    pub face_hair_hands: Plane,
    /// Skin-coloured forearm pixels: in front of the torso layer (a non-skin
    /// arm pixel is an old sleeve, which the new garment may cover).
    pub arms_front: Plane,
    /// Inside the landmark torso polygon.
    pub in_torso: Plane,
}

/// The visible coverage of each layer after clipping.
pub struct Coverage {
    pub torso: Plane,
    pub sleeves: Plane,
    /// Either layer: the garment's coverage.
    pub garment: Plane,
}

/// Derives the occlusion masks from the regions, at the reference strength
/// `m` (the `modelReferenceStrength` knob).
pub fn occlusion(regions: &Regions, body: &BodyFrame, m: f32) -> Occlusion {
    let sw = body.sw;
    let margin = ((1.2 - m) * 0.06 * sw).round().max(1.0) as u32;
    // The torso's fabric stands off the body's outline, not an arm's: with
    // exact arms the margin is grown from the person without them, so no
    // strip of the tee shows in the gap between a hanging arm and the side.
    let trunk = if regions.arms_exact {
        regions
            .person
            .zip_with(&regions.lower_arms, |p, a| p * (1.0 - a))
    } else {
        regions.person.clone()
    };
    let clip = grow(&trunk, margin).zip_with(&regions.person, f32::max);
    let sleeve_margin = ((1.2 - m) * 0.2 * sw).round().max(2.0) as u32;
    let sleeve_clip = grow(&regions.person, sleeve_margin).zip_with(&regions.person, f32::max);
    let protect_r = (m * 0.06 * sw).round() as u32;
    let protect_src = regions.face_hair.zip_with(&regions.hands, f32::max);
    // The growth covers the landmark guesses' error; a drawn body's hands
    // are exact and would only cut a ring out of the garment around them.
    let grown_src = if regions.arms_exact {
        &regions.face_hair
    } else {
        &protect_src
    };
    let protect = grow(grown_src, protect_r).zip_with(&protect_src, f32::max);
    // A capsule around the landmarks holds old sleeve as well as arm: only
    // its skin is in front. A drawn body's forearms are exact.
    let arms_front = if regions.arms_exact {
        regions.lower_arms.clone()
    } else {
        regions
            .lower_arms
            .zip_with(&regions.skin_like, |a, s| a * s)
    };
    let (w, h) = (regions.person.w, regions.person.h);
    let poly = torso_polygon(body);
    let in_torso = Plane {
        w,
        h,
        data: (0..(w * h) as usize)
            .into_par_iter()
            .map(|i| {
                let q = P2::new((i as u32 % w) as f32 + 0.5, (i as u32 / w) as f32 + 0.5);
                if point_in_polygon(q, &poly) { 1.0 } else { 0.0 }
            })
            .collect(),
    };
    Occlusion {
        clip,
        sleeve_clip,
        protect,
        face_hair_hands: protect_src,
        arms_front,
        in_torso,
    }
}

/// The forearms' and hands' edge over the garment, moved onto the photo's
/// own contour (a guided filter with the photo as the guide, window 2 % of
/// the shoulder width): the mask drawn from a capsule or a body model has
/// the arm's extent, the photo has its edge.
pub fn refine_arms_front(occ: &mut Occlusion, photo: &[Plane; 3], body: &BodyFrame, exact: bool) {
    if exact {
        // A drawn body's part map is the truth, edge included.
        return;
    }
    let r = ((ARM_EDGE_WINDOW * body.sw).round() as u32).max(2);
    let refined = crate::matte::refine(photo, &occ.arms_front, r, ARM_EDGE_EPS);
    // Never more than the mask grown by the window: the filter softens the
    // edge, it does not extend an arm into the fabric beside it.
    let reach = grow(&occ.arms_front, r);
    occ.arms_front = refined.zip_with(&reach, f32::min);
}

/// Window radius of the arm-edge refinement, relative to the shoulder width.
const ARM_EDGE_WINDOW: f32 = 0.02;
/// Its ridge, in linear RGB² (colour edges weaker than √eps ≈ 0.03 are
/// treated as flat, so sensor noise does not shape the edge).
const ARM_EDGE_EPS: f32 = 1e-3;

/// Clips the placed layers to the silhouette plus their margins.
pub fn clip_layers(placement: &Placement, occ: &Occlusion) -> Coverage {
    let torso = placement.torso.alpha.zip_with(&occ.clip, |a, c| a * c);
    let sleeves = placement
        .sleeves
        .alpha
        .zip_with(&occ.sleeve_clip, |a, c| a * c);
    let garment = torso.zip_with(&sleeves, f32::max);
    Coverage {
        torso,
        sleeves,
        garment,
    }
}

/// What lies in front of a skirt, shorts or pants: the skin of hands and
/// forearms (a hand on the hip, arms hanging beside the legs). The hand
/// discs and arm capsules from the landmarks are wider than the hands and
/// arms; over the legs what they hold besides skin is the old trousers
/// behind the hand, which the new garment covers.
pub fn in_front_of_bottom(regions: &Regions) -> Plane {
    regions
        .lower_arms
        .zip_with(&regions.hands, f32::max)
        .zip_with(&regions.skin_like, |a, s| a * s)
}

/// The protection of a dress or bottom: face and hair as for a top, the
/// hands only where they are skin (see [`in_front_of_bottom`]), grown by
/// `reference strength × 6 %` of the shoulder width.
pub fn protect_skin_hands(occ: &mut Occlusion, regions: &Regions, body: &BodyFrame, m: f32) {
    let hands = regions.hands.zip_with(&regions.skin_like, |h, s| h * s);
    let src = regions.face_hair.zip_with(&hands, f32::max);
    let r = (m * 0.06 * body.sw).round() as u32;
    occ.protect = grow(&src, r).zip_with(&src, f32::max);
    occ.face_hair_hands = src;
}

/// Lets a skirt or dress hang across the gap between the legs: the clip
/// also covers the polygon `outline`.
pub fn widen_clip(clip: &mut Plane, outline: &[P2]) {
    let w = clip.w;
    clip.data.par_iter_mut().enumerate().for_each(|(i, c)| {
        let q = P2::new((i as u32 % w) as f32 + 0.5, (i as u32 / w) as f32 + 0.5);
        if point_in_polygon(q, outline) {
            *c = 1.0;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::test_scene;

    fn at(p: &Plane, q: P2) -> f32 {
        p.get(q.x as u32, q.y as u32)
    }

    /// The middle of the scene's image-right forearm, and the chest.
    fn forearm_and_chest(b: &BodyFrame) -> (P2, P2) {
        let chest = b
            .shoulder_l
            .mid(b.shoulder_r)
            .plus(b.down.scale(0.5 * b.sw));
        (b.elbow_r.lerp(b.wrist_r, 0.5), chest)
    }

    #[test]
    fn the_face_and_the_skin_forearms_are_in_front_and_the_clip_follows_the_person() {
        let scene = test_scene::scene();
        let occ = occlusion(&scene.regions, &scene.body, 0.8);
        let b = &scene.body;
        assert_eq!(at(&occ.protect, b.face_centre), 1.0);
        assert_eq!(at(&occ.face_hair_hands, b.face_centre), 1.0);
        // The bare forearm of the scene is skin: in front of the torso.
        let (fore, chest) = forearm_and_chest(b);
        assert!(
            at(&occ.arms_front, fore) > 0.5,
            "{}",
            at(&occ.arms_front, fore)
        );
        // The chest is not protected and lies in the torso polygon.
        assert_eq!(at(&occ.protect, chest), 0.0);
        assert_eq!(at(&occ.arms_front, chest), 0.0);
        assert_eq!(at(&occ.in_torso, chest), 1.0);
        // The clip is the person, a little grown; far outside it is zero.
        assert_eq!(at(&occ.clip, chest), 1.0);
        assert_eq!(occ.clip.get(1, 1), 0.0);
        let grown = |p: &Plane| p.data.iter().filter(|v| **v > 0.5).count();
        assert!(grown(&occ.sleeve_clip) > grown(&occ.clip));
    }

    #[test]
    fn the_refined_arm_edge_keeps_the_forearm_and_stays_off_the_chest() {
        let scene = test_scene::scene();
        let photo = crate::render::color::LinearPhoto::from_rgba(&test_scene::person().photo);
        let mut occ = occlusion(&scene.regions, &scene.body, 0.8);
        let before = occ.arms_front.clone();
        refine_arms_front(&mut occ, &photo.rgb, &scene.body, false);
        let b = &scene.body;
        let (fore, chest) = forearm_and_chest(b);
        assert!(
            at(&occ.arms_front, fore) > 0.9,
            "{}",
            at(&occ.arms_front, fore)
        );
        assert_eq!(at(&occ.arms_front, chest), 0.0);
        // It reaches no further than the window beyond the mask.
        let r = ((ARM_EDGE_WINDOW * b.sw).round() as u32).max(2);
        let reach = grow(&before, r);
        assert!(
            occ.arms_front
                .data
                .iter()
                .zip(&reach.data)
                .all(|(a, g)| a <= g)
        );
    }

    #[test]
    fn forearms_are_in_front_of_a_bottom_and_a_skirt_spans_the_gap() {
        let scene = test_scene::scene();
        let b = &scene.body;
        let front = in_front_of_bottom(&scene.regions);
        assert!(at(&front, b.elbow_l.lerp(b.wrist_l, 0.7)) > 0.5);
        assert_eq!(at(&front, P2::new(96.0, 260.0)), 0.0, "the thigh");
        let mut occ = occlusion(&scene.regions, &scene.body, 0.8);
        let gap = P2::new(120.0, 330.0);
        assert_eq!(at(&occ.clip, gap), 0.0);
        let outline = [
            P2::new(90.0, 220.0),
            P2::new(150.0, 220.0),
            P2::new(160.0, 340.0),
            P2::new(80.0, 340.0),
        ];
        widen_clip(&mut occ.clip, &outline);
        assert_eq!(at(&occ.clip, gap), 1.0);
        assert_eq!(occ.clip.get(2, 2), 0.0);
    }

    #[test]
    fn reference_strength_trades_fabric_margin_for_protection() {
        let scene = test_scene::scene();
        let loose = occlusion(&scene.regions, &scene.body, 0.0);
        let strict = occlusion(&scene.regions, &scene.body, 1.0);
        let n = |p: &Plane| p.data.iter().filter(|v| **v > 0.5).count();
        assert!(n(&strict.protect) > n(&loose.protect));
        assert!(n(&strict.clip) < n(&loose.clip));
    }
}

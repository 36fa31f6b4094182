//! Old-clothing removal: what of the old garment the new one does not
//! cover is replaced — skin where arms and neck were clothed, background
//! where bulky clothing sticks out beside the new silhouette.

use rayon::prelude::*;

use crate::geometry::{P2, smoothstep};
use crate::legs::LegFrame;
use crate::person::{BodyFrame, Regions};
use crate::plane::{Plane, grow, masked_box_blur, push_pull_fill};

use super::color::{lab_to_linear, median};
use super::shading::fine_radius;

/// Repaints the exposed old clothing of each arm and of the neck with the
/// person's skin colour (sampled from the face) in `base`, shaded by the
/// old fabric's light. A zone (left arm, right arm, neck) is repainted only
/// when what shows there is mostly not skin. Returns the pixels repainted
/// (weight > ½).
#[allow(clippy::too_many_arguments)]
pub fn repaint_skin(
    base: &mut [Plane; 3],
    regions: &Regions,
    body: &BodyFrame,
    luma: &Plane,
    coverage: &Plane,
    protect: &Plane,
    face_hair_hands: &Plane,
) -> usize {
    let Some(skin) = regions.skin else {
        return 0;
    };
    let (w, h) = (luma.w, luma.h);
    let mut skin_filled = 0usize;
    let skin_lin = lab_to_linear(skin);
    // Skin brightness follows the original arm's shading, relative to
    // the arm's median brightness.
    let arm_luma: Vec<f32> = (0..(w * h) as usize)
        .filter(|&i| regions.arms.data[i] > 0.5 && regions.skin_like.data[i] > 0.5)
        .map(|i| luma.data[i])
        .collect();
    let skin_ref = median(arm_luma).unwrap_or(skin_lin.iter().sum::<f32>() / 3.0);
    let all_luma = masked_box_blur(luma, &regions.arms, fine_radius(body.sw).max(2), skin_ref);
    let neck = neck_zone(body, w, h);
    let neck_light = neck_lighting(body, w, h);
    // Decide per zone (left arm, right arm, neck) whether what shows is
    // old clothing at all: a bare arm in shade fails the pixel test here
    // and there, and must not be repainted. The zone's median
    // skin-likeness over its exposed pixels decides.
    let zone_of = |i: usize| -> Option<usize> {
        match regions.arm_side[i] {
            1 => Some(0),
            2 => Some(1),
            _ if neck.data[i] > 0.5 && regions.person.data[i] > 0.5 => Some(2),
            _ => None,
        }
    };
    let mut zone_skin: [Vec<f32>; 3] = Default::default();
    for i in 0..(w * h) as usize {
        if coverage.data[i] < 0.5
            && protect.data[i] < 0.5
            && let Some(z) = zone_of(i)
        {
            zone_skin[z].push(regions.skin_like.data[i]);
        }
    }
    let zone_clothed: Vec<bool> = zone_skin
        .into_iter()
        .map(|v| median(v).is_some_and(|m| m < 0.5))
        .collect();
    // An arm MediaPipe only guesses (hidden behind someone, out of
    // frame) shows something else where its capsule lies.
    let mut zone_clothed = zone_clothed;
    for (clothed, vis) in zone_clothed.iter_mut().zip(body.arm_visibility) {
        if vis < 0.3 {
            *clothed = false;
        }
    }
    for i in 0..(w * h) as usize {
        // Exposed: an arm or neck pixel the new garment does not cover.
        let zone = (regions.arms.data[i]).max(neck.data[i] * regions.person.data[i]);
        let clothed = zone_of(i).is_some_and(|z| zone_clothed[z]);
        if !clothed {
            continue;
        }
        // The neck is only shielded by the face and hair themselves,
        // not by the grown protection margin (a turtleneck under the
        // chin is old clothing).
        let shield = if regions.arm_side[i] == 0 {
            face_hair_hands.data[i]
        } else {
            protect.data[i]
        };
        let exposed = zone * (1.0 - coverage.data[i]) * (1.0 - shield);
        let wgt = exposed * smoothstep(0.45, 0.8, 1.0 - regions.skin_like.data[i]);
        if wgt < 0.02 {
            continue;
        }
        // Lighting of the old fabric, scaled to the skin's brightness.
        let rel = (all_luma.data[i] / skin_ref.max(1e-3)).clamp(0.45, 1.5);
        // Keep a little of the original's fine detail so the new skin
        // is not a flat cut-out.
        let detail = (luma.data[i] / all_luma.data[i].max(1e-4)).clamp(0.85, 1.15);
        // The neck sits in the chin's shadow: darker toward the top.
        let neck_shade = if regions.arm_side[i] == 0 {
            neck_light.data[i]
        } else {
            1.0
        };
        let l = rel.powf(0.7) * detail * neck_shade;
        for c in 0..3 {
            base[c].data[i] = base[c].data[i] * (1.0 - wgt) + skin_lin[c] * l * wgt;
        }
        if wgt > 0.5 {
            skin_filled += 1;
        }
    }
    skin_filled
}

/// The band of the body, measured along `down` from `origin`, in which old
/// clothing beside the new garment is replaced by background.
#[derive(Debug, Clone, Copy)]
pub struct Band {
    pub origin: P2,
    pub down: P2,
    pub len: f32,
}

impl Band {
    /// From just above the shoulder line to the new garment's hem (or the
    /// torso's length when no hem is known).
    pub fn upper_body(body: &BodyFrame, hem: Option<P2>) -> Band {
        let sh_line = body
            .shoulder_l
            .mid(body.shoulder_r)
            .minus(body.down.scale(0.05 * body.sw));
        let len = hem
            .map(|p| p.minus(sh_line).dot(body.down))
            .unwrap_or(body.torso_len);
        Band {
            origin: sh_line,
            down: body.down,
            len,
        }
    }

    fn contains(&self, q: P2) -> bool {
        let v = q.minus(self.origin).dot(self.down);
        !(v < 0.0 || v > self.len)
    }
}

impl Band {
    /// From the waist line down to the bottom of a `h`-pixel frame.
    pub fn below_waist(legs: &LegFrame, h: u32) -> Band {
        Band {
            origin: legs.waist[0].mid(legs.waist[1]),
            down: legs.down,
            len: 2.0 * h as f32,
        }
    }
}

/// Whether `q` is on a leg below the new hem (`hem_t` per leg): bare leg
/// (after [`repaint_legs`]) that the background fill must not touch.
fn below_hem(legs: &LegFrame, hem_t: [f32; 2], q: P2) -> bool {
    (0..2).any(|s| legs.on_leg(q, s, hem_t[s], 2.5))
}

/// What the background fill beside a skirt, shorts or pants must not
/// touch: the new garment, the arms and hands, the protected face/hair,
/// anything skin-coloured and the legs below the hem.
pub fn bottom_keep(
    regions: &Regions,
    coverage: &Plane,
    protect: &Plane,
    legs: &LegFrame,
    hem_t: [f32; 2],
) -> Plane {
    let w = coverage.w;
    Plane {
        w,
        h: coverage.h,
        data: (0..coverage.data.len())
            .into_par_iter()
            .map(|i| {
                let q = P2::new((i as u32 % w) as f32 + 0.5, (i as u32 / w) as f32 + 0.5);
                let leg = if below_hem(legs, hem_t, q) { 1.0 } else { 0.0 };
                coverage.data[i]
                    .max(regions.arms.data[i])
                    .max(regions.hands.data[i])
                    .max(protect.data[i])
                    .max(regions.skin_like.data[i])
                    .max(leg)
            })
            .collect(),
    }
}

/// Repaints each leg below the new hem with the person's skin when what
/// shows there is mostly old clothing (trousers under a skirt, a long
/// dress under shorts): the leg's median skin-likeness decides, as for the
/// arms. Brightness follows the old fabric's light relative to its median.
/// Returns the pixels repainted (weight > ½).
#[allow(clippy::too_many_arguments)]
pub fn repaint_legs(
    base: &mut [Plane; 3],
    regions: &Regions,
    legs: &LegFrame,
    hem_t: [f32; 2],
    luma: &Plane,
    coverage: &Plane,
    protect: &Plane,
) -> usize {
    let Some(skin) = regions.skin else {
        return 0;
    };
    let skin_lin = lab_to_linear(skin);
    let (w, h) = (luma.w, luma.h);
    let mut filled = 0;
    for (s, &from) in hem_t.iter().enumerate() {
        let zone = Plane {
            w,
            h,
            data: (0..(w * h) as usize)
                .into_par_iter()
                .map(|i| {
                    let q = P2::new((i as u32 % w) as f32 + 0.5, (i as u32 / w) as f32 + 0.5);
                    let exposed = regions.person.data[i] > 0.5
                        && coverage.data[i] < 0.5
                        && protect.data[i] < 0.5
                        && regions.arms.data[i] < 0.5;
                    if exposed && legs.on_leg(q, s, from, 2.5) {
                        1.0
                    } else {
                        0.0
                    }
                })
                .collect(),
        };
        let idx: Vec<usize> = (0..zone.data.len())
            .filter(|&i| zone.data[i] > 0.5)
            .collect();
        let clothed = median(idx.iter().map(|&i| regions.skin_like.data[i]).collect())
            .is_some_and(|m| m < 0.5);
        if !clothed {
            continue;
        }
        let ref_luma = median(idx.iter().map(|&i| luma.data[i]).collect()).unwrap_or(0.2);
        let light = masked_box_blur(
            luma,
            &zone,
            fine_radius(legs.thigh_r[s] * 4.0).max(2),
            ref_luma,
        );
        for &i in &idx {
            let wgt =
                smoothstep(0.45, 0.8, 1.0 - regions.skin_like.data[i]) * (1.0 - coverage.data[i]);
            if wgt < 0.02 {
                continue;
            }
            let l = (light.data[i] / ref_luma.max(1e-3))
                .clamp(0.6, 1.4)
                .powf(0.7);
            for c in 0..3 {
                base[c].data[i] = base[c].data[i] * (1.0 - wgt) + skin_lin[c] * l * wgt;
            }
            if wgt > 0.5 {
                filled += 1;
            }
        }
    }
    filled
}

/// Person pixels in `band` that nothing keeps (`keep` < 0.2: not the new
/// garment, not an arm, not protected, not the torso, not skin): old
/// clothing sticking out.
pub fn background_holes(person: &Plane, keep: &Plane, band: Band) -> Plane {
    let (w, h) = (person.w, person.h);
    let mut hole = Plane::new(w, h, 0.0);
    for i in 0..(w * h) as usize {
        if person.data[i] < 0.5 {
            continue;
        }
        let q = P2::new((i as u32 % w) as f32 + 0.5, (i as u32 / w) as f32 + 0.5);
        if !band.contains(q) {
            continue;
        }
        if keep.data[i] < 0.2 {
            hole.data[i] = 1.0;
        }
    }
    hole
}

/// Fills `hole` (grown by 2 px) in `base` from the background around the
/// person by push-pull inpainting. Returns the hole's pixel count.
pub fn fill_background(base: &mut [Plane; 3], person: &Plane, hole: &Plane, sw: f32) -> usize {
    let n_hole = hole.data.iter().filter(|v| **v > 0.5).count();
    if n_hole == 0 {
        return 0;
    }
    let hole = grow(hole, 2);
    // Known background: outside the (grown) person mask.
    let person_grown = grow(person, (0.02 * sw).round().max(2.0) as u32);
    let known = person_grown.map(|p| 1.0 - p);
    let mut chans = base.clone();
    push_pull_fill(&mut chans, &known);
    for i in 0..hole.data.len() {
        let a = hole.data[i];
        if a > 0.0 {
            for c in 0..3 {
                base[c].data[i] = base[c].data[i] * (1.0 - a) + chans[c].data[i] * a;
            }
        }
    }
    n_hole
}

/// The neck: below the face, above the shoulder line, about a third of a
/// shoulder width wide.
fn neck_zone(body: &BodyFrame, w: u32, h: u32) -> Plane {
    let mut p = Plane::new(w, h, 0.0);
    let top = body.face_centre;
    let bottom = body
        .shoulder_l
        .mid(body.shoulder_r)
        .plus(body.down.scale(0.1 * body.sw));
    let half = 0.17 * body.sw;
    let len = bottom.minus(top).dot(body.down);
    for y in 0..h {
        for x in 0..w {
            let q = P2::new(x as f32 + 0.5, y as f32 + 0.5);
            let d = q.minus(top);
            let (u, v) = (d.dot(body.across), d.dot(body.down));
            // Below the face's middle (the chin itself is shielded as face
            // where it is skin).
            let below_face_mid = d.dot(body.down) > 0.45 * body.face_r[1];
            if v > 0.0
                && v < len
                && u.abs() < half
                && (below_face_mid || body.in_face(q, 1.0) >= 1.0)
            {
                let i = p.idx(x, y);
                p.data[i] = 1.0 - smoothstep(half * 0.6, half, u.abs());
            }
        }
    }
    p
}

/// Brightness factor of repainted neck skin: 0.6 under the chin rising to 1
/// at the collar line.
fn neck_lighting(body: &BodyFrame, w: u32, h: u32) -> Plane {
    let top = body.face_centre.plus(body.down.scale(body.face_r[1]));
    let bottom = body.shoulder_l.mid(body.shoulder_r);
    let len = bottom.minus(top).dot(body.down).max(1.0);
    Plane {
        w,
        h,
        data: (0..(w * h) as usize)
            .map(|i| {
                let q = P2::new((i as u32 % w) as f32 + 0.5, (i as u32 / w) as f32 + 0.5);
                let t = (q.minus(top).dot(body.down) / len).clamp(0.0, 1.0);
                0.6 + 0.4 * smoothstep(0.0, 0.8, t)
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::color::LinearPhoto;
    use crate::render::test_scene;

    #[test]
    fn an_exposed_old_sleeve_becomes_skin_and_a_bare_arm_stays() {
        let scene = test_scene::scene();
        let photo = LinearPhoto::from_rgba(&scene.person.photo);
        let (w, h) = (photo.luma.w, photo.luma.h);
        let none = Plane::new(w, h, 0.0);
        let b = &scene.body;
        let rgb = |c: &[Plane; 3], q: P2| {
            let i = c[0].idx(q.x as u32, q.y as u32);
            [c[0].data[i], c[1].data[i], c[2].data[i]]
        };
        let sleeve = b.shoulder_l.lerp(b.elbow_l, 0.28);
        let fore = b.elbow_l.lerp(b.wrist_l, 0.5);
        let run = |covered: &Plane| {
            let mut base = photo.rgb.clone();
            let n = repaint_skin(
                &mut base,
                &scene.regions,
                &scene.body,
                &photo.luma,
                covered,
                &none,
                &none,
            );
            (n, base)
        };
        // A new garment over all the skin-coloured pixels: what shows of
        // the arms is the old orange sleeve, so the arm is clothed and the
        // sleeve turns to skin (more blue than orange).
        let skin = scene
            .regions
            .skin_like
            .map(|s| if s > 0.5 { 1.0 } else { 0.0 });
        let (n, base) = run(&skin);
        assert!(n > 50, "repainted {n}");
        let (before, after) = (rgb(&photo.rgb, sleeve), rgb(&base, sleeve));
        assert!(after[2] > before[2] + 0.1, "{before:?} → {after:?}");
        // No new garment: the exposed arm is mostly bare skin, so neither
        // its short sleeve nor its forearm is repainted.
        let (_, base) = run(&none);
        assert_eq!(rgb(&photo.rgb, sleeve), rgb(&base, sleeve));
        assert_eq!(rgb(&photo.rgb, fore), rgb(&base, fore));
    }

    #[test]
    fn trousers_below_a_short_hem_become_bare_legs() {
        let scene = test_scene::scene();
        let photo = LinearPhoto::from_rgba(&scene.person.photo);
        let (w, h) = (photo.luma.w, photo.luma.h);
        let none = Plane::new(w, h, 0.0);
        let legs =
            LegFrame::from_landmarks(&scene.person.landmarks, &scene.body, &scene.regions.person)
                .unwrap();
        let mut base = photo.rgb.clone();
        // Shorts ending at mid-thigh: the dark trousers below are clothing.
        let n = repaint_legs(
            &mut base,
            &scene.regions,
            &legs,
            [0.5, 0.5],
            &photo.luma,
            &none,
            &none,
        );
        assert!(n > 500, "repainted {n}");
        let i = base[0].idx(96, 330);
        let skin = lab_to_linear(scene.regions.skin.unwrap());
        assert!(
            (base[0].data[i] - skin[0]).abs() < 0.25 * skin[0],
            "{} vs {}",
            base[0].data[i],
            skin[0]
        );
        // Above the hem nothing changes.
        let j = base[0].idx(96, 240);
        assert_eq!(base[0].data[j], photo.rgb[0].data[j]);
    }

    #[test]
    fn holes_inside_the_band_are_filled_from_the_background() {
        let (w, h) = (40, 40);
        let mut person = Plane::new(w, h, 0.0);
        let mut keep = Plane::new(w, h, 0.0);
        for y in 10..30 {
            for x in 10..30 {
                let i = person.idx(x, y);
                person.data[i] = 1.0;
                // The middle is the new garment; the rim is old clothing.
                if (14..26).contains(&x) {
                    keep.data[i] = 1.0;
                }
            }
        }
        let band = Band {
            origin: P2::new(0.0, 12.0),
            down: P2::new(0.0, 1.0),
            len: 10.0,
        };
        let hole = background_holes(&person, &keep, band);
        let holed: Vec<(u32, u32)> = (0..w * h)
            .filter(|&i| hole.data[i as usize] > 0.5)
            .map(|i| (i % w, i / w))
            .collect();
        // Pixel centres 12.5 … 21.5 lie in the band; 8 columns of old
        // clothing per row.
        assert!(
            holed
                .iter()
                .all(|&(x, y)| !(14..26).contains(&x) && (12..22).contains(&y))
        );
        assert_eq!(holed.len(), 8 * 10);
        // Background 0.8, person 0.1: the hole turns to background.
        let mut base: [Plane; 3] =
            std::array::from_fn(|_| person.map(|p| if p > 0.5 { 0.1 } else { 0.8 }));
        let n = fill_background(&mut base, &person, &hole, 50.0);
        assert_eq!(n, 80);
        let i = base[0].idx(11, 16);
        assert!(base[0].data[i] > 0.6, "{}", base[0].data[i]);
        let kept = base[0].idx(20, 16);
        assert_eq!(base[0].data[kept], 0.1);
    }
}

//! The output: the composite as an 8-bit image (untouched pixels keep
//! their exact value), and the measurements of the render.

use image::RgbaImage;

use crate::geometry::P2;
use crate::legs::LegFrame;
use crate::person::{BodyFrame, Regions};
use crate::plane::Plane;

use super::color::lin_to_u8;
use super::composite::Composite;
use super::occlusion::Occlusion;

/// The 8-bit output. A pixel no stage touched (no garment, not repainted)
/// keeps its exact original value (no round-trip drift), which keeps
/// face/hand pixels identical.
pub fn to_image(
    photo: &RgbaImage,
    comp: &Composite,
    base: &[Plane; 3],
    photo_lin: &[Plane; 3],
) -> RgbaImage {
    let (w, h) = photo.dimensions();
    let out = &comp.rgb;
    let mut image = RgbaImage::new(w, h);
    for (i, p) in image.pixels_mut().enumerate() {
        let a = photo.as_raw()[i * 4 + 3];
        let c = lin_to_u8([out[0][i], out[1][i], out[2][i]]);
        let orig = photo.get_pixel(i as u32 % w, i as u32 / w).0;
        let touched =
            comp.alpha[i] > 0.0 || (0..3).any(|k| base[k].data[i] != photo_lin[k].data[i]);
        p.0 = if touched { [c[0], c[1], c[2], a] } else { orig };
    }
    image
}

/// IoU of the visible garment (alpha > ½) with `region` (> ½), and the
/// fraction of the region it covers.
pub fn overlap(alpha: &Plane, region: &Plane) -> (f32, f32) {
    let (mut inter, mut uni, mut region_n) = (0usize, 0usize, 0usize);
    for i in 0..alpha.data.len() {
        let a = alpha.data[i] > 0.5;
        let b = region.data[i] > 0.5;
        inter += (a && b) as usize;
        uni += (a || b) as usize;
        region_n += b as usize;
    }
    let ratio = |n: usize, d: usize| if d > 0 { n as f32 / d as f32 } else { 0.0 };
    (ratio(inter, uni), ratio(inter, region_n))
}

/// The fraction of the legs between the hips and the new hem (`hem_t`,
/// capped at the ankles) inside the person mask that the visible garment
/// (alpha > ½) covers, leaving out what is legitimately in front (arms,
/// hands, face, hair).
pub fn leg_coverage(
    alpha: &Plane,
    person: &Plane,
    occ: &Occlusion,
    legs: &LegFrame,
    hem_t: [f32; 2],
) -> f32 {
    let w = alpha.w;
    let (mut region, mut covered) = (0usize, 0usize);
    for i in 0..alpha.data.len() {
        if person.data[i] < 0.5 || occ.arms_front.data[i] > 0.1 || occ.protect.data[i] > 0.1 {
            continue;
        }
        let q = P2::new((i as u32 % w) as f32 + 0.5, (i as u32 / w) as f32 + 0.5);
        if (0..2).any(|s| legs.on_leg(q, s, 0.0, hem_t[s].min(2.0))) {
            region += 1;
            covered += (alpha.data[i] > 0.5) as usize;
        }
    }
    if region > 0 {
        covered as f32 / region as f32
    } else {
        0.0
    }
}

/// The face (ellipse ∩ face region) and hand discs inside the person mask,
/// un-grown: the pixels whose change the report counts.
///
/// With `skin_hands` (dresses and bottoms, whose hand protection is the
/// skin inside the discs) only the discs' skin-like pixels count as hand.
pub fn regions_face_hands(
    body: &BodyFrame,
    regions: &Regions,
    skin_hands: bool,
    w: u32,
    h: u32,
) -> Vec<usize> {
    let mut idx = Vec::new();
    for y in 0..h {
        for x in 0..w {
            let i = (y * w + x) as usize;
            if regions.person.data[i] < 0.5 {
                continue;
            }
            let q = P2::new(x as f32 + 0.5, y as f32 + 0.5);
            // As segmented: the face ellipse where it was judged face (not a
            // collar under the chin), the hands.
            let face = body.in_face(q, 0.9) < 1.0 && regions.face_hair.data[i] > 0.5;
            // A drawn body's hands are exact; a photo's are discs around
            // the hand landmarks.
            let hand = if regions.arms_exact {
                regions.hands.data[i] > 0.5
            } else {
                body.hands.iter().any(|(c, r)| q.dist(*c) < 0.8 * r)
                    && (!skin_hands || regions.skin_like.data[i] > 0.5)
            };
            if face || hand {
                idx.push(i);
            }
        }
    }
    idx
}

/// Old clothing left visible beside the new garment: of the photo's
/// clothing pixels (inside the person mask, neither skin-coloured nor face,
/// hair or hands) between the new garment's top and its hem along the
/// torso axis, those the garment does not cover (alpha ≤ ½) and the render
/// left as they were (every channel within 3 levels of the photo). Below
/// the hem the old clothing is legitimately there (trousers under a tee);
/// beside it, it is what sticks out around the new outline. Clothing in
/// skin tones counts as skin, so this is a lower bound. A drawn mannequin
/// wears nothing: (0, 0). Returns (clothing pixels in the band, of them
/// left visible).
pub fn old_clothing_left(
    photo: &RgbaImage,
    out: &RgbaImage,
    regions: &Regions,
    body: &BodyFrame,
    alpha: &Plane,
) -> (usize, usize) {
    if regions.arms_exact {
        return (0, 0);
    }
    let w = alpha.w;
    let origin = body.shoulder_l.mid(body.shoulder_r);
    let depth = |i: usize| {
        let q = P2::new((i as u32 % w) as f32 + 0.5, (i as u32 / w) as f32 + 0.5);
        q.minus(origin).dot(body.down)
    };
    let (lo, hi) = (0..alpha.data.len())
        .filter(|&i| alpha.data[i] > 0.5)
        .map(depth)
        .fold((f32::MAX, f32::MIN), |(lo, hi), d| (lo.min(d), hi.max(d)));
    if lo > hi {
        return (0, 0);
    }
    let (a, b) = (photo.as_raw(), out.as_raw());
    let (mut clothing, mut left) = (0usize, 0usize);
    for i in 0..alpha.data.len() {
        let old = regions.person.data[i] > 0.5
            && regions.skin_like.data[i] < 0.5
            && regions.face_hair.data[i] < 0.5
            && regions.hands.data[i] < 0.5;
        if !old || !(lo..=hi).contains(&depth(i)) {
            continue;
        }
        clothing += 1;
        let same = (0..3).all(|c| (a[i * 4 + c] as i16 - b[i * 4 + c] as i16).abs() <= 3);
        left += usize::from(alpha.data[i] <= 0.5 && same);
    }
    (clothing, left)
}

pub fn face_hand_change(a: &RgbaImage, b: &RgbaImage, idx: &[usize]) -> (usize, usize) {
    let (ra, rb) = (a.as_raw(), b.as_raw());
    let changed = idx
        .iter()
        .filter(|&&i| (0..3).any(|c| (ra[i * 4 + c] as i16 - rb[i * 4 + c] as i16).abs() > 2))
        .count();
    (idx.len(), changed)
}

/// The person photo tinted by region: garment red, face/hair yellow, hands
/// magenta, arms cyan, torso outline blue — for checking occlusion by eye.
pub fn regions_overlay(photo: &RgbaImage, regions: &Regions, garment: &Plane) -> image::RgbImage {
    let (w, h) = photo.dimensions();
    let mut img = image::RgbImage::new(w, h);
    for (i, p) in img.pixels_mut().enumerate() {
        let o = photo.as_raw();
        let base = [o[i * 4] as f32, o[i * 4 + 1] as f32, o[i * 4 + 2] as f32];
        let layers = [
            (regions.torso.data[i] * 0.3, [40.0, 80.0, 255.0]),
            (garment.data[i] * 0.5, [255.0, 40.0, 40.0]),
            (regions.arms.data[i] * 0.5, [0.0, 230.0, 230.0]),
            (regions.hands.data[i] * 0.6, [255.0, 0.0, 255.0]),
            (regions.face_hair.data[i] * 0.5, [255.0, 230.0, 0.0]),
        ];
        let mut c = base;
        for (a, col) in layers {
            for k in 0..3 {
                c[k] = c[k] * (1.0 - a) + col[k] * a;
            }
        }
        p.0 = c.map(|v| v.clamp(0.0, 255.0) as u8);
    }
    img
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::test_scene;

    #[test]
    fn old_clothing_counts_what_the_garment_neither_covers_nor_repaints() {
        let scene = test_scene::scene();
        let photo = &scene.person.photo;
        let (w, h) = photo.dimensions();
        let b = &scene.body;
        // A garment over the middle of the torso only, shoulders to hips.
        let mut alpha = Plane::new(w, h, 0.0);
        let (x0, x1) = (
            b.shoulder_r.x.min(b.shoulder_l.x),
            b.shoulder_r.x.max(b.shoulder_l.x),
        );
        let (y0, y1) = (b.shoulder_l.y.min(b.shoulder_r.y), b.hip_l.y.max(b.hip_r.y));
        let mid = 0.5 * (x0 + x1);
        for y in y0 as u32..y1 as u32 {
            for x in (mid - 0.25 * (x1 - x0)) as u32..(mid + 0.25 * (x1 - x0)) as u32 {
                let i = alpha.idx(x, y);
                alpha.data[i] = 1.0;
            }
        }
        // Nothing repainted: the old shirt beside the narrow garment shows.
        let (clothing, left) = old_clothing_left(photo, photo, &scene.regions, b, &alpha);
        assert!(clothing > 500, "{clothing} clothing pixels");
        assert!(
            left > clothing / 4 && left < clothing,
            "{left} of {clothing}"
        );
        // Everything beside it repainted: none left.
        let mut out = photo.clone();
        for p in out.pixels_mut() {
            p.0[0] = p.0[0].wrapping_add(40);
        }
        assert_eq!(
            old_clothing_left(photo, &out, &scene.regions, b, &alpha).1,
            0
        );
        // No garment: nothing to measure beside.
        assert_eq!(
            old_clothing_left(photo, photo, &scene.regions, b, &Plane::new(w, h, 0.0)),
            (0, 0)
        );
    }
}

//! Pictures of an analysis: the OpenPose-coloured skeleton ControlNet's
//! OpenPose conditioning expects, and an overlay for people to check results.

pub use garmax_core::pose::{OPENPOSE_COLORS, OPENPOSE_LIMBS};
use image::{Rgb, RgbImage};

use crate::analyzer::PersonAnalysis;
use crate::keypoints::{Keypoint, openpose18};

/// BlazePose connections drawn on the overlay.
const BLAZEPOSE_EDGES: [(usize, usize); 35] = [
    (0, 1),
    (1, 2),
    (2, 3),
    (3, 7),
    (0, 4),
    (4, 5),
    (5, 6),
    (6, 8),
    (9, 10),
    (11, 12),
    (11, 13),
    (13, 15),
    (15, 17),
    (15, 19),
    (15, 21),
    (17, 19),
    (12, 14),
    (14, 16),
    (16, 18),
    (16, 20),
    (16, 22),
    (18, 20),
    (11, 23),
    (12, 24),
    (23, 24),
    (23, 25),
    (24, 26),
    (25, 27),
    (26, 28),
    (27, 29),
    (28, 30),
    (29, 31),
    (30, 32),
    (27, 31),
    (28, 32),
];

/// Fills a convex polygon, blending `color` over the image with `alpha`.
fn fill_convex(img: &mut RgbImage, pts: &[(f32, f32)], color: [u8; 3], alpha: f32) {
    if pts.len() < 3 || img.width() == 0 || img.height() == 0 {
        return;
    }
    let ymin = pts
        .iter()
        .map(|p| p.1)
        .fold(f32::MAX, f32::min)
        .floor()
        .max(0.0);
    let ymax = pts
        .iter()
        .map(|p| p.1)
        .fold(f32::MIN, f32::max)
        .ceil()
        .min(img.height() as f32 - 1.0);
    if ymin.is_nan() || ymax.is_nan() || ymin > ymax {
        return;
    }
    for y in ymin as u32..=ymax as u32 {
        let fy = y as f32;
        let (mut lo, mut hi) = (f32::MAX, f32::MIN);
        for i in 0..pts.len() {
            let (a, b) = (pts[i], pts[(i + 1) % pts.len()]);
            if (a.1 <= fy && b.1 >= fy) || (b.1 <= fy && a.1 >= fy) {
                let x = if (b.1 - a.1).abs() < 1e-6 {
                    a.0.min(b.0)
                } else {
                    a.0 + (fy - a.1) / (b.1 - a.1) * (b.0 - a.0)
                };
                let x2 = if (b.1 - a.1).abs() < 1e-6 {
                    a.0.max(b.0)
                } else {
                    x
                };
                lo = lo.min(x);
                hi = hi.max(x2);
            }
        }
        if lo > hi {
            continue;
        }
        let x0 = lo.round().max(0.0);
        let x1 = hi.round().min(img.width() as f32 - 1.0);
        if x0.is_nan() || x1.is_nan() || x0 > x1 {
            continue;
        }
        for x in x0 as u32..=x1 as u32 {
            let p = img.get_pixel_mut(x, y);
            for c in 0..3 {
                p[c] = (p[c] as f32 * (1.0 - alpha) + color[c] as f32 * alpha).round() as u8;
            }
        }
    }
}

/// An ellipse around the segment a–b with half-thickness `half_width`, as
/// OpenPose's `ellipse2Poly` limb.
fn limb_polygon(a: (f32, f32), b: (f32, f32), half_width: f32) -> Vec<(f32, f32)> {
    let (mx, my) = ((a.0 + b.0) / 2.0, (a.1 + b.1) / 2.0);
    let half_len = ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt() / 2.0;
    let angle = (b.1 - a.1).atan2(b.0 - a.0);
    let (s, c) = angle.sin_cos();
    (0..36)
        .map(|k| {
            let t = k as f32 * std::f32::consts::TAU / 36.0;
            let (ex, ey) = (half_len * t.cos(), half_width * t.sin());
            (mx + c * ex - s * ey, my + s * ex + c * ey)
        })
        .collect()
}

fn circle(img: &mut RgbImage, center: (f32, f32), radius: f32, color: [u8; 3], alpha: f32) {
    let pts: Vec<(f32, f32)> = (0..24)
        .map(|k| {
            let t = k as f32 * std::f32::consts::TAU / 24.0;
            (center.0 + radius * t.cos(), center.1 + radius * t.sin())
        })
        .collect();
    fill_convex(img, &pts, color, alpha);
}

fn usable(k: &Keypoint, min_score: f32) -> bool {
    k.score >= min_score && k.x.is_finite() && k.y.is_finite()
}

/// The OpenPose skeleton on black, the way the ControlNet annotator draws
/// it: joint discs of radius 4 in the keypoint colours, then each limb as an
/// ellipse 4 px thick blended at 60 % over what is already drawn. Joints with
/// a score below `min_score` and their limbs are left out.
pub fn openpose_skeleton(
    keypoints: &[Keypoint],
    width: u32,
    height: u32,
    min_score: f32,
) -> RgbImage {
    let mut img = RgbImage::new(width, height);
    for (k, color) in keypoints.iter().zip(OPENPOSE_COLORS) {
        if usable(k, min_score) {
            circle(&mut img, (k.x, k.y), 4.0, color, 1.0);
        }
    }
    for (i, &[a, b]) in OPENPOSE_LIMBS.iter().enumerate() {
        let (Some(ka), Some(kb)) = (keypoints.get(a), keypoints.get(b)) else {
            continue;
        };
        if usable(ka, min_score) && usable(kb, min_score) {
            fill_convex(
                &mut img,
                &limb_polygon((ka.x, ka.y), (kb.x, kb.y), 4.0),
                OPENPOSE_COLORS[i],
                0.6,
            );
        }
    }
    img
}

/// The skeleton map of an analysis (image-sized, joints with visibility ≥ 0.5).
pub fn pose_map(analysis: &PersonAnalysis) -> RgbImage {
    let [w, h] = analysis.landmarks.image_size;
    openpose_skeleton(&openpose18(&analysis.landmarks), w, h, 0.5)
}

/// The photo with the person mask tinted, the BlazePose skeleton, and the
/// face box and mesh, for a person to judge the analysis at a glance.
pub fn overlay(photo: &RgbImage, analysis: &PersonAnalysis) -> RgbImage {
    let mut img = photo.clone();
    if analysis.mask.dimensions() == img.dimensions() {
        for (p, m) in img.pixels_mut().zip(analysis.mask.pixels()) {
            let a = m[0] as f32 / 255.0 * 0.35;
            p[0] = (p[0] as f32 * (1.0 - a) + 40.0 * a) as u8;
            p[1] = (p[1] as f32 * (1.0 - a) + 200.0 * a) as u8;
            p[2] = (p[2] as f32 * (1.0 - a) + 255.0 * a) as u8;
        }
    }
    let scale = (img.width().max(img.height()) as f32 / 512.0).max(1.0);
    let lms = &analysis.landmarks.image;
    for &(a, b) in &BLAZEPOSE_EDGES {
        let (Some(la), Some(lb)) = (lms.get(a), lms.get(b)) else {
            continue;
        };
        if la.visibility >= 0.5 && lb.visibility >= 0.5 {
            fill_convex(
                &mut img,
                &limb_polygon((la.x, la.y), (lb.x, lb.y), 1.5 * scale),
                [255, 255, 255],
                0.9,
            );
        }
    }
    for l in lms {
        let color = if l.visibility >= 0.5 {
            [255, 60, 60]
        } else {
            [120, 120, 120]
        };
        circle(&mut img, (l.x, l.y), 3.0 * scale, color, 1.0);
    }
    if let Some(face) = &analysis.face {
        let [x, y, w, h] = face.bbox;
        for (a, b) in [
            ((x, y), (x + w, y)),
            ((x + w, y), (x + w, y + h)),
            ((x + w, y + h), (x, y + h)),
            ((x, y + h), (x, y)),
        ] {
            fill_convex(&mut img, &limb_polygon(a, b, scale), [255, 220, 0], 1.0);
        }
        for p in &face.mesh {
            if p[0] >= 0.0
                && p[1] >= 0.0
                && (p[0] as u32) < img.width()
                && (p[1] as u32) < img.height()
            {
                img.put_pixel(p[0] as u32, p[1] as u32, Rgb([0, 255, 120]));
            }
        }
    }
    img
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skeleton_draws_colours_and_skips_missing() {
        let mut kps = vec![
            Keypoint {
                x: 0.0,
                y: 0.0,
                score: 0.0
            };
            18
        ];
        kps[1] = Keypoint {
            x: 20.0,
            y: 20.0,
            score: 1.0,
        };
        kps[2] = Keypoint {
            x: 40.0,
            y: 20.0,
            score: 1.0,
        };
        let img = openpose_skeleton(&kps, 64, 64, 0.5);
        // Neck joint disc in its colour blended with the first limb's.
        assert_ne!(img.get_pixel(20, 20).0, [0, 0, 0]);
        // Middle of limb 0 (neck–right shoulder): 60 % of red.
        assert_eq!(img.get_pixel(30, 20).0, [153, 0, 0]);
        // A missing joint draws nothing.
        assert_eq!(img.get_pixel(0, 0).0, [0, 0, 0]);
        // Out-of-image keypoints do not panic.
        kps[3] = Keypoint {
            x: -1e9,
            y: 1e9,
            score: 1.0,
        };
        let _ = openpose_skeleton(&kps, 8, 8, 0.5);
        let _ = openpose_skeleton(&kps, 0, 0, 0.5);
    }
}

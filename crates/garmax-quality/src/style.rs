//! Style accuracy: is the rendered garment the product's garment, worn the
//! way it is cut?
//!
//! Four measures, each used when its inputs exist, averaged by weight:
//! - **silhouette**: the garment mask of the render against the product's
//!   mask after each is normalised by its own centroid and covariance
//!   (so placement and size do not matter, but a different cut does);
//!   skipped when the frame cuts the render's garment off;
//! - **placement** (needs body landmarks): the garment covers the body part
//!   it is made for (the torso quad for tops, hips to knees for bottoms) and
//!   stays near the body's skeleton: a garment warped off the body fails;
//! - **length**: the garment's extent along the torso axis per shoulder
//!   width against the product's length per shoulder width (a tee rendered
//!   as a crop top, or a dress as a tunic), skipped when the hem is out of
//!   frame;
//! - **texture**: high-frequency energy and gradient-orientation histogram
//!   of the fabric (print included) against the product photo resampled to
//!   the render's scale: a smeared or re-textured fabric fails.

use garmax_core::pose::{Landmark, PoseLandmarks, joint};
use garmax_vision::mask::{Mask, ON};
use serde_json::json;

use crate::config::{Metric, Thresholds};
use crate::imgops::Gray;
use crate::validator::{ValidationInput, Validator, ValidatorResult};

pub struct StyleValidator;

const W_SILHOUETTE: f32 = 0.25;
const W_PLACEMENT: f32 = 0.35;
const W_LENGTH: f32 = 0.15;
const W_TEXTURE: f32 = 0.25;

/// Side of the normalised grid silhouettes are compared on.
const GRID: usize = 48;
/// Extent of that grid in standard deviations.
const GRID_SPAN: f32 = 2.6;

fn ramp(x: f32, lo: f32, hi: f32) -> f32 {
    ((x - lo) / (hi - lo)).clamp(0.0, 1.0)
}

/// Centroid and covariance square root of a mask's pixels.
fn moments(mask: &Mask) -> Option<([f32; 2], [[f32; 2]; 2])> {
    let step = ((mask.width() * mask.height()) as f32 / 250_000.0)
        .sqrt()
        .ceil()
        .max(1.0) as usize;
    let (mut n, mut sx, mut sy, mut sxx, mut syy, mut sxy) =
        (0.0f64, 0.0f64, 0.0f64, 0.0f64, 0.0f64, 0.0f64);
    for y in (0..mask.height()).step_by(step) {
        for x in (0..mask.width()).step_by(step) {
            if mask.get_pixel(x, y).0[0] == ON {
                let (fx, fy) = (f64::from(x), f64::from(y));
                n += 1.0;
                sx += fx;
                sy += fy;
                sxx += fx * fx;
                syy += fy * fy;
                sxy += fx * fy;
            }
        }
    }
    if n < 20.0 {
        return None;
    }
    let (mx, my) = (sx / n, sy / n);
    let (cxx, cyy, cxy) = (sxx / n - mx * mx, syy / n - my * my, sxy / n - mx * my);
    // Symmetric square root of [[cxx, cxy], [cxy, cyy]] via its eigenvectors.
    let tr = cxx + cyy;
    let det = (cxx * cyy - cxy * cxy).max(0.0);
    let s = det.sqrt();
    let t = (tr + 2.0 * s).max(1e-12).sqrt();
    if t < 1e-6 || det <= 0.0 {
        return None;
    }
    let root = [
        [((cxx + s) / t) as f32, (cxy / t) as f32],
        [(cxy / t) as f32, ((cyy + s) / t) as f32],
    ];
    Some(([mx as f32, my as f32], root))
}

fn normalised_silhouette(mask: &Mask) -> Option<Vec<bool>> {
    let (m, r) = moments(mask)?;
    let mut grid = vec![false; GRID * GRID];
    for gy in 0..GRID {
        for gx in 0..GRID {
            let u = ((gx as f32 + 0.5) / GRID as f32 * 2.0 - 1.0) * GRID_SPAN;
            let v = ((gy as f32 + 0.5) / GRID as f32 * 2.0 - 1.0) * GRID_SPAN;
            let x = m[0] + r[0][0] * u + r[0][1] * v;
            let y = m[1] + r[1][0] * u + r[1][1] * v;
            if x >= 0.0 && y >= 0.0 {
                grid[gy * GRID + gx] = mask
                    .get_pixel_checked(x as u32, y as u32)
                    .is_some_and(|p| p.0[0] == ON);
            }
        }
    }
    Some(grid)
}

/// IoU of the two masks' normalised silhouettes.
pub fn silhouette_iou(a: &Mask, b: &Mask) -> Option<f32> {
    let (ga, gb) = (normalised_silhouette(a)?, normalised_silhouette(b)?);
    let inter = ga.iter().zip(&gb).filter(|(x, y)| **x && **y).count();
    let union = ga.iter().zip(&gb).filter(|(x, y)| **x || **y).count();
    (union > 0).then(|| inter as f32 / union as f32)
}

/// Share of the mask's boundary that lies on the image border.
fn cut_by_frame(mask: &Mask) -> bool {
    let (w, h) = mask.dimensions();
    if w < 2 || h < 2 {
        return true;
    }
    let on = |x: u32, y: u32| mask.get_pixel(x, y).0[0] == ON;
    let border = (0..w).filter(|&x| on(x, 0) || on(x, h - 1)).count()
        + (0..h).filter(|&y| on(0, y) || on(w - 1, y)).count();
    border > 4
}

fn vis(l: &Landmark) -> bool {
    l.visibility >= 0.5 && l.x.is_finite() && l.y.is_finite()
}

/// Body landmarks in the generated frame: detected on the render when
/// available, otherwise the expected pose (the render should show it).
/// Landmark positions, their visibility, and where they came from.
type BodyPoints = (Vec<[f32; 2]>, Vec<bool>, &'static str);

fn body_points(input: &ValidationInput<'_>) -> Option<BodyPoints> {
    let (pose, source): (&PoseLandmarks, &'static str) =
        match (input.detected_pose, input.expected_pose) {
            (Some(p), _) => (p, "detected"),
            (None, Some(p)) => (p, "expected"),
            (None, None) => return None,
        };
    if pose.image.len() < 33 {
        return None;
    }
    let sx = input.generated.width() as f32 / pose.image_size[0].max(1) as f32;
    let sy = input.generated.height() as f32 / pose.image_size[1].max(1) as f32;
    let pts = pose.image.iter().map(|l| [l.x * sx, l.y * sy]).collect();
    let v = pose.image.iter().map(vis).collect();
    Some((pts, v, source))
}

fn point_in_quad(p: [f32; 2], q: &[[f32; 2]; 4]) -> bool {
    let mut inside = false;
    for i in 0..4 {
        let (a, b) = (q[i], q[(i + 1) % 4]);
        if (a[1] > p[1]) != (b[1] > p[1])
            && p[0] < (b[0] - a[0]) * (p[1] - a[1]) / (b[1] - a[1]) + a[0]
        {
            inside = !inside;
        }
    }
    inside
}

fn seg_dist(p: [f32; 2], a: [f32; 2], b: [f32; 2]) -> f32 {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 {
        (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    (p[0] - a[0] - t * dx).hypot(p[1] - a[1] - t * dy)
}

struct Placement {
    coverage: f32,
    containment: f32,
    /// Share of shoulder samples where the garment's top sits right, and
    /// the tilt of its shoulder line in degrees.
    shoulder_fit: Option<(f32, f32)>,
    score: f32,
    /// Garment extent along the torso axis per shoulder width.
    length_per_shoulder: Option<f32>,
}

fn placement(
    mask: &Mask,
    pts: &[[f32; 2]],
    v: &[bool],
    upper: bool,
    cut: bool,
) -> Option<Placement> {
    use joint::*;
    let (ls, rs) = (pts[LEFT_SHOULDER], pts[RIGHT_SHOULDER]);
    if !(v[LEFT_SHOULDER] && v[RIGHT_SHOULDER]) {
        return None;
    }
    let sw = (ls[0] - rs[0]).hypot(ls[1] - rs[1]);
    if sw < 4.0 {
        return None;
    }
    // Torso axis: perpendicular to the shoulder line, pointing down the body.
    let mut down = [-(ls[1] - rs[1]) / sw, (ls[0] - rs[0]) / sw];
    if down[1] < 0.0 {
        down = [-down[0], -down[1]];
    }
    // Hips out of frame or hidden: place them one torso length (≈ 1.25
    // shoulder widths) down the axis.
    let hip = |i: usize, s: [f32; 2]| {
        if v[i] {
            pts[i]
        } else {
            [s[0] + down[0] * 1.25 * sw, s[1] + down[1] * 1.25 * sw]
        }
    };
    let (lh, rh) = (hip(LEFT_HIP, ls), hip(RIGHT_HIP, rs));
    let quad = if upper {
        [ls, rs, rh, lh]
    } else {
        let knee = |i: usize, h: [f32; 2]| {
            if v[i] {
                pts[i]
            } else {
                [h[0] + down[0] * 1.2 * sw, h[1] + down[1] * 1.2 * sw]
            }
        };
        [lh, rh, knee(RIGHT_KNEE, rh), knee(LEFT_KNEE, lh)]
    };
    // Shrink the quad a little towards its centre: the outline of a torso
    // is where garments legitimately end or drape.
    let c = [
        quad.iter().map(|p| p[0]).sum::<f32>() / 4.0,
        quad.iter().map(|p| p[1]).sum::<f32>() / 4.0,
    ];
    let inner = quad.map(|p| [c[0] + 0.85 * (p[0] - c[0]), c[1] + 0.85 * (p[1] - c[1])]);
    let (w, h) = mask.dimensions();
    let (mut in_quad, mut covered) = (0usize, 0usize);
    let step = (sw / 40.0).max(1.0);
    let (minx, maxx) = inner
        .iter()
        .fold((f32::MAX, f32::MIN), |(a, b), p| (a.min(p[0]), b.max(p[0])));
    let (miny, maxy) = inner
        .iter()
        .fold((f32::MAX, f32::MIN), |(a, b), p| (a.min(p[1]), b.max(p[1])));
    let mut y = miny.max(0.0);
    while y <= maxy.min(h as f32 - 1.0) {
        let mut x = minx.max(0.0);
        while x <= maxx.min(w as f32 - 1.0) {
            if point_in_quad([x, y], &inner) {
                in_quad += 1;
                covered += usize::from(mask.get_pixel(x as u32, y as u32).0[0] == ON);
            }
            x += step;
        }
        y += step;
    }
    if in_quad < 10 {
        return None;
    }
    let coverage = covered as f32 / in_quad as f32;
    // Skeleton segments the garment may cover.
    let mut segs: Vec<([f32; 2], [f32; 2])> =
        vec![(ls, rs), (ls, lh), (rs, rh), (lh, rh), (ls, rh), (rs, lh)];
    for (a, b) in [
        (LEFT_SHOULDER, LEFT_ELBOW),
        (RIGHT_SHOULDER, RIGHT_ELBOW),
        (LEFT_ELBOW, LEFT_WRIST),
        (RIGHT_ELBOW, RIGHT_WRIST),
    ] {
        if v[a] && v[b] {
            segs.push((pts[a], pts[b]));
        }
    }
    for (a, b) in [
        (LEFT_HIP, LEFT_KNEE),
        (RIGHT_HIP, RIGHT_KNEE),
        (LEFT_KNEE, LEFT_ANKLE),
        (RIGHT_KNEE, RIGHT_ANKLE),
    ] {
        if v[a] && v[b] {
            segs.push((pts[a], pts[b]));
        }
    }
    let reach = 0.5 * sw;
    let mstep = ((w * h) as f32 / 60_000.0).sqrt().ceil().max(1.0) as usize;
    let (mut n, mut near) = (0usize, 0usize);
    let (mut lo, mut hi) = (f32::MAX, f32::MIN);
    for yy in (0..h).step_by(mstep) {
        for xx in (0..w).step_by(mstep) {
            if mask.get_pixel(xx, yy).0[0] != ON {
                continue;
            }
            let p = [xx as f32, yy as f32];
            n += 1;
            if segs.iter().any(|&(a, b)| seg_dist(p, a, b) <= reach) {
                near += 1;
            }
            let along = (p[0] - ls[0]) * down[0] + (p[1] - ls[1]) * down[1];
            lo = lo.min(along);
            hi = hi.max(along);
        }
    }
    if n == 0 {
        return Some(Placement {
            coverage,
            containment: 0.0,
            shoulder_fit: None,
            score: 0.0,
            length_per_shoulder: None,
        });
    }
    let containment = near as f32 / n as f32;
    // Shoulder fit (tops): along the shoulder line, away from the neck,
    // the garment's top edge should sit a little above the joints. A tilted
    // or shifted garment rides up on one side and leaves the other bare.
    let shoulder_fit = if upper {
        let up = [-down[0], -down[1]];
        let mut ok = 0usize;
        let (mut side_a, mut side_b) = (Vec::new(), Vec::new());
        let ts = [0.0f32, 0.08, 0.16, 0.24, 0.76, 0.84, 0.92, 1.0];
        for t in ts {
            let p = [rs[0] + (ls[0] - rs[0]) * t, rs[1] + (ls[1] - rs[1]) * t];
            let top = (-(0.6 * sw) as i32..=(0.8 * sw) as i32).rev().find(|&s| {
                let q = [p[0] + up[0] * s as f32, p[1] + up[1] * s as f32];
                q[0] >= 0.0
                    && q[1] >= 0.0
                    && mask
                        .get_pixel_checked(q[0] as u32, q[1] as u32)
                        .is_some_and(|m| m.0[0] == ON)
            });
            if let Some(top) = top {
                let rel = top as f32 / sw;
                ok += usize::from((-0.1..=0.4).contains(&rel));
                if t < 0.5 {
                    side_a.push(rel)
                } else {
                    side_b.push(rel)
                }
            }
        }
        // Tilt of the garment's shoulder line against the body's: one side
        // riding up and the other down.
        let tilt = if side_a.is_empty() || side_b.is_empty() {
            90.0
        } else {
            let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
            ((mean(&side_a) - mean(&side_b)) / 0.88)
                .atan()
                .to_degrees()
                .abs()
        };
        Some((ok as f32 / ts.len() as f32, tilt))
    } else {
        None
    };
    let score = ramp(coverage, 0.45, 0.85)
        * ramp(containment, 0.6, 0.9)
        * shoulder_fit.map_or(1.0, |(f, tilt)| {
            ramp(f, 0.5, 0.85) * (1.0 - ramp(tilt, 6.0, 18.0))
        });
    Some(Placement {
        coverage,
        containment,
        shoulder_fit,
        score,
        length_per_shoulder: (!cut && upper).then(|| (hi - lo) / sw),
    })
}

/// High-frequency energy and an 8-bin gradient-orientation histogram of
/// the grey image inside `mask`.
fn texture_stats(g: &Gray, mask: &[bool]) -> Option<(f32, [f32; 8])> {
    let blurred = g.box_blur(2);
    let (mut energy, mut n) = (0.0f64, 0usize);
    let mut hist = [0.0f32; 8];
    for y in 1..g.height.saturating_sub(1) {
        for x in 1..g.width.saturating_sub(1) {
            let i = y * g.width + x;
            if !mask[i] {
                continue;
            }
            // Relative to the local light level: the person's shading
            // multiplies the fabric, and must not read as texture.
            let d = (g.data[i] - blurred.data[i]) / (blurred.data[i] + 0.05);
            energy += f64::from(d * d);
            n += 1;
            let gx = g.at(x + 1, y) - g.at(x - 1, y);
            let gy = g.at(x, y + 1) - g.at(x, y - 1);
            let mag = gx.hypot(gy);
            if mag > 0.02 {
                // Orientation modulo 180°: an edge and its reverse are one.
                let mut a = gy.atan2(gx);
                if a < 0.0 {
                    a += std::f32::consts::PI;
                }
                let bin = ((a / std::f32::consts::PI * 8.0) as usize).min(7);
                hist[bin] += mag;
            }
        }
    }
    if n < 50 {
        return None;
    }
    let total: f32 = hist.iter().sum();
    if total > 0.0 {
        for h in &mut hist {
            *h /= total;
        }
    }
    Some(((energy / n as f64) as f32, hist))
}

fn bhattacharyya(a: &[f32; 8], b: &[f32; 8]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x * y).sqrt())
        .sum::<f32>()
        .clamp(0.0, 1.0)
}

struct Texture {
    energy_ratio: f32,
    orientation_similarity: f32,
    score: f32,
}

/// Width at which texture is compared: enough for folds and print edges,
/// and it keeps the cost independent of the render's resolution.
const TEXTURE_WIDTH: usize = 256;

/// Grey crop `[x0, y0, x1, y1]` (inclusive) of an RGBA image resampled to
/// `w × h`, and the mask sampled at the same points.
fn sample_crop(
    img: &image::RgbaImage,
    mask: &Mask,
    b: [u32; 4],
    w: usize,
    h: usize,
) -> (Gray, Vec<bool>) {
    let sub =
        image::imageops::crop_imm(img, b[0], b[1], b[2] - b[0] + 1, b[3] - b[1] + 1).to_image();
    let g = Gray::from_rgba(&sub).resize(w, h);
    let (cw, ch) = ((b[2] - b[0] + 1) as f32, (b[3] - b[1] + 1) as f32);
    let m = (0..w * h)
        .map(|i| {
            let x = b[0] + (((i % w) as f32 + 0.5) * cw / w as f32) as u32;
            let y = b[1] + (((i / w) as f32 + 0.5) * ch / h as f32) as u32;
            mask.get_pixel_checked(x, y).is_some_and(|p| p.0[0] == ON)
        })
        .collect();
    (g, m)
}

fn texture(input: &ValidationInput<'_>, region_mask: &Mask, bbox: [u32; 4]) -> Option<Texture> {
    let pm = input.product.mask;
    let pb = garmax_vision::mask::bounding_box(pm)?;
    let (rw, rh) = (
        (bbox[2] - bbox[0] + 1) as f32,
        (bbox[3] - bbox[1] + 1) as f32,
    );
    let (pw, ph) = ((pb[2] - pb[0] + 1) as f32, (pb[3] - pb[1] + 1) as f32);
    if rw < 16.0 || pw < 16.0 {
        return None;
    }
    // Both garments at the same width (the frame may cut the render's off
    // at the bottom, rarely at both sides), at most TEXTURE_WIDTH.
    let w = (rw as usize).min(TEXTURE_WIDTH);
    let kr = w as f32 / rw;
    let kp = w as f32 / pw;
    let (rh_s, ph_s) = (
        (rh * kr).round().max(1.0) as usize,
        (ph * kp).round().max(1.0) as usize,
    );
    let (rg, rmask) = sample_crop(input.generated, region_mask, bbox, w, rh_s);
    let (pg, pmask) = sample_crop(input.product.image, pm, pb, w, ph_s);
    // Erode both masks by the blur radius + 1 so the garment's outline (a
    // strong edge against skin or backdrop) is not read as fabric texture.
    let erode = |m: &[bool], w: usize, h: usize| -> Vec<bool> {
        let r = 3usize;
        (0..w * h)
            .map(|i| {
                let (x, y) = (i % w, i / w);
                if x < r || y < r || x + r >= w || y + r >= h {
                    return false;
                }
                m[i] && m[i - r] && m[i + r] && m[i - r * w] && m[i + r * w]
            })
            .collect()
    };
    let mut rm = erode(&rmask, w, rh_s);
    let mut pm2 = erode(&pmask, w, ph_s);
    // Fabric only: logos and prints are the branding validator's business,
    // and must not make a smeared print read as a wrong fabric.
    let clear = |m: &mut [bool], w: usize, b: [f32; 4]| {
        let h = m.len() / w.max(1);
        let (x0, y0) = (b[0].max(0.0) as usize, b[1].max(0.0) as usize);
        let (x1, y1) = (
            ((b[0] + b[2]).ceil().max(0.0) as usize).min(w),
            ((b[1] + b[3]).ceil().max(0.0) as usize).min(h),
        );
        for y in y0..y1 {
            for x in x0..x1 {
                m[y * w + x] = false;
            }
        }
    };
    for b in crate::branding::expected_boxes(input) {
        // Into the sampled crop's frame, with a margin for warps.
        let (mx, my) = (b[2] * 0.1, b[3] * 0.1);
        let (x, y) = (b[0] - bbox[0] as f32 - mx, b[1] - bbox[1] as f32 - my);
        clear(
            &mut rm,
            w,
            [
                x * kr,
                y * kr,
                (b[2] + 2.0 * mx) * kr,
                (b[3] + 2.0 * my) * kr,
            ],
        );
    }
    for r in &input.product.analysis.branding.regions {
        let b = r.bbox.map(|v| v as f32);
        let (mx, my) = (b[2] * 0.1, b[3] * 0.1);
        let (x, y) = (b[0] - pb[0] as f32 - mx, b[1] - pb[1] as f32 - my);
        clear(
            &mut pm2,
            w,
            [
                x * kp,
                y * kp,
                (b[2] + 2.0 * mx) * kp,
                (b[3] + 2.0 * my) * kp,
            ],
        );
    }
    let (re, rhist) = texture_stats(&rg, &rm)?;
    let (pe, phist) = texture_stats(&pg, &pm2)?;
    let energy_ratio = (re + 1e-7) / (pe + 1e-7);
    // log-ratio: half the energy (smeared) or double (noise) both cost.
    let e_score = (-(energy_ratio.ln() / 0.8).powi(2)).exp();
    let orientation_similarity = bhattacharyya(&rhist, &phist);
    let o_score = ramp(orientation_similarity, 0.85, 0.98);
    Some(Texture {
        energy_ratio,
        orientation_similarity,
        score: 0.6 * e_score + 0.4 * o_score,
    })
}

impl Validator for StyleValidator {
    fn name(&self) -> &str {
        "Style accuracy"
    }
    fn key(&self) -> &str {
        Metric::Style.as_str()
    }

    fn validate(&self, input: &ValidationInput<'_>, thresholds: &Thresholds) -> ValidatorResult {
        let (key, name) = (self.key(), self.name());
        let region = input.garment_region();
        let Some(bbox) = region.bbox.filter(|_| region.area >= 100) else {
            return ValidatorResult::skipped(
                key,
                name,
                "no garment region found in the generated image",
            );
        };
        let analysis = input.product.analysis;
        let upper = !matches!(
            analysis.garment_type,
            garmax_vision::shape::GarmentType::Pants
                | garmax_vision::shape::GarmentType::Shorts
                | garmax_vision::shape::GarmentType::Skirt
        );
        let cut = cut_by_frame(&region.mask);
        let mut parts: Vec<(&str, f32, f32)> = Vec::new();
        let mut feedback = Vec::new();

        let silhouette = if cut {
            None
        } else {
            silhouette_iou(&region.mask, input.product.mask)
        };
        if let Some(iou) = silhouette {
            parts.push(("silhouette", W_SILHOUETTE, ramp(iou, 0.55, 0.85)));
        }

        let body = body_points(input);
        let place = body
            .as_ref()
            .and_then(|(p, v, _)| placement(&region.mask, p, v, upper, cut));
        if let Some(pl) = &place {
            parts.push(("placement", W_PLACEMENT, pl.score));
        }

        // Product length per shoulder width, from the analysis landmarks.
        let product_length = (|| {
            let l = analysis.landmarks.get("shoulder_left")?;
            let r = analysis.landmarks.get("shoulder_right")?;
            let sw = (l[0] - r[0]).hypot(l[1] - r[1]);
            let bb = garmax_vision::mask::bounding_box(input.product.mask)?;
            (sw > 4.0).then(|| (bb[3] - bb[1] + 1) as f32 / sw)
        })();
        let length = match (
            place.as_ref().and_then(|p| p.length_per_shoulder),
            product_length,
        ) {
            (Some(r), Some(p)) if r > 0.0 && p > 0.0 => Some((r, p)),
            _ => None,
        };
        if let Some((r, p)) = length {
            parts.push(("length", W_LENGTH, (-((r / p).ln() / 0.25).powi(2)).exp()));
        }

        let tex = texture(input, &region.mask, bbox);
        if let Some(t) = &tex {
            parts.push(("texture", W_TEXTURE, t.score));
        }
        if parts.is_empty() {
            return ValidatorResult::skipped(key, name, "garment region too small to compare");
        }
        let wsum: f32 = parts.iter().map(|p| p.1).sum();
        let score = parts.iter().map(|p| p.1 * p.2).sum::<f32>() / wsum;
        let threshold = thresholds.of(Metric::Style);
        if score >= threshold {
            feedback.push(format!(
                "Garment style preserved ({})",
                parts.iter().map(|p| p.0).collect::<Vec<_>>().join(", ")
            ));
        } else {
            for (what, _, s) in &parts {
                if *s < 0.5 {
                    feedback.push(match *what {
                        "silhouette" => "Garment outline differs from the product's cut".to_string(),
                        "placement" => "Garment is not placed on the body".to_string(),
                        "length" => "Garment length differs from the product".to_string(),
                        _ => "Fabric texture differs from the product (smeared or re-textured); raise style transfer".to_string(),
                    });
                }
            }
        }
        if body.is_none() {
            feedback.push("Placement not checked: no body landmarks".to_string());
        }
        if cut {
            feedback.push(
                "Garment cut off by the frame: silhouette and length not compared".to_string(),
            );
        }
        ValidatorResult::scored(
            key,
            name,
            score,
            threshold,
            feedback,
            json!({
                "components": parts.iter().map(|(n, w, s)| json!({"name": n, "weight": w, "score": s})).collect::<Vec<_>>(),
                "silhouetteIou": silhouette,
                "placement": place.as_ref().map(|p| json!({"torsoCoverage": p.coverage, "nearBody": p.containment, "shoulderFit": p.shoulder_fit.map(|f| f.0), "shoulderTiltDeg": p.shoulder_fit.map(|f| f.1)})),
                "landmarkSource": body.as_ref().map(|b| b.2),
                "lengthPerShoulder": length.map(|(r, p)| json!({"render": r, "product": p})),
                "texture": tex.as_ref().map(|t| json!({"energyRatio": t.energy_ratio, "orientationSimilarity": t.orientation_similarity})),
                "cutByFrame": cut,
                "regionEstimated": region.estimated,
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{GrayImage, Luma};

    fn rect_mask(w: u32, h: u32, r: [u32; 4]) -> Mask {
        GrayImage::from_fn(w, h, |x, y| {
            Luma([if x >= r[0] && x < r[2] && y >= r[1] && y < r[3] {
                ON
            } else {
                0
            }])
        })
    }

    #[test]
    fn silhouette_ignores_placement_and_scale_but_not_shape() {
        let a = rect_mask(200, 200, [20, 20, 80, 120]);
        let b = rect_mask(300, 300, [100, 50, 220, 250]);
        assert!(silhouette_iou(&a, &b).unwrap() > 0.9);
        // An L shape is a different cut.
        let mut l = rect_mask(200, 200, [20, 20, 60, 160]);
        for y in 120..160 {
            for x in 60..160 {
                l.put_pixel(x, y, Luma([ON]));
            }
        }
        assert!(silhouette_iou(&a, &l).unwrap() < 0.75);
        assert!(silhouette_iou(&a, &GrayImage::new(10, 10)).is_none());
    }

    #[test]
    fn frame_cut_is_detected() {
        assert!(!cut_by_frame(&rect_mask(50, 50, [10, 10, 40, 40])));
        assert!(cut_by_frame(&rect_mask(50, 50, [10, 10, 40, 50])));
    }
}

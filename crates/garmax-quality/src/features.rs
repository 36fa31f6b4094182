//! Local features for finding a print that a warp moved, scaled, bent and
//! shaded: Harris corners, normalised-patch descriptors, mutual matching
//! with a ratio test, and a RANSAC-fitted similarity refined to an affine
//! map.
//!
//! Descriptors are zero-mean, unit-norm 9 × 9 samples of a patch around
//! each corner, taken on an image whose slowly varying light has been
//! divided out (the caller's job), so a patch under a fold's shadow still
//! matches its product-photo twin by a dot product. They are not rotation
//! invariant: prints on a worn garment turn by tens of degrees at most, and
//! RANSAC's 2-point similarity takes the rotation up.

use garmax_vision::rng::SplitMix64;

use crate::imgops::{Affine, Gray};

/// A corner and its Harris response.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Keypoint {
    pub x: f32,
    pub y: f32,
    pub response: f32,
}

/// Harris corners (k = 0.04, structure tensor averaged over ≈ 5 px), local
/// maxima above 1 % of the strongest, at least `min_dist` apart, strongest
/// first, at most `max` of them, none closer than `border` to an edge.
pub fn harris(g: &Gray, max: usize, min_dist: f32, border: usize) -> Vec<Keypoint> {
    let (w, h) = (g.width, g.height);
    if w < 2 * border + 3 || h < 2 * border + 3 {
        return Vec::new();
    }
    let mut ixx = Gray::new(w, h);
    let mut iyy = Gray::new(w, h);
    let mut ixy = Gray::new(w, h);
    for y in 1..h - 1 {
        for x in 1..w - 1 {
            let gx = (g.at(x + 1, y) - g.at(x - 1, y)) * 0.5;
            let gy = (g.at(x, y + 1) - g.at(x, y - 1)) * 0.5;
            let i = y * w + x;
            ixx.data[i] = gx * gx;
            iyy.data[i] = gy * gy;
            ixy.data[i] = gx * gy;
        }
    }
    let (ixx, iyy, ixy) = (
        ixx.box_blur(2).box_blur(1),
        iyy.box_blur(2).box_blur(1),
        ixy.box_blur(2).box_blur(1),
    );
    let response: Vec<f32> = (0..w * h)
        .map(|i| {
            let (a, b, c) = (ixx.data[i], iyy.data[i], ixy.data[i]);
            a * b - c * c - 0.04 * (a + b) * (a + b)
        })
        .collect();
    let strongest = response.iter().copied().fold(0.0f32, f32::max);
    if strongest <= 0.0 {
        return Vec::new();
    }
    let floor = 0.01 * strongest;
    let mut candidates = Vec::new();
    for y in border.max(1)..h - border.max(1) {
        for x in border.max(1)..w - border.max(1) {
            let r = response[y * w + x];
            if r <= floor {
                continue;
            }
            let is_max =
                (y - 1..=y + 1).all(|yy| (x - 1..=x + 1).all(|xx| response[yy * w + xx] <= r));
            if is_max {
                candidates.push(Keypoint {
                    x: x as f32,
                    y: y as f32,
                    response: r,
                });
            }
        }
    }
    candidates.sort_by(|a, b| b.response.total_cmp(&a.response));
    let mut kept: Vec<Keypoint> = Vec::new();
    let d2 = min_dist * min_dist;
    for c in candidates {
        if kept.len() >= max {
            break;
        }
        if kept
            .iter()
            .all(|k| (k.x - c.x).powi(2) + (k.y - c.y).powi(2) >= d2)
        {
            kept.push(c);
        }
    }
    kept
}

/// Samples per side of a descriptor.
const GRID: usize = 9;

/// A normalised patch around a point.
#[derive(Debug, Clone)]
pub struct Descriptor {
    pub at: [f32; 2],
    pub v: [f32; GRID * GRID],
}

/// Descriptors of `points` in `g`: a `GRID × GRID` sampling of the square of
/// half-side `radius` around each, zero-mean and unit-norm; points whose
/// patch is flat are left out.
pub fn describe(g: &Gray, points: &[[f32; 2]], radius: f32) -> Vec<Descriptor> {
    let step = 2.0 * radius / (GRID - 1) as f32;
    let mut out = Vec::new();
    'points: for &p in points {
        let mut v = [0.0f32; GRID * GRID];
        for j in 0..GRID {
            for i in 0..GRID {
                let (x, y) = (
                    p[0] - radius + i as f32 * step,
                    p[1] - radius + j as f32 * step,
                );
                match g.sample(x, y) {
                    Some(s) => v[j * GRID + i] = s,
                    None => continue 'points,
                }
            }
        }
        let mean = v.iter().sum::<f32>() / v.len() as f32;
        v.iter_mut().for_each(|s| *s -= mean);
        let norm = v.iter().map(|s| s * s).sum::<f32>().sqrt();
        if norm < 1e-4 {
            continue;
        }
        v.iter_mut().for_each(|s| *s /= norm);
        out.push(Descriptor { at: p, v });
    }
    out
}

fn dot(a: &Descriptor, b: &Descriptor) -> f32 {
    a.v.iter().zip(&b.v).map(|(x, y)| x * y).sum()
}

/// Pairs `(i, j)` of `a[i]` and `b[j]` that are each other's best match,
/// correlate at least `min_similarity`, and whose best match in `b` beats
/// the second best clearly (Lowe's ratio on `1 − similarity`).
pub fn match_descriptors(
    a: &[Descriptor],
    b: &[Descriptor],
    min_similarity: f32,
    ratio: f32,
) -> Vec<(usize, usize)> {
    if a.is_empty() || b.is_empty() {
        return Vec::new();
    }
    let sims: Vec<Vec<f32>> = a
        .iter()
        .map(|da| b.iter().map(|db| dot(da, db)).collect())
        .collect();
    let best_in_a: Vec<usize> = (0..b.len())
        .map(|j| {
            (0..a.len())
                .max_by(|&x, &y| sims[x][j].total_cmp(&sims[y][j]))
                .unwrap_or(0)
        })
        .collect();
    let mut pairs = Vec::new();
    for (i, row) in sims.iter().enumerate() {
        let (mut best, mut second, mut bj) = (f32::MIN, f32::MIN, 0);
        for (j, &s) in row.iter().enumerate() {
            if s > best {
                second = best;
                best = s;
                bj = j;
            } else if s > second {
                second = s;
            }
        }
        let distinct = second == f32::MIN || (1.0 - best) < ratio * (1.0 - second);
        if best >= min_similarity && distinct && best_in_a[bj] == i {
            pairs.push((i, bj));
        }
    }
    pairs
}

/// What RANSAC may accept: the scale and rotation range of the similarity
/// hypotheses, and the inlier distance.
#[derive(Debug, Clone, Copy)]
pub struct FitLimits {
    pub min_scale: f32,
    pub max_scale: f32,
    pub max_rotation_deg: f32,
    pub inlier_px: f32,
    pub iterations: usize,
}

/// A fitted map from the template into the search image.
#[derive(Debug, Clone)]
pub struct Fit {
    pub transform: Affine,
    /// Indices into the pairs that agree with it.
    pub inliers: Vec<usize>,
}

/// RANSAC over 2-point similarities (deterministic for `seed`), the best
/// consensus refitted by least squares: an affine map when it has ≥ 6
/// inliers (perspective and bending shear a print), a similarity otherwise.
pub fn ransac(pairs: &[([f32; 2], [f32; 2])], limits: FitLimits, seed: u64) -> Option<Fit> {
    if pairs.len() < 2 {
        return None;
    }
    let mut rng = SplitMix64::new(seed);
    let inliers_of = |t: &Affine| -> Vec<usize> {
        pairs
            .iter()
            .enumerate()
            .filter(|(_, (p, q))| {
                let r = t.apply(*p);
                (r[0] - q[0]).hypot(r[1] - q[1]) <= limits.inlier_px
            })
            .map(|(i, _)| i)
            .collect()
    };
    let plausible = |t: &Affine| {
        let s = t.scale();
        let rot = t.m[3].atan2(t.m[0]).to_degrees().abs();
        s >= limits.min_scale && s <= limits.max_scale && rot <= limits.max_rotation_deg
    };
    let mut best: Option<(Affine, Vec<usize>)> = None;
    for _ in 0..limits.iterations {
        let i = rng.below(pairs.len());
        let j = rng.below(pairs.len());
        if i == j {
            continue;
        }
        let Some(t) =
            Affine::similarity_through([pairs[i].0, pairs[j].0], [pairs[i].1, pairs[j].1])
        else {
            continue;
        };
        if !plausible(&t) {
            continue;
        }
        let inl = inliers_of(&t);
        if best.as_ref().is_none_or(|(_, b)| inl.len() > b.len()) {
            best = Some((t, inl));
        }
    }
    let (mut t, mut inliers) = best?;
    // Refit on the consensus, then gather its inliers once more.
    for _ in 0..2 {
        let from: Vec<[f32; 2]> = inliers.iter().map(|&i| pairs[i].0).collect();
        let to: Vec<[f32; 2]> = inliers.iter().map(|&i| pairs[i].1).collect();
        let refit = if inliers.len() >= 6 {
            Affine::fit(&from, &to)
        } else {
            crate::imgops::Similarity::fit(&from, &to).map(|s| Affine {
                m: [s.a, -s.b, s.tx, s.b, s.a, s.ty],
            })
        };
        match refit.filter(|r| plausible(r)) {
            Some(r) => {
                let inl = inliers_of(&r);
                if inl.len() < inliers.len() {
                    break;
                }
                (t, inliers) = (r, inl);
            }
            None => break,
        }
    }
    Some(Fit {
        transform: t,
        inliers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A blobby, cornery test pattern.
    fn pattern(w: usize, h: usize) -> Gray {
        let mut g = Gray::new(w, h);
        for y in 0..h {
            for x in 0..w {
                let (fx, fy) = (x as f32, y as f32);
                let squares = (((fx / 9.0).floor() + (fy / 13.0).floor()) as i32 % 3) as f32 * 0.3;
                g.data[y * w + x] = 0.2 + squares + 0.1 * ((fx * 0.21).sin() * (fy * 0.17).cos());
            }
        }
        g
    }

    #[test]
    fn a_shifted_scaled_copy_is_found_by_its_corners() {
        let src = pattern(80, 80);
        // The pattern at 1.15 × and shifted by (30, 17) inside a bigger image.
        let (s, ox, oy) = (1.15f32, 30.0f32, 17.0f32);
        let mut dst = Gray::new(160, 140);
        for y in 0..dst.height {
            for x in 0..dst.width {
                let (u, v) = ((x as f32 - ox) / s, (y as f32 - oy) / s);
                dst.data[y * dst.width + x] = src.sample(u, v).unwrap_or(0.5);
            }
        }
        let ka: Vec<[f32; 2]> = harris(&src, 80, 4.0, 6)
            .iter()
            .map(|k| [k.x, k.y])
            .collect();
        let kb: Vec<[f32; 2]> = harris(&dst, 200, 4.0, 6)
            .iter()
            .map(|k| [k.x, k.y])
            .collect();
        assert!(ka.len() >= 10, "{} corners", ka.len());
        let da = describe(&src, &ka, 5.0);
        // The search side's patches are 1.15 × larger, as the matcher's
        // scale ladder would make them.
        let db = describe(&dst, &kb, 5.0 * s);
        let pairs: Vec<_> = match_descriptors(&da, &db, 0.6, 0.9)
            .into_iter()
            .map(|(i, j)| (da[i].at, db[j].at))
            .collect();
        let limits = FitLimits {
            min_scale: 0.6,
            max_scale: 1.7,
            max_rotation_deg: 40.0,
            inlier_px: 3.0,
            iterations: 300,
        };
        let fit = ransac(&pairs, limits, 7).expect("a fit");
        assert!(
            fit.inliers.len() >= 6,
            "{} inliers of {}",
            fit.inliers.len(),
            pairs.len()
        );
        let c = fit.transform.apply([40.0, 40.0]);
        assert!(
            (c[0] - (ox + 40.0 * s)).abs() < 2.0 && (c[1] - (oy + 40.0 * s)).abs() < 2.0,
            "{c:?}"
        );
        assert!((fit.transform.scale() - s).abs() < 0.05);
    }
}

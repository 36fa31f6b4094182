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

use crate::imgops::Gray;

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

/// `x' = m[0]·x + m[1]·y + m[2]`, `y' = m[3]·x + m[4]·y + m[5]`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Affine {
    pub m: [f32; 6],
}

impl Affine {
    pub fn apply(&self, p: [f32; 2]) -> [f32; 2] {
        let m = &self.m;
        [
            m[0] * p[0] + m[1] * p[1] + m[2],
            m[3] * p[0] + m[4] * p[1] + m[5],
        ]
    }

    /// Mean linear scale (square root of the determinant's magnitude).
    pub fn scale(&self) -> f32 {
        (self.m[0] * self.m[4] - self.m[1] * self.m[3]).abs().sqrt()
    }

    pub fn inverse(&self) -> Option<Affine> {
        let m = &self.m;
        let det = m[0] * m[4] - m[1] * m[3];
        if det.abs() < 1e-9 {
            return None;
        }
        let (a, b, c, d) = (m[4] / det, -m[1] / det, -m[3] / det, m[0] / det);
        Some(Affine {
            m: [a, b, -(a * m[2] + b * m[5]), c, d, -(c * m[2] + d * m[5])],
        })
    }

    /// The similarity through two point pairs.
    fn similarity_through(p: [[f32; 2]; 2], q: [[f32; 2]; 2]) -> Option<Affine> {
        let (dpx, dpy) = (p[1][0] - p[0][0], p[1][1] - p[0][1]);
        let (dqx, dqy) = (q[1][0] - q[0][0], q[1][1] - q[0][1]);
        let n = dpx * dpx + dpy * dpy;
        if n < 1e-6 {
            return None;
        }
        let a = (dpx * dqx + dpy * dqy) / n;
        let b = (dpx * dqy - dpy * dqx) / n;
        Some(Affine {
            m: [
                a,
                -b,
                q[0][0] - (a * p[0][0] - b * p[0][1]),
                b,
                a,
                q[0][1] - (b * p[0][0] + a * p[0][1]),
            ],
        })
    }

    /// The least-squares affine map of `from` onto `to` (≥ 3 points not on
    /// a line).
    fn fit(from: &[[f32; 2]], to: &[[f32; 2]]) -> Option<Affine> {
        let n = from.len().min(to.len());
        if n < 3 {
            return None;
        }
        // Normal equations of [x y 1] · [a b c]ᵀ = x' (and y'), in f64.
        let mut ata = [[0.0f64; 3]; 3];
        let mut atx = [0.0f64; 3];
        let mut aty = [0.0f64; 3];
        for k in 0..n {
            let r = [f64::from(from[k][0]), f64::from(from[k][1]), 1.0];
            for i in 0..3 {
                for j in 0..3 {
                    ata[i][j] += r[i] * r[j];
                }
                atx[i] += r[i] * f64::from(to[k][0]);
                aty[i] += r[i] * f64::from(to[k][1]);
            }
        }
        let sx = solve3(ata, atx)?;
        let sy = solve3(ata, aty)?;
        let m = [sx[0], sx[1], sx[2], sy[0], sy[1], sy[2]].map(|v| v as f32);
        m.iter().all(|v| v.is_finite()).then_some(Affine { m })
    }
}

/// Cramer's rule for a 3 × 3 system; `None` when (nearly) singular.
fn solve3(a: [[f64; 3]; 3], b: [f64; 3]) -> Option<[f64; 3]> {
    let det = |m: &[[f64; 3]; 3]| {
        m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
            - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
    };
    let d = det(&a);
    if d.abs() < 1e-9 {
        return None;
    }
    let mut out = [0.0; 3];
    for (col, o) in out.iter_mut().enumerate() {
        let mut m = a;
        for row in 0..3 {
            m[row][col] = b[row];
        }
        *o = det(&m) / d;
    }
    Some(out)
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
    fn affine_inverse_undoes_it() {
        let t = Affine {
            m: [1.1, 0.2, 5.0, -0.1, 0.9, -3.0],
        };
        let p = t.inverse().unwrap().apply(t.apply([7.0, 11.0]));
        assert!((p[0] - 7.0).abs() < 1e-4 && (p[1] - 11.0).abs() < 1e-4);
        assert!(
            solve3(
                [[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 0.0, 1.0]],
                [1.0; 3]
            )
            .is_none()
        );
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

//! Small image operations the validators share: a float grey image, 2-D
//! similarity and affine transforms, warping, blurring, SSIM, Laplacian
//! variance and normalised cross-correlation template matching.
//!
//! Kept here rather than in `garmax-vision` while only the validators use
//! them; everything works on plain buffers and never panics on odd sizes.

use image::RgbaImage;

/// A single-channel float image, values nominally in 0–1.
#[derive(Debug, Clone, PartialEq)]
pub struct Gray {
    pub width: usize,
    pub height: usize,
    pub data: Vec<f32>,
}

impl Gray {
    pub fn new(width: usize, height: usize) -> Gray {
        Gray {
            width,
            height,
            data: vec![0.0; width * height],
        }
    }

    /// Luma (Rec. 601 weights on the sRGB values) of an RGBA image.
    pub fn from_rgba(img: &RgbaImage) -> Gray {
        let data = img
            .pixels()
            .map(|p| {
                (0.299 * f32::from(p.0[0]) + 0.587 * f32::from(p.0[1]) + 0.114 * f32::from(p.0[2]))
                    / 255.0
            })
            .collect();
        Gray {
            width: img.width() as usize,
            height: img.height() as usize,
            data,
        }
    }

    #[inline]
    pub fn at(&self, x: usize, y: usize) -> f32 {
        self.data[y * self.width + x]
    }

    /// Bilinear sample with edge clamping; `None` outside the image.
    pub fn sample(&self, x: f32, y: f32) -> Option<f32> {
        if self.width == 0 || self.height == 0 || !x.is_finite() || !y.is_finite() {
            return None;
        }
        let (w, h) = (self.width as f32, self.height as f32);
        if x < -0.5 || y < -0.5 || x > w - 0.5 || y > h - 0.5 {
            return None;
        }
        let x = x.clamp(0.0, w - 1.0);
        let y = y.clamp(0.0, h - 1.0);
        let (x0, y0) = (x.floor() as usize, y.floor() as usize);
        let (x1, y1) = ((x0 + 1).min(self.width - 1), (y0 + 1).min(self.height - 1));
        let (fx, fy) = (x - x0 as f32, y - y0 as f32);
        let top = self.at(x0, y0) * (1.0 - fx) + self.at(x1, y0) * fx;
        let bottom = self.at(x0, y1) * (1.0 - fx) + self.at(x1, y1) * fx;
        Some(top * (1.0 - fy) + bottom * fy)
    }

    /// The sub-image `[x, y, w, h]`, clipped to the image.
    pub fn crop(&self, x: usize, y: usize, w: usize, h: usize) -> Gray {
        let x = x.min(self.width);
        let y = y.min(self.height);
        let w = w.min(self.width - x);
        let h = h.min(self.height - y);
        let mut out = Gray::new(w, h);
        for row in 0..h {
            let src = (y + row) * self.width + x;
            out.data[row * w..(row + 1) * w].copy_from_slice(&self.data[src..src + w]);
        }
        out
    }

    /// Resampled to `w × h`: area averaging when shrinking (so fine texture
    /// is averaged, not aliased), bilinear when enlarging.
    pub fn resize(&self, w: usize, h: usize) -> Gray {
        let mut out = Gray::new(w, h);
        if w == 0 || h == 0 || self.width == 0 || self.height == 0 {
            return out;
        }
        let sx = self.width as f32 / w as f32;
        let sy = self.height as f32 / h as f32;
        for y in 0..h {
            for x in 0..w {
                out.data[y * w + x] = if sx > 1.0 || sy > 1.0 {
                    let x0 = (x as f32 * sx) as usize;
                    let y0 = (y as f32 * sy) as usize;
                    let x1 = (((x + 1) as f32 * sx).ceil() as usize).clamp(x0 + 1, self.width);
                    let y1 = (((y + 1) as f32 * sy).ceil() as usize).clamp(y0 + 1, self.height);
                    let mut s = 0.0;
                    for yy in y0..y1 {
                        for xx in x0..x1 {
                            s += self.at(xx, yy);
                        }
                    }
                    s / ((x1 - x0) * (y1 - y0)) as f32
                } else {
                    self.sample((x as f32 + 0.5) * sx - 0.5, (y as f32 + 0.5) * sy - 0.5)
                        .unwrap_or(0.0)
                };
            }
        }
        out
    }

    /// Box blur of radius `r` (separable running sums, edge-clamped, cost
    /// independent of `r`); applied twice it approximates a Gaussian of
    /// σ ≈ r·0.8.
    pub fn box_blur(&self, r: usize) -> Gray {
        if r == 0 || self.width == 0 || self.height == 0 {
            return self.clone();
        }
        let (w, h) = (self.width, self.height);
        let norm = 1.0 / (2 * r + 1) as f32;
        let mut tmp = vec![0.0f32; w * h];
        let mut line = Vec::with_capacity(w.max(h));
        let blur_line = |src: &[f32], dst: &mut Vec<f32>| {
            let n = src.len();
            dst.clear();
            let at = |i: isize| src[i.clamp(0, n as isize - 1) as usize];
            let mut acc: f32 = (-(r as isize)..=r as isize).map(at).sum();
            for i in 0..n as isize {
                dst.push(acc * norm);
                acc += at(i + r as isize + 1) - at(i - r as isize);
            }
        };
        for y in 0..h {
            blur_line(&self.data[y * w..(y + 1) * w], &mut line);
            tmp[y * w..(y + 1) * w].copy_from_slice(&line);
        }
        let mut out = Gray::new(w, h);
        let mut col = vec![0.0f32; h];
        for x in 0..w {
            for (y, c) in col.iter_mut().enumerate() {
                *c = tmp[y * w + x];
            }
            blur_line(&col, &mut line);
            for (y, v) in line.iter().enumerate() {
                out.data[y * w + x] = *v;
            }
        }
        out
    }
}

/// `x' = a·x − b·y + tx`, `y' = b·x + a·y + ty`: rotation, uniform scale and
/// translation, the transform face alignment uses (no shear, no mirror).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Similarity {
    pub a: f32,
    pub b: f32,
    pub tx: f32,
    pub ty: f32,
}

impl Similarity {
    pub const IDENTITY: Similarity = Similarity {
        a: 1.0,
        b: 0.0,
        tx: 0.0,
        ty: 0.0,
    };

    /// The least-squares similarity mapping `from[i]` onto `to[i]`; `None`
    /// for fewer than two points or all points coincident.
    pub fn fit(from: &[[f32; 2]], to: &[[f32; 2]]) -> Option<Similarity> {
        let n = from.len().min(to.len());
        if n < 2 {
            return None;
        }
        let mean = |p: &[[f32; 2]]| {
            let (sx, sy) = p[..n].iter().fold((0.0f64, 0.0f64), |(sx, sy), q| {
                (sx + f64::from(q[0]), sy + f64::from(q[1]))
            });
            (sx / n as f64, sy / n as f64)
        };
        let (fx, fy) = mean(from);
        let (tx, ty) = mean(to);
        let (mut sxx, mut sab, mut sba) = (0.0f64, 0.0f64, 0.0f64);
        for i in 0..n {
            let (px, py) = (f64::from(from[i][0]) - fx, f64::from(from[i][1]) - fy);
            let (qx, qy) = (f64::from(to[i][0]) - tx, f64::from(to[i][1]) - ty);
            sxx += px * px + py * py;
            sab += px * qx + py * qy;
            sba += px * qy - py * qx;
        }
        if sxx < 1e-9 {
            return None;
        }
        let a = sab / sxx;
        let b = sba / sxx;
        let s = Similarity {
            a: a as f32,
            b: b as f32,
            tx: (tx - (a * fx - b * fy)) as f32,
            ty: (ty - (b * fx + a * fy)) as f32,
        };
        (s.a.is_finite() && s.b.is_finite() && s.scale() > 1e-6).then_some(s)
    }

    pub fn apply(&self, p: [f32; 2]) -> [f32; 2] {
        [
            self.a * p[0] - self.b * p[1] + self.tx,
            self.b * p[0] + self.a * p[1] + self.ty,
        ]
    }

    /// The axis-aligned box `[x, y, w, h]` around `bbox` (`[x, y, w, h]`)
    /// after the transform.
    pub fn apply_box(&self, bbox: [f32; 4]) -> [f32; 4] {
        box_through(bbox, |p| self.apply(p))
    }

    pub fn scale(&self) -> f32 {
        self.a.hypot(self.b)
    }

    pub fn inverse(&self) -> Option<Similarity> {
        let d = self.a * self.a + self.b * self.b;
        if d < 1e-12 {
            return None;
        }
        let (a, b) = (self.a / d, -self.b / d);
        Some(Similarity {
            a,
            b,
            tx: -(a * self.tx - b * self.ty),
            ty: -(b * self.tx + a * self.ty),
        })
    }
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

    /// The axis-aligned box `[x, y, w, h]` around `bbox` (`[x, y, w, h]`)
    /// after the transform.
    pub fn apply_box(&self, bbox: [f32; 4]) -> [f32; 4] {
        box_through(bbox, |p| self.apply(p))
    }

    /// How far the map is from a similarity: the ratio of its larger to
    /// its smaller singular value (1 for a similarity, ∞ when degenerate).
    pub fn anisotropy(&self) -> f32 {
        let [a, b, _, c, d, _] = self.m;
        // Singular values of [[a, b], [c, d]] from its Frobenius norm and
        // determinant.
        let frob = a * a + b * b + c * c + d * d;
        let det = (a * d - b * c).abs();
        let disc = (frob * frob - 4.0 * det * det).max(0.0).sqrt();
        let (big, small) = (
            ((frob + disc) / 2.0).sqrt(),
            ((frob - disc) / 2.0).max(0.0).sqrt(),
        );
        if small <= 1e-9 {
            f32::INFINITY
        } else {
            big / small
        }
    }

    /// The determinant of the linear part: negative for a mirroring map.
    pub fn determinant(&self) -> f32 {
        self.m[0] * self.m[4] - self.m[1] * self.m[3]
    }

    /// Mean linear scale (square root of the determinant's magnitude).
    pub fn scale(&self) -> f32 {
        self.determinant().abs().sqrt()
    }

    pub fn inverse(&self) -> Option<Affine> {
        let m = &self.m;
        let det = self.determinant();
        if det.abs() < 1e-9 {
            return None;
        }
        let (a, b, c, d) = (m[4] / det, -m[1] / det, -m[3] / det, m[0] / det);
        Some(Affine {
            m: [a, b, -(a * m[2] + b * m[5]), c, d, -(c * m[2] + d * m[5])],
        })
    }

    /// The similarity through two point pairs.
    pub(crate) fn similarity_through(p: [[f32; 2]; 2], q: [[f32; 2]; 2]) -> Option<Affine> {
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
    pub fn fit(from: &[[f32; 2]], to: &[[f32; 2]]) -> Option<Affine> {
        Affine::fit_weighted(from, to, |_| 1.0)
    }

    /// The affine map of `from` onto `to` minimising the squared errors
    /// weighted by `weight(i)` for pair `i`.
    pub fn fit_weighted(
        from: &[[f32; 2]],
        to: &[[f32; 2]],
        weight: impl Fn(usize) -> f64,
    ) -> Option<Affine> {
        let n = from.len().min(to.len());
        if n < 3 {
            return None;
        }
        // Scaled so the largest is 1: the solver's singularity test is
        // absolute.
        let weights: Vec<f64> = (0..n).map(&weight).collect();
        let top = weights.iter().copied().fold(0.0f64, f64::max);
        if !(top.is_finite() && top > 0.0) {
            return None;
        }
        // Normal equations of [x y 1] · [a b c]ᵀ = x' (and y'), in f64.
        let mut ata = [[0.0f64; 3]; 3];
        let mut atx = [0.0f64; 3];
        let mut aty = [0.0f64; 3];
        for k in 0..n {
            let w = weights[k] / top;
            let r = [f64::from(from[k][0]), f64::from(from[k][1]), 1.0];
            for i in 0..3 {
                for j in 0..3 {
                    ata[i][j] += w * r[i] * r[j];
                }
                atx[i] += w * r[i] * f64::from(to[k][0]);
                aty[i] += w * r[i] * f64::from(to[k][1]);
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

/// The axis-aligned box around the four corners of `bbox` (`[x, y, w, h]`)
/// carried through `map`.
pub fn box_through(bbox: [f32; 4], map: impl Fn([f32; 2]) -> [f32; 2]) -> [f32; 4] {
    let [x, y, w, h] = bbox;
    let c = [[x, y], [x + w, y], [x, y + h], [x + w, y + h]].map(map);
    let (x0, x1) = c
        .iter()
        .fold((f32::MAX, f32::MIN), |(a, b), p| (a.min(p[0]), b.max(p[0])));
    let (y0, y1) = c
        .iter()
        .fold((f32::MAX, f32::MIN), |(a, b), p| (a.min(p[1]), b.max(p[1])));
    [x0, y0, x1 - x0, y1 - y0]
}

/// Samples `src` through `dst_to_src` into a `w × h` image; returns the image
/// and the fraction of its pixels that fell inside `src`.
pub fn warp(src: &Gray, dst_to_src: &Similarity, w: usize, h: usize) -> (Gray, f32) {
    let mut out = Gray::new(w, h);
    let mut inside = 0usize;
    for y in 0..h {
        for x in 0..w {
            let [sx, sy] = dst_to_src.apply([x as f32, y as f32]);
            if let Some(v) = src.sample(sx, sy) {
                out.data[y * w + x] = v;
                inside += 1;
            }
        }
    }
    let frac = if w * h == 0 {
        0.0
    } else {
        inside as f32 / (w * h) as f32
    };
    (out, frac)
}

/// Mean SSIM over `(2r+1)²` box windows (Wang et al. 2004 with the usual
/// constants for a 0–1 range), restricted to pixels where `weight` > 0.
pub fn ssim(a: &Gray, b: &Gray, r: usize, weight: Option<&[f32]>) -> f32 {
    if a.width != b.width || a.height != b.height || a.data.is_empty() {
        return 0.0;
    }
    let (c1, c2) = (0.01f32 * 0.01, 0.03f32 * 0.03);
    let prod = |f: &dyn Fn(f32, f32) -> f32| Gray {
        width: a.width,
        height: a.height,
        data: a.data.iter().zip(&b.data).map(|(&x, &y)| f(x, y)).collect(),
    };
    let ma = a.box_blur(r);
    let mb = b.box_blur(r);
    let maa = prod(&|x, _| x * x).box_blur(r);
    let mbb = prod(&|_, y| y * y).box_blur(r);
    let mab = prod(&|x, y| x * y).box_blur(r);
    let (mut sum, mut wsum) = (0.0f64, 0.0f64);
    for i in 0..a.data.len() {
        let wt = weight.map_or(1.0, |w| w.get(i).copied().unwrap_or(0.0));
        if wt <= 0.0 {
            continue;
        }
        let (mx, my) = (ma.data[i], mb.data[i]);
        let vx = (maa.data[i] - mx * mx).max(0.0);
        let vy = (mbb.data[i] - my * my).max(0.0);
        let cxy = mab.data[i] - mx * my;
        let s =
            ((2.0 * mx * my + c1) * (2.0 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2));
        sum += f64::from(s * wt);
        wsum += f64::from(wt);
    }
    if wsum <= 0.0 {
        0.0
    } else {
        (sum / wsum) as f32
    }
}

/// Variance of the 4-neighbour Laplacian over the interior of `g`: a focus
/// measure that falls sharply when an image is blurred.
pub fn laplacian_variance(g: &Gray) -> f32 {
    if g.width < 3 || g.height < 3 {
        return 0.0;
    }
    let (mut s, mut ss, mut n) = (0.0f64, 0.0f64, 0usize);
    for y in 1..g.height - 1 {
        for x in 1..g.width - 1 {
            let l = 4.0 * g.at(x, y)
                - g.at(x - 1, y)
                - g.at(x + 1, y)
                - g.at(x, y - 1)
                - g.at(x, y + 1);
            s += f64::from(l);
            ss += f64::from(l * l);
            n += 1;
        }
    }
    let mean = s / n as f64;
    (ss / n as f64 - mean * mean).max(0.0) as f32
}

/// The best match of `template` inside `search`: `(x, y, ncc)` with `x, y`
/// the template's top-left corner. Zero-mean normalised cross-correlation,
/// so uniform brightness and contrast changes do not matter. `None` when the
/// template does not fit or is flat.
pub fn match_template(
    search: &Gray,
    template: &Gray,
    stride: usize,
) -> Option<(usize, usize, f32)> {
    match_template_where(search, template, stride, |_, _| true)
}

/// [`match_template`] over the positions `accept(x, y)` allows (e.g. only
/// where the template's centre lies on the garment).
pub fn match_template_where(
    search: &Gray,
    template: &Gray,
    stride: usize,
    accept: impl Fn(usize, usize) -> bool,
) -> Option<(usize, usize, f32)> {
    let (tw, th) = (template.width, template.height);
    if tw == 0 || th == 0 || tw > search.width || th > search.height {
        return None;
    }
    let n = (tw * th) as f64;
    let t_mean = template.data.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let t: Vec<f32> = template
        .data
        .iter()
        .map(|&v| (f64::from(v) - t_mean) as f32)
        .collect();
    let t_norm = t.iter().map(|&v| f64::from(v * v)).sum::<f64>().sqrt();
    if t_norm < 1e-6 {
        return None;
    }
    // Integral images of the search window's sum and squared sum.
    let (w, h) = (search.width, search.height);
    let mut ii = vec![0.0f64; (w + 1) * (h + 1)];
    let mut ii2 = vec![0.0f64; (w + 1) * (h + 1)];
    for y in 0..h {
        let (mut row, mut row2) = (0.0f64, 0.0f64);
        for x in 0..w {
            let v = f64::from(search.at(x, y));
            row += v;
            row2 += v * v;
            ii[(y + 1) * (w + 1) + x + 1] = ii[y * (w + 1) + x + 1] + row;
            ii2[(y + 1) * (w + 1) + x + 1] = ii2[y * (w + 1) + x + 1] + row2;
        }
    }
    let rect = |img: &[f64], x: usize, y: usize| {
        img[(y + th) * (w + 1) + x + tw] - img[y * (w + 1) + x + tw] - img[(y + th) * (w + 1) + x]
            + img[y * (w + 1) + x]
    };
    let stride = stride.max(1);
    let mut best: Option<(usize, usize, f32)> = None;
    for y in (0..=h - th).step_by(stride) {
        for x in (0..=w - tw).step_by(stride) {
            if !accept(x, y) {
                continue;
            }
            let s = rect(&ii, x, y);
            let s2 = rect(&ii2, x, y);
            let var = s2 - s * s / n;
            if var < 1e-9 {
                continue;
            }
            let mut dot = 0.0f32;
            for ty in 0..th {
                let srow = &search.data[(y + ty) * w + x..(y + ty) * w + x + tw];
                let trow = &t[ty * tw..(ty + 1) * tw];
                dot += srow.iter().zip(trow).map(|(a, b)| a * b).sum::<f32>();
            }
            let ncc = (f64::from(dot) / (var.sqrt() * t_norm)) as f32;
            if best.is_none_or(|b| ncc > b.2) {
                best = Some((x, y, ncc));
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(w: usize, h: usize) -> Gray {
        let mut g = Gray::new(w, h);
        for y in 0..h {
            for x in 0..w {
                // A hash, so no two patches look alike.
                let mut v = (x as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
                    ^ (y as u64).wrapping_mul(0xc2b2_ae3d_27d4_eb4f);
                v ^= v >> 29;
                v = v.wrapping_mul(0xbf58_476d_1ce4_e5b9);
                v ^= v >> 32;
                g.data[y * w + x] = (v % 1000) as f32 / 1000.0;
            }
        }
        g
    }

    #[test]
    fn similarity_fit_recovers_a_known_transform() {
        let s = Similarity {
            a: 0.8,
            b: 0.3,
            tx: 5.0,
            ty: -2.0,
        };
        let from = [[0.0, 0.0], [10.0, 0.0], [3.0, 7.0], [9.0, 9.0]];
        let to: Vec<[f32; 2]> = from.iter().map(|&p| s.apply(p)).collect();
        let f = Similarity::fit(&from, &to).unwrap();
        assert!((f.a - 0.8).abs() < 1e-4 && (f.b - 0.3).abs() < 1e-4);
        assert!((f.tx - 5.0).abs() < 1e-3 && (f.ty + 2.0).abs() < 1e-3);
        let inv = f.inverse().unwrap();
        let back = inv.apply(f.apply([4.0, 5.0]));
        assert!((back[0] - 4.0).abs() < 1e-3 && (back[1] - 5.0).abs() < 1e-3);
        assert!(Similarity::fit(&[[1.0, 1.0], [1.0, 1.0]], &[[0.0, 0.0], [1.0, 1.0]]).is_none());
        assert!(Similarity::fit(&[[1.0, 1.0]], &[[0.0, 0.0]]).is_none());
    }

    #[test]
    fn ssim_is_one_for_identical_and_lower_for_different_images() {
        let a = pattern(40, 30);
        assert!((ssim(&a, &a, 3, None) - 1.0).abs() < 1e-4);
        let mut b = a.clone();
        b.data.reverse();
        assert!(ssim(&a, &b, 3, None) < 0.5);
        assert_eq!(ssim(&a, &pattern(10, 10), 3, None), 0.0);
    }

    #[test]
    fn box_blur_matches_the_direct_sum() {
        let a = pattern(13, 9);
        let b = a.box_blur(2);
        let direct = |x: usize, y: usize| {
            let mut s = 0.0;
            for dy in -2i64..=2 {
                for dx in -2i64..=2 {
                    let xx = (x as i64 + dx).clamp(0, 12) as usize;
                    let yy = (y as i64 + dy).clamp(0, 8) as usize;
                    s += a.at(xx, yy);
                }
            }
            s / 25.0
        };
        for (x, y) in [(0, 0), (6, 4), (12, 8), (1, 7)] {
            assert!((b.at(x, y) - direct(x, y)).abs() < 1e-4);
        }
        assert_eq!(Gray::new(0, 0).box_blur(3).data.len(), 0);
    }

    #[test]
    fn blur_lowers_laplacian_variance() {
        let a = pattern(40, 40);
        assert!(laplacian_variance(&a.box_blur(2)) < 0.2 * laplacian_variance(&a));
        assert_eq!(laplacian_variance(&Gray::new(2, 2)), 0.0);
    }

    #[test]
    fn template_matching_finds_the_patch() {
        let a = pattern(60, 50);
        let t = a.crop(21, 17, 12, 10);
        let (x, y, s) = match_template(&a, &t, 1).unwrap();
        assert_eq!((x, y), (21, 17));
        assert!(s > 0.999);
        assert!(match_template(&t, &a, 1).is_none());
        assert!(
            match_template(&a, &Gray::new(4, 4), 1).is_none(),
            "flat template"
        );
    }

    #[test]
    fn resize_and_crop_handle_edges() {
        let a = pattern(9, 7);
        assert_eq!(a.crop(8, 6, 10, 10).data.len(), 1);
        assert_eq!(a.crop(20, 20, 3, 3).data.len(), 0);
        let r = a.resize(3, 2);
        assert_eq!((r.width, r.height), (3, 2));
        assert_eq!(a.resize(0, 5).data.len(), 0);
        let up = a.resize(18, 14);
        assert!(up.data.iter().all(|v| v.is_finite()));
    }
}

/// Maps product-photo boxes (`[x, y, w, h]`) into a render: where the
/// renderer put each logo, judged from where it put the garment's
/// landmarks (`from` on the product, `to` on the render).
///
/// Each box goes through the moving-least-squares affine map at its centre
/// (Schaefer et al., "Image deformation using moving least squares", 2006):
/// the affine fit with each landmark weighted by `1 / d²`, its squared
/// distance from the box's centre, so the collar and armpits near a chest
/// print outweigh the hem. One affine for the whole garment puts a chest
/// print too low when the garment is stretched unevenly, and a similarity
/// also too wide on a body turned to three-quarters (narrowed across, not
/// along). The global similarity stands in when the landmarks do not pin
/// an affine down (fewer than three, on a line), or the affine mirrors or
/// stretches one way more than [`MAX_BOX_ANISOTROPY`] times the other — no
/// garment on a body does. `None` for every box when no transform fits.
pub fn map_boxes(from: &[[f32; 2]], to: &[[f32; 2]], boxes: &[[u32; 4]]) -> Vec<Option<[f32; 4]>> {
    let similarity = Similarity::fit(from, to);
    let n = from.len().min(to.len());
    // Keeps the weight finite for a box centred on a landmark: 5 % of the
    // landmarks' spread.
    let softening = (0.05 * spread(&from[..n])).max(1.0).powi(2);
    boxes
        .iter()
        .map(|b| {
            let bbox = b.map(|v| v as f32);
            let centre = [bbox[0] + bbox[2] / 2.0, bbox[1] + bbox[3] / 2.0];
            let weight = |i: usize| {
                let d = (from[i][0] - centre[0]).hypot(from[i][1] - centre[1]);
                1.0 / (f64::from(d * d) + f64::from(softening))
            };
            let local = Affine::fit_weighted(from, to, weight)
                .filter(|a| a.determinant() > 0.0 && a.anisotropy() <= MAX_BOX_ANISOTROPY);
            match (local, similarity) {
                (Some(a), _) => Some(a.apply_box(bbox)),
                (None, Some(s)) => Some(s.apply_box(bbox)),
                (None, None) => None,
            }
        })
        .collect()
}

/// The larger side of the points' bounding box (0 for none).
fn spread(points: &[[f32; 2]]) -> f32 {
    let (mut lo, mut hi) = ([f32::MAX; 2], [f32::MIN; 2]);
    for p in points {
        for k in 0..2 {
            lo[k] = lo[k].min(p[k]);
            hi[k] = hi[k].max(p[k]);
        }
    }
    if points.is_empty() {
        0.0
    } else {
        (hi[0] - lo[0]).max(hi[1] - lo[1])
    }
}

/// The most one axis of the landmark map may be stretched against the
/// other before [`map_boxes`] distrusts it (a body turned by 70° narrows
/// the garment's width to about a third).
pub const MAX_BOX_ANISOTROPY: f32 = 4.0;

#[cfg(test)]
mod map_boxes_tests {
    use super::*;

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
    fn boxes_follow_a_scale_and_shift() {
        let from = [[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]];
        let to = [[5.0, 5.0], [25.0, 5.0], [5.0, 25.0]];
        let mapped = map_boxes(&from, &to, &[[1, 2, 3, 4]]);
        let [x, y, w, h] = mapped[0].unwrap();
        for (got, want) in [(x, 7.0), (y, 9.0), (w, 6.0), (h, 8.0)] {
            assert!((got - want).abs() < 1e-4, "{mapped:?}");
        }
        assert_eq!(map_boxes(&from[..1], &to[..1], &[[0, 0, 1, 1]]), vec![None]);
    }

    #[test]
    fn a_garment_narrowed_across_keeps_its_print_box_narrow() {
        // A body turned to three-quarters: the garment at 0.6 of its width,
        // full height, shifted. The similarity would average the two scales.
        let from = [
            [0.0, 0.0],
            [100.0, 0.0],
            [0.0, 120.0],
            [100.0, 120.0],
            [50.0, 10.0],
        ];
        let to: Vec<[f32; 2]> = from
            .iter()
            .map(|p| [40.0 + 0.6 * p[0], 20.0 + p[1]])
            .collect();
        let [x, y, w, h] = map_boxes(&from, &to, &[[30, 30, 40, 30]])[0].unwrap();
        for (got, want) in [(x, 58.0), (y, 50.0), (w, 24.0), (h, 30.0)] {
            assert!((got - want).abs() < 1e-3, "{:?}", [x, y, w, h]);
        }
        let [_, _, ws, hs] = Similarity::fit(&from, &to)
            .unwrap()
            .apply_box([30.0, 30.0, 40.0, 30.0]);
        assert!(
            ws > 26.0 && hs < 28.0,
            "the similarity averages the scales: {ws} × {hs}"
        );
    }

    #[test]
    fn a_box_follows_the_landmarks_near_it_when_the_garment_stretches_unevenly() {
        // The top half of the garment squeezed to a fifth of its height, the
        // lower part only shifted: a box in the top half lands where the
        // collar and armpit landmarks say, not where one affine for the
        // whole garment would.
        // Landmarks down both sides, as a garment's collar, shoulders,
        // armpits, flanks and hem are.
        let from: Vec<[f32; 2]> = [0.0, 25.0, 50.0, 100.0, 150.0]
            .iter()
            .flat_map(|&y| [[0.0, y], [100.0, y]])
            .collect();
        let squeeze = |y: f32| if y <= 50.0 { 0.2 * y } else { y - 40.0 };
        let to: Vec<[f32; 2]> = from.iter().map(|p| [p[0], squeeze(p[1])]).collect();
        let centre_y = |b: [f32; 4]| b[1] + b[3] / 2.0;
        let truth = squeeze(15.0);
        let local = centre_y(map_boxes(&from, &to, &[[40, 10, 20, 10]])[0].unwrap());
        let global = centre_y(
            Affine::fit(&from, &to)
                .unwrap()
                .apply_box([40.0, 10.0, 20.0, 10.0]),
        );
        assert!(
            (local - truth).abs() < 0.5 * (global - truth).abs(),
            "local {local}, global {global}, truth {truth}"
        );
    }

    #[test]
    fn a_mirroring_or_degenerate_affine_gives_way_to_the_similarity() {
        let from = [[0.0, 0.0], [100.0, 0.0], [0.0, 100.0], [100.0, 100.0]];
        // Mirrored left-right: the affine fits it exactly, but no garment on
        // a body maps that way, and no similarity maps a square onto its
        // mirror image either: the box is not placed.
        let mirrored: Vec<[f32; 2]> = from.iter().map(|p| [200.0 - p[0], p[1]]).collect();
        assert_eq!(map_boxes(&from, &mirrored, &[[10, 10, 20, 20]]), vec![None]);
        // Flipped with a shift of the corners, the similarity still fits.
        let mut skewed = mirrored.clone();
        skewed[0][1] -= 30.0;
        let got = map_boxes(&from, &skewed, &[[10, 10, 20, 20]])[0];
        let want = Similarity::fit(&from, &skewed).map(|s| s.apply_box([10.0, 10.0, 20.0, 20.0]));
        assert_eq!(got, want);
        // Points on a line pin no affine down; two points only a similarity.
        let line = [[0.0, 0.0], [10.0, 10.0], [20.0, 20.0]];
        let shifted: Vec<[f32; 2]> = line.iter().map(|p| [p[0] + 5.0, p[1]]).collect();
        let [x, y, ..] = map_boxes(&line, &shifted, &[[0, 0, 4, 4]])[0].unwrap();
        assert!((x - 5.0).abs() < 1e-3 && y.abs() < 1e-3, "{x} {y}");
        assert!(map_boxes(&line[..2], &shifted[..2], &[[0, 0, 4, 4]])[0].is_some());
    }

    #[test]
    fn anisotropy_is_one_for_a_similarity_and_grows_with_the_stretch() {
        let similarity = Affine {
            m: [0.8, -0.6, 3.0, 0.6, 0.8, 1.0],
        };
        assert!((similarity.anisotropy() - 1.0).abs() < 1e-4);
        let stretched = Affine {
            m: [3.0, 0.0, 0.0, 0.0, 1.0, 0.0],
        };
        assert!((stretched.anisotropy() - 3.0).abs() < 1e-4);
        let flat = Affine {
            m: [1.0, 1.0, 0.0, 1.0, 1.0, 0.0],
        };
        assert!(flat.anisotropy().is_infinite());
    }
}

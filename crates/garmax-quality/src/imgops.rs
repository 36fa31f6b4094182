//! Small image operations the validators share: a float grey image, 2-D
//! similarity transforms, warping, blurring, SSIM, Laplacian variance and
//! normalised cross-correlation template matching.
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
        let [x, y, w, h] = bbox;
        let c = [[x, y], [x + w, y], [x, y + h], [x + w, y + h]].map(|p| self.apply(p));
        let (x0, x1) = c
            .iter()
            .fold((f32::MAX, f32::MIN), |(a, b), p| (a.min(p[0]), b.max(p[0])));
        let (y0, y1) = c
            .iter()
            .fold((f32::MAX, f32::MIN), |(a, b), p| (a.min(p[1]), b.max(p[1])));
        [x0, y0, x1 - x0, y1 - y0]
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

/// Maps product-photo boxes (`[x, y, w, h]`) into a render through the
/// similarity that best carries `from` landmarks onto `to`: where the
/// renderer put each logo. `None` for every box when no transform fits.
pub fn map_boxes(from: &[[f32; 2]], to: &[[f32; 2]], boxes: &[[u32; 4]]) -> Vec<Option<[f32; 4]>> {
    let Some(s) = Similarity::fit(from, to) else {
        return vec![None; boxes.len()];
    };
    boxes
        .iter()
        .map(|b| Some(s.apply_box(b.map(|v| v as f32))))
        .collect()
}

#[cfg(test)]
mod map_boxes_tests {
    use super::*;

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
}

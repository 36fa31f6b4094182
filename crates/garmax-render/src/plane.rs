//! A single-channel `f32` image and the few filters the renderer needs:
//! masked box blur (normalised convolution), bilinear sampling, dilation
//! by distance and push-pull inpainting.

use image::GrayImage;
use rayon::prelude::*;

/// A `w × h` plane of `f32`, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Plane {
    pub w: u32,
    pub h: u32,
    pub data: Vec<f32>,
}

impl Plane {
    pub fn new(w: u32, h: u32, v: f32) -> Plane {
        Plane {
            w,
            h,
            data: vec![v; (w as usize) * (h as usize)],
        }
    }

    /// 0–255 → 0–1.
    pub fn from_gray(g: &GrayImage) -> Plane {
        Plane {
            w: g.width(),
            h: g.height(),
            data: g.as_raw().iter().map(|v| *v as f32 / 255.0).collect(),
        }
    }

    pub fn to_gray(&self) -> GrayImage {
        let raw = self
            .data
            .iter()
            .map(|v| (v.clamp(0.0, 1.0) * 255.0 + 0.5) as u8)
            .collect();
        GrayImage::from_raw(self.w, self.h, raw).unwrap_or_else(|| GrayImage::new(self.w, self.h))
    }

    #[inline]
    pub fn idx(&self, x: u32, y: u32) -> usize {
        y as usize * self.w as usize + x as usize
    }

    #[inline]
    pub fn get(&self, x: u32, y: u32) -> f32 {
        self.data[self.idx(x, y)]
    }

    /// Bilinear sample with clamp-to-edge; `(x, y)` in pixel-centre
    /// coordinates (pixel `i` covers `[i, i+1)`, its centre is `i + 0.5`).
    pub fn sample(&self, x: f32, y: f32) -> f32 {
        if self.w == 0 || self.h == 0 {
            return 0.0;
        }
        let fx = (x - 0.5).clamp(0.0, (self.w - 1) as f32);
        let fy = (y - 0.5).clamp(0.0, (self.h - 1) as f32);
        let (x0, y0) = (fx.floor() as u32, fy.floor() as u32);
        let (x1, y1) = ((x0 + 1).min(self.w - 1), (y0 + 1).min(self.h - 1));
        let (tx, ty) = (fx - x0 as f32, fy - y0 as f32);
        let a = self.get(x0, y0) * (1.0 - tx) + self.get(x1, y0) * tx;
        let b = self.get(x0, y1) * (1.0 - tx) + self.get(x1, y1) * tx;
        a * (1.0 - ty) + b * ty
    }

    pub fn sum(&self) -> f64 {
        self.data.iter().map(|v| *v as f64).sum()
    }

    /// Pointwise combination with another plane of the same size.
    pub fn zip_with(&self, o: &Plane, f: impl Fn(f32, f32) -> f32 + Sync) -> Plane {
        let data = self
            .data
            .par_iter()
            .zip(&o.data)
            .map(|(a, b)| f(*a, *b))
            .collect();
        Plane {
            w: self.w,
            h: self.h,
            data,
        }
    }

    pub fn map(&self, f: impl Fn(f32) -> f32 + Sync) -> Plane {
        Plane {
            w: self.w,
            h: self.h,
            data: self.data.par_iter().map(|v| f(*v)).collect(),
        }
    }
}

/// Box blur of `values` weighted by `weights` with radius `r` (a
/// normalised convolution: the mean of the weighted neighbourhood, so values
/// outside the weight mask do not bleed in). Where the neighbourhood has no
/// weight the result is `fallback`.
pub fn masked_box_blur(values: &Plane, weights: &Plane, r: u32, fallback: f32) -> Plane {
    let vw = values.zip_with(weights, |v, w| v * w);
    let num = box_blur(&vw, r);
    let den = box_blur(weights, r);
    num.zip_with(&den, move |n, d| if d > 1e-4 { n / d } else { fallback })
}

/// Plain box blur (mean over a `(2r+1)²` window, clipped at the borders),
/// separable, O(1) per pixel.
pub fn box_blur(p: &Plane, r: u32) -> Plane {
    let (w, h) = (p.w as usize, p.h as usize);
    if w == 0 || h == 0 || r == 0 {
        return p.clone();
    }
    let r = r as usize;
    // Horizontal pass: running sums per row.
    let mut tmp = vec![0.0f32; w * h];
    tmp.par_chunks_mut(w)
        .zip(p.data.par_chunks(w))
        .for_each(|(out, row)| {
            let mut prefix = vec![0.0f64; w + 1];
            for i in 0..w {
                prefix[i + 1] = prefix[i] + row[i] as f64;
            }
            for (x, o) in out.iter_mut().enumerate() {
                let a = x.saturating_sub(r);
                let b = (x + r + 1).min(w);
                *o = ((prefix[b] - prefix[a]) / (b - a) as f64) as f32;
            }
        });
    // Vertical pass on column strips, parallel over blocks of columns.
    let mut out = vec![0.0f32; w * h];
    let cols: Vec<Vec<f32>> = (0..w)
        .into_par_iter()
        .map(|x| {
            let mut prefix = vec![0.0f64; h + 1];
            for y in 0..h {
                prefix[y + 1] = prefix[y] + tmp[y * w + x] as f64;
            }
            (0..h)
                .map(|y| {
                    let a = y.saturating_sub(r);
                    let b = (y + r + 1).min(h);
                    ((prefix[b] - prefix[a]) / (b - a) as f64) as f32
                })
                .collect()
        })
        .collect();
    for (x, col) in cols.iter().enumerate() {
        for (y, v) in col.iter().enumerate() {
            out[y * w + x] = *v;
        }
    }
    Plane {
        w: p.w,
        h: p.h,
        data: out,
    }
}

/// Soft dilation: `max` filter approximated by blurring and re-thresholding,
/// which also feathers the edge by about `r` pixels.
pub fn grow(p: &Plane, r: u32) -> Plane {
    if r == 0 {
        return p.clone();
    }
    // A binary edge blurs into a ramp 2r wide; keeping only its outer
    // tenth makes a short (r/5 px) anti-aliased edge about r px outside.
    let b = box_blur(p, r);
    b.map(|v| (v * 10.0).min(1.0))
}

/// Shrinks a soft mask by about `r` pixels (the dual of [`grow`]).
pub fn shrink(p: &Plane, r: u32) -> Plane {
    if r == 0 {
        return p.clone();
    }
    let b = box_blur(p, r);
    b.map(|v| ((v - 0.75) * 4.0).clamp(0.0, 1.0))
}

/// Fills the pixels where `known` is 0 from the pixels where it is 1 by
/// push-pull (a pyramid of weighted averages): smooth, fast, and good
/// enough for the out-of-focus backgrounds behind a torso. `channels` are
/// filled together.
pub fn push_pull_fill(channels: &mut [Plane], known: &Plane) {
    if channels.is_empty() || known.w == 0 || known.h == 0 {
        return;
    }
    let levels = pyramid(channels, known);
    // levels[0] is full res; reconstruct coarse-to-fine down to level 1,
    // then fill only the unknown full-resolution pixels from it (the known
    // ones keep their value, so a full-resolution pass would be wasted).
    let mut filled: Vec<Plane> = levels.last().map(|(c, _)| c.clone()).unwrap_or_default();
    for (cs, ws) in levels.iter().skip(1).rev().skip(1) {
        let mut next = Vec::with_capacity(cs.len());
        for (ci, c) in cs.iter().enumerate() {
            let coarse = &filled[ci];
            let mut out = c.clone();
            for y in 0..c.h {
                for x in 0..c.w {
                    let i = c.idx(x, y);
                    let wgt = ws.data[i].min(1.0);
                    let up = coarse.sample(
                        (x as f32 + 0.5) * coarse.w as f32 / c.w as f32,
                        (y as f32 + 0.5) * coarse.h as f32 / c.h as f32,
                    );
                    out.data[i] = c.data[i] * wgt + up * (1.0 - wgt);
                }
            }
            next.push(out);
        }
        filled = next;
    }
    let (w, h) = (known.w, known.h);
    for (dst, src) in channels.iter_mut().zip(filled) {
        for (i, d) in dst.data.iter_mut().enumerate() {
            let k = known.data[i];
            if k >= 1.0 {
                continue;
            }
            let (x, y) = ((i as u32 % w) as f32 + 0.5, (i as u32 / w) as f32 + 0.5);
            let up = src.sample(x * src.w as f32 / w as f32, y * src.h as f32 / h as f32);
            *d = *d * k + up * (1.0 - k);
        }
    }
}

impl Default for Plane {
    fn default() -> Self {
        Plane::new(0, 0, 0.0)
    }
}

/// Weighted-mean pyramid: each level halves the size; a level's value is the
/// weight-normalised mean of its 2×2 children and its weight their sum
/// (capped at 1).
fn pyramid(channels: &[Plane], known: &Plane) -> Vec<(Vec<Plane>, Plane)> {
    let mut levels = vec![(
        channels
            .iter()
            .map(|c| c.zip_with(known, |v, _| v))
            .collect::<Vec<_>>(),
        known.clone(),
    )];
    while let Some((cs, ws)) = levels.last() {
        if ws.w <= 1 && ws.h <= 1 {
            break;
        }
        let (nw, nh) = (ws.w.div_ceil(2).max(1), ws.h.div_ceil(2).max(1));
        let mut nws = Plane::new(nw, nh, 0.0);
        let mut ncs: Vec<Plane> = cs.iter().map(|_| Plane::new(nw, nh, 0.0)).collect();
        let mut acc = vec![0.0f32; cs.len()];
        for y in 0..nh {
            for x in 0..nw {
                let mut wsum = 0.0;
                acc.iter_mut().for_each(|a| *a = 0.0);
                for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                    let (sx, sy) = (2 * x + dx, 2 * y + dy);
                    if sx < ws.w && sy < ws.h {
                        let wv = ws.get(sx, sy);
                        wsum += wv;
                        for (a, c) in acc.iter_mut().zip(cs) {
                            *a += c.get(sx, sy) * wv;
                        }
                    }
                }
                let i = nws.idx(x, y);
                nws.data[i] = wsum.min(1.0);
                for (nc, a) in ncs.iter_mut().zip(&acc) {
                    nc.data[i] = if wsum > 1e-6 { a / wsum } else { 0.0 };
                }
            }
        }
        levels.push((ncs, nws));
    }
    levels
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn box_blur_preserves_constants_and_mean() {
        let p = Plane::new(17, 9, 0.25);
        let b = box_blur(&p, 3);
        assert!(b.data.iter().all(|v| (v - 0.25).abs() < 1e-6));
        let mut spike = Plane::new(9, 9, 0.0);
        spike.data[40] = 81.0;
        let b = box_blur(&spike, 1);
        assert!((b.get(4, 4) - 9.0).abs() < 1e-4);
        assert!((b.get(3, 5) - 9.0).abs() < 1e-4);
        assert_eq!(b.get(0, 0), 0.0);
    }

    #[test]
    fn masked_blur_ignores_unweighted_values() {
        let mut v = Plane::new(10, 1, 1.0);
        let mut w = Plane::new(10, 1, 1.0);
        for x in 5..10 {
            v.data[x] = 100.0;
            w.data[x] = 0.0;
        }
        let b = masked_box_blur(&v, &w, 3, -1.0);
        assert!((b.get(4, 0) - 1.0).abs() < 1e-5, "{}", b.get(4, 0));
        assert_eq!(b.get(9, 0), -1.0);
    }

    #[test]
    fn push_pull_fills_holes_from_known_pixels() {
        let mut c = Plane::new(16, 16, 0.0);
        let mut k = Plane::new(16, 16, 1.0);
        for y in 0..16 {
            for x in 0..16 {
                let i = c.idx(x, y);
                c.data[i] = if (4..12).contains(&x) && (4..12).contains(&y) {
                    k.data[i] = 0.0;
                    99.0
                } else {
                    0.5
                };
            }
        }
        let mut chans = vec![c];
        push_pull_fill(&mut chans, &k);
        assert!(chans[0].data.iter().all(|v| (v - 0.5).abs() < 1e-4));
    }

    #[test]
    fn sampling_is_bilinear_between_centres() {
        let p = Plane {
            w: 2,
            h: 1,
            data: vec![0.0, 1.0],
        };
        assert!((p.sample(1.0, 0.5) - 0.5).abs() < 1e-6);
        assert_eq!(p.sample(-5.0, 0.5), 0.0);
        assert_eq!(p.sample(9.0, 0.5), 1.0);
    }
}

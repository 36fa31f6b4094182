//! The garment texture: the product photo resampled to about the output
//! scale, premultiplied in linear RGB, with the neck hole cut open, the
//! logos sharpened, and where the plain base fabric is.

use garmax_vision::color::{Lab, delta_e2000_weighted, srgb_to_lab};
use image::imageops::FilterType;
use image::{GrayImage, RgbaImage};
use rayon::prelude::*;

use crate::garment::{GarmentFit, GarmentInput, GarmentLandmarks};
use crate::geometry::{P2, smoothstep};
use crate::plane::Plane;

use super::color::srgb_lut;

/// Premultiplied linear-RGB + alpha planes of the garment texture.
pub struct Texture {
    pub rgb: [Plane; 3],
    pub alpha: Plane,
    /// 1 on logo/print boxes (soft edges), 0 elsewhere.
    pub logo: Plane,
    /// 1 where the texel is plain base fabric (close to the dominant colour),
    /// at half the texture's resolution.
    pub fabric: Plane,
}

impl Texture {
    pub fn sample(&self, u: f32, v: f32) -> ([f32; 3], f32) {
        let a = self.alpha.sample(u, v);
        let rgb = [
            self.rgb[0].sample(u, v),
            self.rgb[1].sample(u, v),
            self.rgb[2].sample(u, v),
        ];
        (rgb, a)
    }
}

/// The texture with the garment landmarks in its pixels.
pub struct GarmentTexture {
    pub texture: Texture,
    /// The garment's fit with its landmarks in texture pixels.
    pub fit: GarmentFit,
    /// Texture pixels per product-photo pixel.
    pub scale: f32,
}

impl GarmentTexture {
    /// Resamples the product so that its reference width (a top's or
    /// dress's shoulders, a bottom's waistband) spans about 1.25 × what it
    /// covers on the body, `body_width` (bilinear sampling of a 2–4×
    /// larger product photo would alias), and builds the texture planes
    /// with the branding weight `brand` as the logos' unsharp amount.
    pub fn prepare(garment: &GarmentInput, body_width: f32, brand: f32) -> GarmentTexture {
        let g_w = reference_width(&garment.fit);
        let k = (body_width / g_w * 1.25).min(1.0);
        let tex_img = prescale(&garment.photo, &garment.mask, k);
        let kx = tex_img.0.width() as f32 / garment.photo.width() as f32;
        let fit = match &garment.fit {
            GarmentFit::Top(l) => GarmentFit::Top(l.scaled(kx)),
            GarmentFit::Dress(l) => GarmentFit::Dress(l.scaled(kx)),
            GarmentFit::Bottom(b) => GarmentFit::Bottom(b.scaled(kx)),
        };
        let branding: Vec<[f32; 4]> = garment
            .branding
            .iter()
            .map(|b| {
                [
                    b[0] as f32 * kx,
                    b[1] as f32 * kx,
                    b[2] as f32 * kx,
                    b[3] as f32 * kx,
                ]
            })
            .collect();
        let neck = match &fit {
            GarmentFit::Top(l) | GarmentFit::Dress(l) => Some(l),
            GarmentFit::Bottom(_) => None,
        };
        let texture = build_texture(
            &tex_img.0,
            neck,
            reference_width(&fit),
            &branding,
            garment.dominant,
            brand,
        );
        GarmentTexture {
            texture,
            fit,
            scale: kx,
        }
    }
}

/// The garment's reference width: shoulder to shoulder, or the waistband.
pub fn reference_width(fit: &GarmentFit) -> f32 {
    match fit {
        GarmentFit::Top(l) | GarmentFit::Dress(l) => l.shoulder_left.dist(l.shoulder_right),
        GarmentFit::Bottom(b) => b.waist_width(),
    }
}

/// Resizes the product photo and mask by `k` (≤ 1) with a proper
/// reconstruction filter; alpha = photo alpha × mask.
pub(crate) fn prescale(photo: &RgbaImage, mask: &GrayImage, k: f32) -> (RgbaImage, GrayImage) {
    // The mask is folded into the alpha channel; the returned mask is only
    // kept at full size when no scaling happens (callers use the alpha).
    let mut rgba = photo.clone();
    for (p, m) in rgba.pixels_mut().zip(mask.pixels()) {
        p.0[3] = ((p.0[3] as u16 * m.0[0] as u16) / 255) as u8;
    }
    if k >= 0.95 {
        return (rgba, mask.clone());
    }
    let (nw, nh) = (
        ((photo.width() as f32 * k).round() as u32).max(8),
        ((photo.height() as f32 * k).round() as u32).max(8),
    );
    // Premultiply so transparent pixels' colours do not bleed into edges.
    let mut pre = rgba.clone();
    for p in pre.pixels_mut() {
        let a = p.0[3] as u16;
        for c in 0..3 {
            p.0[c] = ((p.0[c] as u16 * a) / 255) as u8;
        }
    }
    let mut small = image::imageops::resize(&pre, nw, nh, FilterType::Triangle);
    for p in small.pixels_mut() {
        let a = p.0[3] as u16;
        for c in 0..3 {
            if let Some(v) = (p.0[c] as u16 * 255 + a / 2).checked_div(a) {
                p.0[c] = v.min(255) as u8;
            }
        }
    }
    (small, GrayImage::new(0, 0))
}

/// The texture planes. `neck` (a top's landmarks) cuts the back of the
/// neckline open; `g_sw` (the reference width) scales the collar band and
/// the logo boxes' feathering.
pub(crate) fn build_texture(
    img: &RgbaImage,
    neck: Option<&GarmentLandmarks>,
    g_sw: f32,
    branding: &[[f32; 4]],
    dominant: Lab,
    brand: f32,
) -> Texture {
    let (w, h) = img.dimensions();
    let mut alpha = Plane {
        w,
        h,
        data: img.pixels().map(|p| p.0[3] as f32 / 255.0).collect(),
    };
    // The back of the neckline (seen through the neck hole in a flat lay)
    // would cover the wearer's neck: cut the hole open above the front
    // collar, leaving the collar band.
    if let Some(gl) = neck {
        cut_neck_hole(&mut alpha, gl, g_sw);
    }

    // Branding: soft box weights.
    let mut logo = Plane::new(w, h, 0.0);
    for b in branding {
        let pad = 0.02 * g_sw;
        let (x0, y0, x1, y1) = (b[0] - pad, b[1] - pad, b[0] + b[2] + pad, b[1] + b[3] + pad);
        for y in (y0.max(0.0) as u32)..(y1.min(h as f32).max(0.0) as u32) {
            for x in (x0.max(0.0) as u32)..(x1.min(w as f32).max(0.0) as u32) {
                let (fx, fy) = (x as f32 + 0.5, y as f32 + 0.5);
                let edge = (fx - x0).min(x1 - fx).min(fy - y0).min(y1 - fy);
                let i = logo.idx(x, y);
                logo.data[i] = logo.data[i].max(smoothstep(0.0, pad.max(1.0), edge));
            }
        }
    }
    let lin: [Plane; 3] = std::array::from_fn(|c| Plane {
        w,
        h,
        data: img.pixels().map(|p| srgb_lut()[p.0[c] as usize]).collect(),
    });
    // Unsharp mask on the logos: amount = branding weight.
    let lin = if brand > 0.0 && logo.data.iter().any(|v| *v > 0.0) {
        let blurred: Vec<Plane> = lin.iter().map(|p| crate::plane::box_blur(p, 1)).collect();
        std::array::from_fn(|c| Plane {
            w,
            h,
            data: (0..(w * h) as usize)
                .map(|i| {
                    let amt = 0.8 * brand * logo.data[i];
                    (lin[c].data[i] + amt * (lin[c].data[i] - blurred[c].data[i])).clamp(0.0, 1.0)
                })
                .collect(),
        })
    } else {
        lin
    };
    // Plain-fabric weight at half resolution: it only weighs the colour
    // correction and selects the pixels the ΔE report measures, and
    // CIEDE2000 per texel is the texture's largest cost.
    let (hw, hh) = (w.div_ceil(2), h.div_ceil(2));
    let fabric = Plane {
        w: hw,
        h: hh,
        data: (0..(hw * hh) as usize)
            .into_par_iter()
            .map(|i| {
                let (x, y) = ((i as u32 % hw) * 2, (i as u32 / hw) * 2);
                let p = img.get_pixel(x.min(w - 1), y.min(h - 1)).0;
                if p[3] == 0 {
                    return 0.0;
                }
                let l = srgb_to_lab([p[0], p[1], p[2]]);
                let d =
                    delta_e2000_weighted(l, dominant, garmax_vision::branding::SHADING_TOLERANT);
                1.0 - smoothstep(6.0, 9.0, d)
            })
            .collect(),
    };
    let rgb = std::array::from_fn(|c| lin[c].zip_with(&alpha, |v, a| v * a));
    Texture {
        rgb,
        alpha,
        logo,
        fabric,
    }
}

/// Opens the neck hole above the front collar, leaving a collar band.
fn cut_neck_hole(alpha: &mut Plane, gl: &GarmentLandmarks, g_sw: f32) {
    let (w, h) = (alpha.w, alpha.h);
    let band = 0.035 * g_sw;
    let (nl, nr, cc) = (gl.neck_left, gl.neck_right, gl.collar_centre);
    let curve = |x: f32| {
        // Parabola through the three collar points (vertex at the centre).
        let side = if x < cc.x { nl } else { nr };
        let dx = side.x - cc.x;
        if dx.abs() < 1.0 {
            return cc.y;
        }
        cc.y + (side.y - cc.y) * ((x - cc.x) / dx).powi(2)
    };
    if nl.x < nr.x && cc.y > nl.y.min(nr.y) {
        for y in 0..h {
            for x in (nl.x.max(0.0) as u32)..(nr.x.min(w as f32) as u32) {
                let (fx, fy) = (x as f32 + 0.5, y as f32 + 0.5);
                let top = curve(fx) - band;
                if fy < top {
                    let i = alpha.idx(x, y);
                    // Soft edge over ~2 texels.
                    alpha.data[i] *= smoothstep(-2.0, 0.0, fy - top);
                }
            }
        }
    }
}

/// Centre of each sleeve's cuff in texture pixels: the centroid of the
/// sleeve's texels in the outer fifth of its length, measured from the
/// shoulder along the direction to the sleeve's centroid. A sleeve too
/// small to measure (or none) gives its sleeve-end landmark.
pub(crate) fn sleeve_cuffs(alpha: &Plane, gl: &GarmentLandmarks) -> [P2; 2] {
    let mut cuffs = gl.sleeve_ends();
    let mut texels: [Vec<P2>; 2] = [Vec::new(), Vec::new()];
    for y in 0..alpha.h {
        for x in 0..alpha.w {
            if alpha.get(x, y) < 0.5 {
                continue;
            }
            let q = P2::new(x as f32 + 0.5, y as f32 + 0.5);
            if let Some((s, d)) = gl.sleeve_of(q)
                && d > 1.0
            {
                texels[s].push(q);
            }
        }
    }
    for s in 0..2 {
        if texels[s].len() <= 10 {
            continue;
        }
        let shoulder = gl.shoulders()[s];
        let axis = P2::centroid(&texels[s])
            .minus(shoulder)
            .unit_or(P2::new(0.0, 1.0));
        let along = |q: &P2| q.minus(shoulder).dot(axis);
        let len = texels[s].iter().map(along).fold(0.0f32, f32::max);
        let cuff: Vec<P2> = texels[s]
            .iter()
            .copied()
            .filter(|q| along(q) >= 0.8 * len)
            .collect();
        if !cuff.is_empty() {
            cuffs[s] = P2::centroid(&cuff);
        }
    }
    cuffs
}

pub(crate) fn alpha_bbox(alpha: &Plane) -> Option<[f32; 4]> {
    let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
    for y in 0..alpha.h {
        for x in 0..alpha.w {
            if alpha.get(x, y) > 0.0 {
                x0 = x0.min(x);
                y0 = y0.min(y);
                x1 = x1.max(x + 1);
                y1 = y1.max(y + 1);
            }
        }
    }
    (x0 < x1 && y0 < y1).then_some([x0 as f32, y0 as f32, x1 as f32, y1 as f32])
}

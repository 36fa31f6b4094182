//! Renders that imitate what a warping renderer does to a print, for the
//! branding validator: the product garment bent by a smooth non-rigid
//! displacement (thin-plate-like bumps), seen in perspective, 10–25 %
//! larger or smaller than expected, turned a little, under shading with
//! folds; and the box the renderer would report for the print mapped by the
//! rigid part only and off by 20–40 % of the garment's width (what the
//! validator met on real renders: "misplaced by 30–52 %" while visibly
//! present).
//!
//! Damaged variants use the same warp: the print blurred in the render, the
//! whole render blurred, the print removed, or replaced by another
//! product's print.

use garmax_vision::color::{delta_e2000, srgb_to_lab};
use garmax_vision::mask::ON;
use garmax_vision::rng::SplitMix64;
use image::{GrayImage, Luma, Rgba, RgbaImage};

use super::{Composite, Product, blur_where};
use crate::imgops::Gray;

/// One random warp and look.
#[derive(Debug, Clone)]
pub struct Warp {
    /// Size change against the expected scale (±10–25 %).
    pub scale_change: f32,
    pub rotation_deg: f32,
    /// Projective terms per output pixel (keystone).
    pub perspective: [f32; 2],
    /// Smooth displacement bumps: centre and radius in garment widths
    /// around the garment's centre, displacement in garment widths.
    pub bumps: Vec<([f32; 2], f32, [f32; 2])>,
    /// Where the reported print box is off, in garment widths.
    pub box_error: [f32; 2],
    /// Folds: (amplitude, wavelength in garment widths, direction in
    /// degrees, phase) of two sinusoidal shadings.
    pub folds: [(f32, f32, f32, f32); 2],
}

impl Warp {
    pub fn random(rng: &mut SplitMix64) -> Warp {
        let sign = |rng: &mut SplitMix64| if rng.chance(0.5) { 1.0 } else { -1.0 };
        let scale_change = sign(rng) * rng.range(0.10, 0.25);
        let bumps = (0..3)
            .map(|_| {
                (
                    [rng.range(-0.3, 0.3), rng.range(-0.4, 0.4)],
                    rng.range(0.2, 0.35),
                    [rng.range(-0.06, 0.06), rng.range(-0.06, 0.06)],
                )
            })
            .collect();
        let err = rng.range(0.20, 0.40);
        let dir = rng.range(0.0, std::f32::consts::TAU);
        let fold = |rng: &mut SplitMix64| {
            (
                rng.range(0.12, 0.28),
                rng.range(0.15, 0.4),
                rng.range(0.0, 180.0),
                rng.range(0.0, std::f32::consts::TAU),
            )
        };
        let folds = [fold(rng), fold(rng)];
        Warp {
            scale_change,
            rotation_deg: rng.range(-8.0, 8.0),
            perspective: [rng.range(-3e-4, 3e-4), rng.range(-3e-4, 3e-4)],
            bumps,
            box_error: [err * dir.cos(), err * dir.sin()],
            folds,
        }
    }
}

/// What to do to the render.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrintDamage {
    None,
    /// The print's pixels box-blurred with this radius.
    PrintBlurred(u32),
    /// The whole render box-blurred twice with this radius.
    RenderBlurred(u32),
    Removed,
    /// Replaced by the main print of another product.
    Replaced,
}

/// A copy of `product` whose branding region `index` shows `other`'s
/// region `other_index` instead: the other print's decoration (pixels far
/// from its fabric colour), resized into the box, on this product's fabric.
pub fn with_print_of(
    product: &Product,
    index: usize,
    other: &Product,
    other_index: usize,
) -> Product {
    let mut out = product.without_logo(index);
    let (Some(r), Some(o)) = (
        product.analysis.branding.regions.get(index),
        other.analysis.branding.regions.get(other_index),
    ) else {
        return out;
    };
    let fabric = other.analysis.colors.dominant.lab;
    let [x0, y0, bw, bh] = r.bbox;
    let [ox, oy, ow, oh] = o.bbox;
    let (w, h) = out.image.dimensions();
    for y in y0..(y0 + bh).min(h) {
        for x in x0..(x0 + bw).min(w) {
            if product.mask.get_pixel(x, y).0[0] != ON {
                continue;
            }
            let sx = (ox + (x - x0) * ow / bw.max(1)).min(other.image.width() - 1);
            let sy = (oy + (y - y0) * oh / bh.max(1)).min(other.image.height() - 1);
            let p = other.image.get_pixel(sx, sy).0;
            if delta_e2000(srgb_to_lab([p[0], p[1], p[2]]), fabric) > 10.0 {
                out.image.put_pixel(x, y, Rgba([p[0], p[1], p[2], 255]));
            }
        }
    }
    out
}

fn srgb_to_linear(c: f32) -> f32 {
    let c = c / 255.0;
    if c <= 0.04045 {
        c / 12.92
    } else {
        ((c + 0.055) / 1.055).powf(2.4)
    }
}

fn linear_to_srgb(c: f32) -> f32 {
    let c = c.clamp(0.0, 1.0);
    255.0
        * if c <= 0.003_130_8 {
            c * 12.92
        } else {
            1.055 * c.powf(1.0 / 2.4) - 0.055
        }
}

/// One case: `product`'s main print `print` through `warp` on a `size`
/// canvas, damaged by `damage` (`other` and its print `other_print` give
/// the replacement).
pub fn render_case(
    product: &Product,
    print: usize,
    other: (&Product, usize),
    size: [u32; 2],
    warp: &Warp,
    damage: PrintDamage,
) -> Composite {
    match damage {
        PrintDamage::Removed => {
            warped_render(&product.without_logo(print), size, warp, print, damage)
        }
        PrintDamage::Replaced => warped_render(
            &with_print_of(product, print, other.0, other.1),
            size,
            warp,
            print,
            damage,
        ),
        _ => warped_render(product, size, warp, print, damage),
    }
}

/// The product garment on a `size` canvas (garment ≈ 60 % of its width)
/// through `warp`, with `damage`'s blur applied (a removed or replaced
/// print is the caller's product photo). `print` is the branding region
/// whose box is reported off by the warp's box error (the others are
/// reported as the rigid part maps them).
pub fn warped_render(
    product: &Product,
    size: [u32; 2],
    warp: &Warp,
    print: usize,
    damage: PrintDamage,
) -> Composite {
    let (w, h) = (size[0], size[1]);
    let Some(pb) = garmax_vision::mask::bounding_box(&product.mask) else {
        return Composite {
            image: RgbaImage::from_pixel(w, h, Rgba([200, 200, 205, 255])),
            garment_mask: GrayImage::new(w, h),
            logo_boxes: Vec::new(),
            shoulder_width: 1.0,
        };
    };
    let garment_w_product = (pb[2] - pb[0] + 1) as f32;
    let base = 0.6 * w as f32 / garment_w_product;
    let scale = base * (1.0 + warp.scale_change);
    let garment_w = garment_w_product * scale;
    // Shrink the product to about the target scale first (area filter), as
    // a renderer's mip level would, so the warp does not alias the print.
    let shrink = scale.clamp(0.05, 1.0);
    let (pw, ph) = product.image.dimensions();
    let (sw, sh) = (
        ((pw as f32) * shrink).round().max(1.0) as u32,
        ((ph as f32) * shrink).round().max(1.0) as u32,
    );
    let filter = image::imageops::FilterType::Triangle;
    let small = image::imageops::resize(&product.image, sw, sh, filter);
    let small_mask = image::imageops::resize(&product.mask, sw, sh, filter);
    let mut print_ind = GrayImage::new(pw, ph);
    if let Some(r) = product.analysis.branding.regions.get(print) {
        let [x0, y0, bw, bh] = r.bbox;
        for y in y0..(y0 + bh).min(ph) {
            for x in x0..(x0 + bw).min(pw) {
                print_ind.put_pixel(x, y, Luma([255]));
            }
        }
    }
    let small_print = image::imageops::resize(&print_ind, sw, sh, filter);
    let k = sw as f32 / pw as f32;
    let channel = |img: &RgbaImage, c: usize| Gray {
        width: img.width() as usize,
        height: img.height() as usize,
        data: img.pixels().map(|p| f32::from(p.0[c])).collect(),
    };
    let plane = |m: &GrayImage| Gray {
        width: m.width() as usize,
        height: m.height() as usize,
        data: m.pixels().map(|p| f32::from(p.0[0]) / 255.0).collect(),
    };
    let (cr, cg, cb) = (channel(&small, 0), channel(&small, 1), channel(&small, 2));
    let (alpha_src, print_src) = (plane(&small_mask), plane(&small_print));
    let c_src = [(pb[0] + pb[2]) as f32 / 2.0, (pb[1] + pb[3]) as f32 / 2.0];
    let c_dst = [w as f32 / 2.0, h as f32 * 0.55];
    let (sin, cos) = warp.rotation_deg.to_radians().sin_cos();
    // Output pixel → product pixel: undo the keystone, the rotation and
    // scale, then the bend (a field defined on the product side).
    let to_product = |x: f32, y: f32| {
        let (qx, qy) = (x - c_dst[0], y - c_dst[1]);
        let den = 1.0 - warp.perspective[0] * qx - warp.perspective[1] * qy;
        let (qx, qy) = (qx / den, qy / den);
        let (rx, ry) = (
            (cos * qx + sin * qy) / scale,
            (-sin * qx + cos * qy) / scale,
        );
        let (mut ux, mut uy) = (rx, ry);
        for (c, r, disp) in &warp.bumps {
            let (cx, cy) = (c[0] * garment_w_product, c[1] * garment_w_product);
            let rr = r * garment_w_product;
            let g = (-((rx - cx).powi(2) + (ry - cy).powi(2)) / (2.0 * rr * rr)).exp();
            ux -= g * disp[0] * garment_w_product;
            uy -= g * disp[1] * garment_w_product;
        }
        [c_src[0] + ux, c_src[1] + uy]
    };
    let mut image = RgbaImage::from_fn(w, h, |_, y| {
        // A plain studio backdrop with a soft vertical gradient.
        let v = 215.0 - 30.0 * y as f32 / h as f32;
        Rgba([v as u8, v as u8, (v + 6.0).min(255.0) as u8, 255])
    });
    let mut garment_mask = GrayImage::new(w, h);
    let mut print_mask = GrayImage::new(w, h);
    for y in 0..h {
        for x in 0..w {
            let [px, py] = to_product(x as f32, y as f32);
            let (sx, sy) = ((px + 0.5) * k - 0.5, (py + 0.5) * k - 0.5);
            let a = alpha_src.sample(sx, sy).unwrap_or(0.0);
            if a <= 0.0 {
                continue;
            }
            let (fx, fy) = (x as f32 / garment_w, y as f32 / garment_w);
            let mut light = 1.0 - 0.15 * (y as f32 / h as f32 - 0.5);
            for (amp, wl, dir, phase) in warp.folds {
                let (s, c) = dir.to_radians().sin_cos();
                light *= 1.0 + amp * ((fx * c + fy * s) / wl * std::f32::consts::TAU + phase).sin();
            }
            let out = image.get_pixel_mut(x, y);
            for (o, ch) in out.0.iter_mut().zip([&cr, &cg, &cb]) {
                let v = ch.sample(sx, sy).unwrap_or(0.0);
                let shaded = linear_to_srgb(srgb_to_linear(v) * light);
                *o = (a * shaded + (1.0 - a) * f32::from(*o))
                    .round()
                    .clamp(0.0, 255.0) as u8;
            }
            if a >= 0.5 {
                garment_mask.put_pixel(x, y, Luma([ON]));
            }
            if print_src.sample(sx, sy).unwrap_or(0.0) > 0.0 {
                print_mask.put_pixel(x, y, Luma([ON]));
            }
        }
    }
    match damage {
        PrintDamage::PrintBlurred(r) => blur_where(&mut image, &print_mask, r, 1),
        PrintDamage::RenderBlurred(r) => {
            let all = GrayImage::from_pixel(w, h, Luma([ON]));
            blur_where(&mut image, &all, r, 2);
        }
        _ => {}
    }
    // The boxes a renderer reports: the rigid part of the warp (scale,
    // rotation, centre), without the bend and keystone; the print's box
    // further off by the box error.
    let rigid = |p: [f32; 2]| {
        let (dx, dy) = ((p[0] - c_src[0]) * scale, (p[1] - c_src[1]) * scale);
        [
            c_dst[0] + cos * dx - sin * dy,
            c_dst[1] + sin * dx + cos * dy,
        ]
    };
    let logo_boxes = product
        .analysis
        .branding
        .regions
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let [x, y, bw, bh] = crate::imgops::box_through(r.bbox.map(|v| v as f32), rigid);
            let (ex, ey) = if i == print {
                (warp.box_error[0] * garment_w, warp.box_error[1] * garment_w)
            } else {
                (0.0, 0.0)
            };
            Some([x + ex, y + ey, bw, bh])
        })
        .collect();
    Composite {
        image,
        garment_mask,
        logo_boxes,
        shoulder_width: garment_w / 1.12,
    }
}

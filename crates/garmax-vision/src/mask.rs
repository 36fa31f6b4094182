//! Separating the garment from the rest of a product photo.
//!
//! Cut-out photos carry the answer in their alpha channel. Photos on a plain
//! or near-plain backdrop are segmented by growing the background inward from
//! the image border: a pixel joins the background when it resembles the
//! backdrop *and* differs only slightly from the background neighbour that
//! reached it. Soft shadows darken gradually, so they are absorbed; a garment
//! edge is a step, so growth stops there — even for a white tee on a white
//! sweep, whose edge is faint but sudden.

use std::collections::VecDeque;

use image::{GrayImage, Luma, RgbaImage};
use imageproc::distance_transform::Norm;
use serde::Serialize;

use crate::color::{Lab, srgb_to_lab};

/// A binary mask stored as 0/255 so `imageproc`'s morphology applies to it.
pub type Mask = GrayImage;

pub const ON: u8 = 255;

/// How the mask was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MaskSource {
    Alpha,
    Background,
}

/// The garment mask and the backdrop it was separated from.
#[derive(Debug, Clone)]
pub struct GarmentMask {
    pub mask: Mask,
    pub source: MaskSource,
    /// Median backdrop colour, when segmented from a backdrop.
    pub background: Option<Lab>,
}

/// Alpha below this is treated as see-through: product cut-outs keep their
/// drop shadow as dark, half-transparent pixels, which are not garment.
const ALPHA_SOLID: u8 = 200;

/// Builds the garment mask. Returns the mask with the largest connected
/// garment region only; the caller decides whether it is large enough.
pub fn garment_mask(rgba: &RgbaImage, use_alpha: bool) -> GarmentMask {
    if use_alpha && alpha_is_informative(rgba) {
        let mut mask = GrayImage::from_fn(rgba.width(), rgba.height(), |x, y| {
            Luma([if rgba.get_pixel(x, y).0[3] >= ALPHA_SOLID {
                ON
            } else {
                0
            }])
        });
        clean(&mut mask);
        return GarmentMask {
            mask,
            source: MaskSource::Alpha,
            background: None,
        };
    }
    let (mut mask, background) = grow_background(rgba);
    clean(&mut mask);
    GarmentMask {
        mask,
        source: MaskSource::Background,
        background: Some(background),
    }
}

/// An alpha channel that is opaque everywhere says nothing about the garment.
fn alpha_is_informative(rgba: &RgbaImage) -> bool {
    let transparent = rgba.pixels().filter(|p| p.0[3] < ALPHA_SOLID).count();
    transparent * 50 > rgba.pixels().len()
}

/// Removes specks and thin bridges, keeps the largest component and fills
/// small enclosed holes (stitching gaps, glare), but not large ones.
fn clean(mask: &mut Mask) {
    let radius = ((mask.width().min(mask.height()) as f32) / 256.0)
        .round()
        .max(1.0) as u8;
    *mask = imageproc::morphology::open(mask, Norm::LInf, radius);
    keep_largest_component(mask);
    fill_small_holes(mask, 0.002);
}

/// Keeps only the largest 4-connected region of `ON` pixels.
pub fn keep_largest_component(mask: &mut Mask) {
    let labels = imageproc::region_labelling::connected_components(
        mask,
        imageproc::region_labelling::Connectivity::Four,
        Luma([0u8]),
    );
    let mut sizes: Vec<usize> = Vec::new();
    for l in labels.pixels() {
        let l = l.0[0] as usize;
        if l >= sizes.len() {
            sizes.resize(l + 1, 0);
        }
        sizes[l] += 1;
    }
    let Some((best, _)) = sizes.iter().enumerate().skip(1).max_by_key(|(_, n)| **n) else {
        return;
    };
    for (m, l) in mask.pixels_mut().zip(labels.pixels()) {
        m.0[0] = if l.0[0] as usize == best { ON } else { 0 };
    }
}

/// Fills background regions not connected to the border whose area is below
/// `max_fraction` of the image.
fn fill_small_holes(mask: &mut Mask, max_fraction: f32) {
    let (w, h) = mask.dimensions();
    let mut inverted = mask.clone();
    for p in inverted.pixels_mut() {
        p.0[0] = if p.0[0] == ON { 0 } else { ON };
    }
    let labels = imageproc::region_labelling::connected_components(
        &inverted,
        imageproc::region_labelling::Connectivity::Four,
        Luma([0u8]),
    );
    let mut sizes: Vec<usize> = Vec::new();
    let mut touches_border: Vec<bool> = Vec::new();
    for (x, y, l) in labels.enumerate_pixels() {
        let l = l.0[0] as usize;
        if l >= sizes.len() {
            sizes.resize(l + 1, 0);
            touches_border.resize(l + 1, false);
        }
        sizes[l] += 1;
        if x == 0 || y == 0 || x + 1 == w || y + 1 == h {
            touches_border[l] = true;
        }
    }
    let limit = (max_fraction * (w * h) as f32) as usize;
    for (m, l) in mask.pixels_mut().zip(labels.pixels()) {
        let l = l.0[0] as usize;
        if l != 0 && !touches_border[l] && sizes[l] <= limit {
            m.0[0] = ON;
        }
    }
}

/// Lightness is divided by this before comparing a pixel with the backdrop
/// when the pixel is darker: shadows are darker backdrop.
const SHADOW_LIGHTNESS_SLACK: f32 = 4.0;
/// How unlike the backdrop model a pixel may be and still be backdrop.
const BACKDROP_TOLERANCE: f32 = 9.0;
/// Largest colour step between neighbours inside the backdrop; garment edges
/// are larger steps.
const BACKDROP_STEP: f32 = 2.6;

fn grow_background(rgba: &RgbaImage) -> (Mask, Lab) {
    let (w, h) = rgba.dimensions();
    let lab: Vec<Lab> = rgba
        .pixels()
        .map(|p| srgb_to_lab([p.0[0], p.0[1], p.0[2]]))
        .collect();
    let idx = |x: u32, y: u32| (y * w + x) as usize;

    let mut border = Vec::new();
    for x in 0..w {
        border.push(idx(x, 0));
        border.push(idx(x, h - 1));
    }
    for y in 1..h.saturating_sub(1) {
        border.push(idx(0, y));
        border.push(idx(w - 1, y));
    }
    let backdrop = median_lab(border.iter().map(|&i| lab[i]));

    let likeness = |c: Lab| {
        let dl = c.l - backdrop.l;
        let dl = if dl < 0.0 {
            dl / SHADOW_LIGHTNESS_SLACK
        } else {
            dl
        };
        (dl * dl + (c.a - backdrop.a).powi(2) + (c.b - backdrop.b).powi(2)).sqrt()
    };

    let mut is_background = vec![false; lab.len()];
    let mut queue = VecDeque::new();
    for &i in &border {
        if !is_background[i] && likeness(lab[i]) <= BACKDROP_TOLERANCE * 1.5 {
            is_background[i] = true;
            queue.push_back(i);
        }
    }
    while let Some(i) = queue.pop_front() {
        let (x, y) = ((i as u32) % w, (i as u32) / w);
        let here = lab[i];
        let neighbours = [
            (x > 0).then(|| i - 1),
            (x + 1 < w).then(|| i + 1),
            (y > 0).then(|| i - w as usize),
            (y + 1 < h).then(|| i + w as usize),
        ];
        for j in neighbours.into_iter().flatten() {
            if is_background[j] {
                continue;
            }
            let c = lab[j];
            if likeness(c) <= BACKDROP_TOLERANCE && c.dist2(here).sqrt() <= BACKDROP_STEP {
                is_background[j] = true;
                queue.push_back(j);
            }
        }
    }
    let mask = GrayImage::from_fn(w, h, |x, y| {
        Luma([if is_background[idx(x, y)] { 0 } else { ON }])
    });
    (mask, backdrop)
}

/// Per-channel median, robust to a garment touching the border.
pub fn median_lab(colors: impl Iterator<Item = Lab>) -> Lab {
    let mut l = Vec::new();
    let mut a = Vec::new();
    let mut b = Vec::new();
    for c in colors {
        l.push(c.l);
        a.push(c.a);
        b.push(c.b);
    }
    Lab::new(median(&mut l), median(&mut a), median(&mut b))
}

/// Median of a slice (reorders it); 0 for an empty slice.
pub fn median(values: &mut [f32]) -> f32 {
    if values.is_empty() {
        return 0.0;
    }
    let mid = values.len() / 2;
    let (_, m, _) = values.select_nth_unstable_by(mid, f32::total_cmp);
    *m
}

/// Number of `ON` pixels.
pub fn area(mask: &Mask) -> usize {
    mask.pixels().filter(|p| p.0[0] == ON).count()
}

/// Tight bounding box `[x0, y0, x1, y1]` (inclusive) of the `ON` pixels.
pub fn bounding_box(mask: &Mask) -> Option<[u32; 4]> {
    let mut bb: Option<[u32; 4]> = None;
    for (x, y, p) in mask.enumerate_pixels() {
        if p.0[0] == ON {
            bb = Some(match bb {
                None => [x, y, x, y],
                Some([x0, y0, x1, y1]) => [x0.min(x), y0.min(y), x1.max(x), y1.max(y)],
            });
        }
    }
    bb
}

/// Intersection over union of two masks of the same size.
pub fn iou(a: &Mask, b: &Mask) -> f32 {
    let (mut inter, mut union) = (0usize, 0usize);
    for (p, q) in a.pixels().zip(b.pixels()) {
        let (p, q) = (p.0[0] == ON, q.0[0] == ON);
        inter += usize::from(p && q);
        union += usize::from(p || q);
    }
    if union == 0 {
        1.0
    } else {
        inter as f32 / union as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgba;

    fn scene(shadow: bool) -> (RgbaImage, Mask) {
        let (w, h) = (120, 100);
        let mut img = RgbaImage::from_pixel(w, h, Rgba([246, 246, 244, 255]));
        let mut truth = GrayImage::new(w, h);
        for y in 0..h {
            for x in 0..w {
                let inside = (30..90).contains(&x) && (20..80).contains(&y);
                if inside {
                    img.put_pixel(x, y, Rgba([236, 236, 236, 255]));
                    truth.put_pixel(x, y, Luma([ON]));
                } else if shadow {
                    // A soft shadow to the lower right, fading over ~12 px.
                    let dx = (x as f32 - 89.0).max(0.0);
                    let dy = (y as f32 - 79.0).max(0.0);
                    let near = (36..102).contains(&x) && (26..92).contains(&y);
                    if near {
                        let d = dx.hypot(dy).min(12.0);
                        let k = 1.0 - 0.25 * (1.0 - d / 12.0);
                        let v = (246.0 * k) as u8;
                        img.put_pixel(x, y, Rgba([v, v, (244.0 * k) as u8, 255]));
                    }
                }
            }
        }
        (img, truth)
    }

    #[test]
    fn white_garment_on_white_backdrop_is_found() {
        let (img, truth) = scene(false);
        let m = garment_mask(&img, true);
        assert_eq!(m.source, MaskSource::Background);
        assert!(iou(&m.mask, &truth) > 0.95, "iou {}", iou(&m.mask, &truth));
    }

    #[test]
    fn soft_shadow_does_not_become_garment() {
        let (img, truth) = scene(true);
        let m = garment_mask(&img, false);
        assert!(iou(&m.mask, &truth) > 0.93, "iou {}", iou(&m.mask, &truth));
    }

    #[test]
    fn alpha_cut_out_ignores_half_transparent_shadow() {
        let mut img = RgbaImage::from_pixel(50, 50, Rgba([0, 0, 0, 0]));
        for y in 10..40 {
            for x in 10..40 {
                img.put_pixel(x, y, Rgba([200, 30, 30, 255]));
            }
            for x in 40..46 {
                img.put_pixel(x, y, Rgba([20, 20, 20, 120]));
            }
        }
        let m = garment_mask(&img, true);
        assert_eq!(m.source, MaskSource::Alpha);
        assert_eq!(bounding_box(&m.mask), Some([10, 10, 39, 39]));
    }

    #[test]
    fn uniform_image_has_no_garment() {
        let img = RgbaImage::from_pixel(64, 64, Rgba([90, 120, 200, 255]));
        let m = garment_mask(&img, true);
        assert_eq!(area(&m.mask), 0);
    }

    #[test]
    fn median_is_robust() {
        let mut v = vec![1.0, 100.0, 2.0, 3.0, -50.0];
        assert_eq!(median(&mut v), 2.0);
    }
}

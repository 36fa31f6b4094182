//! The garment's region in the generated image.
//!
//! The renderer knows where it put the garment and passes that mask. When
//! it does not (a render from elsewhere, `garmax validate` on two files),
//! the region is estimated: with the reference photo of the same size, as
//! the largest region the try-on changed; otherwise as the pixels whose
//! colour is within shading distance of the product's fabric colour or
//! palette. Either way the largest connected blob, with holes (logos,
//! prints) filled. The estimate is honest about being
//! one: results say so in their feedback.

use std::collections::VecDeque;

use garmax_vision::color::{DeltaEWeights, Lab, delta_e2000_weighted, srgb_to_lab};
use garmax_vision::mask::{Mask, ON, area, bounding_box, keep_largest_component};
use image::imageops::FilterType;
use image::{GrayImage, Luma};

use crate::validator::ValidationInput;

/// Shading-tolerant ΔE2000 within which a pixel may belong to the garment
/// when the region is estimated. Wide on purpose: a render whose colour is
/// off must still be found, so the colour validator can say by how much.
const ESTIMATE_DELTA_E: f32 = 22.0;

/// Lightness counts less than hue and chroma (lighting), but not as little
/// as in `SHADING_TOLERANT`: a grey tee must not merge with a white wall.
const ESTIMATE_WEIGHTS: DeltaEWeights = DeltaEWeights {
    k_l: 1.5,
    k_c: 1.2,
    k_h: 1.0,
};

/// Longest side at which the region is estimated; the result is scaled up.
const ESTIMATE_SIZE: u32 = 256;

#[derive(Debug, Clone)]
pub struct GarmentRegion {
    /// Same size as the generated image.
    pub mask: Mask,
    /// `[x0, y0, x1, y1]` inclusive; `None` when empty.
    pub bbox: Option<[u32; 4]>,
    pub area: usize,
    /// True when the mask was estimated rather than given.
    pub estimated: bool,
    /// How it was obtained: `given`, `changed-vs-reference` or `product-colours`.
    pub method: &'static str,
}

impl GarmentRegion {
    pub fn build(input: &ValidationInput<'_>) -> GarmentRegion {
        let (w, h) = input.generated.dimensions();
        let given = input.garment_mask.filter(|m| m.dimensions() == (w, h));
        let (mask, method) = match given {
            Some(m) => {
                // Accept any non-zero value as "garment"; renderers may hand
                // soft masks.
                let m = GrayImage::from_fn(w, h, |x, y| {
                    Luma([if m.get_pixel(x, y).0[0] >= 128 { ON } else { 0 }])
                });
                (m, "given")
            }
            None => estimate(input),
        };
        let estimated = method != "given";
        let bbox = bounding_box(&mask);
        let area = area(&mask);
        GarmentRegion {
            mask,
            bbox,
            area,
            estimated,
            method,
        }
    }

    pub fn contains(&self, x: u32, y: u32) -> bool {
        self.mask
            .get_pixel_checked(x, y)
            .is_some_and(|p| p.0[0] == ON)
    }
}

/// Colour difference (CIE76 on the reduced images) above which a pixel
/// counts as changed by the try-on.
const CHANGE_DELTA_E: f32 = 12.0;

fn estimate(input: &ValidationInput<'_>) -> (Mask, &'static str) {
    let img = input.generated;
    let (w, h) = img.dimensions();
    if w < 4 || h < 4 {
        return (GrayImage::new(w, h), "product-colours");
    }
    let scale = (w.max(h) as f32 / ESTIMATE_SIZE as f32).max(1.0);
    let (sw, sh) = (
        ((w as f32 / scale).round() as u32).max(1),
        ((h as f32 / scale).round() as u32).max(1),
    );
    let small = image::imageops::resize(img, sw, sh, FilterType::Triangle);
    // With the person photo the render was made from, the garment is what
    // changed: a far better cue than colour when the backdrop or the
    // person's own clothes resemble the product.
    if let Some(reference) = input.reference.filter(|r| r.dimensions() == (w, h)) {
        let before = image::imageops::resize(reference, sw, sh, FilterType::Triangle);
        let mut m = GrayImage::from_fn(sw, sh, |x, y| {
            let (p, q) = (small.get_pixel(x, y).0, before.get_pixel(x, y).0);
            let d = srgb_to_lab([p[0], p[1], p[2]])
                .dist2(srgb_to_lab([q[0], q[1], q[2]]))
                .sqrt();
            Luma([if d > CHANGE_DELTA_E { ON } else { 0 }])
        });
        m = imageproc::morphology::open(&m, imageproc::distance_transform::Norm::LInf, 1);
        if area(&m) as f32 > 0.01 * (sw * sh) as f32 {
            keep_largest_component(&mut m);
            m = imageproc::morphology::close(&m, imageproc::distance_transform::Norm::LInf, 2);
            fill_holes(&mut m);
            return (
                image::imageops::resize(&m, w, h, FilterType::Nearest),
                "changed-vs-reference",
            );
        }
    }
    let colors = &input.product.analysis.colors;
    let mut refs: Vec<Lab> = vec![colors.dominant.lab];
    // Palette entries that are a real part of the garment (not specks).
    refs.extend(
        colors
            .palette
            .iter()
            .filter(|s| s.share >= 0.05)
            .map(|s| s.lab),
    );
    let mut m = GrayImage::from_fn(sw, sh, |x, y| {
        let p = small.get_pixel(x, y).0;
        if p[3] < 128 {
            return Luma([0]);
        }
        let lab = srgb_to_lab([p[0], p[1], p[2]]);
        let near = refs
            .iter()
            .any(|&r| delta_e2000_weighted(lab, r, ESTIMATE_WEIGHTS) < ESTIMATE_DELTA_E);
        Luma([if near { ON } else { 0 }])
    });
    m = imageproc::morphology::open(&m, imageproc::distance_transform::Norm::LInf, 1);
    if area(&m) == 0 {
        return (GrayImage::new(w, h), "product-colours");
    }
    keep_largest_component(&mut m);
    fill_holes(&mut m);
    (
        image::imageops::resize(&m, w, h, FilterType::Nearest),
        "product-colours",
    )
}

/// Sets every background pixel not connected to the border: prints and
/// logos inside the garment become part of it.
pub fn fill_holes(mask: &mut Mask) {
    let (w, h) = mask.dimensions();
    let (wu, hu) = (w as usize, h as usize);
    let mut outside = vec![false; wu * hu];
    let mut queue = VecDeque::new();
    for y in 0..h {
        for x in 0..w {
            if (x == 0 || y == 0 || x == w - 1 || y == h - 1) && mask.get_pixel(x, y).0[0] != ON {
                outside[y as usize * wu + x as usize] = true;
                queue.push_back((x, y));
            }
        }
    }
    while let Some((x, y)) = queue.pop_front() {
        let neighbours = [
            (x.wrapping_sub(1), y),
            (x + 1, y),
            (x, y.wrapping_sub(1)),
            (x, y + 1),
        ];
        for (nx, ny) in neighbours {
            if nx < w && ny < h {
                let i = ny as usize * wu + nx as usize;
                if !outside[i] && mask.get_pixel(nx, ny).0[0] != ON {
                    outside[i] = true;
                    queue.push_back((nx, ny));
                }
            }
        }
    }
    for (i, p) in mask.pixels_mut().enumerate() {
        if !outside[i] {
            p.0[0] = ON;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holes_are_filled_but_open_bays_are_not() {
        let mut m = GrayImage::new(10, 10);
        for y in 2..8 {
            for x in 2..8 {
                m.put_pixel(x, y, Luma([ON]));
            }
        }
        m.put_pixel(4, 4, Luma([0]));
        m.put_pixel(2, 5, Luma([0]));
        fill_holes(&mut m);
        assert_eq!(m.get_pixel(4, 4).0[0], ON);
        assert_eq!(m.get_pixel(2, 5).0[0], 0, "touches the outside");
        assert_eq!(m.get_pixel(0, 0).0[0], 0);
    }
}

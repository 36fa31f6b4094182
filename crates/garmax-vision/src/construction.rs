//! Cues from the cloth's construction and the mask's outline: whether a
//! placket runs down from the neck (polo, shirt), how ragged the outline is
//! and which frame borders it runs into (a close-up or a crop is not a whole
//! garment).
//!
//! The placket reads lightness edges of the plain fabric — the garment mask
//! minus decoration — so a print or a logo does not pass for a seam.
//! Coordinates are the mask's pixels.

use image::{GrayImage, RgbaImage};

use crate::color::srgb_to_lab;
use crate::mask::{Mask, ON};

/// Lightness step (CIE L*) that counts as a seam, rib or collar edge: the
/// weave and soft folds of a plain fabric stay below it.
const EDGE_STEP: f32 = 9.0;

/// The plain-fabric image the cues read: lightness where the mask is on and
/// no decoration is, `None` elsewhere.
pub struct PlainLightness {
    width: u32,
    height: u32,
    l: Vec<Option<f32>>,
}

impl PlainLightness {
    pub fn new(image: &RgbaImage, plain: &GrayImage) -> PlainLightness {
        let (width, height) = plain.dimensions();
        let l = plain
            .enumerate_pixels()
            .map(|(x, y, m)| {
                (m.0[0] == ON).then(|| {
                    let p = image.get_pixel(x, y).0;
                    srgb_to_lab([p[0], p[1], p[2]]).l
                })
            })
            .collect();
        PlainLightness { width, height, l }
    }

    fn at(&self, x: f32, y: f32) -> Option<f32> {
        if x < 0.0 || y < 0.0 {
            return None;
        }
        let (x, y) = (x as u32, y as u32);
        if x >= self.width || y >= self.height {
            return None;
        }
        self.l[(y * self.width + x) as usize]
    }

    /// A vertical edge (lightness changes going across) at `(x, y)`.
    fn vertical_edge(&self, x: f32, y: f32) -> bool {
        match (self.at(x - 2.0, y), self.at(x + 2.0, y)) {
            (Some(a), Some(b)) => (a - b).abs() > EDGE_STEP,
            _ => false,
        }
    }
}

/// A placket: vertical seams and buttons in a narrow band under the neck
/// centre, more of them than in the fabric beside it (an all-over print has
/// edges everywhere, a plain tee nowhere). Returns the centre band's density
/// of vertical edges minus that of the bands beside it, over the rows from
/// `from_y` down `0.2 × body width`.
pub fn placket_contrast(plain: &PlainLightness, centre: f32, from_y: f32, hem_width: f32) -> f32 {
    let band = 0.045 * hem_width;
    let side_from = 0.12 * hem_width;
    let side_to = 0.2 * hem_width;
    let (mut centre_hits, mut centre_n, mut side_hits, mut side_n) = (0usize, 0usize, 0, 0);
    let mut y = from_y;
    while y <= from_y + 0.2 * hem_width {
        let mut x = centre - side_to;
        while x <= centre + side_to {
            let d = (x - centre).abs();
            let in_centre = d <= band;
            let in_side = (side_from..=side_to).contains(&d);
            if (in_centre || in_side) && plain.at(x, y).is_some() {
                let hit = usize::from(plain.vertical_edge(x, y));
                if in_centre {
                    centre_n += 1;
                    centre_hits += hit;
                } else {
                    side_n += 1;
                    side_hits += hit;
                }
            }
            x += 1.0;
        }
        y += 1.0;
    }
    let frac = |h: usize, n: usize| if n == 0 { 0.0 } else { h as f32 / n as f32 };
    frac(centre_hits, centre_n) - frac(side_hits, side_n)
}

/// Outline pixels (on, with an off 4-neighbour) / √area: about 4 for a
/// square, 5–8 for a garment laid flat, far more for the lacy mask a close-up
/// of a print leaves when its backdrop is grown.
pub fn outline_raggedness(mask: &Mask) -> f32 {
    let (w, h) = mask.dimensions();
    let on = |x: i64, y: i64| {
        x >= 0
            && y >= 0
            && x < w as i64
            && y < h as i64
            && mask.get_pixel(x as u32, y as u32).0[0] == ON
    };
    let (mut area, mut outline) = (0usize, 0usize);
    for y in 0..h as i64 {
        for x in 0..w as i64 {
            if !on(x, y) {
                continue;
            }
            area += 1;
            if !(on(x - 1, y) && on(x + 1, y) && on(x, y - 1) && on(x, y + 1)) {
                outline += 1;
            }
        }
    }
    if area == 0 {
        0.0
    } else {
        outline as f32 / (area as f32).sqrt()
    }
}

/// The share of each frame border (top, bottom, left, right) the mask runs
/// along: a garment photographed whole touches none.
pub fn border_runs(mask: &Mask) -> [f32; 4] {
    let (w, h) = mask.dimensions();
    let on = |x: u32, y: u32| usize::from(mask.get_pixel(x, y).0[0] == ON);
    let share = |n: usize, len: u32| n as f32 / len as f32;
    [
        share((0..w).map(|x| on(x, 0)).sum(), w),
        share((0..w).map(|x| on(x, h - 1)).sum(), w),
        share((0..h).map(|y| on(0, y)).sum(), h),
        share((0..h).map(|y| on(w - 1, y)).sum(), h),
    ]
}

/// How many frame borders the mask runs along for more than 2 % of their
/// length.
pub fn borders_touched(runs: &[f32; 4]) -> usize {
    runs.iter().filter(|r| **r > 0.02).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(size: u32, from: u32, to: u32) -> Mask {
        GrayImage::from_fn(size, size, |x, y| {
            let inside = (from..to).contains(&x) && (from..to).contains(&y);
            image::Luma([if inside { ON } else { 0 }])
        })
    }

    #[test]
    fn a_square_is_smooth_and_touches_no_border() {
        let m = square(100, 20, 80);
        let r = outline_raggedness(&m);
        assert!((3.8..4.1).contains(&r), "{r}");
        assert_eq!(borders_touched(&border_runs(&m)), 0);
    }

    #[test]
    fn a_crop_touches_the_borders_it_runs_into() {
        let m = square(100, 0, 60);
        assert_eq!(borders_touched(&border_runs(&m)), 2);
        assert_eq!(border_runs(&m), [0.6, 0.0, 0.6, 0.0]);
        assert_eq!(borders_touched(&border_runs(&square(100, 0, 100))), 4);
    }

    #[test]
    fn a_checkerboard_is_ragged() {
        let m = GrayImage::from_fn(64, 64, |x, y| {
            image::Luma([if (x / 2 + y / 2) % 2 == 0 { ON } else { 0 }])
        });
        assert!(outline_raggedness(&m) > 20.0);
    }

    #[test]
    fn a_centre_seam_makes_a_placket_and_plain_cloth_does_not() {
        let mut image = RgbaImage::from_pixel(200, 200, image::Rgba([200, 60, 60, 255]));
        let plain = GrayImage::from_pixel(200, 200, image::Luma([ON]));
        let flat = PlainLightness::new(&image, &plain);
        assert!(placket_contrast(&flat, 100.0, 40.0, 160.0).abs() < 0.01);
        for y in 40..120 {
            for x in [95, 96, 104, 105] {
                image.put_pixel(x, y, image::Rgba([90, 20, 20, 255]));
            }
        }
        let seamed = PlainLightness::new(&image, &plain);
        assert!(placket_contrast(&seamed, 100.0, 40.0, 160.0) > 0.2);
    }
}

//! Logos, prints and text on the garment: regions whose colour departs from
//! the base fabric by more than shading could explain.

use image::{GrayImage, Luma, RgbaImage};
use imageproc::distance_transform::Norm;
use serde::Serialize;

use crate::color::{DeltaEWeights, Lab, delta_e2000_weighted, srgb_to_lab};
use crate::mask::{Mask, ON};

/// How a decoration was applied, as far as pixels can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BrandingKind {
    /// Ink in the fabric: follows the fabric's shading and texture.
    Print,
    /// Raised thread: strong fine texture inside the motif.
    Embroidery,
    /// A flat film pressed on: uniform, ignores the fabric's shading.
    HeatTransfer,
}

/// One decorated region, in the coordinates of the image it was found in.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BrandingRegion {
    /// `[x, y, width, height]`.
    pub bbox: [u32; 4],
    pub kind: BrandingKind,
    pub kind_confidence: f32,
    /// Fraction of the garment's area covered by the motif's pixels.
    pub area_share: f32,
    /// The motif's mean colour.
    pub ink: Lab,
}

/// Shading changes lightness (and, in sRGB, chroma) far more than hue; these
/// weights make a pixel in a fold look like fabric and a white print not.
pub const SHADING_TOLERANT: DeltaEWeights = DeltaEWeights {
    k_l: 3.0,
    k_c: 1.6,
    k_h: 1.0,
};

/// ΔE2000 (shading-tolerant) above which a pixel is decoration, not fabric.
const DECORATION_THRESHOLD: f32 = 9.0;

/// Per-pixel flag: is this garment pixel unlike the fabric?
pub fn decoration_mask(
    image: &RgbaImage,
    mask: &Mask,
    fabric: Lab,
    garment_width: f32,
) -> GrayImage {
    // Seams, hems and the outline blend with the backdrop; only the interior
    // can hold a logo worth reporting.
    let inset = ((garment_width * 0.015).round() as u8).max(1);
    let interior = imageproc::morphology::erode(mask, Norm::LInf, inset);
    GrayImage::from_fn(image.width(), image.height(), |x, y| {
        if interior.get_pixel(x, y).0[0] != ON {
            return Luma([0]);
        }
        let p = image.get_pixel(x, y).0;
        let c = srgb_to_lab([p[0], p[1], p[2]]);
        // Most garment pixels are plain fabric in some light; a cheap box
        // test settles them before the full CIEDE2000. The box is well inside
        // the threshold: |ΔL| < 12 with k_L = 3 and |Δa|, |Δb| < 2.5 give
        // ΔE2000 below 6 everywhere in the gamut.
        let plain = (c.l - fabric.l).abs() < 12.0
            && (c.a - fabric.a).abs() < 2.5
            && (c.b - fabric.b).abs() < 2.5;
        if plain {
            return Luma([0]);
        }
        let d = delta_e2000_weighted(c, fabric, SHADING_TOLERANT);
        Luma([if d > DECORATION_THRESHOLD { ON } else { 0 }])
    })
}

/// Finds decorated regions. `garment_area` is the mask's pixel count.
pub fn find_branding(
    image: &RgbaImage,
    mask: &Mask,
    fabric: Lab,
    garment_width: f32,
    garment_area: usize,
) -> (Vec<BrandingRegion>, GrayImage) {
    let mut ink = decoration_mask(image, mask, fabric, garment_width);
    remove_construction_lines(&mut ink, mask);
    // Close gaps between letters and strokes so a word is one region.
    let bridge = ((garment_width * 0.02).round() as u8).max(1);
    let mut grouped = imageproc::morphology::close(&ink, Norm::LInf, bridge);
    grouped = imageproc::morphology::open(&grouped, Norm::LInf, 1);
    let labels = imageproc::region_labelling::connected_components(
        &grouped,
        imageproc::region_labelling::Connectivity::Eight,
        Luma([0u8]),
    );
    let count = labels.pixels().map(|p| p.0[0]).max().unwrap_or(0) as usize;
    let mut boxes = vec![[u32::MAX, u32::MAX, 0, 0]; count + 1];
    let mut sizes = vec![0usize; count + 1];
    for (x, y, l) in labels.enumerate_pixels() {
        let l = l.0[0] as usize;
        if l == 0 {
            continue;
        }
        let b = &mut boxes[l];
        b[0] = b[0].min(x);
        b[1] = b[1].min(y);
        b[2] = b[2].max(x);
        b[3] = b[3].max(y);
        sizes[l] += 1;
    }
    let min_area = (garment_area as f32 * 0.002).max(12.0) as usize;
    let mut found: Vec<[u32; 4]> = (1..=count)
        .filter(|&l| sizes[l] >= min_area)
        .map(|l| boxes[l])
        .collect();
    merge_touching(&mut found, bridge as u32 * 2);

    let regions = found
        .into_iter()
        .filter_map(|b| describe_region(image, &ink, b, garment_area))
        .collect();
    (regions, ink)
}

/// Zips, plackets, pocket seams and ribbed bands are long, thin, straight
/// runs of "not fabric" pixels: construction, not branding. A pixel is
/// cleared when its run is long in one direction and thin in the other; a
/// logo is thick both ways, so it survives even where a zip crosses it.
fn remove_construction_lines(ink: &mut GrayImage, mask: &Mask) {
    let Some([x0, y0, x1, y1]) = crate::mask::bounding_box(mask) else {
        return;
    };
    let (gw, gh) = ((x1 - x0) as f32, (y1 - y0) as f32);
    let vertical = run_lengths(ink, true);
    let horizontal = run_lengths(ink, false);
    let (long_v, thin_h) = ((gh * 0.3) as u32, (gw * 0.05) as u32);
    let (long_h, thin_v) = ((gw * 0.3) as u32, (gh * 0.05) as u32);
    for (i, p) in ink.pixels_mut().enumerate() {
        let (v, h) = (vertical[i], horizontal[i]);
        if (v >= long_v && h <= thin_h) || (h >= long_h && v <= thin_v) {
            p.0[0] = 0;
        }
    }
}

/// For every pixel, the length of the run of ON pixels through it, along
/// columns (`vertical`) or rows.
fn run_lengths(img: &GrayImage, vertical: bool) -> Vec<u32> {
    let (w, h) = img.dimensions();
    let mut out = vec![0u32; (w * h) as usize];
    let (outer, inner) = if vertical { (w, h) } else { (h, w) };
    for o in 0..outer {
        let at = |i: u32| if vertical { (o, i) } else { (i, o) };
        let mut start = 0;
        for i in 0..=inner {
            let on = i < inner && {
                let (x, y) = at(i);
                img.get_pixel(x, y).0[0] == ON
            };
            if !on {
                for j in start..i {
                    let (x, y) = at(j);
                    out[(y * w + x) as usize] = i - start;
                }
                start = i + 1;
            }
        }
    }
    out
}

fn merge_touching(boxes: &mut Vec<[u32; 4]>, gap: u32) {
    let near = |a: &[u32; 4], b: &[u32; 4]| {
        a[0] <= b[2] + gap && b[0] <= a[2] + gap && a[1] <= b[3] + gap && b[1] <= a[3] + gap
    };
    let mut merged = true;
    while merged {
        merged = false;
        'outer: for i in 0..boxes.len() {
            for j in i + 1..boxes.len() {
                if near(&boxes[i], &boxes[j]) {
                    let b = boxes.remove(j);
                    let a = &mut boxes[i];
                    *a = [
                        a[0].min(b[0]),
                        a[1].min(b[1]),
                        a[2].max(b[2]),
                        a[3].max(b[3]),
                    ];
                    merged = true;
                    break 'outer;
                }
            }
        }
    }
}

fn describe_region(
    image: &RgbaImage,
    ink: &GrayImage,
    b: [u32; 4],
    garment_area: usize,
) -> Option<BrandingRegion> {
    let [x0, y0, x1, y1] = b;
    let mut lab = Vec::new();
    let mut solid_texture = Vec::new();
    let l_at = |x: u32, y: u32| {
        let p = image.get_pixel(x, y).0;
        srgb_to_lab([p[0], p[1], p[2]]).l
    };
    let is_ink = |x: u32, y: u32| ink.get_pixel(x, y).0[0] == ON;
    for y in y0..=y1 {
        for x in x0..=x1 {
            if !is_ink(x, y) {
                continue;
            }
            let p = image.get_pixel(x, y).0;
            lab.push(srgb_to_lab([p[0], p[1], p[2]]));
            // Texture is judged only where the motif is solid: along thin
            // strokes every pixel is an edge, which says nothing about thread.
            let solid = x >= x0 + 2
                && y >= y0 + 2
                && x + 2 <= x1
                && y + 2 <= y1
                && (0..25).all(|k| is_ink(x + k % 5 - 2, y + k / 5 - 2));
            if solid {
                let lap = 4.0 * l_at(x, y)
                    - l_at(x - 1, y)
                    - l_at(x + 1, y)
                    - l_at(x, y - 1)
                    - l_at(x, y + 1);
                solid_texture.push(lap.abs());
            }
        }
    }
    if lab.is_empty() {
        return None;
    }
    let n = lab.len() as f32;
    let mean = Lab::new(
        lab.iter().map(|c| c.l).sum::<f32>() / n,
        lab.iter().map(|c| c.a).sum::<f32>() / n,
        lab.iter().map(|c| c.b).sum::<f32>() / n,
    );
    let l_std = (lab.iter().map(|c| (c.l - mean.l).powi(2)).sum::<f32>() / n).sqrt();
    let (kind, kind_confidence) = if solid_texture.len() < 30 {
        // Line art and small type: too little solid area to see thread or
        // film, and such detail is almost always printed.
        (BrandingKind::Print, 0.55)
    } else {
        let texture = solid_texture.iter().sum::<f32>() / solid_texture.len() as f32;
        if texture > 9.0 {
            (
                BrandingKind::Embroidery,
                (0.5 + (texture - 9.0) / 20.0).min(0.9),
            )
        } else if l_std < 1.6 && texture < 2.5 {
            (
                BrandingKind::HeatTransfer,
                (0.5 + (1.6 - l_std) / 3.0).min(0.85),
            )
        } else {
            (
                BrandingKind::Print,
                (0.5 + (9.0 - texture) / 18.0).clamp(0.5, 0.85),
            )
        }
    };
    Some(BrandingRegion {
        bbox: [x0, y0, x1 - x0 + 1, y1 - y0 + 1],
        kind,
        kind_confidence,
        area_share: n / garment_area.max(1) as f32,
        ink: mean,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgba;

    fn tee_with_logo(logo: Option<[u8; 3]>) -> (RgbaImage, Mask) {
        let mut img = RgbaImage::from_pixel(200, 200, Rgba([250, 250, 250, 255]));
        let mut mask = GrayImage::new(200, 200);
        for y in 20..180 {
            for x in 30..170 {
                // Gentle vertical folds.
                let shade = 1.0 + 0.08 * ((x as f32) * 0.12).sin();
                let c = [
                    (40.0 * shade) as u8,
                    (90.0 * shade) as u8,
                    (170.0 * shade) as u8,
                ];
                img.put_pixel(x, y, Rgba([c[0], c[1], c[2], 255]));
                mask.put_pixel(x, y, Luma([ON]));
            }
        }
        if let Some(ink) = logo {
            for y in 60..90 {
                for x in 80..130 {
                    img.put_pixel(x, y, Rgba([ink[0], ink[1], ink[2], 255]));
                }
            }
        }
        (img, mask)
    }

    #[test]
    fn finds_a_logo_box() {
        let (img, mask) = tee_with_logo(Some([245, 240, 230]));
        let fabric = srgb_to_lab([40, 90, 170]);
        let (regions, _) = find_branding(&img, &mask, fabric, 140.0, 140 * 160);
        assert_eq!(regions.len(), 1, "{regions:?}");
        assert_eq!(regions[0].bbox, [80, 60, 50, 30]);
        assert_eq!(regions[0].kind, BrandingKind::HeatTransfer);
    }

    /// The shortcut in `decoration_mask` must never hide a pixel the full
    /// formula would flag.
    #[test]
    fn plain_fabric_shortcut_is_inside_the_threshold() {
        let mut worst = 0.0f32;
        for l in (5..=95).step_by(5) {
            for a in (-80..=80).step_by(8) {
                for b in (-80..=80).step_by(8) {
                    let fabric = Lab::new(l as f32, a as f32, b as f32);
                    for (dl, da, db) in [
                        (11.9, 2.49, 2.49),
                        (-11.9, -2.49, 2.49),
                        (11.9, -2.49, -2.49),
                        (-11.9, 2.49, -2.49),
                    ] {
                        let c = Lab::new(fabric.l + dl, fabric.a + da, fabric.b + db);
                        worst = worst.max(delta_e2000_weighted(c, fabric, SHADING_TOLERANT));
                    }
                }
            }
        }
        assert!(worst < DECORATION_THRESHOLD, "worst {worst}");
    }

    #[test]
    fn folds_alone_are_not_branding() {
        let (img, mask) = tee_with_logo(None);
        let fabric = srgb_to_lab([40, 90, 170]);
        let (regions, _) = find_branding(&img, &mask, fabric, 140.0, 140 * 160);
        assert!(regions.is_empty(), "{regions:?}");
    }
}

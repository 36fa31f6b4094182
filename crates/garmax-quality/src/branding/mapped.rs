//! The print read through the renderer's product map.
//!
//! A renderer that warps the product photo knows which product pixel each
//! render pixel shows ([`ProductMap`]); the print is then not searched for.
//! The product photo is resampled through the map onto the render's own
//! pixel grid, and the render must show that resampled print:
//!
//! - *presence*: the zero-mean NCC of render and resampled print over the
//!   print's visible pixels (a flat logo with a margin of fabric, as in the
//!   search), both reduced so the print is ≈ [`FEATURE_SIZE`] long and their
//!   light divided out (the person's lighting and the transferred folds);
//! - *sharpness*: the correlation of the two sides' finest detail (each
//!   minus its 3 × 3 mean), on the same pixels: the renderer's gain on
//!   detail does not count, a blur leaves nothing to correlate; the product
//!   is resampled as an ideal renderer would (the mean over each render
//!   pixel's footprint), so it carries all the detail the render could;
//! - *placement*: the placed print's centre against the nearer of the
//!   expected boxes (the landmark-mapped box, the print's relative place in
//!   the garment), so a warp that tore the print off its place fails;
//! - *orientation*: a map that mirrors the print (its Jacobian's
//!   determinant is negative) means the print reads backwards: not present.
//!
//! A print mostly behind the body (crossed arms over a chest print) is
//! reported hidden, not judged; one too small on the render for the map to
//! say anything is left to the search.

use garmax_core::product_map::ProductMap;

use super::{
    FEATURE_LIGHT_RADIUS, FEATURE_SIZE, Measured, RegionMatch, detail_ratio, flatten_shading_with,
    ramp,
};
use crate::imgops::Gray;
use crate::region::GarmentRegion;

/// Fewest render pixels the placed print must cover for the map to judge
/// it; a smaller print is left to the search.
const MIN_PRINT_PIXELS: usize = 64;

/// Share of the placed print that must be visible (not behind an arm or
/// hair) for it to be judged.
const MIN_VISIBLE: f32 = 0.5;

/// What the map says about one branding region.
pub(super) enum MapVerdict {
    Judged(RegionMatch),
    /// The print lies mostly behind the body: nothing to judge.
    Hidden,
    /// The map cannot say (the print is too small on the render or not
    /// placed at all); the search decides.
    Unknown,
}

/// A product box `[x, y, w, h]` in product pixels, as a test on map points.
#[derive(Clone, Copy)]
struct ProductBox([f32; 4]);

impl ProductBox {
    fn contains(&self, uv: [f32; 2]) -> bool {
        let b = self.0;
        uv[0] >= b[0] && uv[0] < b[0] + b[2] && uv[1] >= b[1] && uv[1] < b[1] + b[3]
    }
}

/// Inclusive pixel bounds `[x0, y0, x1, y1]`, grown point by point.
#[derive(Clone, Copy)]
struct Bounds(Option<[u32; 4]>);

impl Bounds {
    fn add(&mut self, x: u32, y: u32) {
        self.0 = Some(match self.0 {
            None => [x, y, x, y],
            Some(b) => [b[0].min(x), b[1].min(y), b[2].max(x), b[3].max(y)],
        });
    }
}

/// The print's pixels on the render, read off the map.
struct PrintPixels {
    /// Placed print pixels, visible or hidden.
    placed: usize,
    visible: usize,
    /// Bounds of the visible print and of its visible context (the print
    /// with its margin).
    print: [u32; 4],
    context: [u32; 4],
    /// Centre of every placed print pixel.
    centre: [f32; 2],
    /// Sign of the map's Jacobian over the visible print (render → product).
    orientation: f32,
    /// Product pixels per render pixel there (the root of the Jacobian's
    /// absolute determinant).
    scale: f32,
}

fn print_pixels(
    map: &ProductMap,
    region: &GarmentRegion,
    print: ProductBox,
    context: ProductBox,
) -> Option<PrintPixels> {
    let (mut placed, mut visible) = (0usize, 0usize);
    let (mut print_bounds, mut context_bounds) = (Bounds(None), Bounds(None));
    let mut centre = [0.0f64; 2];
    // Sums for the cross-covariance of render and product coordinates.
    let (mut sx, mut sy, mut su, mut sv) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    let (mut sxu, mut sxv, mut syu, mut syv) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    let (mut sxx, mut syy, mut sxy) = (0.0f64, 0.0f64, 0.0f64);
    for y in 0..map.height() {
        for x in 0..map.width() {
            let Some(uv) = map.get(x, y) else { continue };
            let seen = region.contains(x, y);
            if seen && context.contains(uv) {
                context_bounds.add(x, y);
            }
            if !print.contains(uv) {
                continue;
            }
            placed += 1;
            centre[0] += f64::from(x) + 0.5;
            centre[1] += f64::from(y) + 0.5;
            if !seen {
                continue;
            }
            visible += 1;
            print_bounds.add(x, y);
            let (fx, fy, fu, fv) = (
                f64::from(x),
                f64::from(y),
                f64::from(uv[0]),
                f64::from(uv[1]),
            );
            (sx, sy, su, sv) = (sx + fx, sy + fy, su + fu, sv + fv);
            (sxu, sxv, syu, syv) = (sxu + fx * fu, sxv + fx * fv, syu + fy * fu, syv + fy * fv);
            (sxx, syy, sxy) = (sxx + fx * fx, syy + fy * fy, sxy + fx * fy);
        }
    }
    if placed == 0 {
        return None;
    }
    let n = visible.max(1) as f64;
    let cov = |sab: f64, sa: f64, sb: f64| sab / n - (sa / n) * (sb / n);
    // det of [[cov(x,u), cov(y,u)], [cov(x,v), cov(y,v)]]: its sign is the
    // sign of the least-squares affine map's determinant.
    let det = cov(sxu, sx, su) * cov(syv, sy, sv) - cov(syu, sy, su) * cov(sxv, sx, sv);
    let det_render = cov(sxx, sx, sx) * cov(syy, sy, sy) - cov(sxy, sx, sy).powi(2);
    let scale = if det_render > 1e-9 {
        (det.abs() / det_render).sqrt() as f32
    } else {
        1.0
    };
    Some(PrintPixels {
        placed,
        visible,
        print: print_bounds.0.unwrap_or([0; 4]),
        context: context_bounds.0.or(print_bounds.0).unwrap_or([0; 4]),
        centre: [
            (centre[0] / placed as f64) as f32,
            (centre[1] / placed as f64) as f32,
        ],
        orientation: det.signum() as f32,
        scale,
    })
}

/// The render and the product print resampled through the map, over one
/// window of the render, with the mask of the print's visible pixels.
struct Resampled {
    render: Gray,
    print: Gray,
    /// 1 on the visible print (with its margin), 0 elsewhere.
    mask: Gray,
}

/// Cuts `window` (`[x0, y0, x1, y1]` inclusive) out of the render and fills
/// the same grid with the product resampled through the map where the
/// garment is seen; elsewhere the print copy takes the render's own value,
/// so both sides agree there.
fn resample(
    product: &Product,
    render: &Gray,
    map: &ProductMap,
    region: &GarmentRegion,
    context: ProductBox,
    window: [u32; 4],
) -> Resampled {
    let (w, h) = (
        (window[2] - window[0] + 1) as usize,
        (window[3] - window[1] + 1) as usize,
    );
    let render = render.crop(window[0] as usize, window[1] as usize, w, h);
    let mut print = render.clone();
    let mut mask = Gray::new(w, h);
    for j in 0..h {
        for i in 0..w {
            let (x, y) = (window[0] + i as u32, window[1] + j as u32);
            let Some(uv) = map.get(x, y).filter(|_| region.contains(x, y)) else {
                continue;
            };
            if let Some(v) = product.sample(uv) {
                print.data[j * w + i] = v;
            }
            if context.contains(uv) {
                mask.data[j * w + i] = 1.0;
            }
        }
    }
    Resampled {
        render,
        print,
        mask,
    }
}

/// The product photo around the print, averaged over each render pixel's
/// footprint (`scale` product pixels square) as an ideal resampling would:
/// point samples of a photo several times larger would alias into detail
/// the render never had, and reducing first and then interpolating would
/// blur it twice.
struct Product {
    crop: Gray,
    /// Summed-area table of `crop`, `(w + 1) × (h + 1)`.
    integral: Vec<f64>,
    /// Product pixel of the crop's origin.
    origin: [f32; 2],
    /// Half the footprint's side, product pixels.
    half: f32,
}

impl Product {
    /// `product` cut to `area` (product pixels, `[x, y, w, h]`), sampled
    /// with footprints of `scale` product pixels per render pixel.
    fn around(product: &Gray, area: [f32; 4], scale: f32) -> Product {
        let x0 = area[0].floor().max(0.0) as usize;
        let y0 = area[1].floor().max(0.0) as usize;
        let x1 = ((area[0] + area[2]).ceil().max(0.0) as usize).min(product.width);
        let y1 = ((area[1] + area[3]).ceil().max(0.0) as usize).min(product.height);
        let crop = product.crop(x0, y0, x1.saturating_sub(x0), y1.saturating_sub(y0));
        let (w, h) = (crop.width, crop.height);
        let mut integral = vec![0.0f64; (w + 1) * (h + 1)];
        for y in 0..h {
            let mut row = 0.0f64;
            for x in 0..w {
                row += f64::from(crop.at(x, y));
                integral[(y + 1) * (w + 1) + x + 1] = integral[y * (w + 1) + x + 1] + row;
            }
        }
        Product {
            crop,
            integral,
            origin: [x0 as f32, y0 as f32],
            half: 0.5 * scale,
        }
    }

    /// The product at map point `uv` (pixel centres at `x + 0.5`): the mean
    /// over the footprint when it spans more than a pixel, else bilinear.
    fn sample(&self, uv: [f32; 2]) -> Option<f32> {
        let (u, v) = (uv[0] - self.origin[0], uv[1] - self.origin[1]);
        let (w, h) = (self.crop.width, self.crop.height);
        if self.half <= 0.75 {
            return self.crop.sample(u - 0.5, v - 0.5);
        }
        let clamp = |a: f32, n: usize| (a.round().max(0.0) as usize).min(n);
        let (x0, x1) = (clamp(u - self.half, w), clamp(u + self.half, w));
        let (y0, y1) = (clamp(v - self.half, h), clamp(v + self.half, h));
        if x1 <= x0 || y1 <= y0 {
            return None;
        }
        let at = |x: usize, y: usize| self.integral[y * (w + 1) + x];
        let sum = at(x1, y1) - at(x0, y1) - at(x1, y0) + at(x0, y0);
        Some((sum / ((x1 - x0) * (y1 - y0)) as f64) as f32)
    }
}

/// `g` minus its 3 × 3 mean: the finest detail, where a blur takes first.
fn high_pass(g: &Gray) -> Gray {
    let mean = g.box_blur(1);
    Gray {
        width: g.width,
        height: g.height,
        data: g.data.iter().zip(&mean.data).map(|(v, m)| v - m).collect(),
    }
}

/// Zero-mean NCC of `a` and `b` over the pixels where `mask` ≥ ½; `None`
/// when fewer than 16 pixels count or either side is flat there.
fn masked_ncc(a: &Gray, b: &Gray, mask: &Gray) -> Option<f32> {
    let pairs: Vec<(f64, f64)> = (0..a.data.len())
        .filter(|&i| mask.data[i] >= 0.5)
        .map(|i| (f64::from(a.data[i]), f64::from(b.data[i])))
        .collect();
    if pairs.len() < 16 {
        return None;
    }
    let n = pairs.len() as f64;
    let (ma, mb) = pairs
        .iter()
        .fold((0.0, 0.0), |(x, y), (a, b)| (x + a / n, y + b / n));
    let (mut ab, mut aa, mut bb) = (0.0f64, 0.0f64, 0.0f64);
    for (a, b) in pairs {
        ab += (a - ma) * (b - mb);
        aa += (a - ma).powi(2);
        bb += (b - mb).powi(2);
    }
    (aa > 1e-9 && bb > 1e-9).then(|| (ab / (aa * bb).sqrt()) as f32)
}

/// Judges branding region `index` (product box `bbox`, searched with a
/// margin of `pad` box sizes when flat) through the renderer's map.
/// `expected` holds the places the print may rightly be.
#[allow(clippy::too_many_arguments)]
pub(super) fn mapped_match(
    product: &Gray,
    render: &Gray,
    map: &ProductMap,
    region: &GarmentRegion,
    bbox: [u32; 4],
    pad: f32,
    expected: [[f32; 4]; 2],
    garment_w: f32,
    index: usize,
    weight: f32,
) -> MapVerdict {
    if (map.width() as usize, map.height() as usize) != (render.width, render.height) {
        return MapVerdict::Unknown;
    }
    let b = bbox.map(|v| v as f32);
    let print = ProductBox(b);
    let context = ProductBox([
        b[0] - pad * b[2],
        b[1] - pad * b[3],
        b[2] * (1.0 + 2.0 * pad),
        b[3] * (1.0 + 2.0 * pad),
    ]);
    let Some(px) = print_pixels(map, region, print, context) else {
        return MapVerdict::Unknown;
    };
    if px.placed < MIN_PRINT_PIXELS {
        return MapVerdict::Unknown;
    }
    if (px.visible as f32) < MIN_VISIBLE * px.placed as f32 {
        return MapVerdict::Hidden;
    }
    let margin = 3;
    let window = [
        px.print[0].min(px.context[0]).saturating_sub(margin),
        px.print[1].min(px.context[1]).saturating_sub(margin),
        (px.print[2].max(px.context[2]) + margin).min(map.width() - 1),
        (px.print[3].max(px.context[3]) + margin).min(map.height() - 1),
    ];
    // The product around the print with a margin for the bilinear taps.
    let c = context.0;
    let area = [
        c[0] - 4.0 * px.scale,
        c[1] - 4.0 * px.scale,
        c[2] + 8.0 * px.scale,
        c[3] + 8.0 * px.scale,
    ];
    let reduced = Product::around(product, area, px.scale);
    let s = resample(&reduced, render, map, region, context, window);
    // Sharpness on the visible print at the render's resolution.
    let (px0, py0) = (
        (px.print[0] - window[0]) as usize,
        (px.print[1] - window[1]) as usize,
    );
    let (pw, ph) = (
        (px.print[2] - px.print[0] + 1) as usize,
        (px.print[3] - px.print[1] + 1) as usize,
    );
    // Sharpness: the fine detail (each side minus its 3 × 3 mean) must
    // be the product's fine detail. A correlation, so the renderer's own
    // gain on it (the branding knob's unsharp mask, the texture's finer
    // resolution) does not count, while a blur leaves nothing to correlate.
    // Measured on the pipeline's renders (`garmax bench validators`, 12
    // try-ons): good 0.73–0.91, garment blurred 0.00–0.05, print removed
    // −0.06–0.08. The detail-band ratio is reported beside it; it overlaps
    // (good 0.52–0.94, blurred 0.05–0.86).
    let fine = masked_ncc(&high_pass(&s.render), &high_pass(&s.print), &s.mask).unwrap_or(0.0);
    let sharpness_ratio = match (
        detail_ratio(&s.render.crop(px0, py0, pw, ph)),
        detail_ratio(&s.print.crop(px0, py0, pw, ph)),
    ) {
        (Some(r), Some(p)) if p > 1e-6 => r / p,
        _ => 1.0,
    };
    // Presence at the matching scale, light divided out of both sides.
    let d = (pw.max(ph) as f32 / FEATURE_SIZE).max(1.0);
    let size = |g: &Gray| {
        (
            ((g.width as f32 / d).round() as usize).max(1),
            ((g.height as f32 / d).round() as usize).max(1),
        )
    };
    let (rw, rh) = size(&s.render);
    let flat = |g: &Gray| flatten_shading_with(&g.resize(rw, rh), FEATURE_LIGHT_RADIUS);
    let mut ncc = masked_ncc(&flat(&s.render), &flat(&s.print), &s.mask.resize(rw, rh))
        .unwrap_or(0.0)
        .max(0.0);
    let mirrored = px.orientation < 0.0;
    if mirrored {
        ncc = 0.0;
    }
    let offset = expected
        .iter()
        .map(|e| (px.centre[0] - e[0] - e[2] / 2.0).hypot(px.centre[1] - e[1] - e[3] / 2.0))
        .fold(f32::MAX, f32::min)
        / garment_w.max(1.0);
    MapVerdict::Judged(
        Measured {
            method: "map",
            inliers: 0,
            found_box: [px.print[0] as f32, px.print[1] as f32, pw as f32, ph as f32],
            expected_box: expected[0],
            correlation: ncc,
            sharpness_ratio,
            offset_garment_widths: offset,
            presence: ramp(ncc, 0.25, 0.6),
            fine_correlation: Some(fine),
            sharpness: ramp(fine, 0.15, 0.5),
            mirrored,
        }
        .scored(index, weight),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{GrayImage, Luma};

    /// A product photo (a light shirt with a dark print of blocks and
    /// bars in `[60, 60, 80, 60]`), a render of it at half size, turned by
    /// 10° and lit by a gradient, the render's map, and a garment region
    /// holding the whole shirt.
    struct Scene {
        product: Gray,
        render: Gray,
        map: ProductMap,
        region: GarmentRegion,
    }

    const PRINT: [u32; 4] = [60, 60, 80, 60];

    fn product_value(x: f32, y: f32) -> f32 {
        let (px, py) = (x - PRINT[0] as f32, y - PRINT[1] as f32);
        let inside = px >= 0.0 && py >= 0.0 && px < PRINT[2] as f32 && py < PRINT[3] as f32;
        if !inside {
            return 0.85;
        }
        // Blocks of varied size and bars: structure at several scales.
        let block = ((px / 16.0) as i32 + (py / 12.0) as i32) % 2 == 0;
        let bar = ((px + 2.0 * py) / 7.0) as i32 % 3 == 0;
        match (block, bar) {
            (true, true) => 0.1,
            (true, false) => 0.3,
            (false, true) => 0.55,
            (false, false) => 0.8,
        }
    }

    /// Render pixel → product point: the inverse of scale ½ and a 10° turn
    /// about the render's centre (80, 60) ↔ the product's (100, 90).
    fn to_product(x: f32, y: f32, mirror: bool) -> [f32; 2] {
        let (c, s) = (10f32.to_radians().cos(), 10f32.to_radians().sin());
        let dx = if mirror { 80.0 - x } else { x - 80.0 };
        let dy = y - 60.0;
        [
            100.0 + 2.0 * (c * dx - s * dy),
            90.0 + 2.0 * (s * dx + c * dy),
        ]
    }

    fn scene(mirror: bool) -> Scene {
        let mut product = Gray::new(200, 180);
        for y in 0..180 {
            for x in 0..200 {
                product.data[y * 200 + x] = product_value(x as f32 + 0.5, y as f32 + 0.5);
            }
        }
        let (w, h) = (160usize, 120usize);
        let mut render = Gray::new(w, h);
        let mut map = ProductMap::new(w as u32, h as u32);
        let mut mask = GrayImage::new(w as u32, h as u32);
        for y in 0..h {
            for x in 0..w {
                let (fx, fy) = (x as f32 + 0.5, y as f32 + 0.5);
                let uv = to_product(fx, fy, mirror);
                // Area sampling of the product over the render pixel (2 × 2
                // product pixels): what a renderer's prescaled texture gives.
                let mut v = 0.0;
                for (ox, oy) in [(-0.5, -0.5), (0.5, -0.5), (-0.5, 0.5), (0.5, 0.5)] {
                    v += 0.25 * product_value(uv[0] + ox, uv[1] + oy);
                }
                let light = 0.7 + 0.3 * fx / w as f32;
                render.data[y * w + x] = v * light;
                map.set(x as u32, y as u32, uv);
                mask.put_pixel(x as u32, y as u32, Luma([255]));
            }
        }
        let region = GarmentRegion {
            bbox: garmax_vision::mask::bounding_box(&mask),
            area: w * h,
            mask,
            estimated: false,
            method: "given",
        };
        Scene {
            product,
            render,
            map,
            region,
        }
    }

    fn judge(s: &Scene) -> MapVerdict {
        // The print's expected place: its centre on the render.
        let e = [80.0 - 20.0, 60.0 - 15.0, 40.0, 30.0];
        mapped_match(
            &s.product,
            &s.render,
            &s.map,
            &s.region,
            PRINT,
            0.0,
            [e, e],
            150.0,
            0,
            1.0,
        )
    }

    fn judged(s: &Scene) -> RegionMatch {
        match judge(s) {
            MapVerdict::Judged(m) => m,
            MapVerdict::Hidden => panic!("hidden"),
            MapVerdict::Unknown => panic!("unknown"),
        }
    }

    #[test]
    fn a_print_where_the_map_says_scores_high() {
        let m = judged(&scene(false));
        assert!(m.correlation > 0.85, "{m:?}");
        assert!(m.sharpness_ratio > 0.7, "{m:?}");
        assert!(m.offset_garment_widths < 0.02, "{m:?}");
        assert!(m.score > 0.9 && !m.mirrored, "{m:?}");
    }

    #[test]
    fn a_removed_blurred_or_mirrored_print_scores_low() {
        let good = scene(false);
        let mut removed = scene(false);
        for (i, v) in removed.render.data.iter_mut().enumerate() {
            let (x, y) = ((i % 160) as f32 + 0.5, (i / 160) as f32 + 0.5);
            *v = 0.85 * (0.7 + 0.3 * x / 160.0) + 0.002 * ((x * 7.0 + y * 3.0) % 5.0);
        }
        let m = judged(&removed);
        assert!(m.presence < 0.1 && m.score < 0.2, "removed: {m:?}");

        let mut blurred = scene(false);
        // σ ≈ 3 px, 2 % of the render's width: the bench's blur.
        blurred.render = good.render.box_blur(4).box_blur(4);
        let m = judged(&blurred);
        assert!(m.sharpness < 0.6 && m.score < 0.75, "blurred: {m:?}");

        let m = judged(&scene(true));
        assert!(m.mirrored && m.score == 0.0, "mirrored: {m:?}");
    }

    #[test]
    fn a_print_behind_the_body_is_hidden_and_a_tiny_one_unknown() {
        let mut s = scene(false);
        // A forearm across the print: most of it off the garment region.
        for y in 30..95 {
            for x in 0..160 {
                s.region.mask.put_pixel(x, y, Luma([0]));
            }
        }
        assert!(matches!(judge(&s), MapVerdict::Hidden));
        let mut tiny = scene(false);
        tiny.map = ProductMap::new(160, 120);
        tiny.map.set(80, 60, [100.0, 90.0]);
        assert!(matches!(judge(&tiny), MapVerdict::Unknown));
    }
}

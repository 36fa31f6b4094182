//! A deterministic generator of flat-lay product photos with known answers:
//! garment type, base colour, sleeve length, neckline, view (front or back),
//! whether the shot is a close-up detail, and logo box and kind.
//!
//! The photos are drawn the way a studio shot looks to the analysis: a
//! garment of one base colour with soft folds and a little weave noise, an
//! optional logo (printed, embroidered or heat-transferred), on a white or
//! off-white sweep with a soft drop shadow. Polos and shirts carry a collar
//! that stands above the shoulders, flaps and a placket (short, or buttoned
//! down the length); hoodies a hood and drawstrings. A back view has the
//! shallow back neckline at the shoulder line (or a flat collar band) and no
//! placket; a detail shot is a close-up crop that runs off the frame. The
//! same `(kind, shot, seed, size)` always yields the same pixels, so tests
//! can pin numbers.

use image::{GrayImage, Luma, Rgba, RgbaImage};
use imageproc::drawing::{
    draw_filled_circle_mut, draw_filled_ellipse_mut, draw_filled_rect_mut, draw_polygon_mut,
};
use imageproc::point::Point;
use imageproc::rect::Rect;
use serde::Serialize;

use crate::branding::BrandingKind;
use crate::color::{Lab, delta_e2000, lab_to_srgb, srgb_to_lab};
use crate::mask::ON;
use crate::rng::SplitMix64;
use crate::shape::{GarmentType, Neckline, SleeveLength, View};

/// What the generator drew.
#[derive(Debug, Clone, Serialize)]
pub struct GroundTruth {
    pub garment_type: GarmentType,
    /// The fabric's colour before shading.
    pub base_rgb: [u8; 3],
    pub sleeve_length: SleeveLength,
    pub neckline: Neckline,
    pub logo: Option<LogoTruth>,
    pub background_rgb: [u8; 3],
    /// Which side of the garment faces the camera ([`View::Unknown`] for
    /// dresses, skirts and trousers, which are not told apart).
    pub view: View,
    /// A close-up crop: the analysis must refuse it.
    pub detail: bool,
}

/// How the garment is photographed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Shot {
    Front,
    /// Tops only; other kinds are drawn as [`Shot::Front`].
    Back,
    /// A close-up of the chest or waist, cropped out of a front shot.
    Detail,
}

#[derive(Debug, Clone, Serialize)]
pub struct LogoTruth {
    /// `[x, y, width, height]`.
    pub bbox: [u32; 4],
    pub kind: BrandingKind,
    pub ink_rgb: [u8; 3],
}

pub struct SyntheticGarment {
    pub image: RgbaImage,
    /// The garment's true silhouette.
    pub mask: GrayImage,
    pub truth: GroundTruth,
}

/// Generates the `index`-th garment of a test set: types cycle through
/// [`GarmentType::ALL`], everything else comes from `seed`.
pub fn generate_indexed(index: usize, seed: u64, size: u32) -> SyntheticGarment {
    let kind = GarmentType::ALL[index % GarmentType::ALL.len()];
    generate(kind, seed.wrapping_add(index as u64 * 0x1000_0001), size)
}

/// Generates one front photo of a garment of `kind`.
pub fn generate(kind: GarmentType, seed: u64, size: u32) -> SyntheticGarment {
    generate_shot(kind, Shot::Front, seed, size)
}

/// The evaluation set of the type, neckline and view classifier: six front
/// shots of every type, six more polos, shirts and hoodies (the types real
/// catalogues confuse), four back views each of tees, polos, shirts and
/// sweaters, and eight detail crops.
pub fn evaluation_set(seed: u64, size: u32) -> Vec<SyntheticGarment> {
    let mut plan: Vec<(GarmentType, Shot)> = Vec::new();
    for _ in 0..6 {
        plan.extend(GarmentType::ALL.iter().map(|k| (*k, Shot::Front)));
    }
    for _ in 0..6 {
        plan.extend(
            [GarmentType::Polo, GarmentType::Shirt, GarmentType::Hoodie].map(|k| (k, Shot::Front)),
        );
    }
    for _ in 0..4 {
        plan.extend(
            [
                GarmentType::Tshirt,
                GarmentType::Polo,
                GarmentType::Shirt,
                GarmentType::Sweater,
            ]
            .map(|k| (k, Shot::Back)),
        );
    }
    for i in 0..8 {
        plan.push((
            GarmentType::ALL[(i * 3) % GarmentType::ALL.len()],
            Shot::Detail,
        ));
    }
    plan.into_iter()
        .enumerate()
        .map(|(i, (kind, shot))| {
            generate_shot(kind, shot, seed.wrapping_add(i as u64 * 0x1000_0001), size)
        })
        .collect()
}

/// Generates one photo of a garment of `kind` taken as `shot`.
pub fn generate_shot(kind: GarmentType, shot: Shot, seed: u64, size: u32) -> SyntheticGarment {
    let whole = generate_whole(kind, shot == Shot::Back, seed, size);
    if shot == Shot::Detail {
        crop_detail(whole, seed)
    } else {
        whole
    }
}

/// A close-up: a square window of 35–50 % of the frame around the garment's
/// chest (or upper middle), scaled back to the full frame.
fn crop_detail(whole: SyntheticGarment, seed: u64) -> SyntheticGarment {
    let mut rng = SplitMix64::new(seed ^ 0x3c6e_f372_fe94_f82b);
    let size = whole.image.width();
    let [x0, y0, x1, y1] =
        crate::mask::bounding_box(&whole.mask).unwrap_or([0, 0, size - 1, size - 1]);
    let side = (size as f32 * rng.range(0.35, 0.5)) as u32;
    let cx = (x0 + x1) as f32 / 2.0 + (x1 - x0) as f32 * rng.range(-0.1, 0.1);
    let cy = y0 as f32 + (y1 - y0) as f32 * rng.range(0.3, 0.5);
    let left = (cx - side as f32 / 2.0).clamp(0.0, (size - side) as f32) as u32;
    let top = (cy - side as f32 / 2.0).clamp(0.0, (size - side) as f32) as u32;
    let scale = |img: &RgbaImage| {
        let crop = image::imageops::crop_imm(img, left, top, side, side).to_image();
        image::imageops::resize(&crop, size, size, image::imageops::FilterType::Triangle)
    };
    let image = scale(&whole.image);
    let mask_crop = image::imageops::crop_imm(&whole.mask, left, top, side, side).to_image();
    let mask =
        image::imageops::resize(&mask_crop, size, size, image::imageops::FilterType::Nearest);
    SyntheticGarment {
        image,
        mask,
        truth: GroundTruth {
            detail: true,
            logo: None,
            ..whole.truth
        },
    }
}

fn generate_whole(kind: GarmentType, back: bool, seed: u64, size: u32) -> SyntheticGarment {
    // Hoodies and jackets are drawn from the front only.
    let back = back
        && matches!(
            kind,
            GarmentType::Tshirt | GarmentType::Polo | GarmentType::Shirt | GarmentType::Sweater
        );
    let mut rng = SplitMix64::new(seed ^ 0x6a09_e667_f3bc_c908);
    let s = size as f32;
    let off_white = rng.chance(0.5);
    let background_rgb = if off_white {
        [240, 236, 228]
    } else {
        [250, 250, 250]
    };
    let base_rgb = pick_fabric(&mut rng, background_rgb);

    let mut shape = GrayImage::new(size, size);
    let mut details = Details::default();
    let (sleeve_length, neckline) = match kind {
        GarmentType::Pants | GarmentType::Shorts => {
            draw_bottoms(&mut shape, &mut rng, s, kind == GarmentType::Pants);
            (SleeveLength::None, Neckline::None)
        }
        GarmentType::Skirt => {
            draw_skirt(&mut shape, &mut rng, s);
            (SleeveLength::None, Neckline::None)
        }
        GarmentType::Dress => draw_dress(&mut shape, &mut rng, s, &mut details),
        _ => draw_top(&mut shape, &mut rng, s, kind, back, &mut details),
    };
    let view = match kind {
        GarmentType::Pants | GarmentType::Shorts | GarmentType::Skirt | GarmentType::Dress => {
            View::Unknown
        }
        _ if back => View::Back,
        _ => View::Front,
    };

    // Folds: smooth bands with a mean of 1, so the unshaded colour is the
    // median of the fabric.
    let f1 = rng.range(0.015, 0.03) * 512.0 / s;
    let f2 = rng.range(0.01, 0.02) * 512.0 / s;
    let phase = rng.range(0.0, std::f32::consts::TAU);
    let fold_amp = rng.range(0.03, 0.07);
    let shading = move |x: f32, y: f32| {
        1.0 + fold_amp * (x * f1 + y * f2 * 0.4 + phase).sin()
            + 0.4 * fold_amp * (y * f2 - x * f1 * 0.3).sin()
    };
    let mut weave = SplitMix64::new(seed ^ 0xbb67_ae85_84ca_a73b);

    let shadow = drop_shadow(&shape, s);
    let soft = imageproc::filter::gaussian_blur_f32(&shape, 0.7);
    let base_lab = srgb_to_lab(base_rgb);
    let mut image = RgbaImage::new(size, size);
    for y in 0..size {
        for x in 0..size {
            let bg_k = 1.0 - 0.22 * shadow.get_pixel(x, y).0[0] as f32 / 255.0;
            let bg = background_rgb.map(|c| c as f32 * bg_k);
            let k = shading(x as f32, y as f32) * (1.0 + (weave.unit() as f32 - 0.5) * 0.03);
            let detail = details.factor_at(x, y);
            let fabric = shade(base_lab, k * detail);
            let a = soft.get_pixel(x, y).0[0] as f32 / 255.0;
            let px: [u8; 3] = std::array::from_fn(|i| {
                (fabric[i] * a + bg[i] * (1.0 - a))
                    .round()
                    .clamp(0.0, 255.0) as u8
            });
            image.put_pixel(x, y, Rgba([px[0], px[1], px[2], 255]));
        }
    }
    details.draw_overlays(&mut image, base_rgb, s);

    let logo = if rng.chance(0.7) {
        draw_logo(&mut image, &shape, &mut rng, kind, base_rgb, &shading)
    } else {
        None
    };
    SyntheticGarment {
        image,
        mask: shape,
        truth: GroundTruth {
            garment_type: kind,
            base_rgb,
            sleeve_length,
            neckline,
            logo,
            background_rgb,
            view,
            detail: false,
        },
    }
}

/// Shading multiplies lightness; hue and chroma are the fabric's own.
fn shade(base: Lab, k: f32) -> [f32; 3] {
    let l = (base.l * k).clamp(0.0, 100.0);
    let rgb = lab_to_srgb(Lab::new(l, base.a, base.b));
    rgb.map(f32::from)
}

fn pick_fabric(rng: &mut SplitMix64, background: [u8; 3]) -> [u8; 3] {
    let bg = srgb_to_lab(background);
    loop {
        let l = rng.range(25.0, 82.0);
        let chroma = if rng.chance(0.15) {
            rng.range(0.0, 6.0)
        } else {
            rng.range(15.0, 60.0)
        };
        let hue = rng.range(0.0, std::f32::consts::TAU);
        let rgb = lab_to_srgb(Lab::new(l, chroma * hue.cos(), chroma * hue.sin()));
        // The colour must survive the round trip (inside the sRGB gamut) and
        // stand out from the sweep.
        let back = srgb_to_lab(rgb);
        if delta_e2000(back, Lab::new(l, chroma * hue.cos(), chroma * hue.sin())) < 1.0
            && delta_e2000(back, bg) > 15.0
        {
            return rgb;
        }
    }
}

fn poly(points: &[[f32; 2]]) -> Vec<Point<i32>> {
    let mut out: Vec<Point<i32>> = points
        .iter()
        .map(|p| Point::new(p[0].round() as i32, p[1].round() as i32))
        .collect();
    out.dedup();
    if out.len() > 1 && out.first() == out.last() {
        out.pop();
    }
    out
}

fn fill(mask: &mut GrayImage, points: &[[f32; 2]]) {
    let p = poly(points);
    if p.len() >= 3 {
        draw_polygon_mut(mask, &p, Luma([ON]));
    }
}

fn cut(mask: &mut GrayImage, points: &[[f32; 2]]) {
    let p = poly(points);
    if p.len() >= 3 {
        draw_polygon_mut(mask, &p, Luma([0]));
    }
}

/// Interior details drawn as shading factors (collars, plackets, ribbing,
/// pockets) and overlays with their own colour (buttons, zips).
#[derive(Default)]
struct Details {
    /// Rectangles `[x0, y0, x1, y1]` with a lightness factor.
    bands: Vec<([f32; 4], f32)>,
    /// Line segments with a width and factor.
    lines: Vec<([f32; 4], f32, f32)>,
    buttons: Vec<[f32; 2]>,
    zip: Option<[f32; 3]>,
}

impl Details {
    fn factor_at(&self, x: u32, y: u32) -> f32 {
        let (x, y) = (x as f32, y as f32);
        let mut k = 1.0;
        for ([x0, y0, x1, y1], f) in &self.bands {
            if x >= *x0 && x <= *x1 && y >= *y0 && y <= *y1 {
                k *= f;
            }
        }
        for ([ax, ay, bx, by], width, f) in &self.lines {
            let (dx, dy) = (bx - ax, by - ay);
            let len2 = (dx * dx + dy * dy).max(1e-6);
            let t = (((x - ax) * dx + (y - ay) * dy) / len2).clamp(0.0, 1.0);
            let d = (x - (ax + t * dx)).hypot(y - (ay + t * dy));
            if d <= *width / 2.0 {
                k *= f;
            }
        }
        k
    }

    fn draw_overlays(&self, image: &mut RgbaImage, base: [u8; 3], s: f32) {
        let lab = srgb_to_lab(base);
        let button = if lab.l > 55.0 {
            Rgba([40, 40, 44, 255])
        } else {
            Rgba([236, 232, 222, 255])
        };
        for [x, y] in &self.buttons {
            draw_filled_circle_mut(
                image,
                (*x as i32, *y as i32),
                (0.008 * s).max(2.0) as i32,
                button,
            );
        }
        if let Some([x, y0, y1]) = self.zip {
            let w = (0.012 * s).max(3.0);
            // Zips are chosen to contrast with the cloth: dark on light, bright
            // metal on dark.
            let teeth = if lab.l > 50.0 {
                Rgba([38, 38, 42, 255])
            } else {
                Rgba([205, 205, 212, 255])
            };
            draw_filled_rect_mut(
                image,
                Rect::at((x - w / 2.0) as i32, y0 as i32).of_size(w as u32, (y1 - y0) as u32),
                teeth,
            );
        }
    }
}

fn draw_top(
    mask: &mut GrayImage,
    rng: &mut SplitMix64,
    s: f32,
    kind: GarmentType,
    back: bool,
    d: &mut Details,
) -> (SleeveLength, Neckline) {
    let long = matches!(
        kind,
        GarmentType::Shirt | GarmentType::Hoodie | GarmentType::Sweater | GarmentType::Jacket
    );
    let cx = s * (0.5 + rng.range(-0.02, 0.02));
    let ys = s * rng.range(0.17, 0.21)
        + if kind == GarmentType::Hoodie {
            0.06 * s
        } else {
            0.0
        };
    let length = s * if long {
        rng.range(0.60, 0.66)
    } else {
        rng.range(0.56, 0.62)
    };
    let yh = (ys + length).min(s * 0.93);
    let bw = s * rng.range(0.19, 0.245);
    let nw = s * rng.range(0.065, 0.08);
    let slope = 0.035 * s;
    let arm_depth = s * rng.range(0.17, 0.2);
    let (angle, sleeve) = if long {
        (
            rng.range(56.0f32, 66.0).to_radians(),
            s * rng.range(0.40, 0.46),
        )
    } else {
        (
            rng.range(25.0f32, 38.0).to_radians(),
            s * rng.range(0.11, 0.15),
        )
    };
    let mut outline = Vec::new();
    for side in [-1.0f32, 1.0] {
        let tip = [cx + side * (bw + 0.012 * s), ys + slope];
        let pit = [cx + side * bw, ys + arm_depth];
        let dir = [side * angle.cos(), angle.sin()];
        let cuff_out = [tip[0] + dir[0] * sleeve, tip[1] + dir[1] * sleeve];
        let cuff_in = [
            pit[0] + dir[0] * sleeve * 0.86,
            pit[1] + dir[1] * sleeve * 0.86,
        ];
        let pts = [
            [cx + side * nw, ys],
            tip,
            cuff_out,
            cuff_in,
            pit,
            [cx + side * bw, yh],
        ];
        if side < 0.0 {
            outline.extend(pts);
        } else {
            let mut r = pts.to_vec();
            r.reverse();
            outline.extend(r);
        }
        if long {
            // Ribbed or buttoned cuffs.
            let cuff_len = 0.06;
            let a = [
                cuff_out[0] - dir[0] * sleeve * cuff_len,
                cuff_out[1] - dir[1] * sleeve * cuff_len,
            ];
            d.lines.push((
                [
                    a[0],
                    a[1],
                    cuff_in[0] - dir[0] * sleeve * cuff_len,
                    cuff_in[1] - dir[1] * sleeve * cuff_len,
                ],
                0.006 * s,
                0.85,
            ));
        }
    }
    fill(mask, &outline);
    // Shoulder-to-neck edges as drawn leave the neck opening straight; cut the
    // neckline shape out of it.
    let neckline = if back {
        draw_back_neck(mask, s, kind, cx, ys, nw, d)
    } else {
        draw_front_neck(mask, rng, s, kind, cx, ys, yh, bw, nw, d)
    };
    (
        if long {
            SleeveLength::Long
        } else {
            SleeveLength::Short
        },
        neckline,
    )
}

/// The front's neckline and what hangs from it: a hood with drawstrings, a
/// standing collar with flaps and a placket, a zip, or a crew / V opening.
#[allow(clippy::too_many_arguments)]
fn draw_front_neck(
    mask: &mut GrayImage,
    rng: &mut SplitMix64,
    s: f32,
    kind: GarmentType,
    cx: f32,
    ys: f32,
    yh: f32,
    bw: f32,
    nw: f32,
    d: &mut Details,
) -> Neckline {
    match kind {
        GarmentType::Hoodie => {
            draw_filled_ellipse_mut(
                mask,
                (cx as i32, (ys - 0.035 * s) as i32),
                (0.12 * s) as i32,
                (0.10 * s) as i32,
                Luma([ON]),
            );
            d.bands.push((
                [cx - 0.07 * s, ys - 0.11 * s, cx + 0.07 * s, ys + 0.02 * s],
                0.62,
            ));
            // Drawstrings hanging from the hood's opening.
            for side in [-1.0f32, 1.0] {
                let x = cx + side * 0.035 * s;
                d.lines.push((
                    [x, ys + 0.02 * s, x + side * 0.01 * s, ys + 0.15 * s],
                    0.006 * s,
                    0.7,
                ));
            }
            // Kangaroo pocket.
            let py = yh - 0.2 * s;
            d.lines
                .push(([cx - 0.13 * s, py, cx + 0.13 * s, py], 0.005 * s, 0.75));
            d.lines.push((
                [cx - 0.13 * s, py, cx - 0.16 * s, yh - 0.06 * s],
                0.005 * s,
                0.75,
            ));
            d.lines.push((
                [cx + 0.13 * s, py, cx + 0.16 * s, yh - 0.06 * s],
                0.005 * s,
                0.75,
            ));
            d.bands.push(([cx - bw, yh - 0.04 * s, cx + bw, yh], 0.9));
            Neckline::Hood
        }
        GarmentType::Shirt | GarmentType::Polo | GarmentType::Jacket => {
            cut(mask, &neck_curve(cx, ys, nw, 0.03 * s, false));
            let top = ys + 0.075 * s;
            if kind != GarmentType::Jacket {
                draw_standing_collar(mask, s, cx, ys, nw, rng.range(0.02, 0.035) * s, d);
            }
            // Collar flaps with a shadowed outline.
            for side in [-1.0f32, 1.0] {
                let a = [cx + side * nw, ys];
                let b = [cx + side * 0.012 * s, top];
                let c = [cx + side * (nw + 0.02 * s), ys + 0.06 * s];
                d.lines.push(([a[0], a[1], b[0], b[1]], 0.005 * s, 0.6));
                d.lines.push(([b[0], b[1], c[0], c[1]], 0.005 * s, 0.6));
                d.lines.push(([c[0], c[1], a[0], a[1]], 0.005 * s, 0.6));
            }
            match kind {
                GarmentType::Shirt => {
                    draw_placket(d, s, cx, top, yh);
                    let mut y = top + 0.03 * s;
                    while y < yh - 0.03 * s {
                        d.buttons.push([cx, y]);
                        y += 0.07 * s;
                    }
                }
                GarmentType::Polo => {
                    draw_placket(d, s, cx, top, top + 0.12 * s);
                    d.buttons.push([cx, top + 0.03 * s]);
                    d.buttons.push([cx, top + 0.08 * s]);
                }
                _ => {
                    d.zip = Some([cx, ys + 0.02 * s, yh]);
                    d.bands.push(([cx - bw, yh - 0.04 * s, cx + bw, yh], 0.9));
                }
            }
            Neckline::Collar
        }
        _ => {
            let v = kind == GarmentType::Tshirt && rng.chance(0.35);
            let depth = if v { 0.11 * s } else { 0.035 * s };
            cut(mask, &neck_curve(cx, ys, nw, depth, v));
            if !v {
                // Through a crew opening one sees the inside of the back neck,
                // which is cut higher than the front: it closes the
                // silhouette's top a little below the neck points.
                draw_filled_ellipse_mut(
                    mask,
                    (cx as i32, (ys + 0.02 * s) as i32),
                    nw as i32,
                    (0.015 * s) as i32,
                    Luma([ON]),
                );
                d.bands.push(([cx - nw, ys, cx + nw, ys + depth], 0.85));
                d.lines.push((
                    [
                        cx - 0.7 * nw,
                        ys + 0.7 * depth,
                        cx + 0.7 * nw,
                        ys + 0.7 * depth,
                    ],
                    0.005 * s,
                    0.8,
                ));
            }
            if kind == GarmentType::Sweater {
                d.bands.push(([cx - bw, yh - 0.05 * s, cx + bw, yh], 0.88));
            }
            if v { Neckline::V } else { Neckline::Crew }
        }
    }
}

/// The back: the back neckline is cut shallow and sits on the shoulder
/// line (in a front view the back neck band stands above the front
/// opening); a collar lies as a flat band along it. No placket, no flaps.
fn draw_back_neck(
    mask: &mut GrayImage,
    s: f32,
    kind: GarmentType,
    cx: f32,
    ys: f32,
    nw: f32,
    d: &mut Details,
) -> Neckline {
    let drop = 0.018 * s;
    let mut shallow = neck_curve(cx, ys + drop, nw, 0.01 * s, false);
    shallow[0][1] = ys - 2.0;
    let last = shallow.len() - 1;
    shallow[last][1] = ys - 2.0;
    cut(mask, &shallow);
    // The rib or the collar band along the back neck.
    let band = if matches!(kind, GarmentType::Polo | GarmentType::Shirt) {
        0.03 * s
    } else {
        0.01 * s
    };
    d.lines.push((
        [cx - nw, ys + drop + band, cx + nw, ys + drop + band],
        0.005 * s,
        0.75,
    ));
    match kind {
        GarmentType::Polo | GarmentType::Shirt => Neckline::Collar,
        _ => Neckline::Crew,
    }
}

/// A collar standing above the shoulders around the neck: its top rises
/// `rise` above the neck points, its band is outlined.
fn draw_standing_collar(
    mask: &mut GrayImage,
    s: f32,
    cx: f32,
    ys: f32,
    nw: f32,
    rise: f32,
    d: &mut Details,
) {
    let outer = nw + 0.018 * s;
    fill(
        mask,
        &[
            [cx - outer, ys + 0.012 * s],
            [cx - nw, ys - rise],
            [cx + nw, ys - rise],
            [cx + outer, ys + 0.012 * s],
            [cx + nw, ys + 0.01 * s],
            [cx - nw, ys + 0.01 * s],
        ],
    );
    d.lines.push((
        [cx - nw, ys - 0.002 * s, cx + nw, ys - 0.002 * s],
        0.005 * s,
        0.7,
    ));
}

/// A placket from `from` to `to` under the collar: a band with a seam on
/// each side.
fn draw_placket(d: &mut Details, s: f32, cx: f32, from: f32, to: f32) {
    for side in [-1.0f32, 1.0] {
        let x = cx + side * 0.016 * s;
        d.lines.push(([x, from, x, to], 0.004 * s, 0.72));
    }
    d.lines
        .push(([cx - 0.016 * s, to, cx + 0.016 * s, to], 0.004 * s, 0.72));
}

/// The neck opening: a half ellipse (or a V) hanging from the neck points.
fn neck_curve(cx: f32, ys: f32, half_width: f32, depth: f32, v: bool) -> Vec<[f32; 2]> {
    let mut pts = vec![[cx - half_width, ys - 2.0]];
    if v {
        pts.push([cx - half_width, ys]);
        pts.push([cx, ys + depth]);
        pts.push([cx + half_width, ys]);
    } else {
        for i in 0..=24 {
            let t = std::f32::consts::PI * i as f32 / 24.0;
            pts.push([cx - half_width * t.cos(), ys + depth * t.sin()]);
        }
    }
    pts.push([cx + half_width, ys - 2.0]);
    pts
}

fn draw_dress(
    mask: &mut GrayImage,
    rng: &mut SplitMix64,
    s: f32,
    d: &mut Details,
) -> (SleeveLength, Neckline) {
    let cx = s * 0.5;
    let ys = s * rng.range(0.1, 0.13);
    let yw = ys + s * rng.range(0.22, 0.26);
    let yh = ys + s * rng.range(0.72, 0.8);
    let bw = s * rng.range(0.14, 0.17);
    let hem = s * rng.range(0.25, 0.3);
    let nw = s * 0.07;
    let short_sleeves = rng.chance(0.4);
    let pit_y = ys + 0.13 * s;
    let mut pts = vec![[cx - nw, ys], [cx - bw - 0.01 * s, ys + 0.02 * s]];
    if short_sleeves {
        pts.extend([
            [cx - bw - 0.09 * s, ys + 0.08 * s],
            [cx - bw - 0.05 * s, pit_y + 0.03 * s],
        ]);
    }
    pts.extend([
        [cx - bw, pit_y],
        [cx - bw * 0.85, yw],
        [cx - hem, yh],
        [cx + hem, yh],
        [cx + bw * 0.85, yw],
        [cx + bw, pit_y],
    ]);
    if short_sleeves {
        pts.extend([
            [cx + bw + 0.05 * s, pit_y + 0.03 * s],
            [cx + bw + 0.09 * s, ys + 0.08 * s],
        ]);
    }
    pts.extend([[cx + bw + 0.01 * s, ys + 0.02 * s], [cx + nw, ys]]);
    fill(mask, &pts);
    let v = rng.chance(0.4);
    cut(
        mask,
        &neck_curve(cx, ys, nw, if v { 0.1 * s } else { 0.05 * s }, v),
    );
    d.lines
        .push(([cx - bw * 0.85, yw, cx + bw * 0.85, yw], 0.005 * s, 0.8));
    (
        if short_sleeves {
            SleeveLength::Short
        } else {
            SleeveLength::Sleeveless
        },
        if v { Neckline::V } else { Neckline::Crew },
    )
}

fn draw_skirt(mask: &mut GrayImage, rng: &mut SplitMix64, s: f32) {
    let cx = s * 0.5;
    let yw = s * rng.range(0.2, 0.26);
    let yh = yw + s * rng.range(0.45, 0.58);
    let waist = s * rng.range(0.15, 0.19);
    let hem = s * rng.range(0.26, 0.33);
    fill(
        mask,
        &[
            [cx - waist, yw],
            [cx + waist, yw],
            [cx + hem, yh],
            [cx - hem, yh],
        ],
    );
}

fn draw_bottoms(mask: &mut GrayImage, rng: &mut SplitMix64, s: f32, long: bool) {
    let cx = s * 0.5;
    let yw = s * if long {
        rng.range(0.06, 0.09)
    } else {
        rng.range(0.25, 0.3)
    };
    let length = s * if long {
        rng.range(0.8, 0.86)
    } else {
        rng.range(0.36, 0.42)
    };
    let yh = yw + length;
    let waist = s * rng.range(0.17, 0.21);
    let rise = if long {
        length * rng.range(0.26, 0.31)
    } else {
        length * rng.range(0.6, 0.66)
    };
    let yc = yw + rise;
    let flare = if long {
        s * rng.range(-0.01, 0.03)
    } else {
        s * rng.range(0.02, 0.05)
    };
    let leg_gap = s * 0.012;
    let inner = if long { s * 0.025 } else { s * 0.035 };
    fill(
        mask,
        &[
            [cx - waist, yw],
            [cx + waist, yw],
            [cx + waist + flare, yh],
            [cx + leg_gap + inner, yh],
            [cx, yc],
            [cx - leg_gap - inner, yh],
            [cx - waist - flare, yh],
        ],
    );
}

fn drop_shadow(shape: &GrayImage, s: f32) -> GrayImage {
    let (w, h) = shape.dimensions();
    let dx = (0.015 * s) as i64;
    let dy = (0.02 * s) as i64;
    let shifted = GrayImage::from_fn(w, h, |x, y| {
        let (sx, sy) = (x as i64 - dx, y as i64 - dy);
        if sx >= 0 && sy >= 0 && (sx as u32) < w && (sy as u32) < h {
            *shape.get_pixel(sx as u32, sy as u32)
        } else {
            Luma([0])
        }
    });
    imageproc::filter::gaussian_blur_f32(&shifted, (0.012 * s).max(1.0))
}

fn draw_logo(
    image: &mut RgbaImage,
    shape: &GrayImage,
    rng: &mut SplitMix64,
    kind: GarmentType,
    base: [u8; 3],
    shading: &dyn Fn(f32, f32) -> f32,
) -> Option<LogoTruth> {
    let bbox = crate::mask::bounding_box(shape)?;
    let gw = (bbox[2] - bbox[0]) as f32;
    let gh = (bbox[3] - bbox[1]) as f32;
    let (lw, lh) = (gw * rng.range(0.2, 0.36), gh * rng.range(0.07, 0.16));
    let cx = (bbox[0] + bbox[2]) as f32 / 2.0 + gw * rng.range(-0.06, 0.06);
    let cy = match kind {
        GarmentType::Pants | GarmentType::Shorts | GarmentType::Skirt => {
            bbox[1] as f32 + gh * rng.range(0.25, 0.35)
        }
        GarmentType::Hoodie => bbox[1] as f32 + gh * rng.range(0.38, 0.45),
        _ => bbox[1] as f32 + gh * rng.range(0.3, 0.4),
    };
    // Pick an ink that clearly differs from the fabric.
    let base_lab = srgb_to_lab(base);
    let inks: [[u8; 3]; 6] = [
        [245, 245, 240],
        [20, 20, 24],
        [250, 200, 30],
        [200, 30, 40],
        [30, 80, 200],
        [30, 150, 80],
    ];
    let start = rng.below(inks.len());
    let ink = (0..inks.len())
        .map(|i| inks[(start + i) % inks.len()])
        .find(|c| delta_e2000(srgb_to_lab(*c), base_lab) > 30.0)?;
    let ink_lab = srgb_to_lab(ink);
    let logo_kind = [
        BrandingKind::Print,
        BrandingKind::Embroidery,
        BrandingKind::HeatTransfer,
    ][rng.below(3)];

    // The motif: a solid emblem, a word-like row of bars, or a ring.
    let mut motif = GrayImage::new(image.width(), image.height());
    let (x0, y0) = (cx - lw / 2.0, cy - lh / 2.0);
    match rng.below(3) {
        0 => draw_filled_rect_mut(
            &mut motif,
            Rect::at(x0 as i32, y0 as i32).of_size(lw as u32, lh as u32),
            Luma([ON]),
        ),
        1 => {
            let letters = 3 + rng.below(4);
            let step = lw / letters as f32;
            for i in 0..letters {
                let lx = x0 + i as f32 * step;
                let tall = if i % 2 == 0 { lh } else { lh * 0.75 };
                draw_filled_rect_mut(
                    &mut motif,
                    Rect::at(lx as i32, (y0 + lh - tall) as i32)
                        .of_size((step * 0.72).max(2.0) as u32, tall as u32),
                    Luma([ON]),
                );
            }
        }
        _ => {
            let r = lw.min(lh * 1.6) / 2.0;
            draw_filled_ellipse_mut(
                &mut motif,
                (cx as i32, cy as i32),
                r as i32,
                (lh / 2.0) as i32,
                Luma([ON]),
            );
        }
    }
    let mut truth_box: Option<[u32; 4]> = None;
    for (x, y, m) in motif.enumerate_pixels() {
        if m.0[0] != ON || shape.get_pixel(x, y).0[0] != ON {
            continue;
        }
        let colour = match logo_kind {
            BrandingKind::Print => {
                let k = shading(x as f32, y as f32);
                lab_to_srgb(Lab::new(
                    (ink_lab.l * k).clamp(0.0, 100.0),
                    ink_lab.a,
                    ink_lab.b,
                ))
            }
            BrandingKind::HeatTransfer => ink,
            BrandingKind::Embroidery => {
                // Satin stitches: diagonal threads catching light alternately.
                let stitch = if ((x + y) / 2) % 2 == 0 { 1.18 } else { 0.82 };
                lab_to_srgb(Lab::new(
                    (ink_lab.l * stitch).clamp(0.0, 100.0),
                    ink_lab.a,
                    ink_lab.b,
                ))
            }
        };
        image.put_pixel(x, y, Rgba([colour[0], colour[1], colour[2], 255]));
        truth_box = Some(match truth_box {
            None => [x, y, x, y],
            Some([a, b, c, d]) => [a.min(x), b.min(y), c.max(x), d.max(y)],
        });
    }
    let [a, b, c, d] = truth_box?;
    Some(LogoTruth {
        bbox: [a, b, c - a + 1, d - b + 1],
        kind: logo_kind,
        ink_rgb: ink,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_pixels() {
        let a = generate(GarmentType::Tshirt, 42, 128);
        let b = generate(GarmentType::Tshirt, 42, 128);
        assert_eq!(a.image.as_raw(), b.image.as_raw());
        let c = generate(GarmentType::Tshirt, 43, 128);
        assert_ne!(a.image.as_raw(), c.image.as_raw());
    }

    #[test]
    fn every_type_draws_a_garment_of_sensible_size() {
        for (i, kind) in GarmentType::ALL.into_iter().enumerate() {
            let g = generate(kind, i as u64, 256);
            let share = crate::mask::area(&g.mask) as f32 / (256.0 * 256.0);
            assert!((0.08..0.6).contains(&share), "{kind:?}: {share}");
        }
    }
}

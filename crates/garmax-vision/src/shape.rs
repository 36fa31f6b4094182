//! Shape of a flat-lay garment: silhouette measurements, the landmarks a warp
//! needs, and the garment type, style and view (front or back) read from
//! them.
//!
//! Everything here works on the garment mask (plus the colour image for a few
//! interior cues such as a button placket), in the mask's pixel coordinates.
//! The measurements are deliberately simple geometric facts — row extents,
//! the top profile, the gap between trouser legs — because each of them can
//! be checked by eye on the overlay when a classification looks wrong.

use std::collections::BTreeMap;

use image::{GrayImage, RgbaImage};
use serde::Serialize;

use crate::branding::SHADING_TOLERANT;
use crate::color::{Lab, delta_e2000_weighted, srgb_to_lab};
use crate::construction::{
    PlainLightness, border_runs, borders_touched, outline_raggedness, placket_contrast,
};
use crate::mask::{Mask, ON};

/// The garment types the analysis tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum GarmentType {
    Tshirt,
    Polo,
    Shirt,
    Hoodie,
    Sweater,
    Jacket,
    Dress,
    Skirt,
    Pants,
    Shorts,
}

impl GarmentType {
    pub const ALL: [GarmentType; 10] = [
        GarmentType::Tshirt,
        GarmentType::Polo,
        GarmentType::Shirt,
        GarmentType::Hoodie,
        GarmentType::Sweater,
        GarmentType::Jacket,
        GarmentType::Dress,
        GarmentType::Skirt,
        GarmentType::Pants,
        GarmentType::Shorts,
    ];

    pub fn name(self) -> &'static str {
        match self {
            GarmentType::Tshirt => "tshirt",
            GarmentType::Polo => "polo",
            GarmentType::Shirt => "shirt",
            GarmentType::Hoodie => "hoodie",
            GarmentType::Sweater => "sweater",
            GarmentType::Jacket => "jacket",
            GarmentType::Dress => "dress",
            GarmentType::Skirt => "skirt",
            GarmentType::Pants => "pants",
            GarmentType::Shorts => "shorts",
        }
    }

    /// Worn on the upper body (the local renderer's first target).
    pub fn is_upper_body(self) -> bool {
        matches!(
            self,
            GarmentType::Tshirt
                | GarmentType::Polo
                | GarmentType::Shirt
                | GarmentType::Hoodie
                | GarmentType::Sweater
                | GarmentType::Jacket
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SleeveLength {
    Sleeveless,
    Short,
    ThreeQuarter,
    Long,
    /// Not applicable (skirts, trousers).
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Neckline {
    Crew,
    V,
    Collar,
    Hood,
    /// Not applicable (skirts, trousers).
    None,
}

/// Which side of the garment faces the camera.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum View {
    Front,
    Back,
    /// Not told apart (skirts, trousers).
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fit {
    Slim,
    Regular,
    Loose,
}

/// Measurements of the silhouette, in mask pixels unless stated.
#[derive(Debug, Clone, Serialize)]
pub struct ShapeFeatures {
    pub bbox: [u32; 4],
    /// Height / width of the bounding box.
    pub aspect: f32,
    /// Fraction of the height, from the bottom, where two legs are separate.
    pub leg_fraction: f32,
    /// Width of the body at the hem (median over the lowest rows).
    pub hem_width: f32,
    /// Distance from shoulder to sleeve end / garment height (0 = no sleeve).
    pub sleeve_length: f32,
    /// Sleeve area / garment area.
    pub sleeve_area: f32,
    /// How far the centre of the neckline sits below the neck points,
    /// / garment height.
    pub neck_dip: f32,
    /// How far the top at the centre rises above the shoulders / torso
    /// height: a hood stands well above them.
    pub hood_rise: f32,
    /// Dip depth / dip width: deep and narrow reads as a V.
    pub neck_sharpness: f32,
    /// Spread of the top edge / height: near 0 for a waistband.
    pub top_roughness: f32,
    /// Bottom width / narrowest body width in the middle of the garment.
    pub flare: f32,
    /// Fraction of rows in the upper quarter of the torso with a thin vertical
    /// line of contrasting colour at the centre (a placket).
    pub centre_line_top: f32,
    /// The same below the upper quarter (full plackets, zips).
    pub centre_line_rest: f32,
    /// Fraction of rows below the upper quarter whose centre line is another
    /// material (a zip), not the fabric in shadow (a placket seam).
    pub centre_line_foreign: f32,
    /// Density of strong edges just below the neckline (collars).
    pub collar_edges: f32,
    /// Density of vertical seams and buttons under the neck centre minus
    /// that beside it: a placket.
    pub placket: f32,
    /// Outline pixels / √area: 5–8 for a garment, far more for the lacy
    /// mask of a close-up.
    pub outline_raggedness: f32,
    /// How many frame borders the mask runs into.
    pub borders_touched: u32,
    /// The largest share of one frame border the mask runs along: a garment
    /// cut off by the frame (a crop) leaves a long run.
    pub border_run: f32,
    /// The bounding box's larger side over the frame's matching side: a
    /// whole garment fills much of a product photo, a fragment does not.
    pub frame_span: f32,
}

/// A classification with its confidence in 0–1.
#[derive(Debug, Clone, Serialize)]
pub struct Classified<T> {
    pub value: T,
    pub confidence: f32,
}

#[derive(Debug, Clone, Serialize)]
pub struct Style {
    pub sleeve_length: Classified<SleeveLength>,
    pub neckline: Classified<Neckline>,
    pub fit: Classified<Fit>,
}

/// Named garment landmarks. Left and right are sides of the *image* (the
/// wearer's right side appears on the image's left in a front view).
pub type Landmarks = BTreeMap<&'static str, [f32; 2]>;

/// Row-wise runs of the mask, the basic measurement everything else uses.
struct Rows {
    /// For each row, the runs `[start, end]` (inclusive) of ON pixels.
    runs: Vec<Vec<[u32; 2]>>,
}

impl Rows {
    fn new(mask: &Mask) -> Rows {
        let (w, h) = mask.dimensions();
        let mut runs = Vec::with_capacity(h as usize);
        for y in 0..h {
            let mut row = Vec::new();
            let mut start = None;
            for x in 0..w {
                let on = mask.get_pixel(x, y).0[0] == ON;
                match (on, start) {
                    (true, None) => start = Some(x),
                    (false, Some(s)) => {
                        row.push([s, x - 1]);
                        start = None;
                    }
                    _ => {}
                }
            }
            if let Some(s) = start {
                row.push([s, w - 1]);
            }
            runs.push(row);
        }
        Rows { runs }
    }

    fn extent(&self, y: u32) -> Option<[u32; 2]> {
        let row = self.runs.get(y as usize)?;
        Some([row.first()?[0], row.last()?[1]])
    }

    /// The run containing `x`, or the nearest one.
    fn run_at(&self, y: u32, x: f32) -> Option<[u32; 2]> {
        let row = self.runs.get(y as usize)?;
        row.iter()
            .min_by(|a, b| {
                let da = run_distance(**a, x);
                let db = run_distance(**b, x);
                da.total_cmp(&db)
            })
            .copied()
    }
}

fn run_distance(r: [u32; 2], x: f32) -> f32 {
    if x < r[0] as f32 {
        r[0] as f32 - x
    } else if x > r[1] as f32 {
        x - r[1] as f32
    } else {
        0.0
    }
}

/// Everything the shape stage produces.
#[derive(Debug, Clone)]
pub struct ShapeAnalysis {
    pub features: ShapeFeatures,
    pub garment_type: Classified<GarmentType>,
    pub style: Style,
    pub view: Classified<View>,
    pub landmarks: Landmarks,
    /// Pixels of the mask that belong to sleeves (for the renderer and style
    /// checks), as a count; the sleeves' geometry is in the landmarks.
    pub centre_x: f32,
}

/// Measures, classifies and finds landmarks. `mask` must be non-empty.
pub fn analyse_shape(
    mask: &Mask,
    image: &RgbaImage,
    decoration: &GrayImage,
) -> Option<ShapeAnalysis> {
    let rows = Rows::new(mask);
    let bbox = crate::mask::bounding_box(mask)?;
    let [x0, y0, x1, y1] = bbox;
    let width = (x1 - x0 + 1) as f32;
    let height = (y1 - y0 + 1) as f32;

    let leg_top = leg_split_top(&rows, bbox);
    let leg_fraction = leg_top.map_or(0.0, |t| (y1 - t) as f32 / height);

    // The torso's sides, measured at the hem where no sleeve interferes.
    let hem_rows: Vec<u32> = (y0 + (height * 0.80) as u32..=y0 + (height * 0.95) as u32).collect();
    let (hem_left, hem_right) = median_extent(&rows, &hem_rows, bbox);
    let hem_width = (hem_right - hem_left).max(1.0);
    let centre_x = (hem_left + hem_right) / 2.0;

    let top = top_profile(mask, bbox);
    let top_at = |x: f32| -> f32 {
        let i = (x.round() as i64 - x0 as i64).clamp(0, top.len() as i64 - 1) as usize;
        top[i]
    };

    let slack = 0.04 * width;
    let sleeves = measure_sleeves(mask, &rows, bbox, hem_left - slack, hem_right + slack);

    // Neck: highest points either side of the centre, lowest point at it.
    let half = hem_width / 2.0;
    let (neck_left, neck_right) = neck_points(&top, x0, centre_x, half);
    let dip_y = pixel_steps(centre_x - 0.06 * half, centre_x + 0.06 * half)
        .map(top_at)
        .fold(f32::MIN, f32::max);
    let peak_y = (neck_left[1] + neck_right[1]) / 2.0;
    let dip = dip_y - peak_y;
    let dip_width = dip_width(&top, x0, centre_x, half, peak_y, dip);
    let neck_dip = dip / height;
    let neck_sharpness = if dip > 0.0 {
        dip / dip_width.max(1.0)
    } else {
        0.0
    };

    let top_roughness = match rows.extent(y0 + 2) {
        Some([a, b]) => {
            let span = (b - a) as f32;
            let xs: Vec<f32> = pixel_steps(a as f32 + 0.2 * span, b as f32 - 0.2 * span)
                .map(top_at)
                .collect();
            std_dev(&xs) / height
        }
        None => 0.0,
    };
    let narrowest = (y0 + (height * 0.2) as u32..=y0 + (height * 0.6) as u32)
        .filter_map(|y| rows.run_at(y, centre_x))
        .map(|[a, b]| (b - a + 1) as f32)
        .fold(f32::MAX, f32::min);
    let bottom_width = rows
        .run_at(y1.saturating_sub((height * 0.02) as u32), centre_x)
        .map_or(width, |[a, b]| (b - a + 1) as f32);
    let flare = if narrowest == f32::MAX {
        1.0
    } else {
        bottom_width / narrowest.max(1.0)
    };
    let shoulder_y = (top_at(hem_left) + top_at(hem_right)) / 2.0;
    let torso_height = (y1 as f32 - shoulder_y).max(1.0);
    let centre_top = pixel_steps(centre_x - 0.06 * half, centre_x + 0.06 * half)
        .map(top_at)
        .fold(f32::MAX, f32::min);
    let hood_rise = (shoulder_y - centre_top) / torso_height;

    let torso_top = peak_y.max(y0 as f32);
    // Interior cues look at the cloth's construction; a logo or print in the
    // same place would read as a placket or a collar.
    let plain = GrayImage::from_fn(mask.width(), mask.height(), |x, y| {
        let keep = mask.get_pixel(x, y).0[0] == ON
            && decoration
                .get_pixel_checked(x, y)
                .is_none_or(|d| d.0[0] != ON);
        image::Luma([if keep { ON } else { 0 }])
    });
    let lines = centre_line(
        image, &plain, centre_x, hem_width, dip_y, torso_top, y1 as f32,
    );
    let collar_edges = collar_edge_density(image, &plain, centre_x, hem_width, dip_y, height);
    let lightness = PlainLightness::new(image, &plain);
    // The placket is read below the collar's flaps, which reach about a
    // fifth of the body width under the neck points.
    let placket = placket_contrast(&lightness, centre_x, peak_y + 0.22 * hem_width, hem_width);

    let runs = border_runs(mask);
    let features = ShapeFeatures {
        bbox,
        aspect: height / width,
        leg_fraction,
        hem_width,
        sleeve_length: sleeves.length / torso_height,
        sleeve_area: sleeves.area_fraction,
        neck_dip,
        hood_rise,
        neck_sharpness,
        top_roughness,
        flare,
        centre_line_top: lines.top,
        centre_line_rest: lines.rest,
        centre_line_foreign: lines.foreign,
        collar_edges,
        placket,
        outline_raggedness: outline_raggedness(mask),
        borders_touched: borders_touched(&runs) as u32,
        border_run: runs.iter().copied().fold(0.0, f32::max),
        frame_span: (width / mask.width() as f32).max(height / mask.height() as f32),
    };
    let garment_type = classify_type(&features);
    let style = classify_style(&features, garment_type.value);
    let view = classify_view(&features, garment_type.value);
    let mut landmarks = Landmarks::new();
    match garment_type.value {
        GarmentType::Pants | GarmentType::Shorts => {
            lower_landmarks(&rows, bbox, leg_top, &mut landmarks);
        }
        GarmentType::Skirt => {
            skirt_landmarks(&rows, bbox, &mut landmarks);
        }
        _ => {
            landmarks.insert("collar_centre", [centre_x, dip_y]);
            landmarks.insert("neck_left", neck_left);
            landmarks.insert("neck_right", neck_right);
            let shoulder_l = [hem_left, top_at(hem_left)];
            let shoulder_r = [hem_right, top_at(hem_right)];
            landmarks.insert("shoulder_left", shoulder_l);
            landmarks.insert("shoulder_right", shoulder_r);
            if let Some(end) = sleeves.left_end {
                landmarks.insert("sleeve_end_left", end);
            }
            if let Some(end) = sleeves.right_end {
                landmarks.insert("sleeve_end_right", end);
            }
            let (arm_l, arm_r) = armpits(&rows, bbox, centre_x, hem_left, hem_right, slack, peak_y);
            landmarks.insert("armpit_left", arm_l);
            landmarks.insert("armpit_right", arm_r);
            // The hem corners sit on the torso's side lines, at the lowest
            // garment pixel of those columns (hems are rarely straight).
            let bottom_at = |x: f32| -> f32 {
                let x = (x.round().max(0.0) as u32).min(mask.width() - 1);
                (y0..=y1)
                    .rev()
                    .find(|&y| mask.get_pixel(x, y).0[0] == ON)
                    .unwrap_or(y1) as f32
            };
            landmarks.insert(
                "hem_left",
                [hem_left, bottom_at(hem_left + 0.02 * hem_width)],
            );
            landmarks.insert(
                "hem_right",
                [hem_right, bottom_at(hem_right - 0.02 * hem_width)],
            );
        }
    }
    Some(ShapeAnalysis {
        features,
        garment_type,
        style,
        view,
        landmarks,
        centre_x,
    })
}

/// `from, from + 1, …` up to and including `to`.
fn pixel_steps(from: f32, to: f32) -> impl Iterator<Item = f32> {
    let n = if to >= from {
        (to - from).floor() as usize + 1
    } else {
        0
    };
    (0..n).map(move |i| from + i as f32)
}

fn std_dev(v: &[f32]) -> f32 {
    if v.len() < 2 {
        return 0.0;
    }
    let mean = v.iter().sum::<f32>() / v.len() as f32;
    (v.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / v.len() as f32).sqrt()
}

/// Topmost ON row per column of the bounding box (the bbox bottom if none).
fn top_profile(mask: &Mask, [x0, y0, x1, y1]: [u32; 4]) -> Vec<f32> {
    (x0..=x1)
        .map(|x| {
            (y0..=y1)
                .find(|&y| mask.get_pixel(x, y).0[0] == ON)
                .unwrap_or(y1) as f32
        })
        .collect()
}

/// Median sides of the body run (the run under the garment's centre): long
/// sleeves hanging beside the body must not widen the measured torso.
fn median_extent(rows: &Rows, ys: &[u32], [x0, _, x1, _]: [u32; 4]) -> (f32, f32) {
    let centre = (x0 + x1) as f32 / 2.0;
    let mut lefts = Vec::new();
    let mut rights = Vec::new();
    for &y in ys {
        if let Some([l, r]) = rows.run_at(y, centre) {
            lefts.push(l as f32);
            rights.push(r as f32);
        }
    }
    if lefts.is_empty() {
        return (x0 as f32, x1 as f32);
    }
    (
        crate::mask::median(&mut lefts),
        crate::mask::median(&mut rights),
    )
}

/// The top row of the region, counted up from the hem, where every row has
/// two wide runs with a gap near the centre: trouser legs.
fn leg_split_top(rows: &Rows, [x0, y0, x1, y1]: [u32; 4]) -> Option<u32> {
    let width = (x1 - x0 + 1) as f32;
    let centre = (x0 + x1) as f32 / 2.0;
    let is_split = |y: u32| -> bool {
        let row = &rows.runs[y as usize];
        let wide: Vec<&[u32; 2]> = row
            .iter()
            .filter(|r| (r[1] - r[0] + 1) as f32 > 0.08 * width)
            .collect();
        if wide.len() < 2 {
            return false;
        }
        // The gap between the two widest neighbours must straddle the centre.
        wide.windows(2).any(|p| {
            let gap_l = p[0][1] as f32;
            let gap_r = p[1][0] as f32;
            gap_r - gap_l > 0.015 * width
                && gap_l < centre + 0.15 * width
                && gap_r > centre - 0.15 * width
        })
    };
    let bottom = y1.saturating_sub(((y1 - y0) as f32 * 0.02) as u32);
    if !is_split(bottom) {
        return None;
    }
    let mut top = bottom;
    while top > y0 && is_split(top - 1) {
        top -= 1;
    }
    Some(top)
}

struct Sleeves {
    length: f32,
    area_fraction: f32,
    left_end: Option<[f32; 2]>,
    right_end: Option<[f32; 2]>,
}

/// Sleeves are the garment pixels outside the torso's side lines in the
/// upper part of the garment.
fn measure_sleeves(
    mask: &Mask,
    _rows: &Rows,
    [x0, y0, x1, y1]: [u32; 4],
    left_line: f32,
    right_line: f32,
) -> Sleeves {
    let height = (y1 - y0 + 1) as f32;
    let y_limit = y0 + (height * 0.9) as u32;
    let mut total = 0usize;
    let mut left = Vec::new();
    let mut right = Vec::new();
    for y in y0..=y_limit.min(y1) {
        for x in x0..=x1 {
            if mask.get_pixel(x, y).0[0] != ON {
                continue;
            }
            total += 1;
            let xf = x as f32;
            if xf < left_line {
                left.push([xf, y as f32]);
            } else if xf > right_line {
                right.push([xf, y as f32]);
            }
        }
    }
    for y in y_limit.min(y1) + 1..=y1 {
        for x in x0..=x1 {
            total += usize::from(mask.get_pixel(x, y).0[0] == ON);
        }
    }
    // A sliver outside the side lines is a flared hem or a slanted side, not
    // a sleeve.
    let min_pixels = (total as f32 * 0.006) as usize;
    let end_of = |pts: &[[f32; 2]], anchor: [f32; 2]| -> Option<([f32; 2], f32)> {
        if pts.len() < min_pixels.max(4) {
            return None;
        }
        let d = |p: &[f32; 2]| (p[0] - anchor[0]).hypot(p[1] - anchor[1]);
        let far = pts.iter().map(d).fold(0.0, f32::max);
        let tip: Vec<&[f32; 2]> = pts.iter().filter(|p| d(p) > far - 0.03 * height).collect();
        let n = tip.len() as f32;
        let cx = tip.iter().map(|p| p[0]).sum::<f32>() / n;
        let cy = tip.iter().map(|p| p[1]).sum::<f32>() / n;
        Some(([cx, cy], far))
    };
    let left_anchor = [left_line, y0 as f32];
    let right_anchor = [right_line, y0 as f32];
    let l = end_of(&left, left_anchor);
    let r = end_of(&right, right_anchor);
    let length = match (l, r) {
        (Some((_, a)), Some((_, b))) => (a + b) / 2.0,
        (Some((_, a)), None) | (None, Some((_, a))) => a,
        (None, None) => 0.0,
    };
    let sleeve_pixels =
        if l.is_some() { left.len() } else { 0 } + if r.is_some() { right.len() } else { 0 };
    Sleeves {
        length,
        area_fraction: sleeve_pixels as f32 / total.max(1) as f32,
        left_end: l.map(|(p, _)| p),
        right_end: r.map(|(p, _)| p),
    }
}

fn neck_points(top: &[f32], x0: u32, centre: f32, half: f32) -> ([f32; 2], [f32; 2]) {
    let highest = |from: f32, to: f32| -> [f32; 2] {
        let mut best = [centre, f32::MAX];
        let mut x = from;
        while x <= to {
            let i = (x.round() as i64 - x0 as i64).clamp(0, top.len() as i64 - 1) as usize;
            // Ties resolve towards the centre: the neck point is the inner
            // end of a flat shoulder seam.
            let closer = (x - centre).abs() < (best[0] - centre).abs();
            if top[i] < best[1] || (top[i] == best[1] && closer) {
                best = [x, top[i]];
            }
            x += 1.0;
        }
        best
    };
    (
        highest(centre - 0.55 * half, centre - 0.08 * half),
        highest(centre + 0.08 * half, centre + 0.55 * half),
    )
}

fn dip_width(top: &[f32], x0: u32, centre: f32, half: f32, peak: f32, dip: f32) -> f32 {
    if dip <= 0.0 {
        return 0.0;
    }
    let level = peak + 0.3 * dip;
    let at = |x: f32| {
        let i = (x.round() as i64 - x0 as i64).clamp(0, top.len() as i64 - 1) as usize;
        top[i]
    };
    let mut l = centre;
    while l > centre - half && at(l - 1.0) > level {
        l -= 1.0;
    }
    let mut r = centre;
    while r < centre + half && at(r + 1.0) > level {
        r += 1.0;
    }
    r - l + 1.0
}

fn lab_at(image: &RgbaImage, x: f32, y: f32) -> Option<Lab> {
    let (w, h) = image.dimensions();
    if x < 0.0 || y < 0.0 || x >= w as f32 || y >= h as f32 {
        return None;
    }
    let p = image.get_pixel(x as u32, y as u32).0;
    Some(srgb_to_lab([p[0], p[1], p[2]]))
}

struct CentreLine {
    top: f32,
    rest: f32,
    foreign: f32,
}

/// A thin vertical line at the centre: the centre differs from fabric
/// samples on both sides while those samples agree with each other. A wide
/// print covers the samples too, so it does not count.
fn centre_line(
    image: &RgbaImage,
    mask: &Mask,
    centre: f32,
    hem_width: f32,
    dip_y: f32,
    torso_top: f32,
    bottom: f32,
) -> CentreLine {
    let start = dip_y + 0.01 * (bottom - torso_top);
    let end = bottom - 0.04 * (bottom - torso_top);
    let quarter = torso_top + 0.25 * (bottom - torso_top);
    let (mut top_hits, mut top_n, mut rest_hits, mut rest_n, mut foreign_hits) = (0, 0, 0, 0, 0);
    let offsets = [0.045 * hem_width, 0.09 * hem_width];
    for y in pixel_steps(start, end) {
        let on_mask = |x: f32| {
            mask.get_pixel_checked(x as u32, y as u32)
                .is_some_and(|p| p.0[0] == ON)
        };
        if !on_mask(centre) {
            continue;
        }
        let centre_px = [-1.0, 0.0, 1.0]
            .iter()
            .filter_map(|d| lab_at(image, centre + d, y));
        let c = crate::mask::median_lab(centre_px);
        let sides: Vec<Lab> = offsets
            .iter()
            .flat_map(|o| [centre - o, centre + o])
            .filter(|x| on_mask(*x))
            .filter_map(|x| lab_at(image, x, y))
            .collect();
        if sides.len() != 4 {
            continue;
        }
        let fabric = crate::mask::median_lab(sides.iter().copied());
        let sides_agree = sides.iter().all(|s| s.dist2(fabric).sqrt() < 6.0);
        let hit = sides_agree && c.dist2(fabric).sqrt() > 10.0;
        if y < quarter {
            top_n += 1;
            top_hits += usize::from(hit);
        } else {
            rest_n += 1;
            rest_hits += usize::from(hit);
            let other_material = delta_e2000_weighted(c, fabric, SHADING_TOLERANT) > 9.0;
            foreign_hits += usize::from(hit && other_material);
        }
    }
    let frac = |h: usize, n: usize| if n == 0 { 0.0 } else { h as f32 / n as f32 };
    CentreLine {
        top: frac(top_hits, top_n),
        rest: frac(rest_hits, rest_n),
        foreign: frac(foreign_hits, rest_n),
    }
}

/// Fraction of pixels just below the neckline with a strong local contrast.
/// Collars bring outlines and shadows there; a crew neck brings one seam.
fn collar_edge_density(
    image: &RgbaImage,
    mask: &Mask,
    centre: f32,
    hem_width: f32,
    dip_y: f32,
    height: f32,
) -> f32 {
    let x_from = centre - 0.16 * hem_width;
    let x_to = centre + 0.16 * hem_width;
    let y_from = dip_y + 0.01 * height;
    let y_to = dip_y + 0.10 * height;
    let (mut hits, mut n) = (0usize, 0usize);
    let mut y = y_from;
    while y < y_to {
        let mut x = x_from;
        while x < x_to {
            let inside = mask
                .get_pixel_checked(x as u32, y as u32)
                .is_some_and(|p| p.0[0] == ON);
            if let (true, Some(c), Some(r), Some(d)) = (
                inside,
                lab_at(image, x, y),
                lab_at(image, x + 2.0, y),
                lab_at(image, x, y + 2.0),
            ) {
                n += 1;
                if c.dist2(r).sqrt() > 12.0 || c.dist2(d).sqrt() > 12.0 {
                    hits += 1;
                }
            }
            x += 1.0;
        }
        y += 1.0;
    }
    if n == 0 { 0.0 } else { hits as f32 / n as f32 }
}

fn armpits(
    rows: &Rows,
    [_, y0, _, y1]: [u32; 4],
    centre: f32,
    hem_left: f32,
    hem_right: f32,
    slack: f32,
    neck_y: f32,
) -> ([f32; 2], [f32; 2]) {
    let start = (neck_y.max(y0 as f32) as u32).min(y1);
    let find = |is_left: bool| -> [f32; 2] {
        let mut in_sleeve = false;
        for y in start..=y1 {
            let Some(run) = rows.run_at(y, centre) else {
                continue;
            };
            let beyond = if is_left {
                (run[0] as f32) < hem_left - slack
            } else {
                (run[1] as f32) > hem_right + slack
            };
            if beyond {
                in_sleeve = true;
            } else if in_sleeve {
                let x = if is_left { run[0] } else { run[1] } as f32;
                return [x, y as f32];
            }
        }
        // No sleeve: the armhole is where the side line begins.
        let x = if is_left { hem_left } else { hem_right };
        let y = neck_y + 0.25 * (y1 as f32 - neck_y);
        [x, y]
    };
    (find(true), find(false))
}

fn lower_landmarks(
    rows: &Rows,
    [_, y0, _, y1]: [u32; 4],
    leg_top: Option<u32>,
    out: &mut Landmarks,
) {
    if let Some([l, r]) = rows.extent(y0 + 1) {
        out.insert("waist_left", [l as f32, y0 as f32]);
        out.insert("waist_right", [r as f32, y0 as f32]);
    }
    if let Some(top) = leg_top {
        let runs = &rows.runs[top as usize];
        if runs.len() >= 2 {
            let gap = (runs[0][1] + runs[runs.len() - 1][0]) as f32 / 2.0;
            out.insert("crotch", [gap, top as f32]);
        }
    }
    let y = y1.saturating_sub(1);
    let runs = &rows.runs[y as usize];
    if runs.len() >= 2 {
        let (a, b) = (runs[0], runs[runs.len() - 1]);
        out.insert("hem_left_outer", [a[0] as f32, y as f32]);
        out.insert("hem_left_inner", [a[1] as f32, y as f32]);
        out.insert("hem_right_inner", [b[0] as f32, y as f32]);
        out.insert("hem_right_outer", [b[1] as f32, y as f32]);
    }
}

fn skirt_landmarks(rows: &Rows, [_, y0, _, y1]: [u32; 4], out: &mut Landmarks) {
    if let Some([l, r]) = rows.extent(y0 + 1) {
        out.insert("waist_left", [l as f32, y0 as f32]);
        out.insert("waist_right", [r as f32, y0 as f32]);
    }
    if let Some([l, r]) = rows.extent(y1.saturating_sub(1)) {
        out.insert("hem_left", [l as f32, y1 as f32]);
        out.insert("hem_right", [r as f32, y1 as f32]);
    }
}

/// Confidence from how far a measurement sits past a decision boundary,
/// relative to a typical spread.
fn margin_confidence(distance: f32, spread: f32) -> f32 {
    (0.5 + 0.5 * (distance.abs() / spread).min(1.0)).clamp(0.5, 0.99)
}

/// Sleeve length (shoulder→cuff / garment height) boundaries.
const SHORT_SLEEVE_MAX: f32 = 0.62;
const THREE_QUARTER_MAX: f32 = 0.75;
/// Edge density under the neckline that means a collar: the generated
/// collars measure 0.12–0.42, the ribbed necklines of real tees 0.03–0.09.
/// A supporting cue only: a back neck seam can reach it too.
const COLLAR_EDGES: f32 = 0.15;
/// Rise of the centre above the shoulders (/ torso height). The thresholds
/// sit in the middle of the gaps the generated set shows (see
/// docs/garment-analysis.md): crew fronts 0.044–0.049 (the back neck band
/// closes the top), back views 0.003–0.007, standing collars 0.089–0.125,
/// hoods 0.266–0.293.
const HOOD_RISE: f32 = 0.19;
const COLLAR_RISE: f32 = 0.07;
const BACK_RISE: f32 = 0.025;
/// Placket contrast (vertical edges under the neck centre minus beside it):
/// generated tees ≤ 0.03, polos and shirts ≥ 0.044.
const PLACKET: f32 = 0.04;
/// Neck sharpness above which the dip reads as a V.
const V_SHARPNESS: f32 = 0.55;

/// The collar cues: a collar standing above the shoulders (but lower than a
/// hood), or a placket with a collar's outline under the neck.
fn has_collar(f: &ShapeFeatures) -> bool {
    let standing = f.hood_rise > COLLAR_RISE && f.hood_rise <= HOOD_RISE;
    standing || (f.placket > PLACKET && f.collar_edges > COLLAR_EDGES)
}

fn classify_type(f: &ShapeFeatures) -> Classified<GarmentType> {
    use GarmentType::*;
    if f.leg_fraction > 0.12 {
        // Shorts' legs are short relative to their rise.
        let value = if f.leg_fraction > 0.5 { Pants } else { Shorts };
        return Classified {
            value,
            confidence: margin_confidence(f.leg_fraction - 0.5, 0.2),
        };
    }
    let has_sleeves = f.sleeve_length > 0.0 && f.sleeve_area > 0.02;
    if !has_sleeves {
        // A waistband is straight; a dress has shoulders and a neckline.
        if f.top_roughness < 0.012 && f.aspect < 1.35 {
            return Classified {
                value: Skirt,
                confidence: margin_confidence(0.012 - f.top_roughness, 0.01),
            };
        }
        if f.aspect > 1.2 {
            return Classified {
                value: Dress,
                confidence: margin_confidence(f.aspect - 1.2, 0.3),
            };
        }
        return Classified {
            value: Tshirt,
            confidence: 0.5,
        };
    }
    if f.aspect > 1.45 && f.flare > 1.15 && f.sleeve_length < SHORT_SLEEVE_MAX {
        return Classified {
            value: Dress,
            confidence: margin_confidence(f.aspect - 1.45, 0.3),
        };
    }
    let long = f.sleeve_length >= SHORT_SLEEVE_MAX;
    let hood = f.hood_rise > HOOD_RISE;
    let zip = f.centre_line_foreign > 0.6;
    let buttons = f.centre_line_rest > 0.12 && !zip;
    let collar = has_collar(f);
    if long {
        if hood {
            return Classified {
                value: Hoodie,
                confidence: margin_confidence(f.hood_rise - HOOD_RISE, 0.08),
            };
        }
        if zip {
            return Classified {
                value: Jacket,
                confidence: margin_confidence(f.centre_line_foreign - 0.6, 0.3),
            };
        }
        if buttons || collar || f.placket > PLACKET {
            return Classified {
                value: Shirt,
                confidence: margin_confidence(
                    (f.hood_rise - COLLAR_RISE).max(f.placket - PLACKET),
                    0.05,
                ),
            };
        }
        Classified {
            value: Sweater,
            confidence: margin_confidence(f.sleeve_length - SHORT_SLEEVE_MAX, 0.15) * 0.9,
        }
    } else {
        if buttons && collar {
            return Classified {
                value: Shirt,
                confidence: 0.6,
            };
        }
        if collar {
            return Classified {
                value: Polo,
                confidence: margin_confidence(
                    (f.hood_rise - COLLAR_RISE).max(f.placket - PLACKET),
                    0.05,
                ),
            };
        }
        Classified {
            value: Tshirt,
            confidence: margin_confidence(SHORT_SLEEVE_MAX - f.sleeve_length, 0.15),
        }
    }
}

/// Front or back. A back view is a top with nothing at the front — no hood,
/// collar, placket, buttons or zip — whose centre barely rises above the
/// shoulders: the back neckline sits on the shoulder line, while in a front
/// view the back neck band closes the opening a little higher. Dresses,
/// skirts and trousers are not told apart.
fn classify_view(f: &ShapeFeatures, kind: GarmentType) -> Classified<View> {
    if !kind.is_upper_body() {
        return Classified {
            value: View::Unknown,
            confidence: 0.5,
        };
    }
    let front_construction = f.hood_rise > HOOD_RISE
        || has_collar(f)
        || f.centre_line_foreign > 0.6
        || f.centre_line_rest > 0.12
        || f.neck_sharpness > V_SHARPNESS;
    if !front_construction && f.hood_rise < BACK_RISE {
        Classified {
            value: View::Back,
            confidence: margin_confidence(BACK_RISE - f.hood_rise, 0.02),
        }
    } else {
        Classified {
            value: View::Front,
            confidence: if front_construction {
                0.9
            } else {
                margin_confidence(f.hood_rise - BACK_RISE, 0.02)
            },
        }
    }
}

fn classify_style(f: &ShapeFeatures, kind: GarmentType) -> Style {
    let lower = matches!(
        kind,
        GarmentType::Pants | GarmentType::Shorts | GarmentType::Skirt
    );
    let sleeve_length = if lower {
        Classified {
            value: SleeveLength::None,
            confidence: 0.95,
        }
    } else if f.sleeve_area <= 0.02 || f.sleeve_length == 0.0 {
        Classified {
            value: SleeveLength::Sleeveless,
            confidence: margin_confidence(0.02 - f.sleeve_area, 0.02),
        }
    } else if f.sleeve_length < SHORT_SLEEVE_MAX {
        Classified {
            value: SleeveLength::Short,
            confidence: margin_confidence(SHORT_SLEEVE_MAX - f.sleeve_length, 0.1),
        }
    } else if f.sleeve_length < THREE_QUARTER_MAX {
        Classified {
            value: SleeveLength::ThreeQuarter,
            confidence: 0.55,
        }
    } else {
        Classified {
            value: SleeveLength::Long,
            confidence: margin_confidence(f.sleeve_length - THREE_QUARTER_MAX, 0.1),
        }
    };
    let neckline = if lower {
        Classified {
            value: Neckline::None,
            confidence: 0.95,
        }
    } else if kind.is_upper_body() && f.hood_rise > HOOD_RISE {
        // Only a top can have a hood: a dress's straps and wide hem make the
        // centre-over-shoulder measure meaningless.
        Classified {
            value: Neckline::Hood,
            confidence: margin_confidence(f.hood_rise - HOOD_RISE, 0.08),
        }
    } else if matches!(kind, GarmentType::Shirt | GarmentType::Polo) || has_collar(f) {
        Classified {
            value: Neckline::Collar,
            confidence: margin_confidence(
                (f.hood_rise - COLLAR_RISE).max(f.placket - PLACKET),
                0.05,
            ),
        }
    } else if f.neck_sharpness > V_SHARPNESS {
        Classified {
            value: Neckline::V,
            confidence: margin_confidence(f.neck_sharpness - V_SHARPNESS, 0.3),
        }
    } else {
        Classified {
            value: Neckline::Crew,
            confidence: margin_confidence(V_SHARPNESS - f.neck_sharpness, 0.3),
        }
    };
    // Body width over garment height: tees sit around 0.75–0.95.
    let height = (f.bbox[3] - f.bbox[1] + 1) as f32;
    let ratio = f.hem_width / height;
    let fit = if lower {
        Classified {
            value: Fit::Regular,
            confidence: 0.5,
        }
    } else if ratio < 0.62 {
        Classified {
            value: Fit::Slim,
            confidence: margin_confidence(0.62 - ratio, 0.1),
        }
    } else if ratio > 0.95 {
        Classified {
            value: Fit::Loose,
            confidence: margin_confidence(ratio - 0.95, 0.1),
        }
    } else {
        Classified {
            value: Fit::Regular,
            confidence: margin_confidence((ratio - 0.785).abs() - 0.165, 0.1),
        }
    };
    Style {
        sleeve_length,
        neckline,
        fit,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The features of a plain short-sleeved crew-neck tee seen from the
    /// front, as the generated set measures them.
    fn crew_tee_front() -> ShapeFeatures {
        ShapeFeatures {
            bbox: [80, 90, 430, 400],
            aspect: 0.9,
            leg_fraction: 0.0,
            hem_width: 250.0,
            sleeve_length: 0.42,
            sleeve_area: 0.1,
            neck_dip: 0.02,
            hood_rise: 0.047,
            neck_sharpness: 0.25,
            top_roughness: 0.002,
            flare: 0.6,
            centre_line_top: 0.0,
            centre_line_rest: 0.0,
            centre_line_foreign: 0.0,
            collar_edges: 0.03,
            placket: 0.0,
            outline_raggedness: 4.4,
            borders_touched: 0,
            border_run: 0.0,
            frame_span: 0.7,
        }
    }

    fn read(f: &ShapeFeatures) -> (GarmentType, Neckline, View) {
        let kind = classify_type(f).value;
        (
            kind,
            classify_style(f, kind).neckline.value,
            classify_view(f, kind).value,
        )
    }

    #[test]
    fn a_crew_front_is_a_front_tee() {
        let f = crew_tee_front();
        assert_eq!(read(&f), (GarmentType::Tshirt, Neckline::Crew, View::Front));
    }

    #[test]
    fn a_neck_on_the_shoulder_line_with_nothing_at_the_front_is_a_back_view() {
        let f = ShapeFeatures {
            hood_rise: 0.006,
            ..crew_tee_front()
        };
        assert_eq!(read(&f), (GarmentType::Tshirt, Neckline::Crew, View::Back));
    }

    #[test]
    fn a_standing_collar_makes_a_polo_and_a_higher_rise_a_hoodie() {
        let polo = ShapeFeatures {
            hood_rise: 0.11,
            ..crew_tee_front()
        };
        assert_eq!(
            read(&polo),
            (GarmentType::Polo, Neckline::Collar, View::Front)
        );
        let hoodie = ShapeFeatures {
            hood_rise: 0.3,
            sleeve_length: 1.3,
            ..crew_tee_front()
        };
        assert_eq!(
            read(&hoodie),
            (GarmentType::Hoodie, Neckline::Hood, View::Front)
        );
    }

    #[test]
    fn a_placket_needs_a_collar_outline_to_make_a_polo() {
        let seams_only = ShapeFeatures {
            placket: 0.2,
            ..crew_tee_front()
        };
        assert_eq!(classify_type(&seams_only).value, GarmentType::Tshirt);
        let placket_and_collar = ShapeFeatures {
            placket: 0.2,
            collar_edges: 0.3,
            ..crew_tee_front()
        };
        assert_eq!(classify_type(&placket_and_collar).value, GarmentType::Polo);
        // A placket on a back view is impossible: the collar cue wins.
        assert_eq!(
            classify_view(&placket_and_collar, GarmentType::Polo).value,
            View::Front
        );
    }

    #[test]
    fn long_sleeves_with_a_collar_are_a_shirt_and_without_a_sweater() {
        let long = ShapeFeatures {
            sleeve_length: 1.2,
            ..crew_tee_front()
        };
        assert_eq!(classify_type(&long).value, GarmentType::Sweater);
        let shirt = ShapeFeatures {
            hood_rise: 0.1,
            ..long
        };
        assert_eq!(classify_type(&shirt).value, GarmentType::Shirt);
    }

    #[test]
    fn a_dress_has_no_hood_and_no_side() {
        let dress = ShapeFeatures {
            hood_rise: 6.4,
            sleeve_length: 0.0,
            sleeve_area: 0.0,
            aspect: 1.6,
            ..crew_tee_front()
        };
        assert_eq!(
            read(&dress),
            (GarmentType::Dress, Neckline::Crew, View::Unknown)
        );
    }
}

//! A picture of what the analysis saw, for a person to check by eye: the
//! mask outline, the landmarks, the logo boxes and the palette.

use image::{Rgb, RgbImage, RgbaImage};
use imageproc::drawing::{
    draw_filled_circle_mut, draw_filled_rect_mut, draw_hollow_rect_mut, draw_line_segment_mut,
};
use imageproc::rect::Rect;

use crate::analysis::GarmentAnalysis;
use crate::mask::{Mask, ON};

const OUTLINE: Rgb<u8> = Rgb([0, 220, 90]);
const LOGO_BOX: Rgb<u8> = Rgb([255, 0, 200]);

/// Colour of each landmark marker, by name (also used in docs' legends).
pub fn landmark_colour(name: &str) -> Rgb<u8> {
    match name {
        "collar_centre" => Rgb([255, 255, 0]),
        n if n.starts_with("neck") => Rgb([255, 160, 0]),
        n if n.starts_with("shoulder") => Rgb([255, 40, 40]),
        n if n.starts_with("sleeve") => Rgb([0, 200, 255]),
        n if n.starts_with("armpit") => Rgb([160, 80, 255]),
        n if n.starts_with("hem") => Rgb([0, 90, 255]),
        n if n.starts_with("waist") => Rgb([255, 120, 120]),
        _ => Rgb([255, 255, 255]),
    }
}

/// Draws the overlay at the photo's resolution. Transparent areas are shown
/// on a grey checkerboard so the cut-out edge is visible.
pub fn draw_overlay(photo: &RgbaImage, mask: &Mask, analysis: &GarmentAnalysis) -> RgbImage {
    let (w, h) = photo.dimensions();
    let swatch_height = (h / 12).max(16);
    let mut out = RgbImage::new(w, h + swatch_height);
    for (x, y, p) in photo.enumerate_pixels() {
        let checker = if ((x / 16) + (y / 16)) % 2 == 0 {
            200.0
        } else {
            230.0
        };
        let a = p.0[3] as f32 / 255.0;
        let mix = |c: u8| (c as f32 * a + checker * (1.0 - a)).round() as u8;
        out.put_pixel(x, y, Rgb([mix(p.0[0]), mix(p.0[1]), mix(p.0[2])]));
    }
    let thickness = (w.max(h) / 400).max(1) as i32;
    for (x, y, m) in mask.enumerate_pixels() {
        if m.0[0] != ON {
            continue;
        }
        let edge = [(-1i32, 0i32), (1, 0), (0, -1), (0, 1)]
            .iter()
            .any(|(dx, dy)| {
                let (nx, ny) = (x as i32 + dx, y as i32 + dy);
                nx < 0
                    || ny < 0
                    || nx >= w as i32
                    || ny >= h as i32
                    || mask.get_pixel(nx as u32, ny as u32).0[0] != ON
            });
        if edge {
            for t in 0..thickness {
                let (px, py) = (x as i32 - t, y as i32);
                if px >= 0 && (py as u32) < h {
                    out.put_pixel(px as u32, py as u32, OUTLINE);
                }
            }
        }
    }
    for region in &analysis.branding.regions {
        let [x, y, bw, bh] = region.bbox;
        for t in 0..thickness * 2 {
            let r =
                Rect::at(x as i32 - t, y as i32 - t).of_size(bw + 2 * t as u32, bh + 2 * t as u32);
            draw_hollow_rect_mut(&mut out, r, LOGO_BOX);
        }
    }
    let radius = (w.max(h) / 110).max(3) as i32;
    let lm = &analysis.landmarks;
    for (a, b) in [
        ("neck_left", "shoulder_left"),
        ("neck_right", "shoulder_right"),
        ("shoulder_left", "sleeve_end_left"),
        ("shoulder_right", "sleeve_end_right"),
        ("armpit_left", "hem_left"),
        ("armpit_right", "hem_right"),
    ] {
        if let (Some(p), Some(q)) = (lm.get(a), lm.get(b)) {
            draw_line_segment_mut(&mut out, (p[0], p[1]), (q[0], q[1]), Rgb([255, 255, 255]));
        }
    }
    for (name, [x, y]) in lm {
        draw_filled_circle_mut(&mut out, (*x as i32, *y as i32), radius + 2, Rgb([0, 0, 0]));
        draw_filled_circle_mut(
            &mut out,
            (*x as i32, *y as i32),
            radius,
            landmark_colour(name),
        );
    }
    // Palette strip: each swatch as wide as its share; the dominant colour
    // as a square at the left.
    let dom = &analysis.colors.dominant;
    draw_filled_rect_mut(
        &mut out,
        Rect::at(0, h as i32).of_size(swatch_height, swatch_height),
        Rgb([dom.r, dom.g, dom.b]),
    );
    let mut x = swatch_height as f32 + 4.0;
    let avail = (w as f32 - x).max(1.0);
    for s in &analysis.colors.palette {
        let width = (s.share * avail).round().max(1.0) as u32;
        draw_filled_rect_mut(
            &mut out,
            Rect::at(x as i32, h as i32).of_size(width, swatch_height),
            Rgb(s.rgb),
        );
        x += width as f32;
    }
    out
}

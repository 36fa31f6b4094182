//! Colour conversions the stages share: the photo in linear RGB and its
//! luminance, sRGB ↔ linear through tables, CIELAB → linear.

use garmax_vision::color::{Lab, lab_to_srgb};
use image::RgbaImage;

use crate::plane::Plane;

/// 8-bit sRGB → linear, one entry per code value.
pub(crate) fn srgb_lut() -> &'static [f32; 256] {
    static LUT: std::sync::OnceLock<[f32; 256]> = std::sync::OnceLock::new();
    LUT.get_or_init(|| {
        let mut t = [0.0; 256];
        for (i, v) in t.iter_mut().enumerate() {
            let c = i as f32 / 255.0;
            *v = if c <= 0.04045 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            };
        }
        t
    })
}

fn to_srgb(c: f32) -> f32 {
    let c = c.clamp(0.0, 1.0);
    if c <= 0.003_130_8 {
        c * 12.92
    } else {
        1.055 * c.powf(1.0 / 2.4) - 0.055
    }
}

/// Linear → 8-bit sRGB through a 4096-entry table (the exact curve costs a
/// `powf` per channel, and this runs on every output pixel).
pub(crate) fn lin_to_u8(c: [f32; 3]) -> [u8; 3] {
    static LUT: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    let lut = LUT.get_or_init(|| {
        (0..4096)
            .map(|i| (to_srgb(i as f32 / 4095.0) * 255.0 + 0.5) as u8)
            .collect()
    });
    c.map(|v| lut[(v.clamp(0.0, 1.0) * 4095.0 + 0.5) as usize])
}

pub(crate) fn lab_to_linear(l: Lab) -> [f32; 3] {
    lab_to_srgb(l).map(|v| srgb_lut()[v as usize])
}

pub(crate) fn median(mut v: Vec<f32>) -> Option<f32> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f32::total_cmp);
    Some(v[v.len() / 2])
}

/// The person photo in linear RGB, and its Rec. 709 luminance: what the
/// shading is read from and the old-clothing removal paints into.
pub struct LinearPhoto {
    pub rgb: [Plane; 3],
    pub luma: Plane,
}

impl LinearPhoto {
    pub fn from_rgba(photo: &RgbaImage) -> LinearPhoto {
        let (w, h) = photo.dimensions();
        let rgb: [Plane; 3] = std::array::from_fn(|c| Plane {
            w,
            h,
            data: photo
                .pixels()
                .map(|p| srgb_lut()[p.0[c] as usize])
                .collect(),
        });
        let luma = Plane {
            w,
            h,
            data: (0..(w * h) as usize)
                .map(|i| {
                    0.2126 * rgb[0].data[i] + 0.7152 * rgb[1].data[i] + 0.0722 * rgb[2].data[i]
                })
                .collect(),
        };
        LinearPhoto { rgb, luma }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tables_round_trip_every_code_value() {
        for v in 0..=255u8 {
            let lin = srgb_lut()[v as usize];
            assert_eq!(lin_to_u8([lin; 3]), [v; 3], "code value {v}");
        }
    }

    #[test]
    fn luminance_weighs_green_most() {
        let mut img = RgbaImage::new(3, 1);
        img.put_pixel(0, 0, image::Rgba([255, 0, 0, 255]));
        img.put_pixel(1, 0, image::Rgba([0, 255, 0, 255]));
        img.put_pixel(2, 0, image::Rgba([0, 0, 255, 255]));
        let p = LinearPhoto::from_rgba(&img);
        assert!((p.luma.data[0] - 0.2126).abs() < 1e-6);
        assert!((p.luma.data[1] - 0.7152).abs() < 1e-6);
        assert!((p.luma.data[2] - 0.0722).abs() < 1e-6);
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![]), None);
    }
}

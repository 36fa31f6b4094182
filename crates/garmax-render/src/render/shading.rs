//! Shading: the person's own light and folds, read from the photo's
//! luminance under the new garment, as a multiplier of the garment's
//! colour.

use image::RgbImage;

use crate::plane::{Plane, masked_box_blur};

/// Radius of the fine blur (the folds), shared with the skin repaint that
/// follows the old fabric's light at the same scale.
pub fn fine_radius(sw: f32) -> u32 {
    ((0.012 * sw).round() as u32).max(1)
}

/// The shading field of one render.
pub struct Shading {
    /// Luminance blurred over 1.2 % of the shoulder width (folds) and over
    /// 22 % (the light fall-off), inside the garment, face and hands left
    /// out.
    small: Plane,
    big: Plane,
    /// Mean luminance of the shaded region: the light is relative to it.
    mean_luma: f32,
    /// How much of each pixel is person (0–1): folds are read from the old
    /// clothing, so fabric standing off the body over the background takes
    /// none (it would take the dark rim of the silhouette instead).
    on_body: Plane,
    /// A mild Lambert term from the fitted body's normals, where given.
    normal: Option<Plane>,
    /// `styleTransferWeight`: the exponent on the transferred shading.
    style: f32,
    /// `brandingEnhancementWeight`: logos take less of the shading.
    brand: f32,
}

impl Shading {
    /// Estimates the shading from `luma` where the garment covers the
    /// person (`coverage`, `person`), away from `protect`.
    #[allow(clippy::too_many_arguments)]
    pub fn estimate(
        luma: &Plane,
        coverage: &Plane,
        person: &Plane,
        protect: &Plane,
        normal_map: Option<&RgbImage>,
        sw: f32,
        style: f32,
        brand: f32,
    ) -> Shading {
        let (w, h) = (luma.w, luma.h);
        let shade_w = coverage.zip_with(person, |g, p| if g > 0.05 { p } else { 0.0 });
        let shade_w = shade_w.zip_with(protect, |s, p| s * (1.0 - p));
        let r_big = ((0.22 * sw).round() as u32).max(2);
        let r_small = fine_radius(sw);
        let mean_luma = {
            let (mut s, mut n) = (0.0f64, 0.0f64);
            for (y, wt) in luma.data.iter().zip(&shade_w.data) {
                s += (*y * wt) as f64;
                n += *wt as f64;
            }
            if n > 0.0 { (s / n) as f32 } else { 0.5 }
        }
        .max(1e-3);
        let big = masked_box_blur(luma, &shade_w, r_big, mean_luma);
        let small = masked_box_blur(luma, &shade_w, r_small, mean_luma);
        let normal = normal_map.filter(|n| n.dimensions() == (w, h)).map(|n| {
            // Lambert-like term from the body normals: the fitted body's
            // shape where the old clothing was flat. Black = no body there:
            // leave the shading alone.
            Plane {
                w,
                h,
                data: n
                    .pixels()
                    .map(|p| {
                        if p.0 == [0, 0, 0] {
                            1.0
                        } else {
                            0.8 + 0.2 * (p.0[2] as f32 / 127.5 - 1.0).max(0.0)
                        }
                    })
                    .collect(),
            }
        });
        Shading {
            small,
            big,
            mean_luma,
            on_body: person.clone(),
            normal,
            style,
            brand,
        }
    }

    /// The multiplier of the garment colour at pixel `i`, whose texel has
    /// logo weight `logo`: folds × light fall-off × body normal, raised to
    /// the style weight (less on logos by the branding weight).
    pub fn at(&self, i: usize, logo: f32) -> f32 {
        let fold = (self.small.data[i] / self.big.data[i].max(1e-4)).clamp(0.45, 1.5);
        let fold = 1.0 + (fold - 1.0) * self.on_body.data[i].clamp(0.0, 1.0);
        let light = (self.big.data[i] / self.mean_luma)
            .clamp(0.55, 1.45)
            .powf(0.6);
        let normal = self.normal.as_ref().map(|n| n.data[i]).unwrap_or(1.0);
        let s_eff = self.style * (1.0 - 0.6 * self.brand * logo);
        (fold * light * normal).powf(s_eff)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 40×20 luminance with a dark left half, all of it garment.
    fn two_tone() -> (Plane, Plane, Plane) {
        let mut luma = Plane::new(40, 20, 0.5);
        for y in 0..20 {
            for x in 0..20 {
                let i = luma.idx(x, y);
                luma.data[i] = 0.1;
            }
        }
        (luma, Plane::new(40, 20, 1.0), Plane::new(40, 20, 0.0))
    }

    #[test]
    fn flat_light_leaves_the_garment_as_it_is() {
        let luma = Plane::new(30, 30, 0.4);
        let one = Plane::new(30, 30, 1.0);
        let zero = Plane::new(30, 30, 0.0);
        let s = Shading::estimate(&luma, &one, &one, &zero, None, 100.0, 1.0, 0.0);
        assert!((s.at(15 * 30 + 15, 0.0) - 1.0).abs() < 1e-5);
    }

    #[test]
    fn shadows_darken_and_the_style_weight_scales_them() {
        let (luma, one, zero) = two_tone();
        let full = Shading::estimate(&luma, &one, &one, &zero, None, 100.0, 1.0, 1.0);
        let dark = 10 * 40 + 2;
        let lit = 10 * 40 + 37;
        assert!(full.at(dark, 0.0) < 0.9, "{}", full.at(dark, 0.0));
        assert!(full.at(lit, 0.0) > 1.0, "{}", full.at(lit, 0.0));
        // Style 0: a flat product.
        let flat = Shading::estimate(&luma, &one, &one, &zero, None, 100.0, 0.0, 1.0);
        assert_eq!(flat.at(dark, 0.0), 1.0);
        // Branding: a logo takes 60 % less of the shading at weight 1.
        assert!(full.at(dark, 1.0) > full.at(dark, 0.0));
        // Protected pixels do not contribute: protecting the dark half
        // leaves the lit half flat.
        let mut protect = zero.clone();
        for y in 0..20 {
            for x in 0..20 {
                let i = protect.idx(x, y);
                protect.data[i] = 1.0;
            }
        }
        let s = Shading::estimate(&luma, &one, &one, &protect, None, 100.0, 1.0, 0.0);
        assert!((s.at(lit, 0.0) - 1.0).abs() < 1e-4, "{}", s.at(lit, 0.0));
    }

    #[test]
    fn fabric_off_the_body_takes_no_folds_from_the_silhouettes_dark_rim() {
        // A person on the left 30 columns with a dark rim (x 26..30), a
        // garment over everything, shoulders 300 px wide (fine radius 4).
        let (w, h) = (40, 20);
        let mut luma = Plane::new(w, h, 0.5);
        let mut person = Plane::new(w, h, 0.0);
        for y in 0..h {
            for x in 0..w {
                let i = luma.idx(x, y);
                if x < 30 {
                    person.data[i] = 1.0;
                }
                if (26..30).contains(&x) {
                    luma.data[i] = 0.1;
                }
            }
        }
        let one = Plane::new(w, h, 1.0);
        let zero = Plane::new(w, h, 0.0);
        let s = Shading::estimate(&luma, &one, &person, &zero, None, 300.0, 1.0, 0.0);
        let (rim, beside) = (10 * w as usize + 28, 10 * w as usize + 31);
        assert!(
            s.at(rim, 0.0) < 0.7,
            "the rim is shaded: {}",
            s.at(rim, 0.0)
        );
        // Just off the body the blur still sees only the rim, but there is
        // no old clothing there to read a fold from.
        assert!(s.at(beside, 0.0) > 0.85, "{}", s.at(beside, 0.0));
    }

    #[test]
    fn the_body_normals_shade_surfaces_turned_away() {
        let luma = Plane::new(4, 1, 0.4);
        let one = Plane::new(4, 1, 1.0);
        let zero = Plane::new(4, 1, 0.0);
        let mut n = RgbImage::new(4, 1);
        n.put_pixel(0, 0, image::Rgb([128, 128, 255])); // facing the camera
        n.put_pixel(1, 0, image::Rgb([255, 128, 128])); // turned sideways
        let s = Shading::estimate(&luma, &one, &one, &zero, Some(&n), 100.0, 1.0, 0.0);
        assert!(s.at(1, 0.0) < s.at(0, 0.0) - 0.1);
        assert_eq!(s.at(2, 0.0), 1.0, "black = no body");
    }
}

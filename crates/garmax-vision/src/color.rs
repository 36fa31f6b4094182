//! Colour science: sRGB ↔ CIELAB (D65) and the CIEDE2000 colour difference.
//!
//! Garment colours are compared in CIELAB because equal distances there are
//! roughly equal to the eye, and with ΔE2000 because it corrects Lab's known
//! non-uniformity in blues and near-greys, where product colours often sit.

use serde::Serialize;

/// A CIELAB colour under the D65 white point.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Lab {
    pub l: f32,
    pub a: f32,
    pub b: f32,
}

impl Lab {
    pub const fn new(l: f32, a: f32, b: f32) -> Lab {
        Lab { l, a, b }
    }

    /// Chroma, the distance from the grey axis.
    pub fn chroma(self) -> f32 {
        self.a.hypot(self.b)
    }

    /// Squared Euclidean distance (ΔE76²), the cheap metric k-means uses.
    pub fn dist2(self, other: Lab) -> f32 {
        (self.l - other.l).powi(2) + (self.a - other.a).powi(2) + (self.b - other.b).powi(2)
    }
}

/// Xn, Yn, Zn of the D65 reference white.
const WHITE: [f32; 3] = [0.950_47, 1.0, 1.088_83];

fn srgb_to_linear(c: f32) -> f32 {
    if c <= 0.040_45 {
        c / 12.92
    } else {
        ((c + 0.055) / 1.055).powf(2.4)
    }
}

fn linear_to_srgb(c: f32) -> f32 {
    if c <= 0.003_130_8 {
        c * 12.92
    } else {
        1.055 * c.powf(1.0 / 2.4) - 0.055
    }
}

/// Linearisation table for 8-bit sRGB; analysis converts millions of pixels.
fn linear_lut() -> &'static [f32; 256] {
    static LUT: std::sync::OnceLock<[f32; 256]> = std::sync::OnceLock::new();
    LUT.get_or_init(|| std::array::from_fn(|i| srgb_to_linear(i as f32 / 255.0)))
}

fn lab_f(t: f32) -> f32 {
    const DELTA: f32 = 6.0 / 29.0;
    if t > DELTA * DELTA * DELTA {
        t.cbrt()
    } else {
        t / (3.0 * DELTA * DELTA) + 4.0 / 29.0
    }
}

fn lab_f_inv(t: f32) -> f32 {
    const DELTA: f32 = 6.0 / 29.0;
    if t > DELTA {
        t * t * t
    } else {
        3.0 * DELTA * DELTA * (t - 4.0 / 29.0)
    }
}

/// Converts an 8-bit sRGB colour to CIELAB.
pub fn srgb_to_lab(rgb: [u8; 3]) -> Lab {
    let lut = linear_lut();
    let [r, g, b] = rgb.map(|c| lut[c as usize]);
    let x = 0.412_456_4 * r + 0.357_576_1 * g + 0.180_437_5 * b;
    let y = 0.212_672_9 * r + 0.715_152_2 * g + 0.072_175 * b;
    let z = 0.019_333_9 * r + 0.119_192 * g + 0.950_304_1 * b;
    let fx = lab_f(x / WHITE[0]);
    let fy = lab_f(y / WHITE[1]);
    let fz = lab_f(z / WHITE[2]);
    Lab {
        l: 116.0 * fy - 16.0,
        a: 500.0 * (fx - fy),
        b: 200.0 * (fy - fz),
    }
}

/// Converts CIELAB back to 8-bit sRGB, clipping colours outside the gamut.
pub fn lab_to_srgb(lab: Lab) -> [u8; 3] {
    let fy = (lab.l + 16.0) / 116.0;
    let fx = fy + lab.a / 500.0;
    let fz = fy - lab.b / 200.0;
    let x = WHITE[0] * lab_f_inv(fx);
    let y = WHITE[1] * lab_f_inv(fy);
    let z = WHITE[2] * lab_f_inv(fz);
    let r = 3.240_454_2 * x - 1.537_138_5 * y - 0.498_531_4 * z;
    let g = -0.969_266 * x + 1.876_010_8 * y + 0.041_556 * z;
    let b = 0.055_643_4 * x - 0.204_025_9 * y + 1.057_225_2 * z;
    [r, g, b].map(|c| (linear_to_srgb(c.clamp(0.0, 1.0)) * 255.0).round() as u8)
}

/// `#rrggbb`.
pub fn hex(rgb: [u8; 3]) -> String {
    format!("#{:02x}{:02x}{:02x}", rgb[0], rgb[1], rgb[2])
}

/// Lightness, chroma and hue weights of CIEDE2000 (1, 1, 1 is the standard).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DeltaEWeights {
    pub k_l: f32,
    pub k_c: f32,
    pub k_h: f32,
}

impl Default for DeltaEWeights {
    fn default() -> Self {
        DeltaEWeights {
            k_l: 1.0,
            k_c: 1.0,
            k_h: 1.0,
        }
    }
}

/// CIEDE2000 colour difference with the standard weights.
pub fn delta_e2000(x: Lab, y: Lab) -> f32 {
    delta_e2000_weighted(x, y, DeltaEWeights::default())
}

/// CIEDE2000 with parametric weights. A larger `k_l` makes lightness count
/// less, which is how shading-robust comparisons are built: folds change
/// lightness far more than they change hue or chroma.
pub fn delta_e2000_weighted(x: Lab, y: Lab, w: DeltaEWeights) -> f32 {
    // Computed in f64: the hue terms subtract nearly equal angles.
    let (l1, a1, b1) = (f64::from(x.l), f64::from(x.a), f64::from(x.b));
    let (l2, a2, b2) = (f64::from(y.l), f64::from(y.a), f64::from(y.b));
    let c1 = a1.hypot(b1);
    let c2 = a2.hypot(b2);
    let c_bar = (c1 + c2) / 2.0;
    let c_bar7 = c_bar.powi(7);
    let g = 0.5 * (1.0 - (c_bar7 / (c_bar7 + 25f64.powi(7))).sqrt());
    let a1p = (1.0 + g) * a1;
    let a2p = (1.0 + g) * a2;
    let c1p = a1p.hypot(b1);
    let c2p = a2p.hypot(b2);
    let hue = |b: f64, a: f64| {
        if a == 0.0 && b == 0.0 {
            0.0
        } else {
            let h = b.atan2(a).to_degrees();
            if h < 0.0 { h + 360.0 } else { h }
        }
    };
    let h1p = hue(b1, a1p);
    let h2p = hue(b2, a2p);

    let dl = l2 - l1;
    let dc = c2p - c1p;
    let dh_angle = if c1p * c2p == 0.0 {
        0.0
    } else {
        let d = h2p - h1p;
        if d > 180.0 {
            d - 360.0
        } else if d < -180.0 {
            d + 360.0
        } else {
            d
        }
    };
    let dh = 2.0 * (c1p * c2p).sqrt() * (dh_angle.to_radians() / 2.0).sin();

    let l_bar = (l1 + l2) / 2.0;
    let c_bar_p = (c1p + c2p) / 2.0;
    let h_bar_p = if c1p * c2p == 0.0 {
        h1p + h2p
    } else if (h1p - h2p).abs() <= 180.0 {
        (h1p + h2p) / 2.0
    } else if h1p + h2p < 360.0 {
        (h1p + h2p + 360.0) / 2.0
    } else {
        (h1p + h2p - 360.0) / 2.0
    };
    let t = 1.0 - 0.17 * (h_bar_p - 30.0).to_radians().cos()
        + 0.24 * (2.0 * h_bar_p).to_radians().cos()
        + 0.32 * (3.0 * h_bar_p + 6.0).to_radians().cos()
        - 0.20 * (4.0 * h_bar_p - 63.0).to_radians().cos();
    let d_theta = 30.0 * (-((h_bar_p - 275.0) / 25.0).powi(2)).exp();
    let c_bar_p7 = c_bar_p.powi(7);
    let r_c = 2.0 * (c_bar_p7 / (c_bar_p7 + 25f64.powi(7))).sqrt();
    let l50 = (l_bar - 50.0).powi(2);
    let s_l = 1.0 + 0.015 * l50 / (20.0 + l50).sqrt();
    let s_c = 1.0 + 0.045 * c_bar_p;
    let s_h = 1.0 + 0.015 * c_bar_p * t;
    let r_t = -(2.0 * d_theta).to_radians().sin() * r_c;

    let tl = dl / (f64::from(w.k_l) * s_l);
    let tc = dc / (f64::from(w.k_c) * s_c);
    let th = dh / (f64::from(w.k_h) * s_h);
    (tl * tl + tc * tc + th * th + r_t * tc * th).sqrt() as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pairs from Sharma, Wu & Dalal (2005), "The CIEDE2000 colour-difference
    /// formula: implementation notes, supplementary test data".
    #[test]
    fn matches_sharma_reference_data() {
        let cases = [
            ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
            ((50.0, 3.1571, -77.2803), (50.0, 0.0, -82.7485), 2.8615),
            ((50.0, 2.8361, -74.0200), (50.0, 0.0, -82.7485), 3.4412),
            ((50.0, -1.3802, -84.2814), (50.0, 0.0, -82.7485), 1.0),
            ((50.0, 0.0, 0.0), (50.0, -1.0, 2.0), 2.3669),
            ((50.0, 2.49, -0.001), (50.0, -2.49, 0.0011), 7.2195),
            ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
            ((50.0, 2.5, 0.0), (56.0, -27.0, -3.0), 31.9030),
            (
                (60.2574, -34.0099, 36.2677),
                (60.4626, -34.1751, 39.4387),
                1.2644,
            ),
            (
                (22.7233, 20.0904, -46.6940),
                (23.0331, 14.9730, -42.5619),
                2.0373,
            ),
            (
                (90.9257, -0.5406, -0.9208),
                (88.6381, -0.8985, -0.7239),
                1.5381,
            ),
            (
                (2.0776, 0.0795, -1.1350),
                (0.9033, -0.0636, -0.5514),
                0.9082,
            ),
        ];
        for ((l1, a1, b1), (l2, a2, b2), expected) in cases {
            let got = delta_e2000(Lab::new(l1, a1, b1), Lab::new(l2, a2, b2));
            assert!((got - expected).abs() < 1e-3, "{got} vs {expected}");
            let swapped = delta_e2000(Lab::new(l2, a2, b2), Lab::new(l1, a1, b1));
            assert!((got - swapped).abs() < 1e-4, "not symmetric");
        }
    }

    #[test]
    fn known_srgb_values() {
        let white = srgb_to_lab([255, 255, 255]);
        assert!((white.l - 100.0).abs() < 0.01 && white.a.abs() < 0.01 && white.b.abs() < 0.01);
        let red = srgb_to_lab([255, 0, 0]);
        assert!((red.l - 53.24).abs() < 0.05, "{red:?}");
        assert!((red.a - 80.09).abs() < 0.1, "{red:?}");
        assert!((red.b - 67.20).abs() < 0.1, "{red:?}");
    }

    #[test]
    fn lab_round_trips_every_grey_and_primary() {
        for v in (0..=255u8).step_by(5) {
            for rgb in [
                [v, v, v],
                [v, 0, 0],
                [0, v, 0],
                [0, 0, v],
                [v, 128, 255 - v],
            ] {
                let back = lab_to_srgb(srgb_to_lab(rgb));
                for c in 0..3 {
                    assert!(
                        (i32::from(back[c]) - i32::from(rgb[c])).abs() <= 1,
                        "{rgb:?} -> {back:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn lightness_weight_discounts_shading() {
        let fabric = srgb_to_lab([200, 60, 50]);
        let shaded = srgb_to_lab([150, 45, 38]);
        let plain = delta_e2000(fabric, shaded);
        let robust = delta_e2000_weighted(
            fabric,
            shaded,
            DeltaEWeights {
                k_l: 3.0,
                k_c: 1.0,
                k_h: 1.0,
            },
        );
        assert!(robust < plain * 0.7, "{robust} vs {plain}");
    }

    #[test]
    fn hex_formats_lowercase() {
        assert_eq!(hex([255, 8, 171]), "#ff08ab");
    }
}

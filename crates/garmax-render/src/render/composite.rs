//! Composite: the shaded layers over the photo with the old clothing
//! removed, in depth order (torso, arms in front of it, sleeves, then face,
//! hair and hands on top), and the colour matching of the base fabric.

use garmax_vision::color::{Lab, delta_e2000, srgb_to_lab};
use rayon::prelude::*;

use crate::plane::Plane;

use super::color::{lab_to_linear, lin_to_u8};
use super::placement::Layer;
use super::shading::Shading;

/// The composited image in linear RGB and what each pixel shows.
pub struct Composite {
    pub rgb: [Vec<f32>; 3],
    /// Visible garment: 0 where the photo shows, 1 where the garment does.
    pub alpha: Vec<f32>,
    /// Logo and plain-fabric weight of the garment texel shown.
    pub logo: Vec<f32>,
    pub fabric: Vec<f32>,
}

/// One garment layer and its clipped coverage.
pub struct Placed<'a> {
    pub layer: &'a Layer,
    pub coverage: &'a Plane,
}

/// Composites `under` (the torso layer), then `front` (skin in front of it,
/// shown from `base`), then `over` (sleeves) onto `base`; `protect` (face,
/// hair, hands) goes back on top from `base`, so a repainted neck under the
/// chin stays repainted.
// Channel loops index several parallel per-channel arrays at once.
#[allow(clippy::needless_range_loop)]
pub fn composite(
    base: &[Plane; 3],
    under: Placed<'_>,
    front: &Plane,
    over: Placed<'_>,
    shading: &Shading,
    protect: &Plane,
) -> Composite {
    let n = base[0].data.len();
    let mut out: [Vec<f32>; 3] = std::array::from_fn(|c| base[c].data.clone());
    let mut logo_vis = vec![0.0f32; n];
    let mut final_alpha = vec![0.0f32; n];
    let mut fabric_vis = vec![0.0f32; n];
    let (t, s) = (under.layer, over.layer);
    for i in 0..n {
        let (at, as_) = (under.coverage.data[i], over.coverage.data[i]);
        if at <= 0.0 && as_ <= 0.0 {
            continue;
        }
        let mut px = [out[0][i], out[1][i], out[2][i]];
        let mut alpha = 0.0f32;
        if at > 0.0 {
            let k = shading.at(i, t.logo.data[i]);
            for c in 0..3 {
                px[c] = px[c] * (1.0 - at) + (t.rgb[i][c] * k) * at;
            }
            alpha = at;
            logo_vis[i] = t.logo.data[i];
            fabric_vis[i] = t.fabric.data[i];
        }
        let af = front.data[i];
        if af > 0.0 {
            for c in 0..3 {
                px[c] = px[c] * (1.0 - af) + base[c].data[i] * af;
            }
            alpha *= 1.0 - af;
        }
        if as_ > 0.0 {
            let k = shading.at(i, s.logo.data[i]);
            for c in 0..3 {
                px[c] = px[c] * (1.0 - as_) + (s.rgb[i][c] * k) * as_;
            }
            alpha = alpha + as_ * (1.0 - alpha);
            if as_ > at {
                logo_vis[i] = s.logo.data[i];
                fabric_vis[i] = s.fabric.data[i];
            }
        }
        for c in 0..3 {
            out[c][i] = px[c];
        }
        final_alpha[i] = alpha;
    }
    for i in 0..n {
        let p = protect.data[i];
        if p > 0.0 {
            for c in 0..3 {
                out[c][i] = out[c][i] * (1.0 - p) + base[c].data[i] * p;
            }
            final_alpha[i] *= 1.0 - p;
        }
    }
    Composite {
        rgb: out,
        alpha: final_alpha,
        logo: logo_vis,
        fabric: fabric_vis,
    }
}

/// The rendered base fabric's colour.
pub struct FabricColour {
    /// Mean CIELAB of the base fabric after colour matching.
    pub mean: Lab,
    /// Mean per-pixel ΔE2000 of the base fabric to the dominant colour.
    pub delta_e: f32,
    /// Base-fabric pixels (fully visible, plain fabric, not print).
    pub pixels: usize,
}

/// Pulls the mean colour of the visible base fabric toward `dominant` by
/// `weight` (`colorMatchingWeight`), prints keeping their own colours, and
/// measures the result.
#[allow(clippy::needless_range_loop)]
pub fn match_colour(comp: &mut Composite, dominant: Lab, weight: f32) -> FabricColour {
    let n = comp.alpha.len();
    let (mean_before, _, _) = measure(comp, dominant, false);
    let shift = Lab::new(
        (dominant.l - mean_before.l) * weight,
        (dominant.a - mean_before.a) * weight,
        (dominant.b - mean_before.b) * weight,
    );
    if weight > 0.0 && (shift.l.abs() + shift.a.abs() + shift.b.abs()) > 0.05 {
        let out = &comp.rgb;
        let updates: Vec<(usize, [f32; 3])> = (0..n)
            .into_par_iter()
            .filter(|&i| comp.alpha[i] > 0.0)
            .map(|i| {
                // Prints keep their own colours; only the fabric is pulled.
                let wgt = comp.alpha[i] * (1.0 - comp.logo[i]) * comp.fabric[i].max(0.3);
                let l = srgb_to_lab(lin_to_u8([out[0][i], out[1][i], out[2][i]]));
                let moved = Lab::new(
                    l.l + shift.l * wgt,
                    l.a + shift.a * wgt,
                    l.b + shift.b * wgt,
                );
                (i, lab_to_linear(moved))
            })
            .collect();
        for (i, c) in updates {
            for k in 0..3 {
                comp.rgb[k][i] = c[k];
            }
        }
    }
    let (mean, delta_e, pixels) = measure(comp, dominant, true);
    FabricColour {
        mean,
        delta_e,
        pixels,
    }
}

/// Mean Lab (and, with `with_de`, mean ΔE2000 to `dominant`) of the base
/// fabric pixels, and their count.
fn measure(comp: &Composite, dominant: Lab, with_de: bool) -> (Lab, f32, usize) {
    let out = &comp.rgb;
    let is_fabric = |i: usize| comp.alpha[i] > 0.9 && comp.fabric[i] > 0.9 && comp.logo[i] < 0.1;
    // Every other fabric pixel: the means are the same to well under 0.1 ΔE
    // and it halves the CIEDE2000 work.
    let all: Vec<usize> = (0..comp.alpha.len()).filter(|&i| is_fabric(i)).collect();
    let idx: Vec<usize> = all.iter().copied().step_by(2).collect();
    let labs: Vec<Lab> = idx
        .par_iter()
        .map(|&i| srgb_to_lab(lin_to_u8([out[0][i], out[1][i], out[2][i]])))
        .collect();
    let cnt = labs.len().max(1) as f32;
    let mean = labs.iter().fold(Lab::new(0.0, 0.0, 0.0), |a, l| {
        Lab::new(a.l + l.l, a.a + l.a, a.b + l.b)
    });
    let mean = Lab::new(mean.l / cnt, mean.a / cnt, mean.b / cnt);
    let de = if with_de {
        labs.par_iter()
            .map(|l| delta_e2000(*l, dominant))
            .sum::<f32>()
            / cnt
    } else {
        0.0
    };
    (mean, de, all.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(w: u32, h: u32, rgb: [f32; 3], a: f32) -> Layer {
        Layer {
            rgb: vec![rgb; (w * h) as usize],
            alpha: Plane::new(w, h, a),
            logo: Plane::new(w, h, 0.0),
            fabric: Plane::new(w, h, 1.0),
        }
    }

    fn flat_shading(w: u32, h: u32) -> Shading {
        let one = Plane::new(w, h, 1.0);
        Shading::estimate(
            &Plane::new(w, h, 0.3),
            &one,
            &one,
            &Plane::new(w, h, 0.0),
            None,
            50.0,
            1.0,
            0.0,
        )
    }

    #[test]
    fn layers_stack_in_depth_order_and_the_face_goes_back_on_top() {
        let (w, h) = (4, 1);
        let base: [Plane; 3] = std::array::from_fn(|_| Plane::new(w, h, 0.2));
        let torso = layer(w, h, [0.9, 0.0, 0.0], 1.0);
        let sleeve = layer(w, h, [0.0, 0.0, 0.9], 1.0);
        // Pixel 0: torso only. 1: an arm in front of the torso. 2: a sleeve
        // over the arm. 3: the face.
        let t_cov = Plane {
            w,
            h,
            data: vec![1.0, 1.0, 1.0, 1.0],
        };
        let s_cov = Plane {
            w,
            h,
            data: vec![0.0, 0.0, 1.0, 0.0],
        };
        let front = Plane {
            w,
            h,
            data: vec![0.0, 1.0, 1.0, 0.0],
        };
        let protect = Plane {
            w,
            h,
            data: vec![0.0, 0.0, 0.0, 1.0],
        };
        let c = composite(
            &base,
            Placed {
                layer: &torso,
                coverage: &t_cov,
            },
            &front,
            Placed {
                layer: &sleeve,
                coverage: &s_cov,
            },
            &flat_shading(w, h),
            &protect,
        );
        let is = |i: usize, want: [f32; 3]| (0..3).all(|k| (c.rgb[k][i] - want[k]).abs() < 1e-4);
        assert!(is(0, [0.9, 0.0, 0.0]), "the torso layer shows");
        assert!(is(1, [0.2, 0.2, 0.2]), "the arm shows");
        assert!(is(2, [0.0, 0.0, 0.9]), "the sleeve covers the arm");
        assert!(is(3, [0.2, 0.2, 0.2]), "the face shows");
        assert_eq!(c.alpha, vec![1.0, 0.0, 1.0, 0.0]);
    }

    #[test]
    fn colour_matching_moves_the_fabric_by_the_weight() {
        let (w, h) = (8, 8);
        let target = srgb_to_lab([200, 40, 40]);
        let run = |weight: f32| {
            let grey = lab_to_linear(srgb_to_lab([150, 80, 80]));
            let base: [Plane; 3] = std::array::from_fn(|_| Plane::new(w, h, 0.0));
            let t = layer(w, h, grey, 1.0);
            let none = layer(w, h, grey, 0.0);
            let mut c = composite(
                &base,
                Placed {
                    layer: &t,
                    coverage: &t.alpha,
                },
                &Plane::new(w, h, 0.0),
                Placed {
                    layer: &none,
                    coverage: &none.alpha,
                },
                &flat_shading(w, h),
                &Plane::new(w, h, 0.0),
            );
            match_colour(&mut c, target, weight)
        };
        let before = run(0.0);
        let half = run(0.5);
        let full = run(1.0);
        assert_eq!(before.pixels, 64);
        assert!(half.delta_e < before.delta_e - 3.0);
        assert!(full.delta_e < half.delta_e);
        assert!(full.delta_e < 2.0, "{}", full.delta_e);
    }
}

//! Edge-aware refinement of a layer mask in the photo: the colour guided
//! filter of He, Sun and Tang ("Guided Image Filtering", 2010/2013). A mask
//! drawn from a body model or from landmark capsules has the right extent
//! but not the photo's edges; filtered with the photo as the guide, its
//! boundary moves onto the colour edge nearby (the forearm's contour over
//! the old clothing) and becomes a soft alpha of about the edge's width.
//!
//! The filter is local and linear: in every `(2r+1)²` window the output is
//! an affine function of the guide's colour, `q = aᵀI + b`, fitted to the
//! input mask by ridge regression (`eps` is the ridge), then the
//! coefficients are averaged over the windows covering each pixel. It runs
//! only on the mask's bounding box grown by the windows it touches.

use rayon::prelude::*;

use crate::plane::{Plane, box_blur};

/// The guided filter of `mask` with the three-channel `guide` (values
/// about 0–1), window radius `r`, regularisation `eps` (larger: smoother,
/// closer to a box blur; smaller: follows finer guide edges). The result
/// is clamped to 0–1; it is 0 wherever the mask's neighbourhood (2r) is.
pub fn refine(guide: &[Plane; 3], mask: &Plane, r: u32, eps: f32) -> Plane {
    let (w, h) = (mask.w, mask.h);
    let mut out = Plane::new(w, h, 0.0);
    let Some([x0, y0, x1, y1]) = support(mask, 2 * r) else {
        return out;
    };
    let crop = |p: &Plane| crop(p, x0, y0, x1, y1);
    let i = [crop(&guide[0]), crop(&guide[1]), crop(&guide[2])];
    let q = guided_filter(&i, &crop(mask), r, eps);
    for y in y0..y1 {
        for x in x0..x1 {
            out.data[(y * w + x) as usize] = q.get(x - x0, y - y0).clamp(0.0, 1.0);
        }
    }
    out
}

/// The bounding box `[x0, y0, x1, y1)` of the mask's non-zero pixels, grown
/// by `margin` and clipped to the plane; `None` for an empty mask.
fn support(mask: &Plane, margin: u32) -> Option<[u32; 4]> {
    let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
    for (k, v) in mask.data.iter().enumerate() {
        if *v > 1e-3 {
            let (x, y) = (k as u32 % mask.w, k as u32 / mask.w);
            x0 = x0.min(x);
            y0 = y0.min(y);
            x1 = x1.max(x + 1);
            y1 = y1.max(y + 1);
        }
    }
    (x0 < x1).then(|| {
        [
            x0.saturating_sub(margin),
            y0.saturating_sub(margin),
            (x1 + margin).min(mask.w),
            (y1 + margin).min(mask.h),
        ]
    })
}

fn crop(p: &Plane, x0: u32, y0: u32, x1: u32, y1: u32) -> Plane {
    let (cw, ch) = (x1 - x0, y1 - y0);
    let mut data = Vec::with_capacity((cw * ch) as usize);
    for y in y0..y1 {
        let row = (y * p.w) as usize;
        data.extend_from_slice(&p.data[row + x0 as usize..row + x1 as usize]);
    }
    Plane { w: cw, h: ch, data }
}

/// The colour guided filter on whole planes of one size.
fn guided_filter(i: &[Plane; 3], p: &Plane, r: u32, eps: f32) -> Plane {
    let mean = |x: &Plane| box_blur(x, r);
    let mean_i: [Plane; 3] = std::array::from_fn(|c| mean(&i[c]));
    let mean_p = mean(p);
    // Window covariances of the guide (upper triangle) and of guide × mask.
    let pairs = [(0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2)];
    let var: Vec<Plane> = pairs
        .iter()
        .map(|&(a, b)| {
            let m = mean(&i[a].zip_with(&i[b], |u, v| u * v));
            let ab = mean_i[a].zip_with(&mean_i[b], |u, v| u * v);
            m.zip_with(&ab, |u, v| u - v)
        })
        .collect();
    let cov_ip: [Plane; 3] = std::array::from_fn(|c| {
        let m = mean(&i[c].zip_with(p, |u, v| u * v));
        let ab = mean_i[c].zip_with(&mean_p, |u, v| u * v);
        m.zip_with(&ab, |u, v| u - v)
    });
    // Per window: the ridge regression's coefficients `a` (3) and `b`.
    let coefs: Vec<[f32; 4]> = (0..p.data.len())
        .into_par_iter()
        .map(|k| {
            let s = [
                [var[0].data[k] + eps, var[1].data[k], var[2].data[k]],
                [var[1].data[k], var[3].data[k] + eps, var[4].data[k]],
                [var[2].data[k], var[4].data[k], var[5].data[k] + eps],
            ];
            let c = [cov_ip[0].data[k], cov_ip[1].data[k], cov_ip[2].data[k]];
            let a = solve_symmetric3(s, c);
            let mut b = mean_p.data[k];
            for ch in 0..3 {
                b -= a[ch] * mean_i[ch].data[k];
            }
            [a[0], a[1], a[2], b]
        })
        .collect();
    let plane_of = |j: usize| Plane {
        w: p.w,
        h: p.h,
        data: coefs.iter().map(|c| c[j]).collect(),
    };
    let mean_a: [Plane; 3] = std::array::from_fn(|c| mean(&plane_of(c)));
    let mean_b = mean(&plane_of(3));
    Plane {
        w: p.w,
        h: p.h,
        data: (0..p.data.len())
            .into_par_iter()
            .map(|k| {
                mean_b.data[k]
                    + (0..3)
                        .map(|c| mean_a[c].data[k] * i[c].data[k])
                        .sum::<f32>()
            })
            .collect(),
    }
}

/// Solves `s x = c` for a symmetric positive-definite 3×3 `s` (the ridge
/// keeps it so) by Cramer's rule.
fn solve_symmetric3(s: [[f32; 3]; 3], c: [f32; 3]) -> [f32; 3] {
    let det = |m: [[f32; 3]; 3]| {
        m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
            - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
    };
    let d = det(s);
    if d.abs() < 1e-20 {
        return [0.0; 3];
    }
    std::array::from_fn(|col| {
        let mut m = s;
        for (row, v) in c.iter().enumerate() {
            m[row][col] = *v;
        }
        det(m) / d
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A photo whose left part (x < 20) is skin-coloured and right part
    /// dark fabric, 40×20.
    fn two_tone() -> [Plane; 3] {
        let (w, h) = (40, 20);
        let skin = [0.8, 0.5, 0.4];
        let cloth = [0.1, 0.1, 0.15];
        std::array::from_fn(|c| Plane {
            w,
            h,
            data: (0..w * h)
                .map(|k| if k % w < 20 { skin[c] } else { cloth[c] })
                .collect(),
        })
    }

    fn mask_up_to(x_edge: u32) -> Plane {
        let (w, h) = (40, 20);
        Plane {
            w,
            h,
            data: (0..w * h)
                .map(|k| if k % w < x_edge { 1.0 } else { 0.0 })
                .collect(),
        }
    }

    #[test]
    fn a_mask_on_the_colour_edge_stays_sharp_where_a_blur_would_smear_it() {
        let guide = two_tone();
        let q = refine(&guide, &mask_up_to(20), 5, 1e-4);
        assert!(
            q.get(19, 10) > 0.95 && q.get(20, 10) < 0.05,
            "{} {}",
            q.get(19, 10),
            q.get(20, 10)
        );
        // A large ridge turns the filter into a plain box blur.
        let blurred = refine(&guide, &mask_up_to(20), 5, 10.0);
        assert!(
            (blurred.get(19, 10) - 0.5).abs() < 0.1,
            "{}",
            blurred.get(19, 10)
        );
    }

    #[test]
    fn a_mask_spilling_onto_the_fabric_drops_at_the_colour_edge() {
        let guide = two_tone();
        // The mask runs 3 px past the skin onto the fabric (x = 20..22).
        let q = refine(&guide, &mask_up_to(23), 5, 1e-4);
        assert!(q.get(19, 10) > 0.95, "{}", q.get(19, 10));
        let drop = q.get(19, 10) - q.get(20, 10);
        assert!(
            drop > 0.3,
            "the alpha falls across the photo's edge: {drop}"
        );
        // The spill fades instead of ending in a ruled line at x = 23.
        assert!(
            q.get(22, 10) < 0.7 && q.get(23, 10) > 0.1,
            "{} {}",
            q.get(22, 10),
            q.get(23, 10)
        );
    }

    #[test]
    fn an_empty_mask_stays_empty_and_full_planes_keep_their_size() {
        let guide = two_tone();
        let empty = refine(&guide, &Plane::new(40, 20, 0.0), 4, 1e-3);
        assert!(empty.data.iter().all(|v| *v == 0.0));
        let full = refine(&guide, &Plane::new(40, 20, 1.0), 4, 1e-3);
        assert_eq!((full.w, full.h), (40, 20));
        assert!(full.data.iter().all(|v| (*v - 1.0).abs() < 1e-3));
    }

    #[test]
    fn the_solver_inverts_a_symmetric_system() {
        let s = [[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]];
        let x = [1.0, -2.0, 0.5];
        let c: [f32; 3] = std::array::from_fn(|r| (0..3).map(|k| s[r][k] * x[k]).sum());
        let got = solve_symmetric3(s, c);
        for k in 0..3 {
            assert!((got[k] - x[k]).abs() < 1e-4, "{got:?}");
        }
    }
}

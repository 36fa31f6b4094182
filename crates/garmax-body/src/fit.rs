//! Fitting the body to one photo.
//!
//! Unknowns: β (10), θ for the 23 non-root SMPL joints, the global
//! orientation and the translation, seen through a pinhole [`Camera`] whose
//! focal length is given or assumed ([`Camera::for_image`]); depth and body
//! size are resolved by the metric world landmarks.
//!
//! Energy (all terms are least-squares residuals):
//! * 2D reprojection of the 33 BlazePose landmarks (model points in
//!   [`BodyModel::keypoint_defs`]), weighted by visibility, in units of 1 %
//!   of the person's height in pixels;
//! * 3D agreement of hip-centred model points with BlazePose world landmarks
//!   (camera-aligned axes, metres);
//! * silhouette: a distance-transform term pulling projected vertices into
//!   the mask, and a chamfer term pulling the mask contour onto the nearest
//!   projected vertex (correspondences refreshed every iteration);
//! * priors: per-joint pose magnitude, knee and elbow hyperextension, |β|.
//!
//! Solver: Levenberg–Marquardt with forward-difference Jacobians (the
//! residual evaluation touches only the landmarks and a 5 cm voxel subset
//! of the vertices, so 85 extra evaluations per iteration cost a few ms),
//! run in three stages — orientation and translation, all parameters on
//! landmarks, then with the silhouette — from a closed-form start (Kabsch
//! rotation on the torso, depth from the torso's projected size).

use garmax_core::pose::PoseLandmarks;
use image::GrayImage;
use nalgebra::{DMatrix, DVector, Matrix3, Rotation3};
use serde::Serialize;

use crate::camera::Camera;
use crate::error::{BodyError, Result};
use crate::model::{BodyModel, BodyParams, NUM_BETAS, NUM_SMPL_JOINTS, V3};
use crate::raster;

/// Parameter vector layout: orientation, translation, 23 joints, β.
const P_ORIENT: usize = 0;
const P_TRANS: usize = 3;
const P_POSE: usize = 6;
const P_BETA: usize = P_POSE + 3 * (NUM_SMPL_JOINTS - 1);
const NP: usize = P_BETA + NUM_BETAS;

/// Tunables of the fit; the defaults suit MediaPipe's output.
#[derive(Debug, Clone)]
pub struct FitOptions {
    /// The photo's camera; `None` assumes [`Camera::for_image`].
    pub camera: Option<Camera>,
    /// Use BlazePose world landmarks (strongly recommended: they fix scale,
    /// depth order of limbs and body orientation).
    pub use_world_landmarks: bool,
    /// Landmarks below this visibility are ignored.
    pub min_visibility: f32,
    /// Expected error of the world landmarks, metres.
    pub world_sigma_m: f64,
    /// Relative weight of the silhouette terms (0 disables them).
    pub silhouette_weight: f64,
    /// Weight of the coverage half of the silhouette term (mask contour →
    /// body) relative to the containment half (body → inside the mask).
    /// Clothes and hair make real masks larger than the body, so coverage
    /// is trusted less than containment.
    pub silhouette_coverage: f64,
    /// Weight of the pose prior and of |β|.
    pub pose_prior_weight: f64,
    pub beta_prior_weight: f64,
    /// LM iterations of the three stages.
    pub iterations: [usize; 3],
    /// Longer side of the mask copy the silhouette terms work on.
    pub silhouette_resolution: u32,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            camera: None,
            use_world_landmarks: true,
            min_visibility: 0.3,
            world_sigma_m: 0.05,
            silhouette_weight: 2.0,
            silhouette_coverage: 0.25,
            pose_prior_weight: 0.3,
            beta_prior_weight: 0.5,
            iterations: [6, 25, 12],
            silhouette_resolution: 384,
        }
    }
}

/// Reprojection error statistics over the landmarks used (pixels).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct KeypointError {
    pub mean_px: f64,
    pub median_px: f64,
    pub max_px: f64,
    pub count: usize,
}

/// The fitted body and how well it fits.
#[derive(Debug, Clone, Serialize)]
pub struct FitResult {
    pub params: BodyParams,
    pub camera: Camera,
    pub keypoint_error: KeypointError,
    /// Mean distance of hip-centred model points to the world landmarks (m).
    pub world_error_m: f64,
    /// IoU of the rendered body with the person mask.
    pub silhouette_iou: f64,
    pub iterations: usize,
    pub final_cost: f64,
}

/// How much each landmark counts (face and hand points are many and noisy;
/// they should not outvote the limbs).
fn landmark_weight(i: usize) -> f64 {
    match i {
        0..=10 => 0.4,
        17..=22 => 0.4,
        29..=32 => 0.7,
        _ => 1.0,
    }
}

/// Pose prior standard deviation per SMPL joint (radians).
const POSE_STD: [f64; NUM_SMPL_JOINTS] = [
    10.0, 0.8, 0.8, 0.3, 1.0, 1.0, 0.25, 0.4, 0.4, 0.25, 0.3, 0.3, 0.4, 0.2, 0.2, 0.5, 1.0, 1.0,
    1.2, 1.2, 0.6, 0.6, 0.4, 0.4,
];

struct Silhouette {
    /// Distance (in full-resolution pixels) to the nearest mask pixel, at
    /// reduced resolution; 0 inside the mask.
    dist: Vec<f32>,
    w: usize,
    h: usize,
    /// Full-resolution pixels per reduced pixel.
    scale: f64,
    /// Mask contour points, full-resolution pixels.
    contour: Vec<[f64; 2]>,
    /// Subset vertex nearest to each contour point (refreshed).
    corr: Vec<usize>,
}

impl Silhouette {
    fn new(mask: &GrayImage, res: u32) -> Silhouette {
        let (mw, mh) = mask.dimensions();
        let scale = (mw.max(mh) as f64 / res.max(16) as f64).max(1.0);
        let w = ((mw as f64 / scale).round() as usize).max(1);
        let h = ((mh as f64 / scale).round() as usize).max(1);
        // Box-sample the mask down (a pixel is inside if most of it is).
        let mut inside = vec![false; w * h];
        for y in 0..h {
            for x in 0..w {
                let sx = (((x as f64 + 0.5) * scale) as u32).min(mw - 1);
                let sy = (((y as f64 + 0.5) * scale) as u32).min(mh - 1);
                inside[y * w + x] = mask.get_pixel(sx, sy).0[0] >= 128;
            }
        }
        let d2 = edt_squared(&inside, w, h);
        let dist = d2.iter().map(|d| d.sqrt() * scale as f32).collect();
        let mut contour = Vec::new();
        for y in 0..h {
            for x in 0..w {
                if !inside[y * w + x] {
                    continue;
                }
                // Mask pixels on the frame are cuts, not silhouette edges
                // (the person continues outside the photo): no contour there.
                if x == 0 || y == 0 || x + 1 == w || y + 1 == h {
                    continue;
                }
                let edge = !inside[y * w + x - 1]
                    || !inside[y * w + x + 1]
                    || !inside[(y - 1) * w + x]
                    || !inside[(y + 1) * w + x];
                if edge {
                    contour.push([(x as f64 + 0.5) * scale, (y as f64 + 0.5) * scale]);
                }
            }
        }
        let stride = contour.len().div_ceil(240).max(1);
        let contour: Vec<[f64; 2]> = contour.into_iter().step_by(stride).collect();
        Silhouette {
            dist,
            w,
            h,
            scale,
            corr: vec![0; contour.len()],
            contour,
        }
    }

    /// Bilinear distance at a full-resolution pixel position; outside the
    /// image it grows with the distance to the border.
    fn sample(&self, p: [f64; 2]) -> f64 {
        let fx = p[0] / self.scale - 0.5;
        let fy = p[1] / self.scale - 0.5;
        let cx = fx.clamp(0.0, (self.w - 1) as f64);
        let cy = fy.clamp(0.0, (self.h - 1) as f64);
        let out = ((fx - cx).powi(2) + (fy - cy).powi(2)).sqrt() * self.scale;
        let x0 = (cx.floor() as usize).min(self.w.saturating_sub(2));
        let y0 = (cy.floor() as usize).min(self.h.saturating_sub(2));
        let x1 = (x0 + 1).min(self.w - 1);
        let y1 = (y0 + 1).min(self.h - 1);
        let tx = cx - x0 as f64;
        let ty = cy - y0 as f64;
        let g = |x: usize, y: usize| self.dist[y * self.w + x] as f64;
        let v = (g(x0, y0) * (1.0 - tx) + g(x1, y0) * tx) * (1.0 - ty)
            + (g(x0, y1) * (1.0 - tx) + g(x1, y1) * tx) * ty;
        // Beyond the frame the photo says nothing where the mask reaches
        // the border (a cropped person continues there); elsewhere the
        // distance keeps growing so the body is pulled back into view.
        if out > 0.0 && v <= 0.5 * self.scale {
            0.0
        } else {
            v + out
        }
    }
}

/// Exact squared Euclidean distance transform (Felzenszwalb–Huttenlocher)
/// to the nearest `true` pixel.
pub(crate) fn edt_squared(inside: &[bool], w: usize, h: usize) -> Vec<f32> {
    const INF: f32 = 1e20;
    let mut f: Vec<f32> = inside.iter().map(|&b| if b { 0.0 } else { INF }).collect();
    let n = w.max(h);
    let mut buf = vec![0.0f32; n];
    let mut out = vec![0.0f32; n];
    let mut v = vec![0usize; n];
    let mut z = vec![0.0f32; n + 1];
    let mut pass = |get: &mut dyn FnMut(usize) -> f32, len: usize, out: &mut [f32]| {
        for (q, b) in buf.iter_mut().enumerate().take(len) {
            *b = get(q);
        }
        let mut k = 0usize;
        v[0] = 0;
        z[0] = -INF;
        z[1] = INF;
        for q in 1..len {
            loop {
                let p = v[k];
                let s = ((buf[q] + (q * q) as f32) - (buf[p] + (p * p) as f32))
                    / (2.0 * (q as f32 - p as f32));
                if s <= z[k] && k > 0 {
                    k -= 1;
                    continue;
                }
                if s <= z[k] {
                    // k == 0: replace the first parabola.
                    v[0] = q;
                    z[0] = -INF;
                    z[1] = INF;
                    break;
                }
                k += 1;
                v[k] = q;
                z[k] = s;
                z[k + 1] = INF;
                break;
            }
        }
        k = 0;
        for (q, o) in out.iter_mut().enumerate().take(len) {
            while z[k + 1] < q as f32 {
                k += 1;
            }
            let p = v[k];
            *o = (q as f32 - p as f32).powi(2) + buf[p];
        }
    };
    for x in 0..w {
        let col: Vec<f32> = (0..h).map(|y| f[y * w + x]).collect();
        pass(&mut |q| col[q], h, &mut out);
        for y in 0..h {
            f[y * w + x] = out[y];
        }
    }
    for y in 0..h {
        let row: Vec<f32> = f[y * w..(y + 1) * w].to_vec();
        pass(&mut |q| row[q], w, &mut out);
        f[y * w..(y + 1) * w].copy_from_slice(&out[..w]);
    }
    f
}

struct Problem<'a> {
    model: &'a BodyModel,
    cam: Camera,
    /// (landmark index, weight) of the landmarks used.
    used: Vec<(usize, f64)>,
    target2d: [[f64; 2]; 33],
    world: Option<[V3; 33]>,
    px_sigma: f64,
    world_sigma: f64,
    pose_w: f64,
    beta_w: f64,
    sil: Option<Silhouette>,
    sil_w: f64,
    coverage_w: f64,
    subset: Vec<usize>,
    silhouette_on: bool,
}

fn params_of(x: &[f64]) -> BodyParams {
    let mut p = BodyParams::default();
    p.pose[0] = [x[P_ORIENT], x[P_ORIENT + 1], x[P_ORIENT + 2]];
    p.translation = [x[P_TRANS], x[P_TRANS + 1], x[P_TRANS + 2]];
    for j in 1..NUM_SMPL_JOINTS {
        let o = P_POSE + 3 * (j - 1);
        p.pose[j] = [x[o], x[o + 1], x[o + 2]];
    }
    p.beta.copy_from_slice(&x[P_BETA..P_BETA + NUM_BETAS]);
    p
}

#[cfg(test)]
fn vector_of(p: &BodyParams) -> Vec<f64> {
    let mut x = vec![0.0; NP];
    x[P_ORIENT..P_ORIENT + 3].copy_from_slice(&p.pose[0]);
    x[P_TRANS..P_TRANS + 3].copy_from_slice(&p.translation);
    for j in 1..NUM_SMPL_JOINTS {
        x[P_POSE + 3 * (j - 1)..P_POSE + 3 * j].copy_from_slice(&p.pose[j]);
    }
    x[P_BETA..].copy_from_slice(&p.beta);
    x
}

impl Problem<'_> {
    fn keypoints(&self, p: &BodyParams, k: &crate::model::Kinematics) -> [V3; 33] {
        std::array::from_fn(|i| self.model.keypoint(self.model.keypoints[i], &p.beta, k))
    }

    fn project(&self, v: &V3) -> [f64; 2] {
        self.cam.project_clamped([v.x, v.y, v.z])
    }

    fn residuals(&self, x: &[f64], out: &mut Vec<f64>) {
        out.clear();
        let p = params_of(x);
        let k = self.model.kinematics(&p);
        let kp = self.keypoints(&p, &k);
        let hip = (kp[23] + kp[24]) * 0.5;
        for &(i, w) in &self.used {
            let s = w.sqrt();
            let q = self.project(&kp[i]);
            out.push(s * (q[0] - self.target2d[i][0]) / self.px_sigma);
            out.push(s * (q[1] - self.target2d[i][1]) / self.px_sigma);
            if let Some(world) = &self.world {
                let d = (kp[i] - hip) - world[i];
                for c in 0..3 {
                    out.push(s * d[c] / self.world_sigma);
                }
            }
        }
        // A camera-facing body must stay in front of the camera.
        out.push(10.0 * (0.3 - hip.z).max(0.0));
        for (r, std) in p.pose.iter().zip(POSE_STD).skip(1) {
            out.extend(r.iter().map(|v| self.pose_w * v / std));
        }
        // Knees bend one way: +x rotation (shin backwards) is flexion.
        for j in [4, 5] {
            out.push(3.0 * (-p.pose[j][0]).max(0.0));
        }
        // Elbows too: from the A-pose the forearm flexes forwards, which is
        // −y rotation on the left arm and +y on the right (mirror image).
        out.push(1.5 * p.pose[18][1].max(0.0));
        out.push(1.5 * (-p.pose[19][1]).max(0.0));
        for b in &p.beta {
            out.push(self.beta_w * b);
        }
        if self.silhouette_on
            && let Some(sil) = &self.sil
        {
            let proj: Vec<[f64; 2]> = self
                .subset
                .iter()
                .map(|&v| self.project(&self.model.skin_vertex(v, &p.beta, &k)))
                .collect();
            let wv = self.sil_w / (proj.len().max(1) as f64).sqrt();
            for q in &proj {
                out.push(wv * sil.sample(*q) / self.px_sigma);
            }
            let wc = self.coverage_w * self.sil_w / (sil.contour.len().max(1) as f64).sqrt();
            for (c, &v) in sil.contour.iter().zip(&sil.corr) {
                out.push(wc * (proj[v][0] - c[0]) / self.px_sigma);
                out.push(wc * (proj[v][1] - c[1]) / self.px_sigma);
            }
        }
    }

    fn update_correspondences(&mut self, x: &[f64]) {
        let Some(sil) = &mut self.sil else { return };
        let p = params_of(x);
        let k = self.model.kinematics(&p);
        let proj: Vec<[f64; 2]> = self
            .subset
            .iter()
            .map(|&v| {
                let q = self.model.skin_vertex(v, &p.beta, &k);
                self.cam.project_clamped([q.x, q.y, q.z])
            })
            .collect();
        for (c, corr) in sil.contour.iter().zip(sil.corr.iter_mut()) {
            let mut best = (f64::MAX, 0);
            for (i, q) in proj.iter().enumerate() {
                let d = (q[0] - c[0]).powi(2) + (q[1] - c[1]).powi(2);
                if d < best.0 {
                    best = (d, i);
                }
            }
            *corr = best.1;
        }
    }
}

fn cost(r: &[f64]) -> f64 {
    r.iter().map(|v| v * v).sum()
}

/// Levenberg–Marquardt over the `active` parameters. Returns iterations run.
fn levenberg_marquardt(pb: &mut Problem, x: &mut [f64], active: &[usize], iters: usize) -> usize {
    let mut lambda = 1e-3;
    let mut r = Vec::new();
    let mut rp = Vec::new();
    let n = active.len();
    let mut done = 0;
    for _ in 0..iters {
        done += 1;
        if pb.silhouette_on {
            pb.update_correspondences(x);
        }
        pb.residuals(x, &mut r);
        let c0 = cost(&r);
        let m = r.len();
        let mut jac = vec![0.0; n * m];
        for (a, &pi) in active.iter().enumerate() {
            let h = 1e-6 * (1.0 + x[pi].abs());
            let keep = x[pi];
            x[pi] = keep + h;
            pb.residuals(x, &mut rp);
            x[pi] = keep;
            for (dst, (rp, r)) in jac[a * m..(a + 1) * m].iter_mut().zip(rp.iter().zip(&r)) {
                *dst = (rp - r) / h;
            }
        }
        // A joint's rotation moves only the residuals of its subtree, so
        // most Jacobian columns are sparse (differences exactly zero); the
        // normal equations iterate over the sparser column of each pair.
        let nz: Vec<Vec<u32>> = (0..n)
            .map(|a| {
                let col = &jac[a * m..(a + 1) * m];
                (0..m as u32).filter(|&i| col[i as usize] != 0.0).collect()
            })
            .collect();
        let mut jtj = DMatrix::<f64>::zeros(n, n);
        let mut jtr = DVector::<f64>::zeros(n);
        for a in 0..n {
            let ca = &jac[a * m..(a + 1) * m];
            jtr[a] = nz[a].iter().map(|&i| ca[i as usize] * r[i as usize]).sum();
            for b in a..n {
                let cb = &jac[b * m..(b + 1) * m];
                let idx = if nz[a].len() <= nz[b].len() {
                    &nz[a]
                } else {
                    &nz[b]
                };
                let v: f64 = idx.iter().map(|&i| ca[i as usize] * cb[i as usize]).sum();
                jtj[(a, b)] = v;
                jtj[(b, a)] = v;
            }
        }
        let mut improved = false;
        for _ in 0..8 {
            let mut a = jtj.clone();
            for d in 0..n {
                a[(d, d)] += lambda * (jtj[(d, d)] + 1e-6);
            }
            let Some(chol) = a.cholesky() else {
                lambda *= 10.0;
                continue;
            };
            let delta = chol.solve(&(-&jtr));
            let mut trial = x.to_vec();
            for (k, &pi) in active.iter().enumerate() {
                trial[pi] += delta[k];
            }
            pb.residuals(&trial, &mut rp);
            let c1 = cost(&rp);
            if c1.is_finite() && c1 < c0 {
                x.copy_from_slice(&trial);
                lambda = (lambda / 3.0).max(1e-9);
                improved = true;
                if (c0 - c1) / c0.max(1e-12) < 1e-6 {
                    return done;
                }
                break;
            }
            lambda *= 6.0;
        }
        if !improved {
            break;
        }
    }
    done
}

/// Vertices one per `cell`-sized voxel of the rest body: an even sample of the
/// surface whatever the mesh density (the head and hands are dense).
fn voxel_subset(model: &BodyModel, cell: f64) -> Vec<usize> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for (i, v) in model.template.iter().enumerate() {
        let key = (
            (v.x / cell).floor() as i64,
            (v.y / cell).floor() as i64,
            (v.z / cell).floor() as i64,
        );
        if seen.insert(key) {
            out.push(i);
        }
    }
    out
}

/// Rotation taking `a` points onto `b` points (both centred), Kabsch.
fn kabsch(a: &[V3], b: &[V3]) -> Matrix3<f64> {
    let mut h = Matrix3::zeros();
    for (p, q) in a.iter().zip(b) {
        h += p * q.transpose();
    }
    let svd = h.svd(true, true);
    let (Some(u), Some(vt)) = (svd.u, svd.v_t) else {
        return Matrix3::identity();
    };
    let v = vt.transpose();
    let d = (v * u.transpose()).determinant().signum();
    v * Matrix3::from_diagonal(&V3::new(1.0, 1.0, d)) * u.transpose()
}

fn check_input(lm: &PoseLandmarks) -> Result<()> {
    if lm.image.len() != 33 {
        return Err(BodyError::InvalidInput(format!(
            "expected 33 landmarks, got {}",
            lm.image.len()
        )));
    }
    if !lm.world.is_empty() && lm.world.len() != 33 {
        return Err(BodyError::InvalidInput(format!(
            "expected 33 world landmarks, got {}",
            lm.world.len()
        )));
    }
    if lm.image_size[0] == 0 || lm.image_size[1] == 0 {
        return Err(BodyError::InvalidInput("empty image".into()));
    }
    Ok(())
}

/// Fits the body to one person's landmarks and mask.
pub fn fit(
    model: &BodyModel,
    lm: &PoseLandmarks,
    mask: &GrayImage,
    opts: &FitOptions,
) -> Result<FitResult> {
    check_input(lm)?;
    let [w, h] = lm.image_size;
    let cam = opts.camera.unwrap_or_else(|| Camera::for_image(w, h));
    let mask = if mask.dimensions() == (w, h) {
        mask.clone()
    } else {
        image::imageops::resize(mask, w, h, image::imageops::FilterType::Nearest)
    };
    let used: Vec<(usize, f64)> = lm
        .image
        .iter()
        .enumerate()
        .filter(|(_, l)| l.visibility >= opts.min_visibility && l.x.is_finite() && l.y.is_finite())
        .map(|(i, l)| (i, landmark_weight(i) * l.visibility.clamp(0.0, 1.0) as f64))
        .collect();
    let torso = [11, 12, 23, 24];
    let torso_seen = torso
        .iter()
        .filter(|t| used.iter().any(|u| u.0 == **t))
        .count();
    // Head-and-shoulders photos have the hips out of frame: two visible
    // torso points suffice, the start then uses BlazePose's (low-visibility
    // but present) predictions for the others.
    let torso_finite = torso
        .iter()
        .all(|&t| lm.image[t].x.is_finite() && lm.image[t].y.is_finite());
    if used.len() < 6 || torso_seen < 2 || !torso_finite {
        return Err(BodyError::FitFailed(format!(
            "too few visible landmarks ({} usable, {torso_seen} of 4 torso)",
            used.len()
        )));
    }
    let target2d: [[f64; 2]; 33] =
        std::array::from_fn(|i| [lm.image[i].x as f64, lm.image[i].y as f64]);
    let world_ok = opts.use_world_landmarks
        && lm.world.len() == 33
        && lm.world.iter().flatten().all(|v| v.is_finite())
        && lm.world.iter().any(|v| v.iter().any(|c| *c != 0.0));
    let world: Option<[V3; 33]> = world_ok.then(|| {
        let hip =
            (V3::from(lm.world[23].map(f64::from)) + V3::from(lm.world[24].map(f64::from))) * 0.5;
        std::array::from_fn(|i| V3::from(lm.world[i].map(f64::from)) - hip)
    });
    // Person height in pixels sets the 2D residual unit (1 % of it).
    let (mut ymin, mut ymax) = (f64::MAX, f64::MIN);
    for &(i, _) in &used {
        ymin = ymin.min(target2d[i][1]);
        ymax = ymax.max(target2d[i][1]);
    }
    let px_sigma = ((ymax - ymin) / 100.0).max(1.0);

    let sil = (opts.silhouette_weight > 0.0 && mask.as_raw().iter().any(|&v| v >= 128))
        .then(|| Silhouette::new(&mask, opts.silhouette_resolution));
    let mut pb = Problem {
        model,
        cam,
        used,
        target2d,
        world,
        px_sigma,
        world_sigma: opts.world_sigma_m,
        pose_w: opts.pose_prior_weight,
        beta_w: opts.beta_prior_weight,
        sil,
        sil_w: opts.silhouette_weight * 6.0,
        coverage_w: opts.silhouette_coverage,
        // 5 cm cells (805 vertices): as accurate as 3.5 cm (1550) in the
        // synthetic test at half the Jacobian cost.
        subset: voxel_subset(model, 0.05),
        silhouette_on: false,
    };

    // Closed-form start.
    let rest = BodyParams::default();
    let k0 = model.kinematics(&rest);
    let kp0 = pb.keypoints(&rest, &k0);
    let hip0 = (kp0[23] + kp0[24]) * 0.5;
    let flip = Rotation3::from_axis_angle(&V3::x_axis(), std::f64::consts::PI).into_inner();
    let r0 = match &pb.world {
        Some(wl) => {
            let a: Vec<V3> = torso.iter().map(|&i| kp0[i] - hip0).collect();
            let b: Vec<V3> = torso.iter().map(|&i| wl[i]).collect();
            kabsch(&a, &b)
        }
        None => {
            // Facing the camera unless the left shoulder is on the image's left.
            if target2d[11][0] >= target2d[12][0] {
                flip
            } else {
                Rotation3::from_axis_angle(&V3::y_axis(), std::f64::consts::PI).into_inner() * flip
            }
        }
    };
    let orient = crate::model::rotation_log(&r0);
    // Depth from the torso's projected spread.
    let spread3: f64 = torso
        .iter()
        .map(|&i| {
            let q = r0 * (kp0[i] - hip0);
            (q.x * q.x + q.y * q.y).sqrt()
        })
        .sum();
    let c2 = torso.iter().fold([0.0, 0.0], |a, &i| {
        [a[0] + target2d[i][0] / 4.0, a[1] + target2d[i][1] / 4.0]
    });
    let spread2: f64 = torso
        .iter()
        .map(|&i| ((target2d[i][0] - c2[0]).powi(2) + (target2d[i][1] - c2[1]).powi(2)).sqrt())
        .sum();
    let z = (cam.focal * spread3 / spread2.max(1.0)).clamp(0.5, 50.0);
    let hip2 = [
        (target2d[23][0] + target2d[24][0]) / 2.0,
        (target2d[23][1] + target2d[24][1]) / 2.0,
    ];
    let hip_cam = V3::new(
        (hip2[0] - cam.cx) * z / cam.focal,
        (hip2[1] - cam.cy) * z / cam.focal,
        z,
    );
    let mut x = vec![0.0; NP];
    x[P_ORIENT..P_ORIENT + 3].copy_from_slice(orient.as_slice());
    // The pelvis joint is the model origin at β = 0 and rotation is about it.
    let t = hip_cam - r0 * hip0;
    x[P_TRANS..P_TRANS + 3].copy_from_slice(t.as_slice());

    let global: Vec<usize> = (0..P_POSE).collect();
    let all: Vec<usize> = (0..NP).collect();
    let mut iterations = levenberg_marquardt(&mut pb, &mut x, &global, opts.iterations[0]);
    iterations += levenberg_marquardt(&mut pb, &mut x, &all, opts.iterations[1]);
    if pb.sil.is_some() {
        pb.silhouette_on = true;
        iterations += levenberg_marquardt(&mut pb, &mut x, &all, opts.iterations[2]);
    }
    let mut r = Vec::new();
    pb.residuals(&x, &mut r);
    let final_cost = cost(&r);
    let params = params_of(&x);
    if !final_cost.is_finite() || !params.is_finite() {
        return Err(BodyError::FitFailed("optimiser diverged".into()));
    }

    // Report errors.
    let k = model.kinematics(&params);
    let kp = pb.keypoints(&params, &k);
    let mut errs: Vec<f64> = pb
        .used
        .iter()
        .map(|&(i, _)| {
            let q = pb.project(&kp[i]);
            ((q[0] - target2d[i][0]).powi(2) + (q[1] - target2d[i][1]).powi(2)).sqrt()
        })
        .collect();
    errs.sort_by(f64::total_cmp);
    let keypoint_error = KeypointError {
        mean_px: errs.iter().sum::<f64>() / errs.len() as f64,
        median_px: errs[errs.len() / 2],
        max_px: errs.last().copied().unwrap_or(0.0),
        count: errs.len(),
    };
    let world_error_m = match &pb.world {
        Some(wl) => {
            let hip = (kp[23] + kp[24]) * 0.5;
            pb.used
                .iter()
                .map(|&(i, _)| ((kp[i] - hip) - wl[i]).norm())
                .sum::<f64>()
                / pb.used.len() as f64
        }
        None => f64::NAN,
    };
    let posed = model.pose(&params);
    let g = raster::rasterize(&posed.vertices, model.faces(), &cam, true);
    let silhouette_iou = raster::iou(&g.silhouette(), &mask);
    Ok(FitResult {
        params,
        camera: cam,
        keypoint_error,
        world_error_m,
        silhouette_iou,
        iterations,
        final_cost,
    })
}

/// The fit errors of parameters that were not fitted but are known — a body
/// the caller posed and rendered itself, such as a mannequin — measured the
/// way [`fit`] reports its own: reprojection of the landmarks at or above
/// `min_visibility`, hip-centred world distance when world landmarks are
/// given, silhouette IoU. `iterations` and `final_cost` are 0: nothing was
/// optimised.
pub fn evaluate(
    model: &BodyModel,
    params: &BodyParams,
    camera: Camera,
    lm: &PoseLandmarks,
    mask: &GrayImage,
    min_visibility: f32,
) -> Result<FitResult> {
    check_input(lm)?;
    if !params.is_finite() {
        return Err(BodyError::InvalidInput("non-finite body parameters".into()));
    }
    let posed = model.pose(params);
    let kp = posed
        .keypoints
        .map(|p| V3::new(p[0] as f64, p[1] as f64, p[2] as f64));
    let used: Vec<usize> = (0..33)
        .filter(|&i| {
            let l = &lm.image[i];
            l.visibility >= min_visibility && l.x.is_finite() && l.y.is_finite()
        })
        .collect();
    let mut errs: Vec<f64> = used
        .iter()
        .map(|&i| {
            let q = camera.project_clamped([kp[i].x, kp[i].y, kp[i].z]);
            let l = &lm.image[i];
            ((q[0] - l.x as f64).powi(2) + (q[1] - l.y as f64).powi(2)).sqrt()
        })
        .collect();
    errs.sort_by(f64::total_cmp);
    let keypoint_error = KeypointError {
        mean_px: errs.iter().sum::<f64>() / errs.len().max(1) as f64,
        median_px: errs.get(errs.len() / 2).copied().unwrap_or(0.0),
        max_px: errs.last().copied().unwrap_or(0.0),
        count: errs.len(),
    };
    let hip = (kp[23] + kp[24]) * 0.5;
    let world_error_m = if lm.world.len() == 33 && !used.is_empty() {
        used.iter()
            .map(|&i| {
                let w = lm.world[i];
                ((kp[i] - hip) - V3::new(w[0] as f64, w[1] as f64, w[2] as f64)).norm()
            })
            .sum::<f64>()
            / used.len() as f64
    } else {
        f64::NAN
    };
    let (w, h) = (lm.image_size[0], lm.image_size[1]);
    let mask = if mask.dimensions() == (w, h) {
        mask.clone()
    } else {
        image::imageops::resize(mask, w, h, image::imageops::FilterType::Nearest)
    };
    let g = raster::rasterize(&posed.vertices, model.faces(), &camera, true);
    Ok(FitResult {
        params: params.clone(),
        camera,
        keypoint_error,
        world_error_m,
        silhouette_iou: raster::iou(&g.silhouette(), &mask),
        iterations: 0,
        final_cost: 0.0,
    })
}

/// Similarity Procrustes alignment of `a` onto `b`; returns the mean
/// per-point distance after alignment (the MPJPE-PA of pose benchmarks).
pub fn procrustes_error(a: &[[f64; 3]], b: &[[f64; 3]]) -> f64 {
    let n = a.len().min(b.len());
    if n == 0 {
        return 0.0;
    }
    let pa: Vec<V3> = a[..n].iter().map(|p| V3::from(*p)).collect();
    let pb: Vec<V3> = b[..n].iter().map(|p| V3::from(*p)).collect();
    let ca = pa.iter().sum::<V3>() / n as f64;
    let cb = pb.iter().sum::<V3>() / n as f64;
    let qa: Vec<V3> = pa.iter().map(|p| p - ca).collect();
    let qb: Vec<V3> = pb.iter().map(|p| p - cb).collect();
    let r = kabsch(&qa, &qb);
    let num: f64 = qa.iter().zip(&qb).map(|(p, q)| (r * p).dot(q)).sum();
    let den: f64 = qa.iter().map(|p| p.norm_squared()).sum();
    let s = if den > 0.0 { num / den } else { 1.0 };
    qa.iter()
        .zip(&qb)
        .map(|(p, q)| (s * (r * p) - q).norm())
        .sum::<f64>()
        / n as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edt_matches_brute_force() {
        let (w, h) = (13, 9);
        let inside: Vec<bool> = (0..w * h).map(|i| i % 17 == 3 || i == 50).collect();
        let d = edt_squared(&inside, w, h);
        for y in 0..h {
            for x in 0..w {
                let mut best = f32::MAX;
                for (j, &b) in inside.iter().enumerate() {
                    if b {
                        let (u, v) = ((j % w) as f32, (j / w) as f32);
                        best = best.min((u - x as f32).powi(2) + (v - y as f32).powi(2));
                    }
                }
                assert_eq!(d[y * w + x], best, "at {x},{y}");
            }
        }
    }

    #[test]
    fn procrustes_ignores_similarity() {
        let a = [
            [0.0, 0.0, 0.0],
            [1.0, 0.0, 0.0],
            [0.0, 2.0, 0.0],
            [0.0, 0.0, 3.0],
        ];
        let r = Rotation3::from_euler_angles(0.3, -0.2, 1.0);
        let b: Vec<[f64; 3]> = a
            .iter()
            .map(|p| {
                let q = r * V3::from(*p) * 2.5 + V3::new(1.0, 2.0, 3.0);
                [q.x, q.y, q.z]
            })
            .collect();
        assert!(procrustes_error(&a, &b) < 1e-9);
    }

    #[test]
    fn parameter_vector_round_trips() {
        let mut p = BodyParams::default();
        p.beta[3] = 0.5;
        p.pose[7] = [0.1, 0.2, 0.3];
        p.translation = [1.0, 2.0, 3.0];
        assert_eq!(params_of(&vector_of(&p)), p);
    }
}

#[cfg(test)]
mod input_tests {
    use super::*;
    use crate::synthetic::SyntheticGenerator;
    use crate::testutil;

    #[test]
    fn degenerate_inputs_do_not_panic() {
        let Some(model) = testutil::model() else {
            return;
        };
        let cam = Camera::for_image(256, 256);
        let case = SyntheticGenerator::new(3).case(model, cam, 0.5, 0.01);
        let opts = FitOptions {
            camera: Some(cam),
            ..FitOptions::default()
        };

        // Wrong landmark count.
        let mut lm = case.landmarks.clone();
        lm.image.truncate(10);
        assert!(matches!(
            fit(model, &lm, &case.mask, &opts),
            Err(BodyError::InvalidInput(_))
        ));

        // Nothing visible.
        let mut lm = case.landmarks.clone();
        for l in &mut lm.image {
            l.visibility = 0.0;
        }
        assert!(matches!(
            fit(model, &lm, &case.mask, &opts),
            Err(BodyError::FitFailed(_))
        ));

        // No world landmarks, empty mask, a NaN landmark: still a fit.
        let mut lm = case.landmarks.clone();
        lm.world.clear();
        lm.image[0].x = f32::NAN;
        let empty = GrayImage::new(256, 256);
        let r = fit(model, &lm, &empty, &opts).unwrap();
        assert!(r.params.is_finite());
        assert!(r.keypoint_error.median_px < 10.0, "{:?}", r.keypoint_error);

        // A mask of another size is resampled.
        let small =
            image::imageops::resize(&case.mask, 128, 128, image::imageops::FilterType::Nearest);
        let r = fit(model, &case.landmarks, &small, &opts).unwrap();
        assert!(r.silhouette_iou > 0.8);
    }
}

#[cfg(test)]
mod perf_probe {
    use super::*;
    use crate::testutil;

    #[test]
    #[ignore = "timing probe, run by hand"]
    fn probe() {
        let Some(model) = testutil::model() else {
            return;
        };
        let cam = Camera::for_image(1024, 1024);
        let case = crate::synthetic::SyntheticGenerator::new(5).case(model, cam, 1.0, 0.02);
        let sil = Silhouette::new(&case.mask, 384);
        let lm = &case.landmarks;
        let mut pb = Problem {
            model,
            cam,
            used: (0..33).map(|i| (i, 1.0)).collect(),
            target2d: std::array::from_fn(|i| [lm.image[i].x as f64, lm.image[i].y as f64]),
            world: None,
            px_sigma: 5.0,
            world_sigma: 0.05,
            pose_w: 0.3,
            beta_w: 0.5,
            sil: Some(sil),
            sil_w: 12.0,
            coverage_w: 0.25,
            subset: voxel_subset(model, 0.05),
            silhouette_on: true,
        };
        let x = vector_of(&case.params);
        pb.update_correspondences(&x);
        let mut r = Vec::new();
        let t = std::time::Instant::now();
        for _ in 0..100 {
            pb.residuals(&x, &mut r);
        }
        eprintln!(
            "subset {} residuals {} eval {:.3} ms",
            pb.subset.len(),
            r.len(),
            t.elapsed().as_secs_f64() * 10.0
        );
        let mut xx = x.clone();
        let all: Vec<usize> = (0..NP).collect();
        let t = std::time::Instant::now();
        levenberg_marquardt(&mut pb, &mut xx, &all, 5);
        eprintln!("5 LM iterations {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
    }
}

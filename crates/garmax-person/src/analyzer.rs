//! The person analysis pipeline: pose detection → ROI → landmarks (→ refine)
//! → mask, then the face.

use std::path::{Path, PathBuf};

use garmax_core::pose::{BLAZEPOSE_COUNT, Landmark, PoseLandmarks};
use image::{GrayImage, RgbImage};
use serde::{Deserialize, Serialize};

use crate::anchors::{Anchor, AnchorOptions, generate_anchors};
use crate::backend::{InferenceBackend, Model, NamedTensor, OrtBackend};
use crate::detection::{DecodeOptions, Detection, decode, remove_letterbox, sigmoid, weighted_nms};
use crate::error::PersonError;
use crate::geometry::{
    Border, CropTransform, NormRect, alignment_roi, crop_to_tensor, letterbox, transform_rect,
};
use crate::landmarks::{
    MODEL_LANDMARKS, NormLandmark, decode_landmarks, mask_to_image, project, project_world,
    refine_from_heatmap,
};

/// File names of the converted models inside the models directory.
pub const POSE_DETECTION_MODEL: &str = "pose_detection.onnx";
pub const POSE_LANDMARK_MODEL: &str = "pose_landmark_full.onnx";
pub const FACE_DETECTION_MODEL: &str = "face_detection_short_range.onnx";
pub const FACE_LANDMARK_MODEL: &str = "face_landmark.onnx";

const DETECTOR_SIZE: u32 = 224;
const LANDMARK_SIZE: u32 = 256;
const FACE_DETECTOR_SIZE: u32 = 128;
const FACE_MESH_SIZE: u32 = 192;
/// Number of face mesh points.
pub const FACE_MESH_POINTS: usize = 468;

/// Tunables of [`PersonAnalyzer`]. The defaults are MediaPipe's
/// (`min_detection_confidence` = `min_tracking_confidence` = 0.5).
#[derive(Debug, Clone, PartialEq)]
pub struct AnalyzerOptions {
    /// ONNX Runtime intra-op threads per model (1 = single-threaded).
    pub threads: usize,
    /// Pose detector score threshold.
    pub min_detection_score: f32,
    /// Landmark model presence threshold; below it the crop holds no person.
    pub min_presence: f32,
    /// Extra landmark passes on the ROI recomputed from the previous pass's
    /// landmarks (MediaPipe's tracking step). 0, the default, gives
    /// MediaPipe's static-image output (to ~0.1 % of the image diagonal),
    /// the reference every agreement test measures against; 1 re-centres
    /// the crop on the person's own landmarks instead of the detector's two
    /// keypoints. Nothing has shown the extra pass to be closer to the
    /// truth, so it is an option, not the default.
    pub refine_passes: u32,
    /// Run the face detector and mesh (needs the two face models).
    pub face: bool,
    /// Path of `libonnxruntime.so`; `None` looks in
    /// `<models_dir>/../assets/onnxruntime/capi/` (the asset cache layout).
    pub onnxruntime_library: Option<PathBuf>,
}

impl Default for AnalyzerOptions {
    fn default() -> Self {
        AnalyzerOptions {
            threads: 1,
            min_detection_score: 0.5,
            min_presence: 0.5,
            refine_passes: 0,
            face: true,
            onnxruntime_library: None,
        }
    }
}

/// The face found near the person's head.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaceAnalysis {
    /// Face detector score.
    pub score: f32,
    /// Box in image pixels: x, y, width, height.
    pub bbox: [f32; 4],
    /// The detector's 6 keypoints (right eye, left eye, nose tip, mouth,
    /// right ear tragion, left ear tragion) in image pixels.
    pub keypoints: Vec<[f32; 2]>,
    /// The 468 face mesh points: x, y in image pixels, z in the same scale.
    pub mesh: Vec<[f32; 3]>,
    /// The mesh model's face presence probability.
    pub mesh_score: f32,
}

/// Everything [`PersonAnalyzer::analyze`] finds about the most prominent
/// person of a photo.
#[derive(Debug, Clone)]
pub struct PersonAnalysis {
    /// The 33 BlazePose landmarks (image pixels) and world landmarks (metres).
    pub landmarks: PoseLandmarks,
    /// How many people the pose detector found; the analysis describes the
    /// highest-scoring one (MediaPipe's choice).
    pub people_detected: usize,
    /// Pose detector score of the analysed person.
    pub detection_score: f32,
    /// Landmark model presence probability of the final pass.
    pub presence: f32,
    /// The ROI the final landmark pass used.
    pub roi: NormRect,
    /// The ROI the final landmarks define (MediaPipe's
    /// `pose_rect_from_landmarks`): where to look in the next video frame.
    pub tracking_roi: NormRect,
    /// Person probability per pixel (0..=255 for 0..=1), image-sized.
    pub mask: GrayImage,
    /// The face, when one was found near the head.
    pub face: Option<FaceAnalysis>,
}

impl PersonAnalysis {
    /// The mask thresholded at `threshold` (0..1): 255 = person.
    pub fn binary_mask(&self, threshold: f32) -> GrayImage {
        let t = (threshold.clamp(0.0, 1.0) * 255.0).round() as u8;
        GrayImage::from_fn(self.mask.width(), self.mask.height(), |x, y| {
            image::Luma([if self.mask.get_pixel(x, y)[0] > t {
                255
            } else {
                0
            }])
        })
    }
}

/// A face detection in image pixels: score, box (x0, y0, x1, y1), keypoints.
type FaceBox = (f32, [f32; 4], Vec<[f32; 2]>);

/// The outcome of one landmark model run, in image-normalised coordinates.
struct LandmarkPass {
    landmarks: Vec<NormLandmark>,
    world: Vec<[f32; 3]>,
    presence: f32,
    segmentation: Vec<f32>,
    crop: CropTransform,
}

/// Analyses person photos. Create once (it loads the models and keeps the
/// inference sessions) and call [`PersonAnalyzer::analyze`] per photo; it can
/// be shared between threads.
pub struct PersonAnalyzer {
    pose_detector: Box<dyn Model>,
    pose_landmarks: Box<dyn Model>,
    face_detector: Option<Box<dyn Model>>,
    face_mesh: Option<Box<dyn Model>>,
    pose_anchors: Vec<Anchor>,
    face_anchors: Vec<Anchor>,
    options: AnalyzerOptions,
}

impl std::fmt::Debug for PersonAnalyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PersonAnalyzer")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// `libonnxruntime.so*` inside the asset cache next to `models_dir`.
pub fn default_onnxruntime_library(models_dir: &Path) -> PathBuf {
    let capi = models_dir
        .parent()
        .unwrap_or(models_dir)
        .join("assets/onnxruntime/capi");
    let found = std::fs::read_dir(&capi).ok().and_then(|entries| {
        let mut names: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("libonnxruntime.so"))
            })
            .collect();
        // The longest name is the fully versioned file, not a symlink alias.
        names.sort_by_key(|p| std::cmp::Reverse(p.as_os_str().len()));
        names.into_iter().next()
    });
    found.unwrap_or_else(|| capi.join("libonnxruntime.so"))
}

impl PersonAnalyzer {
    /// Loads the models from `models_dir` with ONNX Runtime.
    pub fn new(
        models_dir: impl AsRef<Path>,
        options: AnalyzerOptions,
    ) -> Result<Self, PersonError> {
        let models_dir = models_dir.as_ref();
        let library = options
            .onnxruntime_library
            .clone()
            .unwrap_or_else(|| default_onnxruntime_library(models_dir));
        let backend = OrtBackend::new(&library, options.threads)?;
        Self::with_backend(models_dir, &backend, options)
    }

    /// Loads the models from `models_dir` with any inference backend.
    pub fn with_backend(
        models_dir: impl AsRef<Path>,
        backend: &dyn InferenceBackend,
        options: AnalyzerOptions,
    ) -> Result<Self, PersonError> {
        let dir = models_dir.as_ref();
        let pose_detector = backend.load(&dir.join(POSE_DETECTION_MODEL))?;
        let pose_landmarks = backend.load(&dir.join(POSE_LANDMARK_MODEL))?;
        let (face_detector, face_mesh) = if options.face {
            (
                Some(backend.load(&dir.join(FACE_DETECTION_MODEL))?),
                Some(backend.load(&dir.join(FACE_LANDMARK_MODEL))?),
            )
        } else {
            (None, None)
        };
        Ok(PersonAnalyzer {
            pose_detector,
            pose_landmarks,
            face_detector,
            face_mesh,
            pose_anchors: generate_anchors(&AnchorOptions::pose_detection()),
            face_anchors: generate_anchors(&AnchorOptions::face_detection_short_range()),
            options,
        })
    }

    /// The options the analyzer was built with.
    pub fn options(&self) -> &AnalyzerOptions {
        &self.options
    }

    /// Runs the pose detector on the whole (letterboxed) image and returns
    /// every person found, best first, in image-normalised coordinates.
    pub fn detect_people(&self, image: &RgbImage) -> Result<Vec<Detection>, PersonError> {
        check_image(image)?;
        let size = (image.width(), image.height());
        let (crop, pad) = letterbox(size, DETECTOR_SIZE, DETECTOR_SIZE);
        let input = crop_to_tensor(image, &crop, Border::Zero, -1.0, 1.0);
        let outputs = self.pose_detector.run_single(&[1, 224, 224, 3], &input)?;
        let boxes = find_output(
            &outputs,
            self.pose_anchors.len() * 12,
            "pose detector boxes",
        )?;
        let scores = find_output(&outputs, self.pose_anchors.len(), "pose detector scores")?;
        let decoded = decode(
            boxes,
            scores,
            &self.pose_anchors,
            &DecodeOptions::pose_detection(self.options.min_detection_score),
        );
        let mut people = weighted_nms(decoded, 0.3);
        for d in &mut people {
            remove_letterbox(d, pad);
        }
        Ok(people)
    }

    /// The full analysis of the most prominent person of `image`.
    pub fn analyze(&self, image: &RgbImage) -> Result<PersonAnalysis, PersonError> {
        let size = (image.width(), image.height());
        let people = self.detect_people(image)?;
        let Some(person) = people.first() else {
            return Err(PersonError::NoPerson(format!(
                "the pose detector found nobody above score {} in the {}×{} photo",
                self.options.min_detection_score, size.0, size.1
            )));
        };
        let (Some(&hip), Some(&top)) = (person.keypoints.first(), person.keypoints.get(1)) else {
            return Err(PersonError::Inference(
                "pose detection without its alignment keypoints".into(),
            ));
        };
        let roi = alignment_roi(hip, top, size, 90.0, 1.25);
        let mut analysis = self.analyze_roi(image, roi)?;
        analysis.people_detected = people.len();
        analysis.detection_score = person.score;
        Ok(analysis)
    }

    /// The analysis of the person inside `roi` without running the
    /// detector — MediaPipe's tracking path, for video: pass the previous
    /// frame's [`PersonAnalysis::tracking_roi`]. `people_detected` and
    /// `detection_score` are 0 in the result.
    pub fn analyze_roi(
        &self,
        image: &RgbImage,
        roi: NormRect,
    ) -> Result<PersonAnalysis, PersonError> {
        check_image(image)?;
        let size = (image.width(), image.height());
        let mut roi = roi;
        let mut pass = self.landmark_pass(image, &roi)?;
        for _ in 0..self.options.refine_passes {
            let next_roi = landmarks_roi(&pass.landmarks, size);
            let next = self.landmark_pass(image, &next_roi)?;
            // A refine crop that loses the person would make things worse:
            // keep the previous pass then.
            if next.presence < self.options.min_presence {
                break;
            }
            roi = next_roi;
            pass = next;
        }
        if pass.presence < self.options.min_presence {
            return Err(PersonError::NoPerson(format!(
                "the landmark model's presence score {:.3} is below {} for the detected person",
                pass.presence, self.options.min_presence
            )));
        }
        let (iw, ih) = (size.0 as f32, size.1 as f32);
        let image_landmarks: Vec<Landmark> = pass
            .landmarks
            .iter()
            .take(BLAZEPOSE_COUNT)
            .map(|l| Landmark {
                x: l.x * iw,
                y: l.y * ih,
                z: l.z * iw,
                visibility: l.visibility,
                presence: l.presence,
            })
            .collect();
        let probs = mask_to_image(
            &pass.segmentation,
            LANDMARK_SIZE as usize,
            LANDMARK_SIZE as usize,
            &pass.crop,
            size,
        );
        let mask = GrayImage::from_vec(size.0, size.1, probs)
            .ok_or_else(|| PersonError::InvalidImage("mask size mismatch".into()))?;
        let face = match (&self.face_detector, &self.face_mesh) {
            (Some(det), Some(mesh)) => {
                self.analyze_face(image, &image_landmarks, det.as_ref(), mesh.as_ref())?
            }
            _ => None,
        };
        Ok(PersonAnalysis {
            tracking_roi: landmarks_roi(&pass.landmarks, size),
            landmarks: PoseLandmarks {
                image_size: [size.0, size.1],
                image: image_landmarks,
                world: pass.world.into_iter().take(BLAZEPOSE_COUNT).collect(),
            },
            people_detected: 0,
            detection_score: 0.0,
            presence: pass.presence,
            roi,
            mask,
            face,
        })
    }

    fn landmark_pass(&self, image: &RgbImage, roi: &NormRect) -> Result<LandmarkPass, PersonError> {
        let size = (image.width(), image.height());
        let crop = CropTransform::from_norm_rect(roi, size, LANDMARK_SIZE, LANDMARK_SIZE);
        let input = crop_to_tensor(image, &crop, Border::Replicate, 0.0, 1.0);
        let outputs = self.pose_landmarks.run_single(&[1, 256, 256, 3], &input)?;
        let raw = find_output(&outputs, MODEL_LANDMARKS * 5, "pose landmarks")?;
        let flag = find_output(&outputs, 1, "pose presence")?;
        let segmentation = find_output(&outputs, 256 * 256, "segmentation")?;
        let heatmap = find_output(&outputs, 64 * 64 * MODEL_LANDMARKS, "heatmap")?;
        let world_raw = find_output(&outputs, MODEL_LANDMARKS * 3, "world landmarks")?;
        let mut lms = decode_landmarks(raw, MODEL_LANDMARKS, LANDMARK_SIZE as f32, 5);
        refine_from_heatmap(&mut lms, heatmap, 64, 64, MODEL_LANDMARKS);
        let landmarks = lms.iter().map(|l| project(l, roi)).collect();
        Ok(LandmarkPass {
            landmarks,
            world: project_world(world_raw, roi, MODEL_LANDMARKS),
            // The model ends in a logistic: the flag is a probability already.
            presence: flag[0],
            segmentation: segmentation.to_vec(),
            crop,
        })
    }

    /// Runs the face detector on `crop` of the image; faces in image pixels
    /// (box x0, y0, x1, y1; keypoints), best first.
    fn detect_faces(
        &self,
        image: &RgbImage,
        crop: &CropTransform,
        detector: &dyn Model,
    ) -> Result<Vec<FaceBox>, PersonError> {
        let input = crop_to_tensor(image, crop, Border::Zero, -1.0, 1.0);
        let outputs = detector.run_single(&[1, 128, 128, 3], &input)?;
        let boxes = find_output(
            &outputs,
            self.face_anchors.len() * 16,
            "face detector boxes",
        )?;
        let scores = find_output(&outputs, self.face_anchors.len(), "face detector scores")?;
        let faces = weighted_nms(
            decode(
                boxes,
                scores,
                &self.face_anchors,
                &DecodeOptions::face_detection_short_range(0.5),
            ),
            0.3,
        );
        // Tensor-normalised → image pixels through the crop (for the
        // letterbox crop this also removes the padding).
        let s = FACE_DETECTOR_SIZE as f32;
        let to_px = |x: f32, y: f32| crop.to_image(x * s, y * s);
        Ok(faces
            .iter()
            .map(|f| {
                let (x0, y0) = to_px(f.xmin, f.ymin);
                let (x1, y1) = to_px(f.xmin + f.width, f.ymin + f.height);
                let kps = f
                    .keypoints
                    .iter()
                    .map(|&(x, y)| to_px(x, y))
                    .map(|(x, y)| [x, y])
                    .collect();
                (f.score, [x0, y0, x1, y1], kps)
            })
            .collect())
    }

    /// The face of the analysed person. First as MediaPipe's face mesh
    /// graph does it — the short-range detector on the whole letterboxed
    /// photo — keeping the face whose box holds the pose's nose; when that
    /// finds nothing (the short-range model wants a face filling a good part
    /// of its input, which a full-body photo often does not give), again on
    /// a square crop around the pose's face landmarks. Then the mesh on the
    /// face ROI.
    fn analyze_face(
        &self,
        image: &RgbImage,
        pose: &[Landmark],
        detector: &dyn Model,
        mesh: &dyn Model,
    ) -> Result<Option<FaceAnalysis>, PersonError> {
        let face_points: Vec<&Landmark> = pose.iter().take(11).collect();
        let mean_visibility =
            face_points.iter().map(|l| l.visibility).sum::<f32>() / face_points.len().max(1) as f32;
        if face_points.len() < 11 || mean_visibility < 0.5 {
            return Ok(None);
        }
        let nose = face_points[0];
        let holds_nose =
            |b: &[f32; 4]| nose.x >= b[0] && nose.x <= b[2] && nose.y >= b[1] && nose.y <= b[3];
        let size = (image.width(), image.height());
        let (whole, _) = letterbox(size, FACE_DETECTOR_SIZE, FACE_DETECTOR_SIZE);
        let mut found = self
            .detect_faces(image, &whole, detector)?
            .into_iter()
            .find(|f| holds_nose(&f.1));
        if found.is_none() {
            let (mut x0, mut y0, mut x1, mut y1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
            for l in &face_points {
                x0 = x0.min(l.x);
                y0 = y0.min(l.y);
                x1 = x1.max(l.x);
                y1 = y1.max(l.y);
            }
            let side = ((x1 - x0).max(y1 - y0) * 3.0).max(16.0);
            let head = CropTransform {
                cx: (x0 + x1) / 2.0,
                cy: (y0 + y1) / 2.0,
                w: side,
                h: side,
                rotation: 0.0,
                out_w: FACE_DETECTOR_SIZE,
                out_h: FACE_DETECTOR_SIZE,
            };
            found = self
                .detect_faces(image, &head, detector)?
                .into_iter()
                .find(|f| holds_nose(&f.1));
        }
        let Some((score, [bx0, by0, bx1, by1], keypoints)) = found else {
            return Ok(None);
        };
        if keypoints.len() < 2 {
            return Ok(None);
        }
        // face_detection_front_detection_to_roi: box centre, rotation from
        // the eyes (target 0°), ×1.5, square.
        let (iw, ih) = (size.0 as f32, size.1 as f32);
        let rotation = crate::geometry::normalize_radians(
            -(-(keypoints[1][1] - keypoints[0][1])).atan2(keypoints[1][0] - keypoints[0][0]),
        );
        let rect = transform_rect(
            NormRect {
                x_center: (bx0 + bx1) / 2.0 / iw,
                y_center: (by0 + by1) / 2.0 / ih,
                width: (bx1 - bx0) / iw,
                height: (by1 - by0) / ih,
                rotation,
            },
            size,
            1.5,
            1.5,
            true,
        );
        let mesh_crop = CropTransform::from_norm_rect(&rect, size, FACE_MESH_SIZE, FACE_MESH_SIZE);
        let input = crop_to_tensor(image, &mesh_crop, Border::Replicate, 0.0, 1.0);
        let outputs = mesh.run_single(&[1, 192, 192, 3], &input)?;
        let raw = find_output(&outputs, FACE_MESH_POINTS * 3, "face mesh")?;
        let flag = find_output(&outputs, 1, "face presence")?;
        let mesh_points = decode_landmarks(raw, FACE_MESH_POINTS, FACE_MESH_SIZE as f32, 3)
            .iter()
            .map(|l| project(l, &rect))
            .map(|l| [l.x * iw, l.y * ih, l.z * iw])
            .collect();
        Ok(Some(FaceAnalysis {
            score,
            bbox: [bx0, by0, bx1 - bx0, by1 - by0],
            keypoints,
            mesh: mesh_points,
            mesh_score: sigmoid(flag[0]),
        }))
    }
}

/// MediaPipe's `pose_landmarks_to_roi`: the auxiliary hip-centre (33) and
/// scale (34) landmarks define the next ROI exactly as the detector's
/// keypoints did.
fn landmarks_roi(landmarks: &[NormLandmark], size: (u32, u32)) -> NormRect {
    match (landmarks.get(33), landmarks.get(34)) {
        (Some(c), Some(s)) => alignment_roi((c.x, c.y), (s.x, s.y), size, 90.0, 1.25),
        _ => NormRect {
            x_center: 0.5,
            y_center: 0.5,
            width: 1.0,
            height: 1.0,
            rotation: 0.0,
        },
    }
}

fn check_image(image: &RgbImage) -> Result<(), PersonError> {
    if image.width() == 0 || image.height() == 0 {
        return Err(PersonError::InvalidImage(format!(
            "empty image ({}×{})",
            image.width(),
            image.height()
        )));
    }
    Ok(())
}

/// Outputs are found by element count: converters name them differently
/// (TFLite `Identity_2`, tf2onnx, our importer), but the sizes are unique
/// within each model.
fn find_output<'a>(
    outputs: &'a [NamedTensor],
    len: usize,
    what: &str,
) -> Result<&'a [f32], PersonError> {
    outputs
        .iter()
        .find(|o| o.tensor.len() == len)
        .map(|o| o.tensor.data.as_slice())
        .ok_or_else(|| {
            let sizes: Vec<usize> = outputs.iter().map(|o| o.tensor.len()).collect();
            PersonError::Inference(format!(
                "model has no {what} output of {len} values (outputs: {sizes:?})"
            ))
        })
}

#[cfg(test)]
mod tests {
    //! The pipeline's control flow on a fake backend whose models return
    //! prepared tensors, so it is tested without model files.

    use super::*;
    use crate::backend::Tensor;
    use garmax_core::Coded;

    /// Returns fixed outputs, whatever the input.
    struct FakeModel(Vec<NamedTensor>);

    impl Model for FakeModel {
        fn input_names(&self) -> Vec<String> {
            vec!["input".into()]
        }
        fn run(
            &self,
            _inputs: &[(&str, &[usize], &[f32])],
        ) -> Result<Vec<NamedTensor>, PersonError> {
            Ok(self.0.clone())
        }
    }

    struct FakeBackend {
        person_score_logit: f32,
        presence: f32,
    }

    fn tensor(name: &str, shape: &[usize], data: Vec<f32>) -> NamedTensor {
        NamedTensor {
            name: name.into(),
            tensor: Tensor {
                shape: shape.to_vec(),
                data,
            },
        }
    }

    impl InferenceBackend for FakeBackend {
        fn load(&self, path: &Path) -> Result<Box<dyn Model>, PersonError> {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            let outputs = match name {
                POSE_DETECTION_MODEL => {
                    // One confident anchor (index 0, centre (0.5/28, 0.5/28))
                    // whose keypoints put the hip centre at the tensor centre
                    // and the scale point 50 px above it.
                    let mut boxes = vec![0f32; 2254 * 12];
                    let (ax, ay) = (0.5 / 28.0 * 224.0, 0.5 / 28.0 * 224.0);
                    boxes[2] = 100.0;
                    boxes[3] = 150.0;
                    boxes[4] = 112.0 - ax;
                    boxes[5] = 112.0 - ay;
                    boxes[6] = 112.0 - ax;
                    boxes[7] = 62.0 - ay;
                    let mut scores = vec![-10f32; 2254];
                    scores[0] = self.person_score_logit;
                    vec![
                        tensor("boxes", &[1, 2254, 12], boxes),
                        tensor("scores", &[1, 2254, 1], scores),
                    ]
                }
                POSE_LANDMARK_MODEL => {
                    // Every landmark at the crop centre, visible; auxiliary
                    // ones as an upright body.
                    let mut lms = vec![0f32; 195];
                    for i in 0..39 {
                        lms[i * 5] = 128.0;
                        lms[i * 5 + 1] = 128.0;
                        lms[i * 5 + 3] = 5.0;
                        lms[i * 5 + 4] = 5.0;
                    }
                    lms[34 * 5 + 1] = 28.0;
                    vec![
                        tensor("landmarks", &[1, 195], lms),
                        tensor("presence", &[1, 1], vec![self.presence]),
                        tensor("segmentation", &[1, 256, 256, 1], vec![5.0; 65536]),
                        tensor("heatmap", &[1, 64, 64, 39], vec![-10.0; 64 * 64 * 39]),
                        tensor("world", &[1, 117], vec![0.1; 117]),
                    ]
                }
                _ => {
                    return Err(PersonError::AssetMissing {
                        what: "fake".into(),
                        path: path.into(),
                    });
                }
            };
            Ok(Box::new(FakeModel(outputs)))
        }
    }

    fn analyzer(person_score_logit: f32, presence: f32) -> PersonAnalyzer {
        let options = AnalyzerOptions {
            face: false,
            refine_passes: 0,
            ..Default::default()
        };
        PersonAnalyzer::with_backend(
            "/nowhere",
            &FakeBackend {
                person_score_logit,
                presence,
            },
            options,
        )
        .unwrap()
    }

    #[test]
    fn detection_to_landmarks_in_image_pixels() {
        let a = analyzer(5.0, 0.9)
            .analyze(&RgbImage::new(224, 224))
            .unwrap();
        assert_eq!(a.people_detected, 1);
        // ROI: centre (112, 112), side 2·50·1.25 = 125 px, upright.
        assert!((a.roi.x_center - 0.5).abs() < 1e-3, "{:?}", a.roi);
        assert!((a.roi.width * 224.0 - 125.0).abs() < 0.5, "{:?}", a.roi);
        assert!(a.roi.rotation.abs() < 1e-4);
        // The tracking ROI from the auxiliary landmarks: scale point 100
        // tensor px = 100/256·125 px above the centre → side 2·48.83·1.25.
        assert!(
            (a.tracking_roi.width * 224.0 - 122.07).abs() < 0.1,
            "{:?}",
            a.tracking_roi
        );
        // Landmarks at the crop centre land on the ROI centre.
        let nose = a.landmarks.image[0];
        assert!(
            (nose.x - 112.0).abs() < 0.5 && (nose.y - 112.0).abs() < 0.5,
            "{nose:?}"
        );
        assert!(nose.visibility > 0.99);
        // The mask (all "person" in the crop) covers the 125 px ROI around
        // the centre and nothing outside it.
        assert_eq!(a.mask.get_pixel(0, 0)[0], 0);
        assert_eq!(a.mask.get_pixel(112, 112)[0], 253);
        assert_eq!(a.landmarks.world.len(), 33);
    }

    #[test]
    fn low_detector_score_is_no_person() {
        let err = analyzer(-5.0, 0.9)
            .analyze(&RgbImage::new(100, 50))
            .unwrap_err();
        assert_eq!(err.code().as_str(), "PER_010");
        assert!(
            err.to_string().contains("pose detector found nobody"),
            "{err}"
        );
    }

    #[test]
    fn low_presence_is_no_person() {
        let err = analyzer(5.0, 0.1)
            .analyze(&RgbImage::new(100, 50))
            .unwrap_err();
        assert_eq!(err.code().as_str(), "PER_010");
        assert!(err.to_string().contains("presence"), "{err}");
    }

    #[test]
    fn missing_outputs_are_inference_errors() {
        struct Empty;
        impl InferenceBackend for Empty {
            fn load(&self, _: &Path) -> Result<Box<dyn Model>, PersonError> {
                Ok(Box::new(FakeModel(vec![])))
            }
        }
        let options = AnalyzerOptions {
            face: false,
            ..Default::default()
        };
        let a = PersonAnalyzer::with_backend("/nowhere", &Empty, options).unwrap();
        let err = a.analyze(&RgbImage::new(10, 10)).unwrap_err();
        assert_eq!(err.code().as_str(), "INF_011", "{err}");
    }

    #[test]
    fn missing_model_files_are_reported() {
        let options = AnalyzerOptions::default();
        let err = PersonAnalyzer::with_backend(
            "/nowhere",
            &FakeBackend {
                person_score_logit: 0.0,
                presence: 0.0,
            },
            options,
        )
        .unwrap_err();
        assert_eq!(err.code().as_str(), "AST_009");
    }
}

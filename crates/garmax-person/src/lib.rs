//! Person analysis from a photo with MediaPipe's models (converted to ONNX,
//! run by ONNX Runtime): 33 body landmarks in image and world space, a person
//! mask, and the face box with its 468-point mesh.
//!
//! The pipeline reproduces MediaPipe's pose graph (`pose_landmark_cpu`) step
//! by step — letterboxed detection with SSD anchors and weighted NMS, the
//! rotated ROI from the detector's hip-centre and scale keypoints, the
//! 256×256 affine crop, heatmap-refined landmarks projected back, world
//! landmarks, the segmentation mask warped back to the photo — because the
//! models only give MediaPipe's accuracy with MediaPipe's pre- and
//! post-processing. A second landmark pass on the ROI derived from the first
//! pass's landmarks (MediaPipe's tracking ROI) is on by default.
//!
//!
//! [`face_id`] adds face identity: face-api's `faceRecognitionNet` (TF.js
//! weights from the `@vladmandic/face-api` package) imported to ONNX by our
//! own code; [`FaceIdentity::embed`] turns an aligned 112 × 112 face crop
//! into an L2-normalised 128-d embedding.
//!
//! ```no_run
//! use garmax_person::{AnalyzerOptions, PersonAnalyzer};
//! let analyzer = PersonAnalyzer::new("/cache/models", AnalyzerOptions::default())?;
//! let photo = image::open("person.jpg").unwrap().to_rgb8();
//! let person = analyzer.analyze(&photo)?;
//! println!("{} people, nose at {:?}", person.people_detected, person.landmarks.image[0]);
//! # Ok::<(), garmax_person::PersonError>(())
//! ```

pub mod analyzer;
pub mod anchors;
pub mod backend;
pub mod bench;
pub mod detection;
pub mod draw;
pub mod error;
pub mod face_id;
pub mod geometry;
pub mod keypoints;
pub mod landmarks;
pub mod models;
#[cfg(feature = "tract")]
pub mod tract_backend;

pub use analyzer::{
    AnalyzerOptions, FaceAnalysis, PersonAnalysis, PersonAnalyzer, default_onnxruntime_library,
};
pub use backend::{InferenceBackend, Model, OrtBackend, Tensor};
pub use error::PersonError;
pub use face_id::{FaceIdentity, align_face};
pub use geometry::NormRect;
pub use keypoints::{coco17, openpose_json, openpose18};
pub use models::convert_models;

// One analyzer serves many threads (sessions are behind mutexes).
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<PersonAnalyzer>();
    // `garmax_quality::FaceEmbedder` implementations must be Send + Sync.
    assert_send_sync::<FaceIdentity>();
};

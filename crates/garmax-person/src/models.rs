//! The model files the analyzer loads and how they are made: MediaPipe's
//! TFLite models (from the `mediapipe==0.10.14` wheel, in the asset cache)
//! converted to ONNX by `garmax-tflite`, once.

use std::path::{Path, PathBuf};

use crate::analyzer::{
    FACE_DETECTION_MODEL, FACE_LANDMARK_MODEL, POSE_DETECTION_MODEL, POSE_LANDMARK_MODEL,
};
use crate::error::PersonError;

/// Each ONNX file of the models directory and its TFLite source, relative to
/// the asset cache's `assets/` directory (paths inside the mediapipe wheel).
pub const MODEL_SOURCES: [(&str, &str); 4] = [
    (
        POSE_DETECTION_MODEL,
        "mediapipe/modules/pose_detection/pose_detection.tflite",
    ),
    (
        POSE_LANDMARK_MODEL,
        "mediapipe/modules/pose_landmark/pose_landmark_full.tflite",
    ),
    (
        FACE_DETECTION_MODEL,
        "mediapipe/modules/face_detection/face_detection_short_range.tflite",
    ),
    (
        FACE_LANDMARK_MODEL,
        "mediapipe/modules/face_landmark/face_landmark.tflite",
    ),
];

/// Converts the four TFLite models under `assets_dir` into ONNX files in
/// `models_dir` (created if needed). Returns the paths of the ONNX files.
///
/// Beside each model a `.source` stamp records the SHA-256 of the TFLite
/// file and the converter's version; an existing model is kept only when its
/// stamp matches (and `force` is off), so a new converter or a changed
/// source redoes the conversion. Files are written under a temporary name
/// and renamed, so a crash never leaves a truncated model.
pub fn convert_models(
    assets_dir: &Path,
    models_dir: &Path,
    force: bool,
) -> Result<Vec<PathBuf>, PersonError> {
    std::fs::create_dir_all(models_dir)
        .map_err(|e| PersonError::Inference(format!("{}: {e}", models_dir.display())))?;
    let mut out = Vec::new();
    for (onnx_name, tflite_rel) in MODEL_SOURCES {
        let target = models_dir.join(onnx_name);
        out.push(target.clone());
        let source = assets_dir.join(tflite_rel);
        let tflite = std::fs::read(&source).map_err(|_| PersonError::AssetMissing {
            what: "MediaPipe TFLite model".into(),
            path: source.clone(),
        })?;
        let stamp = format!(
            "{} garmax-tflite {}\n",
            hex_digest(&tflite),
            garmax_tflite::VERSION
        );
        let stamp_path = target.with_extension("onnx.source");
        let fresh =
            target.is_file() && std::fs::read_to_string(&stamp_path).is_ok_and(|s| s == stamp);
        if fresh && !force {
            continue;
        }
        let onnx = garmax_tflite::convert(&tflite)
            .map_err(|e| PersonError::Inference(format!("converting {}: {e}", source.display())))?;
        let tmp = target.with_extension(format!("onnx.tmp{}", std::process::id()));
        std::fs::write(&tmp, &onnx)
            .and_then(|_| std::fs::rename(&tmp, &target))
            .and_then(|_| std::fs::write(&stamp_path, &stamp))
            .map_err(|e| PersonError::Inference(format!("writing {}: {e}", target.display())))?;
    }
    Ok(out)
}

pub(crate) fn hex_digest(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use garmax_core::Coded;

    #[test]
    fn missing_tflite_is_ast_009() {
        let dir =
            std::env::temp_dir().join(format!("garmax-person-convert-{}", std::process::id()));
        let err = convert_models(&dir.join("assets"), &dir.join("models"), false).unwrap_err();
        assert_eq!(err.code().as_str(), "AST_009", "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

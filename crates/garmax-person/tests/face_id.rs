//! Face identity against face-api's own network on TF.js
//! (`tests/fixtures/face_id_reference.json`, made by
//! `tools/reference/face_id_reference.cjs`): the converted model must give
//! the same embeddings, and separate the same person from different people
//! on the packaged photos.
//!
//! Weights and photos come from the asset cache; a missing file fails the
//! test with its path (run `garmax models fetch`).

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use garmax_person::face_id::{EMBEDDING_LEN, FaceIdentity, align_face, roc, similarity};
use garmax_person::{OrtBackend, default_onnxruntime_library};
use image::RgbImage;
use serde_json::Value;

struct Face {
    id: String,
    person: String,
    crop: RgbImage,
    crop_hash: String,
    reference: Vec<f32>,
}

fn assets() -> PathBuf {
    common::cache_root().join("assets")
}

fn faces() -> &'static [Face] {
    static FACES: OnceLock<Vec<Face>> = OnceLock::new();
    FACES.get_or_init(|| {
        let path = common::fixtures_dir().join("face_id_reference.json");
        let json: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        json["faces"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                let photo_path = assets().join(f["photo"].as_str().unwrap());
                let photo = image::open(&photo_path)
                    .unwrap_or_else(|e| {
                        panic!(
                            "photo {} missing or unreadable: {e} (run `garmax models fetch`)",
                            photo_path.display()
                        )
                    })
                    .to_rgb8();
                let pts: Vec<[f32; 2]> = serde_json::from_value(f["points"].clone()).unwrap();
                let crop = align_face(&photo, &pts.try_into().unwrap()).unwrap();
                Face {
                    id: f["id"].as_str().unwrap().into(),
                    person: f["person"].as_str().unwrap().into(),
                    crop,
                    crop_hash: f["crop_fnv1a64"].as_str().unwrap().into(),
                    reference: serde_json::from_value(f["embedding"].clone()).unwrap(),
                }
            })
            .collect()
    })
}

fn identity() -> &'static FaceIdentity {
    static MODEL: OnceLock<FaceIdentity> = OnceLock::new();
    MODEL.get_or_init(|| {
        let library = default_onnxruntime_library(&common::cache_root().join("models"));
        let backend = OrtBackend::new(&library, 1)
            .unwrap_or_else(|e| panic!("{e} (run `garmax models fetch`)"));
        let models = Path::new(env!("CARGO_TARGET_TMPDIR")).join("garmax-face-id-models");
        FaceIdentity::load(&backend, &assets(), &models)
            .unwrap_or_else(|e| panic!("cannot load faceRecognitionNet: {e}"))
    })
}

fn embeddings() -> &'static [[f32; EMBEDDING_LEN]] {
    static E: OnceLock<Vec<[f32; EMBEDDING_LEN]>> = OnceLock::new();
    E.get_or_init(|| {
        faces()
            .iter()
            .map(|f| identity().embed(&f.crop).unwrap())
            .collect()
    })
}

#[test]
fn embeddings_match_face_api_on_tfjs() {
    assert!(
        faces().len() >= 20,
        "the fixture lists {} faces",
        faces().len()
    );
    for (face, ours) in faces().iter().zip(embeddings()) {
        // The same pixels as TF.js saw: otherwise a difference could come
        // from the crop (e.g. a changed JPEG decoder), not the model.
        assert_eq!(
            common::fnv1a64(face.crop.as_raw()),
            face.crop_hash,
            "{}: the aligned crop differs from the one the reference embedded",
            face.id
        );
        let norm: f32 = ours.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "{}: norm {norm}", face.id);
        let reference_norm = face.reference.iter().map(|v| v * v).sum::<f32>().sqrt();
        let cosine: f32 = ours
            .iter()
            .zip(&face.reference)
            .map(|(a, b)| a * b / reference_norm)
            .sum();
        assert!(cosine >= 0.999, "{}: cosine to TF.js {cosine}", face.id);
    }
}

#[test]
fn same_person_scores_above_different_people() {
    let (faces, emb) = (faces(), embeddings());
    let (mut same, mut different) = (Vec::new(), Vec::new());
    for i in 0..faces.len() {
        for j in i + 1..faces.len() {
            let s = similarity(&emb[i], &emb[j]);
            if faces[i].person == faces[j].person {
                same.push(s);
            } else {
                different.push(s);
            }
        }
    }
    assert!(same.len() >= 3, "{} same-person pairs", same.len());
    let r = roc(&same, &different);
    println!(
        "{} same / {} different pairs: ROC AUC {:.4}, EER {:.3} at cosine {:.4}",
        same.len(),
        different.len(),
        r.auc,
        r.eer,
        r.eer_threshold
    );
    assert!(r.auc >= 0.95, "ROC AUC {}", r.auc);
}

#[test]
fn another_face_is_less_similar_than_a_mirrored_view() {
    let face = &faces()[0];
    let mirrored = image::imageops::flip_horizontal(&face.crop);
    let e = identity().embed(&face.crop).unwrap();
    let view = identity().embed(&mirrored).unwrap();
    let other = faces()
        .iter()
        .position(|f| f.person != face.person)
        .unwrap();
    let other = &embeddings()[other];
    assert!(
        similarity(&e, &view) > similarity(&e, other),
        "mirror {} vs other person {}",
        similarity(&e, &view),
        similarity(&e, other)
    );
}

#[test]
fn empty_crop_is_an_invalid_image() {
    use garmax_core::Coded;
    let err = identity().embed(&RgbImage::new(0, 0)).unwrap_err();
    assert_eq!(err.code().as_str(), "IMG_004", "{err}");
}

//! The pipeline on real and awkward inputs: outputs, face, several people,
//! no person, tiny and extreme images. Skipped (with a note) when the models
//! are not in the asset cache.

mod common;

use garmax_core::Coded;
use garmax_person::{AnalyzerOptions, PersonError, draw, keypoints};
use image::RgbImage;

fn astronaut() -> RgbImage {
    common::load_photo("cache:assets/skimage/data/astronaut.png")
}

#[test]
fn full_analysis_of_the_astronaut() {
    let Some(analyzer) = common::analyzer(AnalyzerOptions::default()) else {
        return;
    };
    let img = astronaut();
    let a = analyzer.analyze(&img).unwrap();
    assert_eq!(a.people_detected, 1);
    assert_eq!(a.landmarks.image.len(), 33);
    assert_eq!(a.landmarks.world.len(), 33);
    assert_eq!(a.landmarks.image_size, [512, 512]);
    assert_eq!(a.mask.dimensions(), (512, 512));
    // The nose is on the face (MediaPipe's static-image mode puts it at
    // (222.7, 128.0), `tests/fixtures/pose_reference.json`).
    let nose = a.landmarks.image[0];
    assert!(
        (nose.x - 222.7).abs() < 10.0 && (nose.y - 128.0).abs() < 10.0,
        "{nose:?}"
    );
    // World landmarks are metric and hip-centred: the hips' midpoint is ~0
    // and the shoulders are 0.2–0.6 m apart.
    let w = &a.landmarks.world;
    let hip_mid = [(w[23][0] + w[24][0]) / 2.0, (w[23][1] + w[24][1]) / 2.0];
    assert!(
        hip_mid[0].abs() < 0.05 && hip_mid[1].abs() < 0.05,
        "{hip_mid:?}"
    );
    let shoulders = ((w[11][0] - w[12][0]).powi(2) + (w[11][1] - w[12][1]).powi(2)).sqrt();
    assert!((0.2..0.6).contains(&shoulders), "{shoulders}");
    // The face: detector box around the nose, 468 mesh points inside it.
    let face = a.face.as_ref().expect("the astronaut's face is visible");
    let [bx, by, bw, bh] = face.bbox;
    assert!(
        nose.x > bx && nose.x < bx + bw && nose.y > by && nose.y < by + bh,
        "{:?}",
        face.bbox
    );
    assert_eq!(face.mesh.len(), 468);
    assert!(face.mesh_score > 0.9);
    let inside = face
        .mesh
        .iter()
        .filter(|p| {
            p[0] > bx - 0.2 * bw
                && p[0] < bx + 1.2 * bw
                && p[1] > by - 0.4 * bh
                && p[1] < by + 1.2 * bh
        })
        .count();
    assert!(
        inside > 450,
        "{inside} of 468 mesh points near the face box"
    );
    // Derived keypoints and pictures.
    assert_eq!(keypoints::coco17(&a.landmarks).len(), 17);
    let op = keypoints::openpose_json(&a.landmarks, 0.5);
    assert_eq!(
        op["people"][0]["pose_keypoints_2d"]
            .as_array()
            .unwrap()
            .len(),
        54
    );
    let map = draw::pose_map(&a);
    assert_eq!(map.dimensions(), (512, 512));
    assert!(map.pixels().any(|p| p.0 != [0, 0, 0]));
    assert_eq!(draw::overlay(&img, &a).dimensions(), (512, 512));
    // Mask: the person covers a good part of the photo, the top-left corner
    // (flag) is background.
    let person = a.binary_mask(0.5).pixels().filter(|p| p[0] == 255).count();
    assert!(person > 512 * 512 / 5, "{person}");
    assert_eq!(a.binary_mask(0.5).get_pixel(5, 5)[0], 0);
}

#[test]
fn refine_pass_stays_close_to_the_single_pass() {
    let Some(single) = common::analyzer(AnalyzerOptions {
        refine_passes: 0,
        face: false,
        ..Default::default()
    }) else {
        return;
    };
    let Some(refined) = common::analyzer(AnalyzerOptions {
        refine_passes: 1,
        face: false,
        ..Default::default()
    }) else {
        return;
    };
    for img in [
        astronaut(),
        common::load_photo("fixture:faceapi_sample4_crop.png"),
    ] {
        let a = single.analyze(&img).unwrap();
        let b = refined.analyze(&img).unwrap();
        let diag = a.landmarks.image_diagonal();
        let (mut sum, mut n) = (0.0, 0);
        for (p, q) in a.landmarks.image.iter().zip(&b.landmarks.image) {
            if p.visibility > 0.5 {
                sum += ((p.x - q.x).powi(2) + (p.y - q.y).powi(2)).sqrt();
                n += 1;
            }
        }
        let pct = sum / n as f32 / diag * 100.0;
        println!(
            "refine pass moves visible landmarks by {pct:.3} % of the diagonal; ROI side {} → {}",
            a.roi.width, b.roi.width
        );
        assert!(pct < 2.0, "{pct}");
    }
}

#[test]
fn several_people_are_counted_and_the_best_is_analysed() {
    let Some(analyzer) = common::analyzer(AnalyzerOptions {
        face: false,
        ..Default::default()
    }) else {
        return;
    };
    let one = common::load_photo("fixture:faceapi_sample4_crop.png");
    let mut two = RgbImage::new(one.width() * 2 + 40, one.height());
    image::imageops::replace(&mut two, &one, 0, 0);
    image::imageops::replace(
        &mut two,
        &image::imageops::flip_horizontal(&one),
        one.width() as i64 + 40,
        0,
    );
    let a = analyzer.analyze(&two).unwrap();
    assert!(
        a.people_detected >= 2,
        "people_detected = {}",
        a.people_detected
    );
    // The landmarks describe one person: all visible ones on one side.
    let visible: Vec<f32> = a
        .landmarks
        .image
        .iter()
        .filter(|l| l.visibility > 0.5)
        .map(|l| l.x)
        .collect();
    let left = visible.iter().all(|&x| x < one.width() as f32 + 20.0);
    let right = visible.iter().all(|&x| x > one.width() as f32 + 20.0);
    assert!(left || right, "landmarks straddle both people: {visible:?}");
}

#[test]
fn no_person_is_per_010() {
    let Some(analyzer) = common::analyzer(AnalyzerOptions::default()) else {
        return;
    };
    for img in [
        RgbImage::new(256, 256),
        RgbImage::from_pixel(300, 200, image::Rgb([200, 180, 40])),
    ] {
        let err = analyzer.analyze(&img).unwrap_err();
        assert!(matches!(err, PersonError::NoPerson(_)), "{err}");
        assert_eq!(err.code().as_str(), "PER_010");
        assert!(err.to_string().contains("no person"), "{err}");
    }
}

#[test]
fn tiny_empty_and_extreme_images_do_not_panic() {
    let Some(analyzer) = common::analyzer(AnalyzerOptions::default()) else {
        return;
    };
    let empty = RgbImage::new(0, 0);
    assert_eq!(
        analyzer.analyze(&empty).unwrap_err().code().as_str(),
        "IMG_004"
    );
    let photo = astronaut();
    let cases = [
        RgbImage::new(1, 1),
        RgbImage::new(3, 2),
        image::imageops::resize(&photo, 24, 24, image::imageops::FilterType::Triangle),
        image::imageops::resize(&photo, 2000, 6, image::imageops::FilterType::Triangle),
        image::imageops::resize(&photo, 6, 2000, image::imageops::FilterType::Triangle),
        image::imageops::resize(&photo, 64, 64, image::imageops::FilterType::Triangle),
    ];
    for img in &cases {
        match analyzer.analyze(img) {
            Ok(a) => {
                assert_eq!(a.mask.dimensions(), img.dimensions());
                assert!(
                    a.landmarks
                        .image
                        .iter()
                        .all(|l| l.x.is_finite() && l.y.is_finite())
                );
                let _ = draw::pose_map(&a);
                let _ = draw::overlay(img, &a);
            }
            Err(e) => assert_eq!(
                e.code().as_str(),
                "PER_010",
                "{}×{}: {e}",
                img.width(),
                img.height()
            ),
        }
    }
}

#[test]
fn missing_models_are_ast_009() {
    let dir = std::env::temp_dir().join("garmax-person-no-models");
    std::fs::create_dir_all(&dir).unwrap();
    let lib = garmax_person::default_onnxruntime_library(&common::cache_root().join("models"));
    let options = AnalyzerOptions {
        onnxruntime_library: Some(lib.clone()),
        ..Default::default()
    };
    let err = garmax_person::PersonAnalyzer::new(&dir, options).unwrap_err();
    assert_eq!(err.code().as_str(), "AST_009", "{err}");
    // A missing ONNX Runtime library is an error too, never a panic.
    let options = AnalyzerOptions {
        onnxruntime_library: Some(dir.join("libonnxruntime.so")),
        ..Default::default()
    };
    let err = garmax_person::PersonAnalyzer::new(&dir, options).unwrap_err();
    assert_eq!(err.code().as_str(), "AST_009", "{err}");
}

/// The face mesh against MediaPipe FaceMesh on the three photos: same
/// detector input (the whole letterboxed photo), same ROI, same mesh, so the
/// bar is 1 % of the face box width on average (measured: ≤ 0.1 %).
#[test]
fn face_mesh_agrees_with_mediapipe_face_mesh() {
    let Some(analyzer) = common::analyzer(AnalyzerOptions::default()) else {
        return;
    };
    let doc: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(common::fixtures_dir().join("pose_reference.json")).unwrap(),
    )
    .unwrap();
    let mut compared = 0;
    for (name, reference) in doc["face_mesh"].as_object().unwrap() {
        let photo = common::load_photo(doc["photos"][name].as_str().unwrap());
        let ours = analyzer.analyze(&photo).unwrap().face;
        let Some(reference) = reference.as_array() else {
            println!(
                "{name}: MediaPipe FaceMesh finds no face; ours: {}",
                ours.is_some()
            );
            continue;
        };
        let face = ours.unwrap_or_else(|| panic!("{name}: MediaPipe finds a face, we do not"));
        let mean: f32 = face
            .mesh
            .iter()
            .zip(reference)
            .map(|(p, r)| {
                let r: Vec<f32> = r
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_f64().unwrap() as f32)
                    .collect();
                (p[0] - r[0]).hypot(p[1] - r[1])
            })
            .sum::<f32>()
            / face.mesh.len() as f32;
        let pct = mean / face.bbox[2] * 100.0;
        println!("{name}: face mesh mean distance {mean:.2} px = {pct:.2} % of the face box width");
        assert!(pct < 1.0, "{name}: {pct:.2} %");
        compared += 1;
    }
    assert!(compared >= 1);
}

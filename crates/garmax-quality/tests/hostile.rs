//! Odd and hostile inputs never panic: tiny or empty images, empty masks,
//! masks of the wrong size, non-finite and short landmark lists.

use garmax_core::pose::{Landmark, PoseLandmarks};
use garmax_quality::testkit::{astronaut_face, astronaut_pose, flat};
use garmax_quality::{
    FaceLayout, FacePoints, ProductInput, QualityConfig, Tier, ValidationEngine, ValidationInput,
};
use garmax_vision::{AnalysisOptions, analyze_garment};

fn product() -> (
    image::RgbaImage,
    garmax_vision::GarmentAnalysis,
    image::GrayImage,
) {
    let g = garmax_vision::synthetic::generate(garmax_vision::shape::GarmentType::Tshirt, 3, 256);
    let decoded = garmax_vision::DecodedImage::from_rgba(g.image.clone());
    let out =
        analyze_garment(&decoded, &AnalysisOptions::default()).expect("synthetic tee analyses");
    (g.image, out.analysis, out.mask)
}

#[test]
fn degenerate_inputs_give_results_not_panics() {
    let (pimg, analysis, pmask) = product();
    let config = QualityConfig::default();
    let engine = ValidationEngine::new(&config);
    let tier = config.tier(Tier::Ultra);
    let p = ProductInput {
        analysis: &analysis,
        image: &pimg,
        mask: &pmask,
    };
    let nan_pose = PoseLandmarks {
        image_size: [0, 0],
        image: vec![
            Landmark {
                x: f32::NAN,
                y: f32::INFINITY,
                z: 0.0,
                visibility: 1.0,
                presence: 1.0
            };
            33
        ],
        world: vec![],
    };
    let short_pose = PoseLandmarks {
        image_size: [10, 10],
        image: vec![],
        world: vec![],
    };
    let good_pose = astronaut_pose();
    let nan_face = FacePoints {
        layout: FaceLayout::Five,
        points: vec![[f32::NAN, 0.0]; 5],
    };
    let same_face = FacePoints {
        layout: FaceLayout::Five,
        points: vec![[5.0, 5.0]; 5],
    };
    let mesh_short = FacePoints {
        layout: FaceLayout::Mesh468,
        points: vec![[1.0, 1.0]; 12],
    };
    let face = astronaut_face();
    let wrong_mask = image::GrayImage::new(3, 3);
    let empty_mask_full = image::GrayImage::new(64, 64);
    for (w, h) in [(1u32, 1u32), (2, 300), (64, 64), (0, 0)] {
        let img = flat(w, h, [200, 30, 30, 255]);
        for pose in [&nan_pose, &short_pose, &good_pose] {
            for (rf, gf) in [
                (&nan_face, &face),
                (&same_face, &same_face),
                (&mesh_short, &face),
                (&face, &face),
            ] {
                for mask in [None, Some(&wrong_mask), Some(&empty_mask_full)] {
                    let mut input = ValidationInput::new(&img, p);
                    input.reference = Some(&img);
                    input.expected_pose = Some(pose);
                    input.detected_pose = Some(&good_pose);
                    input.reference_face = Some(rf);
                    input.generated_face = Some(gf);
                    input.garment_mask = mask;
                    let boxes = [Some([f32::NAN, -5.0, 1e9, 3.0]), None];
                    input.logo_boxes = Some(&boxes);
                    let r = engine.validate(&input, tier).expect("no timeout");
                    assert!(r.overall_quality.is_finite());
                    for v in &r.results {
                        if let Some(s) = v.score {
                            assert!((0.0..=1.0).contains(&s), "{} {s}", v.key);
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn without_landmarks_face_and_pose_say_skipped() {
    let (pimg, analysis, pmask) = product();
    let config = QualityConfig::default();
    let engine = ValidationEngine::new(&config);
    let input = ValidationInput::new(
        &pimg,
        ProductInput {
            analysis: &analysis,
            image: &pimg,
            mask: &pmask,
        },
    );
    let r = engine
        .validate(&input, config.tier(Tier::Standard))
        .unwrap();
    for key in ["face", "pose"] {
        let v = r.result(key).unwrap();
        assert!(v.score.is_none() && v.passes.is_none());
        assert!(
            v.skipped.as_deref().unwrap().contains("no"),
            "{:?}",
            v.skipped
        );
    }
    // The product photo validated against itself: colour and style agree.
    assert!(r.score("color").unwrap() > 0.9, "{:?}", r.result("color"));
    let seed = r.seed_json();
    assert!(seed["consistency"]["face"].is_null());
    assert!(seed["accuracy"]["color"].is_number());
}

#[test]
fn content_keys_change_with_inputs_tier_and_config() {
    let (pimg, analysis, pmask) = product();
    let config = QualityConfig::default();
    let p = ProductInput {
        analysis: &analysis,
        image: &pimg,
        mask: &pmask,
    };
    let a = flat(8, 8, [1, 2, 3, 255]);
    let b = flat(8, 8, [1, 2, 4, 255]);
    let ka = ValidationInput::new(&a, p).content_key(Tier::Standard, &config);
    assert_eq!(
        ka,
        ValidationInput::new(&a, p).content_key(Tier::Standard, &config)
    );
    assert_ne!(
        ka,
        ValidationInput::new(&b, p).content_key(Tier::Standard, &config)
    );
    assert_ne!(
        ka,
        ValidationInput::new(&a, p).content_key(Tier::Ultra, &config)
    );
    let mut other = config.clone();
    other.weights.face = 0.5;
    assert_ne!(
        ka,
        ValidationInput::new(&a, p).content_key(Tier::Standard, &other)
    );
    let pose = astronaut_pose();
    let mut with_pose = ValidationInput::new(&a, p);
    with_pose.detected_pose = Some(&pose);
    assert_ne!(ka, with_pose.content_key(Tier::Standard, &config));
}

//! The pipeline on the packaged photos: stored avatars and garments render
//! exactly as fresh ones, progress follows the seed's map, the working
//! resolution is capped, and bad inputs come back with their codes.

use std::collections::HashMap;

use garmax_core::{Coded, ErrorCode};
use garmax_tryon::{
    ModelOptions, Models, NoProgress, PreparedGarment, PreparedPerson, Stage, TryOnOptions,
};
use garmax_vision::DecodedImage;

mod common;
use common::{models, photo};

const PERSON: &str = "skimage/data/astronaut.png";
const TEE: &str = "saleor/static/placeholders/saleordemoproduct_cl_boot06_1.png";

fn no_validation() -> TryOnOptions {
    TryOnOptions {
        validate: false,
        ..TryOnOptions::default()
    }
}

fn stored(files: Vec<(String, Vec<u8>)>) -> impl Fn(&str) -> Option<Vec<u8>> {
    let map: HashMap<String, Vec<u8>> = files.into_iter().collect();
    move |name| map.get(name).cloned()
}

#[test]
fn a_stored_avatar_and_garment_render_the_same_image() {
    let models = models();
    let provider = garmax_render::provider("local").unwrap();
    let person = garmax_tryon::prepare_person(models, &photo(PERSON), &mut NoProgress).unwrap();
    let garment = garmax_tryon::prepare_garment(&photo(TEE)).unwrap();
    assert!(person.guidance.is_some(), "the body model is installed");

    let files = person.to_files().unwrap();
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    for n in [
        "photo.png",
        "mask.png",
        "depth.png",
        "normal.png",
        "parts.png",
        "segment.png",
        "pose.png",
        "body.glb",
        "smpl.json",
        "person.json",
    ] {
        assert!(names.contains(&n), "{n} stored");
    }
    let person2 = PreparedPerson::from_files(stored(files)).unwrap();
    assert_eq!(person2.photo, person.photo);
    assert_eq!(person2.mask, person.mask);
    assert_eq!(person2.landmarks, person.landmarks);
    assert_eq!(person2.face, person.face);
    let (g, g2) = (
        person.guidance.as_ref().unwrap(),
        person2.guidance.as_ref().unwrap(),
    );
    assert!(
        g2.depth.as_raw() == g.depth.as_raw(),
        "depth.png round trip"
    );
    for (name, a, b) in [
        ("normal", &g.normal, &g2.normal),
        ("parts", &g.parts, &g2.parts),
        ("segment", &g.segment, &g2.segment),
        ("pose", &g.pose, &g2.pose),
        ("overlay", &g.overlay, &g2.overlay),
    ] {
        assert!(a.as_raw() == b.as_raw(), "{name}.png round trip");
    }
    assert!(g2.glb == g.glb && g2.smpl_json == g.smpl_json);
    assert!(g2.smpl["beta"] == g.smpl["beta"]);
    let garment2 = PreparedGarment::from_files(stored(garment.to_files().unwrap())).unwrap();

    let options = no_validation();
    let a = garmax_tryon::render_tryon(
        models,
        &person,
        &garment,
        &options,
        provider.as_ref(),
        &mut NoProgress,
    )
    .unwrap();
    let b = garmax_tryon::render_tryon(
        models,
        &person2,
        &garment2,
        &options,
        provider.as_ref(),
        &mut NoProgress,
    )
    .unwrap();
    assert!(
        a.render.image == b.render.image,
        "same render from stored files"
    );
    assert_eq!(a.png().unwrap(), b.png().unwrap());
}

#[test]
fn a_validated_tryon_reports_progress_on_the_seed_map() {
    let models = models();
    let provider = garmax_render::provider("local").unwrap();
    let mut seen: Vec<(Stage, String)> = Vec::new();
    let mut sink = |s: Stage, m: &str| seen.push((s, m.to_string()));
    let person = garmax_tryon::prepare_person(models, &photo(PERSON), &mut sink).unwrap();
    let garment = garmax_tryon::prepare_garment(&photo(TEE)).unwrap();
    let options = TryOnOptions::default();
    let out = garmax_tryon::render_tryon(
        models,
        &person,
        &garment,
        &options,
        provider.as_ref(),
        &mut sink,
    )
    .unwrap();
    let keys: Vec<&str> = seen.iter().map(|(s, _)| s.key()).collect();
    assert_eq!(
        &keys[..6],
        [
            "smpl-start",
            "smpl-pose-complete",
            "smpl-mesh-complete",
            "smpl-guidance-complete",
            "ai-queued",
            "ai-processing"
        ]
    );
    assert_eq!(keys.last(), Some(&"finalizing"));
    assert!(keys.contains(&"ai-complete"));
    let v = out.validation.as_ref().expect("validated");
    assert_eq!(out.attempts as usize, v.history.attempts.len());
    assert_eq!(!out.max_retries_exceeded(), v.report.passes);
    let report = serde_json::to_value(out.report(&person, &garment, None, &options)).unwrap();
    for key in [
        "passes",
        "overallQuality",
        "consistency",
        "accuracy",
        "feedback",
    ] {
        assert!(report["validation"].get(key).is_some(), "validation.{key}");
    }
    assert!(report["validation"]["consistency"].get("face").is_some());
    assert!(report["validation"]["accuracy"].get("branding").is_some());
    assert_eq!(report["timingsMs"].as_array().unwrap().len(), 4);
    assert_eq!(report["tier"], "standard");
    assert!(report["productAnalysis"]["garmentType"].is_string());
}

#[test]
fn large_photos_are_processed_at_the_working_resolution() {
    let cache = garmax_assets::Cache::resolve().unwrap();
    let capped = Models {
        max_side: 384,
        ..Models::load(&ModelOptions {
            body: false,
            ..ModelOptions::new(cache)
        })
        .unwrap()
    };
    let person = garmax_tryon::prepare_person(&capped, &photo(PERSON), &mut NoProgress).unwrap();
    assert_eq!(person.photo.dimensions(), (384, 384));
    assert_eq!(person.landmarks.image_size, [384, 384]);
    assert!(person.warnings.iter().any(|w| w.contains("downscaled")));
    let garment = garmax_tryon::prepare_garment_with(&photo(TEE), 512).unwrap();
    assert!(
        garment
            .input
            .photo
            .width()
            .max(garment.input.photo.height())
            <= 512
    );
}

#[test]
fn bad_inputs_come_back_with_their_codes() {
    let models = models();
    // A product photo as the person: nobody there.
    let err = garmax_tryon::prepare_person(models, &photo(TEE), &mut NoProgress).unwrap_err();
    assert_eq!(err.code(), ErrorCode::NoPersonFound, "{err}");
    // A blank product photo: no garment.
    let blank = DecodedImage::from_rgba(image::RgbaImage::from_pixel(
        300,
        300,
        image::Rgba([250, 250, 250, 255]),
    ));
    let err = garmax_tryon::prepare_garment(&blank).unwrap_err();
    assert_eq!(err.code(), ErrorCode::NoGarmentFound, "{err}");
    // A damaged stored avatar.
    let err = PreparedPerson::from_files(|_| None).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Io, "{err}");
}

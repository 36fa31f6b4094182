//! Shared loaders of the render tests: a committed MediaPipe person
//! fixture on its packaged photo, and an analysed Saleor tee. Missing
//! packaged photos fail the test with the fix (`garmax models fetch`).

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use garmax_assets::Cache;
use garmax_render::fixtures::PersonFixture;
use garmax_render::{GarmentInput, PersonInput};
use garmax_vision::{AnalysisOptions, ImageLimits, analyze_garment, decode_image};

pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The person of fixture `id` (`tests/fixtures/{id}.json` and its mask).
pub fn person(id: &str) -> PersonInput {
    let dir = fixtures_dir();
    let fx =
        PersonFixture::from_json(&std::fs::read_to_string(dir.join(format!("{id}.json"))).unwrap())
            .unwrap();
    let cache = Cache::resolve().expect("cache");
    let path = cache
        .require(&fx.source)
        .expect("packaged photos missing: run `garmax models fetch`");
    let src = decode_image(&std::fs::read(path).unwrap(), &ImageLimits::default()).unwrap();
    fx.person_input(
        &src.rgba,
        &std::fs::read(dir.join(format!("{id}_mask.png"))).unwrap(),
    )
    .unwrap()
}

/// The front photo of Saleor tee `code` (e.g. `boot01`), analysed.
pub fn tee(code: &str) -> GarmentInput {
    let cache = Cache::resolve().expect("cache");
    let path = cache
        .require(&format!(
            "saleor/static/placeholders/saleordemoproduct_cl_{code}_1.png"
        ))
        .expect("Saleor tees missing: run `garmax models fetch`");
    let decoded = decode_image(&std::fs::read(path).unwrap(), &ImageLimits::default()).unwrap();
    let analysis = analyze_garment(&decoded, &AnalysisOptions::default()).unwrap();
    GarmentInput::from_analysis(decoded.rgba.clone(), &analysis).unwrap()
}

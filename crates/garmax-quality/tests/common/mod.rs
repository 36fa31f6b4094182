//! Loads the packaged photos into the testkit's inputs.

#![allow(dead_code)]

use garmax_quality::testkit::{FACE_DONORS, PERSON_ASSET, Product, SeparationInputs, TEE_ASSETS};
use garmax_vision::{AnalysisOptions, ImageLimits, analyze_garment, decode_image};

pub fn load(name: &str) -> image::RgbaImage {
    let cache = garmax_assets::Cache::resolve().expect("asset cache");
    let path = cache
        .require(name)
        .unwrap_or_else(|e| panic!("{name}: {e} (run `garmax models fetch`)"));
    let bytes = std::fs::read(&path).expect("read asset");
    decode_image(&bytes, &ImageLimits::default())
        .expect("decode")
        .rgba
}

pub fn product(name: &str) -> Product {
    let cache = garmax_assets::Cache::resolve().expect("asset cache");
    let path = cache.require(name).expect("product asset");
    let bytes = std::fs::read(&path).expect("read");
    let decoded = decode_image(&bytes, &ImageLimits::default()).expect("decode");
    let out = analyze_garment(&decoded, &AnalysisOptions::default()).expect("analysis");
    Product {
        name: name.rsplit('/').next().unwrap_or(name).to_string(),
        image: decoded.rgba,
        mask: out.mask,
        analysis: out.analysis,
    }
}

pub fn inputs() -> SeparationInputs {
    let mut donors = Vec::new();
    let mut cached: Vec<(&str, image::RgbaImage)> = Vec::new();
    for (name, pts) in FACE_DONORS {
        if !cached.iter().any(|(n, _)| *n == name) {
            cached.push((name, load(name)));
        }
        let img = cached
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, i)| i.clone())
            .unwrap();
        donors.push((img, pts));
    }
    SeparationInputs {
        person: load(PERSON_ASSET),
        products: TEE_ASSETS.iter().map(|n| product(n)).collect(),
        donors,
    }
}

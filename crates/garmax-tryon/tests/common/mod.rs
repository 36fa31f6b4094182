//! What the pipeline's integration tests share: the models, loaded once,
//! and packaged photos decoded from the asset cache. Both fail loudly when
//! `garmax models fetch` has not run.

use std::sync::OnceLock;

use garmax_tryon::{ModelOptions, Models};
use garmax_vision::{DecodedImage, ImageLimits, decode_image};

pub fn models() -> &'static Models {
    static MODELS: OnceLock<Models> = OnceLock::new();
    MODELS.get_or_init(|| {
        let cache = garmax_assets::Cache::resolve().expect("asset cache");
        Models::load(&ModelOptions::new(cache)).expect("models (run `garmax models fetch`)")
    })
}

/// A packaged photo (an asset name such as `skimage/data/astronaut.png`).
pub fn photo(name: &str) -> DecodedImage {
    let cache = garmax_assets::Cache::resolve().expect("asset cache");
    let path = cache
        .require(name)
        .expect("asset (run `garmax models fetch`)");
    decode_image(&std::fs::read(path).expect("read"), &ImageLimits::default()).expect("decode")
}

//! When the real cache has been populated (`garmax models fetch`), every
//! entry of the built-in table must verify. On a machine without a cache the
//! test has nothing to check and says so.

use garmax_assets::{Cache, FileState, Manifest, verify};

#[test]
fn populated_real_cache_verifies() {
    let manifest = Manifest::builtin().expect("built-in manifest parses");
    let Ok(cache) = Cache::resolve() else {
        eprintln!("skipped: no cache directory can be resolved");
        return;
    };
    let quick = garmax_assets::status(&cache, &manifest);
    if quick
        .packages
        .iter()
        .flat_map(|p| &p.files)
        .all(|f| f.state == FileState::Missing)
    {
        eprintln!(
            "skipped: cache {} is empty; run `garmax models fetch`",
            cache.root().display()
        );
        return;
    }
    let report = verify(&cache, &manifest);
    let problems: Vec<String> = report
        .problems()
        .map(|f| format!("{} {}", f.state.label(), f.asset))
        .collect();
    assert!(
        problems.is_empty(),
        "cache {}: {problems:#?}",
        cache.root().display()
    );
    assert!(cache.onnxruntime_library().is_ok());
}

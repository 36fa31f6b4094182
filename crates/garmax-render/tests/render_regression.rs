//! Pixel-exact regression of the local renderer on the committed person
//! fixtures × the Saleor tees, at each quality and with each retry knob
//! moved: every output image and garment alpha is hashed (FNV-1a 64 over
//! the raw bytes) and compared with `tests/fixtures/render_golden.tsv`.
//!
//! It proves a restructuring of the renderer leaves every output pixel as
//! it was. A deliberate change of the renderer's output re-records the
//! table: `GARMAX_BLESS_RENDERS=1 cargo test -p garmax-render --test
//! render_regression` (then review the gallery before committing it).
//! Needs the packaged photos (`garmax models fetch`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use garmax_render::{
    GarmentInput, LocalRenderer, PersonInput, RenderParams, RenderProvider, RenderQuality,
    RenderRequest,
};

mod common;

const PEOPLE: &[&str] = &["astronaut", "s1_medic", "s6_green", "s6_olive", "s6_wine"];
const TEES: &[&str] = &["boot01", "boot03", "boot06", "boot07"];

/// FNV-1a, 64 bit: stable across Rust versions and platforms (unlike
/// `DefaultHasher`), which a committed table needs.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ *b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The cases: every person × tee at the standard knobs (sd), plus the
/// astronaut with each knob moved and at hd / 4k.
fn cases() -> Vec<(
    String,
    &'static str,
    &'static str,
    RenderParams,
    RenderQuality,
)> {
    let base = RenderParams::default();
    let mut out = Vec::new();
    for p in PEOPLE {
        for t in TEES {
            out.push((
                format!("{p}/{t}/standard/sd"),
                *p,
                *t,
                base,
                RenderQuality::Sd,
            ));
        }
    }
    let knobs: [(&str, RenderParams); 5] = [
        (
            "model_reference_strength=0.2",
            RenderParams {
                model_reference_strength: 0.2,
                ..base
            },
        ),
        (
            "pose_guidance_scale=0.2",
            RenderParams {
                pose_guidance_scale: 0.2,
                ..base
            },
        ),
        (
            "color_matching_weight=0",
            RenderParams {
                color_matching_weight: 0.0,
                ..base
            },
        ),
        (
            "style_transfer_weight=0",
            RenderParams {
                style_transfer_weight: 0.0,
                ..base
            },
        ),
        (
            "branding_enhancement_weight=0",
            RenderParams {
                branding_enhancement_weight: 0.0,
                ..base
            },
        ),
    ];
    for (name, params) in knobs {
        out.push((
            format!("astronaut/boot06/{name}/sd"),
            "astronaut",
            "boot06",
            params,
            RenderQuality::Sd,
        ));
    }
    for q in [RenderQuality::Hd, RenderQuality::Uhd] {
        out.push((
            format!("s6_wine/boot07/standard/{}", q.name()),
            "s6_wine",
            "boot07",
            base,
            q,
        ));
    }
    out
}

fn golden_path() -> PathBuf {
    common::fixtures_dir().join("render_golden.tsv")
}

fn read_golden() -> BTreeMap<String, String> {
    std::fs::read_to_string(golden_path())
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let mut it = l.split('\t');
            Some((it.next()?.to_string(), it.next()?.to_string()))
        })
        .collect()
}

#[test]
fn every_fixture_render_is_pixel_identical_to_the_recorded_one() {
    let people: BTreeMap<&str, PersonInput> =
        PEOPLE.iter().map(|p| (*p, common::person(p))).collect();
    let tees: BTreeMap<&str, GarmentInput> = TEES.iter().map(|t| (*t, common::tee(t))).collect();
    let mut got = BTreeMap::new();
    for (name, p, t, params, quality) in cases() {
        let start = std::time::Instant::now();
        let out = LocalRenderer
            .render(&RenderRequest {
                person: &people[p],
                garment: &tees[t],
                params,
                quality,
            })
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let ms = start.elapsed().as_secs_f64() * 1000.0;
        let hash = format!(
            "{:016x}:{:016x}",
            fnv1a(out.image.as_raw()),
            fnv1a(out.detail.garment_alpha.as_raw())
        );
        eprintln!("{name}\t{hash}\t{ms:.0} ms");
        got.insert(name, hash);
    }
    if std::env::var_os("GARMAX_BLESS_RENDERS").is_some() {
        let mut text = String::from(
            "# case\timage hash:garment-alpha hash (FNV-1a 64); written by GARMAX_BLESS_RENDERS=1\n",
        );
        for (k, v) in &got {
            text.push_str(&format!("{k}\t{v}\n"));
        }
        std::fs::write(golden_path(), text).unwrap();
        return;
    }
    let want = read_golden();
    assert!(
        !want.is_empty(),
        "no recorded renders in {}",
        golden_path().display()
    );
    let differ: Vec<&String> = got.keys().filter(|k| want.get(*k) != got.get(*k)).collect();
    assert!(
        differ.is_empty(),
        "{} of {} renders differ from the recorded pixels: {differ:?}",
        differ.len(),
        got.len()
    );
}

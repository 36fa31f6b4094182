//! `garmax bench gallery`: the try-on gallery of the docs — packaged people
//! × Saleor tees through the full `garmax tryon` pipeline, each written as
//! person | product | result (400 px high), plus `results.json` with the
//! measurements and the refused bad inputs.

use std::path::Path;
use std::time::Instant;

use anyhow::Context as _;
use garmax_assets::Cache;
use garmax_render::{QualityTier, RenderQuality};
use garmax_vision::{DecodedImage, ImageLimits};
use serde_json::json;

/// People: id, packaged photo, crop `[x, y, w, h]` (one person of a group).
const PEOPLE: &[(&str, &str, Option<[u32; 4]>)] = &[
    ("astronaut", "skimage/data/astronaut.png", None),
    (
        "olive",
        "face-api/package/demo/sample6.jpg",
        Some([100, 320, 660, 1217]),
    ),
    (
        "green",
        "face-api/package/demo/sample6.jpg",
        Some([1360, 120, 560, 1417]),
    ),
    (
        "wine",
        "face-api/package/demo/sample6.jpg",
        Some([580, 180, 500, 1357]),
    ),
    (
        "medic",
        "face-api/package/demo/sample1.jpg",
        Some([1180, 160, 740, 1120]),
    ),
    ("camera", "skimage/data/camera.png", None),
];

/// (person, tee) pairs shown.
const PAIRS: &[(&str, &str)] = &[
    ("astronaut", "boot06"),
    ("astronaut", "boot01"),
    ("olive", "boot03"),
    ("olive", "boot07"),
    ("green", "boot07"),
    ("green", "boot01"),
    ("wine", "boot06"),
    ("medic", "boot03"),
    ("camera", "boot01"),
];

fn tee(code: &str) -> String {
    format!("saleor/static/placeholders/saleordemoproduct_cl_{code}_1.png")
}

fn load(cache: &Cache, asset: &str, crop: Option<[u32; 4]>) -> anyhow::Result<DecodedImage> {
    let mut img = super::read_image(&cache.require(asset)?, &ImageLimits::default())?;
    img.rgba = garmax_render::fixtures::crop(&img.rgba, crop)?;
    Ok(img)
}

pub fn run(out_dir: &Path) -> anyhow::Result<()> {
    let cache = Cache::resolve()?;
    std::fs::create_dir_all(out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    let pipeline = super::tryon::Pipeline::load(&cache, true)?;
    let provider = garmax_render::provider("local")?;
    let mut results = Vec::new();
    println!(
        "| result | size | ms | ΔE fabric (per px) | ΔE mean colour | IoU upper garment | face+hand px changed |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (pid, code) in PAIRS {
        let Some((_, asset, crop)) = PEOPLE.iter().find(|p| p.0 == *pid) else {
            continue;
        };
        let person = load(&cache, asset, *crop)?;
        let garment = load(&cache, &tee(code), None)?;
        let name = format!("{pid}__{code}");
        let t = Instant::now();
        match pipeline.run(
            &garment,
            &person,
            QualityTier::Standard,
            RenderQuality::Hd,
            provider.as_ref(),
            &mut |_, _| {},
        ) {
            Ok(out) => {
                let ms = t.elapsed().as_secs_f64() * 1000.0;
                let s = &out.render.detail.stats;
                garmax_render::sheet::side_by_side(
                    &person.rgba,
                    &garment.rgba,
                    &out.render.image,
                    400,
                )
                .save(out_dir.join(format!("{name}.png")))
                .with_context(|| format!("writing {name}.png"))?;
                println!(
                    "| {name} | {}×{} | {ms:.0} | {:.2} | {:.2} | {:.2} | {}/{} |",
                    person.rgba.width(),
                    person.rgba.height(),
                    s.base_fabric_delta_e,
                    s.base_fabric_mean_delta_e,
                    s.upper_garment_iou,
                    s.face_hand_pixels_changed,
                    s.face_hand_pixels
                );
                results.push(json!({
                    "name": name, "person": asset, "crop": crop, "garment": tee(code),
                    "size": [person.rgba.width(), person.rgba.height()], "ms": ms,
                    "stats": s, "warnings": out.warnings,
                    "timingsMs": out.timings,
                }));
            }
            Err(err) => {
                let msg = super::describe(&err);
                println!("| {name} | refused: {msg} | | | | | |");
                results.push(
                    json!({ "name": name, "person": asset, "garment": tee(code), "error": msg }),
                );
            }
        }
    }
    // Stage 1 without a photo: the body model as a mannequin.
    if let Some(model) = &pipeline.body {
        let m = super::mannequin::render(model, 640, 800);
        let person = garmax_vision::DecodedImage::from_rgba(m.photo);
        let garment = load(&cache, &tee("boot06"), None)?;
        let out = pipeline.run_with(
            &garment,
            &person,
            Some((m.landmarks, m.mask)),
            QualityTier::Standard,
            RenderQuality::Hd,
            provider.as_ref(),
            &mut |_, _| {},
        )?;
        let s = &out.render.detail.stats;
        garmax_render::sheet::side_by_side(&person.rgba, &garment.rgba, &out.render.image, 400)
            .save(out_dir.join("mannequin__boot06.png"))
            .context("writing mannequin__boot06.png")?;
        println!(
            "| mannequin__boot06 | 640×800 | | {:.2} | {:.2} | {:.2} | {}/{} |",
            s.base_fabric_delta_e,
            s.base_fabric_mean_delta_e,
            s.upper_garment_iou,
            s.face_hand_pixels_changed,
            s.face_hand_pixels
        );
        results.push(json!({ "name": "mannequin__boot06", "person": "body model mannequin", "garment": tee("boot06"), "stats": s }));
    }
    // Bad inputs: each must be a clear, coded error.
    let astronaut = load(&cache, "skimage/data/astronaut.png", None)?;
    let tee06 = load(&cache, &tee("boot06"), None)?;
    let checks: [(&str, &DecodedImage, &DecodedImage); 2] = [
        ("garment photo that is a person", &tee06, &astronaut),
        ("person photo without a person", &tee06, &tee06),
    ];
    for (what, person, garment) in checks {
        let r = pipeline.run(
            garment,
            person,
            QualityTier::Standard,
            RenderQuality::Hd,
            provider.as_ref(),
            &mut |_, _| {},
        );
        let msg = match r {
            Ok(_) => "rendered (no error)".to_string(),
            Err(e) => super::describe(&e),
        };
        println!("bad input — {what}: {msg}");
        results.push(json!({ "badInput": what, "result": msg }));
    }
    std::fs::write(
        out_dir.join("results.json"),
        serde_json::to_string_pretty(&results)?,
    )?;
    Ok(())
}

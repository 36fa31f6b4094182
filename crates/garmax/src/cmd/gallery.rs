//! `garmax bench gallery`: the try-on gallery of the docs — packaged people
//! × Saleor tees through the full `garmax tryon` pipeline, each written as
//! person | product | result (400 px high), plus `results.json` with the
//! measurements and the refused bad inputs.

use std::path::Path;
use std::time::Instant;

use anyhow::Context as _;
use garmax_assets::Cache;
use garmax_tryon::{
    ModelOptions, Models, NoProgress, PreparedGarment, PreparedPerson, TryOnError, TryOnOptions,
    TryOnOutcome,
};
use garmax_vision::{DecodedImage, ImageLimits};
use serde_json::json;

/// People: the validators bench's (further people of the packaged group
/// photos) plus the two the renderer refuses: a sideways-leaning medic and
/// the cameraman in profile.
fn person(id: &str) -> Option<(&'static str, Option<[u32; 4]>)> {
    const REFUSED: &[(&str, &str, Option<[u32; 4]>)] = &[
        (
            "medic",
            "face-api/package/demo/sample1.jpg",
            Some([1180, 160, 740, 1120]),
        ),
        ("camera", "skimage/data/camera.png", None),
    ];
    super::bench_validators::PEOPLE
        .iter()
        .chain(REFUSED)
        .find(|p| p.0 == id)
        .map(|p| (p.1, p.2))
}

/// (person, tee) pairs shown.
const PAIRS: &[(&str, &str)] = &[
    ("astronaut", "boot06"),
    ("astronaut", "boot01"),
    ("olive", "boot03"),
    ("olive", "boot07"),
    ("green", "boot07"),
    ("green", "boot01"),
    ("wine", "boot06"),
    ("bar-centre", "boot03"),
    ("bar-centre", "boot06"),
    ("sofa-middle", "boot07"),
    ("sofa-middle", "boot03"),
    ("stairs-right", "boot01"),
    ("party-left", "boot06"),
    ("party-left", "boot03"),
    ("medic", "boot03"),
    ("camera", "boot01"),
    ("group-right", "boot07"),
];

/// Persona poses without a photo (the seed's `johny`): the mannequin in
/// each, dressed in a tee.
const MANNEQUIN_POSES: &[(&str, &str)] = &[
    ("Standing", "boot06"),
    ("Arms Crossed", "boot06"),
    ("Contrapposto", "boot07"),
    ("Hands in Pockets", "boot01"),
];

fn tee(code: &str) -> String {
    format!("saleor/static/placeholders/saleordemoproduct_cl_{code}_1.png")
}

fn load(cache: &Cache, asset: &str, crop: Option<[u32; 4]>) -> anyhow::Result<DecodedImage> {
    let mut img = super::read_image(&cache.require(asset)?, &ImageLimits::default())?;
    img.rgba = garmax_render::fixtures::crop(&img.rgba, crop)?;
    Ok(img)
}

/// Product analysis → person analysis, body fit, maps → one render, no
/// validation (as `garmax bench tryon` times it).
pub fn tryon_once(
    models: &Models,
    garment: &DecodedImage,
    person: &DecodedImage,
    provider: &dyn garmax_render::RenderProvider,
) -> Result<(PreparedPerson, PreparedGarment, TryOnOutcome), TryOnError> {
    let garment = garmax_tryon::prepare_garment(garment)?;
    let person = garmax_tryon::prepare_person(models, person, &mut NoProgress)?;
    let out = render_once(models, &person, &garment, provider)?;
    Ok((person, garment, out))
}

fn render_once(
    models: &Models,
    person: &PreparedPerson,
    garment: &PreparedGarment,
    provider: &dyn garmax_render::RenderProvider,
) -> Result<TryOnOutcome, TryOnError> {
    let options = TryOnOptions {
        validate: false,
        ..TryOnOptions::default()
    };
    garmax_tryon::render_tryon(models, person, garment, &options, provider, &mut NoProgress)
}

pub fn run(out_dir: &Path) -> anyhow::Result<()> {
    let cache = Cache::resolve()?;
    std::fs::create_dir_all(out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    let models = Models::load(&ModelOptions::new(cache.clone()))?;
    let provider = garmax_render::provider("local")?;
    let mut results = Vec::new();
    println!(
        "| result | size | ms | ΔE fabric (per px) | ΔE mean colour | IoU upper garment | face+hand px changed | old clothing left beside |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (pid, code) in PAIRS {
        let Some((asset, crop)) = person(pid) else {
            continue;
        };
        let person = load(&cache, asset, crop)?;
        let garment = load(&cache, &tee(code), None)?;
        let name = format!("{pid}__{code}");
        let t = Instant::now();
        match tryon_once(&models, &garment, &person, provider.as_ref()) {
            Ok((prepared, prepared_garment, out)) => {
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
                    "| {name} | {}×{} | {ms:.0} | {:.2} | {:.2} | {:.2} | {}/{} | {} |",
                    person.rgba.width(),
                    person.rgba.height(),
                    s.base_fabric_delta_e,
                    s.base_fabric_mean_delta_e,
                    s.upper_garment_iou,
                    s.face_hand_pixels_changed,
                    s.face_hand_pixels,
                    old_clothing_left(s)
                );
                results.push(json!({
                    "name": name, "person": asset, "crop": crop, "garment": tee(code),
                    "size": [person.rgba.width(), person.rgba.height()], "ms": ms,
                    "stats": s, "warnings": out.all_warnings(&prepared, &prepared_garment),
                    "timingsMs": out.all_timings(&prepared, &prepared_garment).iter().map(|t| (&t.stage, t.ms)).collect::<Vec<_>>(),
                }));
            }
            Err(err) => {
                let msg = super::describe(&err.into());
                println!("| {name} | refused: {msg} | | | | | | |");
                results.push(
                    json!({ "name": name, "person": asset, "garment": tee(code), "error": msg }),
                );
            }
        }
    }
    // Stage 1 without a photo: the body model as a mannequin in each pose.
    if let Some(model) = &models.body {
        for (pose, code) in MANNEQUIN_POSES {
            let garment = load(&cache, &tee(code), None)?;
            let prepared_garment = garmax_tryon::prepare_garment(&garment)?;
            let person =
                garmax_tryon::prepare_mannequin_in_pose(&models, model, pose, &mut NoProgress)?;
            let out = render_once(&models, &person, &prepared_garment, provider.as_ref())?;
            let s = &out.render.detail.stats;
            let name = format!(
                "mannequin-{}__{code}",
                pose.to_lowercase().replace(' ', "-")
            );
            garmax_render::sheet::side_by_side(
                &person.photo,
                &garment.rgba,
                &out.render.image,
                400,
            )
            .save(out_dir.join(format!("{name}.png")))
            .with_context(|| format!("writing {name}.png"))?;
            println!(
                "| {name} | 640×800 | | {:.2} | {:.2} | {:.2} | {}/{} | {} |",
                s.base_fabric_delta_e,
                s.base_fabric_mean_delta_e,
                s.upper_garment_iou,
                s.face_hand_pixels_changed,
                s.face_hand_pixels,
                old_clothing_left(s)
            );
            results.push(json!({ "name": name, "person": format!("body model mannequin, pose {pose}"), "garment": tee(code), "stats": s }));
        }
    }
    // Bad inputs: each must be a clear, coded error.
    let astronaut = load(&cache, "skimage/data/astronaut.png", None)?;
    let tee06 = load(&cache, &tee("boot06"), None)?;
    let checks: [(&str, &DecodedImage, &DecodedImage); 2] = [
        ("garment photo that is a person", &tee06, &astronaut),
        ("person photo without a person", &tee06, &tee06),
    ];
    for (what, person, garment) in checks {
        let msg = match tryon_once(&models, garment, person, provider.as_ref()) {
            Ok(_) => "rendered (no error)".to_string(),
            Err(e) => super::describe(&e.into()),
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

/// The share of the photo's clothing beside the new garment that the render
/// left visible, with its pixel counts (a drawn mannequin wears nothing).
fn old_clothing_left(s: &garmax_render::RenderStats) -> String {
    if s.old_clothing_pixels == 0 {
        return "none to remove".into();
    }
    let share = s.old_clothing_visible as f64 / s.old_clothing_pixels.max(1) as f64;
    format!(
        "{:.1} % ({}/{})",
        100.0 * share,
        s.old_clothing_visible,
        s.old_clothing_pixels
    )
}

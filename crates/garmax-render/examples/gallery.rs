//! Writes the try-on gallery: packaged people × Saleor tees, each as
//! person | product | result side by side (≤ 512 px high), plus
//! `results.json` with the measurements.
//!
//!   cargo run -p garmax-render --example gallery -- docs/gallery
//!
//! Needs the packaged photos (`garmax models fetch`). The person landmarks
//! and masks are the MediaPipe fixtures under `tests/fixtures/`.

use std::path::{Path, PathBuf};

use garmax_assets::Cache;
use garmax_render::fixtures::PersonFixture;
use garmax_render::{
    GarmentInput, LocalRenderer, RenderParams, RenderProvider, RenderQuality, RenderRequest,
};
use garmax_vision::{AnalysisOptions, ImageLimits, analyze_garment, decode_image};

/// (person fixture, tee file) pairs shown in the gallery.
const PAIRS: &[(&str, &str)] = &[
    ("astronaut", "saleordemoproduct_cl_boot06_1.png"),
    ("astronaut", "saleordemoproduct_cl_boot01_1.png"),
    ("s6_olive", "saleordemoproduct_cl_boot03_1.png"),
    ("s6_green", "saleordemoproduct_cl_boot07_1.png"),
    ("s6_wine", "saleordemoproduct_cl_boot06_1.png"),
    ("s1_medic", "saleordemoproduct_cl_boot03_1.png"),
    ("s6_olive", "saleordemoproduct_cl_boot07_1.png"),
    ("camera", "saleordemoproduct_cl_boot01_1.png"),
];

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn load(
    cache: &Cache,
    asset: &str,
) -> Result<garmax_vision::DecodedImage, Box<dyn std::error::Error>> {
    let bytes = std::fs::read(cache.require(asset)?)?;
    Ok(decode_image(&bytes, &ImageLimits::default())?)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out_dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "docs/gallery".into()),
    );
    let only: Option<String> = std::env::args().nth(2);
    std::fs::create_dir_all(&out_dir)?;
    let cache = Cache::resolve()?;
    let mut results = Vec::new();
    for (pid, tee) in PAIRS {
        let name = format!(
            "{pid}__{}",
            tee.trim_start_matches("saleordemoproduct_cl_")
                .trim_end_matches("_1.png")
        );
        if only.as_deref().is_some_and(|o| !name.contains(o)) {
            continue;
        }
        let fx = PersonFixture::from_json(&std::fs::read_to_string(
            fixtures_dir().join(format!("{pid}.json")),
        )?)?;
        let src = load(&cache, &fx.source)?;
        let person = fx.person_input(
            &src.rgba,
            &std::fs::read(fixtures_dir().join(format!("{pid}_mask.png")))?,
        )?;
        let product = load(&cache, &format!("saleor/static/placeholders/{tee}"))?;
        let analysis = analyze_garment(&product, &AnalysisOptions::default())?;
        let garment = GarmentInput::from_analysis(product.rgba.clone(), &analysis)?;
        let t = std::time::Instant::now();
        let out = match LocalRenderer.render(&RenderRequest {
            person: &person,
            garment: &garment,
            params: RenderParams::default(),
            quality: RenderQuality::Hd,
        }) {
            Ok(out) => out,
            Err(err) => {
                // A refused input is a result too: the gallery shows which
                // photos the renderer declines and why.
                println!("{name}: [{}] {err}", garmax_core::Coded::code(&err));
                results.push(serde_json::json!({
                    "name": name, "person": pid, "garment": tee,
                    "error": { "code": garmax_core::Coded::code(&err).as_str(), "message": err.to_string() },
                }));
                continue;
            }
        };
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        let s = &out.detail.stats;
        println!(
            "{name}: {}x{} {ms:.0} ms  ΔE fabric {:.2} (mean colour {:.2})  IoU {:.2}  face/hand changed {}/{}  skin {} bg {}  rot {:?}  warn {:?}",
            person.photo.width(),
            person.photo.height(),
            s.base_fabric_delta_e,
            s.base_fabric_mean_delta_e,
            s.upper_garment_iou,
            s.face_hand_pixels_changed,
            s.face_hand_pixels,
            s.skin_filled_pixels,
            s.background_filled_pixels,
            out.detail.sleeve_rotation_deg,
            out.detail.warnings
        );
        if std::env::var_os("GALLERY_DEBUG").is_some() {
            println!("  timings {:?}", s.timings_ms);
        }
        let sheet =
            garmax_render::sheet::side_by_side(&person.photo, &product.rgba, &out.image, 512);
        sheet.save(out_dir.join(format!("{name}.png")))?;
        if std::env::var_os("GALLERY_DEBUG").is_some() {
            out.detail
                .regions_overlay
                .save(out_dir.join(format!("{name}_regions.png")))?;
        }
        results.push(serde_json::json!({
            "name": name,
            "person": pid,
            "personSource": fx.source,
            "crop": fx.crop,
            "garment": tee,
            "size": [person.photo.width(), person.photo.height()],
            "renderMs": ms,
            "stats": s,
            "warnings": out.detail.warnings,
        }));
    }
    std::fs::write(
        out_dir.join("results.json"),
        serde_json::to_string_pretty(&results)?,
    )?;
    Ok(())
}

//! `garmax bench validators`: the five validators on renders made by the
//! whole pipeline, not on composites of one photo.
//!
//! Every packaged person × every Saleor tee goes through `garmax tryon`
//! (product analysis → person analysis → body fit → local render →
//! validation → adaptive retry on the chosen tier). That gives the first
//! table: how many real renders pass the tier, in how many attempts, and
//! which metric fails the rest.
//!
//! The delivered render of each pair is then damaged in one way at a time —
//! a dye error, a blurred garment, the print painted out, the garment slid
//! off the body, the image mirrored, another person's face — and validated
//! again exactly as the pipeline validates (pose and face detected on the
//! damaged image itself). The second table gives, per damage, the ROC AUC
//! of the validator responsible for it (good renders against damaged ones)
//! and the largest mean shift of any other validator's score: a validator
//! must catch its own damage and stay put under the others.
//!
//! The third table checks the retry planner's premise on the same pairs:
//! each of the five knobs raised alone from the tier's starting value to its
//! upper bound must raise the score of the validator whose failure raises
//! it (the branding weight the branding score, and so on).

use std::path::PathBuf;

use anyhow::Context as _;
use garmax_assets::Cache;
use garmax_quality::config::PerKnob;
use garmax_quality::testkit::{color_offset_for, roc_auc, swap_face};
use garmax_quality::{Metric, Parameters, QualityConfig};
use garmax_render::RenderOutput;
use garmax_tryon::{
    ModelOptions, Models, NoProgress, PreparedGarment, PreparedPerson, TryOnOptions, face_points,
    validate_render,
};
use garmax_vision::color::{lab_to_srgb, srgb_to_lab};
use garmax_vision::{DecodedImage, ImageLimits};
use image::{GrayImage, RgbaImage};
use serde_json::json;

#[derive(clap::Args)]
pub struct Args {
    /// Tier the try-ons are validated and retried on.
    #[arg(long, default_value = "standard")]
    tier: String,
    /// Write every score to this JSON file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Only the first N people (all by default).
    #[arg(long)]
    people: Option<usize>,
    /// Write each delivered render (`<person>__<garment>.png`) and its
    /// validation report (`.json`) into this directory.
    #[arg(long)]
    save_renders: Option<PathBuf>,
}

/// People: id, packaged photo, crop `[x, y, w, h]` (one person of a group
/// photo). The first four are the gallery's; the others are further people
/// of `@vladmandic/face-api`'s demo photos (MIT), each cropped to one
/// person from the head down.
pub const PEOPLE: &[(&str, &str, Option<[u32; 4]>)] = &[
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
        "bar-centre",
        "face-api/package/demo/sample3.jpg",
        Some([900, 120, 540, 1230]),
    ),
    (
        "bar-right",
        "face-api/package/demo/sample3.jpg",
        Some([1380, 200, 520, 1150]),
    ),
    (
        "sofa-middle",
        "face-api/package/demo/sample2.jpg",
        Some([820, 80, 500, 1040]),
    ),
    (
        "stairs-right",
        "face-api/package/demo/sample5.jpg",
        Some([1380, 270, 460, 850]),
    ),
    (
        "party-left",
        "face-api/package/demo/sample1.jpg",
        Some([300, 200, 480, 840]),
    ),
    (
        "group-right",
        "face-api/package/demo/sample4.jpg",
        Some([1240, 80, 620, 1360]),
    ),
];

/// The Saleor demo tees (front views).
pub const TEES: [&str; 4] = ["boot01", "boot03", "boot06", "boot07"];

pub fn tee_asset(code: &str) -> String {
    format!("saleor/static/placeholders/saleordemoproduct_cl_{code}_1.png")
}

/// One way of spoiling a good render, and the validator that must notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Damage {
    /// The garment's colour moved by ΔE2000 ≈ 10 (a dye error).
    Colour,
    /// The garment region blurred (a smeared print, lost fabric detail).
    Blur,
    /// The product's print painted over with the fabric colour.
    PrintRemoved,
    /// The garment slid sideways by a third of its width.
    OffBody,
    /// The whole render mirrored left to right.
    Mirrored,
    /// Another person's face pasted over the face.
    FaceSwapped,
}

impl Damage {
    const ALL: [Damage; 6] = [
        Damage::Colour,
        Damage::Blur,
        Damage::PrintRemoved,
        Damage::OffBody,
        Damage::Mirrored,
        Damage::FaceSwapped,
    ];

    fn name(self) -> &'static str {
        match self {
            Damage::Colour => "colour ΔE 10",
            Damage::Blur => "garment blurred",
            Damage::PrintRemoved => "print removed",
            Damage::OffBody => "garment off body",
            Damage::Mirrored => "mirrored",
            Damage::FaceSwapped => "face swapped",
        }
    }

    /// The metric key of the validator that must catch it.
    fn responsible(self) -> &'static str {
        match self {
            Damage::Colour => "color",
            Damage::Blur | Damage::PrintRemoved => "branding",
            Damage::OffBody => "style",
            Damage::Mirrored => "pose",
            Damage::FaceSwapped => "face",
        }
    }
}

const METRICS: [&str; 5] = ["face", "pose", "color", "style", "branding"];

fn load(cache: &Cache, asset: &str, crop: Option<[u32; 4]>) -> anyhow::Result<DecodedImage> {
    let mut img = super::read_image(&cache.require(asset)?, &ImageLimits::default())?;
    img.rgba = garmax_render::fixtures::crop(&img.rgba, crop)?;
    Ok(img)
}

/// One try-on's outcome on the tier, and its good render.
struct Pair {
    name: String,
    person: usize,
    garment: usize,
    passes: bool,
    attempts: u32,
    overall: f32,
    failing: Vec<String>,
    render: RenderOutput,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let tier = garmax_render::QualityTier::parse(&args.tier)
        .with_context(|| format!("unknown tier '{}' (standard, premium, ultra)", args.tier))?;
    let cache = Cache::resolve()?;
    let models = Models::load(&ModelOptions::new(cache.clone()))?;
    let provider = garmax_render::provider("local")?;
    let config = QualityConfig::default();
    let engine = models.validation_engine(&config);
    let tier_config = config.tier(garmax_quality::Tier::from(tier));

    let people: Vec<(String, PreparedPerson)> = PEOPLE
        .iter()
        .take(args.people.unwrap_or(PEOPLE.len()))
        .filter_map(|(id, asset, crop)| {
            let prepared = load(&cache, asset, *crop).and_then(|img| {
                garmax_tryon::prepare_person(&models, &img, &mut NoProgress).map_err(Into::into)
            });
            match prepared {
                Ok(p) => Some((id.to_string(), p)),
                Err(e) => {
                    println!("{id}: refused: {}", super::describe(&e));
                    None
                }
            }
        })
        .collect();
    let garments: Vec<(String, PreparedGarment)> = TEES
        .iter()
        .map(|code| {
            let img = load(&cache, &tee_asset(code), None)?;
            Ok((code.to_string(), garmax_tryon::prepare_garment(&img)?))
        })
        .collect::<anyhow::Result<_>>()?;

    let options = TryOnOptions {
        tier,
        ..TryOnOptions::default()
    };
    let mut pairs = Vec::new();
    println!(
        "| try-on | passes {} | attempts | overall | failing |",
        args.tier
    );
    println!("|---|---|---|---|---|");
    for (pi, (pid, person)) in people.iter().enumerate() {
        for (gi, (gid, garment)) in garments.iter().enumerate() {
            let name = format!("{pid} × {gid}");
            let out = match garmax_tryon::render_tryon(
                &models,
                person,
                garment,
                &options,
                provider.as_ref(),
                &mut NoProgress,
            ) {
                Ok(out) => out,
                Err(e) => {
                    println!(
                        "| {name} | refused: {} | | | |",
                        super::describe(&anyhow::Error::from(e))
                    );
                    continue;
                }
            };
            let report = out.validation.as_ref().map(|v| &v.report);
            let pair = Pair {
                name,
                person: pi,
                garment: gi,
                passes: out.quality_error.is_none() && report.is_some_and(|r| r.passes),
                attempts: out.attempts,
                overall: report.map_or(0.0, |r| r.overall_quality),
                failing: report
                    .map(|r| {
                        r.results
                            .iter()
                            .filter(|v| v.passes == Some(false))
                            .map(|v| {
                                format!(
                                    "{} {:.2} ({})",
                                    v.key,
                                    v.score.unwrap_or(0.0),
                                    v.feedback.join("; ")
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                render: out.render,
            };
            if let Some(dir) = &args.save_renders {
                save_render(dir, &format!("{pid}__{gid}"), &pair.render, report)?;
            }
            println!(
                "| {} | {} | {} | {:.0} % | {} |",
                pair.name,
                if pair.passes { "yes" } else { "no" },
                pair.attempts,
                pair.overall * 100.0,
                pair.failing.join(", ")
            );
            pairs.push(pair);
        }
    }
    let passed = pairs.iter().filter(|p| p.passes).count();
    let attempts: u32 = pairs.iter().map(|p| p.attempts).sum();
    println!(
        "\n{passed} of {} real renders pass the {} tier; {:.2} attempts per try-on\n",
        pairs.len(),
        args.tier,
        attempts as f64 / pairs.len().max(1) as f64
    );

    // Scores of every pair's good render and of each of its damaged copies.
    let score_of = |render: &RenderOutput, person: &PreparedPerson, garment: &PreparedGarment| {
        validate_render(&models, person, garment, render, &engine, tier_config)
            .map(|r| METRICS.map(|k| r.score(k)))
    };
    let mut rows = Vec::new();
    for pair in &pairs {
        let (person, garment) = (&people[pair.person].1, &garments[pair.garment].1);
        let good = score_of(&pair.render, person, garment)?;
        let donor = &people[(pair.person + 1) % people.len()].1;
        let mut damaged = Vec::new();
        for damage in Damage::ALL {
            let Some(render) = damage_render(damage, &pair.render, person, garment, donor) else {
                continue;
            };
            damaged.push((damage, score_of(&render, person, garment)?));
        }
        rows.push(Row {
            pair,
            good,
            damaged,
        });
    }
    print_separation(&rows);

    let knob_rows = measure_knobs(
        &pairs,
        &people,
        &garments,
        |params, person, garment| {
            let render = provider.render(&garmax_render::RenderRequest {
                person: &person.render_input(),
                garment: &garment.input,
                params: params.into(),
                quality: options.quality,
            })?;
            Ok(score_of(&render, person, garment)?)
        },
        tier_config.parameters,
        &config.retry.bounds,
    )?;
    print_knob_effects(&knob_rows);

    if let Some(path) = &args.json {
        let body = json!({
            "tier": args.tier,
            "tryons": pairs.iter().map(|p| json!({
                "name": p.name, "passes": p.passes, "attempts": p.attempts,
                "overall": p.overall, "failing": p.failing,
            })).collect::<Vec<_>>(),
            "scores": rows.iter().map(|Row { pair: p, good, damaged }| json!({
                "name": p.name,
                "good": METRICS.iter().zip(good).map(|(k, s)| (k.to_string(), json!(s))).collect::<serde_json::Map<_, _>>(),
                "damaged": damaged.iter().map(|(d, s)| json!({
                    "damage": d.name(),
                    "scores": METRICS.iter().zip(s).map(|(k, s)| (k.to_string(), json!(s))).collect::<serde_json::Map<_, _>>(),
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "knobs": knob_rows.iter().map(|k| json!({
                "name": k.pair, "start": k.start,
                "raised": Metric::ALL.iter().zip(&k.raised).map(|(m, s)| (m.knob().as_str().to_string(), json!(s))).collect::<serde_json::Map<_, _>>(),
            })).collect::<Vec<_>>(),
        });
        std::fs::write(path, serde_json::to_vec_pretty(&body)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

type Scores = [Option<f32>; 5];

/// `dir/<stem>.png` and, when the render was validated, `dir/<stem>.json`.
fn save_render(
    dir: &std::path::Path,
    stem: &str,
    render: &RenderOutput,
    report: Option<&garmax_quality::ValidationReport>,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let png = dir.join(format!("{stem}.png"));
    render
        .image
        .save(&png)
        .with_context(|| format!("writing {}", png.display()))?;
    if let Some(report) = report {
        let path = dir.join(format!("{stem}.json"));
        std::fs::write(&path, serde_json::to_vec_pretty(report)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// One pair rendered with the tier's starting knobs, and once per knob with
/// that knob alone at its upper bound (in `Metric::ALL` order).
struct KnobRow<'a> {
    pair: &'a str,
    start: Scores,
    raised: Vec<Scores>,
}

/// Renders and scores every pair at the starting knobs and with each knob
/// raised alone; `render_and_score` is the renderer plus the validation.
fn measure_knobs<'a>(
    pairs: &'a [Pair],
    people: &[(String, PreparedPerson)],
    garments: &[(String, PreparedGarment)],
    render_and_score: impl Fn(Parameters, &PreparedPerson, &PreparedGarment) -> anyhow::Result<Scores>,
    start: Parameters,
    bounds: &PerKnob<[f32; 2]>,
) -> anyhow::Result<Vec<KnobRow<'a>>> {
    pairs
        .iter()
        .map(|pair| {
            let (person, garment) = (&people[pair.person].1, &garments[pair.garment].1);
            let raised = Metric::ALL
                .iter()
                .map(|m| {
                    let mut params = start;
                    params.set(m.knob(), bounds.get(m.knob())[1]);
                    render_and_score(params, person, garment)
                })
                .collect::<anyhow::Result<_>>()?;
            Ok(KnobRow {
                pair: &pair.name,
                start: render_and_score(start, person, garment)?,
                raised,
            })
        })
        .collect()
}

/// Per knob: its own validator's mean score at the start and raised, and on
/// how many pairs raising it helped, held or hurt (by more than 0.005).
fn print_knob_effects(rows: &[KnobRow<'_>]) {
    println!(
        "\n| knob raised to its bound | validator | mean at start | mean raised | helped / same / hurt |"
    );
    println!("|---|---|---|---|---|");
    for (k, metric) in Metric::ALL.iter().enumerate() {
        let r = METRICS
            .iter()
            .position(|m| *m == metric.as_str())
            .unwrap_or(0);
        let (mut before, mut after, mut counts) = (0.0f32, 0.0f32, [0usize; 3]);
        let mut n = 0;
        for row in rows {
            let (Some(a), Some(b)) = (row.start[r], row.raised[k][r]) else {
                continue;
            };
            before += a;
            after += b;
            n += 1;
            counts[if b > a + 0.005 {
                0
            } else if b < a - 0.005 {
                2
            } else {
                1
            }] += 1;
        }
        let n_f = n.max(1) as f32;
        println!(
            "| {} | {} | {:.3} | {:.3} | {} / {} / {} |",
            metric.knob().as_str(),
            metric.as_str(),
            before / n_f,
            after / n_f,
            counts[0],
            counts[1],
            counts[2]
        );
    }
}

/// One try-on's good render and its damaged copies, scored.
struct Row<'a> {
    pair: &'a Pair,
    good: Scores,
    damaged: Vec<(Damage, Scores)>,
}

/// The separation table: per damage, the responsible validator's AUC and
/// every other validator's mean score shift (good − damaged, on the same
/// renders). A skipped score (no face found, say) counts as 0 for the
/// responsible validator — not finding what must be there is a failure —
/// and drops the pair from the shift of the others.
fn print_separation(rows: &[Row<'_>]) {
    let index = |k: &str| METRICS.iter().position(|m| *m == k).unwrap_or(0);
    println!("| damage | responsible | AUC | n | largest shift of another validator |");
    println!("|---|---|---|---|---|");
    for damage in Damage::ALL {
        let r = index(damage.responsible());
        let (mut good, mut bad) = (Vec::new(), Vec::new());
        let mut shift = [(0.0f32, 0usize); 5];
        for Row {
            good: g, damaged, ..
        } in rows
        {
            let Some((_, d)) = damaged.iter().find(|(x, _)| *x == damage) else {
                continue;
            };
            good.push(g[r].unwrap_or(0.0));
            bad.push(d[r].unwrap_or(0.0));
            for (k, s) in shift.iter_mut().enumerate() {
                if let (Some(a), Some(b)) = (g[k], d[k]) {
                    s.0 += a - b;
                    s.1 += 1;
                }
            }
        }
        let worst = (0..5)
            .filter(|&k| k != r && shift[k].1 > 0)
            .map(|k| (METRICS[k], shift[k].0 / shift[k].1 as f32))
            .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()));
        println!(
            "| {} | {} | {:.3} | {} | {} |",
            damage.name(),
            damage.responsible(),
            roc_auc(&good, &bad),
            good.len(),
            worst.map_or("–".to_string(), |(k, s)| format!("{k} {s:+.3}")),
        );
    }
}

/// `render` spoiled by `damage`, or `None` when the damage cannot be made
/// (no print on the product, no face found on either person).
fn damage_render(
    damage: Damage,
    render: &RenderOutput,
    person: &PreparedPerson,
    garment: &PreparedGarment,
    donor: &PreparedPerson,
) -> Option<RenderOutput> {
    let mask = garmax_tryon::garment_mask_of(render);
    let mut out = render.clone();
    match damage {
        Damage::Colour => {
            let offset = color_offset_for(garment.analysis.colors.dominant.lab, 10.0, 45.0);
            for_each_garment_pixel(&mut out.image, &mask, |p| {
                let mut lab = srgb_to_lab([p[0], p[1], p[2]]);
                lab.a += offset[1];
                lab.b += offset[2];
                let rgb = lab_to_srgb(lab);
                p[..3].copy_from_slice(&rgb);
            });
        }
        Damage::Blur => {
            let bbox = garmax_vision::mask::bounding_box(&mask)?;
            let width = (bbox[2] - bbox[0] + 1) as f32;
            let radius = (width * 0.02).round().max(2.0) as u32;
            let blurred = image::imageops::blur(&render.image, radius as f32);
            copy_where(&mut out.image, &blurred, &mask);
        }
        Damage::PrintRemoved => {
            if !paint_out_print(&mut out.image, render, &mask, garment) {
                return None;
            }
        }
        Damage::OffBody => {
            let bbox = garmax_vision::mask::bounding_box(&mask)?;
            let dx = ((bbox[2] - bbox[0] + 1) / 3) as i64;
            out.image = person.photo.clone();
            let (w, h) = out.image.dimensions();
            for y in 0..h {
                for x in 0..w {
                    let tx = x as i64 + dx;
                    if mask.get_pixel(x, y).0[0] > 0 && tx < w as i64 {
                        out.image
                            .put_pixel(tx as u32, y, *render.image.get_pixel(x, y));
                    }
                }
            }
        }
        Damage::Mirrored => {
            out.image = image::imageops::flip_horizontal(&render.image);
            out.detail.garment_alpha =
                image::imageops::flip_horizontal(&render.detail.garment_alpha);
            // A mirrored generation has no known correspondences.
            out.detail.correspondences.clear();
            out.detail.product_map = None;
        }
        Damage::FaceSwapped => {
            let target = person.face.as_ref().and_then(face_points)?.key_points()?;
            let donor_pts = donor.face.as_ref().and_then(face_points)?.key_points()?;
            swap_face(&mut out.image, &target, &donor.photo, &donor_pts);
        }
    }
    Some(out)
}

/// Paints the product's prints out of `image` (a copy of `render`'s) with
/// the fabric's dominant colour: where the renderer's product map put them
/// (each print's box with a 10 % margin), else inside the landmark-mapped
/// boxes. Whether anything was painted.
fn paint_out_print(
    image: &mut RgbaImage,
    render: &RenderOutput,
    mask: &GrayImage,
    garment: &PreparedGarment,
) -> bool {
    let fabric = lab_to_srgb(garment.analysis.colors.dominant.lab);
    let prints: Vec<[f32; 4]> = garment
        .analysis
        .branding
        .regions
        .iter()
        .map(|r| {
            let b = r.bbox.map(|v| v as f32);
            let (mx, my) = (0.1 * b[2], 0.1 * b[3]);
            [b[0] - mx, b[1] - my, b[2] + 2.0 * mx, b[3] + 2.0 * my]
        })
        .collect();
    let boxes = garmax_tryon::mapped_logo_boxes(&render.detail.correspondences, &garment.analysis);
    let shows_print = |x: u32, y: u32| match &render.detail.product_map {
        Some(map) => map.get(x, y).is_some_and(|[u, v]| {
            prints
                .iter()
                .any(|b| u >= b[0] && u < b[0] + b[2] && v >= b[1] && v < b[1] + b[3])
        }),
        None => boxes.iter().flatten().any(|b| {
            let (fx, fy) = (x as f32 + 0.5, y as f32 + 0.5);
            fx >= b[0] && fx < b[0] + b[2] && fy >= b[1] && fy < b[1] + b[3]
        }),
    };
    let mut painted = false;
    for (x, y, p) in image.enumerate_pixels_mut() {
        if mask.get_pixel(x, y).0[0] > 0 && shows_print(x, y) {
            p.0[..3].copy_from_slice(&fabric);
            painted = true;
        }
    }
    painted
}

fn for_each_garment_pixel(image: &mut RgbaImage, mask: &GrayImage, mut f: impl FnMut(&mut [u8])) {
    for (p, m) in image.pixels_mut().zip(mask.pixels()) {
        if m.0[0] > 0 {
            f(&mut p.0);
        }
    }
}

fn copy_where(dst: &mut RgbaImage, src: &RgbaImage, mask: &GrayImage) {
    for ((d, s), m) in dst.pixels_mut().zip(src.pixels()).zip(mask.pixels()) {
        if m.0[0] > 0 {
            *d = *s;
        }
    }
}

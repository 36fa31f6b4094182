//! Skirts, shorts, pants and dresses on the committed person fixtures
//! (MediaPipe landmarks + masks of the packaged photos), with flat-lay
//! garments from the synthetic generator analysed by garmax-vision.
//!
//! Measured per render: the fraction of the legs between the hips and a
//! garment-type depth (below) that the new garment covers, face and hand
//! pixels changed, and "blob" pixels darker than both the photo and the
//! garment by more than 40 levels. Set `GARMAX_RENDER_DUMP=dir` to write
//! the renders.

use std::path::Path;

use garmax_core::{Coded, ErrorCode};
use garmax_render::geometry::{P2, segment_distance};
use garmax_render::legs::LegFrame;
use garmax_render::{
    GarmentFit, GarmentInput, LocalRenderer, PersonInput, RenderOutput, RenderParams,
    RenderProvider, RenderQuality, RenderRequest,
};
use garmax_vision::shape::GarmentType;
use garmax_vision::{AnalysisOptions, DecodedImage, analyze_garment};

mod common;

const PEOPLE: &[&str] = &["s1_medic", "s6_green", "s6_olive", "s6_wine"];
const KINDS: &[GarmentType] = &[
    GarmentType::Skirt,
    GarmentType::Shorts,
    GarmentType::Pants,
    GarmentType::Dress,
];

/// Minimum covered fraction of the leg region. The region is the core of
/// each leg (80 % of the measured half-width) from just below the hip
/// joints to `depth` along the thigh, inside the person mask and the frame;
/// hands and forearms in front are left out. The 16 renders measure
/// 0.999–1.000; 0.95 leaves room for a few mesh-edge pixels while a
/// garment shifted by a tenth of a leg width off the legs fails.
const MIN_COVERAGE: f32 = 0.95;

/// The first generated flat lay of `kind` that the analysis classes as
/// `kind` (the generator's shapes vary with the seed).
fn garment(kind: GarmentType) -> GarmentInput {
    for seed in 1..40 {
        let g = garmax_vision::synthetic::generate(kind, seed, 512);
        let decoded = DecodedImage::from_rgba(g.image);
        let Ok(analysis) = analyze_garment(&decoded, &AnalysisOptions::default()) else {
            continue;
        };
        if analysis.analysis.garment_type != kind {
            continue;
        }
        if let Ok(input) = GarmentInput::from_analysis(decoded.rgba, &analysis) {
            return input;
        }
    }
    panic!("no generated {} is analysed as one", kind.name());
}

fn render(p: &PersonInput, g: &GarmentInput) -> Result<RenderOutput, garmax_render::RenderError> {
    render_with(p, g, RenderParams::default())
}

fn render_with(
    p: &PersonInput,
    g: &GarmentInput,
    params: RenderParams,
) -> Result<RenderOutput, garmax_render::RenderError> {
    LocalRenderer.render(&RenderRequest {
        person: p,
        garment: g,
        params,
        quality: RenderQuality::Sd,
    })
}

/// The garment as placed but unshaded (style transfer 0): at each pixel
/// the product's own colour, prints included — the "garment" a blob must
/// be darker than.
fn unshaded(p: &PersonInput, g: &GarmentInput) -> RenderOutput {
    render_with(
        p,
        g,
        RenderParams {
            style_transfer_weight: 0.0,
            ..RenderParams::default()
        },
    )
    .expect("unshaded render")
}

/// How far down the thigh (0 hip, 1 knee) the garment must cover.
fn depth(kind: GarmentType) -> f32 {
    match kind {
        GarmentType::Shorts => 0.35,
        _ => 0.6,
    }
}

struct Measure {
    coverage: f32,
    region: usize,
    blobs: usize,
}

fn measure(p: &PersonInput, flat: &RenderOutput, out: &RenderOutput, kind: GarmentType) -> Measure {
    let body = &out.detail.body;
    let legs: &LegFrame = out.detail.legs.as_ref().expect("legs");
    let (w, h) = p.photo.dimensions();
    let forearm_r = 0.12 * body.sw * 1.3;
    let in_front = |q: P2| {
        let fore = [(body.elbow_l, body.wrist_l), (body.elbow_r, body.wrist_r)]
            .iter()
            .any(|(e, wr)| segment_distance(q, *e, *wr).0 < forearm_r);
        fore || body.hands.iter().any(|(c, r)| q.dist(*c) < *r * 1.2)
    };
    let (mut region, mut covered) = (0usize, 0usize);
    let mut blobs = 0;
    for y in 0..h {
        for x in 0..w {
            let a = out.detail.garment_alpha.get_pixel(x, y).0[0];
            let o = out.image.get_pixel(x, y).0;
            let ph = p.photo.get_pixel(x, y).0;
            let garment = flat.image.get_pixel(x, y).0;
            let level = |c: [u8; 4]| (c[0] as f32 + c[1] as f32 + c[2] as f32) / 3.0;
            if a >= 128 && level(o) < level(ph).min(level(garment)) - 40.0 {
                blobs += 1;
            }
            if p.mask.get_pixel(x, y).0[0] < 128 {
                continue;
            }
            let q = P2::new(x as f32 + 0.5, y as f32 + 0.5);
            if in_front(q) {
                continue;
            }
            let on = (0..2).any(|s| {
                let (d, t) = legs.leg_axis(q, s);
                t >= 0.1 && t <= depth(kind) && d < 0.8 * legs.leg_radius(s, t)
            });
            if on {
                region += 1;
                covered += (a > 127) as usize;
            }
        }
    }
    Measure {
        coverage: if region > 0 {
            covered as f32 / region as f32
        } else {
            0.0
        },
        region,
        blobs,
    }
}

#[test]
fn lower_body_garments_and_dresses_cover_the_legs_and_leave_face_and_hands() {
    let dump = std::env::var_os("GARMAX_RENDER_DUMP");
    let people: Vec<(&str, PersonInput)> = PEOPLE.iter().map(|p| (*p, common::person(p))).collect();
    let mut failures = Vec::new();
    for &kind in KINDS {
        let g = garment(kind);
        assert!(
            matches!(
                (&g.fit, kind),
                (GarmentFit::Dress(_), GarmentType::Dress) | (GarmentFit::Bottom(_), _)
            ),
            "{} fit",
            kind.name()
        );
        for (id, p) in &people {
            let t = std::time::Instant::now();
            let out = match render(p, &g) {
                Ok(out) => out,
                Err(e) => {
                    failures.push(format!("{id} {}: {e}", kind.name()));
                    continue;
                }
            };
            let ms = t.elapsed().as_secs_f64() * 1000.0;
            let m = measure(p, &unshaded(p, &g), &out, kind);
            let s = &out.detail.stats;
            eprintln!(
                "{id}\t{}\tcoverage {:.3} of {} px\tstats lower-body {:.3}\tface+hand changed {} of {}\tblobs {}\tskin {} bg {}\t{ms:.0} ms",
                kind.name(),
                m.coverage,
                m.region,
                s.lower_body_coverage.unwrap_or(-1.0),
                s.face_hand_pixels_changed,
                s.face_hand_pixels,
                m.blobs,
                s.skin_filled_pixels,
                s.background_filled_pixels,
            );
            if let Some(dir) = &dump {
                let path = Path::new(dir).join(format!("{id}__{}.png", kind.name()));
                out.image.save(path).unwrap();
            }
            if m.region < 1000 {
                failures.push(format!("{id} {}: leg region {} px", kind.name(), m.region));
            }
            if m.coverage < MIN_COVERAGE {
                failures.push(format!("{id} {}: coverage {:.3}", kind.name(), m.coverage));
            }
            if s.face_hand_pixels_changed != 0 {
                failures.push(format!("{id} {}: face/hand changed", kind.name()));
            }
            if m.blobs != 0 {
                failures.push(format!(
                    "{id} {}: {} dark-blob pixels",
                    kind.name(),
                    m.blobs
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn a_chest_up_portrait_refuses_lower_body_garments_with_a_coded_error() {
    let astronaut = common::person("astronaut");
    for &kind in KINDS {
        let err = render(&astronaut, &garment(kind))
            .err()
            .unwrap_or_else(|| panic!("{} on a chest-up photo", kind.name()));
        assert_eq!(err.code(), ErrorCode::NoPersonFound, "{}", kind.name());
        assert!(err.to_string().contains("hips"), "{err}");
    }
}

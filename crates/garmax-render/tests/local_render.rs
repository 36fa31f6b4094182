//! The local renderer on real inputs: the packaged astronaut photo with its
//! MediaPipe landmarks/mask fixture (tools/reference/person_fixtures.py) and
//! the Saleor tees (fetched by `garmax models fetch`).

use std::sync::OnceLock;

use garmax_core::{Coded, ErrorCode};
use garmax_render::{
    GarmentFit, GarmentInput, LocalRenderer, PersonInput, RenderOutput, RenderParams,
    RenderProvider, RenderQuality, RenderRequest,
};
use garmax_vision::color::{delta_e2000, srgb_to_lab};
use image::RgbaImage;

mod common;

fn astronaut() -> &'static PersonInput {
    static P: OnceLock<PersonInput> = OnceLock::new();
    P.get_or_init(|| common::person("astronaut"))
}

fn tee06() -> &'static GarmentInput {
    static G: OnceLock<GarmentInput> = OnceLock::new();
    G.get_or_init(|| common::tee("boot06"))
}

fn render(person: &PersonInput, garment: &GarmentInput, params: RenderParams) -> RenderOutput {
    LocalRenderer
        .render(&RenderRequest {
            person,
            garment,
            params,
            quality: RenderQuality::Sd,
        })
        .expect("render")
}

fn changed_pixels(a: &RgbaImage, b: &RgbaImage) -> usize {
    a.pixels()
        .zip(b.pixels())
        .filter(|(p, q)| (0..3).any(|c| (p.0[c] as i16 - q.0[c] as i16).abs() > 3))
        .count()
}

#[test]
fn dresses_the_astronaut_at_photo_resolution_with_true_colour_and_untouched_face() {
    let person = astronaut();
    let out = render(person, tee06(), RenderParams::default());
    assert_eq!(out.image.dimensions(), person.photo.dimensions());
    let s = &out.detail.stats;
    assert!(
        s.garment_pixels > 20_000,
        "garment covers the torso: {}",
        s.garment_pixels
    );
    assert!(
        s.base_fabric_mean_delta_e < 3.0,
        "colour cast ΔE {}",
        s.base_fabric_mean_delta_e
    );
    assert!(
        s.base_fabric_delta_e < 10.0,
        "per-pixel ΔE {}",
        s.base_fabric_delta_e
    );
    assert!(s.upper_garment_iou > 0.5, "IoU {}", s.upper_garment_iou);
    assert_eq!(
        s.face_hand_pixels_changed, 0,
        "face and hands stay as photographed"
    );
    // The torso centre now shows the product's fabric, not the orange suit.
    let l = &out.detail.body;
    let c = l
        .shoulder_l
        .mid(l.shoulder_r)
        .plus(l.down.scale(0.8 * l.sw));
    let p = out.image.get_pixel(c.x as u32 + 60, c.y as u32).0;
    let de = delta_e2000(srgb_to_lab([p[0], p[1], p[2]]), tee06().dominant);
    assert!(de < 15.0, "fabric under the print area differs by ΔE {de}");
    // Outside the person nothing moves (beyond the fabric margin).
    let corner = (5, 5);
    assert_eq!(
        out.image.get_pixel(corner.0, corner.1),
        person.photo.get_pixel(corner.0, corner.1)
    );
}

#[test]
fn each_retry_knob_changes_the_image() {
    let person = astronaut();
    let base = RenderParams::default();
    let reference = render(person, tee06(), base).image;
    let variants: [(&str, RenderParams); 5] = [
        (
            "model reference strength",
            RenderParams {
                model_reference_strength: 0.2,
                ..base
            },
        ),
        (
            "pose guidance scale",
            RenderParams {
                pose_guidance_scale: 0.2,
                ..base
            },
        ),
        (
            "colour matching weight",
            RenderParams {
                color_matching_weight: 0.0,
                ..base
            },
        ),
        (
            "style transfer weight",
            RenderParams {
                style_transfer_weight: 0.0,
                ..base
            },
        ),
        (
            "branding enhancement weight",
            RenderParams {
                branding_enhancement_weight: 0.0,
                ..base
            },
        ),
    ];
    for (name, params) in variants {
        let img = render(person, tee06(), params).image;
        let n = changed_pixels(&reference, &img);
        assert!(n > 200, "{name}: only {n} pixels changed");
    }
}

#[test]
fn style_transfer_weight_controls_the_shading_contrast() {
    let person = astronaut();
    let flat = render(
        person,
        tee06(),
        RenderParams {
            style_transfer_weight: 0.0,
            ..Default::default()
        },
    );
    let full = render(
        person,
        tee06(),
        RenderParams {
            style_transfer_weight: 1.0,
            ..Default::default()
        },
    );
    let spread = |o: &RenderOutput| {
        let a = &o.detail.garment_alpha;
        let ls: Vec<f32> = o
            .image
            .pixels()
            .zip(a.pixels())
            .filter(|(_, m)| m.0[0] > 250)
            .map(|(p, _)| srgb_to_lab([p.0[0], p.0[1], p.0[2]]).l)
            .collect();
        let mean = ls.iter().sum::<f32>() / ls.len() as f32;
        (ls.iter().map(|l| (l - mean).powi(2)).sum::<f32>() / ls.len() as f32).sqrt()
    };
    assert!(
        spread(&full) > spread(&flat) + 1.0,
        "folds add lightness variation: {} vs {}",
        spread(&full),
        spread(&flat)
    );
}

#[test]
fn bad_person_inputs_are_coded_errors_not_panics() {
    let person = astronaut();
    let garment = tee06();
    let params = RenderParams::default();
    let go = |p: &PersonInput| {
        LocalRenderer.render(&RenderRequest {
            person: p,
            garment,
            params,
            quality: RenderQuality::Sd,
        })
    };

    // Empty person mask: no person.
    let mut empty = person.clone();
    empty.mask.pixels_mut().for_each(|p| p.0[0] = 0);
    assert_eq!(
        go(&empty).err().map(|e| e.code()),
        Some(ErrorCode::NoPersonFound)
    );

    // Shoulders unseen.
    let mut hidden = person.clone();
    for i in [11, 12] {
        hidden.landmarks.image[i].visibility = 0.0;
        hidden.landmarks.image[i].presence = 0.0;
    }
    assert_eq!(
        go(&hidden).err().map(|e| e.code()),
        Some(ErrorCode::NoPersonFound)
    );

    // Seen from the back: shoulders swapped and no face.
    let mut back = person.clone();
    back.landmarks.image.swap(11, 12);
    for l in back.landmarks.image.iter_mut().take(11) {
        l.visibility = 0.05;
    }
    let err = go(&back).err().expect("back view refused");
    assert_eq!(err.code(), ErrorCode::GenerationFailed);
    assert!(err.to_string().contains("back"));

    // Landmarks of another image size.
    let mut wrong = person.clone();
    wrong.landmarks.image_size = [100, 100];
    assert_eq!(
        go(&wrong).err().map(|e| e.code()),
        Some(ErrorCode::GenerationFailed)
    );

    // NaN landmarks never panic.
    let mut nan = person.clone();
    nan.landmarks.image.iter_mut().for_each(|l| l.x = f32::NAN);
    assert!(go(&nan).is_err());
}

#[test]
fn the_profile_photo_is_refused_with_a_clear_message() {
    let camera = common::person("camera");
    let err = LocalRenderer
        .render(&RenderRequest {
            person: &camera,
            garment: tee06(),
            params: RenderParams::default(),
            quality: RenderQuality::Sd,
        })
        .err()
        .expect("profile refused");
    assert_eq!(err.code(), ErrorCode::GenerationFailed);
    assert!(err.to_string().contains("profile"), "{err}");
}

#[test]
fn garments_that_cannot_be_placed_are_garment_errors() {
    let mut g = tee06().clone();
    if let GarmentFit::Top(l) = &mut g.fit {
        l.shoulder_right = l.shoulder_left;
    }
    let err = LocalRenderer
        .render(&RenderRequest {
            person: astronaut(),
            garment: &g,
            params: RenderParams::default(),
            quality: RenderQuality::Sd,
        })
        .err()
        .expect("degenerate garment refused");
    assert_eq!(err.code(), ErrorCode::NoGarmentFound);
}

#[test]
fn long_haired_three_quarter_view_renders_with_face_untouched_and_true_colour() {
    let person = common::person("s6_wine");
    let out = render(&person, tee06(), RenderParams::default());
    let s = &out.detail.stats;
    assert_eq!(s.face_hand_pixels_changed, 0);
    assert!(s.garment_pixels > 50_000);
    assert!(
        s.base_fabric_mean_delta_e < 3.0,
        "{}",
        s.base_fabric_mean_delta_e
    );
}

#[test]
fn tiny_and_odd_inputs_never_panic() {
    let person = astronaut();
    for size in [1u32, 7, 24, 64] {
        let k = size as f32 / person.photo.width() as f32;
        let mut small = person.clone();
        small.photo = image::imageops::resize(
            &person.photo,
            size,
            size,
            image::imageops::FilterType::Triangle,
        );
        small.mask = image::imageops::resize(
            &person.mask,
            size,
            size,
            image::imageops::FilterType::Nearest,
        );
        small.landmarks.image_size = [size, size];
        for l in small.landmarks.image.iter_mut() {
            l.x *= k;
            l.y *= k;
        }
        // Either a render at that size or a coded error; never a panic.
        match LocalRenderer.render(&RenderRequest {
            person: &small,
            garment: tee06(),
            params: RenderParams::default(),
            quality: RenderQuality::Uhd,
        }) {
            Ok(out) => assert_eq!(out.image.dimensions(), (size, size)),
            Err(e) => assert!(!e.to_string().is_empty()),
        }
    }
    // Extreme knob values are clamped, not trusted.
    let wild = RenderParams {
        model_reference_strength: 50.0,
        pose_guidance_scale: -3.0,
        color_matching_weight: f32::INFINITY,
        style_transfer_weight: f32::NAN,
        branding_enhancement_weight: 1e9,
    };
    assert!(
        LocalRenderer
            .render(&RenderRequest {
                person,
                garment: tee06(),
                params: wild,
                quality: RenderQuality::Sd
            })
            .is_ok()
    );
}

#[test]
fn sleeves_follow_the_arms() {
    let person = astronaut();
    let down = render(person, tee06(), RenderParams::default());
    // Raise the image-left arm (the person's right, landmarks 12/14/16) to
    // shoulder height, pointing outward.
    let mut raised = person.clone();
    let sh = raised.landmarks.image[12];
    raised.landmarks.image[14].x = sh.x - 110.0;
    raised.landmarks.image[14].y = sh.y;
    raised.landmarks.image[14].visibility = 0.99;
    raised.landmarks.image[16].x = sh.x - 200.0;
    raised.landmarks.image[16].y = sh.y - 10.0;
    let up = render(&raised, tee06(), RenderParams::default());
    let (r_down, r_up) = (
        down.detail.sleeve_rotation_deg[0],
        up.detail.sleeve_rotation_deg[0],
    );
    assert!(
        (r_up - r_down).abs() > 30.0,
        "sleeve rotation {r_down:.0}° with the arm down, {r_up:.0}° raised"
    );
    // The other sleeve does not move.
    assert!((down.detail.sleeve_rotation_deg[1] - up.detail.sleeve_rotation_deg[1]).abs() < 1.0);
    // With pose guidance 0 the sleeve keeps its flat-lay angle.
    let rigid = render(
        &raised,
        tee06(),
        RenderParams {
            pose_guidance_scale: 0.0,
            ..Default::default()
        },
    );
    assert!(rigid.detail.sleeve_rotation_deg[0].abs() < 1e-3);
}

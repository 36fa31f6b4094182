//! A small synthetic person and garment for the stages' unit tests: a
//! front-facing figure on a grey backdrop, skin head and forearms, an
//! orange short-sleeved top, dark trousers; and a generated flat-lay tee.

use garmax_core::pose::{Landmark, PoseLandmarks, joint};
use garmax_vision::shape::GarmentType;
use garmax_vision::{AnalysisOptions, DecodedImage, analyze_garment};
use image::{GrayImage, Luma, Rgba, RgbaImage};

use crate::garment::GarmentInput;
use crate::geometry::{P2, segment_distance};
use crate::person::{BodyFrame, PersonInput, Regions, derive_regions};

pub const W: u32 = 240;
pub const H: u32 = 400;
pub const SKIN: [u8; 3] = [222, 170, 138];
pub const SHIRT: [u8; 3] = [230, 120, 30];
pub const TROUSERS: [u8; 3] = [40, 50, 90];
pub const BACKDROP: [u8; 3] = [200, 202, 210];

pub struct TestScene {
    pub person: PersonInput,
    pub body: BodyFrame,
    pub regions: Regions,
    pub garment: GarmentInput,
}

/// Landmarks of a person facing the camera, arms hanging a little apart,
/// legs to the ankles inside the frame.
pub fn landmarks() -> PoseLandmarks {
    let mut image = vec![
        Landmark {
            x: 120.0,
            y: 40.0,
            z: 0.0,
            visibility: 0.95,
            presence: 0.95,
        };
        33
    ];
    let mut set = |i: usize, x: f32, y: f32| {
        image[i].x = x;
        image[i].y = y;
    };
    // The head: nose, eyes (1–6), ears, mouth.
    set(joint::NOSE, 120.0, 48.0);
    for (i, x) in [(1, 114.0), (2, 111.0), (3, 108.0)] {
        set(i, x, 42.0);
    }
    for (i, x) in [(4, 126.0), (5, 129.0), (6, 132.0)] {
        set(i, x, 42.0);
    }
    set(joint::RIGHT_EAR, 102.0, 45.0);
    set(joint::LEFT_EAR, 138.0, 45.0);
    set(9, 115.0, 58.0);
    set(10, 125.0, 58.0);
    // The person's right on the image left.
    set(joint::RIGHT_SHOULDER, 84.0, 100.0);
    set(joint::LEFT_SHOULDER, 156.0, 100.0);
    set(joint::RIGHT_ELBOW, 70.0, 165.0);
    set(joint::LEFT_ELBOW, 170.0, 165.0);
    set(joint::RIGHT_WRIST, 64.0, 225.0);
    set(joint::LEFT_WRIST, 176.0, 225.0);
    // Hands: pinky, index, thumb below the wrists.
    for (i, x, y) in [(18, 60.0, 240.0), (20, 64.0, 244.0), (22, 68.0, 236.0)] {
        set(i, x, y);
    }
    for (i, x, y) in [(17, 180.0, 240.0), (19, 176.0, 244.0), (21, 172.0, 236.0)] {
        set(i, x, y);
    }
    set(joint::RIGHT_HIP, 98.0, 215.0);
    set(joint::LEFT_HIP, 142.0, 215.0);
    set(joint::RIGHT_KNEE, 96.0, 300.0);
    set(joint::LEFT_KNEE, 144.0, 300.0);
    set(joint::RIGHT_ANKLE, 95.0, 380.0);
    set(joint::LEFT_ANKLE, 145.0, 380.0);
    for (i, x) in [(30, 93.0), (32, 90.0)] {
        set(i, x, 392.0);
    }
    for (i, x) in [(29, 147.0), (31, 150.0)] {
        set(i, x, 392.0);
    }
    PoseLandmarks {
        image_size: [W, H],
        image,
        world: vec![[0.0; 3]; 33],
    }
}

/// What the photo shows at `q`: `None` = backdrop.
fn paint(q: P2, lm: &PoseLandmarks) -> Option<[u8; 3]> {
    let p = |i: usize| P2::new(lm.image[i].x, lm.image[i].y);
    let head = P2::new(120.0, 50.0);
    let d = q.minus(head);
    if (d.x / 20.0).powi(2) + (d.y / 26.0).powi(2) < 1.0 {
        return Some(SKIN);
    }
    // The neck.
    if (q.x - 120.0).abs() < 9.0 && q.y > 70.0 && q.y < 100.0 {
        return Some(SKIN);
    }
    // Arms: a short orange sleeve to a third of the upper arm, then skin.
    for (s, e, w) in [
        (
            joint::RIGHT_SHOULDER,
            joint::RIGHT_ELBOW,
            joint::RIGHT_WRIST,
        ),
        (joint::LEFT_SHOULDER, joint::LEFT_ELBOW, joint::LEFT_WRIST),
    ] {
        let (d1, t1) = segment_distance(q, p(s), p(e));
        let (d2, _) = segment_distance(q, p(e), p(w));
        if d1 < 9.0 {
            return Some(if t1 < 0.35 { SHIRT } else { SKIN });
        }
        if d2 < 7.0 || q.dist(p(w).plus(P2::new(0.0, 12.0))) < 9.0 {
            return Some(SKIN);
        }
    }
    // Torso: shoulders to hips.
    let t = ((q.y - 96.0) / (215.0 - 96.0)).clamp(0.0, 1.0);
    let half = 38.0 + (26.0 - 38.0) * t;
    if q.y > 96.0 && q.y < 222.0 && (q.x - 120.0).abs() < half {
        return Some(SHIRT);
    }
    // Legs: hip to ankle, trousers.
    for (hp, kn, an) in [
        (joint::RIGHT_HIP, joint::RIGHT_KNEE, joint::RIGHT_ANKLE),
        (joint::LEFT_HIP, joint::LEFT_KNEE, joint::LEFT_ANKLE),
    ] {
        let (d1, _) = segment_distance(q, p(hp), p(kn));
        let (d2, _) = segment_distance(q, p(kn), p(an));
        if d1 < 13.0 || d2 < 10.0 {
            return Some(TROUSERS);
        }
    }
    None
}

/// The synthetic person photo and its exact mask.
pub fn person() -> PersonInput {
    let lm = landmarks();
    let mut photo = RgbaImage::new(W, H);
    let mut mask = GrayImage::new(W, H);
    for y in 0..H {
        for x in 0..W {
            let q = P2::new(x as f32 + 0.5, y as f32 + 0.5);
            let (c, m) = match paint(q, &lm) {
                Some(c) => (c, 255),
                None => (BACKDROP, 0),
            };
            // A little deterministic texture so blurs and ratios are not
            // degenerate.
            let n = ((x * 7 + y * 13) % 5) as u8;
            photo.put_pixel(x, y, Rgba([c[0] - n, c[1] - n, c[2] - n, 255]));
            mask.put_pixel(x, y, Luma([m]));
        }
    }
    PersonInput {
        photo,
        landmarks: lm,
        mask,
        regions: None,
        normal_map: None,
    }
}

/// A generated flat-lay product of `kind`, analysed.
pub fn garment(kind: GarmentType, seed: u64) -> GarmentInput {
    let g = garmax_vision::synthetic::generate(kind, seed, 320);
    let decoded = DecodedImage::from_rgba(g.image);
    let analysis = analyze_garment(&decoded, &AnalysisOptions::default()).expect("analysis");
    GarmentInput::from_analysis(decoded.rgba, &analysis).expect("garment input")
}

/// The first generated flat lay of `kind` the analysis classes as `kind`
/// (the generator's proportions vary with the seed).
pub fn garment_of(kind: GarmentType) -> GarmentInput {
    (1..40)
        .find_map(|seed| {
            let g = garmax_vision::synthetic::generate(kind, seed, 320);
            let decoded = DecodedImage::from_rgba(g.image);
            let a = analyze_garment(&decoded, &AnalysisOptions::default()).ok()?;
            (a.analysis.garment_type == kind)
                .then(|| GarmentInput::from_analysis(decoded.rgba, &a).ok())
                .flatten()
        })
        .expect("a generated garment of the kind")
}

pub fn scene() -> TestScene {
    let person = person();
    let body = BodyFrame::from_landmarks(&person.landmarks).expect("body");
    let regions = derive_regions(&person, &body);
    TestScene {
        garment: garment(GarmentType::Tshirt, 11),
        person,
        body,
        regions,
    }
}

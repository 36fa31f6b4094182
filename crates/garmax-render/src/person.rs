//! The person side of a render: the input as plain data, the body frame
//! read from the landmarks, and the regions (face, hair, hands, arms, torso)
//! derived from landmarks + mask when no segmentation is supplied.

use garmax_core::pose::{PoseLandmarks, joint};
use garmax_vision::color::{Lab, delta_e2000_weighted, srgb_to_lab};
use image::{GrayImage, RgbImage, RgbaImage};
use rayon::prelude::*;
use serde::Serialize;

use crate::error::RenderError;
use crate::geometry::{P2, segment_distance};
use crate::plane::Plane;

/// Everything the renderer needs to know about the person, as plain data,
/// so that any analysis (garmax-person, MediaPipe fixtures, a future
/// provider) can feed it.
#[derive(Debug, Clone)]
pub struct PersonInput {
    /// The photo, at the resolution of the output.
    pub photo: RgbaImage,
    /// BlazePose landmarks in the photo's pixels.
    pub landmarks: PoseLandmarks,
    /// Person mask (0 background … 255 person), photo size.
    pub mask: GrayImage,
    /// Clothing-aware segmentation when a body fit provides one; derived
    /// from landmarks + mask otherwise.
    pub regions: Option<ClothingRegions>,
    /// Camera-space normal map (RGB = (n+1)/2) of the fitted body, photo
    /// size, when available: adds body-shape shading where the original
    /// clothing is flat.
    pub normal_map: Option<RgbImage>,
}

/// Soft masks (0–255), all at the photo's size.
#[derive(Debug, Clone)]
pub struct ClothingRegions {
    pub upper_garment: GrayImage,
    pub arms: GrayImage,
    pub hands: GrayImage,
    pub face_hair: GrayImage,
    /// Arms and hands where they are the body's front-most surface (the
    /// body model's part map, which is its depth order): what lies in
    /// front of a top's torso — forearms crossed over the chest, an arm
    /// hanging in front of the garment's flank. Sleeves still go over it.
    pub arms_front: GrayImage,
    /// The body behind these masks is known exactly (the pipeline drew the
    /// person, a mannequin) rather than fitted to a photo, so its arms and
    /// hands are the truth, not a guess to check against the landmarks.
    pub exact: bool,
}

/// Visibility below which a landmark is treated as a guess.
const SEEN: f32 = 0.35;

/// Shoulder width / torso length below which the person is in profile.
/// Front views measure 0.6–0.9; the packaged profile photo measures ~0.3.
pub const SIDE_VIEW: f32 = 0.38;

/// The body's geometry in image space, read from the landmarks. "Left" and
/// "right" here are image sides, as the garment analysis names them.
#[derive(Debug, Clone, Serialize)]
pub struct BodyFrame {
    pub shoulder_l: P2,
    pub shoulder_r: P2,
    pub elbow_l: P2,
    pub elbow_r: P2,
    pub wrist_l: P2,
    pub wrist_r: P2,
    pub hip_l: P2,
    pub hip_r: P2,
    /// Shoulder-joint distance in pixels: the unit of every body-relative
    /// size in the renderer.
    pub sw: f32,
    /// Unit vector from the image-left to the image-right shoulder.
    pub across: P2,
    /// Unit vector down the torso (shoulder centre → hip centre).
    pub down: P2,
    pub torso_len: f32,
    /// Face ellipse: centre, semi-axes (across, down) along `across`/`down`.
    pub face_centre: P2,
    pub face_r: [f32; 2],
    /// Hand discs (centre, radius) when the hand landmarks are in view.
    pub hands: Vec<(P2, f32)>,
    /// Whether each arm's elbow was seen (else the sleeve follows the torso).
    pub arm_seen: [bool; 2],
    /// Elbow visibility per arm: an arm hidden behind someone else is never
    /// repainted as skin.
    pub arm_visibility: [f32; 2],
    pub warnings: Vec<String>,
}

impl BodyFrame {
    pub fn from_landmarks(lm: &PoseLandmarks) -> Result<BodyFrame, RenderError> {
        if lm.image.len() < 33 {
            return Err(RenderError::NoPerson(format!(
                "expected 33 body landmarks, got {}",
                lm.image.len()
            )));
        }
        let p = |i: usize| P2::new(lm.image[i].x, lm.image[i].y);
        let vis = |i: usize| {
            lm.image[i]
                .visibility
                .min(lm.image[i].presence.max(lm.image[i].visibility))
        };
        let (ls, rs) = (joint::LEFT_SHOULDER, joint::RIGHT_SHOULDER);
        if !p(ls).is_finite() || !p(rs).is_finite() || vis(ls).max(vis(rs)) < SEEN {
            return Err(RenderError::NoPerson(
                "the shoulders are not visible; use a photo that shows the upper body".into(),
            ));
        }
        let mut warnings = Vec::new();
        // A person facing the camera has their left shoulder on the image's
        // right. The other way round means a back view (or a mirror).
        let face_vis = [joint::NOSE, 2, 5]
            .iter()
            .map(|&i| vis(i))
            .fold(0.0f32, f32::max);
        let mirrored = p(ls).x < p(rs).x;
        if mirrored && face_vis < 0.5 {
            return Err(RenderError::Generation(
                "the person is seen from the back; the local renderer dresses front and three-quarter views only".into(),
            ));
        }
        // Image-left/right joints: for a front view the person's right side.
        let (il, ir) = if mirrored { (0usize, 1usize) } else { (1, 0) };
        let pick = |pair: [usize; 2], side: usize| p(pair[side]);
        let pairs = |l: usize, r: usize| [l, r];
        let sh = pairs(ls, rs);
        let hp = pairs(joint::LEFT_HIP, joint::RIGHT_HIP);
        let shoulder_l = pick(sh, il);
        let shoulder_r = pick(sh, ir);
        let sw = shoulder_l.dist(shoulder_r);
        let sh_mid = shoulder_l.mid(shoulder_r);
        let mut hip_l = pick(hp, il);
        let mut hip_r = pick(hp, ir);
        let diag = lm.image_diagonal().max(1.0);
        if sw < 0.02 * diag {
            return Err(RenderError::NoPerson(
                "the shoulders are too close together to place a garment".into(),
            ));
        }
        let hip_mid = hip_l.mid(hip_r);
        let mut torso_len = sh_mid.dist(hip_mid);
        let hips_seen = hip_l.is_finite()
            && hip_r.is_finite()
            && vis(joint::LEFT_HIP).max(vis(joint::RIGHT_HIP)) > SEEN;
        if hips_seen && sw < SIDE_VIEW * torso_len {
            // In profile the garment's front cannot be laid on the body:
            // refuse rather than paste a flat tee on a shoulder.
            return Err(RenderError::Generation(format!(
                "the person is turned sideways (shoulder width {sw:.0} px for a torso of {torso_len:.0} px); the local renderer dresses front and three-quarter views only"
            )));
        }
        let hips_ok =
            hip_l.is_finite() && hip_r.is_finite() && torso_len > 0.6 * sw && torso_len < 4.0 * sw;
        if !hips_ok {
            // No believable hips: assume an upright torso of average
            // proportions below the shoulders.
            let across = shoulder_r.minus(shoulder_l).unit_or(P2::new(1.0, 0.0));
            let down = P2::new(-across.y, across.x);
            let down = if down.y < 0.0 { down.scale(-1.0) } else { down };
            torso_len = 1.35 * sw;
            hip_l = sh_mid
                .plus(down.scale(torso_len))
                .minus(across.scale(0.4 * sw));
            hip_r = sh_mid
                .plus(down.scale(torso_len))
                .plus(across.scale(0.4 * sw));
            warnings.push("hips not found; torso length assumed".into());
        }
        if profile_face(lm, sw) {
            return Err(RenderError::Generation(
                "the person is seen in profile (the face is turned fully sideways); the local renderer dresses front and three-quarter views only".into(),
            ));
        }
        if sw < 0.45 * torso_len {
            warnings.push(
                "the person is turned partly sideways; the garment is placed as a best effort"
                    .into(),
            );
        }
        if mirrored {
            warnings.push("left and right shoulders look swapped (mirror or back view); rendered as a front view".into());
        }
        Self::finish(
            lm,
            shoulder_l,
            shoulder_r,
            sw,
            hip_l,
            hip_r,
            torso_len,
            [il, ir],
            warnings,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn finish(
        lm: &PoseLandmarks,
        shoulder_l: P2,
        shoulder_r: P2,
        sw: f32,
        hip_l: P2,
        hip_r: P2,
        torso_len: f32,
        sides: [usize; 2],
        warnings: Vec<String>,
    ) -> Result<BodyFrame, RenderError> {
        let p = |i: usize| P2::new(lm.image[i].x, lm.image[i].y);
        let vis = |i: usize| lm.image[i].visibility;
        let sh_mid = shoulder_l.mid(shoulder_r);
        let across = shoulder_r.minus(shoulder_l).unit_or(P2::new(1.0, 0.0));
        let down = hip_l.mid(hip_r).minus(sh_mid).unit_or(P2::new(0.0, 1.0));
        let side_of = |pair: [usize; 2], s: usize| pair[sides[s]];
        let el = [joint::LEFT_ELBOW, joint::RIGHT_ELBOW];
        let wr = [joint::LEFT_WRIST, joint::RIGHT_WRIST];
        let sh = [shoulder_l, shoulder_r];
        let mut elbows = [P2::default(); 2];
        let mut wrists = [P2::default(); 2];
        let mut arm_seen = [false; 2];
        let mut arm_visibility = [0.0f32; 2];
        for s in 0..2 {
            let (e, w) = (side_of(el, s), side_of(wr, s));
            let outward = if s == 0 { across.scale(-1.0) } else { across };
            // Unseen arm: hanging beside the torso.
            let hang = sh[s]
                .plus(down.scale(0.55 * torso_len))
                .plus(outward.scale(0.12 * sw));
            let seen = vis(e) > SEEN && p(e).is_finite();
            arm_seen[s] = seen;
            arm_visibility[s] = vis(e);
            elbows[s] = if seen { p(e) } else { hang };
            wrists[s] = if vis(w) > SEEN && p(w).is_finite() {
                p(w)
            } else {
                elbows[s].plus(elbows[s].minus(sh[s]))
            };
        }
        // Face ellipse from the head landmarks that were seen.
        let head: Vec<P2> = (0..=10)
            .filter(|&i| vis(i) > 0.3 && p(i).is_finite())
            .map(p)
            .collect();
        let (face_centre, face_r) = if head.len() >= 3 {
            let c = head
                .iter()
                .fold(P2::default(), |a, q| a.plus(*q))
                .scale(1.0 / head.len() as f32);
            let spread = head
                .iter()
                .map(|q| q.minus(c).dot(across).abs())
                .fold(0.0f32, f32::max);
            let rx = (spread * 1.15).clamp(0.18 * sw, 0.45 * sw);
            // The ear/eye centroid sits at eye level, a little above the
            // face's middle; the chin is about 1.4 half-widths below it.
            (c.plus(down.scale(0.1 * rx)), [rx, rx * 1.3])
        } else {
            let c = sh_mid.minus(down.scale(0.55 * sw));
            (c, [0.25 * sw, 0.36 * sw])
        };
        // Hands: wrist, pinky, index, thumb of each side.
        let hand_pts = [[15usize, 17, 19, 21], [16, 18, 20, 22]];
        let mut hands = Vec::new();
        for s in 0..2 {
            let pts: Vec<P2> = hand_pts[sides[s]]
                .iter()
                .filter(|&&i| vis(i) > SEEN && p(i).is_finite())
                .map(|&i| p(i))
                .collect();
            if pts.len() >= 2 {
                let c = pts
                    .iter()
                    .fold(P2::default(), |a, q| a.plus(*q))
                    .scale(1.0 / pts.len() as f32);
                let r = pts.iter().map(|q| q.dist(c)).fold(0.0f32, f32::max) * 1.6 + 0.07 * sw;
                // The hand extends past the knuckle landmarks: shift the disc
                // from the wrist toward the fingers.
                let wrist = p(hand_pts[sides[s]][0]);
                let c = c.plus(c.minus(wrist).scale(0.3));
                hands.push((c, r));
            }
        }
        Ok(BodyFrame {
            shoulder_l,
            shoulder_r,
            elbow_l: elbows[0],
            elbow_r: elbows[1],
            wrist_l: wrists[0],
            wrist_r: wrists[1],
            hip_l,
            hip_r,
            sw,
            across,
            down,
            torso_len,
            face_centre,
            face_r,
            hands,
            arm_seen,
            arm_visibility,
            warnings,
        })
    }

    pub fn shoulders(&self) -> [P2; 2] {
        [self.shoulder_l, self.shoulder_r]
    }
    pub fn elbows(&self) -> [P2; 2] {
        [self.elbow_l, self.elbow_r]
    }
    pub fn wrists(&self) -> [P2; 2] {
        [self.wrist_l, self.wrist_r]
    }
    pub fn outward(&self, side: usize) -> P2 {
        if side == 0 {
            self.across.scale(-1.0)
        } else {
            self.across
        }
    }

    /// Whether `p` lies in the face ellipse grown by `grow` (in units of the
    /// ellipse's radii).
    pub fn in_face(&self, p: P2, grow: f32) -> f32 {
        let d = p.minus(self.face_centre);
        let u = d.dot(self.across) / (self.face_r[0] * grow);
        let v = d.dot(self.down) / (self.face_r[1] * grow);
        u * u + v * v
    }
}

/// A face in profile: the nose lies well outside the span between the
/// ears, and the ears are close together compared with the shoulders.
/// (Front and three-quarter views of the packaged photos measure a nose
/// offset ≤ 0.21 ear distances and ear distances ≥ 0.41 shoulder widths; the
/// profile measures 0.97 and 0.24.)
fn profile_face(lm: &PoseLandmarks, sw: f32) -> bool {
    let p = |i: usize| P2::new(lm.image[i].x, lm.image[i].y);
    let seen = [joint::NOSE, joint::LEFT_EAR, joint::RIGHT_EAR]
        .iter()
        .all(|&i| lm.image[i].visibility > 0.5 && p(i).is_finite());
    if !seen {
        return false;
    }
    let (le, re) = (p(joint::LEFT_EAR), p(joint::RIGHT_EAR));
    let ear_d = le.dist(re).max(1e-3);
    let axis = le.minus(re).scale(1.0 / ear_d);
    let nose_off = p(joint::NOSE).minus(le.mid(re)).dot(axis).abs() / ear_d;
    nose_off > 0.6 && ear_d < 0.35 * sw
}

/// Soft region masks the compositor uses, at the photo's size.
pub struct Regions {
    pub person: Plane,
    /// Face and hair: always kept in front of the garment.
    pub face_hair: Plane,
    pub hands: Plane,
    /// Whole arms (upper and lower), inside the person mask.
    pub arms: Plane,
    /// The part of an arm that may pass in front of the torso: from the
    /// landmarks, forearms and the lower half of the upper arms (the upper
    /// half is inside a sleeve or behind the garment's shoulder); from a
    /// drawn body, every arm pixel that is its front-most surface (the
    /// sleeves are composited over it anyway).
    pub lower_arms: Plane,
    /// Which arm each pixel belongs to (0 none, 1 image-left, 2 image-right),
    /// from the landmark capsules.
    pub arm_side: Vec<u8>,
    /// The torso between shoulders and hips (upper-garment region).
    pub torso: Plane,
    /// Skin colour sampled from the face, and how skin-like each pixel is
    /// (1 = skin).
    pub skin: Option<Lab>,
    pub skin_like: Plane,
    /// Which source the face/hair/arms/hands came from.
    pub source: &'static str,
    /// The hands and `lower_arms` are the exact body's (a drawn mannequin),
    /// not landmark capsules, so no colour test is needed to trust them.
    pub arms_exact: bool,
}

/// Arm radii relative to the shoulder width.
const UPPER_ARM_R: f32 = 0.16;
const FOREARM_R: f32 = 0.12;

/// Derives the regions from the body frame, the person mask and the photo's
/// colours (skin from the face, hair from the top of the head).
pub fn derive_regions(person: &PersonInput, body: &BodyFrame) -> Regions {
    let (w, h) = person.photo.dimensions();
    let mask = Plane::from_gray(&person.mask);
    // Colours are only needed on the person (skin, hair, old clothing);
    // skipping the background saves most of the CIEDE2000 work.
    let lab: Vec<Lab> = person
        .photo
        .as_raw()
        .par_chunks_exact(4)
        .zip(mask.data.par_iter())
        .map(|(p, m)| {
            if *m > 0.02 {
                srgb_to_lab([p[0], p[1], p[2]])
            } else {
                Lab::new(0.0, 0.0, 0.0)
            }
        })
        .collect();

    // Skin: median colour of the inner face, where there is no hair.
    let mut face_samples: Vec<Lab> = Vec::new();
    let mut top_samples: Vec<Lab> = Vec::new();
    let c = body.face_centre;
    let [rx, ry] = body.face_r;
    let (x0, x1) = (
        (c.x - 2.0 * rx).max(0.0) as u32,
        ((c.x + 2.0 * rx).max(0.0) as u32).min(w),
    );
    let (y0, y1) = (
        (c.y - 2.5 * ry).max(0.0) as u32,
        ((c.y + ry).max(0.0) as u32).min(h),
    );
    for y in y0..y1 {
        for x in x0..x1 {
            let q = P2::new(x as f32 + 0.5, y as f32 + 0.5);
            let i = (y * w + x) as usize;
            if mask.data[i] < 0.5 {
                continue;
            }
            let d = q.minus(c);
            let (u, v) = (d.dot(body.across) / rx, d.dot(body.down) / ry);
            if u * u + v * v < 0.3 {
                face_samples.push(lab[i]);
            }
            // A band above the forehead: hair (or a hat).
            if u.abs() < 0.8 && v < -1.05 && v > -1.6 {
                top_samples.push(lab[i]);
            }
        }
    }
    let skin = median_lab(&face_samples);
    let hair = median_lab(&top_samples);
    // Shading changes lightness most, so skin-likeness weighs hue/chroma.
    let tolerant = garmax_vision::color::DeltaEWeights {
        k_l: 3.0,
        k_c: 1.0,
        k_h: 1.0,
    };
    // Skin-likeness on a half-resolution grid (it is blurred over a few
    // pixels before use anyway), which quarters the CIEDE2000 work.
    let (hw, hh) = (w.div_ceil(2), h.div_ceil(2));
    let half: Vec<f32> = (0..(hw * hh) as usize)
        .into_par_iter()
        .map(|k| {
            let (x, y) = (
                ((k as u32) % hw * 2).min(w - 1),
                ((k as u32) / hw * 2).min(h - 1),
            );
            let i = (y * w + x) as usize;
            match skin {
                Some(s) if mask.data[i] > 0.02 => {
                    1.0 - crate::geometry::smoothstep(
                        8.0,
                        14.0,
                        delta_e2000_weighted(lab[i], s, tolerant),
                    )
                }
                _ => 0.0,
            }
        })
        .collect();
    let skin_like = Plane {
        w,
        h,
        data: (0..(w * h) as usize)
            .into_par_iter()
            .map(|i| {
                let (x, y) = (i as u32 % w, i as u32 / w);
                half[((y / 2) * hw + x / 2) as usize]
            })
            .collect(),
    };

    let sh = body.shoulders();
    let el = body.elbows();
    let wr = body.wrists();
    let torso_poly = torso_polygon(body);
    let (r1, r2) = (UPPER_ARM_R * body.sw, FOREARM_R * body.sw);
    let skin_like_raw = &skin_like.data;
    // Per pixel: face, hand, arm, torso coverage, lower arm.
    let per_pixel: Vec<[f32; 5]> = (0..(w as usize * h as usize))
        .into_par_iter()
        .map(|i| {
            // A soft mask edge still counts fully as person for the regions
            // that must be protected.
            let m = (mask.data[i] * 2.0).min(1.0);
            if m < 0.04 {
                return [0.0; 5];
            }
            let q = P2::new((i % w as usize) as f32 + 0.5, (i / w as usize) as f32 + 0.5);
            // The lower face ellipse reaches past the chin on short necks:
            // there only skin counts as face (a collar under the chin is
            // clothing).
            let d = q.minus(body.face_centre);
            let lower = d.dot(body.down) > 0.45 * body.face_r[1];
            let face = if body.in_face(q, 1.0) < 1.0 && (!lower || skin_like_raw[i] > 0.35) {
                m
            } else {
                0.0
            };
            let hand = if body.hands.iter().any(|&(hc, hr)| q.dist(hc) < hr) {
                m
            } else {
                0.0
            };
            let mut lower = 0.0;
            let arm = (0..2).find(|&s| {
                let (d1, t1) = segment_distance(q, sh[s], el[s]);
                let (d2, _) = segment_distance(q, el[s], wr[s]);
                // The upper arm starts a little below the shoulder joint:
                // the shoulder cap belongs to the torso/garment.
                let upper = d1 < r1 && t1 > 0.15;
                let fore = d2 < r2;
                // Below the middle of the upper arm, where a short sleeve
                // ends, the arm may pass in front of the torso. The capsule's
                // rim is feathered so the arm's outline over the garment is
                // soft rather than a ruled line.
                let rim = |d: f32, r: f32| 1.0 - crate::geometry::smoothstep(0.7, 1.0, d / r);
                if fore {
                    lower = f32::max(lower, rim(d2, r2));
                }
                if upper && t1 > 0.55 {
                    let fade = crate::geometry::smoothstep(0.55, 0.7, t1);
                    lower = f32::max(lower, rim(d1, r1) * fade);
                }
                upper || fore
            });
            let torso = if point_in_polygon(q, &torso_poly) {
                m
            } else {
                0.0
            };
            [
                face,
                hand,
                arm.map_or(0.0, |s| m * (1.0 + s as f32)),
                torso,
                lower * m,
            ]
        })
        .collect();
    let plane = |k: usize| Plane {
        w,
        h,
        data: per_pixel.iter().map(|v| v[k]).collect(),
    };
    // Pixel-level skin tests are noisy (pores, highlights): decide on a
    // small neighbourhood so replacements are whole patches, not speckles.
    let skin_like = crate::plane::box_blur(&skin_like, ((0.015 * body.sw).round() as u32).max(1));
    let mut face_hair = plane(0);
    let hands = plane(1);
    let arms = plane(2).map(|v| v.min(1.0));
    let lower_arms = plane(4);
    // 0 = no arm, 1 = image-left arm, 2 = image-right arm.
    let arm_side: Vec<u8> = per_pixel
        .iter()
        .map(|v| {
            if v[2] > 1.0 {
                2
            } else if v[2] > 0.0 {
                1
            } else {
                0
            }
        })
        .collect();
    let torso = plane(3);
    // Long hair over the shoulders: grow from the hair band through
    // connected hair-coloured pixels, no lower than mid-torso.
    if let Some(hc) = hair {
        // Hair close to the skin tone (light brown, blond) is not flooded:
        // its colour also matches tanned skin and orange or beige clothing
        // (the astronaut's suit), and protecting clothing as hair is worse
        // than covering a few light strands. The flood never enters
        // skin-like pixels either.
        let far_from_skin = skin
            .map(|s| delta_e2000_weighted(hc, s, tolerant) > 12.0)
            .unwrap_or(true);
        if far_from_skin {
            grow_hair(&mut face_hair, &mask, &lab, &skin_like.data, hc, body, w, h);
        }
    }
    Regions {
        person: mask,
        face_hair,
        hands,
        arms,
        lower_arms,
        arm_side,
        torso,
        skin,
        skin_like,
        source: "derived from landmarks, person mask and colours",
        arms_exact: false,
    }
}

/// Replaces the derived face/hair, hands and arms with a supplied
/// segmentation: a fitted body's where it is reliable, a drawn body's
/// (`exact`) throughout.
pub fn apply_supplied(regions: &mut Regions, supplied: &ClothingRegions, body: &BodyFrame) {
    let ok = |g: &GrayImage| g.width() == regions.person.w && g.height() == regions.person.h;
    if !(ok(&supplied.face_hair)
        && ok(&supplied.hands)
        && ok(&supplied.arms)
        && ok(&supplied.upper_garment)
        && ok(&supplied.arms_front))
    {
        return;
    }
    // A body model's head class includes the neck, which a collar
    // covers: keep only what lies above the chin.
    let mut face_hair = Plane::from_gray(&supplied.face_hair);
    let w = face_hair.w;
    for (i, v) in face_hair.data.iter_mut().enumerate() {
        let q = P2::new((i as u32 % w) as f32 + 0.5, (i as u32 / w) as f32 + 0.5);
        let below = q.minus(body.face_centre).dot(body.down);
        let skin = regions.skin_like.data[i];
        if below > body.face_r[1] || (below > 0.45 * body.face_r[1] && skin < 0.35) {
            *v = 0.0;
        }
    }
    regions.face_hair = face_hair.zip_with(&regions.face_hair, f32::max);
    regions.torso = Plane::from_gray(&supplied.upper_garment);
    if supplied.exact {
        // A drawn body's hands are where it drew them, and its part map
        // is the depth order: arms and hands where they are the
        // front-most surface (crossed over the chest, in front of a hip).
        regions.hands = Plane::from_gray(&supplied.hands);
        regions.lower_arms = Plane::from_gray(&supplied.arms_front);
        regions.arms_exact = true;
        regions.source = "the drawn body's own segmentation and part map";
        return;
    }
    // A fitted body's hand can land on a badge or pocket when the fit is
    // off; trust it only near the hands MediaPipe saw.
    let near = crate::plane::grow(&regions.hands, ((0.1 * body.sw).round() as u32).max(1));
    let supplied_hands = Plane::from_gray(&supplied.hands).zip_with(&near, |s, n| s * n);
    regions.hands = supplied_hands.zip_with(&regions.hands, f32::max);
    // The fitted body's arms follow the mesh, which bulky or loose
    // clothing and hidden arms make unreliable for deciding what to
    // repaint as skin: keep the landmark capsules for the arms.
    regions.source = "supplied segmentation for torso and face/hair (hands only near the landmark hands); arms and hair strands from landmarks and colours";
}

#[allow(clippy::too_many_arguments)]
fn grow_hair(
    face_hair: &mut Plane,
    mask: &Plane,
    lab: &[Lab],
    skin_like: &[f32],
    hair: Lab,
    body: &BodyFrame,
    w: u32,
    h: u32,
) {
    // Hair colours are low-chroma, where CIE76 with lightness relaxed tracks
    // CIEDE2000 closely, at a fraction of the cost (the flood tests every
    // neighbour of every hair pixel).
    let close = |l: Lab| {
        let (dl, da, db) = ((l.l - hair.l) / 1.3, l.a - hair.a, l.b - hair.b);
        dl * dl + da * da + db * db < 100.0
    };
    let limit_v = body.torso_len * 0.6;
    let sh_mid = body.shoulder_l.mid(body.shoulder_r);
    let mut seen = vec![false; (w * h) as usize];
    let mut stack: Vec<u32> = Vec::new();
    let [rx, ry] = body.face_r;
    // Seeds: the forehead band and the sides of the face.
    for (i, m) in mask.data.iter().enumerate() {
        if *m < 0.5 {
            continue;
        }
        let q = P2::new((i as u32 % w) as f32 + 0.5, (i as u32 / w) as f32 + 0.5);
        let d = q.minus(body.face_centre);
        let (u, v) = (d.dot(body.across) / rx, d.dot(body.down) / ry);
        let band = (u.abs() < 0.8 && v < -1.0 && v > -1.6)
            || (u.abs() > 1.0 && u.abs() < 1.6 && v.abs() < 0.6);
        if band && close(lab[i]) && skin_like[i] < 0.5 {
            seen[i] = true;
            stack.push(i as u32);
        }
    }
    let mut count = 0usize;
    while let Some(i) = stack.pop() {
        let (x, y) = (i % w, i / w);
        face_hair.data[i as usize] = face_hair.data[i as usize].max(mask.data[i as usize]);
        count += 1;
        for (dx, dy) in [(-1i32, 0i32), (1, 0), (0, -1), (0, 1)] {
            let (nx, ny) = (x as i32 + dx, y as i32 + dy);
            if nx < 0 || ny < 0 || nx >= w as i32 || ny >= h as i32 {
                continue;
            }
            let j = (ny as u32 * w + nx as u32) as usize;
            if seen[j] || mask.data[j] < 0.5 {
                continue;
            }
            let q = P2::new(nx as f32 + 0.5, ny as f32 + 0.5);
            if q.minus(sh_mid).dot(body.down) > limit_v {
                continue;
            }
            seen[j] = true;
            if close(lab[j]) && skin_like[j] < 0.5 {
                stack.push(j as u32);
            }
        }
    }
    let _ = count;
}

fn median_lab(samples: &[Lab]) -> Option<Lab> {
    if samples.len() < 20 {
        return None;
    }
    let med = |f: fn(&Lab) -> f32| {
        let mut v: Vec<f32> = samples.iter().map(f).collect();
        v.sort_by(f32::total_cmp);
        v[v.len() / 2]
    };
    Some(Lab::new(med(|l| l.l), med(|l| l.a), med(|l| l.b)))
}

/// The torso outline: shoulders (a little outside the joints) down to the
/// hips (outside the hip joints), as a convex polygon.
pub fn torso_polygon(body: &BodyFrame) -> Vec<P2> {
    let a = body.across;
    let up = body.down.scale(-1.0);
    let sw = body.sw;
    let hip_w = body.hip_l.dist(body.hip_r).max(0.5 * sw);
    vec![
        body.shoulder_l
            .minus(a.scale(0.1 * sw))
            .plus(up.scale(0.08 * sw)),
        body.shoulder_r
            .plus(a.scale(0.1 * sw))
            .plus(up.scale(0.08 * sw)),
        body.shoulder_r
            .plus(a.scale(0.04 * sw))
            .plus(body.down.scale(0.45 * sw)),
        body.hip_r.plus(a.scale(0.3 * hip_w)),
        body.hip_l.minus(a.scale(0.3 * hip_w)),
        body.shoulder_l
            .minus(a.scale(0.04 * sw))
            .plus(body.down.scale(0.45 * sw)),
    ]
}

pub fn point_in_polygon(p: P2, poly: &[P2]) -> bool {
    let mut inside = false;
    let n = poly.len();
    let mut j = n.wrapping_sub(1);
    for i in 0..n {
        let (a, b) = (poly[i], poly[j]);
        if (a.y > p.y) != (b.y > p.y) && p.x < (b.x - a.x) * (p.y - a.y) / (b.y - a.y) + a.x {
            inside = !inside;
        }
        j = i;
    }
    inside
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use garmax_core::pose::Landmark;

    pub(crate) fn upright(w: u32, h: u32) -> PoseLandmarks {
        let mut image = vec![
            Landmark {
                x: w as f32 / 2.0,
                y: h as f32 * 0.15,
                z: 0.0,
                visibility: 0.9,
                presence: 0.9
            };
            33
        ];
        let set = |image: &mut Vec<Landmark>, i: usize, x: f32, y: f32| {
            image[i].x = x * w as f32;
            image[i].y = y * h as f32;
        };
        // Facing the camera: the person's left on the image's right.
        set(&mut image, joint::LEFT_SHOULDER, 0.65, 0.3);
        set(&mut image, joint::RIGHT_SHOULDER, 0.35, 0.3);
        set(&mut image, joint::LEFT_ELBOW, 0.7, 0.5);
        set(&mut image, joint::RIGHT_ELBOW, 0.3, 0.5);
        set(&mut image, joint::LEFT_WRIST, 0.72, 0.68);
        set(&mut image, joint::RIGHT_WRIST, 0.28, 0.68);
        set(&mut image, joint::LEFT_HIP, 0.6, 0.72);
        set(&mut image, joint::RIGHT_HIP, 0.4, 0.72);
        set(&mut image, joint::LEFT_EAR, 0.56, 0.16);
        set(&mut image, joint::RIGHT_EAR, 0.44, 0.16);
        PoseLandmarks {
            image_size: [w, h],
            image,
            world: vec![[0.0; 3]; 33],
        }
    }

    #[test]
    fn front_view_frame_puts_the_persons_right_on_the_image_left() {
        let f = BodyFrame::from_landmarks(&upright(400, 600)).unwrap();
        assert!(f.shoulder_l.x < f.shoulder_r.x);
        assert!((f.sw - 120.0).abs() < 1e-3);
        assert!(f.down.y > 0.99);
        assert!(f.warnings.is_empty(), "{:?}", f.warnings);
    }

    #[test]
    fn back_view_and_missing_shoulders_are_clear_errors() {
        let mut lm = upright(400, 600);
        lm.image.swap(joint::LEFT_SHOULDER, joint::RIGHT_SHOULDER);
        for i in 0..=10 {
            lm.image[i].visibility = 0.05;
        }
        let err = BodyFrame::from_landmarks(&lm).unwrap_err();
        assert_eq!(
            garmax_core::Coded::code(&err),
            garmax_core::ErrorCode::GenerationFailed
        );
        let mut lm = upright(400, 600);
        lm.image[joint::LEFT_SHOULDER].visibility = 0.0;
        lm.image[joint::RIGHT_SHOULDER].visibility = 0.0;
        lm.image[joint::LEFT_SHOULDER].presence = 0.0;
        lm.image[joint::RIGHT_SHOULDER].presence = 0.0;
        let err = BodyFrame::from_landmarks(&lm).unwrap_err();
        assert_eq!(
            garmax_core::Coded::code(&err),
            garmax_core::ErrorCode::NoPersonFound
        );
        let short = PoseLandmarks {
            image_size: [10, 10],
            image: vec![],
            world: vec![],
        };
        assert!(BodyFrame::from_landmarks(&short).is_err());
    }

    #[test]
    fn profile_is_refused_and_three_quarter_is_best_effort() {
        let mut lm = upright(400, 600);
        lm.image[joint::LEFT_SHOULDER].x = 215.0;
        lm.image[joint::RIGHT_SHOULDER].x = 185.0;
        let err = BodyFrame::from_landmarks(&lm).unwrap_err();
        assert!(err.to_string().contains("sideways"));
        lm.image[joint::LEFT_SHOULDER].x = 252.5;
        lm.image[joint::RIGHT_SHOULDER].x = 147.5;
        let f = BodyFrame::from_landmarks(&lm).unwrap();
        assert!(
            f.warnings.iter().any(|w| w.contains("sideways")),
            "{:?}",
            f.warnings
        );
    }

    #[test]
    fn polygon_test() {
        let sq = [
            P2::new(0.0, 0.0),
            P2::new(10.0, 0.0),
            P2::new(10.0, 10.0),
            P2::new(0.0, 10.0),
        ];
        assert!(point_in_polygon(P2::new(5.0, 5.0), &sq));
        assert!(!point_in_polygon(P2::new(15.0, 5.0), &sq));
    }
}

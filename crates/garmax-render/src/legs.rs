//! The lower body in image space: waist line, hips, knees and ankles per
//! image side (BlazePose 23–28), and the leg widths measured on the person
//! mask — what skirts, shorts, pants and dresses are placed on.

use garmax_core::pose::{PoseLandmarks, joint};
use serde::Serialize;

use crate::error::RenderError;
use crate::geometry::{P2, segment_distance};
use crate::person::BodyFrame;
use crate::plane::Plane;

/// Visibility below which a hip is not trusted as seen.
const HIP_SEEN: f32 = 0.5;

/// How much of the thigh (hip → knee) the photo must show below the hip
/// joints for a lower-body garment to be placed: with 15 % the waistband,
/// the hips and the top of the legs are in view (the hip-up fixture
/// `s6_olive` shows 24 %); a photo that ends at the hips shows no legs to
/// dress.
pub const MIN_THIGH_IN_FRAME: f32 = 0.15;

/// The legs as the lower-body placement sees them. Left/right are image
/// sides, as in [`BodyFrame`].
#[derive(Debug, Clone, Serialize)]
pub struct LegFrame {
    pub hip: [P2; 2],
    pub knee: [P2; 2],
    pub ankle: [P2; 2],
    /// Where a mid-rise waistband sits: above the hip joints by a fifth of
    /// the torso.
    pub waist: [P2; 2],
    /// Half-width of each thigh at the crotch and of each leg at the knee
    /// and ankle, from the person mask (clamped to body proportions).
    pub thigh_r: [f32; 2],
    pub knee_r: [f32; 2],
    pub ankle_r: [f32; 2],
    /// Crotch point: between the hips, a quarter of the thigh below them.
    pub crotch: P2,
    /// Downward unit vector of the torso (from the body frame).
    pub down: P2,
    /// Which of the leg landmarks were seen (else they were extrapolated).
    pub knee_seen: [bool; 2],
    pub warnings: Vec<String>,
}

impl LegFrame {
    /// Reads the legs from the landmarks and measures them on `mask`.
    /// Refused (`PER_010`) when the hips are not seen or out of frame, or
    /// when the photo ends before a quarter of the thigh is in view.
    pub fn from_landmarks(
        lm: &PoseLandmarks,
        body: &BodyFrame,
        mask: &Plane,
    ) -> Result<LegFrame, RenderError> {
        let [w, h] = lm.image_size;
        let p = |i: usize| P2::new(lm.image[i].x, lm.image[i].y);
        let vis = |i: usize| lm.image[i].visibility;
        let in_frame =
            |q: P2| q.is_finite() && q.x >= 0.0 && q.y >= 0.0 && q.x < w as f32 && q.y < h as f32;
        // Image-left is the person's right for a front view, as in the body
        // frame: match the body's image-left hip.
        let pairs = [
            [joint::RIGHT_HIP, joint::LEFT_HIP],
            [joint::RIGHT_KNEE, joint::LEFT_KNEE],
            [joint::RIGHT_ANKLE, joint::LEFT_ANKLE],
        ];
        let swap = p(joint::LEFT_HIP).dist(body.hip_l) < p(joint::RIGHT_HIP).dist(body.hip_l);
        let side = |pair: [usize; 2], s: usize| if swap { pair[1 - s] } else { pair[s] };
        let hips = [side(pairs[0], 0), side(pairs[0], 1)];
        for &i in &hips {
            if !in_frame(p(i)) || vis(i) < HIP_SEEN {
                return Err(RenderError::NoPerson(
                    "the hips are not in the photo; a lower-body garment or dress needs a photo that shows the hips and thighs".into(),
                ));
            }
        }
        let hip = [p(hips[0]), p(hips[1])];
        let hip_mid = hip[0].mid(hip[1]);
        let down = body.down;
        let torso = body.torso_len.max(body.sw);
        let mut warnings = Vec::new();
        // Knees and ankles: the landmark where it is plausible (BlazePose
        // extrapolates joints below the frame), else a straight leg of
        // average proportions below the hip.
        let mut knee = [P2::default(); 2];
        let mut ankle = [P2::default(); 2];
        let mut knee_seen = [false; 2];
        for s in 0..2 {
            let k = p(side(pairs[1], s));
            let thigh = k.minus(hip[s]);
            let ok = k.is_finite()
                && thigh.len() > 0.5 * torso
                && thigh.len() < 1.6 * torso
                && thigh.dot(down) > 0.0;
            knee[s] = if ok {
                k
            } else {
                warnings.push("a knee was not found; a straight leg is assumed".into());
                hip[s].plus(down.scale(0.9 * torso))
            };
            knee_seen[s] = ok && vis(side(pairs[1], s)) > 0.35;
            let a = p(side(pairs[2], s));
            let shin = a.minus(knee[s]);
            let ok = a.is_finite() && shin.len() > 0.5 * torso && shin.len() < 1.8 * torso;
            ankle[s] = if ok {
                a
            } else {
                knee[s].plus(knee[s].minus(hip[s]).unit_or(down).scale(0.95 * torso))
            };
        }
        let thigh_len = 0.5 * (knee[0].dist(hip[0]) + knee[1].dist(hip[1]));
        let frame_bottom = h as f32;
        let shown = (frame_bottom - hip_mid.y) / (thigh_len * down.y.max(0.3));
        if shown < MIN_THIGH_IN_FRAME {
            return Err(RenderError::NoPerson(format!(
                "the photo ends at the hips ({:.0} % of the thigh in view); a lower-body garment needs the legs",
                (shown.max(0.0) * 100.0)
            )));
        }
        let across = hip[1].minus(hip[0]).unit_or(body.across);
        let hip_w = hip[0].dist(hip[1]).max(0.3 * body.sw);
        let waist_c = hip_mid.minus(down.scale(0.2 * body.torso_len));
        // The body's half-width at the waist from the mask, clamped: arms
        // hanging at the sides join the silhouette there.
        let waist_half = mask_half_width(mask, waist_c, across, hip_w).clamp(0.6 * hip_w, hip_w);
        let waist = [
            waist_c.minus(across.scale(waist_half)),
            waist_c.plus(across.scale(waist_half)),
        ];
        let crotch = hip_mid.plus(down.scale(0.25 * thigh_len));
        // Leg half-widths: outward from the leg axis to the mask's edge,
        // inward at most to the midline between the legs.
        let mut thigh_r = [0.0; 2];
        let mut knee_r = [0.0; 2];
        let mut ankle_r = [0.0; 2];
        for s in 0..2 {
            let out = if s == 0 { across.scale(-1.0) } else { across };
            let at_crotch = hip[s].lerp(knee[s], 0.25);
            let measured = leg_half_width(mask, at_crotch, out, hip_w);
            thigh_r[s] = measured
                .unwrap_or(0.45 * hip_w)
                .clamp(0.3 * hip_w, 0.6 * hip_w);
            knee_r[s] = leg_half_width(mask, knee[s], out, hip_w)
                .unwrap_or(0.6 * thigh_r[s])
                .clamp(0.45 * thigh_r[s], 0.85 * thigh_r[s]);
            ankle_r[s] = 0.75 * knee_r[s];
        }
        Ok(LegFrame {
            hip,
            knee,
            ankle,
            waist,
            thigh_r,
            knee_r,
            ankle_r,
            crotch,
            down,
            knee_seen,
            warnings,
        })
    }

    /// Distance from `q` to leg `s`'s axis (hip → knee → ankle) and the
    /// position along it (0 hip, 1 knee, 2 ankle).
    pub fn leg_axis(&self, q: P2, s: usize) -> (f32, f32) {
        let (d1, t1) = segment_distance(q, self.hip[s], self.knee[s]);
        let (d2, t2) = segment_distance(q, self.knee[s], self.ankle[s]);
        if d1 <= d2 { (d1, t1) } else { (d2, 1.0 + t2) }
    }

    /// The leg's half-width at position `t` along its axis.
    pub fn leg_radius(&self, s: usize, t: f32) -> f32 {
        if t <= 1.0 {
            self.thigh_r[s] + (self.knee_r[s] - self.thigh_r[s]) * t
        } else {
            self.knee_r[s] + (self.ankle_r[s] - self.knee_r[s]) * (t - 1.0).min(1.0)
        }
    }

    /// The point at position `t` on leg `s`'s axis.
    pub fn axis_point(&self, s: usize, t: f32) -> P2 {
        if t <= 1.0 {
            self.hip[s].lerp(self.knee[s], t)
        } else {
            self.knee[s].lerp(self.ankle[s], (t - 1.0).min(1.5))
        }
    }

    /// The unit normal of leg `s`'s axis at `t`, pointing away from the
    /// other leg.
    pub fn outward(&self, s: usize, t: f32) -> P2 {
        let (a, b) = if t <= 1.0 {
            (self.hip[s], self.knee[s])
        } else {
            (self.knee[s], self.ankle[s])
        };
        let d = b.minus(a).unit_or(self.down);
        let n = P2::new(-d.y, d.x);
        let out = self.hip[s].minus(self.hip[1 - s]);
        if n.dot(out) < 0.0 { n.scale(-1.0) } else { n }
    }

    /// The outer (or inner) edge of leg `s` at `t`, `ease` × its
    /// half-width further out.
    pub fn edge(&self, s: usize, t: f32, outer: bool, ease: f32) -> P2 {
        let r = self.leg_radius(s, t) * (1.0 + ease);
        let n = self.outward(s, t);
        self.axis_point(s, t)
            .plus(n.scale(if outer { r } else { -r }))
    }

    /// Whether `q` lies on leg `s` between positions `from` and `to`.
    pub fn on_leg(&self, q: P2, s: usize, from: f32, to: f32) -> bool {
        let (d, t) = self.leg_axis(q, s);
        t >= from && t <= to && d < self.leg_radius(s, t)
    }
}

/// Half-width of the mask across `centre` along `across`: the mean of the
/// distances to the mask's edge on both sides, searched up to `limit`.
fn mask_half_width(mask: &Plane, centre: P2, across: P2, limit: f32) -> f32 {
    let run = |dir: P2| {
        let mut d = 0.0;
        while d < 1.5 * limit {
            let q = centre.plus(dir.scale(d));
            if !inside(mask, q) {
                break;
            }
            d += 1.0;
        }
        d
    };
    0.5 * (run(across) + run(across.scale(-1.0)))
}

/// Half-width of a leg around `axis_pt`: the mask's extent outward along
/// `out` plus inward (toward the other leg), halved; `None` when the point
/// is outside the mask or the frame.
fn leg_half_width(mask: &Plane, axis_pt: P2, out: P2, hip_w: f32) -> Option<f32> {
    if !inside(mask, axis_pt) {
        return None;
    }
    let run = |dir: P2, max: f32| {
        let mut d = 0.0;
        while d < max {
            if !inside(mask, axis_pt.plus(dir.scale(d))) {
                break;
            }
            d += 1.0;
        }
        d
    };
    // Inward at most to the midline between the legs (half the hip width).
    let outward = run(out, 1.2 * hip_w);
    let inward = run(out.scale(-1.0), 0.5 * hip_w);
    Some(0.5 * (outward + inward))
}

fn inside(mask: &Plane, q: P2) -> bool {
    q.x >= 0.0
        && q.y >= 0.0
        && (q.x as u32) < mask.w
        && (q.y as u32) < mask.h
        && mask.get(q.x as u32, q.y as u32) > 0.5
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::test_scene;
    use garmax_core::{Coded, ErrorCode};

    #[test]
    fn the_synthetic_legs_are_read_and_measured() {
        let person = test_scene::person();
        let body = BodyFrame::from_landmarks(&person.landmarks).unwrap();
        let mask = Plane::from_gray(&person.mask);
        let legs = LegFrame::from_landmarks(&person.landmarks, &body, &mask).unwrap();
        // Image-left leg is the person's right (landmarks 24/26/28).
        assert!(legs.hip[0].x < legs.hip[1].x);
        assert_eq!(legs.knee[0], P2::new(96.0, 300.0));
        assert!(legs.waist[0].y < legs.hip[0].y);
        // The scene's thighs are 13 px capsules: the measured half-width
        // (clamped to at least 0.3 hip widths = 13.2 px) is about that.
        for s in 0..2 {
            assert!((legs.thigh_r[s] - 13.5).abs() < 2.5, "{:?}", legs.thigh_r);
            assert!(legs.knee_r[s] < legs.thigh_r[s]);
        }
        assert!(legs.on_leg(P2::new(96.0, 260.0), 0, 0.0, 1.0));
        assert!(
            !legs.on_leg(P2::new(120.0, 330.0), 0, 0.0, 2.0),
            "between the legs"
        );
    }

    #[test]
    fn a_photo_without_hips_or_thighs_is_refused() {
        let person = test_scene::person();
        let body = BodyFrame::from_landmarks(&person.landmarks).unwrap();
        let mask = Plane::from_gray(&person.mask);
        let mut lm = person.landmarks.clone();
        lm.image[joint::LEFT_HIP].visibility = 0.1;
        let err = LegFrame::from_landmarks(&lm, &body, &mask).unwrap_err();
        assert_eq!(err.code(), ErrorCode::NoPersonFound);
        assert!(err.to_string().contains("hips"), "{err}");
        // The frame ends just below the hips.
        let mut lm = person.landmarks.clone();
        lm.image_size = [test_scene::W, 224];
        let err = LegFrame::from_landmarks(&lm, &body, &mask).unwrap_err();
        assert!(err.to_string().contains("ends at the hips"), "{err}");
    }
}

//! The garment warp: landmark correspondences garment → body, a
//! thin-plate spline for the torso, a bend of each sleeve about the
//! shoulder joint onto the upper arm (none at the seam, growing along the
//! sleeve), applied as a forward mesh that is rasterised into
//! source-coordinate buffers.

use serde::Serialize;

use crate::garment::{BottomKind, BottomLandmarks, GarmentLandmarks, sleeve_side};
use crate::geometry::{P2, Similarity, Tps, angle_diff, smoothstep};
use crate::legs::LegFrame;
use crate::person::BodyFrame;

/// One garment → body landmark pair, reported for inspection.
#[derive(Debug, Clone, Serialize)]
pub struct Correspondence {
    pub name: &'static str,
    /// Garment pixels: of the pre-scaled texture inside the warp, of the
    /// product photo in `RenderDetail`.
    pub garment: P2,
    /// Where the garment's own shape would put it (similarity on the
    /// shoulders), in photo pixels.
    pub own_shape: P2,
    /// Where the body says it belongs.
    pub body: P2,
    /// The target used: own shape + pose guidance × (body − own shape).
    pub target: P2,
}

/// The complete garment → photo mapping.
pub struct GarmentWarp {
    pub tps: Tps,
    pub similarity: Similarity,
    pub garment: GarmentLandmarks,
    /// Per sleeve: the bend (radians) its end is turned by about
    /// [`Self::sleeve_pivot`].
    pub sleeve_rotation: [f32; 2],
    /// Per sleeve: the body's shoulder joint, in photo pixels.
    pub sleeve_pivot: [P2; 2],
    /// Per sleeve: how far its cuff's centre lies outside the
    /// shoulder–armpit seam, garment pixels (the bend grows over
    /// 60 % of this distance).
    pub sleeve_reach: [f32; 2],
    pub correspondences: Vec<Correspondence>,
}

/// Share of a sleeve's reach, from the seam, over which its bend grows from
/// none to full: a sleeve leaves the shoulder seam at the body's shoulder
/// slope and hangs along the arm from about its middle.
const BEND_SPAN: f32 = 0.6;

impl GarmentWarp {
    /// Builds the warp. `cuffs[s]` is the centre of sleeve `s`'s cuff in
    /// the garment texture. `hem` overrides the body's hem corners (a
    /// dress's hem is below the hips).
    pub fn build(
        g: &GarmentLandmarks,
        body: &BodyFrame,
        cuffs: [P2; 2],
        pose_guidance: f32,
        hem: Option<[P2; 2]>,
    ) -> Option<GarmentWarp> {
        let sw = body.sw;
        let up = body.down.scale(-1.0);
        // Shoulder seams sit outside and above the shoulder joints.
        let b_sh = [
            body.shoulder_l
                .plus(body.outward(0).scale(0.13 * sw))
                .plus(up.scale(0.07 * sw)),
            body.shoulder_r
                .plus(body.outward(1).scale(0.13 * sw))
                .plus(up.scale(0.07 * sw)),
        ];
        // Below the shoulders the garment hangs along the torso axis, which
        // a tilted head or shrug does not move.
        let level = P2::new(body.down.y, -body.down.x);
        let sim = Similarity::from_pairs(g.shoulder_left, g.shoulder_right, b_sh[0], b_sh[1])?;
        let hip_w = body.hip_l.dist(body.hip_r);
        let hip_mid = body.hip_l.mid(body.hip_r);
        let hem_half = (0.5 * hip_w + 0.25 * sw).max(0.6 * sw);
        let hem_centre = hip_mid.plus(body.down.scale(0.1 * body.torso_len));
        let b_hem = hem.unwrap_or([
            hem_centre.minus(level.scale(hem_half)),
            hem_centre.plus(level.scale(hem_half)),
        ]);
        // Armpits: a loose tee's armpit seam sits just outside the body's
        // armpit, about 40 % of a shoulder width below the shoulder joints.
        let b_ap = [
            body.shoulder_l
                .minus(level.scale(0.08 * sw))
                .plus(body.down.scale(0.42 * sw)),
            body.shoulder_r
                .plus(level.scale(0.08 * sw))
                .plus(body.down.scale(0.42 * sw)),
        ];
        let p = pose_guidance;
        let mut corr = Vec::new();
        let mut add = |name: &'static str, gp: P2, body_p: Option<P2>| {
            let own = sim.apply(gp);
            let bp = body_p.unwrap_or(own);
            let target = own.plus(bp.minus(own).scale(p));
            corr.push(Correspondence {
                name,
                garment: gp,
                own_shape: own,
                body: bp,
                target,
            });
        };
        add("shoulder_left", g.shoulder_left, Some(b_sh[0]));
        add("shoulder_right", g.shoulder_right, Some(b_sh[1]));
        add("neck_left", g.neck_left, None);
        add("neck_right", g.neck_right, None);
        add("collar_centre", g.collar_centre, None);
        add("armpit_left", g.armpit_left, Some(b_ap[0]));
        add("armpit_right", g.armpit_right, Some(b_ap[1]));
        add("hem_left", g.hem_left, Some(b_hem[0]));
        add("hem_right", g.hem_right, Some(b_hem[1]));
        let g_hem_mid = g.hem_left.mid(g.hem_right);
        add("hem_centre", g_hem_mid, Some(b_hem[0].mid(b_hem[1])));
        // Mid-flank points keep the sides straight between armpit and hem.
        add(
            "flank_left",
            g.armpit_left.mid(g.hem_left),
            Some(b_ap[0].mid(b_hem[0])),
        );
        add(
            "flank_right",
            g.armpit_right.mid(g.hem_right),
            Some(b_ap[1].mid(b_hem[1])),
        );
        let src: Vec<P2> = corr.iter().map(|c| c.garment).collect();
        let dst: Vec<P2> = corr.iter().map(|c| c.target).collect();
        let tps = Tps::fit(&src, &dst, 1e-3)?;

        let (sleeve_rotation, sleeve_reach) = sleeve_bends(g, body, &tps, cuffs, p);
        Some(GarmentWarp {
            tps,
            similarity: sim,
            garment: *g,
            sleeve_rotation,
            sleeve_pivot: body.shoulders(),
            sleeve_reach,
            correspondences: corr,
        })
    }

    /// Which part a garment texel belongs to: `None` = torso, `Some(s)` =
    /// sleeve `s`, plus the share of the sleeve's bend it takes.
    pub fn part(&self, q: P2) -> (Option<usize>, f32) {
        match self.garment.sleeve_of(q) {
            Some((s, d)) => (
                Some(s),
                smoothstep(0.0, BEND_SPAN * self.sleeve_reach[s].max(1.0), d),
            ),
            None => (None, 0.0),
        }
    }

    /// Forward map of a garment texel into the photo: the spline, and for
    /// a sleeve texel its share of the sleeve's bend about the shoulder
    /// joint. Turning by a growing angle (rather than blending two rigid
    /// motions) keeps the sleeve's width along the bend.
    pub fn map(&self, q: P2) -> P2 {
        let base = self.tps.apply(q);
        match self.part(q) {
            (Some(s), w) if w > 0.0 => {
                let pivot = self.sleeve_pivot[s];
                pivot.plus(base.minus(pivot).rotate(self.sleeve_rotation[s] * w))
            }
            _ => base,
        }
    }
}

/// Per sleeve, the bend that carries its cuff from where the torso's
/// spline puts it (near the flat-lay angle) onto the upper arm, and the
/// sleeve's reach outside its seam. The bend turns about the body's
/// shoulder joint by the angle that puts the cuff's centre on the line
/// shoulder → elbow, so the sleeve is centred on the arm rather than hung
/// from the seam outside it; `guidance` scales it (the retry knob), an
/// unseen arm keeps the flat angle.
fn sleeve_bends(
    g: &GarmentLandmarks,
    body: &BodyFrame,
    tps: &Tps,
    cuffs: [P2; 2],
    guidance: f32,
) -> ([f32; 2], [f32; 2]) {
    let mut rotation = [0.0f32; 2];
    let mut reach = [1.0f32; 2];
    let (joints, elbows) = (body.shoulders(), body.elbows());
    for s in 0..2 {
        let end = cuffs[s];
        reach[s] = sleeve_side(end, g.shoulders()[s], g.armpits()[s], s).max(1.0);
        if !body.arm_seen[s] {
            continue;
        }
        let flat = tps.apply(end).minus(joints[s]);
        let arm = elbows[s].minus(joints[s]);
        // Turning a sleeve past the torso would fold it inside out.
        rotation[s] = (angle_diff(flat.angle(), arm.angle()) * guidance.min(1.0)).clamp(-2.0, 2.0);
    }
    (rotation, reach)
}

/// A garment → photo mapping a mesh can be rasterised with.
pub trait MeshWarp {
    /// Forward map of a garment texel into the photo.
    fn map(&self, q: P2) -> P2;
    /// Whether the texel belongs to a sleeve (drawn into the sleeve layer).
    fn is_sleeve(&self, q: P2) -> bool;
}

impl MeshWarp for GarmentWarp {
    fn map(&self, q: P2) -> P2 {
        GarmentWarp::map(self, q)
    }
    fn is_sleeve(&self, q: P2) -> bool {
        self.part(q).0.is_some()
    }
}

/// Per-pixel source coordinates (garment texture pixels) of one layer;
/// NaN where the layer does not reach.
pub struct UvBuffer {
    pub w: u32,
    pub h: u32,
    pub u: Vec<f32>,
    pub v: Vec<f32>,
}

impl UvBuffer {
    pub fn new(w: u32, h: u32) -> UvBuffer {
        let n = (w as usize) * (h as usize);
        UvBuffer {
            w,
            h,
            u: vec![f32::NAN; n],
            v: vec![f32::NAN; n],
        }
    }

    /// Rasterises one triangle: output corners `p`, source corners `q`.
    /// Pixel centres inside (with a small epsilon so shared edges leave no
    /// cracks) get the barycentric interpolation of `q`.
    pub fn triangle(&mut self, p: [P2; 3], q: [P2; 3]) {
        let area = p[1].minus(p[0]).cross(p[2].minus(p[0]));
        if area.abs() < 1e-6 || !p.iter().all(|x| x.is_finite()) {
            return;
        }
        let minx = p
            .iter()
            .map(|a| a.x)
            .fold(f32::MAX, f32::min)
            .floor()
            .max(0.0) as i64;
        let maxx = p
            .iter()
            .map(|a| a.x)
            .fold(f32::MIN, f32::max)
            .ceil()
            .min(self.w as f32 - 1.0) as i64;
        let miny = p
            .iter()
            .map(|a| a.y)
            .fold(f32::MAX, f32::min)
            .floor()
            .max(0.0) as i64;
        let maxy = p
            .iter()
            .map(|a| a.y)
            .fold(f32::MIN, f32::max)
            .ceil()
            .min(self.h as f32 - 1.0) as i64;
        let eps = -1e-4 * area.abs();
        for y in miny..=maxy {
            for x in minx..=maxx {
                let c = P2::new(x as f32 + 0.5, y as f32 + 0.5);
                let w0 = p[2].minus(p[1]).cross(c.minus(p[1])) / area * area.signum();
                let w1 = p[0].minus(p[2]).cross(c.minus(p[2])) / area * area.signum();
                let w2 = p[1].minus(p[0]).cross(c.minus(p[0])) / area * area.signum();
                if w0 * area.abs() < eps || w1 * area.abs() < eps || w2 * area.abs() < eps {
                    continue;
                }
                let s = w0 + w1 + w2;
                let (b0, b1, b2) = (w0 / s, w1 / s, w2 / s);
                let i = (y as usize) * (self.w as usize) + x as usize;
                self.u[i] = b0 * q[0].x + b1 * q[1].x + b2 * q[2].x;
                self.v[i] = b0 * q[0].y + b1 * q[1].y + b2 * q[2].y;
            }
        }
    }
}

/// Rasterises the garment's bounding box `[x0, y0, x1, y1]` (texture
/// pixels) as a mesh of `cells` cells along its longer side into a torso and
/// a sleeve buffer. `occupied(q)` says whether a texel region around `q`
/// holds any garment (empty cells are skipped).
pub fn rasterise(
    warp: &impl MeshWarp,
    bbox: [f32; 4],
    cells: u32,
    out_w: u32,
    out_h: u32,
    occupied: impl Fn(P2, P2) -> bool,
) -> (UvBuffer, UvBuffer) {
    let [x0, y0, x1, y1] = bbox;
    let (bw, bh) = ((x1 - x0).max(1.0), (y1 - y0).max(1.0));
    let step = bw.max(bh) / cells.max(4) as f32;
    let nx = (bw / step).ceil() as usize + 1;
    let ny = (bh / step).ceil() as usize + 1;
    let src = |i: usize, j: usize| P2::new(x0 + i as f32 * step, y0 + j as f32 * step);
    let mut dst = vec![P2::default(); nx * ny];
    for j in 0..ny {
        for i in 0..nx {
            dst[j * nx + i] = warp.map(src(i, j));
        }
    }
    let mut torso = UvBuffer::new(out_w, out_h);
    let mut sleeves = UvBuffer::new(out_w, out_h);
    for j in 0..ny - 1 {
        for i in 0..nx - 1 {
            let (a, b, c, d) = (src(i, j), src(i + 1, j), src(i, j + 1), src(i + 1, j + 1));
            if !occupied(a, d) {
                continue;
            }
            let (pa, pb, pc, pd) = (
                dst[j * nx + i],
                dst[j * nx + i + 1],
                dst[(j + 1) * nx + i],
                dst[(j + 1) * nx + i + 1],
            );
            let buf = if warp.is_sleeve(a.mid(d)) {
                &mut sleeves
            } else {
                &mut torso
            };
            buf.triangle([pa, pb, pd], [a, b, d]);
            buf.triangle([pa, pd, pc], [a, d, c]);
        }
    }
    (torso, sleeves)
}

/// The warp of a skirt, shorts or pants: correspondences from the
/// waistband, hips, knees and hems of the garment to the waist line and
/// the legs ([`LegFrame`]), one thin-plate spline (no sleeves).
pub struct BottomWarp {
    pub tps: Tps,
    pub correspondences: Vec<Correspondence>,
    /// Where the hem of each leg falls along its axis (0 hip, 1 knee, 2
    /// ankle); a skirt's hem is measured on both legs alike.
    pub hem_t: [f32; 2],
    /// The body-side outline of the garment (waist, hips, hem corners), for
    /// the skirt's clip across the gap between the legs.
    pub outline: Vec<P2>,
}

/// Fabric stands off the leg by this fraction of its half-width.
const LEG_EASE: f32 = 0.12;

impl BottomWarp {
    pub fn build(g: &BottomLandmarks, legs: &LegFrame, pose_guidance: f32) -> Option<BottomWarp> {
        let sim =
            Similarity::from_pairs(g.waist_left, g.waist_right, legs.waist[0], legs.waist[1])?;
        let down = legs.down;
        let waist_mid = legs.waist[0].mid(legs.waist[1]);
        let g_waist_mid = g.waist_left.mid(g.waist_right);
        let g_hem_mid = g.hem_left_outer.mid(g.hem_right_outer);
        let g_len = g_hem_mid.dist(g_waist_mid);
        let p = pose_guidance;
        let mut corr = Vec::new();
        let mut add = |name: &'static str, gp: P2, bp: P2| {
            let own = sim.apply(gp);
            corr.push(Correspondence {
                name,
                garment: gp,
                own_shape: own,
                body: bp,
                target: own.plus(bp.minus(own).scale(p)),
            });
        };
        add("waist_left", g.waist_left, legs.waist[0]);
        add("waist_right", g.waist_right, legs.waist[1]);
        let edge = |s: usize, t: f32, outer: bool| legs.edge(s, t, outer, LEG_EASE);
        // Hip level: the outer edges of the thighs, a quarter down the
        // thigh (the widest part a waistband must pass over).
        let hip_t = 0.25;
        let outline;
        let hem_t;
        match &g.legs {
            Some(gl) => {
                // Two legs. Pants end at the ankles (the analysis calls a
                // garment pants when its legs are over half its height).
                // Shorts end where the garment's inseam / rise puts them on
                // the body's rise, along each leg's axis, at most just
                // below the knee.
                let g_rise = gl.crotch.minus(g_waist_mid).len().max(1.0);
                let g_inseam =
                    0.5 * (gl.hem_left_inner.dist(gl.crotch) + gl.hem_right_inner.dist(gl.crotch));
                let b_rise = legs.crotch.minus(waist_mid).dot(down).max(1.0);
                let inseam = g_inseam / g_rise * b_rise;
                let mut t_hem = [0.0f32; 2];
                for (s, t) in t_hem.iter_mut().enumerate() {
                    let thigh = legs.hip[s].dist(legs.knee[s]).max(1.0);
                    let shin = legs.knee[s].dist(legs.ankle[s]).max(1.0);
                    let from_crotch_to_knee = 0.75 * thigh;
                    *t = if inseam <= from_crotch_to_knee {
                        hip_t + inseam / thigh
                    } else {
                        1.0 + (inseam - from_crotch_to_knee) / shin
                    };
                    *t = match g.kind {
                        BottomKind::Pants => 2.0,
                        _ => t.clamp(hip_t + 0.15, 1.1),
                    };
                }
                add("crotch", gl.crotch, legs.crotch);
                let inner = [gl.hem_left_inner, gl.hem_right_inner];
                let outer = [g.hem_left_outer, g.hem_right_outer];
                let waist = [g.waist_left, g.waist_right];
                let names = [
                    [
                        "hem_left_outer",
                        "hem_left_inner",
                        "hip_left",
                        "knee_left_outer",
                        "knee_left_inner",
                    ],
                    [
                        "hem_right_outer",
                        "hem_right_inner",
                        "hip_right",
                        "knee_right_outer",
                        "knee_right_inner",
                    ],
                ];
                for s in 0..2 {
                    add(names[s][0], outer[s], edge(s, t_hem[s], true));
                    add(names[s][1], inner[s], edge(s, t_hem[s], false));
                    // The garment's outer seam at the same fraction of its
                    // length as the body's hip level.
                    let f_hip = (hip_t / t_hem[s]).clamp(0.05, 0.6);
                    add(
                        names[s][2],
                        waist[s].lerp(outer[s], f_hip),
                        edge(s, hip_t, true),
                    );
                    // Below the knee the leg bends there: pin the knee.
                    if t_hem[s] > 1.15 {
                        let f = (1.0 - hip_t) / (t_hem[s] - hip_t);
                        let f_out = (1.0 / t_hem[s]).clamp(0.1, 0.95);
                        add(
                            names[s][3],
                            waist[s].lerp(outer[s], f_out),
                            edge(s, 1.0, true),
                        );
                        add(
                            names[s][4],
                            gl.crotch.lerp(inner[s], f),
                            edge(s, 1.0, false),
                        );
                    }
                }
                outline = vec![
                    legs.waist[0],
                    legs.waist[1],
                    edge(1, hip_t, true),
                    edge(1, t_hem[1], true),
                    edge(0, t_hem[0], true),
                    edge(0, hip_t, true),
                ];
                hem_t = t_hem;
            }
            None => {
                // A skirt: its length relative to its waistband, on the
                // body's waist; it flares at least over the legs.
                let len = g_len / g.waist_width().max(1.0) * legs.waist[0].dist(legs.waist[1]);
                let hem_c = waist_mid.plus(down.scale(len));
                let g_flare = g.hem_left_outer.dist(g.hem_right_outer) / g.waist_width().max(1.0);
                let half = 0.5 * g_flare * legs.waist[0].dist(legs.waist[1]);
                let across = legs.waist[1]
                    .minus(legs.waist[0])
                    .unit_or(P2::new(1.0, 0.0));
                let thigh = 0.5 * (legs.hip[0].dist(legs.knee[0]) + legs.hip[1].dist(legs.knee[1]));
                let hem_along = (len - waist_mid.dist(legs.hip[0].mid(legs.hip[1]))).max(0.0);
                let t = (hip_t + hem_along / thigh.max(1.0)).min(2.0);
                let legs_half = edge(1, t, true).minus(edge(0, t, true)).dot(across).abs() * 0.5;
                let half = half.max(legs_half);
                let b_hem = [
                    hem_c.minus(across.scale(half)),
                    hem_c.plus(across.scale(half)),
                ];
                add("hem_left", g.hem_left_outer, b_hem[0]);
                add("hem_right", g.hem_right_outer, b_hem[1]);
                add("hem_centre", g_hem_mid, hem_c);
                let hips = [edge(0, hip_t, true), edge(1, hip_t, true)];
                let hip_f = ((legs.hip[0].mid(legs.hip[1]).minus(waist_mid).dot(down)
                    + 0.25 * thigh)
                    / len.max(1.0))
                .clamp(0.05, 0.9);
                add(
                    "hip_left",
                    g.waist_left.lerp(g.hem_left_outer, hip_f),
                    hips[0],
                );
                add(
                    "hip_right",
                    g.waist_right.lerp(g.hem_right_outer, hip_f),
                    hips[1],
                );
                outline = vec![
                    legs.waist[0],
                    legs.waist[1],
                    hips[1],
                    b_hem[1],
                    b_hem[0],
                    hips[0],
                ];
                hem_t = [t, t];
            }
        }
        let src: Vec<P2> = corr.iter().map(|c| c.garment).collect();
        let dst: Vec<P2> = corr.iter().map(|c| c.target).collect();
        let tps = Tps::fit(&src, &dst, 1e-3)?;
        Some(BottomWarp {
            tps,
            correspondences: corr,
            hem_t,
            outline,
        })
    }
}

impl MeshWarp for BottomWarp {
    fn map(&self, q: P2) -> P2 {
        self.tps.apply(q)
    }
    fn is_sleeve(&self, _q: P2) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pants_pin_the_waist_and_hang_their_hems_on_the_legs() {
        use crate::garment::GarmentFit;
        use crate::render::test_scene;
        use garmax_vision::shape::GarmentType;
        let person = test_scene::person();
        let body = BodyFrame::from_landmarks(&person.landmarks).unwrap();
        let mask = crate::plane::Plane::from_gray(&person.mask);
        let legs = LegFrame::from_landmarks(&person.landmarks, &body, &mask).unwrap();
        let GarmentFit::Bottom(g) = test_scene::garment_of(GarmentType::Pants).fit else {
            panic!("pants")
        };
        let warp = BottomWarp::build(&g, &legs, 1.0).unwrap();
        // The spline interpolates its landmarks (smoothing 1e-3).
        assert!(warp.tps.apply(g.waist_left).dist(legs.waist[0]) < 1.5);
        assert!(warp.tps.apply(g.waist_right).dist(legs.waist[1]) < 1.5);
        // Pants end low on the shin or at the ankle, on each leg.
        for s in 0..2 {
            assert!(
                warp.hem_t[s] > 1.3 && warp.hem_t[s] <= 2.0,
                "{:?}",
                warp.hem_t
            );
        }
        let hem = warp.tps.apply(g.hem_left_outer);
        let (d, t) = legs.leg_axis(hem, 0);
        assert!((t - warp.hem_t[0]).abs() < 0.1, "{t}");
        assert!(d < 1.5 * legs.leg_radius(0, t), "{d}");
        // With pose guidance 0 the pants keep their own shape (the
        // similarity on the waistband).
        let own = BottomWarp::build(&g, &legs, 0.0).unwrap();
        for c in &own.correspondences {
            assert!(c.target.dist(c.own_shape) < 1e-3, "{}", c.name);
        }
    }

    #[test]
    fn triangle_rasterisation_interpolates_and_covers_without_cracks() {
        let mut buf = UvBuffer::new(20, 20);
        let p = [P2::new(0.0, 0.0), P2::new(20.0, 0.0), P2::new(20.0, 20.0)];
        let q = [P2::new(0.0, 0.0), P2::new(40.0, 0.0), P2::new(40.0, 40.0)];
        buf.triangle(p, q);
        buf.triangle(
            [p[0], p[2], P2::new(0.0, 20.0)],
            [q[0], q[2], P2::new(0.0, 40.0)],
        );
        assert!(
            buf.u.iter().all(|u| u.is_finite()),
            "the two halves tile the square"
        );
        let i = 5 * 20 + 10;
        assert!((buf.u[i] - 21.0).abs() < 1e-3 && (buf.v[i] - 11.0).abs() < 1e-3);
    }
}

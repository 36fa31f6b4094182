//! Named poses: what a catalogue pose name ("Arms Crossed", "Contrapposto",
//! "Hands in Pockets", …) means as joint angles of the body model.
//!
//! A pose is defined the way a person would describe it — where the hands
//! go, which way the elbows point, how the hips and shoulders tilt — and
//! turned into θ for the given body shape: the torso rotations are fixed
//! angles, each limb is placed by two-bone inverse kinematics towards a
//! target measured on the shaped body (the chest's front surface, the hip
//! joints, the top of the head), so a broader or taller body still has its
//! hands on its own chest or hips. Limbs bend like hinges: the upper bone's
//! twist is chosen so the elbow (knee) flexes about its anatomical axis,
//! which keeps the skinned elbow from twisting.
//!
//! Names match case-insensitively, ignoring spaces, hyphens and
//! underscores ([`normalise_pose_name`]); an unknown name is
//! [`BodyError::UnknownPose`] (POS_006) listing the known ones.
//!
//! [`NamedPose::body_params`] gives θ in the body frame (facing +z, y up);
//! [`with_orientation`] turns it to face a camera.

use nalgebra::{Rotation3, Unit};

use crate::error::{BodyError, Result};
use crate::model::{
    BodyModel, BodyParams, BodyPart, M3, NUM_BETAS, PosedBody, SMPL_PARENTS, V3, axis_angle,
    rotation_log,
};

/// SMPL joint indices used by the pose definitions.
mod joint {
    pub const PELVIS: usize = 0;
    pub const LEFT_HIP: usize = 1;
    pub const RIGHT_HIP: usize = 2;
    pub const SPINE: [usize; 3] = [3, 6, 9];
    pub const NECK: usize = 12;
    pub const HEAD: usize = 15;
    pub const LEFT_SHOULDER: usize = 16;
    pub const RIGHT_SHOULDER: usize = 17;
    /// Limb chains: root, middle, end, tip (the tip only gives the
    /// direction of the end bone: the hand or the foot).
    pub const LEFT_ARM: [usize; 4] = [16, 18, 20, 22];
    pub const RIGHT_ARM: [usize; 4] = [17, 19, 21, 23];
    pub const LEFT_LEG: [usize; 4] = [1, 4, 7, 10];
    pub const RIGHT_LEG: [usize; 4] = [2, 5, 8, 11];
}

/// A catalogue pose: its name, the other names it answers to, and how to
/// build it.
pub struct NamedPose {
    /// The canonical name (as the consistency seed spells it).
    pub name: &'static str,
    /// Other names that mean the same pose (`config/personas.toml` uses
    /// "Front" and "Standing" for the relaxed standing pose).
    pub aliases: &'static [&'static str],
    /// One line for documentation and error messages.
    pub description: &'static str,
    torso: TorsoPose,
    limbs: fn(&BodyFrame) -> LimbGoals,
}

impl std::fmt::Debug for NamedPose {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NamedPose")
            .field("name", &self.name)
            .finish()
    }
}

/// Fixed torso rotations (axis-angle, body frame): x = the person's left,
/// y up, z forward; a positive angle about z raises the left side.
#[derive(Debug, Clone, Copy)]
struct TorsoPose {
    pelvis: [f64; 3],
    /// Applied to each of the three spine joints.
    spine: [f64; 3],
    neck: [f64; 3],
    head: [f64; 3],
}

const UPRIGHT: TorsoPose = TorsoPose {
    pelvis: [0.0; 3],
    spine: [0.0; 3],
    neck: [0.0; 3],
    head: [0.0; 3],
};

/// Where one limb goes: its end joint (wrist, ankle) at `end`, the middle
/// joint (elbow, knee) pushed towards `pole`, and optionally the end bone
/// (hand, foot) pointing along `tip_dir`. Body frame, metres.
#[derive(Debug, Clone, Copy)]
struct LimbGoal {
    end: V3,
    pole: V3,
    tip_dir: Option<V3>,
}

/// Goals of the four limbs; legs left at rest when `None`.
struct LimbGoals {
    /// Person's left, then right.
    arms: [LimbGoal; 2],
    legs: Option<[LimbGoal; 2]>,
}

/// The torso-posed body the limb goals are measured on.
pub struct BodyFrame {
    posed: PosedBody,
    parts: Vec<BodyPart>,
    /// Rest lengths of upper arm + forearm, left and right.
    arm_reach: [f64; 2],
}

impl BodyFrame {
    fn joint(&self, j: usize) -> V3 {
        let p = self.posed.smpl_joints[j];
        V3::new(p[0] as f64, p[1] as f64, p[2] as f64)
    }

    /// Sign of a side along x: the person's left is +x.
    fn sign(left: bool) -> f64 {
        if left { 1.0 } else { -1.0 }
    }

    fn trunk_vertices(&self) -> impl Iterator<Item = V3> + '_ {
        self.posed
            .vertices
            .iter()
            .zip(&self.parts)
            .filter(|(_, p)| matches!(p, BodyPart::Torso | BodyPart::Pelvis))
            .map(|(v, _)| V3::new(v[0] as f64, v[1] as f64, v[2] as f64))
    }

    /// The front (largest z) of the torso and pelvis surface near `(x, y)`
    /// (within 3 cm), the chest or belly a hand rests on; the trunk's
    /// frontmost point when no trunk surface is there (a point off the
    /// body), so a hand still ends up in front of it.
    fn front_z(&self, x: f64, y: f64) -> f64 {
        let near = |v: &V3| (v.x - x).abs() < 0.03 && (v.y - y).abs() < 0.03;
        let front = |only_near: bool| {
            self.trunk_vertices()
                .filter(|v| !only_near || near(v))
                .map(|v| v.z)
                .reduce(f64::max)
        };
        front(true).or_else(|| front(false)).unwrap_or(0.0)
    }

    /// How far the trunk reaches sideways at height `y` on one side (the
    /// trunk's widest point on that side when nothing is at that height).
    fn side_x(&self, left: bool, y: f64) -> f64 {
        let s = Self::sign(left);
        let widest = |only_at_y: bool| {
            self.trunk_vertices()
                .filter(|v| !only_at_y || (v.y - y).abs() < 0.03)
                .map(|v| v.x * s)
                .reduce(f64::max)
        };
        widest(true).or_else(|| widest(false)).unwrap_or(0.0) * s
    }

    /// The top of the head (highest vertex).
    fn head_top(&self) -> f64 {
        self.posed
            .vertices
            .iter()
            .map(|v| v[1] as f64)
            .fold(f64::MIN, f64::max)
    }

    fn shoulder(&self, left: bool) -> V3 {
        self.joint(if left {
            joint::LEFT_SHOULDER
        } else {
            joint::RIGHT_SHOULDER
        })
    }

    fn hip(&self, left: bool) -> V3 {
        self.joint(if left {
            joint::LEFT_HIP
        } else {
            joint::RIGHT_HIP
        })
    }

    fn reach(&self, left: bool) -> f64 {
        self.arm_reach[if left { 0 } else { 1 }]
    }

    /// Chest height: a third of the way from the shoulders down to the
    /// hips.
    fn chest_y(&self) -> f64 {
        let s = (self.shoulder(true).y + self.shoulder(false).y) / 2.0;
        let h = (self.hip(true).y + self.hip(false).y) / 2.0;
        s - (s - h) / 3.0
    }
}

/// Arms hanging at the sides, elbows slightly bent.
fn hanging_arm(f: &BodyFrame, left: bool) -> LimbGoal {
    let s = BodyFrame::sign(left);
    let dir = V3::new(0.12 * s, -1.0, 0.12).normalize();
    LimbGoal {
        end: f.shoulder(left) + dir * (0.96 * f.reach(left)),
        pole: V3::new(0.2 * s, 0.0, -1.0),
        tip_dir: Some(V3::new(0.05 * s, -1.0, 0.05)),
    }
}

fn standing(f: &BodyFrame) -> LimbGoals {
    LimbGoals {
        arms: [hanging_arm(f, true), hanging_arm(f, false)],
        legs: None,
    }
}

/// Both forearms across the chest, the left one on top; each wrist past
/// the body's mid-line, each hand on the opposite upper arm.
fn arms_crossed(f: &BodyFrame) -> LimbGoals {
    let arm = |left: bool| {
        let s = BodyFrame::sign(left);
        // The lower forearm sits one forearm's thickness below the upper.
        let y = f.chest_y() + if left { 0.04 } else { -0.05 };
        // Just past the mid-line, so the hand ends on the opposite arm.
        let x = -s * 0.3 * f.shoulder(left).x.abs();
        // Forearm radius (~4 cm) and a little in front of the chest
        // surface, wherever the forearm crosses it (a heavier body's
        // chest bulges further forward towards the elbow's side).
        let sx = f.shoulder(left).x;
        let z = [x, 0.0, 0.4 * sx, 0.8 * sx]
            .map(|px| f.front_z(px, y))
            .into_iter()
            .fold(f64::MIN, f64::max)
            + 0.055;
        LimbGoal {
            end: V3::new(x, y, z),
            pole: V3::new(0.35 * s, -1.0, 0.6),
            // The hand goes on across to the opposite arm, flat in front
            // of the chest.
            tip_dir: Some(V3::new(-s, 0.0, -0.1)),
        }
    };
    LimbGoals {
        arms: [arm(true), arm(false)],
        legs: None,
    }
}

/// Hands at the front of the hips with the fingers down in the pockets,
/// elbows out and slightly back.
fn hands_in_pockets(f: &BodyFrame) -> LimbGoals {
    let arm = |left: bool| {
        let s = BodyFrame::sign(left);
        let hip = f.hip(left);
        // The pocket opening: outside and above the hip joint.
        let x = hip.x + 0.05 * s;
        let y = hip.y + 0.09;
        // In front of the belly across the hand's width (it reaches
        // 8 cm towards the mid-line).
        let front = [0.0, 0.04, 0.08]
            .map(|dx| f.front_z(x - dx * s, y))
            .into_iter()
            .fold(f64::MIN, f64::max);
        LimbGoal {
            end: V3::new(x, y, front + 0.015),
            pole: V3::new(s, -0.2, -0.5),
            tip_dir: Some(V3::new(0.1 * s, -1.0, 0.15)),
        }
    };
    LimbGoals {
        arms: [arm(true), arm(false)],
        legs: None,
    }
}

/// Hands on the waist just above the hip bones, fingers forward, elbows
/// wide.
fn hands_on_hips(f: &BodyFrame) -> LimbGoals {
    let arm = |left: bool| {
        let s = BodyFrame::sign(left);
        let y = f.hip(left).y + 0.12;
        LimbGoal {
            end: V3::new(f.side_x(left, y) + 0.06 * s, y, -0.045),
            pole: V3::new(s, 0.0, -0.35),
            // Forward and down over the hip bone, following the hip's
            // widening below the waist.
            tip_dir: Some(V3::new(0.45 * s, -0.75, 0.5)),
        }
    };
    LimbGoals {
        arms: [arm(true), arm(false)],
        legs: None,
    }
}

/// The left hand raised above the head, elbow out; the right arm hangs.
fn one_arm_raised(f: &BodyFrame) -> LimbGoals {
    let sh = f.shoulder(true);
    let top = f.head_top();
    let raised = LimbGoal {
        end: V3::new(sh.x + 0.08, top + 0.12, sh.z + 0.06),
        pole: V3::new(1.0, 0.0, -0.3),
        tip_dir: Some(V3::new(0.0, 1.0, 0.0)),
    };
    LimbGoals {
        arms: [raised, hanging_arm(f, false)],
        legs: None,
    }
}

/// Weight on the right leg (straight, foot under the body), the left knee
/// relaxed forward; arms hang.
fn contrapposto(f: &BodyFrame) -> LimbGoals {
    let leg = |left: bool, ankle: V3| LimbGoal {
        end: ankle,
        pole: V3::new(-0.15 * BodyFrame::sign(left), 0.0, 1.0),
        tip_dir: None,
    };
    let right_ankle = f.joint(8);
    let left_ankle = f.joint(7);
    LimbGoals {
        arms: [hanging_arm(f, true), hanging_arm(f, false)],
        legs: Some([
            leg(true, left_ankle + V3::new(0.03, 0.05, 0.09)),
            // Far enough down that the standing leg is straight.
            leg(false, right_ankle + V3::new(0.05, -0.05, 0.0)),
        ]),
    }
}

/// Every pose the body model can be put in by name.
pub const POSES: [NamedPose; 6] = [
    NamedPose {
        name: "Standing",
        aliases: &["Front", "Relaxed Standing", "Arms Hanging", "Arms Down"],
        description: "relaxed standing, arms hanging at the sides",
        torso: UPRIGHT,
        limbs: standing,
    },
    NamedPose {
        name: "Arms Crossed",
        aliases: &["Crossed Arms", "Folded Arms"],
        description: "both forearms across the chest, each hand on the opposite upper arm",
        torso: UPRIGHT,
        limbs: arms_crossed,
    },
    NamedPose {
        name: "Contrapposto",
        aliases: &[],
        description: "weight on the right leg, hips tilted down to the left, shoulders the other way, arms relaxed",
        torso: TorsoPose {
            pelvis: [0.0, 0.08, -0.10],
            spine: [0.0, -0.02, 0.075],
            neck: [0.0, 0.0, -0.05],
            head: [0.0, 0.0, -0.04],
        },
        limbs: contrapposto,
    },
    NamedPose {
        name: "Hands in Pockets",
        aliases: &["Hands in Pocket"],
        description: "hands at the front of the hips, fingers in the pockets, elbows out",
        torso: UPRIGHT,
        limbs: hands_in_pockets,
    },
    NamedPose {
        name: "Hands on Hips",
        aliases: &["Akimbo"],
        description: "hands on the waist above the hips, elbows wide",
        torso: UPRIGHT,
        limbs: hands_on_hips,
    },
    NamedPose {
        name: "One Arm Raised",
        aliases: &["Arm Raised", "Left Arm Raised"],
        description: "the left hand raised above the head, the right arm hanging",
        torso: UPRIGHT,
        limbs: one_arm_raised,
    },
];

/// Lower case, letters and digits only: "Hands-in pockets" →
/// "handsinpockets".
pub fn normalise_pose_name(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The pose a name means (canonical name or alias, see
/// [`normalise_pose_name`]); POS_006 listing the known poses otherwise.
pub fn find_pose(name: &str) -> Result<&'static NamedPose> {
    let key = normalise_pose_name(name);
    POSES
        .iter()
        .find(|p| {
            std::iter::once(p.name)
                .chain(p.aliases.iter().copied())
                .any(|n| normalise_pose_name(n) == key)
        })
        .ok_or_else(|| BodyError::UnknownPose {
            pose: name.to_string(),
            known: known_pose_names().join(", "),
        })
}

/// Canonical names of [`POSES`].
pub fn known_pose_names() -> Vec<&'static str> {
    POSES.iter().map(|p| p.name).collect()
}

impl NamedPose {
    /// θ of this pose for shape `beta`, in the body frame (facing +z, y up,
    /// `pose[0]` the pelvis's own tilt and turn, no translation).
    pub fn body_params(&self, model: &BodyModel, beta: &[f64; NUM_BETAS]) -> BodyParams {
        let mut params = BodyParams {
            beta: *beta,
            ..BodyParams::default()
        };
        params.pose[joint::PELVIS] = self.torso.pelvis;
        for j in joint::SPINE {
            params.pose[j] = self.torso.spine;
        }
        params.pose[joint::NECK] = self.torso.neck;
        params.pose[joint::HEAD] = self.torso.head;
        let frame = body_frame(model, &params);
        let goals = (self.limbs)(&frame);
        if let Some([left, right]) = goals.legs {
            // Knees flex backwards: the calf leaves the thigh's line
            // towards −z.
            solve_limb(model, &mut params, joint::LEFT_LEG, &left, -V3::z());
            solve_limb(model, &mut params, joint::RIGHT_LEG, &right, -V3::z());
        }
        let [left, right] = goals.arms;
        // Elbows flex forwards from the A-pose: the forearm leaves the
        // upper arm's line towards +z.
        solve_limb(model, &mut params, joint::LEFT_ARM, &left, V3::z());
        solve_limb(model, &mut params, joint::RIGHT_ARM, &right, V3::z());
        params
    }
}

/// θ with the body turned by `view` (applied after the pose's own pelvis
/// rotation), e.g. `Rotation3::from_euler_angles(π, 0, 0)` to stand upright
/// in front of an OpenCV camera.
pub fn with_orientation(params: &BodyParams, view: &Rotation3<f64>) -> BodyParams {
    let r = view.matrix() * axis_angle(&params.pose[0]);
    let mut out = params.clone();
    let g = rotation_log(&r);
    out.pose[0] = [g.x, g.y, g.z];
    out
}

/// θ with the body standing upright in front of an OpenCV camera (y down,
/// z forward): half a turn about x after the pose's own pelvis rotation.
pub fn facing_camera(params: &BodyParams) -> BodyParams {
    with_orientation(
        params,
        &Rotation3::from_euler_angles(std::f64::consts::PI, 0.0, 0.0),
    )
}

fn body_frame(model: &BodyModel, params: &BodyParams) -> BodyFrame {
    let rest = model.shaped_joints(&params.beta);
    let rig = model.smpl_joint_indices();
    let len = |a: usize, b: usize| (rest[rig[b]] - rest[rig[a]]).norm();
    let reach = |c: [usize; 4]| len(c[0], c[1]) + len(c[1], c[2]);
    BodyFrame {
        posed: model.pose(params),
        parts: model.vertex_parts().to_vec(),
        arm_reach: [reach(joint::LEFT_ARM), reach(joint::RIGHT_ARM)],
    }
}

/// Unit part of `v` perpendicular to unit `axis` (`None` when `v` is
/// almost parallel to it).
fn perpendicular(v: &V3, axis: &V3) -> Option<V3> {
    let p = v - axis * v.dot(axis);
    (p.norm() > 1e-4).then(|| p.normalize())
}

/// The smallest rotation taking unit `a` to unit `b`.
fn rotation_between(a: &V3, b: &V3) -> M3 {
    Rotation3::rotation_between(a, b)
        .unwrap_or_else(|| {
            // Opposite vectors: half a turn about any perpendicular.
            let axis = perpendicular(&V3::x(), a).unwrap_or_else(V3::y);
            Rotation3::from_axis_angle(&Unit::new_normalize(axis), std::f64::consts::PI)
        })
        .into_inner()
}

/// The rotation taking the orthonormal pair (a, b) to (c, d).
fn rotation_of_frames(a: &V3, b: &V3, c: &V3, d: &V3) -> M3 {
    let from = M3::from_columns(&[*a, *b, a.cross(b)]);
    let to = M3::from_columns(&[*c, *d, c.cross(d)]);
    to * from.transpose()
}

/// Where the middle joint of a two-bone chain goes so the end reaches
/// `target` (or as close as the bone lengths allow), bending towards
/// `pole`. Returns the middle joint and the end position reached.
fn two_bone(root: V3, target: V3, upper: f64, lower: f64, pole: &V3) -> (V3, V3) {
    let to = target - root;
    let dir = if to.norm() > 1e-9 {
        to.normalize()
    } else {
        -V3::y()
    };
    let d = to
        .norm()
        .clamp((upper - lower).abs() + 1e-3, (upper + lower) * 0.999);
    let along = (upper * upper - lower * lower + d * d) / (2.0 * d);
    let out = (upper * upper - along * along).max(0.0).sqrt();
    let side = perpendicular(pole, &dir)
        .or_else(|| perpendicular(&V3::z(), &dir))
        .unwrap_or_else(V3::x);
    (root + dir * along + side * out, root + dir * d)
}

/// Sets the root, middle and (with a tip direction) end rotations of one
/// limb so its end joint reaches the goal. `rest_flex` is the direction in
/// which the lower bone leaves the upper bone's line when the middle joint
/// flexes in the rest pose: the upper bone is twisted so the flex happens
/// about that hinge.
fn solve_limb(
    model: &BodyModel,
    params: &mut BodyParams,
    chain: [usize; 4],
    goal: &LimbGoal,
    rest_flex: V3,
) {
    let k = model.kinematics(params);
    let rig = model.smpl_joint_indices();
    let [a, b, c, d] = chain.map(|j| rig[j]);
    let parent = SMPL_PARENTS[chain[0]].map_or_else(M3::identity, |p| k.rot[rig[p]]);
    let rest_upper = k.rest[b] - k.rest[a];
    let rest_lower = k.rest[c] - k.rest[b];
    let (upper_len, lower_len) = (rest_upper.norm(), rest_lower.norm());
    let root = k.pos[a];
    let (middle, end) = two_bone(root, goal.end, upper_len, lower_len, &goal.pole);
    let upper_dir = (middle - root).normalize();
    let lower_dir = (end - middle).normalize();
    let rest_upper = rest_upper.normalize();
    // The flexed side: where the lower bone goes off the upper's line;
    // with a straight limb, away from the pole.
    let flex = perpendicular(&lower_dir, &upper_dir)
        .or_else(|| perpendicular(&-goal.pole, &upper_dir))
        .unwrap_or_else(V3::z);
    let upper_world = match perpendicular(&rest_flex, &rest_upper) {
        Some(rest_flex) => rotation_of_frames(&rest_upper, &rest_flex, &upper_dir, &flex),
        None => rotation_between(&rest_upper, &upper_dir),
    };
    params.pose[chain[0]] = as_array(rotation_log(&(parent.transpose() * upper_world)));
    let middle_local = rotation_between(
        &rest_lower.normalize(),
        &(upper_world.transpose() * lower_dir),
    );
    params.pose[chain[1]] = as_array(rotation_log(&middle_local));
    if let Some(tip) = goal.tip_dir {
        let lower_world = upper_world * middle_local;
        let rest_tip = (k.rest[d] - k.rest[c]).normalize();
        let wanted = lower_world.transpose() * tip.normalize();
        params.pose[chain[2]] = as_array(limited(
            rotation_log(&rotation_between(&rest_tip, &wanted)),
            MAX_WRIST_BEND,
        ));
    }
}

/// A wrist or ankle bends at most this far (radians, ≈ 69°).
const MAX_WRIST_BEND: f64 = 1.2;

fn limited(v: V3, max: f64) -> V3 {
    let n = v.norm();
    if n > max { v * (max / n) } else { v }
}

fn as_array(v: V3) -> [f64; 3] {
    [v.x, v.y, v.z]
}

/// Spacing of the MakeHuman body's vertices on the trunk (1 298 torso
/// vertices over about 0.6 m² of skin: ~2 cm): a point under the surface is
/// never further than this from the normal line of its nearest vertex.
pub const SURFACE_SPACING_M: f64 = 0.02;

/// The deepest point of one set of body parts inside another
/// ([`max_penetration`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Penetration {
    /// How far inside, metres (0: nothing is inside).
    pub depth_m: f64,
    /// The vertex that is deepest inside, and the surface vertex it is
    /// measured against.
    pub vertex: usize,
    pub surface_vertex: usize,
}

/// How deep vertices of parts `a` sink into the surface of parts `b`: for
/// each `a` vertex, the nearest `b` vertex decides, and an `a` vertex behind
/// that vertex's outward normal, and close to the normal's line (within
/// [`SURFACE_SPACING_M`]), is inside by its distance along the normal. A
/// vertex far to the side of its nearest `b` vertex is not under that
/// surface (a hand beside the thigh is nearest to the pelvis, yet outside
/// it). Reliable for depths below half the thickness of the `b` parts.
pub fn max_penetration(
    model: &BodyModel,
    posed: &PosedBody,
    a: &[BodyPart],
    b: &[BodyPart],
) -> Penetration {
    let normals = model.vertex_normals(&posed.vertices);
    let parts = model.vertex_parts();
    let v = |i: usize| {
        let p = posed.vertices[i];
        V3::new(p[0] as f64, p[1] as f64, p[2] as f64)
    };
    let of = |set: &[BodyPart]| -> Vec<usize> {
        (0..parts.len())
            .filter(|&i| set.contains(&parts[i]))
            .collect()
    };
    let (from, into) = (of(a), of(b));
    let mut worst = Penetration {
        depth_m: 0.0,
        vertex: 0,
        surface_vertex: 0,
    };
    for &i in &from {
        let p = v(i);
        let Some(&j) = into.iter().min_by(|&&x, &&y| {
            (v(x) - p)
                .norm_squared()
                .total_cmp(&(v(y) - p).norm_squared())
        }) else {
            break;
        };
        let n = normals[j];
        let n = V3::new(n[0] as f64, n[1] as f64, n[2] as f64);
        let offset = p - v(j);
        let depth = -offset.dot(&n);
        let lateral = (offset.norm_squared() - depth * depth).max(0.0).sqrt();
        if depth > worst.depth_m && lateral <= SURFACE_SPACING_M {
            worst = Penetration {
                depth_m: depth,
                vertex: i,
                surface_vertex: j,
            };
        }
    }
    worst
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil;

    #[test]
    fn names_match_ignoring_case_spaces_and_hyphens() {
        assert_eq!(find_pose("Arms Crossed").unwrap().name, "Arms Crossed");
        assert_eq!(find_pose("arms-crossed").unwrap().name, "Arms Crossed");
        assert_eq!(
            find_pose("HANDS_IN_POCKETS").unwrap().name,
            "Hands in Pockets"
        );
        assert_eq!(find_pose(" contrapposto ").unwrap().name, "Contrapposto");
        assert_eq!(find_pose("Front").unwrap().name, "Standing");
    }

    #[test]
    fn unknown_pose_is_pos_006_listing_the_known_ones() {
        use garmax_core::{Coded, ErrorCode};
        let e = find_pose("Handstand").unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidPose);
        let msg = e.to_string();
        assert!(msg.contains("Handstand"), "{msg}");
        for p in POSES {
            assert!(msg.contains(p.name), "{msg}");
        }
    }

    #[test]
    fn every_catalogue_pose_has_a_definition() {
        // The poses `config/personas.toml` names, mannequin or not.
        let text = include_str!("../../../config/personas.toml");
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        let poses: Vec<&str> = lines
            .windows(2)
            .filter(|w| w[0] == "[[persona.poses]]")
            .filter_map(|w| w[1].strip_prefix("name = \"")?.strip_suffix('"'))
            .collect();
        assert!(poses.len() >= 5, "{poses:?}");
        for p in poses {
            assert!(find_pose(p).is_ok(), "{p}");
        }
    }

    fn posed(name: &str) -> Option<(&'static BodyModel, PosedBody)> {
        let model = testutil::model()?;
        let params = find_pose(name)
            .unwrap()
            .body_params(model, &[0.0; NUM_BETAS]);
        assert!(params.is_finite());
        Some((model, model.pose(&params)))
    }

    fn j(p: &PosedBody, i: usize) -> V3 {
        let q = p.smpl_joints[i];
        V3::new(q[0] as f64, q[1] as f64, q[2] as f64)
    }

    fn kp(p: &PosedBody, i: usize) -> V3 {
        let q = p.keypoints[i];
        V3::new(q[0] as f64, q[1] as f64, q[2] as f64)
    }

    /// Front of the torso surface (largest z) within 3 cm of (x, y).
    fn torso_front(model: &BodyModel, p: &PosedBody, x: f64, y: f64) -> f64 {
        p.vertices
            .iter()
            .zip(model.vertex_parts())
            .filter(|(_, part)| **part == BodyPart::Torso)
            .filter(|(v, _)| (v[0] as f64 - x).abs() < 0.03 && (v[1] as f64 - y).abs() < 0.03)
            .map(|(v, _)| v[2] as f64)
            .fold(f64::MIN, f64::max)
    }

    const FOREARMS_HANDS: [BodyPart; 4] = [
        BodyPart::LeftForearm,
        BodyPart::RightForearm,
        BodyPart::LeftHand,
        BodyPart::RightHand,
    ];

    #[test]
    fn arms_crossed_puts_the_wrists_across_the_chest_in_front() {
        let Some((model, p)) = posed("Arms Crossed") else {
            return;
        };
        let (lw, rw) = (j(&p, 20), j(&p, 21));
        let (ls, rs) = (j(&p, 16), j(&p, 17));
        let hip_y = (j(&p, 1).y + j(&p, 2).y) / 2.0;
        let shoulder_y = (ls.y + rs.y) / 2.0;
        eprintln!("left wrist {lw:.3?} right wrist {rw:.3?} shoulders {ls:.3?} {rs:.3?}");
        // Across the mid-line (x = 0): the left wrist on the right side.
        assert!(lw.x < -0.02 && rw.x > 0.02, "{lw:?} {rw:?}");
        for w in [lw, rw] {
            // Chest height: the upper half between hips and shoulders.
            let t = (w.y - hip_y) / (shoulder_y - hip_y);
            assert!((0.45..0.95).contains(&t), "wrist height fraction {t}");
            // In front of the chest surface behind it.
            let front = torso_front(model, &p, w.x, w.y);
            assert!(w.z > front, "wrist z {} chest front {front}", w.z);
        }
        // Each hand reaches towards the opposite upper arm: the hand tip
        // (middle knuckle) is nearer the other shoulder than its own.
        let (lh, rh) = (j(&p, 22), j(&p, 23));
        assert!((lh - rs).norm() < (lh - ls).norm());
        assert!((rh - ls).norm() < (rh - rs).norm());
    }

    #[test]
    fn hands_in_pockets_puts_the_wrists_at_the_hip_front() {
        let Some((model, p)) = posed("Hands in Pockets") else {
            return;
        };
        for (wrist, hip, elbow, shoulder) in [(20, 1, 18, 16), (21, 2, 19, 17)] {
            let (w, h) = (j(&p, wrist), j(&p, hip));
            eprintln!("wrist {w:.3?} hip {h:.3?}");
            assert!((w.y - h.y).abs() < 0.10, "wrist {w:?} hip {h:?}");
            assert!((w.x - h.x).abs() < 0.08, "wrist {w:?} hip {h:?}");
            assert!(w.z > h.z + 0.04, "in front of the hip joint: {w:?} {h:?}");
            // Elbows out: further from the mid-line than the shoulders.
            assert!(j(&p, elbow).x.abs() > j(&p, shoulder).x.abs());
        }
        let _ = model;
    }

    fn tilt_deg(a: V3, b: V3) -> f64 {
        // Angle of the a→b line against the horizontal, seen from the front.
        ((b.y - a.y) / (b.x - a.x)).atan().to_degrees()
    }

    #[test]
    fn contrapposto_tilts_hips_and_shoulders_opposite_ways() {
        let Some((_, p)) = posed("Contrapposto") else {
            return;
        };
        let hips = tilt_deg(kp(&p, 24), kp(&p, 23));
        let shoulders = tilt_deg(kp(&p, 12), kp(&p, 11));
        eprintln!("hip line {hips:.1}°, shoulder line {shoulders:.1}°");
        assert!(hips.abs() >= 3.0, "hip tilt {hips}");
        assert!(shoulders * hips < 0.0, "{shoulders} vs {hips}");
        // The standing (right) leg is nearly straight, the left knee bent.
        let bend = |h: usize, k: usize, a: usize| {
            let (u, l) = (j(&p, k) - j(&p, h), j(&p, a) - j(&p, k));
            u.angle(&l).to_degrees()
        };
        let (left, right) = (bend(1, 4, 7), bend(2, 5, 8));
        eprintln!("knee flexion left {left:.1}° right {right:.1}°");
        assert!(right < 8.0 && left > right + 5.0);
    }

    #[test]
    fn one_arm_raised_lifts_the_left_wrist_above_the_head() {
        let Some((_, p)) = posed("One Arm Raised") else {
            return;
        };
        let head = j(&p, 15);
        assert!(
            j(&p, 20).y > head.y + 0.15,
            "wrist {:?} head {head:?}",
            j(&p, 20)
        );
        assert!(j(&p, 21).y < j(&p, 17).y - 0.3, "the right arm hangs");
    }

    #[test]
    fn standing_and_hands_on_hips_keep_the_hands_low_and_wide() {
        let Some((_, p)) = posed("Standing") else {
            return;
        };
        for (w, s) in [(20, 16), (21, 17)] {
            assert!(j(&p, w).y < j(&p, s).y - 0.4);
        }
        let Some((_, p)) = posed("Hands on Hips") else {
            return;
        };
        for (w, e, h) in [(20, 18, 1), (21, 19, 2)] {
            let (wr, hip) = (j(&p, w), j(&p, h));
            assert!((wr.y - hip.y - 0.12).abs() < 0.08, "{wr:?} {hip:?}");
            assert!(wr.x.abs() > hip.x.abs(), "the hand is at the side");
            assert!(j(&p, e).x.abs() > wr.x.abs() + 0.08, "elbows wide");
        }
    }

    /// Forearms and hands may touch the body (skin on skin) but must not
    /// sink into it. Skin pressed on skin gives way by about a centimetre,
    /// and the nearest-vertex test over-reads by up to the vertex spacing
    /// (2 cm) where the surface curves, so up to 2.5 cm is tolerated; a
    /// forearm through the torso, or a hand inside the hip, reads 3–7 cm
    /// (measured while tuning the poses: a hand turned into the hip on
    /// "Hands on Hips" read 7.2 cm).
    #[test]
    fn forearms_and_hands_stay_out_of_the_trunk() {
        let Some(model) = testutil::model() else {
            return;
        };
        let trunk = [BodyPart::Torso, BodyPart::Pelvis];
        let mut worst = Vec::new();
        for pose in &POSES {
            let p = model.pose(&pose.body_params(model, &[0.0; NUM_BETAS]));
            let into_trunk = max_penetration(model, &p, &FOREARMS_HANDS, &trunk);
            let l_into_r = max_penetration(
                model,
                &p,
                &[BodyPart::LeftForearm, BodyPart::LeftHand],
                &[BodyPart::RightForearm, BodyPart::RightHand],
            );
            eprintln!(
                "{:>17}: forearms/hands into the trunk {:.1} cm, left into right forearm/hand {:.1} cm",
                pose.name,
                into_trunk.depth_m * 100.0,
                l_into_r.depth_m * 100.0
            );
            worst.push((pose.name, into_trunk.depth_m, l_into_r.depth_m));
        }
        for (name, into_trunk, l_into_r) in worst {
            assert!(into_trunk < 0.025, "{name}: {into_trunk}");
            assert!(l_into_r < 0.025, "{name}: {l_into_r}");
        }
    }

    /// The goals are measured on the shaped body, so a tall or a heavy body
    /// keeps its hands on itself too.
    #[test]
    fn other_shapes_keep_the_poses() {
        let Some(model) = testutil::model() else {
            return;
        };
        let trunk = [BodyPart::Torso, BodyPart::Pelvis];
        for (k, b) in [(0usize, 2.0), (3, 2.0), (3, -2.0)] {
            let mut beta = [0.0; NUM_BETAS];
            beta[k] = b;
            for pose in &POSES {
                let p = model.pose(&pose.body_params(model, &beta));
                let d = max_penetration(model, &p, &FOREARMS_HANDS, &trunk).depth_m;
                eprintln!("β{k} = {b:+}: {:>17} {:.1} cm", pose.name, d * 100.0);
                assert!(d < 0.025, "β{k}={b} {}: {d}", pose.name);
            }
            let p = model.pose(&find_pose("Arms Crossed").unwrap().body_params(model, &beta));
            let mid = (j(&p, 16).x + j(&p, 17).x) / 2.0;
            assert!(j(&p, 20).x < mid && j(&p, 21).x > mid, "β{k}={b}");
        }
    }

    #[test]
    fn orientation_keeps_the_pose_and_turns_the_body() {
        let Some(model) = testutil::model() else {
            return;
        };
        let body = find_pose("Contrapposto")
            .unwrap()
            .body_params(model, &[0.0; NUM_BETAS]);
        let flip = Rotation3::from_euler_angles(std::f64::consts::PI, 0.0, 0.0);
        let cam = with_orientation(&body, &flip);
        assert_eq!(cam.pose[1..], body.pose[1..]);
        let (a, b) = (model.pose(&body), model.pose(&cam));
        for (p, q) in a.smpl_joints.iter().zip(&b.smpl_joints) {
            // R_x(π): (x, y, z) → (x, −y, −z) about the pelvis at the origin.
            let pelvis = a.smpl_joints[0];
            let d = [p[0] - pelvis[0], p[1] - pelvis[1], p[2] - pelvis[2]];
            let e = [q[0] - pelvis[0], q[1] - pelvis[1], q[2] - pelvis[2]];
            assert!(
                (d[0] - e[0]).abs() < 1e-4
                    && (d[1] + e[1]).abs() < 1e-4
                    && (d[2] + e[2]).abs() < 1e-4
            );
        }
    }
}

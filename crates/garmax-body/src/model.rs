//! The parametric body: a template mesh, a linear shape space of
//! [`NUM_BETAS`] coefficients, a rig whose joints are linear in the shape (so
//! joints follow the body), and linear blend skinning driven by the 24
//! SMPL-named joints.
//!
//! Conventions (the same as SMPL's, so fitted parameters read the same way):
//! model space is metres, y up, the body faces +z, the person's left is +x.
//! `pose[0]` is the global orientation, applied about the pelvis joint;
//! `pose[j]` for j ≥ 1 is joint j's rotation relative to its parent, as an
//! axis-angle vector in the rest frame (rest joint frames are the identity).
//! The rest pose of the MakeHuman body is its A-pose, so θ = 0 means
//! A-pose, not SMPL's T-pose.

use nalgebra::{Matrix3, Rotation3, Vector3};
use serde::Serialize;

/// Number of shape coefficients β.
pub const NUM_BETAS: usize = 10;
/// Number of SMPL joints, θ has `3 * NUM_SMPL_JOINTS` values.
pub const NUM_SMPL_JOINTS: usize = 24;

/// SMPL joint names in SMPL's order.
pub const SMPL_JOINT_NAMES: [&str; NUM_SMPL_JOINTS] = [
    "pelvis",
    "left_hip",
    "right_hip",
    "spine1",
    "left_knee",
    "right_knee",
    "spine2",
    "left_ankle",
    "right_ankle",
    "spine3",
    "left_foot",
    "right_foot",
    "neck",
    "left_collar",
    "right_collar",
    "head",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hand",
    "right_hand",
];

/// SMPL's kinematic tree: parent of each SMPL joint (`None` for the pelvis).
pub const SMPL_PARENTS: [Option<usize>; NUM_SMPL_JOINTS] = [
    None,
    Some(0),
    Some(0),
    Some(0),
    Some(1),
    Some(2),
    Some(3),
    Some(4),
    Some(5),
    Some(6),
    Some(7),
    Some(8),
    Some(9),
    Some(9),
    Some(9),
    Some(12),
    Some(13),
    Some(14),
    Some(16),
    Some(17),
    Some(18),
    Some(19),
    Some(20),
    Some(21),
];

pub(crate) type V3 = Vector3<f64>;
pub(crate) type M3 = Matrix3<f64>;

/// Body parts the maps and the renderer distinguish.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BodyPart {
    Head,
    Neck,
    Torso,
    Pelvis,
    LeftUpperArm,
    RightUpperArm,
    LeftForearm,
    RightForearm,
    LeftHand,
    RightHand,
    LeftThigh,
    RightThigh,
    LeftCalf,
    RightCalf,
    LeftFoot,
    RightFoot,
}

impl BodyPart {
    /// Every part, in label order (label = index + 1; 0 is background).
    pub const ALL: [BodyPart; 16] = [
        BodyPart::Head,
        BodyPart::Neck,
        BodyPart::Torso,
        BodyPart::Pelvis,
        BodyPart::LeftUpperArm,
        BodyPart::RightUpperArm,
        BodyPart::LeftForearm,
        BodyPart::RightForearm,
        BodyPart::LeftHand,
        BodyPart::RightHand,
        BodyPart::LeftThigh,
        BodyPart::RightThigh,
        BodyPart::LeftCalf,
        BodyPart::RightCalf,
        BodyPart::LeftFoot,
        BodyPart::RightFoot,
    ];

    /// Label value in part maps (background is 0).
    pub fn label(self) -> u8 {
        BodyPart::ALL
            .iter()
            .position(|&p| p == self)
            .map_or(0, |i| i as u8 + 1)
    }

    /// Fixed display colour in `parts.png` (distinct, stable across releases).
    pub fn color(self) -> [u8; 3] {
        match self {
            BodyPart::Head => [255, 0, 0],
            BodyPart::Neck => [255, 128, 0],
            BodyPart::Torso => [255, 255, 0],
            BodyPart::Pelvis => [128, 128, 0],
            BodyPart::LeftUpperArm => [0, 255, 0],
            BodyPart::RightUpperArm => [0, 128, 0],
            BodyPart::LeftForearm => [0, 255, 255],
            BodyPart::RightForearm => [0, 128, 128],
            BodyPart::LeftHand => [0, 0, 255],
            BodyPart::RightHand => [0, 0, 128],
            BodyPart::LeftThigh => [255, 0, 255],
            BodyPart::RightThigh => [128, 0, 128],
            BodyPart::LeftCalf => [255, 128, 192],
            BodyPart::RightCalf => [128, 64, 96],
            BodyPart::LeftFoot => [192, 192, 255],
            BodyPart::RightFoot => [96, 96, 128],
        }
    }

    /// snake_case name used in legends.
    pub fn name(self) -> &'static str {
        match self {
            BodyPart::Head => "head",
            BodyPart::Neck => "neck",
            BodyPart::Torso => "torso",
            BodyPart::Pelvis => "pelvis",
            BodyPart::LeftUpperArm => "left_upper_arm",
            BodyPart::RightUpperArm => "right_upper_arm",
            BodyPart::LeftForearm => "left_forearm",
            BodyPart::RightForearm => "right_forearm",
            BodyPart::LeftHand => "left_hand",
            BodyPart::RightHand => "right_hand",
            BodyPart::LeftThigh => "left_thigh",
            BodyPart::RightThigh => "right_thigh",
            BodyPart::LeftCalf => "left_calf",
            BodyPart::RightCalf => "right_calf",
            BodyPart::LeftFoot => "left_foot",
            BodyPart::RightFoot => "right_foot",
        }
    }

    /// The part a vertex belongs to when its strongest skinning joint is the
    /// given SMPL joint.
    pub fn from_smpl_joint(j: usize) -> BodyPart {
        match j {
            0 => BodyPart::Pelvis,
            1 => BodyPart::LeftThigh,
            2 => BodyPart::RightThigh,
            4 => BodyPart::LeftCalf,
            5 => BodyPart::RightCalf,
            7 | 10 => BodyPart::LeftFoot,
            8 | 11 => BodyPart::RightFoot,
            12 => BodyPart::Neck,
            15 => BodyPart::Head,
            16 => BodyPart::LeftUpperArm,
            17 => BodyPart::RightUpperArm,
            18 => BodyPart::LeftForearm,
            19 => BodyPart::RightForearm,
            20 | 22 => BodyPart::LeftHand,
            21 | 23 => BodyPart::RightHand,
            _ => BodyPart::Torso,
        }
    }
}

/// Where one of the 33 BlazePose landmarks sits on the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeypointDef {
    /// The head of rig joint `i`.
    Joint(usize),
    /// Model vertex `i` (follows shape and skinning like any vertex).
    Vertex(u32),
}

/// Shape, pose and placement of one body.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct BodyParams {
    /// Shape coefficients (unit variance over the sampled population).
    pub beta: [f64; NUM_BETAS],
    /// Axis-angle per SMPL joint; `pose[0]` is the global orientation.
    pub pose: [[f64; 3]; NUM_SMPL_JOINTS],
    /// Translation added after posing (camera space when fitted).
    pub translation: [f64; 3],
}

impl Default for BodyParams {
    fn default() -> Self {
        BodyParams {
            beta: [0.0; NUM_BETAS],
            pose: [[0.0; 3]; NUM_SMPL_JOINTS],
            translation: [0.0; 3],
        }
    }
}

impl BodyParams {
    /// θ as SMPL's flat 72-vector (global orientation first).
    pub fn theta72(&self) -> [f64; 72] {
        let mut t = [0.0; 72];
        for (j, r) in self.pose.iter().enumerate() {
            t[3 * j..3 * j + 3].copy_from_slice(r);
        }
        t
    }

    pub(crate) fn is_finite(&self) -> bool {
        self.beta
            .iter()
            .chain(self.pose.iter().flatten())
            .chain(self.translation.iter())
            .all(|v| v.is_finite())
    }
}

/// What the shape space was built from, for documentation and for mapping β
/// back to MakeHuman's macro sliders.
#[derive(Debug, Clone, Serialize)]
pub struct ShapeSpaceInfo {
    /// How many macro settings were sampled to build the basis.
    pub samples: usize,
    /// Fraction of the sampled shape variance the β basis explains.
    pub explained_variance: f64,
    /// Standard deviation (metres, over all vertex coordinates) of each β.
    pub sigma: [f64; NUM_BETAS],
    /// Least-squares linear map `[β, 1] → macros` (rows: gender, age, muscle,
    /// weight, height, proportions).
    pub beta_to_macros: Vec<[f64; NUM_BETAS + 1]>,
    /// Least-squares linear map `[macros, 1] → β` (rows: β0..β9).
    pub macros_to_beta: Vec<[f64; 7]>,
}

/// The rigged, shape-parameterised body model.
#[derive(Debug, Clone)]
pub struct BodyModel {
    pub(crate) name: String,
    pub(crate) template: Vec<V3>,
    pub(crate) shape_dirs: Vec<[V3; NUM_BETAS]>,
    /// SMPL pose-corrective blend shapes: per vertex, 3 rows × 207.
    pub(crate) pose_dirs: Option<Vec<f32>>,
    pub(crate) faces: Vec<[u32; 3]>,
    pub(crate) uvs: Vec<[f32; 2]>,
    pub(crate) face_uvs: Vec<[u32; 3]>,
    pub(crate) joint_names: Vec<String>,
    pub(crate) parents: Vec<Option<usize>>,
    pub(crate) joint_template: Vec<V3>,
    pub(crate) joint_shape_dirs: Vec<[V3; NUM_BETAS]>,
    /// For each rig joint, the SMPL joint whose rotation it takes (extra
    /// joints such as fingers have `None` and follow their parent).
    pub(crate) rig_driver: Vec<Option<usize>>,
    /// For each SMPL joint, the rig joint whose head is its position.
    pub(crate) smpl_joint: [usize; NUM_SMPL_JOINTS],
    pub(crate) skin_joints: Vec<[u16; 4]>,
    pub(crate) skin_weights: Vec<[f32; 4]>,
    pub(crate) vertex_parts: Vec<BodyPart>,
    pub(crate) keypoints: [KeypointDef; 33],
    pub(crate) shape_info: Option<ShapeSpaceInfo>,
}

/// A posed body: everything in the frame the parameters place it in.
#[derive(Debug, Clone)]
pub struct PosedBody {
    pub vertices: Vec<[f32; 3]>,
    /// All rig joints (posed heads).
    pub joints: Vec<[f32; 3]>,
    /// The 24 SMPL joints.
    pub smpl_joints: [[f32; 3]; NUM_SMPL_JOINTS],
    /// The 33 BlazePose-corresponding points.
    pub keypoints: [[f32; 3]; 33],
}

/// Per-joint transforms of one pose: `x_posed = rot[j] * (x_rest - rest[j]) + pos[j]`.
#[derive(Debug, Clone)]
pub(crate) struct Kinematics {
    pub rest: Vec<V3>,
    pub rot: Vec<M3>,
    pub pos: Vec<V3>,
    /// SMPL pose feature (207) when the model has pose blend shapes.
    pub pose_feature: Option<Vec<f64>>,
}

pub(crate) fn axis_angle(r: &[f64; 3]) -> M3 {
    Rotation3::from_scaled_axis(V3::new(r[0], r[1], r[2])).into_inner()
}

/// Axis-angle of a rotation matrix, valid up to and including π (where
/// nalgebra's `scaled_axis` returns zero because the skew part vanishes).
pub(crate) fn rotation_log(r: &M3) -> V3 {
    let cos = ((r.trace() - 1.0) / 2.0).clamp(-1.0, 1.0);
    let angle = cos.acos();
    if angle < 1e-9 {
        return V3::zeros();
    }
    if angle > std::f64::consts::PI - 1e-4 {
        // Near π: the axis is the dominant column of (R + I) / 2.
        let b = (r + M3::identity()) * 0.5;
        let k = (0..3)
            .max_by(|&i, &j| b[(i, i)].total_cmp(&b[(j, j)]))
            .unwrap_or(0);
        let axis = b.column(k) / b[(k, k)].max(1e-12).sqrt();
        return axis.normalize() * angle;
    }
    let w = V3::new(
        r[(2, 1)] - r[(1, 2)],
        r[(0, 2)] - r[(2, 0)],
        r[(1, 0)] - r[(0, 1)],
    );
    w * (angle / (2.0 * angle.sin()))
}

fn to_f32(v: &V3) -> [f32; 3] {
    [v.x as f32, v.y as f32, v.z as f32]
}

impl BodyModel {
    /// Model name, e.g. `makehuman-game_engine`.
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn vertex_count(&self) -> usize {
        self.template.len()
    }
    pub fn faces(&self) -> &[[u32; 3]] {
        &self.faces
    }
    /// UV coordinates and per-face UV indices (empty for models without UVs).
    pub fn uvs(&self) -> (&[[f32; 2]], &[[u32; 3]]) {
        (&self.uvs, &self.face_uvs)
    }
    pub fn joint_names(&self) -> &[String] {
        &self.joint_names
    }
    pub fn parents(&self) -> &[Option<usize>] {
        &self.parents
    }
    /// Rig joint index of each SMPL joint.
    pub fn smpl_joint_indices(&self) -> &[usize; NUM_SMPL_JOINTS] {
        &self.smpl_joint
    }
    /// SMPL joint driving each rig joint (`None`: follows its parent).
    pub fn rig_drivers(&self) -> &[Option<usize>] {
        &self.rig_driver
    }
    /// Part label of every vertex.
    pub fn vertex_parts(&self) -> &[BodyPart] {
        &self.vertex_parts
    }
    /// Up to four (joint, weight) pairs per vertex; weights sum to 1.
    pub fn skinning(&self) -> (&[[u16; 4]], &[[f32; 4]]) {
        (&self.skin_joints, &self.skin_weights)
    }
    /// Where each BlazePose landmark sits on the model.
    pub fn keypoint_defs(&self) -> &[KeypointDef; 33] {
        &self.keypoints
    }
    /// How the shape space was built (MakeHuman models only).
    pub fn shape_info(&self) -> Option<&ShapeSpaceInfo> {
        self.shape_info.as_ref()
    }

    /// Rest-pose (θ = 0) vertex positions for a shape.
    pub fn shaped_vertices(&self, beta: &[f64; NUM_BETAS]) -> Vec<[f32; 3]> {
        (0..self.template.len())
            .map(|i| to_f32(&self.rest_vertex(i, beta, None)))
            .collect()
    }

    /// Rest-pose joint positions for a shape.
    pub fn shaped_joints(&self, beta: &[f64; NUM_BETAS]) -> Vec<V3> {
        self.joint_template
            .iter()
            .zip(&self.joint_shape_dirs)
            .map(|(t, d)| {
                let mut p = *t;
                for (b, dir) in beta.iter().zip(d) {
                    p += dir * *b;
                }
                p
            })
            .collect()
    }

    /// Standing height (top of head to sole) of a shape in metres.
    pub fn stature(&self, beta: &[f64; NUM_BETAS]) -> f64 {
        let (mut lo, mut hi) = (f64::MAX, f64::MIN);
        for i in 0..self.template.len() {
            let y = self.rest_vertex(i, beta, None).y;
            lo = lo.min(y);
            hi = hi.max(y);
        }
        hi - lo
    }

    pub(crate) fn rest_vertex(
        &self,
        i: usize,
        beta: &[f64; NUM_BETAS],
        pose_feature: Option<&[f64]>,
    ) -> V3 {
        let mut p = self.template[i];
        for (b, d) in beta.iter().zip(&self.shape_dirs[i]) {
            p += d * *b;
        }
        if let (Some(pd), Some(f)) = (&self.pose_dirs, pose_feature) {
            let n = f.len();
            for c in 0..3 {
                let row = &pd[(i * 3 + c) * n..(i * 3 + c + 1) * n];
                p[c] += row.iter().zip(f).map(|(a, b)| *a as f64 * b).sum::<f64>();
            }
        }
        p
    }

    /// Forward kinematics of every rig joint.
    pub(crate) fn kinematics(&self, params: &BodyParams) -> Kinematics {
        let rest = self.shaped_joints(&params.beta);
        let n = rest.len();
        let mut rot = vec![M3::identity(); n];
        let mut pos = vec![V3::zeros(); n];
        let t = V3::from(params.translation);
        let locals: Vec<M3> = params.pose.iter().map(axis_angle).collect();
        for j in 0..n {
            let local = self.rig_driver[j].map_or_else(M3::identity, |s| locals[s]);
            match self.parents[j] {
                None => {
                    rot[j] = local;
                    pos[j] = rest[j] + t;
                }
                Some(p) => {
                    rot[j] = rot[p] * local;
                    pos[j] = pos[p] + rot[p] * (rest[j] - rest[p]);
                }
            }
        }
        let pose_feature = self.pose_dirs.as_ref().map(|_| {
            let mut f = Vec::with_capacity(207);
            for l in locals.iter().skip(1) {
                let d = l - M3::identity();
                for r in 0..3 {
                    for c in 0..3 {
                        f.push(d[(r, c)]);
                    }
                }
            }
            f
        });
        Kinematics {
            rest,
            rot,
            pos,
            pose_feature,
        }
    }

    /// Posed position of vertex `i`.
    pub(crate) fn skin_vertex(&self, i: usize, beta: &[f64; NUM_BETAS], k: &Kinematics) -> V3 {
        let v = self.rest_vertex(i, beta, k.pose_feature.as_deref());
        let mut out = V3::zeros();
        for (&j, &w) in self.skin_joints[i].iter().zip(&self.skin_weights[i]) {
            if w == 0.0 {
                continue;
            }
            let j = j as usize;
            out += (k.rot[j] * (v - k.rest[j]) + k.pos[j]) * w as f64;
        }
        out
    }

    pub(crate) fn keypoint(&self, def: KeypointDef, beta: &[f64; NUM_BETAS], k: &Kinematics) -> V3 {
        match def {
            KeypointDef::Joint(j) => k.pos[j],
            KeypointDef::Vertex(v) => self.skin_vertex(v as usize, beta, k),
        }
    }

    /// Poses the whole body.
    pub fn pose(&self, params: &BodyParams) -> PosedBody {
        let k = self.kinematics(params);
        let vertices = (0..self.template.len())
            .map(|i| to_f32(&self.skin_vertex(i, &params.beta, &k)))
            .collect();
        let joints = k.pos.iter().map(to_f32).collect();
        let mut smpl_joints = [[0.0; 3]; NUM_SMPL_JOINTS];
        for (s, &r) in smpl_joints.iter_mut().zip(&self.smpl_joint) {
            *s = to_f32(&k.pos[r]);
        }
        let mut keypoints = [[0.0; 3]; 33];
        for (o, d) in keypoints.iter_mut().zip(&self.keypoints) {
            *o = to_f32(&self.keypoint(*d, &params.beta, &k));
        }
        PosedBody {
            vertices,
            joints,
            smpl_joints,
            keypoints,
        }
    }

    /// Checks the internal consistency every constructor must guarantee, so
    /// later stages can index without bounds worries.
    pub(crate) fn validate(&self) -> crate::Result<()> {
        let nv = self.template.len();
        let nj = self.parents.len();
        let bad = |m: &str| {
            Err(crate::BodyError::InvalidInput(format!(
                "{}: {m}",
                self.name
            )))
        };
        if nv == 0 || self.faces.is_empty() {
            return bad("empty mesh");
        }
        if self.shape_dirs.len() != nv
            || self.skin_joints.len() != nv
            || self.skin_weights.len() != nv
            || self.vertex_parts.len() != nv
        {
            return bad("per-vertex arrays differ in length");
        }
        if self.faces.iter().flatten().any(|&i| i as usize >= nv) {
            return bad("face index out of range");
        }
        if !self.face_uvs.is_empty()
            && (self.face_uvs.len() != self.faces.len()
                || self
                    .face_uvs
                    .iter()
                    .flatten()
                    .any(|&i| i as usize >= self.uvs.len()))
        {
            return bad("uv index out of range");
        }
        if self.joint_template.len() != nj
            || self.joint_shape_dirs.len() != nj
            || self.rig_driver.len() != nj
            || self.joint_names.len() != nj
        {
            return bad("per-joint arrays differ in length");
        }
        for (j, p) in self.parents.iter().enumerate() {
            if let Some(p) = p
                && *p >= j
            {
                return bad("joints not ordered parents-first");
            }
        }
        if self.smpl_joint.iter().any(|&j| j >= nj)
            || self
                .rig_driver
                .iter()
                .flatten()
                .any(|&s| s >= NUM_SMPL_JOINTS)
        {
            return bad("joint mapping out of range");
        }
        if self.skin_joints.iter().flatten().any(|&j| j as usize >= nj) {
            return bad("skin joint out of range");
        }
        for k in &self.keypoints {
            match *k {
                KeypointDef::Joint(j) if j >= nj => return bad("keypoint joint out of range"),
                KeypointDef::Vertex(v) if v as usize >= nv => {
                    return bad("keypoint vertex out of range");
                }
                _ => {}
            }
        }
        if let Some(pd) = &self.pose_dirs
            && pd.len() != nv * 3 * 207
        {
            return bad("pose blend shapes have the wrong size");
        }
        if self
            .template
            .iter()
            .any(|v| !v.iter().all(|x| x.is_finite()))
        {
            return bad("non-finite template");
        }
        Ok(())
    }

    /// Vertex normals (area-weighted) of a posed mesh.
    pub fn vertex_normals(&self, vertices: &[[f32; 3]]) -> Vec<[f32; 3]> {
        let mut acc = vec![[0.0f32; 3]; vertices.len()];
        for f in &self.faces {
            let [a, b, c] = f.map(|i| vertices[i as usize]);
            let e1 = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
            let e2 = [c[0] - a[0], c[1] - a[1], c[2] - a[2]];
            let n = [
                e1[1] * e2[2] - e1[2] * e2[1],
                e1[2] * e2[0] - e1[0] * e2[2],
                e1[0] * e2[1] - e1[1] * e2[0],
            ];
            for &i in f {
                for c in 0..3 {
                    acc[i as usize][c] += n[c];
                }
            }
        }
        for n in &mut acc {
            let l = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt();
            if l > 0.0 {
                for c in n.iter_mut() {
                    *c /= l;
                }
            }
        }
        acc
    }
}

/// Keeps the four strongest influences of a vertex and normalises them.
pub(crate) fn top4(mut infl: Vec<(u16, f32)>, fallback: u16) -> ([u16; 4], [f32; 4]) {
    infl.retain(|(_, w)| w.is_finite() && *w > 0.0);
    infl.sort_by(|a, b| b.1.total_cmp(&a.1));
    infl.truncate(4);
    let sum: f32 = infl.iter().map(|x| x.1).sum();
    // Unused slots carry joint 0 with weight 0, as glTF requires.
    let mut j = [0; 4];
    let mut w = [0.0; 4];
    if sum <= 0.0 {
        j[0] = fallback;
        w[0] = 1.0;
        return (j, w);
    }
    for (k, (jj, ww)) in infl.into_iter().enumerate() {
        j[k] = jj;
        w[k] = ww / sum;
    }
    (j, w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_labels_unique() {
        let mut seen = std::collections::HashSet::new();
        for p in BodyPart::ALL {
            assert!(seen.insert(p.label()));
            assert!(p.label() > 0);
        }
    }

    #[test]
    fn rotation_log_inverts_axis_angle() {
        for r in [
            [0.0, 0.0, 0.0],
            [0.3, -0.2, 0.1],
            [std::f64::consts::PI, 0.0, 0.0],
            [0.0, std::f64::consts::PI - 1e-5, 0.0],
            [1.0, 2.0, -0.5],
        ] {
            let m = axis_angle(&r);
            let back = axis_angle(&[rotation_log(&m).x, rotation_log(&m).y, rotation_log(&m).z]);
            assert!((m - back).norm() < 1e-6, "{r:?}");
        }
    }

    #[test]
    fn top4_normalises() {
        let (j, w) = top4(vec![(1, 0.1), (2, 0.5), (3, 0.2), (4, 0.1), (5, 0.1)], 0);
        assert_eq!(j[0], 2);
        assert!((w.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        let (j, w) = top4(vec![], 7);
        assert_eq!((j[0], w[0]), (7, 1.0));
    }
}

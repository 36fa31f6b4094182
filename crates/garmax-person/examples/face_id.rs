//! Face identity tools.
//!
//! `face_id crops <points.json> <assets> <out_dir>` — aligns every face of a
//! points file (from `tools/reference/face_id_reference.cjs points`) to the
//! 112 × 112 template and writes its raw RGB bytes as `<id>.rgb`, the input
//! the reference script embeds with TF.js.
//!
//! `face_id eval <fixture.json> <assets> <models_dir>` — embeds every face
//! of the fixture with our ONNX model and prints the parity with the TF.js
//! embeddings, ROC AUC of same vs different person, the cosine threshold at
//! the equal error rate, and the embedding time per face.

use std::path::{Path, PathBuf};
use std::time::Instant;

use garmax_person::face_id::{FaceIdentity, align_face, similarity};
use garmax_person::{OrtBackend, default_onnxruntime_library};
use serde_json::Value;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["crops", points, assets, out] => {
            crops(Path::new(points), Path::new(assets), Path::new(out))
        }
        ["eval", fixture, assets, models] => {
            eval(Path::new(fixture), Path::new(assets), Path::new(models))
        }
        _ => Err("usage: face_id crops <points.json> <assets> <out_dir> | \
                  eval <fixture.json> <assets> <models_dir>"
            .into()),
    };
    if let Err(e) = result {
        eprintln!("{e}");
        std::process::exit(1);
    }
}

type Res<T> = Result<T, Box<dyn std::error::Error>>;

struct Face {
    id: String,
    person: String,
    crop: image::RgbImage,
    reference: Option<Vec<f32>>,
}

fn read_faces(file: &Path, assets: &Path) -> Res<Vec<Face>> {
    let json: Value = serde_json::from_slice(&std::fs::read(file)?)?;
    let list = json
        .get("faces")
        .unwrap_or(&json)
        .as_array()
        .ok_or("no face list")?;
    let mut faces = Vec::new();
    for f in list {
        let photo_path = assets.join(f["photo"].as_str().ok_or("photo")?);
        let photo = image::open(&photo_path)
            .map_err(|e| format!("{}: {e}", photo_path.display()))?
            .to_rgb8();
        let pts: Vec<[f32; 2]> = serde_json::from_value(f["points"].clone())?;
        let five: [[f32; 2]; 5] = pts.try_into().map_err(|_| "five points")?;
        let crop = align_face(&photo, &five).ok_or("degenerate points")?;
        faces.push(Face {
            id: f["id"].as_str().ok_or("id")?.to_string(),
            person: f["person"].as_str().ok_or("person")?.to_string(),
            crop,
            reference: f
                .get("embedding")
                .map(|e| serde_json::from_value(e.clone()))
                .transpose()?,
        });
    }
    Ok(faces)
}

fn crops(points: &Path, assets: &Path, out: &Path) -> Res<()> {
    std::fs::create_dir_all(out)?;
    for face in read_faces(points, assets)? {
        std::fs::write(out.join(format!("{}.rgb", face.id)), face.crop.as_raw())?;
        face.crop.save(out.join(format!("{}.png", face.id)))?;
    }
    Ok(())
}

fn eval(fixture: &Path, assets: &Path, models: &Path) -> Res<()> {
    let library: PathBuf = default_onnxruntime_library(models);
    let backend = OrtBackend::new(&library, 1)?;
    let identity = FaceIdentity::load(&backend, assets, models)?;
    let faces = read_faces(fixture, assets)?;
    let mut embeddings = Vec::new();
    let mut worst = 1.0f32;
    identity.embed(&faces[0].crop)?; // warm-up run, not timed
    let start = Instant::now();
    for face in &faces {
        let e = identity.embed(&face.crop)?;
        if let Some(r) = &face.reference {
            let norm = r.iter().map(|v| v * v).sum::<f32>().sqrt();
            let cos: f32 = e.iter().zip(r).map(|(a, b)| a * b / norm).sum();
            worst = worst.min(cos);
            println!("{:14} parity cosine {cos:.6}", face.id);
        }
        embeddings.push(e);
    }
    let per_face = start.elapsed().as_secs_f64() * 1000.0 / faces.len() as f64;
    let (mut same, mut diff) = (Vec::new(), Vec::new());
    for i in 0..faces.len() {
        for j in i + 1..faces.len() {
            let s = similarity(&embeddings[i], &embeddings[j]);
            if faces[i].person == faces[j].person {
                println!("same {} / {}: {s:.4}", faces[i].id, faces[j].id);
                same.push(s);
            } else {
                diff.push(s);
            }
        }
    }
    // A second view of every face: mirrored, darker and lower in contrast —
    // what a re-rendered face looks like, not another photo; reported apart.
    let mut augmented = Vec::new();
    for (face, e) in faces.iter().zip(&embeddings) {
        let mut view = image::imageops::flip_horizontal(&face.crop);
        for p in view.pixels_mut() {
            p.0 = p.0.map(|v| (f32::from(v) * 0.7 + 20.0) as u8);
        }
        augmented.push(similarity(e, &identity.embed(&view)?));
    }
    let aug = garmax_person::face_id::roc(&augmented, &diff);
    println!(
        "augmented views: {} same pairs, min cosine {:.4}; with the different pairs: ROC AUC {:.4}, \
         EER {:.3} at cosine {:.4}",
        augmented.len(),
        augmented.iter().cloned().fold(f32::MAX, f32::min),
        aug.auc,
        aug.eer,
        aug.eer_threshold
    );
    let mut sorted = diff.clone();
    sorted.sort_by(f32::total_cmp);
    println!(
        "different-person cosine: median {:.4}, 95th percentile {:.4}",
        sorted[sorted.len() / 2],
        sorted[sorted.len() * 95 / 100]
    );
    let roc = garmax_person::face_id::roc(&same, &diff);
    println!(
        "{} faces; worst parity cosine {worst:.6}; {} same / {} different pairs; \
         ROC AUC {:.4}; EER {:.3} at cosine {:.4}; max different {:.4}, min same {:.4}; \
         {per_face:.1} ms per face (1 thread)",
        faces.len(),
        same.len(),
        diff.len(),
        roc.auc,
        roc.eer,
        roc.eer_threshold,
        diff.iter().cloned().fold(f32::MIN, f32::max),
        same.iter().cloned().fold(f32::MAX, f32::min),
    );
    Ok(())
}

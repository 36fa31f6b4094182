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
//!
//! `face_id eval-mesh <fixture.json> <assets> <models_dir>` — the same
//! faces aligned with the five points `garmax-quality` takes from this
//! crate's own face mesh (eye-corner midpoints, nose tip, mouth corners) on
//! the most prominent person of each photo: how close those embeddings are
//! to the face-api-aligned ones, and the ROC of the faces found.

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
        ["eval-mesh", fixture, assets, models] => {
            eval_mesh(Path::new(fixture), Path::new(assets), Path::new(models))
        }
        _ => Err("usage: face_id crops <points.json> <assets> <out_dir> | \
                  eval <fixture.json> <assets> <models_dir> | \
                  eval-mesh <fixture.json> <assets> <models_dir>"
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

/// Mesh indices `garmax_quality::FacePoints::key_points` uses: eye corners
/// 33/133 and 362/263, nose tip 1, mouth corners 61/291.
fn mesh_five(mesh: &[[f32; 3]]) -> [[f32; 2]; 5] {
    let p = |i: usize| [mesh[i][0], mesh[i][1]];
    let mid = |i: usize, j: usize| {
        [
            (mesh[i][0] + mesh[j][0]) / 2.0,
            (mesh[i][1] + mesh[j][1]) / 2.0,
        ]
    };
    [mid(33, 133), mid(362, 263), p(1), p(61), p(291)]
}

fn eval_mesh(fixture: &Path, assets: &Path, models: &Path) -> Res<()> {
    let library = default_onnxruntime_library(models);
    let backend = OrtBackend::new(&library, 1)?;
    let identity = FaceIdentity::load(&backend, assets, models)?;
    let analyzer = garmax_person::PersonAnalyzer::new(
        models,
        garmax_person::AnalyzerOptions {
            onnxruntime_library: Some(library.clone()),
            ..Default::default()
        },
    )?;
    let json: Value = serde_json::from_slice(&std::fs::read(fixture)?)?;
    let faces = read_faces(fixture, assets)?;
    let list = json["faces"].as_array().ok_or("no face list")?;
    let mut found: Vec<(String, [f32; 128])> = Vec::new();
    let mut photos: Vec<&str> = list.iter().filter_map(|f| f["photo"].as_str()).collect();
    photos.dedup();
    for photo_rel in photos {
        let photo = image::open(assets.join(photo_rel))?.to_rgb8();
        let face = match analyzer.analyze(&photo) {
            Ok(a) => a.face,
            Err(e) => {
                println!("{photo_rel}: {e}");
                continue;
            }
        };
        let Some(face) = face else {
            println!("{photo_rel}: no face mesh");
            continue;
        };
        let five = mesh_five(&face.mesh);
        // The fixture face of this photo whose eyes are nearest.
        let (k, dist) = list
            .iter()
            .enumerate()
            .filter(|(_, f)| f["photo"].as_str() == Some(photo_rel))
            .map(|(k, f)| {
                let e: Vec<[f32; 2]> = serde_json::from_value(f["points"].clone()).unwrap();
                let d = (e[0][0] - five[0][0]).hypot(e[0][1] - five[0][1])
                    + (e[1][0] - five[1][0]).hypot(e[1][1] - five[1][1]);
                (k, d)
            })
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .ok_or("photo without fixture faces")?;
        let crop = align_face(&photo, &five).ok_or("degenerate mesh points")?;
        let e = identity.embed(&crop)?;
        let reference = identity.embed(&faces[k].crop)?;
        let iod = (five[0][0] - five[1][0]).hypot(five[0][1] - five[1][1]);
        println!(
            "{photo_rel}: mesh face = {} (eyes {:.1} % of the IOD apart), cosine to the face-api-aligned embedding {:.4}",
            faces[k].id,
            100.0 * dist / 2.0 / iod,
            similarity(&e, &reference)
        );
        found.push((faces[k].person.clone(), e));
    }
    let (mut same, mut diff) = (Vec::new(), Vec::new());
    for i in 0..found.len() {
        for j in i + 1..found.len() {
            let s = similarity(&found[i].1, &found[j].1);
            if found[i].0 == found[j].0 {
                same.push(s)
            } else {
                diff.push(s)
            }
        }
    }
    let r = garmax_person::face_id::roc(&same, &diff);
    println!(
        "mesh-aligned: {} faces, {} same / {} different pairs, ROC AUC {:.4}, EER {:.3} at cosine {:.4}",
        found.len(),
        same.len(),
        diff.len(),
        r.auc,
        r.eer,
        r.eer_threshold
    );
    Ok(())
}

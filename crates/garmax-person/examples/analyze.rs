//! Analyse one photo and print what was found (detections, ROI, landmarks,
//! face) as JSON; with a second argument, also write `pose.png`,
//! `overlay.png`, `person_mask.png` and `openpose.json` into that folder.
//!
//! `cargo run -p garmax-person --example analyze -- photo.jpg [out-dir]`
//! (models from the asset cache's `models/`, as `garmax models fetch` uses).

use std::path::PathBuf;

use garmax_person::{AnalyzerOptions, PersonAnalyzer, draw, keypoints};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let photo = args.next().ok_or("usage: analyze <photo> [out-dir]")?;
    let out_dir = args.next().map(PathBuf::from);
    // The one cache resolver: GARMAX_CACHE_DIR, XDG_CACHE_HOME or ~/.cache.
    let cache = garmax_assets::Cache::resolve()?.root().to_path_buf();
    garmax_person::convert_models(&cache.join("assets"), &cache.join("models"), false)?;
    let refine_passes = std::env::var("REFINE_PASSES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let analyzer = PersonAnalyzer::new(
        cache.join("models"),
        AnalyzerOptions {
            refine_passes,
            ..Default::default()
        },
    )?;
    let img = image::open(&photo)?.to_rgb8();
    let people = analyzer.detect_people(&img)?;
    // ROI=x,y,w,h,rotation (normalised) analyses that ROI without detection.
    let a = match std::env::var("ROI").ok() {
        Some(r) => {
            let v: Vec<f32> = r.split(',').filter_map(|x| x.trim().parse().ok()).collect();
            let [x_center, y_center, width, height, rotation] = v[..] else {
                return Err("ROI=x,y,w,h,rot".into());
            };
            analyzer.analyze_roi(
                &img,
                garmax_person::NormRect {
                    x_center,
                    y_center,
                    width,
                    height,
                    rotation,
                },
            )?
        }
        None => analyzer.analyze(&img)?,
    };
    let json = serde_json::json!({
        "detections": people,
        "people_detected": a.people_detected,
        "roi": a.roi,
        "tracking_roi": a.tracking_roi,
        "presence": a.presence,
        "landmarks": a.landmarks,
        "coco17": keypoints::coco17(&a.landmarks),
        "face": a.face.as_ref().map(|f| serde_json::json!({"score": f.score, "bbox": f.bbox, "mesh_score": f.mesh_score, "mesh_first": &f.mesh[..3.min(f.mesh.len())]})),
    });
    println!("{}", serde_json::to_string_pretty(&json)?);
    if let Some(dir) = out_dir {
        std::fs::create_dir_all(&dir)?;
        draw::pose_map(&a).save(dir.join("pose.png"))?;
        draw::overlay(&img, &a).save(dir.join("overlay.png"))?;
        a.mask.save(dir.join("person_mask.png"))?;
        std::fs::write(
            dir.join("openpose.json"),
            serde_json::to_string(&keypoints::openpose_json(&a.landmarks, 0.3))?,
        )?;
    }
    Ok(())
}

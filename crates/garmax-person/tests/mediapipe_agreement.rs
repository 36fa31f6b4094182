//! Agreement with MediaPipe Python (0.10.14, `solutions.pose`, static image
//! mode, model complexity 1, segmentation on) on real photos and synthetic
//! transforms of them. The reference comes from
//! `tools/reference/pose_reference.py`; the synthetic images are rebuilt here
//! bit-identically (checked by hash).

mod common;

use garmax_core::Coded;
use garmax_person::{AnalyzerOptions, PersonError};
use serde_json::Value;

/// Landmark error as a fraction of the image diagonal (the bar: 1 %).
const MAX_MEAN_DISTANCE: f64 = 0.01;
/// Person-mask IoU bar.
const MIN_MASK_IOU: f64 = 0.95;

struct CaseResult {
    name: String,
    distance_pct: f64,
    iou: f64,
}

fn compare(refine_passes: u32) -> Option<Vec<CaseResult>> {
    let analyzer = common::analyzer(AnalyzerOptions { refine_passes, face: false, ..AnalyzerOptions::default() })?;
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(common::fixtures_dir().join("pose_reference.json")).unwrap()).unwrap();
    let photos = &doc["photos"];
    let mut results = Vec::new();
    for case in doc["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap().to_string();
        let photo = common::load_photo(photos[case["photo"].as_str().unwrap()].as_str().unwrap());
        let m: Vec<f64> = case["matrix"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        let (w, h) = (case["out_size"][0].as_u64().unwrap() as u32, case["out_size"][1].as_u64().unwrap() as u32);
        let img = common::warp(&photo, &m.try_into().unwrap(), w, h);
        assert_eq!(common::fnv1a64(img.as_raw()), case["fnv1a64"].as_str().unwrap(), "{name}: synthetic image differs from the generator's");
        let reference = &case["reference"];
        let result = analyzer.analyze(&img);
        if reference.is_null() {
            // MediaPipe finds nobody: neither may we (same detector, same threshold).
            match result {
                Err(e @ PersonError::NoPerson(_)) => assert_eq!(e.code().as_str(), "PER_010"),
                Ok(a) => panic!("{name}: MediaPipe finds no person, we found one (score {})", a.detection_score),
                Err(e) => panic!("{name}: {e}"),
            }
            println!("{name:40} no person (both)");
            continue;
        }
        let analysis = result.unwrap_or_else(|e| panic!("{name}: {e}"));
        let diag = ((w as f64).powi(2) + (h as f64).powi(2)).sqrt();
        let (mut sum, mut n) = (0.0, 0);
        for (ours, theirs) in analysis.landmarks.image.iter().zip(reference["landmarks"].as_array().unwrap()) {
            let t: Vec<f64> = theirs.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
            if t[3] > 0.5 {
                sum += ((ours.x as f64 - t[0]).powi(2) + (ours.y as f64 - t[1]).powi(2)).sqrt();
                n += 1;
            }
        }
        let distance_pct = if n > 0 { sum / n as f64 / diag * 100.0 } else { 0.0 };
        let counts: Vec<u64> = reference["mask_rle"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
        let theirs = common::rle_decode(&counts, (w * h) as usize);
        let ours = analysis.binary_mask(0.5);
        let (mut inter, mut union) = (0u64, 0u64);
        for (o, t) in ours.as_raw().iter().zip(&theirs) {
            let o = *o > 0;
            inter += (o && *t) as u64;
            union += (o || *t) as u64;
        }
        let iou = if union == 0 { 1.0 } else { inter as f64 / union as f64 };
        println!("{name:40} mean distance {distance_pct:.3} % of diagonal over {n:2} landmarks, mask IoU {iou:.4}");
        results.push(CaseResult { name, distance_pct, iou });
    }
    Some(results)
}

#[test]
fn agrees_with_mediapipe_static_mode() {
    let Some(results) = compare(0) else { return };
    assert!(results.len() >= 23, "expected ≥3 photos + ≥20 transforms with a person, got {}", results.len());
    for r in &results {
        assert!(r.distance_pct <= MAX_MEAN_DISTANCE * 100.0, "{}: mean landmark distance {:.3} %", r.name, r.distance_pct);
        assert!(r.iou >= MIN_MASK_IOU, "{}: mask IoU {:.4}", r.name, r.iou);
    }
    let mean_d = results.iter().map(|r| r.distance_pct).sum::<f64>() / results.len() as f64;
    let mean_iou = results.iter().map(|r| r.iou).sum::<f64>() / results.len() as f64;
    println!("ALL {} cases: mean distance {mean_d:.3} %, mean IoU {mean_iou:.4}", results.len());
}

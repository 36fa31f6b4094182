//! End-to-end tests of the real `garmax` binary.

use std::path::PathBuf;
use std::process::{Command, Output};

fn garmax(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_garmax"))
        .args(args)
        .output()
        .expect("run garmax")
}

fn saleor_tee() -> PathBuf {
    let out = garmax(&[
        "models",
        "path",
        "saleor/static/placeholders/saleordemoproduct_cl_boot01_1.png",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    assert!(
        path.is_file(),
        "{} missing: run `garmax models fetch`",
        path.display()
    );
    path
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("garmax-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn analyze_prints_the_seed_shaped_json_and_an_overlay() {
    let dir = temp_dir("analyze");
    let overlay = dir.join("overlay.png");
    let out = garmax(&[
        "analyze",
        "--json",
        "--overlay",
        overlay.to_str().unwrap(),
        saleor_tee().to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(json["garmentType"], "tshirt");
    assert!(
        json["colors"]["dominant"]["hex"]
            .as_str()
            .unwrap()
            .starts_with('#')
    );
    assert!(json["colors"]["palette"].as_array().unwrap().len() >= 5);
    assert_eq!(json["branding"]["hasLogo"], true);
    assert_eq!(json["style"]["neckline"], "crew");
    assert!(json["confidence"].as_f64().unwrap() > 0.5);
    assert!(json["landmarks"]["shoulder_left"].is_array());
    let picture = image::open(&overlay).expect("overlay is a PNG");
    assert_eq!(picture.width(), 1024);
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn bad_inputs_fail_with_their_codes() {
    let dir = temp_dir("bad");
    let text = dir.join("photo.jpg");
    std::fs::write(&text, "this is not a photo").unwrap();
    let out = garmax(&["analyze", text.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("[IMG_004]"), "{err}");

    let missing = dir.join("nope.png");
    let out = garmax(&["analyze", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("[IO_014]"));

    let uniform = dir.join("uniform.png");
    image::RgbImage::from_pixel(200, 200, image::Rgb([30, 60, 200]))
        .save(&uniform)
        .unwrap();
    let out = garmax(&["analyze", uniform.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("[GAR_008]"));
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn body_writes_landmarks_mask_and_pose_map() {
    let out = garmax(&["models", "path", "skimage/data/astronaut.png"]);
    let photo = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let dir = temp_dir("body");
    let out = garmax(&[
        "body",
        &photo,
        "--landmarks",
        "--out-dir",
        dir.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let keypoints: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("keypoints.json")).unwrap()).unwrap();
    assert_eq!(keypoints["blazepose33"].as_array().unwrap().len(), 33);
    assert_eq!(keypoints["face"]["mesh468"].as_array().unwrap().len(), 468);
    // The astronaut's nose is in the upper middle of the 512×512 photo.
    let nose = &keypoints["blazepose33"][0];
    let (x, y) = (nose["x"].as_f64().unwrap(), nose["y"].as_f64().unwrap());
    assert!(
        (180.0..300.0).contains(&x) && (60.0..200.0).contains(&y),
        "nose at {x},{y}"
    );
    let mask = image::open(dir.join("person_mask.png")).unwrap().to_luma8();
    let person = mask.pixels().filter(|p| p.0[0] > 127).count() as f32 / (512.0 * 512.0);
    assert!((0.2..0.8).contains(&person), "person covers {person}");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn body_without_a_person_is_per_010() {
    let dir = temp_dir("noperson");
    let photo = dir.join("wall.png");
    image::RgbImage::from_fn(320, 240, |x, _| image::Rgb([200, (x % 200) as u8, 180]))
        .save(&photo)
        .unwrap();
    let out = garmax(&[
        "body",
        photo.to_str().unwrap(),
        "--out-dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("[PER_010]"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn body_fits_the_model_and_writes_guidance_maps() {
    let out = garmax(&["models", "path", "skimage/data/astronaut.png"]);
    let photo = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let dir = temp_dir("bodyfit");
    let out = garmax(&["body", &photo, "--out-dir", dir.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let smpl: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("smpl.json")).unwrap()).unwrap();
    assert_eq!(smpl["beta"].as_array().unwrap().len(), 10);
    assert_eq!(smpl["theta"].as_array().unwrap().len(), 72);
    assert_eq!(smpl["global_orient"].as_array().unwrap().len(), 3);
    assert_eq!(smpl["translation"].as_array().unwrap().len(), 3);
    for map in [
        "depth.png",
        "normal.png",
        "parts.png",
        "segment.png",
        "pose.png",
        "overlay.png",
        "landmarks_overlay.png",
    ] {
        let img = image::open(dir.join(map)).unwrap_or_else(|e| panic!("{map}: {e}"));
        assert_eq!((img.width(), img.height()), (512, 512), "{map}");
    }
    let glb = std::fs::read(dir.join("body.glb")).unwrap();
    assert_eq!(&glb[..4], b"glTF");
    std::fs::remove_dir_all(dir).ok();
}

fn asset(name: &str) -> PathBuf {
    let out = garmax(&["models", "path", name]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

fn personas_toml() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/personas.toml").to_string()
}

#[test]
fn tryon_writes_image_maps_and_report() {
    let dir = temp_dir("tryon");
    let person = asset("skimage/data/astronaut.png");
    let out = garmax(&[
        "tryon",
        "--person",
        person.to_str().unwrap(),
        "--garment",
        saleor_tee().to_str().unwrap(),
        "-o",
        dir.to_str().unwrap(),
        "--tier",
        "premium",
        "--quality",
        "sd",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let img = image::open(dir.join("tryon.png")).unwrap();
    assert_eq!(
        (img.width(), img.height()),
        (512, 512),
        "output at the photo's resolution"
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["provider"], "local");
    assert_eq!(report["tier"], "premium");
    // Every render went through the router: one `local` success per render.
    let calls = report["providerAttempts"].as_array().unwrap();
    assert!(!calls.is_empty(), "{report}");
    for c in calls {
        assert_eq!(c["provider"], "local");
        assert_eq!(c["outcome"], "success");
        assert_eq!(c["costUsd"], 0.0);
        assert!(c["latencyMs"].as_f64().unwrap() > 0.0);
    }
    assert_eq!(report["costEstimate"]["credits"], 10);
    assert!(
        report["render"]["stats"]["baseFabricMeanDeltaE"]
            .as_f64()
            .unwrap()
            < 3.0
    );
    assert_eq!(report["render"]["stats"]["faceHandPixelsChanged"], 0);
    assert!(report["timingsMs"].as_array().unwrap().len() >= 3);
    assert!(report["productAnalysis"]["landmarks"]["shoulder_left"].is_array());
    // Validation and the retry history (issue 6): five scores from the
    // render, every attempt recorded, the report's render is the best one.
    let v = &report["validation"];
    assert_eq!(v["tier"], "premium");
    for (group, key) in [
        ("consistency", "face"),
        ("consistency", "pose"),
        ("accuracy", "color"),
        ("accuracy", "style"),
        ("accuracy", "branding"),
    ] {
        let s = v[group][key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key} scored: {v}"));
        assert!((0.0..=1.0).contains(&s));
    }
    assert!(v["accuracy"]["color"].as_f64().unwrap() > 0.8, "{v}");
    let attempts = report["retryHistory"]["attempts"].as_array().unwrap();
    assert!(
        !attempts.is_empty() && attempts.len() <= 5,
        "premium: at most 1 + 4 attempts"
    );
    let best = report["retryHistory"]["bestIndex"].as_u64().unwrap() as usize;
    assert_eq!(report["render"]["parameters"], attempts[best]["parameters"]);
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn tryon_personas_and_bad_inputs_fail_with_their_codes() {
    let dir = temp_dir("tryon-bad");
    let tee = saleor_tee();
    let personas = personas_toml();
    let run = |extra: &[&str]| {
        let mut args = vec![
            "tryon",
            "--garment",
            tee.to_str().unwrap(),
            "-o",
            dir.to_str().unwrap(),
            "--personas",
            &personas,
        ];
        args.extend_from_slice(extra);
        let out = garmax(&args);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (code, err) = run(&["--persona", "nobody"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("[MOD_005]"), "{err}");
    let (_, err) = run(&["--persona", "eileen", "--pose", "Handstand"]);
    assert!(err.contains("[POS_006]"), "{err}");
    // A pose without a photo needs the body model for its mannequin.
    let (_, err) = run(&["--persona", "johny", "--pose", "Arms Crossed", "--no-body"]);
    assert!(
        err.contains("[POS_006]") && err.contains("mannequin"),
        "{err}"
    );
    let camera = asset("skimage/data/camera.png");
    let (_, err) = run(&["--person", camera.to_str().unwrap()]);
    assert!(
        err.contains("[GEN_002]") && err.contains("profile"),
        "{err}"
    );
    let (_, err) = run(&["--person", tee.to_str().unwrap()]);
    assert!(err.contains("[PER_010]"), "{err}");
    // The back of a tee: its neckline would land on the person's front.
    let astronaut = asset("skimage/data/astronaut.png");
    let back = asset("saleor/static/placeholders/saleordemoproduct_cl_boot03_2.png");
    let out = garmax(&[
        "tryon",
        "--garment",
        back.to_str().unwrap(),
        "--person",
        astronaut.to_str().unwrap(),
        "-o",
        dir.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("[GAR_008]") && err.contains("back"), "{err}");
    let (_, err) = run(&["--person", camera.to_str().unwrap(), "--provider", "gemini"]);
    assert!(
        err.contains("[PRV_018]") && err.contains("GEMINI_API_KEY"),
        "{err}"
    );
    let (_, err) = run(&["--person", camera.to_str().unwrap(), "--provider", "bogus"]);
    assert!(err.contains("unknown provider 'bogus'"), "{err}");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn tryon_with_a_persona_uses_its_reference_photo() {
    let dir = temp_dir("tryon-persona");
    let out = garmax(&[
        "tryon",
        "--persona",
        "eileen",
        "--garment",
        saleor_tee().to_str().unwrap(),
        "-o",
        dir.to_str().unwrap(),
        "--personas",
        &personas_toml(),
        "--no-body",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["stage1"]["kind"], "personaReference");
    assert_eq!(report["stage1"]["persona"], "eileen");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn tryon_persona_without_photo_dresses_a_mannequin() {
    let dir = temp_dir("tryon-mannequin");
    let out = garmax(&[
        "tryon",
        "--persona",
        "johny",
        "--pose",
        "Contrapposto",
        "--garment",
        saleor_tee().to_str().unwrap(),
        "-o",
        dir.to_str().unwrap(),
        "--personas",
        &personas_toml(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["stage1"]["kind"], "mannequin");
    assert_eq!(report["person"]["source"], "rendered mannequin");
    assert!(report["render"]["stats"]["garmentPixels"].as_u64().unwrap() > 20_000);
    std::fs::remove_dir_all(dir).ok();
}

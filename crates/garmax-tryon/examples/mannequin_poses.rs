//! Draws the mannequin in every named pose: `<out>/<pose>.png` (the photo
//! stage 2 dresses) and `<out>/<pose>.parts.png` (its front-most body part
//! per pixel, the occlusion order).
//!
//! `cargo run -p garmax-tryon --example mannequin_poses -- /tmp/persona-poses`

use garmax_body::{BodyPart, POSES};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::path::PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "persona-poses".into()),
    );
    std::fs::create_dir_all(&out)?;
    let cache = garmax_assets::Cache::resolve()?;
    let model = garmax_tryon::body_model(&cache)?;
    for pose in &POSES {
        let t = std::time::Instant::now();
        let m = garmax_tryon::mannequin::render(&model, pose, 640, 800);
        let ms = t.elapsed().as_secs_f64() * 1e3;
        let stem = garmax_body::poses::normalise_pose_name(pose.name);
        m.photo.save(out.join(format!("{stem}.png")))?;
        let parts = image::RgbImage::from_fn(640, 800, |x, y| {
            image::Rgb(m.parts[(y * 640 + x) as usize].map_or([0, 0, 0], BodyPart::color))
        });
        parts.save(out.join(format!("{stem}.parts.png")))?;
        println!("{:>17}: {stem}.png ({ms:.0} ms)", pose.name);
    }
    Ok(())
}

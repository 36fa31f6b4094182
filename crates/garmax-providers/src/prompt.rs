//! Prompts from the garment analysis and the persona, after the seed's
//! prompt engineering: colour names, garment type, branding, pose, tier.

use garmax_render::QualityTier;

use crate::job::RenderJob;

/// The seed's negative prompt.
pub const NEGATIVE_PROMPT: &str = "blurry, low quality, distorted, nude, nsfw";

/// "professional fashion photography of a person wearing a navy blue
/// tshirt with a white chest logo, standing, front view, …".
pub fn build_prompt(job: &RenderJob) -> String {
    let g = &job.garment;
    let mut garment = String::new();
    if !g.colors.is_empty() {
        garment.push_str(&g.colors[0]);
        garment.push(' ');
    }
    garment.push_str(if g.garment_type.is_empty() {
        "garment"
    } else {
        &g.garment_type
    });
    let mut parts = vec![format!(
        "professional fashion photography of the person wearing a {garment}"
    )];
    if g.colors.len() > 1 {
        parts.push(format!("accents in {}", g.colors[1..].join(", ")));
    }
    if !g.branding.is_empty() {
        parts.push(format!("with {}, reproduced exactly", g.branding));
    }
    if !g.style.is_empty() {
        parts.push(format!("{} style", g.style.join(", ")));
    }
    if let Some(pose) = &job.pose {
        parts.push(pose.clone());
    }
    parts.push("same face and identity as the input photo".into());
    parts.push(
        match job.tier {
            QualityTier::Standard => "high quality",
            QualityTier::Premium => "high quality, detailed fabric texture, studio lighting",
            QualityTier::Ultra => {
                "ultra high quality, photorealistic, detailed fabric texture, studio lighting, sharp focus"
            }
        }
        .into(),
    );
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::{GarmentBrief, ImageData};

    #[test]
    fn prompt_names_colour_type_branding_pose_and_tier() {
        let img = ImageData::new(vec![1], "image/png");
        let mut job = RenderJob::new(
            img.clone(),
            img,
            GarmentBrief {
                garment_type: "hoodie".into(),
                colors: vec!["navy blue".into(), "white".into()],
                branding: "a white chest logo".into(),
                style: vec!["casual".into()],
            },
        );
        job.pose = Some("standing, front view".into());
        job.tier = QualityTier::Ultra;
        let p = build_prompt(&job);
        for w in [
            "navy blue hoodie",
            "white",
            "chest logo",
            "casual",
            "front view",
            "photorealistic",
        ] {
            assert!(p.contains(w), "{w} missing in {p}");
        }
        assert_eq!(job.negative_prompt, NEGATIVE_PROMPT);
    }
}

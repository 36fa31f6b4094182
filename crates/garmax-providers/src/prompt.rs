//! Prompts from the garment analysis and the persona, after the seed's
//! prompt engineering: colour names, garment type, branding, pose, tier.

use garmax_render::QualityTier;

use crate::job::{GarmentBrief, RenderJob};

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

/// A catalogue persona as the prompts see it (the seed's `characteristics`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PersonaBrief {
    pub name: String,
    /// `physique`, `style`, `features`, … in key order.
    pub characteristics: Vec<(String, String)>,
}

fn tier_words(tier: QualityTier) -> &'static str {
    match tier {
        QualityTier::Standard => "high quality",
        QualityTier::Premium => "high quality, detailed fabric texture, studio lighting",
        QualityTier::Ultra => {
            "ultra high quality, photorealistic, detailed fabric texture, studio lighting, sharp focus"
        }
    }
}

/// The seed's stage-1 prompt: the persona in the target pose, its identity
/// kept ("model consistency"), before any product is applied.
pub fn stage1_prompt(persona: &PersonaBrief, pose: &str, tier: QualityTier) -> String {
    let mut parts = vec![format!(
        "professional fashion photography of {}, full body, {pose} pose",
        if persona.name.is_empty() {
            "the model"
        } else {
            &persona.name
        }
    )];
    for (_, v) in &persona.characteristics {
        if !v.trim().is_empty() {
            parts.push(v.trim().to_string());
        }
    }
    parts.push("consistent facial features and body proportions with the reference photo".into());
    parts.push("plain neutral clothing, plain studio background".into());
    parts.push(tier_words(tier).into());
    parts.join(", ")
}

/// The seed's stage-2 prompt: the product applied to the stage-1 model
/// while its appearance is preserved, with the product's colours, type,
/// style and branding from the analysis.
pub fn stage2_prompt(
    persona: &PersonaBrief,
    pose: &str,
    garment: &GarmentBrief,
    tier: QualityTier,
) -> String {
    let mut item = String::new();
    if let Some(c) = garment.colors.first() {
        item.push_str(c);
        item.push(' ');
    }
    item.push_str(if garment.garment_type.is_empty() {
        "garment"
    } else {
        &garment.garment_type
    });
    let who = if persona.name.is_empty() {
        "the model"
    } else {
        &persona.name
    };
    let mut parts = vec![format!("{who} wearing a {item}, {pose} pose")];
    if garment.colors.len() > 1 {
        parts.push(format!("accents in {}", garment.colors[1..].join(", ")));
    }
    if !garment.style.is_empty() {
        parts.push(format!("{} style", garment.style.join(", ")));
    }
    if !garment.branding.is_empty() {
        parts.push(format!(
            "with {}, reproduced exactly and clearly visible",
            garment.branding
        ));
    }
    parts.push("preserve the model's face, hair, body proportions and pose exactly".into());
    parts.push("exact product colours".into());
    parts.push(tier_words(tier).into());
    parts.join(", ")
}

/// Named colours the prompts use (CSS values).
const COLOR_NAMES: [(&str, [u8; 3]); 16] = [
    ("black", [0, 0, 0]),
    ("white", [255, 255, 255]),
    ("grey", [128, 128, 128]),
    ("red", [200, 30, 40]),
    ("dark red", [120, 10, 20]),
    ("orange", [240, 130, 30]),
    ("yellow", [240, 220, 40]),
    ("green", [40, 150, 60]),
    ("olive", [110, 110, 40]),
    ("teal", [0, 128, 128]),
    ("light blue", [140, 190, 230]),
    ("blue", [40, 80, 200]),
    ("navy blue", [20, 30, 80]),
    ("purple", [120, 50, 150]),
    ("pink", [240, 150, 190]),
    ("beige", [220, 200, 160]),
];

/// The nearest named colour of `#rrggbb`.
pub fn color_name(hex: &str) -> Option<&'static str> {
    let h = hex.strip_prefix('#')?;
    if h.len() != 6 {
        return None;
    }
    let c = |i: usize| u8::from_str_radix(&h[i..i + 2], 16).ok().map(i32::from);
    let (r, g, b) = (c(0)?, c(2)?, c(4)?);
    COLOR_NAMES
        .iter()
        .min_by_key(|(_, v)| {
            let d = |a: i32, b: u8| (a - i32::from(b)).pow(2);
            d(r, v[0]) + d(g, v[1]) + d(b, v[2])
        })
        .map(|(n, _)| *n)
}

impl GarmentBrief {
    /// The brief of a garment analysis JSON (`garmax analyze --json`, or a
    /// client's pre-analysed `productAnalysis` in the same shape).
    pub fn from_analysis(a: &serde_json::Value) -> GarmentBrief {
        let mut colors: Vec<String> = Vec::new();
        let mut push = |hex: Option<&str>| {
            if let Some(n) = hex.and_then(color_name)
                && !colors.iter().any(|c| c == n)
            {
                colors.push(n.to_string());
            }
        };
        push(a["colors"]["dominant"]["hex"].as_str());
        if let Some(p) = a["colors"]["palette"].as_array() {
            for c in p.iter().take(3) {
                push(c["hex"].as_str().or_else(|| c["color"]["hex"].as_str()));
            }
        }
        let b = &a["branding"];
        let kind = if b["hasEmbroidery"] == true {
            "an embroidered logo"
        } else if b["hasPrint"] == true {
            "a printed graphic"
        } else if b["hasHeatTransfer"] == true {
            "a heat-transfer logo"
        } else if b["hasLogo"] == true {
            "a logo"
        } else {
            ""
        };
        let style = ["fit", "neckline", "sleeveLength"]
            .iter()
            .filter_map(|k| a["style"][*k].as_str())
            .map(|v| v.replace('_', " "))
            .collect();
        GarmentBrief {
            garment_type: a["garmentType"].as_str().unwrap_or_default().to_string(),
            colors,
            branding: kind.to_string(),
            style,
        }
    }
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
    #[test]
    fn stage_prompts_carry_persona_pose_product_and_tier() {
        let persona = PersonaBrief {
            name: "Johny".into(),
            characteristics: vec![
                ("physique".into(), "athletic build, broad shoulders".into()),
                (
                    "features".into(),
                    "strong jawline, friendly expression".into(),
                ),
            ],
        };
        let s1 = stage1_prompt(&persona, "Arms Crossed", QualityTier::Premium);
        for w in [
            "Johny",
            "Arms Crossed",
            "broad shoulders",
            "strong jawline",
            "studio lighting",
        ] {
            assert!(s1.contains(w), "{w} missing in {s1}");
        }
        let brief = GarmentBrief::from_analysis(&serde_json::json!({
            "garmentType": "tshirt",
            "colors": {"dominant": {"hex": "#c4202c"}, "palette": [{"hex": "#ffffff"}]},
            "branding": {"hasLogo": true, "hasHeatTransfer": true},
            "style": {"fit": "regular", "neckline": "crew"}
        }));
        assert_eq!(brief.colors, ["red", "white"]);
        assert_eq!(brief.branding, "a heat-transfer logo");
        let s2 = stage2_prompt(&persona, "Arms Crossed", &brief, QualityTier::Ultra);
        for w in [
            "red tshirt",
            "white",
            "heat-transfer logo",
            "regular, crew",
            "photorealistic",
            "preserve",
        ] {
            assert!(s2.contains(w), "{w} missing in {s2}");
        }
        assert_ne!(
            s1,
            stage1_prompt(&persona, "Contrapposto", QualityTier::Premium)
        );
        assert_eq!(color_name("#101a4c"), Some("navy blue"));
        assert_eq!(color_name("nope"), None);
    }
}

//! The seed's render qualities; the tiers and the five knobs come from
//! `garmax_core::tier` (one table) and are re-exported here.

use serde::{Deserialize, Serialize};

pub use garmax_core::tier::{QualityTier, RenderParams, TierThresholds};

/// The seed's render qualities (`qualitySettings`), priced in credits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RenderQuality {
    Sd,
    Hd,
    #[serde(rename = "4k")]
    Uhd,
}

/// One row of the seed's `qualitySettings`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct QualitySettings {
    pub width: u32,
    pub height: u32,
    pub steps: u32,
    pub guidance_scale: f32,
    pub upscale: bool,
    /// USD per image for a remote provider.
    pub cost_estimate: f64,
    pub credits: u32,
}

impl RenderQuality {
    pub const ALL: [RenderQuality; 3] = [RenderQuality::Sd, RenderQuality::Hd, RenderQuality::Uhd];

    pub fn name(self) -> &'static str {
        match self {
            RenderQuality::Sd => "sd",
            RenderQuality::Hd => "hd",
            RenderQuality::Uhd => "4k",
        }
    }

    pub fn parse(s: &str) -> Option<RenderQuality> {
        RenderQuality::ALL
            .into_iter()
            .find(|q| q.name().eq_ignore_ascii_case(s))
    }

    pub fn settings(self) -> QualitySettings {
        match self {
            RenderQuality::Sd => QualitySettings {
                width: 1024,
                height: 1024,
                steps: 20,
                guidance_scale: 7.5,
                upscale: false,
                cost_estimate: 0.01,
                credits: 10,
            },
            RenderQuality::Hd => QualitySettings {
                width: 1024,
                height: 1024,
                steps: 30,
                guidance_scale: 8.0,
                upscale: false,
                cost_estimate: 0.015,
                credits: 15,
            },
            RenderQuality::Uhd => QualitySettings {
                width: 1024,
                height: 1024,
                steps: 50,
                guidance_scale: 9.0,
                upscale: true,
                cost_estimate: 0.025,
                credits: 25,
            },
        }
    }

    /// The local renderer's analogue of "steps": the warp mesh's cells
    /// across the garment. Finer meshes follow the spline more closely.
    pub fn mesh_cells(self) -> u32 {
        match self {
            RenderQuality::Sd => 40,
            RenderQuality::Hd => 64,
            RenderQuality::Uhd => 96,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_clamp() {
        assert_eq!(RenderQuality::parse("4K"), Some(RenderQuality::Uhd));
        assert_eq!(RenderQuality::parse("8k"), None);
        assert_eq!(RenderQuality::Hd.settings().credits, 15);
        let json = serde_json::to_string(&RenderQuality::Uhd).unwrap();
        assert_eq!(json, "\"4k\"");
    }
}

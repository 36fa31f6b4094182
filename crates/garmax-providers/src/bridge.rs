//! The seam between the synchronous try-on pipeline and the async router.
//!
//! `garmax_tryon::render_tryon` runs the render → validate → retry loop on
//! a blocking thread and calls a `garmax_render::RenderProvider` once per
//! attempt. [`RoutedRenderer`] is that provider for the router: each call
//! builds a [`RenderJob`] from a template (the user, the encoded person and
//! garment, the garment brief, the guidance maps, the prompts) plus the
//! attempt's knobs and decoded inputs, and waits for [`Router::render`] on
//! the runtime it was given (`Handle::block_on`; the caller is a blocking
//! pool thread or a plain thread, never an async task). Every provider call
//! of every render is recorded and handed to the pipeline through
//! `RenderProvider::drain_attempts`.
//!
//! The validators need more than pixels: the garment's region and where
//! its landmarks went. `local` returns its full output through the router
//! untouched; for a remote image the geometry comes from the local
//! renderer's placement of the same garment on the same person (a remote
//! provider returns pixels only), and the image is the provider's, decoded
//! through `garmax_vision::decode_image` and brought to the person photo's
//! size.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use garmax_core::{Coded as _, ErrorCode};
use garmax_render::{
    GarmentInput, LocalRenderer, PersonInput, ProviderAttempt, QualityTier, RenderError,
    RenderOutput, RenderProvider, RenderQuality, RenderRequest,
};
use garmax_vision::{GarmentAnalysis, ImageLimits};

use crate::error::RouterError;
use crate::job::{GarmentBrief, GuidanceMaps, ImageData, LocalInputs, RenderJob};
use crate::router::{Attempt, Outcome, Router};

/// A `RenderProvider` that renders through the router.
pub struct RoutedRenderer {
    router: Router,
    handle: tokio::runtime::Handle,
    template: RenderJob,
    renders: AtomicU32,
    attempts: Mutex<Vec<ProviderAttempt>>,
}

impl RoutedRenderer {
    /// `template` is the job every attempt starts from; its params,
    /// quality and decoded inputs are replaced per call.
    pub fn new(router: Router, handle: tokio::runtime::Handle, template: RenderJob) -> Self {
        RoutedRenderer {
            router,
            handle,
            template,
            renders: AtomicU32::new(0),
            attempts: Mutex::new(Vec::new()),
        }
    }

    fn record(&self, render: u32, attempts: &[Attempt]) {
        let mut all = self.attempts.lock().unwrap_or_else(|p| p.into_inner());
        all.extend(attempts.iter().map(|a| plain_attempt(render, a)));
    }

    /// The image of a routed result as a render output with geometry.
    fn output(
        &self,
        request: &RenderRequest<'_>,
        result: crate::job::RenderResult,
    ) -> Result<RenderOutput, RenderError> {
        if let Some(local) = result.local_output.as_ref().and_then(|o| o.take()) {
            return Ok(local);
        }
        let image = result.images.first().ok_or_else(|| {
            RenderError::Generation(format!("{} returned no image", result.provider))
        })?;
        let decoded =
            garmax_vision::decode_image(&image.bytes, &ImageLimits::default()).map_err(|e| {
                RenderError::Generation(format!("{}: unusable output image: {e}", result.provider))
            })?;
        let mut geometry = LocalRenderer.render(request)?;
        let (w, h) = geometry.image.dimensions();
        let mut pixels = decoded.rgba;
        if pixels.dimensions() != (w, h) {
            pixels = image::imageops::resize(&pixels, w, h, image::imageops::FilterType::Lanczos3);
        }
        geometry.image = pixels;
        // The map tells where the local renderer put the product's pixels,
        // not where the provider did.
        geometry.detail.product_map = None;
        geometry.detail.warnings.push(format!(
            "rendered by {}; the validators' garment region is the local renderer's placement",
            result.provider
        ));
        Ok(geometry)
    }
}

impl RenderProvider for RoutedRenderer {
    fn name(&self) -> &'static str {
        "router"
    }

    /// The estimate of the first provider of the user's chain (what the
    /// retry loop's cost limit counts per attempt).
    fn cost_per_image(&self, quality: RenderQuality) -> f64 {
        let mut job = self.template.clone();
        job.quality = quality;
        let (_, chain) = self.router.chain_for(job.user_id.as_deref());
        chain
            .first()
            .and_then(|name| self.router.provider(name))
            .map_or(0.0, |p| p.estimate_cost(&job))
    }

    fn render(&self, request: &RenderRequest<'_>) -> Result<RenderOutput, RenderError> {
        let number = self.renders.fetch_add(1, Ordering::SeqCst) + 1;
        let mut job = self.template.clone();
        job.params = request.params;
        job.quality = request.quality;
        job.local = Some(Arc::new(LocalInputs {
            person: request.person.clone(),
            garment: request.garment.clone(),
        }));
        match self.handle.block_on(self.router.render(&job)) {
            Ok(routed) => {
                self.record(number, &routed.attempts);
                self.output(request, routed.result)
            }
            Err(e) => {
                if let RouterError::Exhausted { attempts, .. } = &e {
                    self.record(number, attempts);
                }
                Err(render_error(&e))
            }
        }
    }

    fn drain_attempts(&self) -> Vec<ProviderAttempt> {
        std::mem::take(&mut *self.attempts.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// The router's failure as the renderer's, code and Retry-After kept.
pub fn render_error(e: &RouterError) -> RenderError {
    let retry_after_secs = match e {
        RouterError::Limit { retry_after, .. } => {
            Some(retry_after.map_or(1, |d| d.as_secs().max(1)))
        }
        RouterError::Exhausted { code, .. } if *code == ErrorCode::ProviderUnavailable => Some(30),
        _ => None,
    };
    RenderError::Routed {
        code: e.code(),
        message: e.to_string(),
        retry_after_secs,
    }
}

/// A router attempt as plain data for reports and session records.
pub fn plain_attempt(render: u32, a: &Attempt) -> ProviderAttempt {
    ProviderAttempt {
        render,
        provider: a.provider.clone(),
        outcome: match a.outcome {
            Outcome::Success => "success",
            Outcome::Failed => "failed",
            Outcome::Skipped => "skipped",
        }
        .into(),
        error_class: a.error_class.map(|c| c.name().to_string()),
        code: a.code.map(|c| c.as_str().to_string()),
        message: a.message.clone(),
        latency_ms: a.latency_ms,
        cost_usd: a.cost_usd,
    }
}

/// The render job of a try-on: the person (after stage 1) and the product
/// photo as PNGs, the brief and prompts from the garment analysis, the
/// guidance maps, tier and quality. Params and decoded inputs are filled
/// per attempt by [`RoutedRenderer`].
pub fn tryon_job(
    user_id: Option<String>,
    person: &PersonInput,
    garment: &GarmentInput,
    analysis: &GarmentAnalysis,
    maps: GuidanceMaps,
    tier: QualityTier,
    quality: RenderQuality,
) -> RenderJob {
    let mut job = RenderJob::new(
        ImageData::png(&person.photo),
        ImageData::png(&garment.photo),
        brief(analysis),
    );
    job.user_id = user_id;
    job.maps = maps;
    job.tier = tier;
    job.quality = quality;
    job.prompt = crate::prompt::build_prompt(&job);
    job
}

/// What a prompt and a FASHN category are built from: colour names (base
/// fabric first, then the other palette colours), the garment type,
/// branding and style words.
pub fn brief(a: &GarmentAnalysis) -> GarmentBrief {
    let mut colors = vec![color_name(
        a.colors.dominant.r,
        a.colors.dominant.g,
        a.colors.dominant.b,
    )];
    for s in &a.colors.palette {
        let name = color_name(s.rgb[0], s.rgb[1], s.rgb[2]);
        if s.share >= 0.05 && !colors.contains(&name) {
            colors.push(name);
        }
    }
    colors.truncate(3);
    let b = &a.branding;
    let kinds: Vec<&str> = [
        (b.has_print, "a print"),
        (b.has_embroidery, "embroidery"),
        (b.has_heat_transfer, "a heat-transfer graphic"),
        (
            b.has_logo && !b.has_print && !b.has_embroidery && !b.has_heat_transfer,
            "a logo",
        ),
    ]
    .into_iter()
    .filter_map(|(on, what)| on.then_some(what))
    .collect();
    let style = [
        serde_json::to_value(a.style.fit).ok(),
        serde_json::to_value(a.style.neckline).ok(),
        serde_json::to_value(a.style.sleeve_length).ok(),
    ]
    .into_iter()
    .flatten()
    .filter_map(|v| v.as_str().map(|s| s.replace('_', " ")))
    .collect();
    GarmentBrief {
        garment_type: a.garment_type.name().to_string(),
        colors,
        branding: kinds.join(" and "),
        style,
    }
}

/// The nearest of a few plain colour names (prompts want words, not hex).
pub fn color_name(r: u8, g: u8, b: u8) -> String {
    const NAMES: &[(&str, [u8; 3])] = &[
        ("black", [20, 20, 20]),
        ("white", [245, 245, 245]),
        ("grey", [128, 128, 128]),
        ("light grey", [200, 200, 200]),
        ("red", [200, 30, 40]),
        ("burgundy", [110, 20, 40]),
        ("orange", [240, 130, 30]),
        ("yellow", [240, 220, 40]),
        ("beige", [220, 200, 160]),
        ("brown", [120, 75, 40]),
        ("green", [40, 150, 60]),
        ("olive", [110, 120, 50]),
        ("teal", [20, 130, 130]),
        ("light blue", [120, 180, 230]),
        ("blue", [30, 80, 200]),
        ("navy blue", [20, 30, 80]),
        ("purple", [110, 50, 150]),
        ("pink", [240, 150, 190]),
    ];
    let d = |c: [u8; 3]| {
        let (dr, dg, db) = (
            r as i32 - c[0] as i32,
            g as i32 - c[1] as i32,
            b as i32 - c[2] as i32,
        );
        // Redmean-style weights: green matters most to the eye.
        2 * dr * dr + 4 * dg * dg + 3 * db * db
    };
    NAMES
        .iter()
        .min_by_key(|(_, c)| d(*c))
        .map_or("grey", |(n, _)| n)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use garmax_core::Coded;

    #[test]
    fn colour_names() {
        assert_eq!(color_name(18, 28, 78), "navy blue");
        assert_eq!(color_name(250, 250, 250), "white");
        assert_eq!(color_name(205, 35, 35), "red");
        assert_eq!(color_name(10, 10, 10), "black");
    }

    #[test]
    fn router_errors_keep_codes_and_waits() {
        let e = RouterError::Limit {
            kind: crate::error::LimitKind::DailyRenders,
            limit: 20,
            retry_after: Some(std::time::Duration::from_secs(3600)),
        };
        match render_error(&e) {
            RenderError::Routed {
                code,
                retry_after_secs,
                ..
            } => {
                assert_eq!(code, ErrorCode::LimitExceeded);
                assert_eq!(retry_after_secs, Some(3600));
            }
            other => panic!("{other:?}"),
        }
        let b = RouterError::Budget {
            scope: crate::error::BudgetScope::Global,
        };
        assert_eq!(render_error(&b).code().as_str(), "BUD_017");
    }
}

//! The async provider interface every renderer implements.

use std::future::Future;
use std::pin::Pin;

use crate::error::ProviderError;
use crate::job::{RenderJob, RenderResult};

/// A boxed, sendable future (the trait is object-safe so the router can
/// hold `Arc<dyn Provider>`).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One rendering backend: a remote API client, the local renderer, a
/// batching front.
pub trait Provider: Send + Sync {
    /// Name as configured (`nano-banana-pro`, `gemini`, `local`); used in
    /// chains, reports, breakers and budgets.
    fn name(&self) -> &str;

    /// Kind of client (`replicate`, `gemini`, `openai`, `fashn`, `local`).
    fn kind(&self) -> &'static str;

    /// USD this job is expected to cost, reserved against budgets before
    /// the call. Providers charge at most this much per job.
    fn estimate_cost(&self, job: &RenderJob) -> f64;

    fn render<'a>(
        &'a self,
        job: &'a RenderJob,
    ) -> BoxFuture<'a, Result<RenderResult, ProviderError>>;

    /// A cheap reachability/credential check (`garmax providers check`).
    fn check(&self) -> BoxFuture<'_, Result<String, ProviderError>> {
        Box::pin(async { Ok("no check defined".to_string()) })
    }
}

//! garmax-providers has one job: **turn a render request into an image
//! through the right provider** — the remote clients (Replicate and
//! self-hosted Cog, Gemini with its Batch API, OpenAI image edits, FASHN),
//! the local renderer adapted onto the same async [`Provider`] trait, and
//! the [`Router`] that picks among them: the seed's sticky SHA-256 split,
//! ordered failover chains ending in `local`, a circuit breaker per
//! provider, daily budgets (per provider, global, per user, per
//! generation), per-user render limits, and the event-driven [`Batcher`].
//!
//! It also holds the one payment provider's client, [`stripe`] (Checkout
//! Sessions and webhook signature verification), and the delivery of alert
//! notifications, [`notify`] (signed webhooks, SMTP email), because this is
//! the only crate of the workspace that calls out over the network.
//! It knows no SQL (budgets and counters sit behind [`UsageStore`]; the
//! in-memory [`MemoryUsage`] serves one process) and none of our own HTTP
//! API's routes or JSON.

pub mod batcher;
pub mod breaker;
pub mod bridge;
pub mod client;
pub mod config;
pub mod error;
pub mod fashn;
pub mod fetch;
pub mod gemini;
pub mod http;
pub mod job;
pub mod local;
pub mod notify;
pub mod openai;
pub mod prompt;
pub mod provider;
pub mod replicate;
pub mod router;
pub mod stripe;
pub mod usage;

pub use batcher::{BatchConfig, BatchedProvider, Batcher, FlushEvent, FlushReason};
pub use breaker::{BreakerConfig, BreakerState, CircuitBreaker};
pub use bridge::{RoutedRenderer, tryon_job};
pub use client::ClientConfig;
pub use config::{EndpointConfig, Kind, ProvidersConfig};
pub use error::{BudgetScope, ErrorClass, LimitKind, ProviderError, RouterError};
pub use fashn::FashnProvider;
pub use gemini::GeminiProvider;
pub use http::HttpSettings;
pub use job::{
    GarmentBrief, GuidanceMaps, ImageData, LocalInputs, LocalOutput, RenderJob, RenderResult,
    Timings,
};
pub use local::LocalProvider;
pub use openai::OpenAiProvider;
pub use provider::{BoxFuture, Provider};
pub use replicate::{InputMapping, ReplicateApi, ReplicateProvider};
pub use router::{
    Attempt, Clock, Limits, Outcome, ProviderStatus, Routed, Router, RouterBuilder, SystemClock,
};
pub use usage::{MemoryUsage, UsageStore};

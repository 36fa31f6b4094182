//! Persistence of garmax — the only crate that speaks SQL.
//!
//! - [`Store`]: a sqlx pool on SQLite (the embedded default: one file, WAL)
//!   or PostgreSQL (`postgres://…`), with one set of migrations
//!   (`migrations/`) and one set of queries for both. Everything a user owns
//!   is read through a query scoped to that user: another user's object is
//!   simply not found.
//! - [`queue`]: the durable job queue in the same database: enqueue inside
//!   the transaction that changes the state (no lost jobs), leases renewed by
//!   heartbeats, takeover of expired leases, retries with backoff, a terminal
//!   `failed` state, priorities; PostgreSQL claims with `FOR UPDATE SKIP
//!   LOCKED`.
//! - [`sessions`]: the try-on session state machine's storage and its event
//!   log, whose progress never goes backwards even when a stage is retried.
//! - [`usage`]: the render router's shared state — spend against budgets,
//!   per-user render counters, breakers — and each session's provider
//!   attempts.
//! - [`credits`]: the append-only credit ledger (holds, captures, releases,
//!   refunds, grants, purchases, adjustments) with a balance that a
//!   conditional update and a CHECK keep non-negative.
//! - [`billing`]: plans, billing periods, monthly quotas and the state
//!   Stripe's webhooks set (applied once per event, in order).
//! - [`objects`]: uploads, guidance maps and results through `object_store`
//!   (a local directory or S3); keys are made here from ids, never taken from
//!   user input.
//! - [`personas`], [`generations`], [`analytics`], [`abtests`]: the enhanced try-on
//!   API's catalogue, its generations with their metrics and ratings, and
//!   the admin analytics computed in SQL on both engines.
//! - [`alerts`]: named leases, hosts' health readings, alerts with their
//!   firing / resolved state and the outbox of their notifications.
//!
//! Times are milliseconds since the Unix epoch ([`now_ms`]).

pub mod abtests;
pub mod alerts;
pub mod analytics;
pub mod avatars;
pub mod billing;
pub mod credits;
pub mod error;
pub mod events;
pub mod garments;
pub mod generations;
pub mod objects;
pub mod personas;
pub mod queue;
pub mod sessions;
pub mod timings;
pub mod usage;
pub mod users;

use std::str::FromStr as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor as _};

pub use error::StoreError;
pub use objects::Objects;

/// The database engine behind a [`Store`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The database: a pool and which engine it talks to.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    /// Where write transactions run. On SQLite a pool of one connection:
    /// the database has one writer at a time anyway, and waiting for the
    /// pool is a fair, woken queue, where writers racing for the file lock
    /// wait in SQLite's busy handler, which sleeps in growing steps (up to
    /// 100 ms) and put the p99 of session creates near a second under
    /// load. Other processes on the same file still queue on the busy
    /// timeout. On PostgreSQL the same pool as `pool`.
    writer: AnyPool,
    backend: Backend,
    url: String,
    events: tokio::sync::broadcast::Sender<sessions::SessionEvent>,
    /// SQLite with the tail running: the events this process published and
    /// the tail has not read back yet, so each goes out once.
    published: events::Pending,
}

/// A transaction on the store's database.
pub type Tx = sqlx::Transaction<'static, sqlx::Any>;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A fresh random id (UUID v4).
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

impl Store {
    /// Connects to `url` (`sqlite://path`, `postgres://…`) and applies the
    /// migrations. A database left half-migrated (a migration that failed
    /// midway) or migrated by a newer garmax is refused with a clear error.
    pub async fn open(url: &str, max_connections: u32) -> Result<Store, StoreError> {
        let store = Store::connect(url, max_connections).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Connects without migrating.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            return Err(StoreError::Config(format!(
                "unsupported database URL '{}' (sqlite://FILE or postgres://…)",
                redact(url)
            )));
        };
        let url = match backend {
            // Create the file on first use.
            Backend::Sqlite if !url.contains("mode=") => {
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}mode=rwc")
            }
            _ => url.to_string(),
        };
        let options = AnyConnectOptions::from_str(&url)?;
        let pool = pool_options(backend, max_connections)
            .connect_with(options.clone())
            .await?;
        let writer = match backend {
            Backend::Sqlite => pool_options(backend, 1).connect_with(options).await?,
            Backend::Postgres => pool.clone(),
        };
        Ok(Store {
            pool,
            writer,
            backend,
            url,
            events: events::channel(),
            published: Default::default(),
        })
    }

    /// Applies pending migrations; refuses a dirty or newer database.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR
            .run(&self.pool)
            .await
            .map_err(StoreError::from_migrate)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The URL this store was opened with (for LISTEN connections).
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Begins a write transaction. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so two transactions that read before they write
    /// queue on the busy timeout instead of deadlocking.
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        Ok(match self.backend {
            Backend::Sqlite => self.writer.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.writer.begin().await?,
        })
    }

    /// Checks the database answers (for `/ready`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Closes the pool, waiting for connections in use.
    pub async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
    }
}

/// A pool of at most `max_connections` with the engine's session settings.
fn pool_options(backend: Backend, max_connections: u32) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(max_connections.max(1))
        .acquire_timeout(Duration::from_secs(10))
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                if backend == Backend::Sqlite {
                    // WAL lets readers run beside the one writer; the busy
                    // timeout makes writers of other processes queue
                    // instead of failing.
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    conn.execute("PRAGMA busy_timeout = 10000").await?;
                    conn.execute("PRAGMA foreign_keys = ON").await?;
                    conn.execute("PRAGMA synchronous = NORMAL").await?;
                }
                Ok(())
            })
        })
}

/// The URL with its password replaced, for messages and logs.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

/// A page of a listing: the items and the cursor of the next page.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// Cursor over (created_at, id), newest first.
pub(crate) fn encode_cursor(created_at: i64, id: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{created_at}:{id}"))
}

pub(crate) fn decode_cursor(cursor: &str) -> Result<(i64, String), StoreError> {
    use base64::Engine as _;
    let bad = || StoreError::Invalid("malformed cursor".into());
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (t, id) = text.split_once(':').ok_or_else(bad)?;
    Ok((t.parse().map_err(|_| bad())?, id.to_string()))
}

/// The (created_at, id) a page starts below: the cursor's, or above
/// everything for the first page.
pub(crate) fn cursor_bounds(cursor: Option<&str>) -> Result<(i64, String), StoreError> {
    match cursor {
        Some(c) => decode_cursor(c),
        None => Ok((i64::MAX, "\u{10FFFF}".to_string())),
    }
}

/// Page size bounds for listings.
pub(crate) fn clamp_limit(limit: Option<u32>) -> i64 {
    limit.unwrap_or(20).clamp(1, 100) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let c = encode_cursor(1234, "abc-def");
        assert_eq!(decode_cursor(&c).unwrap(), (1234, "abc-def".to_string()));
        assert!(decode_cursor("%%%").is_err());
        assert!(decode_cursor("bm9jb2xvbg").is_err()); // "nocolon"
    }

    #[test]
    fn redact_hides_passwords() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("sqlite://x.db"), "sqlite://x.db");
    }
}

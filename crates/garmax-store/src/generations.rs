//! Enhanced generations (the consistency seed's `POST
//! /api/enhanced-tryon/generate`), their per-generation metrics and the
//! users' ratings.
//!
//! An enhanced generation *is* a try-on session — it has the session's
//! state machine, progress events (socket.io, SSE) and image — plus a row
//! of the seed's request fields and, when it ends, the seed's response
//! body. The product photo is stored as a garment whose analysis the job
//! fills in (the seed's "product analysis" stage runs in the job, with
//! progress, not in the request).

use serde_json::Value;
use sqlx::Row as _;

use crate::queue::NewJob;
use crate::sessions::NewSession;
use crate::{Store, StoreError, now_ms};

/// The seed's request fields of a new generation.
#[derive(Debug, Clone)]
pub struct NewGeneration<'a> {
    pub model_id: Option<&'a str>,
    pub pose: Option<&'a str>,
    pub enable_retry: bool,
    pub max_retries: i64,
    pub product_analysis: Option<&'a Value>,
    /// The stage-1 and stage-2 prompts built for remote providers.
    pub prompts: &'a Value,
    pub ab_test_id: Option<&'a str>,
    pub ab_variant: Option<&'a str>,
}

/// A stored generation.
#[derive(Debug, Clone, PartialEq)]
pub struct Generation {
    pub session_id: String,
    pub user_id: String,
    pub model_id: Option<String>,
    pub pose: Option<String>,
    pub tier: String,
    pub enable_retry: bool,
    pub max_retries: i64,
    pub product_analysis: Option<Value>,
    pub prompts: Value,
    pub ab_test_id: Option<String>,
    pub ab_variant: Option<String>,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    /// The seed's response body, once the generation ended.
    pub response: Option<Value>,
    pub error_code: Option<String>,
    pub created_at: i64,
}

const SELECT: &str = "SELECT session_id, user_id, model_id, pose, tier, enable_retry, max_retries, \
    product_analysis, prompts, ab_test_id, ab_variant, started_at, finished_at, response, error_code, \
    created_at FROM enhanced_generations";

fn json_of(text: Option<String>) -> Result<Option<Value>, StoreError> {
    text.map(|t| serde_json::from_str(&t))
        .transpose()
        .map_err(|e| StoreError::Invalid(e.to_string()))
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<Generation, StoreError> {
    Ok(Generation {
        session_id: row.try_get("session_id")?,
        user_id: row.try_get("user_id")?,
        model_id: row.try_get("model_id")?,
        pose: row.try_get("pose")?,
        tier: row.try_get("tier")?,
        enable_retry: row.try_get::<i64, _>("enable_retry")? != 0,
        max_retries: row.try_get("max_retries")?,
        product_analysis: json_of(row.try_get("product_analysis")?)?,
        prompts: json_of(row.try_get("prompts")?)?.unwrap_or(Value::Null),
        ab_test_id: row.try_get("ab_test_id")?,
        ab_variant: row.try_get("ab_variant")?,
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
        response: json_of(row.try_get("response")?)?,
        error_code: row.try_get("error_code")?,
        created_at: row.try_get("created_at")?,
    })
}

/// What one generation measured (one row of `generation_metrics`).
#[derive(Debug, Clone, PartialEq)]
pub struct GenerationMetrics {
    pub session_id: String,
    pub user_id: String,
    pub model_id: Option<String>,
    pub pose: Option<String>,
    pub tier: String,
    pub provider: String,
    pub attempts: i64,
    pub face: Option<f64>,
    pub pose_score: Option<f64>,
    pub color: Option<f64>,
    pub style: Option<f64>,
    pub branding: Option<f64>,
    pub overall: Option<f64>,
    pub passes: bool,
    /// The metric furthest below its threshold on the first attempt.
    pub failing_metric: Option<String>,
    pub analysis_ms: i64,
    pub stage1_ms: i64,
    pub stage2_ms: i64,
    pub validation_ms: i64,
    pub total_ms: i64,
    pub cost: f64,
    pub error_code: Option<String>,
    pub ab_test_id: Option<String>,
    pub ab_variant: Option<String>,
    pub created_at: i64,
}

const METRIC_COLUMNS: &str = "session_id, user_id, model_id, pose, tier, provider, attempts, score_face, \
    score_pose, score_color, score_style, score_branding, overall, passes, failing_metric, analysis_ms, \
    stage1_ms, stage2_ms, validation_ms, total_ms, cost, error_code, ab_test_id, ab_variant, created_at";

/// How many columns a metrics row has (for multi-row inserts).
const METRIC_ARITY: usize = 25;

fn bind_metrics<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    m: &'q GenerationMetrics,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    q.bind(&m.session_id)
        .bind(&m.user_id)
        .bind(&m.model_id)
        .bind(&m.pose)
        .bind(&m.tier)
        .bind(&m.provider)
        .bind(m.attempts)
        .bind(m.face)
        .bind(m.pose_score)
        .bind(m.color)
        .bind(m.style)
        .bind(m.branding)
        .bind(m.overall)
        .bind(m.passes as i64)
        .bind(&m.failing_metric)
        .bind(m.analysis_ms)
        .bind(m.stage1_ms)
        .bind(m.stage2_ms)
        .bind(m.validation_ms)
        .bind(m.total_ms)
        .bind(m.cost)
        .bind(&m.error_code)
        .bind(&m.ab_test_id)
        .bind(&m.ab_variant)
        .bind(m.created_at)
}

fn placeholders(rows: usize, arity: usize) -> String {
    (0..rows)
        .map(|r| {
            let cols: Vec<String> = (1..=arity).map(|c| format!("${}", r * arity + c)).collect();
            format!("({})", cols.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl Store {
    /// Records a generation: its product photo as a garment awaiting
    /// analysis (the image already stored under `garments/{garment_id}/image`),
    /// its session, the request row and its job — in one transaction.
    pub async fn create_generation(
        &self,
        garment_id: &str,
        session: &NewSession<'_>,
        generation: &NewGeneration<'_>,
        job: &NewJob,
    ) -> Result<String, StoreError> {
        let mut tx = self.begin().await?;
        let now = now_ms();
        sqlx::query(
            "INSERT INTO garments (id, user_id, analysis, files, created_at) VALUES ($1, $2, '{}', '[\"image\"]', $3)",
        )
        .bind(garment_id)
        .bind(session.user_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let event = crate::sessions::insert(&mut tx, self.backend(), session).await?;
        sqlx::query(
            "INSERT INTO enhanced_generations (session_id, user_id, model_id, pose, tier, enable_retry, \
             max_retries, product_analysis, prompts, ab_test_id, ab_variant, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(session.id)
        .bind(session.user_id)
        .bind(generation.model_id)
        .bind(generation.pose)
        .bind(session.tier)
        .bind(generation.enable_retry as i64)
        .bind(generation.max_retries)
        .bind(generation.product_analysis.map(|v| v.to_string()))
        .bind(generation.prompts.to_string())
        .bind(generation.ab_test_id)
        .bind(generation.ab_variant)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let job_id = crate::queue::enqueue(&mut tx, job).await?;
        tx.commit().await?;
        self.publish_local(&event);
        Ok(job_id)
    }

    /// The generation whoever owns it (for workers).
    pub async fn generation_by_id(&self, session_id: &str) -> Result<Generation, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE session_id = $1"
        )))
        .bind(session_id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        from_row(&row)
    }

    /// The generation if it belongs to `user_id`.
    pub async fn generation(
        &self,
        user_id: &str,
        session_id: &str,
    ) -> Result<Generation, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE session_id = $1 AND user_id = $2"
        )))
        .bind(session_id)
        .bind(user_id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        from_row(&row)
    }

    /// Notes when the job first started (kept across retried attempts).
    pub async fn start_generation(&self, session_id: &str) -> Result<i64, StoreError> {
        sqlx::query(
            "UPDATE enhanced_generations SET started_at = $1 WHERE session_id = $2 AND started_at IS NULL",
        )
        .bind(now_ms())
        .bind(session_id)
        .execute(self.pool())
        .await?;
        let row = sqlx::query("SELECT started_at FROM enhanced_generations WHERE session_id = $1")
            .bind(session_id)
            .fetch_one(self.pool())
            .await?;
        Ok(row
            .try_get::<Option<i64>, _>("started_at")?
            .unwrap_or_else(now_ms))
    }

    /// Stores the prompts built once the product analysis is known.
    pub async fn set_generation_prompts(
        &self,
        session_id: &str,
        prompts: &Value,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE enhanced_generations SET prompts = $1 WHERE session_id = $2")
            .bind(prompts.to_string())
            .bind(session_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Stores the seed's response body (and the error code when it ended
    /// in one).
    pub async fn finish_generation(
        &self,
        session_id: &str,
        response: &Value,
        error_code: Option<&str>,
        finished_at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE enhanced_generations SET response = $1, error_code = $2, finished_at = $3 WHERE session_id = $4",
        )
        .bind(response.to_string())
        .bind(error_code)
        .bind(finished_at)
        .bind(session_id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Fills in a garment's analysis and file list once the job made them.
    pub async fn set_garment_analysis(
        &self,
        garment_id: &str,
        analysis: &Value,
        files: &[String],
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE garments SET analysis = $1, files = $2 WHERE id = $3")
            .bind(analysis.to_string())
            .bind(serde_json::to_string(files).map_err(|e| StoreError::Invalid(e.to_string()))?)
            .bind(garment_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Writes a generation's metrics (replacing an earlier row of the same
    /// session: a job retried after a crash ends once more).
    pub async fn record_metrics(&self, m: &GenerationMetrics) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM generation_metrics WHERE session_id = $1")
            .bind(&m.session_id)
            .execute(&mut *tx)
            .await?;
        let sql = format!(
            "INSERT INTO generation_metrics ({METRIC_COLUMNS}) VALUES {}",
            placeholders(1, METRIC_ARITY)
        );
        bind_metrics(sqlx::query(sqlx::AssertSqlSafe(sql)), m)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Inserts many metrics rows at once (imports, generated histories for
    /// tests and benchmarks).
    pub async fn insert_metrics_batch(&self, rows: &[GenerationMetrics]) -> Result<(), StoreError> {
        // SQLite allows 32766 parameters per statement; PostgreSQL 65535.
        const PER_STATEMENT: usize = 1000;
        let mut tx = self.begin().await?;
        for chunk in rows.chunks(PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO generation_metrics ({METRIC_COLUMNS}) VALUES {}",
                placeholders(chunk.len(), METRIC_ARITY)
            );
            // Not cached: the Any driver types a NULL argument by itself, so a
            // statement prepared for a chunk whose first row lacks a score
            // would refuse the next chunk's number in that place (22P03).
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).persistent(false);
            for m in chunk {
                q = bind_metrics(q, m);
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The metrics row of a session, if one was written.
    pub async fn metrics_of(
        &self,
        session_id: &str,
    ) -> Result<Option<GenerationMetrics>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {METRIC_COLUMNS} FROM generation_metrics WHERE session_id = $1"
        )))
        .bind(session_id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(metrics_from_row).transpose()
    }

    /// Deletes metrics older than `before_ms`; returns how many.
    pub async fn prune_metrics(&self, before_ms: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM generation_metrics WHERE created_at < $1")
            .bind(before_ms)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected())
    }

    /// A user's 1–5 rating of their own session (rating again replaces
    /// it). Another user's session is not found.
    pub async fn rate_session(
        &self,
        user_id: &str,
        session_id: &str,
        rating: i64,
    ) -> Result<(), StoreError> {
        if !(1..=5).contains(&rating) {
            return Err(StoreError::Invalid("a rating is 1 to 5".into()));
        }
        let mut tx = self.begin().await?;
        let owned = sqlx::query("SELECT id FROM sessions WHERE id = $1 AND user_id = $2")
            .bind(session_id)
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?;
        if owned.is_none() {
            return Err(StoreError::NotFound);
        }
        let now = now_ms();
        sqlx::query(
            "INSERT INTO session_ratings (session_id, user_id, rating, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $4) \
             ON CONFLICT (session_id) DO UPDATE SET rating = excluded.rating, updated_at = excluded.updated_at",
        )
        .bind(session_id)
        .bind(user_id)
        .bind(rating)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The rating of a session, if it has one.
    pub async fn rating_of(&self, session_id: &str) -> Result<Option<i64>, StoreError> {
        let row = sqlx::query("SELECT rating FROM session_ratings WHERE session_id = $1")
            .bind(session_id)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|r| r.try_get("rating")).transpose()?)
    }
}

pub(crate) fn metrics_from_row(r: &sqlx::any::AnyRow) -> Result<GenerationMetrics, StoreError> {
    Ok(GenerationMetrics {
        session_id: r.try_get("session_id")?,
        user_id: r.try_get("user_id")?,
        model_id: r.try_get("model_id")?,
        pose: r.try_get("pose")?,
        tier: r.try_get("tier")?,
        provider: r.try_get("provider")?,
        attempts: r.try_get("attempts")?,
        face: r.try_get("score_face")?,
        pose_score: r.try_get("score_pose")?,
        color: r.try_get("score_color")?,
        style: r.try_get("score_style")?,
        branding: r.try_get("score_branding")?,
        overall: r.try_get("overall")?,
        passes: r.try_get::<i64, _>("passes")? != 0,
        failing_metric: r.try_get("failing_metric")?,
        analysis_ms: r.try_get("analysis_ms")?,
        stage1_ms: r.try_get("stage1_ms")?,
        stage2_ms: r.try_get("stage2_ms")?,
        validation_ms: r.try_get("validation_ms")?,
        total_ms: r.try_get("total_ms")?,
        cost: r.try_get("cost")?,
        error_code: r.try_get("error_code")?,
        ab_test_id: r.try_get("ab_test_id")?,
        ab_variant: r.try_get("ab_variant")?,
        created_at: r.try_get("created_at")?,
    })
}

pub(crate) const METRICS_SELECT_COLUMNS: &str = METRIC_COLUMNS;

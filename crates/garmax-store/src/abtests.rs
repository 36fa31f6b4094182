//! A/B tests (the seed's `createABTest`): variants with parameter
//! overrides, a duration and a success metric. Assignment is computed by
//! the caller (a sticky hash); the store keeps the tests and sums each
//! variant's generations, passes and ratings in SQL.

use serde_json::Value;
use sqlx::Row as _;

use crate::{Store, StoreError, new_id, now_ms};

#[derive(Debug, Clone, PartialEq)]
pub struct AbTest {
    pub id: String,
    pub name: String,
    /// `[{"name", "parameters": {…}}, …]` as the admin sent it.
    pub variants: Value,
    pub primary_metric: String,
    pub threshold: f64,
    pub starts_at: i64,
    pub ends_at: i64,
    pub created_at: i64,
}

/// Sums of one variant's generations.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VariantSums {
    pub variant: String,
    pub generations: i64,
    pub passed: i64,
    pub ratings: i64,
    pub rating_sum: i64,
    pub rating_sq_sum: i64,
}

fn from_row(r: &sqlx::any::AnyRow) -> Result<AbTest, StoreError> {
    let variants: String = r.try_get("variants")?;
    Ok(AbTest {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        variants: serde_json::from_str(&variants)
            .map_err(|e| StoreError::Invalid(e.to_string()))?,
        primary_metric: r.try_get("primary_metric")?,
        threshold: r.try_get("threshold")?,
        starts_at: r.try_get("starts_at")?,
        ends_at: r.try_get("ends_at")?,
        created_at: r.try_get("created_at")?,
    })
}

const SELECT: &str = "SELECT id, name, variants, primary_metric, threshold, starts_at, ends_at, created_at FROM ab_tests";

impl Store {
    /// Creates a test running from now for `duration_days`.
    pub async fn create_ab_test(
        &self,
        name: &str,
        variants: &Value,
        primary_metric: &str,
        threshold: f64,
        duration_days: f64,
    ) -> Result<AbTest, StoreError> {
        let now = now_ms();
        let t = AbTest {
            id: new_id(),
            name: name.to_string(),
            variants: variants.clone(),
            primary_metric: primary_metric.to_string(),
            threshold,
            starts_at: now,
            ends_at: now + (duration_days * 86_400_000.0) as i64,
            created_at: now,
        };
        sqlx::query(
            "INSERT INTO ab_tests (id, name, variants, primary_metric, threshold, starts_at, ends_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&t.id)
        .bind(&t.name)
        .bind(t.variants.to_string())
        .bind(&t.primary_metric)
        .bind(t.threshold)
        .bind(t.starts_at)
        .bind(t.ends_at)
        .bind(t.created_at)
        .execute(self.pool())
        .await?;
        Ok(t)
    }

    pub async fn ab_test(&self, id: &str) -> Result<AbTest, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{SELECT} WHERE id = $1")))
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or(StoreError::NotFound)?;
        from_row(&row)
    }

    /// Every test, newest first.
    pub async fn list_ab_tests(&self) -> Result<Vec<AbTest>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SELECT} ORDER BY created_at DESC, id"
        )))
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(from_row)
        .collect()
    }

    /// Tests running at `now`, oldest first (a generation joins the first).
    pub async fn active_ab_tests(&self, now: i64) -> Result<Vec<AbTest>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE starts_at <= $1 AND ends_at > $1 ORDER BY created_at, id"
        )))
        .bind(now)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(from_row)
        .collect()
    }

    /// Per-variant sums of the test's generations and their ratings.
    pub async fn ab_variant_sums(&self, test_id: &str) -> Result<Vec<VariantSums>, StoreError> {
        let rows = sqlx::query(
            "SELECT m.ab_variant AS v, COUNT(*) AS n, CAST(COALESCE(SUM(m.passes), 0) AS BIGINT) AS passed, \
             COUNT(r.rating) AS rated, CAST(COALESCE(SUM(r.rating), 0) AS BIGINT) AS rs, \
             CAST(COALESCE(SUM(r.rating * r.rating), 0) AS BIGINT) AS rss \
             FROM generation_metrics m LEFT JOIN session_ratings r ON r.session_id = m.session_id \
             WHERE m.ab_test_id = $1 AND m.ab_variant IS NOT NULL GROUP BY m.ab_variant",
        )
        .bind(test_id)
        .fetch_all(self.pool())
        .await?;
        let mut out: Vec<VariantSums> = rows
            .iter()
            .map(|r| {
                Ok(VariantSums {
                    variant: r.try_get("v")?,
                    generations: r.try_get("n")?,
                    passed: r.try_get("passed")?,
                    ratings: r.try_get("rated")?,
                    rating_sum: r.try_get("rs")?,
                    rating_sq_sum: r.try_get("rss")?,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        out.sort_by(|a, b| a.variant.cmp(&b.variant));
        Ok(out)
    }
}

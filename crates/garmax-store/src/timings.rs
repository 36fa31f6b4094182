//! Recent durations of pipeline stages, for the ETA of a running session.

use sqlx::Row as _;

use crate::{Store, StoreError, new_id, now_ms};

/// How many recent durations an estimate looks at.
const WINDOW: i64 = 20;

impl Store {
    pub async fn record_stage_duration(
        &self,
        stage: &str,
        duration_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO stage_timings (id, stage, duration_ms, created_at) VALUES ($1, $2, $3, $4)")
            .bind(new_id())
            .bind(stage)
            .bind(duration_ms.max(0))
            .bind(now_ms())
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// The median of the stage's recent durations, or `None` before the
    /// first one.
    pub async fn typical_stage_duration(&self, stage: &str) -> Result<Option<i64>, StoreError> {
        let rows = sqlx::query(
            "SELECT duration_ms FROM stage_timings WHERE stage = $1 ORDER BY created_at DESC LIMIT $2",
        )
        .bind(stage)
        .bind(WINDOW)
        .fetch_all(self.pool())
        .await?;
        let mut d: Vec<i64> = rows
            .iter()
            .map(|r| r.try_get("duration_ms"))
            .collect::<Result<_, _>>()?;
        if d.is_empty() {
            return Ok(None);
        }
        d.sort_unstable();
        Ok(Some(d[d.len() / 2]))
    }
}

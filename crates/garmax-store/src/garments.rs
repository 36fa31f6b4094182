//! Garments: a product photo and its analysis (a JSON document made by the
//! pipeline; the store does not look inside).

use sqlx::Row as _;

use crate::avatars::page;
use crate::{Page, Store, StoreError, clamp_limit, cursor_bounds, encode_cursor, now_ms};

#[derive(Debug, Clone, PartialEq)]
pub struct Garment {
    pub id: String,
    pub user_id: String,
    pub analysis: serde_json::Value,
    pub files: Vec<String>,
    pub created_at: i64,
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<Garment, StoreError> {
    let bad = |e: serde_json::Error| StoreError::Invalid(e.to_string());
    Ok(Garment {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        analysis: serde_json::from_str(&row.try_get::<String, _>("analysis")?).map_err(bad)?,
        files: serde_json::from_str(&row.try_get::<String, _>("files")?).map_err(bad)?,
        created_at: row.try_get("created_at")?,
    })
}

impl Store {
    /// Records a garment whose files are already stored.
    pub async fn insert_garment(
        &self,
        id: &str,
        user_id: &str,
        analysis: &serde_json::Value,
        files: &[String],
    ) -> Result<Garment, StoreError> {
        let now = now_ms();
        sqlx::query(
            "INSERT INTO garments (id, user_id, analysis, files, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(user_id)
        .bind(analysis.to_string())
        .bind(serde_json::to_string(files).map_err(|e| StoreError::Invalid(e.to_string()))?)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(Garment {
            id: id.to_string(),
            user_id: user_id.to_string(),
            analysis: analysis.clone(),
            files: files.to_vec(),
            created_at: now,
        })
    }

    pub async fn garment(&self, user_id: &str, id: &str) -> Result<Garment, StoreError> {
        let row = sqlx::query(
            "SELECT id, user_id, analysis, files, created_at FROM garments \
             WHERE id = $1 AND user_id = $2 AND deleted_at IS NULL",
        )
        .bind(id)
        .bind(user_id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        from_row(&row)
    }

    pub async fn garment_by_id(&self, id: &str) -> Result<Garment, StoreError> {
        let row = sqlx::query(
            "SELECT id, user_id, analysis, files, created_at FROM garments WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        from_row(&row)
    }

    pub async fn list_garments(
        &self,
        user_id: &str,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<Page<Garment>, StoreError> {
        let limit = clamp_limit(limit);
        let (t, id) = cursor_bounds(cursor)?;
        let rows = sqlx::query(
            "SELECT id, user_id, analysis, files, created_at FROM garments \
             WHERE user_id = $1 AND deleted_at IS NULL \
             AND (created_at < $2 OR (created_at = $2 AND id < $3)) \
             ORDER BY created_at DESC, id DESC LIMIT $4",
        )
        .bind(user_id)
        .bind(t)
        .bind(id)
        .bind(limit + 1)
        .fetch_all(self.pool())
        .await?;
        page(rows, limit, from_row, |g: &Garment| {
            encode_cursor(g.created_at, &g.id)
        })
    }
}

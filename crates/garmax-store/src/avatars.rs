//! Avatars: a user's photo processed once (person analysis, body fit,
//! guidance maps) and reused by every session. The files themselves live in
//! object storage under `avatars/{id}/`; the row lists their names.

use sqlx::Row as _;

use crate::{Page, Store, StoreError, Tx, clamp_limit, cursor_bounds, encode_cursor, now_ms};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AvatarStatus {
    Processing,
    Ready,
    Failed,
}

impl AvatarStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AvatarStatus::Processing => "processing",
            AvatarStatus::Ready => "ready",
            AvatarStatus::Failed => "failed",
        }
    }
    fn parse(s: &str) -> AvatarStatus {
        match s {
            "ready" => AvatarStatus::Ready,
            "failed" => AvatarStatus::Failed,
            _ => AvatarStatus::Processing,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Avatar {
    pub id: String,
    pub user_id: String,
    pub status: AvatarStatus,
    /// Code and message when processing failed.
    pub error: Option<(String, String)>,
    /// Names of the stored files (`photo`, `depth`, `body.glb`, …).
    pub files: Vec<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<Avatar, StoreError> {
    let code: Option<String> = row.try_get("error_code")?;
    let message: Option<String> = row.try_get("error_message")?;
    let files: String = row.try_get("files")?;
    Ok(Avatar {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        status: AvatarStatus::parse(&row.try_get::<String, _>("status")?),
        error: code.map(|c| (c, message.unwrap_or_default())),
        files: serde_json::from_str(&files).map_err(|e| StoreError::Invalid(e.to_string()))?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// Inserts a new avatar in `processing`, with its photo already stored.
async fn insert(tx: &mut Tx, id: &str, user_id: &str) -> Result<(), StoreError> {
    let now = now_ms();
    sqlx::query(
        "INSERT INTO avatars (id, user_id, status, files, created_at, updated_at) \
         VALUES ($1, $2, 'processing', '[\"photo\"]', $3, $3)",
    )
    .bind(id)
    .bind(user_id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// Records a new avatar (its photo already stored) and enqueues its
    /// processing `job` in one transaction. Free of charge and quota (see
    /// [`Store::create_avatar_charged`]).
    pub async fn create_avatar(
        &self,
        id: &str,
        user_id: &str,
        job: &crate::queue::NewJob,
    ) -> Result<String, StoreError> {
        self.create_avatar_charged(id, user_id, job, 0, None).await
    }

    /// Records a new avatar, holds `credits` for it and enqueues its job in
    /// one transaction under the user's lock; refused with
    /// `InsufficientCredits` or, when `max_per_period` avatars were already
    /// created this billing period, `QuotaExceeded`. The hold is captured
    /// when the avatar becomes ready and released when it fails.
    pub async fn create_avatar_charged(
        &self,
        id: &str,
        user_id: &str,
        job: &crate::queue::NewJob,
        credits: i64,
        max_per_period: Option<i64>,
    ) -> Result<String, StoreError> {
        let mut tx = self.begin().await?;
        crate::sessions::lock_user(&mut tx, self.backend(), user_id).await?;
        if let Some(limit) = max_per_period {
            crate::billing::check_quota(&mut tx, user_id, crate::billing::Usage::Avatars, limit)
                .await?;
        }
        insert(&mut tx, id, user_id).await?;
        if credits > 0 {
            crate::credits::hold(
                &mut tx,
                user_id,
                crate::credits::Subject::Avatar(id),
                credits,
            )
            .await?;
        }
        let job_id = crate::queue::enqueue(&mut tx, job).await?;
        sqlx::query("UPDATE avatars SET job_id = $1, credits_held = $2 WHERE id = $3")
            .bind(&job_id)
            .bind(credits.max(0))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(job_id)
    }

    /// The avatar if it exists, is not deleted and belongs to `user_id`.
    pub async fn avatar(&self, user_id: &str, id: &str) -> Result<Avatar, StoreError> {
        let sql = "SELECT id, user_id, status, error_code, error_message, files, created_at, updated_at \
                   FROM avatars WHERE id = $1 AND user_id = $2 AND deleted_at IS NULL";
        let row = sqlx::query(sql)
            .bind(id)
            .bind(user_id)
            .fetch_optional(self.pool())
            .await?
            .ok_or(StoreError::NotFound)?;
        from_row(&row)
    }

    /// The avatar whatever its owner (for workers, which act for the owner).
    pub async fn avatar_by_id(&self, id: &str) -> Result<Avatar, StoreError> {
        let row = sqlx::query(
            "SELECT id, user_id, status, error_code, error_message, files, created_at, updated_at \
             FROM avatars WHERE id = $1 AND deleted_at IS NULL",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        from_row(&row)
    }

    pub async fn list_avatars(
        &self,
        user_id: &str,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<Page<Avatar>, StoreError> {
        let limit = clamp_limit(limit);
        let (t, id) = cursor_bounds(cursor)?;
        let rows = sqlx::query(
            "SELECT id, user_id, status, error_code, error_message, files, created_at, updated_at \
             FROM avatars WHERE user_id = $1 AND deleted_at IS NULL \
             AND (created_at < $2 OR (created_at = $2 AND id < $3)) \
             ORDER BY created_at DESC, id DESC LIMIT $4",
        )
        .bind(user_id)
        .bind(t)
        .bind(id)
        .bind(limit + 1)
        .fetch_all(self.pool())
        .await?;
        page(rows, limit, from_row, |a: &Avatar| {
            encode_cursor(a.created_at, &a.id)
        })
    }

    /// Marks an avatar ready with the names of its stored files and
    /// captures its hold. Only a `processing` avatar moves; returns whether
    /// this call moved it.
    pub async fn finish_avatar(&self, id: &str, files: &[String]) -> Result<bool, StoreError> {
        let files = serde_json::to_string(files).map_err(|e| StoreError::Invalid(e.to_string()))?;
        self.settle_avatar(
            id,
            true,
            sqlx::query(
                "UPDATE avatars SET status = 'ready', files = $1, updated_at = $2 \
                 WHERE id = $3 AND status = 'processing'",
            )
            .bind(files)
            .bind(now_ms())
            .bind(id),
        )
        .await
    }

    /// Marks a processing avatar failed and releases its hold.
    pub async fn fail_avatar(
        &self,
        id: &str,
        code: &str,
        message: &str,
    ) -> Result<bool, StoreError> {
        self.settle_avatar(
            id,
            false,
            sqlx::query(
                "UPDATE avatars SET status = 'failed', error_code = $1, error_message = $2, updated_at = $3 \
                 WHERE id = $4 AND status = 'processing'",
            )
            .bind(code)
            .bind(message)
            .bind(now_ms())
            .bind(id),
        )
        .await
    }

    /// Runs the conditional state change `update` and, when it moved the
    /// avatar, captures (`charge`) or releases its hold — one transaction.
    async fn settle_avatar<'q>(
        &self,
        id: &str,
        charge: bool,
        update: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let done = update.execute(&mut *tx).await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        let row = sqlx::query("SELECT user_id, credits_held FROM avatars WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        let user: String = row.try_get("user_id")?;
        let held: i64 = row.try_get("credits_held")?;
        crate::credits::settle(
            &mut tx,
            &user,
            crate::credits::Subject::Avatar(id),
            held,
            charge,
            "system",
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Avatars still processing whose job failed for good or is gone: the
    /// reaper fails them, which releases their holds.
    pub async fn orphaned_avatars(&self, limit: i64) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT a.id FROM avatars a LEFT JOIN jobs j ON j.id = a.job_id \
             WHERE a.status = 'processing' AND a.job_id IS NOT NULL \
             AND (j.id IS NULL OR j.status = 'failed') ORDER BY a.created_at LIMIT $1",
        )
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|r| Ok(r.try_get("id")?)).collect()
    }

    /// Soft-deletes an avatar of `user_id`; its files are removed by the
    /// caller. Sessions that used it keep their results. An avatar deleted
    /// while still processing is failed, which releases its hold (its job
    /// then finds nothing to do).
    pub async fn delete_avatar(&self, user_id: &str, id: &str) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let now = now_ms();
        let done = sqlx::query(
            "UPDATE avatars SET deleted_at = $1 WHERE id = $2 AND user_id = $3 AND deleted_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let stopped = sqlx::query(
            "UPDATE avatars SET status = 'failed', error_code = 'NOT_022', \
             error_message = 'deleted before it was processed', updated_at = $1 \
             WHERE id = $2 AND status = 'processing'",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if stopped.rows_affected() == 1 {
            let held: i64 = sqlx::query("SELECT credits_held FROM avatars WHERE id = $1")
                .bind(id)
                .fetch_one(&mut *tx)
                .await?
                .try_get("credits_held")?;
            let actor = format!("user:{user_id}");
            crate::credits::settle(
                &mut tx,
                user_id,
                crate::credits::Subject::Avatar(id),
                held,
                false,
                &actor,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// Cuts `limit + 1` rows into a page and its next cursor.
pub(crate) fn page<T>(
    rows: Vec<sqlx::any::AnyRow>,
    limit: i64,
    decode: fn(&sqlx::any::AnyRow) -> Result<T, StoreError>,
    cursor_of: fn(&T) -> String,
) -> Result<Page<T>, StoreError> {
    let mut items = rows.iter().map(decode).collect::<Result<Vec<T>, _>>()?;
    let next_cursor = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(cursor_of)
    } else {
        None
    };
    Ok(Page { items, next_cursor })
}

//! Catalogue personas (the consistency seed's model configurations, e.g.
//! `johny`) and their poses. A pose's reference photo is stored and
//! processed like a user's avatar, once, by the catalogue user
//! ([`CATALOGUE_USER`]); generations reuse that avatar.

use std::collections::BTreeMap;

use sqlx::Row as _;

use crate::{Store, StoreError, Tx, now_ms};

/// The owner of catalogue avatars (made by migration 0005; no API keys).
pub const CATALOGUE_USER: &str = "00000000-0000-0000-0000-000000000000";

/// One pose of a persona.
#[derive(Debug, Clone, PartialEq)]
pub struct Pose {
    pub name: String,
    /// The processed reference photo, when one was uploaded.
    pub avatar_id: Option<String>,
}

/// A persona as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Persona {
    pub id: String,
    pub name: String,
    pub characteristics: BTreeMap<String, String>,
    pub poses: Vec<Pose>,
    pub consistency_threshold: f64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What an admin writes (create or replace).
#[derive(Debug, Clone, PartialEq)]
pub struct PersonaInput {
    pub id: String,
    pub name: String,
    pub characteristics: BTreeMap<String, String>,
    pub poses: Vec<String>,
    pub consistency_threshold: f64,
}

impl PersonaInput {
    /// Checks the shape: an id of letters, digits, `-` and `_`; a name; at
    /// least one pose, no two equal ignoring case; a threshold within 0–1.
    pub fn check(&self) -> Result<(), StoreError> {
        let bad = |m: String| Err(StoreError::Invalid(m));
        let id_ok = !self.id.is_empty()
            && self.id.len() <= 64
            && self
                .id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !id_ok {
            return bad(format!(
                "persona id '{}' must be 1–64 letters, digits, '-' or '_'",
                self.id
            ));
        }
        if self.name.trim().is_empty() || self.name.len() > 100 {
            return bad("a persona name has 1 to 100 characters".into());
        }
        if self.poses.is_empty() {
            return bad(format!("persona '{}' has no poses", self.id));
        }
        let mut seen = std::collections::HashSet::new();
        for p in &self.poses {
            if p.trim().is_empty() || p.len() > 100 {
                return bad("a pose name has 1 to 100 characters".into());
            }
            if !seen.insert(p.to_lowercase()) {
                return bad(format!("pose '{p}' is listed twice"));
            }
        }
        if !(0.0..=1.0).contains(&self.consistency_threshold) {
            return bad("consistencyThreshold must be within 0–1".into());
        }
        Ok(())
    }
}

impl Persona {
    /// The pose named `name` (case-insensitively).
    pub fn pose(&self, name: &str) -> Option<&Pose> {
        self.poses
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
    }
}

async fn write_poses(tx: &mut Tx, input: &PersonaInput) -> Result<(), StoreError> {
    // Poses that stay keep their reference avatar.
    let rows = sqlx::query("SELECT name_key, avatar_id FROM persona_poses WHERE persona_id = $1")
        .bind(&input.id)
        .fetch_all(&mut **tx)
        .await?;
    let mut kept: BTreeMap<String, Option<String>> = BTreeMap::new();
    for r in &rows {
        kept.insert(r.try_get("name_key")?, r.try_get("avatar_id")?);
    }
    sqlx::query("DELETE FROM persona_poses WHERE persona_id = $1")
        .bind(&input.id)
        .execute(&mut **tx)
        .await?;
    for (i, name) in input.poses.iter().enumerate() {
        let key = name.to_lowercase();
        sqlx::query(
            "INSERT INTO persona_poses (persona_id, name_key, name, position, avatar_id) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&input.id)
        .bind(&key)
        .bind(name)
        .bind(i as i64)
        .bind(kept.get(&key).cloned().flatten())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

fn characteristics_json(c: &BTreeMap<String, String>) -> Result<String, StoreError> {
    serde_json::to_string(c).map_err(|e| StoreError::Invalid(e.to_string()))
}

impl Store {
    /// Creates a persona; an existing id is a conflict.
    pub async fn create_persona(&self, input: &PersonaInput) -> Result<Persona, StoreError> {
        input.check()?;
        let mut tx = self.begin().await?;
        let now = now_ms();
        let inserted = sqlx::query(
            "INSERT INTO personas (id, name, characteristics, consistency_threshold, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (id) DO NOTHING",
        )
        .bind(&input.id)
        .bind(&input.name)
        .bind(characteristics_json(&input.characteristics)?)
        .bind(input.consistency_threshold)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!(
                "a persona '{}' exists",
                input.id
            )));
        }
        write_poses(&mut tx, input).await?;
        tx.commit().await?;
        self.persona(&input.id).await
    }

    /// Replaces a persona's name, characteristics, poses and threshold;
    /// poses that stay keep their reference photo.
    pub async fn update_persona(&self, input: &PersonaInput) -> Result<Persona, StoreError> {
        input.check()?;
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE personas SET name = $1, characteristics = $2, consistency_threshold = $3, updated_at = $4 \
             WHERE id = $5",
        )
        .bind(&input.name)
        .bind(characteristics_json(&input.characteristics)?)
        .bind(input.consistency_threshold)
        .bind(now_ms())
        .bind(&input.id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        write_poses(&mut tx, input).await?;
        tx.commit().await?;
        self.persona(&input.id).await
    }

    pub async fn delete_persona(&self, id: &str) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM persona_poses WHERE persona_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query("DELETE FROM personas WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await?;
        Ok(())
    }

    /// A persona with its poses in order.
    pub async fn persona(&self, id: &str) -> Result<Persona, StoreError> {
        let row = sqlx::query(
            "SELECT id, name, characteristics, consistency_threshold, created_at, updated_at \
             FROM personas WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        let mut p = persona_from_row(&row)?;
        p.poses = self.poses_of(id).await?;
        Ok(p)
    }

    /// Every persona, by id.
    pub async fn list_personas(&self) -> Result<Vec<Persona>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, name, characteristics, consistency_threshold, created_at, updated_at \
             FROM personas ORDER BY id",
        )
        .fetch_all(self.pool())
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let mut p = persona_from_row(r)?;
            p.poses = self.poses_of(&p.id).await?;
            out.push(p);
        }
        Ok(out)
    }

    async fn poses_of(&self, id: &str) -> Result<Vec<Pose>, StoreError> {
        let rows = sqlx::query(
            "SELECT name, avatar_id FROM persona_poses WHERE persona_id = $1 ORDER BY position",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Pose {
                    name: r.try_get("name")?,
                    avatar_id: r.try_get("avatar_id")?,
                })
            })
            .collect()
    }

    /// Makes `avatar_id` (a catalogue avatar whose photo is stored) the
    /// reference of a pose and enqueues its processing, in one transaction.
    pub async fn set_pose_reference(
        &self,
        persona_id: &str,
        pose: &str,
        avatar_id: &str,
        job: &crate::queue::NewJob,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let now = now_ms();
        sqlx::query(
            "INSERT INTO avatars (id, user_id, status, files, created_at, updated_at) \
             VALUES ($1, $2, 'processing', '[\"photo\"]', $3, $3)",
        )
        .bind(avatar_id)
        .bind(CATALOGUE_USER)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let done = sqlx::query(
            "UPDATE persona_poses SET avatar_id = $1 WHERE persona_id = $2 AND name_key = $3",
        )
        .bind(avatar_id)
        .bind(persona_id)
        .bind(pose.to_lowercase())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        crate::queue::enqueue(&mut tx, job).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Claims one-time work named `key`: true for exactly one caller, ever
    /// (across processes).
    pub async fn claim_marker(&self, key: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO store_markers (key, created_at) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(now_ms())
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

fn persona_from_row(row: &sqlx::any::AnyRow) -> Result<Persona, StoreError> {
    let characteristics: String = row.try_get("characteristics")?;
    Ok(Persona {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        characteristics: serde_json::from_str(&characteristics)
            .map_err(|e| StoreError::Invalid(e.to_string()))?,
        poses: Vec::new(),
        consistency_threshold: row.try_get("consistency_threshold")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

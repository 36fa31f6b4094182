//! Delivery of session events to every process that serves clients.
//!
//! Each [`Store`] carries a broadcast channel. On SQLite (one process) the
//! store publishes an event on it after the transaction that wrote it
//! commits. On PostgreSQL the writing transaction runs `pg_notify`, and
//! every process's listener task forwards what PostgreSQL delivers onto its
//! own channel — so a client connected to one `serve` process sees the
//! events of a job run by a worker attached to another. A listener that lost
//! its connection reconnects; what it missed is still in the event table,
//! which SSE clients resume from. On SQLite the writer may be another
//! process on the same file (`serve --workers 0` beside a `worker`), so
//! each serving process also tails the event table every
//! [`SQLITE_TAIL_EVERY`] and publishes what it has not published itself.

use std::collections::HashSet;
use std::time::Duration;

use tokio::sync::broadcast;

use crate::sessions::{EVENTS_CHANNEL, SessionEvent};
use crate::{Backend, Store};

/// How many events a slow subscriber may fall behind before it lags.
pub const CHANNEL_CAPACITY: usize = 4096;

/// SQLite with the tail running: (session, seq) of the events this process
/// published and the tail has not read back yet; `None` without a tail.
pub(crate) type Pending = std::sync::Arc<std::sync::Mutex<Option<HashSet<(String, i64)>>>>;

pub(crate) fn channel() -> broadcast::Sender<SessionEvent> {
    broadcast::channel(CHANNEL_CAPACITY).0
}

impl Store {
    /// Subscribes to the events of all sessions.
    pub fn subscribe(&self) -> broadcast::Receiver<SessionEvent> {
        self.events.subscribe()
    }

    /// Publishes an event written by this process (SQLite only: on
    /// PostgreSQL the listener publishes what the database announces).
    pub(crate) fn publish_local(&self, event: &SessionEvent) {
        if self.backend == Backend::Sqlite {
            if let Some(pending) = self.published_lock().as_mut() {
                pending.insert((event.session_id.clone(), event.seq));
            }
            let _ = self.events.send(event.clone());
        }
    }

    /// Publishes an event the tail read, unless this process published it
    /// when it wrote it.
    fn publish_tailed(&self, event: SessionEvent) {
        let key = (event.session_id.clone(), event.seq);
        let ours = self
            .published_lock()
            .as_mut()
            .is_some_and(|pending| pending.remove(&key));
        if !ours {
            let _ = self.events.send(event);
        }
    }

    fn published_lock(&self) -> std::sync::MutexGuard<'_, Option<HashSet<(String, i64)>>> {
        self.published.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts forwarding other processes' events onto the channel (once per
    /// store): PostgreSQL's notifications, or on SQLite the tail of the
    /// event table.
    pub async fn start_listener(&self) -> Result<(), crate::StoreError> {
        if self.backend == Backend::Sqlite {
            return self.start_sqlite_tail().await;
        }
        if self.backend != Backend::Postgres {
            return Ok(());
        }
        let mut listener = sqlx::postgres::PgListener::connect(&self.url).await?;
        listener.listen(EVENTS_CHANNEL).await?;
        let tx = self.events.clone();
        tokio::spawn(async move {
            loop {
                match listener.recv().await {
                    Ok(n) => match serde_json::from_str::<SessionEvent>(n.payload()) {
                        Ok(e) => {
                            let _ = tx.send(e);
                        }
                        Err(e) => tracing::warn!("undecodable event notification: {e}"),
                    },
                    Err(e) => {
                        tracing::warn!("event listener: {e}; reconnecting");
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                }
            }
        });
        Ok(())
    }

    /// Reads the events other processes append to the SQLite file (by
    /// `rowid`, in commit order) and publishes them; starts after the events
    /// already there, which SSE and socket.io clients replay from the table.
    async fn start_sqlite_tail(&self) -> Result<(), crate::StoreError> {
        // From here on every event this process writes is read back by the
        // tail, which takes it off the pending set again.
        *self.published_lock() = Some(Default::default());
        // (Enabled before the start is read: an event written in between
        // is never tailed and stays pending, rather than going out twice.)
        let mut after: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(rowid), 0) FROM session_events")
                .fetch_one(self.pool())
                .await?;
        let store = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(SQLITE_TAIL_EVERY).await;
                match store.events_after_rowid(after).await {
                    Ok(rows) => {
                        for (rowid, event) in rows {
                            after = rowid;
                            store.publish_tailed(event);
                        }
                    }
                    Err(e) => tracing::warn!("tailing session events: {e}"),
                }
            }
        });
        Ok(())
    }
}

/// How often a serving process on SQLite reads events other processes
/// wrote.
pub const SQLITE_TAIL_EVERY: Duration = Duration::from_millis(200);

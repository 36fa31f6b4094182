//! Delivery of session events to every process that serves clients.
//!
//! Each [`Store`] carries a broadcast channel. On SQLite (one process) the
//! store publishes an event on it after the transaction that wrote it
//! commits. On PostgreSQL the writing transaction runs `pg_notify`, and
//! every process's listener task forwards what PostgreSQL delivers onto its
//! own channel — so a client connected to one `serve` process sees the
//! events of a job run by a worker attached to another. A listener that lost
//! its connection reconnects; what it missed is still in the event table,
//! which SSE clients resume from.

use std::time::Duration;

use tokio::sync::broadcast;

use crate::sessions::{EVENTS_CHANNEL, SessionEvent};
use crate::{Backend, Store};

/// How many events a slow subscriber may fall behind before it lags.
pub const CHANNEL_CAPACITY: usize = 4096;

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
            let _ = self.events.send(event.clone());
        }
    }

    /// Starts forwarding PostgreSQL notifications onto the channel (once per
    /// store; a no-op on SQLite).
    pub async fn start_listener(&self) -> Result<(), crate::StoreError> {
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
}

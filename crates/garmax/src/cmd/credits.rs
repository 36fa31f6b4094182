//! `garmax credits`: an operator's grants and adjustments, and a user's
//! balance with the latest ledger entries.

use garmax_store::credits::{EntryKind, NewEntry};

use super::serve::{ServiceArgs, runtime};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Grant credits to a user (or, with --adjust, correct their balance by
    /// a signed amount that may not take it below zero).
    Grant {
        #[arg(long)]
        name: String,
        /// Credits; negative only with --adjust.
        #[arg(long, allow_hyphen_values = true)]
        amount: i64,
        /// Why (kept in the ledger).
        #[arg(long)]
        reason: String,
        /// Record an adjustment instead of a grant.
        #[arg(long)]
        adjust: bool,
        /// Makes a repeated command apply once (default: a fresh key).
        #[arg(long)]
        idempotency_key: Option<String>,
        #[command(flatten)]
        service: ServiceArgs,
    },
    /// A user's balance, plan and latest ledger entries.
    Show {
        #[arg(long)]
        name: String,
        /// How many entries to print.
        #[arg(long, default_value_t = 20)]
        limit: u32,
        #[command(flatten)]
        service: ServiceArgs,
    },
}

async fn open(service: &ServiceArgs) -> anyhow::Result<garmax_store::Store> {
    let config = service.config()?;
    std::fs::create_dir_all(&config.data_dir)?;
    Ok(garmax_store::Store::open(&config.database_url(), 2).await?)
}

pub fn run(command: Command) -> anyhow::Result<()> {
    runtime()?.block_on(async move {
        match command {
            Command::Grant {
                name,
                amount,
                reason,
                adjust,
                idempotency_key,
                service,
            } => {
                let store = open(&service).await?;
                let user = store.user_by_name(&name).await?;
                let key = format!(
                    "cli:{}",
                    idempotency_key.unwrap_or_else(garmax_store::new_id)
                );
                let kind = if adjust {
                    EntryKind::Adjustment
                } else {
                    EntryKind::Grant
                };
                let applied = store
                    .add_entry(&NewEntry {
                        user_id: &user.id,
                        kind,
                        amount,
                        idempotency_key: &key,
                        actor: "cli",
                        reason: &reason,
                        subject: None,
                    })
                    .await?;
                let balance = store.balance(&user.id).await?;
                if applied {
                    println!("{} {amount} to {name}: balance {balance}", kind.as_str());
                } else {
                    println!("already applied ({key}): balance {balance}");
                }
            }
            Command::Show {
                name,
                limit,
                service,
            } => {
                let store = open(&service).await?;
                let user = store.user_by_name(&name).await?;
                let balance = store.balance(&user.id).await?;
                let account = store.account(&user.id).await?;
                println!(
                    "{name}: {balance} credits, plan {}",
                    account.plan_at(garmax_store::now_ms())
                );
                let page = store.ledger(&user.id, Some(limit), None).await?;
                for e in page.items {
                    println!(
                        "{:>13}  {:<10} {:>7}  {:<14} {}",
                        e.created_at,
                        e.kind.as_str(),
                        e.amount,
                        e.actor,
                        e.reason
                    );
                }
            }
        }
        Ok(())
    })
}

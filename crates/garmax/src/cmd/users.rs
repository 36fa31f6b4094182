//! `garmax users`: API keys for the service.

use garmax_store::users::Role;

use super::serve::{ServiceArgs, runtime};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Create a user and print their API key (shown once).
    Create {
        #[arg(long)]
        name: String,
        /// Give the user the admin role.
        #[arg(long)]
        admin: bool,
        /// Plan: free, studio or pro.
        #[arg(long, default_value = "free")]
        plan: String,
        /// Credits granted at creation.
        #[arg(long, default_value_t = 0)]
        credits: i64,
        #[command(flatten)]
        service: ServiceArgs,
    },
    /// List users with their plan, credits and active keys.
    List {
        #[command(flatten)]
        service: ServiceArgs,
    },
    /// Revoke every key of a user.
    Revoke {
        #[arg(long)]
        name: String,
        #[command(flatten)]
        service: ServiceArgs,
    },
}

const PLANS: [&str; 3] = ["free", "studio", "pro"];

async fn open(service: &ServiceArgs) -> anyhow::Result<garmax_store::Store> {
    let config = service.config()?;
    std::fs::create_dir_all(&config.data_dir)?;
    Ok(garmax_store::Store::open(&config.database_url(), 2).await?)
}

pub fn run(command: Command) -> anyhow::Result<()> {
    runtime()?.block_on(async move {
        match command {
            Command::Create {
                name,
                admin,
                plan,
                credits,
                service,
            } => {
                anyhow::ensure!(
                    PLANS.contains(&plan.as_str()),
                    "unknown plan '{plan}' (free, studio, pro)"
                );
                anyhow::ensure!(credits >= 0, "credits cannot be negative");
                let store = open(&service).await?;
                let role = if admin { Role::Admin } else { Role::User };
                let created = store.create_user(&name, role, &plan, credits).await?;
                eprintln!(
                    "created {} ({}, plan {plan}, {credits} credits)",
                    created.user.name,
                    role.as_str()
                );
                println!("{}", created.api_key);
            }
            Command::List { service } => {
                let store = open(&service).await?;
                println!(
                    "{:<24} {:<6} {:<7} {:>8} {:>5}  id",
                    "name", "role", "plan", "credits", "keys"
                );
                for u in store.list_users().await? {
                    println!(
                        "{:<24} {:<6} {:<7} {:>8} {:>5}  {}",
                        u.user.name,
                        u.user.role.as_str(),
                        u.user.plan,
                        u.credits,
                        u.active_keys,
                        u.user.id
                    );
                }
            }
            Command::Revoke { name, service } => {
                let store = open(&service).await?;
                let user = store.user_by_name(&name).await?;
                let n = store.revoke_keys(&user.id).await?;
                println!("revoked {n} key(s) of {name}");
            }
        }
        Ok(())
    })
}

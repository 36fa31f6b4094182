//! `garmax models`.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Download and verify every asset.
    Fetch,
}
pub fn run(_command: Command) -> anyhow::Result<()> {
    anyhow::bail!("models lands with the asset commit")
}

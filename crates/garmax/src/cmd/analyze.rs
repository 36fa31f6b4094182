//! `garmax analyze`.
#[derive(clap::Args)]
pub struct Args {}
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("analyze lands with the garment analysis commit")
}

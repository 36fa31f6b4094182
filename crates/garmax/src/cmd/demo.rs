//! `garmax demo`: the README's first command. Fetches the packaged assets if
//! they are missing, then runs the main job on the bundled samples: the
//! garment analysis of a Saleor tee, and a full try-on of that tee on
//! scikit-image's astronaut photo. With `--serve` it then starts the
//! service on the embedded defaults (SQLite and files under the output
//! directory), makes a demo user, runs one try-on session through the API
//! and keeps serving the studio, printing its URL and the key.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Parser as _;
use garmax_assets::{Cache, Manifest};

/// The bundled sample garment: a printed Saleor demo tee (CC BY 4.0).
pub const SAMPLE_GARMENT: &str = "saleor/static/placeholders/saleordemoproduct_cl_boot01_1.png";
/// The bundled sample person: scikit-image's astronaut (public domain).
pub const SAMPLE_PERSON: &str = "skimage/data/astronaut.png";

#[derive(clap::Args)]
pub struct Args {
    /// Where to write the results.
    #[arg(long, default_value = "out/demo")]
    out_dir: PathBuf,
    /// Then serve the studio with a demo user and one session, until Ctrl-C.
    #[arg(long)]
    serve: bool,
    /// Address the studio is served on (with --serve).
    #[arg(long, default_value = "127.0.0.1:8080")]
    bind: std::net::SocketAddr,
    /// The built studio (default: web/dist; `scripts/web-build` builds it).
    #[arg(long)]
    web_dir: Option<PathBuf>,
}

/// `garmax tryon`'s own argument parser, so the demo runs exactly what a
/// user would type.
#[derive(clap::Parser)]
struct TryonCommand {
    #[command(flatten)]
    args: super::tryon::Args,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let cache = Cache::resolve()?;
    let manifest = Manifest::builtin()?;
    if !garmax_assets::status(&cache, &manifest).is_ok() {
        eprintln!("assets missing: running `garmax models fetch` first");
        super::models::fetch()?;
    }
    let garment = cache.require(SAMPLE_GARMENT)?;
    let person = cache.require(SAMPLE_PERSON)?;
    std::fs::create_dir_all(&args.out_dir)
        .with_context(|| format!("creating {}", args.out_dir.display()))?;

    let overlay = args.out_dir.join("garment_overlay.png");
    let analysis = super::analyze::analyze_file(&garment, Some(&overlay))?;
    let json_path = args.out_dir.join("garment_analysis.json");
    std::fs::write(&json_path, serde_json::to_string_pretty(&analysis)?)
        .with_context(|| format!("writing {}", json_path.display()))?;
    println!("sample garment: {}", garment.display());
    super::analyze::print_summary(&analysis);
    println!("analysis: {}", json_path.display());
    println!("overlay:  {}", overlay.display());
    println!();

    println!("try-on of the sample garment on {}", person.display());
    let tryon_dir = args.out_dir.join("tryon");
    let command = TryonCommand::try_parse_from([
        "garmax tryon".as_ref(),
        "--person".as_ref(),
        person.as_os_str(),
        "--garment".as_ref(),
        garment.as_os_str(),
        "-o".as_ref(),
        tryon_dir.as_os_str(),
    ])
    .context("building the demo's try-on arguments")?;
    super::tryon::run(command.args)?;
    if args.serve {
        let web_dir = args.web_dir.unwrap_or_else(|| PathBuf::from("web/dist"));
        serve_studio(
            &args.out_dir.join("service"),
            args.bind,
            &web_dir,
            &person,
            &garment,
        )?;
    }
    Ok(())
}

/// The service on the embedded defaults under `data_dir`, a demo user with
/// a fresh key and one session, then the studio until Ctrl-C.
fn serve_studio(
    data_dir: &std::path::Path,
    bind: std::net::SocketAddr,
    web_dir: &std::path::Path,
    person: &std::path::Path,
    garment: &std::path::Path,
) -> anyhow::Result<()> {
    let studio = web_dir.join("index.html").exists();
    if !studio {
        eprintln!(
            "no studio at {} (build it with scripts/web-build); serving the API only",
            web_dir.display()
        );
    }
    let config = garmax_server::ServerConfig {
        bind,
        data_dir: data_dir.to_path_buf(),
        web_dir: studio.then(|| web_dir.to_path_buf()),
        personas_file: Some(PathBuf::from("config/personas.toml")).filter(|p| p.exists()),
        ..garmax_server::ServerConfig::default()
    };
    let person = std::fs::read(person).with_context(|| format!("reading {}", person.display()))?;
    let garment =
        std::fs::read(garment).with_context(|| format!("reading {}", garment.display()))?;
    let engine = super::serve::engine(&config)?;
    let runtime = super::serve::runtime()?;
    runtime.block_on(async move {
        let workers = config.workers;
        let state = garmax_server::open_state(config, engine).await?;
        let key = demo_key(&state.store).await?;
        let listener = tokio::net::TcpListener::bind(bind)
            .await
            .with_context(|| format!("listening on {bind} (choose another with --bind)"))?;
        let url = format!("http://{}", listener.local_addr()?);
        let server = tokio::spawn(garmax_server::serve(
            state.clone(),
            listener,
            workers,
            super::serve::shutdown_signal(),
        ));
        println!();
        println!("garmax serve listening on {url}; making the demo's try-on session…");
        let s = garmax_server::demo::seed_session(
            &state,
            &key,
            &person,
            &garment,
            std::time::Duration::from_secs(600),
        )
        .await?;
        println!("session {}: {} ({} %)", s.session_id, s.status, s.progress);
        println!();
        println!("The studio:  {url}/");
        println!("API key:     {key}");
        println!("API docs:    {url}/api/docs");
        println!("Sign in with the key; the session is in the gallery. Ctrl-C stops the server.");
        server.await.context("the server task")??;
        anyhow::Ok(())
    })
}

/// A new key of the `demo` user (created with studio-plan credits the
/// first time).
async fn demo_key(store: &garmax_store::Store) -> anyhow::Result<String> {
    Ok(match store.user_by_name("demo").await {
        Ok(user) => store.create_api_key(&user.id).await?,
        Err(garmax_store::StoreError::NotFound) => {
            store
                .create_user("demo", garmax_store::users::Role::User, "studio", 500)
                .await?
                .api_key
        }
        Err(e) => return Err(e.into()),
    })
}

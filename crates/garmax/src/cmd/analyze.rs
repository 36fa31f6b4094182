//! `garmax analyze`: garment analysis of a product photo.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use garmax_vision::{AnalysisOptions, GarmentAnalysis, ImageLimits, analyze_garment};

#[derive(clap::Args)]
pub struct Args {
    /// Product photo (JPEG, PNG or WebP): a cut-out PNG or a garment on a plain background.
    image: PathBuf,
    /// Print the full analysis as JSON instead of a summary.
    #[arg(long)]
    json: bool,
    /// Also write a picture of what was found (outline, landmarks, logo boxes, palette).
    #[arg(long, value_name = "PNG")]
    overlay: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let analysis = analyze_file(&args.image, args.overlay.as_deref())?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&analysis)?);
    } else {
        print_summary(&analysis);
    }
    if let Some(path) = &args.overlay {
        eprintln!("overlay written to {}", path.display());
    }
    Ok(())
}

/// Reads, decodes and analyses a product photo; writes the overlay if asked.
pub fn analyze_file(path: &Path, overlay: Option<&Path>) -> anyhow::Result<GarmentAnalysis> {
    let decoded = super::read_image(path, &ImageLimits::default())?;
    let out = analyze_garment(&decoded, &AnalysisOptions::default())
        .with_context(|| format!("analysing {}", path.display()))?;
    if let Some(overlay_path) = overlay {
        let picture = garmax_vision::overlay::draw_overlay(&decoded.rgba, &out.mask, &out.analysis);
        super::ensure_parent(overlay_path)?;
        picture
            .save(overlay_path)
            .with_context(|| format!("writing {}", overlay_path.display()))?;
    }
    Ok(out.analysis)
}

pub fn print_summary(a: &GarmentAnalysis) {
    let d = &a.colors.dominant;
    println!(
        "garment     {} ({:.0}% sure)",
        a.garment_type.name(),
        a.garment_type_confidence * 100.0
    );
    println!(
        "style       sleeves {:?}, neckline {:?}, fit {:?}",
        a.style.sleeve_length, a.style.neckline, a.style.fit
    );
    println!(
        "colour      {} rgb({}, {}, {})  Lab({:.1}, {:.1}, {:.1})",
        d.hex, d.r, d.g, d.b, d.lab.l, d.lab.a, d.lab.b
    );
    let palette: Vec<String> = a
        .colors
        .palette
        .iter()
        .map(|s| format!("{} {:.0}%", s.hex, s.share * 100.0))
        .collect();
    println!("palette     {}", palette.join(", "));
    if a.branding.regions.is_empty() {
        println!("branding    none found");
    } else {
        for r in &a.branding.regions {
            println!(
                "branding    {:?} at x={} y={} {}×{} ({:.0}% sure)",
                r.kind,
                r.bbox[0],
                r.bbox[1],
                r.bbox[2],
                r.bbox[3],
                r.kind_confidence * 100.0
            );
        }
    }
    println!(
        "landmarks   {}",
        a.landmarks.keys().copied().collect::<Vec<_>>().join(", ")
    );
    println!("confidence  {:.0}%", a.confidence * 100.0);
}

//! Prints the classification and shape features of each photo given on the
//! command line; a tuning aid for real product photos.

use garmax_vision::{AnalysisOptions, ImageLimits, analyze_garment, decode_image};

fn main() {
    for path in std::env::args().skip(1) {
        let name = std::path::Path::new(&path)
            .file_name()
            .map_or(path.clone(), |n| n.to_string_lossy().into_owned());
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                println!("{name}: cannot read: {e}");
                continue;
            }
        };
        let decoded = match decode_image(&bytes, &ImageLimits::default()) {
            Ok(d) => d,
            Err(e) => {
                println!("{name}: cannot decode: {e}");
                continue;
            }
        };
        match analyze_garment(&decoded, &AnalysisOptions::default()) {
            Ok(out) => {
                let a = &out.analysis;
                if let Some(dir) = std::env::var_os("MASK_DIR") {
                    let file = std::path::Path::new(&dir).join(format!("{name}.mask.png"));
                    if let Err(e) = out.mask.save(&file) {
                        println!("{name}: cannot write {}: {e}", file.display());
                    }
                }
                let features = serde_json::to_string(&a.features).unwrap_or_default();
                println!(
                    "{name}: {} neckline {:?} view {:?} {features}",
                    a.garment_type.name(),
                    a.style.neckline,
                    a.view,
                );
            }
            Err(e) => println!("{name}: refused: {e}"),
        }
    }
}

//! Prints the classification and shape features the analysis measures on
//! the generated evaluation set next to its ground truth; a tuning aid for
//! the classifier (one line per garment: truth, then the analysis's answer
//! and features as JSON). With `SAVE_DIR` set, the photos are written there.

use garmax_vision::synthetic::evaluation_set;
use garmax_vision::{AnalysisOptions, analyze_garment};

fn main() {
    for (i, g) in evaluation_set(2026, 512).into_iter().enumerate() {
        let t = &g.truth;
        let truth = format!(
            "{i:3} {}/{:?}/{:?}{}",
            t.garment_type.name(),
            t.neckline,
            t.view,
            if t.detail { "/detail" } else { "" }
        );
        if let Some(dir) = std::env::var_os("SAVE_DIR") {
            let file = std::path::Path::new(&dir).join(format!("{i:03}.png"));
            if let Err(e) = g.image.save(&file) {
                println!("cannot write {}: {e}", file.display());
            }
        }
        let input = garmax_vision::DecodedImage::from_rgba(g.image.clone());
        match analyze_garment(&input, &AnalysisOptions::default()) {
            Ok(out) => {
                let a = &out.analysis;
                println!(
                    "{truth}: {} neckline {:?} view {:?} {}",
                    a.garment_type.name(),
                    a.style.neckline,
                    a.view,
                    serde_json::to_string(&a.features).unwrap_or_default()
                );
            }
            Err(e) => println!("{truth}: refused: {e}"),
        }
    }
}

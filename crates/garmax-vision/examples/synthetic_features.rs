//! Prints the shape features the analysis measures on generated garments
//! next to their ground truth; a tuning aid for the classifier.

use garmax_vision::synthetic::generate_indexed;
use garmax_vision::{AnalysisOptions, analyze_garment};

fn main() {
    let count: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20);
    for i in 0..count {
        let g = generate_indexed(i, 2026, 512);
        let input = garmax_vision::DecodedImage::from_rgba(g.image.clone());
        match analyze_garment(&input, &AnalysisOptions::default()) {
            Ok(out) => {
                let f = &out.analysis.features;
                println!(
                    "{i:3} {:8} -> {:8} {:?} sleeve {:.2} area {:.3} legs {:.2} aspect {:.2} flare {:.2} rough {:.3} hood {:.2} dip {:.3} sharp {:.2} line {:.2}/{:.2}/{:.2} collar {:.3}",
                    g.truth.garment_type.name(),
                    out.analysis.garment_type.name(),
                    g.truth.base_rgb,
                    f.sleeve_length,
                    f.sleeve_area,
                    f.leg_fraction,
                    f.aspect,
                    f.flare,
                    f.top_roughness,
                    f.hood_rise,
                    f.neck_dip,
                    f.neck_sharpness,
                    f.centre_line_top,
                    f.centre_line_rest,
                    f.centre_line_foreign,
                    f.collar_edges
                );
            }
            Err(e) => println!("{i:3} {:8} error {e}", g.truth.garment_type.name()),
        }
    }
}

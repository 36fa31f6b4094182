//! The analysis on real product photos: the Saleor demo tees (CC BY 4.0)
//! fetched by `garmax models fetch`.
//!
//! Reference colours are "measured by hand": for each photo a 60×60 patch of
//! plain fabric was picked by eye on the overlay — lower left torso, away
//! from the print, the seams and the deepest folds — and its pixels are
//! averaged in CIELAB here. The analysis must land within ΔE2000 5 of it.

use garmax_assets::Cache;
use garmax_vision::color::{Lab, delta_e2000, srgb_to_lab};
use garmax_vision::shape::GarmentType;
use garmax_vision::{AnalysisOptions, ImageLimits, analyze_garment, decode_image};

struct Photo {
    file: &'static str,
    /// `[x0, y0, x1, y1]` of the hand-picked plain fabric patch.
    patch: [u32; 4],
    printed: bool,
}

const PHOTOS: [Photo; 4] = [
    Photo {
        file: "saleordemoproduct_cl_boot01_1.png",
        patch: [250, 560, 310, 620],
        printed: true,
    },
    Photo {
        file: "saleordemoproduct_cl_boot03_1.png",
        patch: [250, 560, 310, 620],
        printed: true,
    },
    Photo {
        file: "saleordemoproduct_cl_boot06_1.png",
        patch: [250, 560, 310, 620],
        printed: true,
    },
    Photo {
        file: "saleordemoproduct_cl_boot07_1.png",
        patch: [250, 560, 310, 620],
        printed: true,
    },
];

fn load(file: &str) -> garmax_vision::DecodedImage {
    let cache = Cache::resolve().expect("cache directory");
    let path = cache
        .require(&format!("saleor/static/placeholders/{file}"))
        .expect("Saleor photos missing: run `garmax models fetch`");
    let bytes = std::fs::read(path).expect("read photo");
    decode_image(&bytes, &ImageLimits::default()).expect("decode photo")
}

fn patch_mean(img: &image::RgbaImage, [x0, y0, x1, y1]: [u32; 4]) -> Lab {
    let (mut l, mut a, mut b, mut n) = (0.0, 0.0, 0.0, 0.0);
    for y in y0..y1 {
        for x in x0..x1 {
            let p = img.get_pixel(x, y).0;
            assert!(p[3] >= 250, "patch must be on the garment");
            let c = srgb_to_lab([p[0], p[1], p[2]]);
            l += c.l;
            a += c.a;
            b += c.b;
            n += 1.0;
        }
    }
    Lab::new(l / n, a / n, b / n)
}

#[test]
fn saleor_tees_are_tees_with_true_colour_and_found_prints() {
    for photo in &PHOTOS {
        let decoded = load(photo.file);
        assert!(
            decoded.has_alpha,
            "{}: the Saleor photos are cut-outs",
            photo.file
        );
        let out = analyze_garment(&decoded, &AnalysisOptions::default()).expect("analysis");
        let a = &out.analysis;
        let reference = patch_mean(&decoded.rgba, photo.patch);
        let de = delta_e2000(a.colors.dominant.lab, reference);
        println!(
            "{}: {} dominant {} vs hand patch Lab({:.1},{:.1},{:.1}) ΔE2000 {:.2}; {} branding region(s)",
            photo.file,
            a.garment_type.name(),
            a.colors.dominant.hex,
            reference.l,
            reference.a,
            reference.b,
            de,
            a.branding.regions.len()
        );
        assert_eq!(a.garment_type, GarmentType::Tshirt, "{}", photo.file);
        assert!(de <= 5.0, "{}: ΔE2000 {de}", photo.file);
        assert_eq!(a.branding.has_logo, photo.printed, "{}", photo.file);
        assert!(
            a.colors.palette.len() >= 5,
            "{}: palette {:?}",
            photo.file,
            a.colors.palette
        );
        for key in [
            "collar_centre",
            "shoulder_left",
            "shoulder_right",
            "sleeve_end_left",
            "sleeve_end_right",
            "armpit_left",
            "armpit_right",
            "hem_left",
            "hem_right",
        ] {
            assert!(a.landmarks.contains_key(key), "{}: no {key}", photo.file);
        }
        // Shoulders sit above armpits, armpits above the hem, left of right.
        let lm = &a.landmarks;
        assert!(
            lm["shoulder_left"][1] < lm["armpit_left"][1]
                && lm["armpit_left"][1] < lm["hem_left"][1]
        );
        assert!(lm["shoulder_left"][0] < lm["shoulder_right"][0]);
        assert!(
            lm["sleeve_end_left"][0] < lm["armpit_left"][0]
                && lm["sleeve_end_right"][0] > lm["armpit_right"][0]
        );
    }
}

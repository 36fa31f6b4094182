//! Presentation sheets for people judging results by eye (the docs
//! gallery, debugging): inputs and output side by side.

use image::{Rgba, RgbaImage, imageops};

/// person | product (on light grey) | result, each `height` px high.
pub fn side_by_side(
    person: &RgbaImage,
    product: &RgbaImage,
    result: &RgbaImage,
    height: u32,
) -> RgbaImage {
    let fit = |img: &RgbaImage| {
        let k = height as f32 / img.height().max(1) as f32;
        imageops::resize(
            img,
            ((img.width() as f32 * k).round() as u32).max(1),
            height,
            imageops::FilterType::Triangle,
        )
    };
    let (p, r) = (fit(person), fit(result));
    let mut g = RgbaImage::from_pixel(height, height, Rgba([235, 235, 235, 255]));
    let pr = imageops::resize(product, height, height, imageops::FilterType::Triangle);
    imageops::overlay(&mut g, &pr, 0, 0);
    let gap = 6;
    let mut sheet = RgbaImage::from_pixel(
        p.width() + g.width() + r.width() + 2 * gap,
        height,
        Rgba([255, 255, 255, 255]),
    );
    imageops::overlay(&mut sheet, &p, 0, 0);
    imageops::overlay(&mut sheet, &g, (p.width() + gap) as i64, 0);
    imageops::overlay(&mut sheet, &r, (p.width() + g.width() + 2 * gap) as i64, 0);
    sheet
}

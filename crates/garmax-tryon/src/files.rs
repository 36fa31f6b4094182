//! PNG and JSON encoding of stored maps.

use image::{ExtendedColorType, GrayImage, ImageBuffer, ImageEncoder, Luma, RgbImage, RgbaImage};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::TryOnError;

/// A 16-bit greyscale map (the depth map).
pub type Gray16Image = ImageBuffer<Luma<u16>, Vec<u16>>;

fn png(
    raw: &[u8],
    w: u32,
    h: u32,
    color: ExtendedColorType,
    name: &str,
) -> Result<Vec<u8>, TryOnError> {
    let mut buf = Vec::new();
    image::codecs::png::PngEncoder::new(&mut buf)
        .write_image(raw, w, h, color)
        .map_err(|e| TryOnError::encode(name, e))?;
    Ok(buf)
}

pub fn png_rgba(img: &RgbaImage, name: &str) -> Result<Vec<u8>, TryOnError> {
    png(
        img.as_raw(),
        img.width(),
        img.height(),
        ExtendedColorType::Rgba8,
        name,
    )
}

pub fn png_rgb(img: &RgbImage, name: &str) -> Result<Vec<u8>, TryOnError> {
    png(
        img.as_raw(),
        img.width(),
        img.height(),
        ExtendedColorType::Rgb8,
        name,
    )
}

pub fn png_gray(img: &GrayImage, name: &str) -> Result<Vec<u8>, TryOnError> {
    png(
        img.as_raw(),
        img.width(),
        img.height(),
        ExtendedColorType::L8,
        name,
    )
}

pub fn png_gray16(img: &Gray16Image, name: &str) -> Result<Vec<u8>, TryOnError> {
    // The encoder takes native-endian samples and writes PNG's big-endian.
    let raw: Vec<u8> = img.as_raw().iter().flat_map(|v| v.to_ne_bytes()).collect();
    png(
        &raw,
        img.width(),
        img.height(),
        ExtendedColorType::L16,
        name,
    )
}

pub fn json<T: Serialize>(value: &T, name: &str) -> Result<Vec<u8>, TryOnError> {
    serde_json::to_vec_pretty(value).map_err(|e| TryOnError::encode(name, e))
}

/// Looks a stored file up; missing is an error naming it.
pub fn need(lookup: &dyn Fn(&str) -> Option<Vec<u8>>, name: &str) -> Result<Vec<u8>, TryOnError> {
    lookup(name).ok_or_else(|| TryOnError::stored(name, "missing"))
}

/// Decodes one of our own stored PNG maps. These files were written by
/// [`png_rgba`] and friends, never uploaded by a user, so the decoder runs
/// on trusted bytes (user bytes enter through `decode_image` only).
/// The image crate's default allocation limit (512 MiB) still applies.
pub fn decode_png(bytes: &[u8], name: &str) -> Result<image::DynamicImage, TryOnError> {
    let mut reader =
        image::ImageReader::with_format(std::io::Cursor::new(bytes), image::ImageFormat::Png);
    reader.limits(image::Limits::default());
    reader.decode().map_err(|e| TryOnError::stored(name, e))
}

pub fn read_json<T: DeserializeOwned>(bytes: &[u8], name: &str) -> Result<T, TryOnError> {
    serde_json::from_slice(bytes).map_err(|e| TryOnError::stored(name, e))
}

/// `img` scaled down so its longest side is at most `max_side`; `None`
/// when it already fits.
pub fn cap_side(img: &RgbaImage, max_side: u32) -> Option<RgbaImage> {
    let (w, h) = img.dimensions();
    let long = w.max(h);
    if long <= max_side {
        return None;
    }
    let k = max_side as f64 / long as f64;
    let (nw, nh) = (
        ((w as f64 * k).round() as u32).clamp(1, max_side),
        ((h as f64 * k).round() as u32).clamp(1, max_side),
    );
    Some(image::imageops::resize(
        img,
        nw,
        nh,
        image::imageops::FilterType::Triangle,
    ))
}

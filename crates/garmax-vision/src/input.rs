//! Safe image input, used by every entry point that accepts a photo.
//!
//! Untrusted bytes go through four gates, cheapest first: the byte limit, the
//! format sniffed from magic bytes (JPEG, PNG and WebP only — never the file
//! name), the header's dimensions against the pixel limit (so a 30000×30000
//! PNG that is a few kilobytes on disk is refused before a single row is
//! inflated), and finally the decode itself under `image`'s allocation limit.
//! EXIF orientation is applied so that every later stage sees the photo the
//! way a person does, and everything is normalised to 8-bit RGBA.

use std::io::Cursor;

use garmax_core::{Coded, ErrorCode};
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, RgbaImage};
use serde::Serialize;

/// Limits applied before and during decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageLimits {
    /// Largest accepted encoded size in bytes.
    pub max_bytes: u64,
    /// Largest accepted width × height.
    pub max_pixels: u64,
}

impl Default for ImageLimits {
    fn default() -> Self {
        ImageLimits {
            max_bytes: 20 * 1024 * 1024,
            max_pixels: 40_000_000,
        }
    }
}

/// Why an image was refused.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("the file is empty")]
    Empty,
    #[error("not a supported image ({found}); use JPEG, PNG or WebP")]
    UnsupportedFormat { found: String },
    #[error("the {format} file is damaged or truncated: {detail}")]
    Corrupt {
        format: &'static str,
        detail: String,
    },
    #[error("animated {format} images are not supported; upload a still photo")]
    Animated { format: &'static str },
    #[error("the file is {bytes} bytes; the limit is {limit} bytes")]
    TooManyBytes { bytes: u64, limit: u64 },
    #[error("the image is {width}×{height} ({pixels} pixels); the limit is {limit} pixels")]
    TooManyPixels {
        width: u32,
        height: u32,
        pixels: u64,
        limit: u64,
    },
    #[error("the image has no pixels ({width}×{height})")]
    ZeroSized { width: u32, height: u32 },
}

impl Coded for ImageError {
    fn code(&self) -> ErrorCode {
        match self {
            ImageError::TooManyBytes { .. } | ImageError::TooManyPixels { .. } => {
                ErrorCode::ImageTooLarge
            }
            _ => ErrorCode::InvalidImage,
        }
    }
}

/// The accepted encodings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceFormat {
    Jpeg,
    Png,
    Webp,
}

impl SourceFormat {
    pub fn name(self) -> &'static str {
        match self {
            SourceFormat::Jpeg => "JPEG",
            SourceFormat::Png => "PNG",
            SourceFormat::Webp => "WebP",
        }
    }
}

/// A decoded, oriented, 8-bit RGBA image and what was learnt on the way.
#[derive(Debug, Clone)]
pub struct DecodedImage {
    pub rgba: RgbaImage,
    pub format: SourceFormat,
    /// Whether the source carried an alpha channel (a cut-out product photo).
    pub has_alpha: bool,
    /// The source's pixel layout before normalisation, e.g. `Rgb16`, `L8`, `Cmyk8`.
    pub source_layout: String,
    /// Whether an EXIF orientation other than "normal" was applied.
    pub reoriented: bool,
}

impl DecodedImage {
    /// Wraps pixels that were produced in memory (a render, a generated
    /// product photo) rather than decoded from a file; treated as an opaque
    /// PNG-like source.
    pub fn from_rgba(rgba: RgbaImage) -> DecodedImage {
        DecodedImage {
            rgba,
            format: SourceFormat::Png,
            has_alpha: false,
            source_layout: "Rgba8".into(),
            reoriented: false,
        }
    }
}

/// Decodes untrusted bytes into an oriented RGBA image, enforcing `limits`.
pub fn decode_image(bytes: &[u8], limits: &ImageLimits) -> Result<DecodedImage, ImageError> {
    if bytes.is_empty() {
        return Err(ImageError::Empty);
    }
    let len = bytes.len() as u64;
    if len > limits.max_bytes {
        return Err(ImageError::TooManyBytes {
            bytes: len,
            limit: limits.max_bytes,
        });
    }
    let format = sniff_format(bytes)?;
    // The decoders are well tested, but this function guards a server: a
    // panic in a codec must become an error for this request, not a crash.
    match std::panic::catch_unwind(|| decode_checked(bytes, format, limits)) {
        Ok(result) => result,
        Err(_) => Err(ImageError::Corrupt {
            format: format.name(),
            detail: "the decoder rejected the data".into(),
        }),
    }
}

fn sniff_format(bytes: &[u8]) -> Result<SourceFormat, ImageError> {
    match image::guess_format(bytes) {
        Ok(ImageFormat::Jpeg) => Ok(SourceFormat::Jpeg),
        Ok(ImageFormat::Png) => Ok(SourceFormat::Png),
        Ok(ImageFormat::WebP) => Ok(SourceFormat::Webp),
        Ok(other) => Err(ImageError::UnsupportedFormat {
            found: format!("{other:?}"),
        }),
        Err(_) => Err(ImageError::UnsupportedFormat {
            found: describe_unknown(bytes),
        }),
    }
}

fn describe_unknown(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(64)];
    let printable = head
        .iter()
        .all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace());
    if printable {
        "text, not an image".into()
    } else {
        "unrecognised binary data".into()
    }
}

fn corrupt(format: SourceFormat) -> impl Fn(image::ImageError) -> ImageError {
    move |e| match e {
        image::ImageError::Limits(_) => ImageError::Corrupt {
            format: format.name(),
            detail: "decoding would exceed the memory limit".into(),
        },
        other => ImageError::Corrupt {
            format: format.name(),
            detail: other.to_string(),
        },
    }
}

fn decode_checked(
    bytes: &[u8],
    format: SourceFormat,
    limits: &ImageLimits,
) -> Result<DecodedImage, ImageError> {
    let to_err = corrupt(format);
    check_not_animated(bytes, format)?;
    // JPEG decoders pad a cut-off scan with grey and call it a picture; a
    // file without its end-of-image marker is an interrupted upload.
    if format == SourceFormat::Jpeg && !bytes.windows(2).any(|w| w == [0xFF, 0xD9]) {
        return Err(ImageError::Corrupt {
            format: format.name(),
            detail: "the file ends before the image does (no end-of-image marker)".into(),
        });
    }

    let mut reader = ImageReader::with_format(
        Cursor::new(bytes),
        match format {
            SourceFormat::Jpeg => ImageFormat::Jpeg,
            SourceFormat::Png => ImageFormat::Png,
            SourceFormat::Webp => ImageFormat::WebP,
        },
    );
    let mut codec_limits = image::Limits::default();
    // 16-bit RGBA is the widest layout we accept: 8 bytes per pixel, plus
    // headroom for the codec's own buffers.
    codec_limits.max_alloc = Some(limits.max_pixels.saturating_mul(8).saturating_add(64 << 20));
    reader.limits(codec_limits);

    let mut decoder = reader.into_decoder().map_err(&to_err)?;
    let (width, height) = decoder.dimensions();
    let pixels = u64::from(width) * u64::from(height);
    if pixels == 0 {
        return Err(ImageError::ZeroSized { width, height });
    }
    if pixels > limits.max_pixels {
        return Err(ImageError::TooManyPixels {
            width,
            height,
            pixels,
            limit: limits.max_pixels,
        });
    }
    let source_layout = format!("{:?}", decoder.original_color_type());
    // A broken EXIF block should not cost the user their upload: the photo is
    // still usable, just unrotated.
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(&to_err)?;
    let reoriented = orientation != image::metadata::Orientation::NoTransforms;
    image.apply_orientation(orientation);
    let has_alpha = image.color().has_alpha();
    Ok(DecodedImage {
        rgba: image.into_rgba8(),
        format,
        has_alpha,
        source_layout,
        reoriented,
    })
}

fn check_not_animated(bytes: &[u8], format: SourceFormat) -> Result<(), ImageError> {
    let animated = match format {
        SourceFormat::Jpeg => false,
        SourceFormat::Png => png_has_animation_control(bytes),
        SourceFormat::Webp => webp_has_animation_flag(bytes),
    };
    if animated {
        Err(ImageError::Animated {
            format: format.name(),
        })
    } else {
        Ok(())
    }
}

/// An APNG declares itself with an `acTL` chunk before the first `IDAT`.
fn png_has_animation_control(bytes: &[u8]) -> bool {
    let mut pos = 8; // signature
    while pos + 8 <= bytes.len() {
        let len = u32::from_be_bytes([bytes[pos], bytes[pos + 1], bytes[pos + 2], bytes[pos + 3]]);
        let kind = &bytes[pos + 4..pos + 8];
        match kind {
            b"acTL" => return true,
            b"IDAT" | b"IEND" => return false,
            _ => {}
        }
        pos = match pos.checked_add(12 + len as usize) {
            Some(next) => next,
            None => return false,
        };
    }
    false
}

/// An animated WebP has a `VP8X` header whose flags byte has bit 1 set.
fn webp_has_animation_flag(bytes: &[u8]) -> bool {
    bytes.len() >= 21 && &bytes[12..16] == b"VP8X" && bytes[20] & 0b0000_0010 != 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageBuffer, Luma, Rgb, Rgba};

    fn encode(img: &DynamicImage, format: ImageFormat) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    #[test]
    fn decodes_png_and_keeps_alpha() {
        let img = DynamicImage::ImageRgba8(ImageBuffer::from_pixel(4, 3, Rgba([10, 20, 30, 128])));
        let out = decode_image(&encode(&img, ImageFormat::Png), &ImageLimits::default()).unwrap();
        assert_eq!(out.rgba.dimensions(), (4, 3));
        assert!(out.has_alpha);
        assert_eq!(out.rgba.get_pixel(1, 1).0, [10, 20, 30, 128]);
    }

    #[test]
    fn decodes_jpeg_without_alpha() {
        let img = DynamicImage::ImageRgb8(ImageBuffer::from_pixel(16, 16, Rgb([200, 40, 40])));
        let out = decode_image(&encode(&img, ImageFormat::Jpeg), &ImageLimits::default()).unwrap();
        assert_eq!(out.format, SourceFormat::Jpeg);
        assert!(!out.has_alpha);
        assert_eq!(out.rgba.get_pixel(8, 8).0[3], 255);
    }

    #[test]
    fn grayscale_and_16_bit_are_normalised() {
        let gray = DynamicImage::ImageLuma8(ImageBuffer::from_pixel(5, 5, Luma([77])));
        let out = decode_image(&encode(&gray, ImageFormat::Png), &ImageLimits::default()).unwrap();
        assert_eq!(out.rgba.get_pixel(0, 0).0, [77, 77, 77, 255]);
        assert_eq!(out.source_layout, "L8");

        let deep =
            DynamicImage::ImageRgb16(ImageBuffer::from_pixel(5, 5, Rgb([65535u16, 0, 32896])));
        let out = decode_image(&encode(&deep, ImageFormat::Png), &ImageLimits::default()).unwrap();
        assert_eq!(out.rgba.get_pixel(2, 2).0, [255, 0, 128, 255]);
        assert_eq!(out.source_layout, "Rgb16");
    }

    #[test]
    fn refuses_what_is_not_an_image() {
        let err = decode_image(b"", &ImageLimits::default()).unwrap_err();
        assert!(matches!(err, ImageError::Empty));
        assert_eq!(err.code(), ErrorCode::InvalidImage);

        let err = decode_image(
            b"hello, I am a text file named photo.jpg\n",
            &ImageLimits::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("text"), "{err}");
        assert_eq!(err.code(), ErrorCode::InvalidImage);
    }

    #[test]
    fn refuses_unsupported_formats_by_content() {
        let img = DynamicImage::ImageRgb8(ImageBuffer::from_pixel(4, 4, Rgb([1, 2, 3])));
        let bmp = encode(&img, ImageFormat::Bmp);
        let err = decode_image(&bmp, &ImageLimits::default()).unwrap_err();
        assert!(matches!(err, ImageError::UnsupportedFormat { .. }), "{err}");
        assert!(err.to_string().contains("Bmp"));
    }

    #[test]
    fn truncated_files_are_corrupt_not_panics() {
        let img = DynamicImage::ImageRgb8(ImageBuffer::from_fn(64, 64, |x, y| {
            Rgb([(x * 4) as u8, (y * 4) as u8, 99])
        }));
        for format in [ImageFormat::Jpeg, ImageFormat::Png] {
            let bytes = encode(&img, format);
            for cut in [bytes.len() / 3, bytes.len() / 2, bytes.len() - 10] {
                match decode_image(&bytes[..cut], &ImageLimits::default()) {
                    Ok(_) => panic!("{format:?} cut at {cut} of {} decoded", bytes.len()),
                    Err(err) => assert_eq!(err.code(), ErrorCode::InvalidImage, "{err}"),
                }
            }
        }
    }

    #[test]
    fn byte_limit_is_checked_first() {
        let limits = ImageLimits {
            max_bytes: 10,
            max_pixels: 100,
        };
        let err = decode_image(&[0u8; 11], &limits).unwrap_err();
        assert_eq!(err.code(), ErrorCode::ImageTooLarge);
    }

    #[test]
    fn pixel_limit_is_checked_from_the_header() {
        let img = DynamicImage::ImageRgb8(ImageBuffer::from_pixel(100, 100, Rgb([0, 0, 0])));
        let limits = ImageLimits {
            max_bytes: 1 << 20,
            max_pixels: 9_999,
        };
        let err = decode_image(&encode(&img, ImageFormat::Png), &limits).unwrap_err();
        assert!(
            matches!(err, ImageError::TooManyPixels { pixels: 10_000, .. }),
            "{err}"
        );
    }

    #[test]
    fn detects_animation_markers() {
        let mut apng = b"\x89PNG\r\n\x1a\n".to_vec();
        apng.extend_from_slice(&13u32.to_be_bytes());
        apng.extend_from_slice(b"IHDR");
        apng.extend_from_slice(&[0; 13 + 4]);
        apng.extend_from_slice(&8u32.to_be_bytes());
        apng.extend_from_slice(b"acTL");
        apng.extend_from_slice(&[0; 8 + 4]);
        assert!(png_has_animation_control(&apng));
        let err = decode_image(&apng, &ImageLimits::default()).unwrap_err();
        assert!(matches!(err, ImageError::Animated { .. }), "{err}");

        let mut webp = b"RIFF\0\0\0\0WEBPVP8X".to_vec();
        webp.extend_from_slice(&[10, 0, 0, 0, 0b0000_0010, 0, 0, 0]);
        assert!(webp_has_animation_flag(&webp));
    }
}

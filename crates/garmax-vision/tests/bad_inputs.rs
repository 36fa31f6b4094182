//! Hostile and odd files: each gets a clear, coded error — or is handled —
//! and nothing panics.

use std::io::Cursor;

use garmax_core::{Coded, ErrorCode};
use garmax_vision::{AnalysisOptions, ImageLimits, analyze_garment, decode_image};
use image::{DynamicImage, ImageBuffer, ImageFormat, Rgb, Rgba};

fn encode(img: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

/// A valid PNG claiming 30000×30000 pixels whose body is a short,
/// well-formed zlib stream of zero rows: a few kilobytes on disk that would
/// inflate to 2.7 GB if a decoder believed the header.
fn png_bomb() -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        out.extend_from_slice(&crc.sum().to_be_bytes());
    }
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&30000u32.to_be_bytes());
    ihdr.extend_from_slice(&30000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut z, &vec![0u8; 64 * (1 + 30000 * 3)]).unwrap();
    let idat = z.finish().unwrap();
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut png, b"IHDR", &ihdr);
    chunk(&mut png, b"IDAT", &idat);
    chunk(&mut png, b"IEND", &[]);
    png
}

#[test]
fn empty_and_text_files_are_invalid_images() {
    for bytes in [&b""[..], b"GIF89? no, just text pretending to be photo.jpg"] {
        let err = decode_image(bytes, &ImageLimits::default()).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidImage, "{err}");
    }
}

#[test]
fn decompression_bomb_is_refused_from_its_header() {
    let bomb = png_bomb();
    assert!(bomb.len() < 200_000, "bomb is {} bytes", bomb.len());
    let err = decode_image(&bomb, &ImageLimits::default()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::ImageTooLarge, "{err}");
    assert!(err.to_string().contains("30000×30000"), "{err}");
}

#[test]
fn truncated_jpeg_is_invalid() {
    let img = DynamicImage::ImageRgb8(ImageBuffer::from_fn(300, 200, |x, y| {
        Rgb([(x % 256) as u8, (y % 256) as u8, 80])
    }));
    let jpeg = encode(&img, ImageFormat::Jpeg);
    let err = decode_image(&jpeg[..jpeg.len() * 2 / 3], &ImageLimits::default()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidImage, "{err}");
}

#[test]
fn sixteen_bit_and_grayscale_photos_are_analysed() {
    // A 16-bit cut-out garment: decoded to 8 bits, then analysed normally.
    let img = DynamicImage::ImageRgba16(ImageBuffer::from_fn(200, 200, |x, y| {
        let inside = (50..150).contains(&x) && (40..170).contains(&y);
        if inside {
            Rgba([50_000u16, 10_000, 10_000, 65_535])
        } else {
            Rgba([0, 0, 0, 0])
        }
    }));
    let decoded = decode_image(&encode(&img, ImageFormat::Png), &ImageLimits::default()).unwrap();
    assert_eq!(decoded.source_layout, "Rgba16");
    let out = analyze_garment(&decoded, &AnalysisOptions::default()).unwrap();
    assert_eq!(out.analysis.colors.dominant.r, 195);

    let gray = DynamicImage::ImageLuma8(ImageBuffer::from_fn(200, 200, |x, y| {
        let inside = (50..150).contains(&x) && (40..170).contains(&y);
        image::Luma([if inside { 60 } else { 245 }])
    }));
    let decoded = decode_image(&encode(&gray, ImageFormat::Png), &ImageLimits::default()).unwrap();
    let out = analyze_garment(&decoded, &AnalysisOptions::default()).unwrap();
    assert_eq!(out.analysis.colors.dominant.hex, "#3c3c3c");
}

#[test]
fn cmyk_jpeg_is_converted() {
    // A minimal Adobe CMYK JPEG is hard to produce without a CMYK encoder;
    // the decoder's own conversion is exercised through jpeg-encoder's CMYK
    // output.
    let mut jpeg = Vec::new();
    let enc = jpeg_encoder::Encoder::new(&mut jpeg, 90);
    let (w, h) = (64u16, 48u16);
    let mut data = Vec::new();
    for _ in 0..(w as usize * h as usize) {
        // C, M, Y, K for a mid red.
        data.extend_from_slice(&[0u8, 200, 200, 40]);
    }
    enc.encode(&data, w, h, jpeg_encoder::ColorType::Cmyk)
        .unwrap();
    let decoded = decode_image(&jpeg, &ImageLimits::default()).unwrap();
    assert_eq!(decoded.rgba.dimensions(), (64, 48));
    let p = decoded.rgba.get_pixel(10, 10).0;
    assert!(
        p[0] > p[1] + 60 && p[0] > p[2] + 60,
        "CMYK red decoded as {p:?}"
    );
}

#[test]
fn animated_webp_and_apng_are_refused() {
    // An animated WebP header: RIFF, WEBP, VP8X with the animation flag.
    let mut webp = b"RIFF".to_vec();
    webp.extend_from_slice(&30u32.to_le_bytes());
    webp.extend_from_slice(b"WEBPVP8X");
    webp.extend_from_slice(&10u32.to_le_bytes());
    webp.extend_from_slice(&[0b0000_0010, 0, 0, 0, 9, 0, 0, 9, 0, 0]);
    let err = decode_image(&webp, &ImageLimits::default()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidImage);
    assert!(err.to_string().contains("animated"), "{err}");
}

#[test]
fn uniform_image_has_no_garment() {
    let img = DynamicImage::ImageRgb8(ImageBuffer::from_pixel(300, 300, Rgb([120, 140, 200])));
    let decoded = decode_image(&encode(&img, ImageFormat::Png), &ImageLimits::default()).unwrap();
    let err = analyze_garment(&decoded, &AnalysisOptions::default())
        .err()
        .expect("no garment");
    assert_eq!(err.code(), ErrorCode::NoGarmentFound);
}

#[test]
fn random_bytes_never_panic() {
    let mut state = 0x1234_5678_u64;
    for len in [1usize, 7, 64, 513, 4096] {
        for prefix in [
            &b"\xFF\xD8\xFF"[..],
            b"\x89PNG\r\n\x1a\n",
            b"RIFF\0\0\0\0WEBPVP8 ",
        ] {
            let mut bytes = prefix.to_vec();
            for _ in 0..len {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                bytes.push(state as u8);
            }
            let _ = decode_image(&bytes, &ImageLimits::default());
        }
    }
}

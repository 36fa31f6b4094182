//! Shared helpers of the fake-server tests.
#![allow(dead_code)]

use std::time::Duration;

use garmax_providers::{ClientConfig, GarmentBrief, HttpSettings, ImageData, RenderJob};

/// A tiny valid PNG.
pub fn png() -> ImageData {
    ImageData::png(&image::RgbaImage::from_pixel(
        4,
        4,
        image::Rgba([200, 30, 30, 255]),
    ))
}

pub fn png_bytes() -> Vec<u8> {
    png().bytes.as_ref().clone()
}

pub fn job() -> RenderJob {
    let mut job = RenderJob::new(
        png(),
        png(),
        GarmentBrief {
            garment_type: "tshirt".into(),
            colors: vec!["red".into()],
            branding: String::new(),
            style: vec![],
        },
    );
    job.seed = Some(42);
    job
}

/// Fast polling and short deadlines so failure tests finish quickly.
pub fn config(name: &str, base: &str) -> ClientConfig {
    let mut c = ClientConfig::new(name, base).with_key("test-key");
    c.http = HttpSettings {
        request_timeout: Duration::from_millis(800),
        connect_timeout: Duration::from_millis(500),
        deadline: Duration::from_secs(3),
        poll_initial: Duration::from_millis(5),
        poll_max: Duration::from_millis(20),
        max_output_bytes: 64 << 10,
        max_response_bytes: 1 << 20,
    };
    c.cost_per_image = Some(0.03);
    c
}

//! Reading an uploaded image: the multipart field is read chunk by chunk up
//! to the byte limit (a huge upload is refused without being held in
//! memory), then its header is checked by the image decoder (format, pixel
//! count against decompression bombs) and the whole image decoded once to
//! catch truncated files — all off the async runtime.

use axum::extract::Multipart;
use garmax_core::ErrorCode;
use garmax_vision::ImageLimits;

use crate::error::ApiError;

/// Reads the field `name` of a multipart body.
pub async fn read_field(
    mut multipart: Multipart,
    name: &str,
    max_bytes: usize,
) -> Result<Vec<u8>, ApiError> {
    let bad = |e: axum::extract::multipart::MultipartError| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                ErrorCode::ImageTooLarge,
                format!("the upload exceeds {max_bytes} bytes"),
            )
        } else {
            ApiError::bad_request(format!("malformed multipart body: {}", e.body_text()))
        }
    };
    while let Some(mut field) = multipart.next_field().await.map_err(bad)? {
        if field.name() != Some(name) {
            continue;
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(bad)? {
            if bytes.len() + chunk.len() > max_bytes {
                return Err(ApiError::new(
                    ErrorCode::ImageTooLarge,
                    format!("the image exceeds {max_bytes} bytes"),
                ));
            }
            bytes.extend_from_slice(&chunk);
        }
        return Ok(bytes);
    }
    Err(ApiError::bad_request(format!(
        "the multipart body has no field '{name}'"
    )))
}

/// Checks that `bytes` is an intact JPEG, PNG or WebP within the limits.
pub async fn check_image(bytes: Vec<u8>, limits: ImageLimits) -> Result<Vec<u8>, ApiError> {
    tokio::task::spawn_blocking(move || {
        garmax_vision::decode_image(&bytes, &limits)?;
        Ok::<_, ApiError>(bytes)
    })
    .await
    .map_err(|_| ApiError::new(ErrorCode::InvalidImage, "the image could not be decoded"))?
}

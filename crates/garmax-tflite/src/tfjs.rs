//! TensorFlow.js weight files: a `*-weights_manifest.json` naming each
//! tensor (name, shape, dtype, optional quantisation) and the binary shards
//! that hold their bytes back to back.
//!
//! Supported: float32 tensors stored as float32, or quantised to uint8 /
//! uint16 with an affine `min + scale · q` (what `tfjs-converter
//! --quantize_uint8/16` writes). Float16 quantisation and non-float dtypes
//! are refused with [`TfjsError::Unsupported`].

use std::collections::BTreeMap;

use serde::Deserialize;

/// Why a TF.js weight manifest could not be read.
#[derive(Debug, thiserror::Error)]
pub enum TfjsError {
    #[error("malformed TF.js weights manifest: {0}")]
    Malformed(String),
    #[error("unsupported TF.js weight {name}: {reason}")]
    Unsupported { name: String, reason: String },
    /// A shard named by the manifest could not be read.
    #[error("TF.js weight shard {path}: {reason}")]
    Shard { path: String, reason: String },
}

/// One decoded tensor, row-major in TF.js's own layout (e.g. HWIO filters).
#[derive(Debug, Clone, PartialEq)]
pub struct WeightTensor {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

#[derive(Debug, Deserialize)]
struct Group {
    paths: Vec<String>,
    weights: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
struct Entry {
    name: String,
    shape: Vec<usize>,
    dtype: String,
    #[serde(default)]
    quantization: Option<Quantization>,
}

#[derive(Debug, Deserialize)]
struct Quantization {
    dtype: String,
    #[serde(default)]
    scale: Option<f32>,
    #[serde(default)]
    min: Option<f32>,
}

/// Decodes every tensor of a manifest. `read_shard` returns the bytes of a
/// shard given its path as written in the manifest (relative to the
/// manifest's directory).
pub fn read_weights(
    manifest: &[u8],
    mut read_shard: impl FnMut(&str) -> std::io::Result<Vec<u8>>,
) -> Result<BTreeMap<String, WeightTensor>, TfjsError> {
    let groups: Vec<Group> =
        serde_json::from_slice(manifest).map_err(|e| TfjsError::Malformed(e.to_string()))?;
    let mut out = BTreeMap::new();
    for group in groups {
        let mut bytes = Vec::new();
        for path in &group.paths {
            let shard = read_shard(path).map_err(|e| TfjsError::Shard {
                path: path.clone(),
                reason: e.to_string(),
            })?;
            bytes.extend_from_slice(&shard);
        }
        let mut offset = 0usize;
        for entry in &group.weights {
            let (tensor, used) = decode_entry(entry, &bytes[offset.min(bytes.len())..])?;
            offset += used;
            if out.insert(entry.name.clone(), tensor).is_some() {
                return Err(TfjsError::Malformed(format!(
                    "weight {} appears twice",
                    entry.name
                )));
            }
        }
        if offset != bytes.len() {
            return Err(TfjsError::Malformed(format!(
                "shards {:?} hold {} bytes, the manifest describes {offset}",
                group.paths,
                bytes.len()
            )));
        }
    }
    Ok(out)
}

/// How one tensor's values are stored.
#[derive(Debug, Clone, Copy)]
enum Encoding {
    Float32,
    /// `min + scale · q` with `q` of `bytes` bytes (1 or 2), little-endian.
    Affine {
        bytes: usize,
        min: f32,
        scale: f32,
    },
}

impl Encoding {
    fn of(entry: &Entry) -> Result<Self, TfjsError> {
        let unsupported = |reason: String| TfjsError::Unsupported {
            name: entry.name.clone(),
            reason,
        };
        if entry.dtype != "float32" {
            return Err(unsupported(format!("dtype {}", entry.dtype)));
        }
        let Some(q) = &entry.quantization else {
            return Ok(Encoding::Float32);
        };
        let (Some(scale), Some(min)) = (q.scale, q.min) else {
            return Err(unsupported(format!(
                "{} quantisation without scale and min",
                q.dtype
            )));
        };
        let bytes = match q.dtype.as_str() {
            "uint8" => 1,
            "uint16" => 2,
            other => return Err(unsupported(format!("{other} quantisation"))),
        };
        Ok(Encoding::Affine { bytes, min, scale })
    }

    fn width(self) -> usize {
        match self {
            Encoding::Float32 => 4,
            Encoding::Affine { bytes, .. } => bytes,
        }
    }

    fn decode(self, b: &[u8]) -> f32 {
        match self {
            Encoding::Float32 => f32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            Encoding::Affine {
                bytes: 1,
                min,
                scale,
            } => min + scale * f32::from(b[0]),
            Encoding::Affine { min, scale, .. } => {
                min + scale * f32::from(u16::from_le_bytes([b[0], b[1]]))
            }
        }
    }
}

/// Decodes one tensor from the start of `bytes`; returns it and the number
/// of bytes it occupied.
fn decode_entry(entry: &Entry, bytes: &[u8]) -> Result<(WeightTensor, usize), TfjsError> {
    let encoding = Encoding::of(entry)?;
    let count: usize = entry.shape.iter().product();
    let width = encoding.width();
    let size = count * width;
    if bytes.len() < size {
        return Err(TfjsError::Malformed(format!(
            "weight {} needs {size} bytes, {} left in its shards",
            entry.name,
            bytes.len()
        )));
    }
    let data = bytes[..size]
        .chunks_exact(width)
        .map(|b| encoding.decode(b))
        .collect();
    Ok((
        WeightTensor {
            shape: entry.shape.clone(),
            data,
        },
        size,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = r#"[{"paths":["a.bin","b.bin"],"weights":[
        {"name":"q","shape":[2],"dtype":"float32","quantization":{"dtype":"uint8","scale":0.5,"min":-1.0}},
        {"name":"f","shape":[1],"dtype":"float32"},
        {"name":"w","shape":[1],"dtype":"float32","quantization":{"dtype":"uint16","scale":2.0,"min":1.0}}
    ]}]"#;

    fn shards(path: &str) -> std::io::Result<Vec<u8>> {
        match path {
            // The first shard ends inside the float: tensors may span shards.
            "a.bin" => Ok(vec![0, 4, 0x00, 0x00]),
            "b.bin" => Ok(vec![0x40, 0x40, 3, 0]),
            _ => Err(std::io::Error::from(std::io::ErrorKind::NotFound)),
        }
    }

    #[test]
    fn decodes_float_and_quantised_weights_across_shards() {
        let w = read_weights(MANIFEST.as_bytes(), shards).unwrap();
        assert_eq!(w["q"].data, vec![-1.0, 1.0]);
        assert_eq!(w["f"].data, vec![3.0]);
        assert_eq!(w["w"].data, vec![7.0]);
        assert_eq!(w["w"].shape, vec![1]);
    }

    #[test]
    fn size_mismatch_and_missing_shard_are_errors() {
        let short = |p: &str| {
            shards(p).map(|mut v| {
                v.pop();
                v
            })
        };
        assert!(matches!(
            read_weights(MANIFEST.as_bytes(), short),
            Err(TfjsError::Malformed(_))
        ));
        let missing = |_: &str| Err(std::io::Error::from(std::io::ErrorKind::NotFound));
        assert!(matches!(
            read_weights(MANIFEST.as_bytes(), missing),
            Err(TfjsError::Shard { .. })
        ));
        let f16 = MANIFEST.replace("uint16", "float16");
        assert!(matches!(
            read_weights(f16.as_bytes(), shards),
            Err(TfjsError::Unsupported { .. })
        ));
    }
}

//! TensorFlow Lite → ONNX importer: reads a `.tflite` flatbuffer and writes an
//! equivalent ONNX model. Usable on its own; knows nothing else of garmax.
//!
//! Scope: the float models MediaPipe ships (pose detection and landmarks,
//! selfie segmentation, face detection and mesh). Supported operators:
//! CONV_2D, DEPTHWISE_CONV_2D, ADD, MUL, PAD, MAX_POOL_2D, AVERAGE_POOL_2D,
//! RESHAPE, CONCATENATION, RELU, RELU6, RELU_N1_TO_1, TANH, PRELU, LOGISTIC,
//! HARD_SWISH, RESIZE_BILINEAR, DEPTH_TO_SPACE, DEQUANTIZE and DENSIFY of
//! constants (folded into fp32 initialisers), and MediaPipe's custom
//! `Convolution2DTransposeBias`. Anything else is reported as
//! [`ConvertError::UnsupportedOperator`] with its name and index.
//!
//! The ONNX model keeps the TFLite model's input and output names and NHWC
//! shapes, so callers feed it exactly what the TFLite interpreter takes;
//! internally it runs NCHW (see `convert.rs`). Opset 17.
//!
//! For networks whose architecture lives in code (TF.js models such as
//! face-api's), [`tfjs`] decodes a TF.js weights manifest (float32 or
//! uint8/uint16-quantised) and [`graph::GraphBuilder`] writes the ONNX graph
//! the caller describes, with the same messages and opset.
//!
//! ```no_run
//! let tflite = std::fs::read("pose_detection.tflite")?;
//! let conversion = garmax_tflite::convert_with_summary(&tflite)?;
//! println!("{}", conversion.summary);
//! std::fs::write("pose_detection.onnx", &conversion.onnx)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod consts;
mod convert;
mod fb;
pub mod graph;
mod onnx;
mod schema;
pub mod tfjs;

use std::collections::BTreeMap;
use std::fmt;

/// Why a model could not be converted.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    /// The bytes are not a well-formed TFLite flatbuffer (truncated, offsets
    /// out of range, inconsistent sizes).
    #[error("malformed TFLite model: {0}")]
    Malformed(String),
    /// The model uses an operator this importer does not map.
    #[error("unsupported TFLite operator {op} (operator #{index})")]
    UnsupportedOperator { index: usize, op: String },
    /// A supported operator used in a way the importer does not handle
    /// (runtime weights, inconsistent shapes, unknown option values).
    #[error("TFLite operator {op} (operator #{index}): {reason}")]
    Operator {
        index: usize,
        op: String,
        reason: String,
    },
    /// A model-level feature outside the importer's scope (e.g. integer
    /// graph inputs).
    #[error("unsupported TFLite model: {0}")]
    Unsupported(String),
}

/// Name, shape and element type of a graph input or output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorDesc {
    pub name: String,
    /// NHWC for images, exactly as declared in the TFLite model.
    pub shape: Vec<usize>,
    pub dtype: String,
}

/// What a model contains, for logs and diagnostics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelSummary {
    pub inputs: Vec<TensorDesc>,
    pub outputs: Vec<TensorDesc>,
    /// TFLite operator name → number of uses (custom ops by their custom
    /// code).
    pub tflite_ops: BTreeMap<String, usize>,
    /// Nodes in the converted ONNX graph (0 when only inspected).
    pub onnx_nodes: usize,
    /// Initialisers in the converted ONNX graph (0 when only inspected).
    pub onnx_initializers: usize,
}

impl fmt::Display for ModelSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let io = |v: &[TensorDesc]| {
            v.iter()
                .map(|t| format!("{} {:?} {}", t.name, t.shape, t.dtype))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let total: usize = self.tflite_ops.values().sum();
        write!(
            f,
            "inputs: {}; outputs: {}; {total} ops (",
            io(&self.inputs),
            io(&self.outputs)
        )?;
        let ops: Vec<String> = self
            .tflite_ops
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        write!(f, "{})", ops.join(", "))?;
        if self.onnx_nodes > 0 {
            write!(
                f,
                " → {} ONNX nodes, {} initialisers",
                self.onnx_nodes, self.onnx_initializers
            )?;
        }
        Ok(())
    }
}

/// A converted model and its summary.
#[derive(Debug, Clone)]
pub struct Conversion {
    /// Serialised ONNX `ModelProto`.
    pub onnx: Vec<u8>,
    pub summary: ModelSummary,
}

/// The importer's version; part of the stamp beside each converted model, so
/// a new importer reconverts cached models.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Converts a TFLite model to a serialised ONNX model.
pub fn convert(tflite: &[u8]) -> Result<Vec<u8>, ConvertError> {
    Ok(convert::convert(tflite)?.0)
}

/// Converts a TFLite model and describes it.
pub fn convert_with_summary(tflite: &[u8]) -> Result<Conversion, ConvertError> {
    let (onnx, summary) = convert::convert(tflite)?;
    Ok(Conversion { onnx, summary })
}

/// Describes a TFLite model (inputs, outputs, operator histogram) without
/// converting it.
pub fn inspect(tflite: &[u8]) -> Result<ModelSummary, ConvertError> {
    let model = schema::read_model(tflite)?;
    convert::summarize(&model)
}

#[cfg(test)]
mod tests;

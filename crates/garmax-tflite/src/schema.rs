//! Readers for the TFLite tables the converter needs.
//!
//! Field indices, enum values and defaults follow TensorFlow Lite's
//! `schema.fbs` (Copyright The TensorFlow Authors, Apache License 2.0); the
//! readers themselves are written by hand over [`crate::fb`]. Everything is
//! read eagerly into plain Rust values so the converter never touches raw
//! offsets.

use crate::ConvertError;
use crate::fb::{Buf, FbResult, Table};

/// `BuiltinOperator` codes used by the converter (schema.fbs).
pub(crate) mod op {
    pub const ADD: i32 = 0;
    pub const AVERAGE_POOL_2D: i32 = 1;
    pub const CONCATENATION: i32 = 2;
    pub const CONV_2D: i32 = 3;
    pub const DEPTHWISE_CONV_2D: i32 = 4;
    pub const DEPTH_TO_SPACE: i32 = 5;
    pub const DEQUANTIZE: i32 = 6;
    pub const LOGISTIC: i32 = 14;
    pub const MAX_POOL_2D: i32 = 17;
    pub const MUL: i32 = 18;
    pub const RELU: i32 = 19;
    pub const RELU_N1_TO_1: i32 = 20;
    pub const RELU6: i32 = 21;
    pub const RESHAPE: i32 = 22;
    pub const RESIZE_BILINEAR: i32 = 23;
    pub const TANH: i32 = 28;
    pub const CUSTOM: i32 = 32;
    pub const PAD: i32 = 34;
    pub const PRELU: i32 = 54;
    pub const HARD_SWISH: i32 = 117;
    pub const DENSIFY: i32 = 124;
}

/// Human-readable name of a builtin operator code, for summaries and errors.
pub(crate) fn builtin_name(code: i32) -> String {
    let known = match code {
        op::ADD => "ADD",
        op::AVERAGE_POOL_2D => "AVERAGE_POOL_2D",
        op::CONCATENATION => "CONCATENATION",
        op::CONV_2D => "CONV_2D",
        op::DEPTHWISE_CONV_2D => "DEPTHWISE_CONV_2D",
        op::DEPTH_TO_SPACE => "DEPTH_TO_SPACE",
        op::DEQUANTIZE => "DEQUANTIZE",
        8 => "FLOOR",
        9 => "FULLY_CONNECTED",
        11 => "L2_NORMALIZATION",
        op::LOGISTIC => "LOGISTIC",
        16 => "LSTM",
        op::MAX_POOL_2D => "MAX_POOL_2D",
        op::MUL => "MUL",
        op::RELU => "RELU",
        op::RELU_N1_TO_1 => "RELU_N1_TO_1",
        op::RELU6 => "RELU6",
        op::RESHAPE => "RESHAPE",
        op::RESIZE_BILINEAR => "RESIZE_BILINEAR",
        25 => "SOFTMAX",
        26 => "SPACE_TO_DEPTH",
        op::TANH => "TANH",
        op::CUSTOM => "CUSTOM",
        op::PAD => "PAD",
        39 => "TRANSPOSE",
        40 => "MEAN",
        41 => "SUB",
        42 => "DIV",
        45 => "STRIDED_SLICE",
        49 => "EXP",
        op::PRELU => "PRELU",
        55 => "MAXIMUM",
        57 => "MINIMUM",
        60 => "PADV2",
        65 => "SLICE",
        67 => "TRANSPOSE_CONV",
        75 => "SQRT",
        97 => "RESIZE_NEAREST_NEIGHBOR",
        op::HARD_SWISH => "HARD_SWISH",
        op::DENSIFY => "DENSIFY",
        _ => return format!("BUILTIN_{code}"),
    };
    known.to_string()
}

/// `TensorType` values (schema.fbs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TensorType {
    Float32,
    Float16,
    Int32,
    UInt8,
    Int64,
    Int16,
    Int8,
    /// Any other type: carried so errors can name it.
    Other(u8),
}

impl TensorType {
    fn from_code(c: u8) -> Self {
        match c {
            0 => Self::Float32,
            1 => Self::Float16,
            2 => Self::Int32,
            3 => Self::UInt8,
            4 => Self::Int64,
            7 => Self::Int16,
            9 => Self::Int8,
            o => Self::Other(o),
        }
    }

    /// Size in bytes of one element, when the type has a fixed size we read.
    pub(crate) fn elem_size(self) -> Option<usize> {
        match self {
            Self::Float32 | Self::Int32 => Some(4),
            Self::Float16 | Self::Int16 => Some(2),
            Self::UInt8 | Self::Int8 => Some(1),
            Self::Int64 => Some(8),
            Self::Other(_) => None,
        }
    }
}

impl std::fmt::Display for TensorType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Float32 => write!(f, "float32"),
            Self::Float16 => write!(f, "float16"),
            Self::Int32 => write!(f, "int32"),
            Self::UInt8 => write!(f, "uint8"),
            Self::Int64 => write!(f, "int64"),
            Self::Int16 => write!(f, "int16"),
            Self::Int8 => write!(f, "int8"),
            Self::Other(c) => write!(f, "tflite type {c}"),
        }
    }
}

/// Per-tensor or per-axis affine quantisation (`QuantizationParameters`).
#[derive(Debug, Clone, Default)]
pub(crate) struct Quantization {
    pub scale: Vec<f32>,
    pub zero_point: Vec<i64>,
    pub quantized_dimension: usize,
}

/// One level of a sparse tensor's format (`DimensionMetadata`).
#[derive(Debug, Clone)]
pub(crate) enum DimMeta {
    Dense(usize),
    SparseCsr {
        segments: Vec<usize>,
        indices: Vec<usize>,
    },
}

/// `SparsityParameters`.
#[derive(Debug, Clone)]
pub(crate) struct Sparsity {
    pub traversal_order: Vec<usize>,
    pub block_map: Vec<usize>,
    pub dim_metadata: Vec<DimMeta>,
}

#[derive(Debug, Clone)]
pub(crate) struct Tensor {
    pub shape: Vec<usize>,
    pub dtype: TensorType,
    pub buffer: usize,
    pub name: String,
    pub quantization: Option<Quantization>,
    pub sparsity: Option<Sparsity>,
}

#[derive(Debug, Clone)]
pub(crate) struct Operator<'a> {
    pub opcode_index: usize,
    /// Tensor indices; -1 marks an omitted optional input.
    pub inputs: Vec<i32>,
    pub outputs: Vec<i32>,
    /// `BuiltinOptions` union type code (0 = none).
    pub options_type: u8,
    pub options: Option<Table<'a>>,
    pub custom_options: Vec<u8>,
}

#[derive(Debug, Clone)]
pub(crate) struct OperatorCode {
    pub builtin: i32,
    pub custom: Option<String>,
}

impl OperatorCode {
    /// Name used in summaries and errors: the custom code for custom ops.
    pub(crate) fn name(&self) -> String {
        match (&self.custom, self.builtin) {
            (Some(c), op::CUSTOM) => c.clone(),
            _ => builtin_name(self.builtin),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct SubGraph<'a> {
    pub tensors: Vec<Tensor>,
    pub inputs: Vec<i32>,
    pub outputs: Vec<i32>,
    pub operators: Vec<Operator<'a>>,
}

#[derive(Debug, Clone)]
pub(crate) struct Model<'a> {
    pub operator_codes: Vec<OperatorCode>,
    pub subgraph: SubGraph<'a>,
    /// Raw bytes of each buffer (empty when the buffer holds no data).
    pub buffers: Vec<&'a [u8]>,
}

impl std::fmt::Debug for Table<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Table")
    }
}

fn malformed(what: impl Into<String>) -> ConvertError {
    ConvertError::Malformed(what.into())
}

fn to_usize(v: i32, what: &str) -> FbResult<usize> {
    usize::try_from(v).map_err(|_| malformed(format!("negative {what}: {v}")))
}

/// Reads element `i` of an index vector as `usize`.
type IndexReader = fn(&crate::fb::Vector<'_>, usize) -> FbResult<usize>;

/// Reads a `SparseIndexVector` union member (Int32/Uint16/Uint8 vector).
fn index_vector(t: &Table<'_>, type_field: usize, value_field: usize) -> FbResult<Vec<usize>> {
    let kind = t.u8_or(type_field, 0)?;
    let Some(inner) = t.table(value_field)? else {
        return Err(malformed("sparse dimension without index vector"));
    };
    let (size, read): (usize, IndexReader) = match kind {
        1 => (4, |v, i| to_usize(v.i32(i)?, "sparse index")),
        2 => (2, |v, i| Ok(v.u16(i)? as usize)),
        3 => (1, |v, i| Ok(v.u8(i)? as usize)),
        k => return Err(malformed(format!("unknown sparse index vector type {k}"))),
    };
    match inner.vector(0, size)? {
        Some(v) => (0..v.len()).map(|i| read(&v, i)).collect(),
        None => Ok(Vec::new()),
    }
}

fn read_sparsity(t: &Table<'_>) -> FbResult<Sparsity> {
    let traversal_order = t
        .i32_vec(0)?
        .into_iter()
        .map(|v| to_usize(v, "traversal order"))
        .collect::<FbResult<_>>()?;
    let block_map = t
        .i32_vec(1)?
        .into_iter()
        .map(|v| to_usize(v, "block map"))
        .collect::<FbResult<_>>()?;
    let mut dim_metadata = Vec::new();
    for d in t.table_vec(2)? {
        let format = d.u8_or(0, 0)?;
        dim_metadata.push(match format {
            0 => DimMeta::Dense(to_usize(d.i32_or(1, 0)?, "dense size")?),
            1 => DimMeta::SparseCsr {
                segments: index_vector(&d, 2, 3)?,
                indices: index_vector(&d, 4, 5)?,
            },
            f => return Err(malformed(format!("unknown dimension format {f}"))),
        });
    }
    Ok(Sparsity {
        traversal_order,
        block_map,
        dim_metadata,
    })
}

fn read_quantization(t: &Table<'_>) -> FbResult<Option<Quantization>> {
    let scale = match t.vector(2, 4)? {
        Some(v) => (0..v.len())
            .map(|i| v.f32(i))
            .collect::<FbResult<Vec<_>>>()?,
        None => Vec::new(),
    };
    if scale.is_empty() {
        // Min/max-only or absent quantisation: nothing that changes values.
        return Ok(None);
    }
    let zero_point = match t.vector(3, 8)? {
        Some(v) => (0..v.len())
            .map(|i| v.i64(i))
            .collect::<FbResult<Vec<_>>>()?,
        None => Vec::new(),
    };
    Ok(Some(Quantization {
        scale,
        zero_point,
        quantized_dimension: to_usize(t.i32_or(6, 0)?, "quantized dimension")?,
    }))
}

fn read_tensor(t: &Table<'_>) -> FbResult<Tensor> {
    let shape = t
        .i32_vec(0)?
        .into_iter()
        .map(|v| to_usize(v, "tensor dimension"))
        .collect::<FbResult<_>>()?;
    Ok(Tensor {
        shape,
        dtype: TensorType::from_code(t.u8_or(1, 0)?),
        buffer: t.u32_or(2, 0)? as usize,
        name: t.string(3)?.unwrap_or_default(),
        quantization: match t.table(4)? {
            Some(q) => read_quantization(&q)?,
            None => None,
        },
        sparsity: match t.table(6)? {
            Some(s) => Some(read_sparsity(&s)?),
            None => None,
        },
    })
}

/// Parses the model: operator codes, the first subgraph and the buffers.
pub(crate) fn read_model(data: &[u8]) -> FbResult<Model<'_>> {
    if data.len() < 8 {
        return Err(malformed(format!(
            "{} bytes is too short for a TFLite model",
            data.len()
        )));
    }
    let buf = Buf::new(data);
    let root = buf.root()?;

    let mut operator_codes = Vec::new();
    for c in root.table_vec(1)? {
        let deprecated = c.u8_or(0, 0)? as i32;
        let builtin = c.i32_or(3, 0)?;
        // Old files only set the deprecated byte, new ones set both (with
        // the byte saturated at 127); the larger is the real code, as in
        // TFLite's own GetBuiltinCode.
        operator_codes.push(OperatorCode {
            builtin: builtin.max(deprecated),
            custom: c.string(1)?,
        });
    }

    let subgraphs = root.table_vec(2)?;
    let sg = subgraphs
        .first()
        .ok_or_else(|| malformed("model has no subgraph"))?;
    let tensors = sg
        .table_vec(0)?
        .iter()
        .map(read_tensor)
        .collect::<FbResult<Vec<_>>>()?;
    let mut operators = Vec::new();
    for o in sg.table_vec(3)? {
        let custom_options = match o.vector(5, 1)? {
            Some(v) => v.bytes().to_vec(),
            None => Vec::new(),
        };
        operators.push(Operator {
            opcode_index: o.u32_or(0, 0)? as usize,
            inputs: o.i32_vec(1)?,
            outputs: o.i32_vec(2)?,
            options_type: o.u8_or(3, 0)?,
            options: o.table(4)?,
            custom_options,
        });
    }

    let mut buffers = Vec::new();
    for b in root.table_vec(4)? {
        let bytes: &[u8] = match b.vector(0, 1)? {
            Some(v) => v.bytes(),
            None => {
                // Models over 2 GB keep buffer data after the flatbuffer,
                // addressed by absolute offset and size.
                let offset = b.u64_or(1, 0)?;
                let size = b.u64_or(2, 0)?;
                if offset > 1 {
                    let start = usize::try_from(offset).map_err(|_| malformed("buffer offset"))?;
                    let len = usize::try_from(size).map_err(|_| malformed("buffer size"))?;
                    start
                        .checked_add(len)
                        .and_then(|end| data.get(start..end))
                        .ok_or_else(|| malformed("external buffer runs past end of file"))?
                } else {
                    &[]
                }
            }
        };
        buffers.push(bytes);
    }

    Ok(Model {
        operator_codes,
        subgraph: SubGraph {
            tensors,
            inputs: sg.i32_vec(1)?,
            outputs: sg.i32_vec(2)?,
            operators,
        },
        buffers,
    })
}

/// Builtin options tables, decoded with schema defaults.
pub(crate) mod options {
    use crate::fb::{FbResult, Table};

    /// `Padding` enum: SAME = 0, VALID = 1.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Padding {
        Same,
        Valid,
    }

    fn padding(code: u8) -> Padding {
        if code == 1 {
            Padding::Valid
        } else {
            Padding::Same
        }
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Conv {
        pub padding: Padding,
        pub stride: [usize; 2], // h, w
        pub dilation: [usize; 2],
        pub activation: u8,
    }

    fn pos(v: i32) -> usize {
        // Zero or negative strides/dilations are invalid; 1 keeps the
        // arithmetic total and the shape checks then reject the operator.
        v.max(1) as usize
    }

    pub fn conv(t: Option<&Table<'_>>) -> FbResult<Conv> {
        let Some(t) = t else {
            return Ok(Conv {
                padding: Padding::Same,
                stride: [1, 1],
                dilation: [1, 1],
                activation: 0,
            });
        };
        Ok(Conv {
            padding: padding(t.u8_or(0, 0)?),
            stride: [pos(t.i32_or(2, 0)?), pos(t.i32_or(1, 0)?)],
            dilation: [pos(t.i32_or(5, 1)?), pos(t.i32_or(4, 1)?)],
            activation: t.u8_or(3, 0)?,
        })
    }

    pub fn depthwise(t: Option<&Table<'_>>) -> FbResult<Conv> {
        let Some(t) = t else {
            return conv(None);
        };
        Ok(Conv {
            padding: padding(t.u8_or(0, 0)?),
            stride: [pos(t.i32_or(2, 0)?), pos(t.i32_or(1, 0)?)],
            dilation: [pos(t.i32_or(6, 1)?), pos(t.i32_or(5, 1)?)],
            // Field 3, depth_multiplier, is redundant with the weight
            // shape (TFLite itself derives it from the shapes).
            activation: t.u8_or(4, 0)?,
        })
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Pool {
        pub padding: Padding,
        pub stride: [usize; 2],
        pub filter: [usize; 2],
        pub activation: u8,
    }

    pub fn pool(t: Option<&Table<'_>>) -> FbResult<Pool> {
        let Some(t) = t else {
            return Ok(Pool {
                padding: Padding::Same,
                stride: [1, 1],
                filter: [1, 1],
                activation: 0,
            });
        };
        Ok(Pool {
            padding: padding(t.u8_or(0, 0)?),
            stride: [pos(t.i32_or(2, 0)?), pos(t.i32_or(1, 0)?)],
            filter: [pos(t.i32_or(4, 0)?), pos(t.i32_or(3, 0)?)],
            activation: t.u8_or(5, 0)?,
        })
    }

    /// Fused activation of ADD / MUL (field 0).
    pub fn activation_field0(t: Option<&Table<'_>>) -> FbResult<u8> {
        t.map_or(Ok(0), |t| t.u8_or(0, 0))
    }

    /// CONCATENATION: (axis, fused activation).
    pub fn concat(t: Option<&Table<'_>>) -> FbResult<(i32, u8)> {
        match t {
            Some(t) => Ok((t.i32_or(0, 0)?, t.u8_or(1, 0)?)),
            None => Ok((0, 0)),
        }
    }

    /// RESIZE_BILINEAR: (align_corners, half_pixel_centers).
    pub fn resize_bilinear(t: Option<&Table<'_>>) -> FbResult<(bool, bool)> {
        match t {
            Some(t) => Ok((t.bool_or(2, false)?, t.bool_or(3, false)?)),
            None => Ok((false, false)),
        }
    }

    /// DEPTH_TO_SPACE block size.
    pub fn depth_to_space(t: Option<&Table<'_>>) -> FbResult<i32> {
        t.map_or(Ok(0), |t| t.i32_or(0, 0))
    }
}

//! The subset of ONNX's protobuf messages the converter writes.
//!
//! Declared by hand with prost's derive so no `protoc` or generated code is
//! needed; field numbers are those of `onnx.proto` (ONNX, Apache License 2.0).
//! Fields we never set are simply not declared: protobuf readers treat them as
//! absent.

use prost::Message;

/// IR version 8 goes with opset 17 (ONNX's versioning table).
pub(crate) const IR_VERSION: i64 = 8;
/// Opset 17: HardSwish needs ≥ 14; Resize/Pad/Clip take their parameters as
/// inputs since 13.
pub(crate) const OPSET: i64 = 17;

/// `TensorProto.DataType`.
pub(crate) mod dtype {
    pub const FLOAT: i32 = 1;
    pub const INT64: i32 = 7;
}

#[derive(Clone, PartialEq, Message)]
pub struct ModelProto {
    #[prost(int64, tag = "1")]
    pub ir_version: i64,
    #[prost(string, tag = "2")]
    pub producer_name: String,
    #[prost(string, tag = "3")]
    pub producer_version: String,
    #[prost(string, tag = "6")]
    pub doc_string: String,
    #[prost(message, optional, tag = "7")]
    pub graph: Option<GraphProto>,
    #[prost(message, repeated, tag = "8")]
    pub opset_import: Vec<OperatorSetIdProto>,
}

#[derive(Clone, PartialEq, Message)]
pub struct OperatorSetIdProto {
    #[prost(string, tag = "1")]
    pub domain: String,
    #[prost(int64, tag = "2")]
    pub version: i64,
}

#[derive(Clone, PartialEq, Message)]
pub struct GraphProto {
    #[prost(message, repeated, tag = "1")]
    pub node: Vec<NodeProto>,
    #[prost(string, tag = "2")]
    pub name: String,
    #[prost(message, repeated, tag = "5")]
    pub initializer: Vec<TensorProto>,
    #[prost(message, repeated, tag = "11")]
    pub input: Vec<ValueInfoProto>,
    #[prost(message, repeated, tag = "12")]
    pub output: Vec<ValueInfoProto>,
}

#[derive(Clone, PartialEq, Message)]
pub struct NodeProto {
    #[prost(string, repeated, tag = "1")]
    pub input: Vec<String>,
    #[prost(string, repeated, tag = "2")]
    pub output: Vec<String>,
    #[prost(string, tag = "3")]
    pub name: String,
    #[prost(string, tag = "4")]
    pub op_type: String,
    #[prost(message, repeated, tag = "5")]
    pub attribute: Vec<AttributeProto>,
    #[prost(string, tag = "7")]
    pub domain: String,
}

/// `AttributeProto.AttributeType`.
pub(crate) mod attr_type {
    pub const INT: i32 = 2;
    pub const STRING: i32 = 3;
    pub const INTS: i32 = 7;
}

#[derive(Clone, PartialEq, Message)]
pub struct AttributeProto {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(int64, tag = "3")]
    pub i: i64,
    #[prost(bytes = "vec", tag = "4")]
    pub s: Vec<u8>,
    #[prost(int64, repeated, tag = "8")]
    pub ints: Vec<i64>,
    #[prost(int32, tag = "20")]
    pub r#type: i32,
}

impl AttributeProto {
    pub(crate) fn int(name: &str, v: i64) -> Self {
        Self {
            name: name.into(),
            i: v,
            r#type: attr_type::INT,
            ..Default::default()
        }
    }
    pub(crate) fn ints(name: &str, v: Vec<i64>) -> Self {
        Self {
            name: name.into(),
            ints: v,
            r#type: attr_type::INTS,
            ..Default::default()
        }
    }
    pub(crate) fn string(name: &str, v: &str) -> Self {
        Self {
            name: name.into(),
            s: v.as_bytes().to_vec(),
            r#type: attr_type::STRING,
            ..Default::default()
        }
    }
}

#[derive(Clone, PartialEq, Message)]
pub struct TensorProto {
    #[prost(int64, repeated, tag = "1")]
    pub dims: Vec<i64>,
    #[prost(int32, tag = "2")]
    pub data_type: i32,
    #[prost(string, tag = "8")]
    pub name: String,
    /// Little-endian element bytes.
    #[prost(bytes = "vec", tag = "9")]
    pub raw_data: Vec<u8>,
}

#[derive(Clone, PartialEq, Message)]
pub struct ValueInfoProto {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(message, optional, tag = "2")]
    pub r#type: Option<TypeProto>,
}

#[derive(Clone, PartialEq, Message)]
pub struct TypeProto {
    /// `oneof value { Tensor tensor_type = 1; ... }`: only tensors here.
    #[prost(message, optional, tag = "1")]
    pub tensor_type: Option<TypeProtoTensor>,
}

#[derive(Clone, PartialEq, Message)]
pub struct TypeProtoTensor {
    #[prost(int32, tag = "1")]
    pub elem_type: i32,
    #[prost(message, optional, tag = "2")]
    pub shape: Option<TensorShapeProto>,
}

#[derive(Clone, PartialEq, Message)]
pub struct TensorShapeProto {
    #[prost(message, repeated, tag = "1")]
    pub dim: Vec<Dimension>,
}

#[derive(Clone, PartialEq, Message)]
pub struct Dimension {
    /// `oneof value { int64 dim_value = 1; string dim_param = 2; }`: static
    /// shapes only. Declared optional so a zero-sized dimension is still
    /// written explicitly.
    #[prost(int64, optional, tag = "1")]
    pub dim_value: Option<i64>,
}

impl ValueInfoProto {
    pub(crate) fn tensor(name: &str, elem_type: i32, shape: &[usize]) -> Self {
        Self {
            name: name.into(),
            r#type: Some(TypeProto {
                tensor_type: Some(TypeProtoTensor {
                    elem_type,
                    shape: Some(TensorShapeProto {
                        dim: shape
                            .iter()
                            .map(|&d| Dimension {
                                dim_value: Some(d as i64),
                            })
                            .collect(),
                    }),
                }),
            }),
        }
    }
}

impl TensorProto {
    pub(crate) fn f32(name: &str, dims: &[usize], data: &[f32]) -> Self {
        Self {
            dims: dims.iter().map(|&d| d as i64).collect(),
            data_type: dtype::FLOAT,
            name: name.into(),
            raw_data: data.iter().flat_map(|v| v.to_le_bytes()).collect(),
        }
    }
    pub(crate) fn i64(name: &str, dims: &[usize], data: &[i64]) -> Self {
        Self {
            dims: dims.iter().map(|&d| d as i64).collect(),
            data_type: dtype::INT64,
            name: name.into(),
            raw_data: data.iter().flat_map(|v| v.to_le_bytes()).collect(),
        }
    }
}

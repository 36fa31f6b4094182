//! A small public builder for ONNX graphs, for importers of other formats
//! (TF.js weight manifests) that describe their network in code rather than
//! in a flatbuffer.
//!
//! It writes the same messages and opset as the TFLite converter: float32
//! tensors, static shapes, opset 17.
//!
//! ```
//! use garmax_tflite::graph::{Attr, GraphBuilder};
//! let mut g = GraphBuilder::new("double");
//! g.input("x", &[1, 4]);
//! let two = g.constant_f32("two", &[1], &[2.0]);
//! let y = g.node("Mul", &["x", &two], &[]);
//! g.output(&y, &[1, 4]);
//! let onnx: Vec<u8> = g.finish("example", "Multiplies by two");
//! assert!(!onnx.is_empty());
//! ```

use std::collections::HashSet;

use crate::onnx::{self, AttributeProto, NodeProto, TensorProto, ValueInfoProto};

/// An operator attribute.
#[derive(Debug, Clone, PartialEq)]
pub enum Attr<'a> {
    Int(&'a str, i64),
    Ints(&'a str, Vec<i64>),
    Str(&'a str, &'a str),
}

impl Attr<'_> {
    fn to_proto(&self) -> AttributeProto {
        match self {
            Attr::Int(name, v) => AttributeProto::int(name, *v),
            Attr::Ints(name, v) => AttributeProto::ints(name, v.clone()),
            Attr::Str(name, v) => AttributeProto::string(name, v),
        }
    }
}

/// Accumulates nodes, initialisers, inputs and outputs; [`finish`]
/// serialises the `ModelProto`.
///
/// [`finish`]: GraphBuilder::finish
#[derive(Debug)]
pub struct GraphBuilder {
    name: String,
    nodes: Vec<NodeProto>,
    initializers: Vec<TensorProto>,
    inputs: Vec<ValueInfoProto>,
    outputs: Vec<ValueInfoProto>,
    used_names: HashSet<String>,
}

impl GraphBuilder {
    pub fn new(name: &str) -> Self {
        GraphBuilder {
            name: name.into(),
            nodes: Vec::new(),
            initializers: Vec::new(),
            inputs: Vec::new(),
            outputs: Vec::new(),
            used_names: HashSet::new(),
        }
    }

    /// A value name not used yet, derived from `hint`.
    fn fresh(&mut self, hint: &str) -> String {
        let base: String = hint
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let mut name = base.clone();
        let mut k = 1;
        while self.used_names.contains(&name) {
            name = format!("{base}_{k}");
            k += 1;
        }
        self.used_names.insert(name.clone());
        name
    }

    /// Declares a float32 graph input of a static shape.
    pub fn input(&mut self, name: &str, shape: &[usize]) {
        self.used_names.insert(name.into());
        self.inputs
            .push(ValueInfoProto::tensor(name, onnx::dtype::FLOAT, shape));
    }

    /// Declares `value` a float32 graph output of a static shape.
    pub fn output(&mut self, value: &str, shape: &[usize]) {
        self.outputs
            .push(ValueInfoProto::tensor(value, onnx::dtype::FLOAT, shape));
    }

    /// A float32 initialiser; returns its (fresh) name.
    pub fn constant_f32(&mut self, hint: &str, dims: &[usize], data: &[f32]) -> String {
        let name = self.fresh(hint);
        self.initializers.push(TensorProto::f32(&name, dims, data));
        name
    }

    /// An int64 initialiser (shapes, pads, axes); returns its name.
    pub fn constant_i64(&mut self, hint: &str, data: &[i64]) -> String {
        let name = self.fresh(hint);
        self.initializers
            .push(TensorProto::i64(&name, &[data.len()], data));
        name
    }

    /// Appends one node of the default domain with one output; returns the
    /// output's name.
    pub fn node(&mut self, op_type: &str, inputs: &[&str], attrs: &[Attr<'_>]) -> String {
        let output = self.fresh(&op_type.to_ascii_lowercase());
        self.nodes.push(NodeProto {
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![output.clone()],
            name: output.clone(),
            op_type: op_type.into(),
            attribute: attrs.iter().map(Attr::to_proto).collect(),
            domain: String::new(),
        });
        output
    }

    /// Number of nodes so far.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Serialises the model (IR 8, opset 17).
    pub fn finish(self, producer: &str, doc: &str) -> Vec<u8> {
        let proto = onnx::ModelProto {
            ir_version: onnx::IR_VERSION,
            producer_name: producer.into(),
            producer_version: env!("CARGO_PKG_VERSION").into(),
            doc_string: doc.into(),
            graph: Some(onnx::GraphProto {
                node: self.nodes,
                name: self.name,
                initializer: self.initializers,
                input: self.inputs,
                output: self.outputs,
            }),
            opset_import: vec![onnx::OperatorSetIdProto {
                domain: String::new(),
                version: onnx::OPSET,
            }],
        };
        prost::Message::encode_to_vec(&proto)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message as _;

    #[test]
    fn writes_nodes_inputs_and_initialisers() {
        let mut g = GraphBuilder::new("g");
        g.input("x", &[1, 3]);
        let c = g.constant_f32("c-1", &[3], &[1.0, 2.0, 3.0]);
        let y = g.node("Add", &["x", &c], &[Attr::Int("unused", 1)]);
        let z = g.node("Add", &[&y, &c], &[]);
        g.output(&z, &[1, 3]);
        assert_eq!(g.node_count(), 2);
        let bytes = g.finish("test", "doc");
        let model = onnx::ModelProto::decode(bytes.as_slice()).unwrap();
        let graph = model.graph.unwrap();
        assert_eq!(c, "c_1", "names are sanitised");
        assert_ne!(y, z, "every node output gets its own name");
        assert_eq!(graph.node[1].input, vec![y, c]);
        assert_eq!(graph.initializer[0].raw_data.len(), 12);
        assert_eq!(graph.output[0].name, z);
        assert_eq!(model.opset_import[0].version, onnx::OPSET);
    }
}

//! The graph conversion: TFLite operators → ONNX nodes.
//!
//! Layout: TFLite is NHWC throughout, ONNX's Conv/Pool/Resize family is NCHW.
//! Every rank-4 runtime tensor is therefore kept in NCHW inside the ONNX graph;
//! one Transpose at each rank-4 graph input and output restores NHWC, so the
//! converted model takes and returns exactly what the TFLite model does.
//! Operators that care about axes (CONCATENATION, PAD, RESHAPE, broadcasting
//! against lower-rank operands) translate their NHWC semantics accordingly.
//! Constants are folded and re-laid out at conversion time, so no layout op
//! runs on weights at inference.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::rc::Rc;

use crate::consts::{self, Const, Values};
use crate::fb::Table;
use crate::onnx::{self, AttributeProto, NodeProto, TensorProto, ValueInfoProto};
use crate::schema::{self, Model, Operator, TensorType, op, options};
use crate::{ConvertError, ModelSummary, TensorDesc};

/// NHWC → NCHW: NCHW dimension `i` is NHWC dimension `TO_NCHW[i]`.
const TO_NCHW: [usize; 4] = [0, 3, 1, 2];
/// NCHW → NHWC.
const TO_NHWC: [usize; 4] = [0, 2, 3, 1];

/// Fused activation codes (`ActivationFunctionType`).
mod act {
    pub const NONE: u8 = 0;
    pub const RELU: u8 = 1;
    pub const RELU_N1_TO_1: u8 = 2;
    pub const RELU6: u8 = 3;
    pub const TANH: u8 = 4;
}

/// Per-operator context for error messages.
#[derive(Clone)]
struct OpCtx {
    index: usize,
    name: String,
}

impl OpCtx {
    fn err(&self, reason: impl Into<String>) -> ConvertError {
        ConvertError::Operator {
            index: self.index,
            op: self.name.clone(),
            reason: reason.into(),
        }
    }
}

struct Converter<'m> {
    model: &'m Model<'m>,
    /// Folded constants by tensor index (decoded lazily).
    consts: HashMap<usize, Rc<Const>>,
    /// Name of the tensor inside the ONNX graph (NCHW value for rank 4).
    internal: Vec<String>,
    /// Name the tensor has at the graph boundary (the TFLite name).
    external: Vec<String>,
    produced: Vec<bool>,
    used_names: HashSet<String>,
    nodes: Vec<NodeProto>,
    inits: Vec<TensorProto>,
    /// Initialisers already emitted, keyed by (tensor, broadcast-to-rank-4).
    init_cache: HashMap<(usize, bool), String>,
    scalar_cache: HashMap<u32, String>,
}

pub(crate) fn convert(data: &[u8]) -> Result<(Vec<u8>, ModelSummary), ConvertError> {
    let model = schema::read_model(data)?;
    let mut summary = summarize(&model)?;
    let mut c = Converter::new(&model);
    let graph = c.run()?;
    summary.onnx_nodes = graph.node.len();
    summary.onnx_initializers = graph.initializer.len();
    let proto = onnx::ModelProto {
        ir_version: onnx::IR_VERSION,
        producer_name: "garmax-tflite".into(),
        producer_version: env!("CARGO_PKG_VERSION").into(),
        doc_string: "Converted from TensorFlow Lite by garmax-tflite".into(),
        graph: Some(graph),
        opset_import: vec![onnx::OperatorSetIdProto {
            domain: String::new(),
            version: onnx::OPSET,
        }],
    };
    Ok((prost::Message::encode_to_vec(&proto), summary))
}

pub(crate) fn summarize(model: &Model<'_>) -> Result<ModelSummary, ConvertError> {
    let sg = &model.subgraph;
    let (names, _) = boundary_names(model);
    let desc = |idx: &i32| -> Result<TensorDesc, ConvertError> {
        let i = usize::try_from(*idx)
            .ok()
            .filter(|&i| i < sg.tensors.len())
            .ok_or_else(|| {
                ConvertError::Malformed(format!("graph I/O tensor {idx} out of range"))
            })?;
        let t = &sg.tensors[i];
        Ok(TensorDesc {
            name: names[i].clone(),
            shape: t.shape.clone(),
            dtype: t.dtype.to_string(),
        })
    };
    let mut ops = BTreeMap::new();
    for o in &sg.operators {
        let name = model
            .operator_codes
            .get(o.opcode_index)
            .map(|c| c.name())
            .ok_or_else(|| {
                ConvertError::Malformed(format!("opcode index {} out of range", o.opcode_index))
            })?;
        *ops.entry(name).or_insert(0) += 1;
    }
    Ok(ModelSummary {
        inputs: sg.inputs.iter().map(desc).collect::<Result<_, _>>()?,
        outputs: sg.outputs.iter().map(desc).collect::<Result<_, _>>()?,
        tflite_ops: ops,
        onnx_nodes: 0,
        onnx_initializers: 0,
    })
}

/// The ONNX name of every tensor at the graph boundary: its TFLite name,
/// kept verbatim so callers address inputs and outputs as in TFLite; only
/// empty or duplicate names (legal in TFLite, not in ONNX) are made unique.
fn boundary_names(model: &Model<'_>) -> (Vec<String>, HashSet<String>) {
    let mut used = HashSet::new();
    let mut names = Vec::with_capacity(model.subgraph.tensors.len());
    for (i, t) in model.subgraph.tensors.iter().enumerate() {
        let mut name = if t.name.is_empty() {
            format!("tensor_{i}")
        } else {
            t.name.clone()
        };
        if used.contains(&name) {
            name = format!("{name}__{i}");
            while used.contains(&name) {
                name.push('_');
            }
        }
        used.insert(name.clone());
        names.push(name);
    }
    (names, used)
}

/// Explicit (begin, end) padding of one spatial dimension as TFLite computes
/// it for SAME: output = ceil(in / stride), the total padding needed split
/// with the extra element at the end.
fn same_padding(input: usize, kernel: usize, stride: usize, dilation: usize) -> (usize, usize) {
    let eff = (kernel - 1) * dilation + 1;
    let out = input.div_ceil(stride);
    let total = ((out - 1) * stride + eff).saturating_sub(input);
    (total / 2, total - total / 2)
}

fn spatial_pads(
    padding: options::Padding,
    in_hw: [usize; 2],
    kernel: [usize; 2],
    stride: [usize; 2],
    dilation: [usize; 2],
) -> [(usize, usize); 2] {
    match padding {
        options::Padding::Valid => [(0, 0); 2],
        options::Padding::Same => {
            [0, 1].map(|i| same_padding(in_hw[i], kernel[i], stride[i], dilation[i]))
        }
    }
}

/// Output size of a convolution/pool along one dimension (0 when the window
/// does not fit, which the caller reports).
fn conv_out(
    input: usize,
    pads: (usize, usize),
    kernel: usize,
    stride: usize,
    dilation: usize,
) -> usize {
    let eff = (kernel - 1) * dilation + 1;
    let padded = input + pads.0 + pads.1;
    if padded < eff {
        0
    } else {
        (padded - eff) / stride + 1
    }
}

fn onnx_pads(p: [(usize, usize); 2]) -> Vec<i64> {
    vec![p[0].0 as i64, p[1].0 as i64, p[0].1 as i64, p[1].1 as i64]
}

impl<'m> Converter<'m> {
    fn new(model: &'m Model<'m>) -> Self {
        let n = model.subgraph.tensors.len();
        let (external, mut used) = boundary_names(model);
        let mut internal = Vec::with_capacity(n);
        for (i, t) in model.subgraph.tensors.iter().enumerate() {
            if t.shape.len() == 4 {
                let mut name = format!("{}__nchw", external[i]);
                while used.contains(&name) {
                    name.push('_');
                }
                used.insert(name.clone());
                internal.push(name);
            } else {
                internal.push(external[i].clone());
            }
        }
        Self {
            model,
            consts: HashMap::new(),
            internal,
            external,
            produced: vec![false; n],
            used_names: used,
            nodes: Vec::new(),
            inits: Vec::new(),
            init_cache: HashMap::new(),
            scalar_cache: HashMap::new(),
        }
    }

    fn tensor(&self, idx: usize) -> &'m schema::Tensor {
        &self.model.subgraph.tensors[idx]
    }

    fn fresh(&mut self, hint: &str) -> String {
        let mut n = self.used_names.len();
        loop {
            let name = format!("{hint}__t{n}");
            if self.used_names.insert(name.clone()) {
                return name;
            }
            n += 1;
        }
    }

    fn node(
        &mut self,
        op_type: &str,
        inputs: Vec<String>,
        output: String,
        attrs: Vec<AttributeProto>,
    ) {
        let name = format!("{}_{}", op_type, self.nodes.len());
        self.nodes.push(NodeProto {
            input: inputs,
            output: vec![output],
            name,
            op_type: op_type.into(),
            attribute: attrs,
            domain: String::new(),
        });
    }

    fn init_f32(&mut self, hint: &str, dims: &[usize], data: &[f32]) -> String {
        let name = self.fresh(hint);
        self.inits.push(TensorProto::f32(&name, dims, data));
        name
    }

    fn init_i64(&mut self, hint: &str, data: &[i64]) -> String {
        let name = self.fresh(hint);
        self.inits
            .push(TensorProto::i64(&name, &[data.len()], data));
        name
    }

    fn scalar(&mut self, v: f32) -> String {
        if let Some(n) = self.scalar_cache.get(&v.to_bits()) {
            return n.clone();
        }
        let n = self.init_f32("scalar", &[], &[v]);
        self.scalar_cache.insert(v.to_bits(), n.clone());
        n
    }

    /// The folded constant of tensor `idx`, if it is one.
    fn constant(&mut self, idx: usize) -> Result<Option<Rc<Const>>, ConvertError> {
        if let Some(c) = self.consts.get(&idx) {
            return Ok(Some(c.clone()));
        }
        let t = self.tensor(idx);
        let bytes = self.model.buffers.get(t.buffer).copied().unwrap_or(&[]);
        if bytes.is_empty() {
            return Ok(None);
        }
        let c = Rc::new(consts::read_const(t, bytes)?);
        self.consts.insert(idx, c.clone());
        Ok(Some(c))
    }

    fn const_f32(
        &mut self,
        idx: usize,
        ctx: &OpCtx,
        what: &str,
    ) -> Result<Rc<Const>, ConvertError> {
        match self.constant(idx)? {
            Some(c) if matches!(c.values, Values::F32(_)) => Ok(c),
            Some(_) => Err(ctx.err(format!("{what} must be a float constant"))),
            None => Err(ctx.err(format!(
                "{what} must be a constant (runtime {what} not supported)"
            ))),
        }
    }

    fn const_ints(
        &mut self,
        idx: usize,
        ctx: &OpCtx,
        what: &str,
    ) -> Result<Vec<i64>, ConvertError> {
        match self.constant(idx)?.as_deref() {
            Some(Const {
                values: Values::I64(v),
                ..
            }) => Ok(v.clone()),
            _ => Err(ctx.err(format!("{what} must be an integer constant"))),
        }
    }

    /// ONNX value for tensor `idx` in its internal layout (NCHW for rank 4),
    /// emitting an initialiser for constants.
    fn value(&mut self, idx: usize, ctx: &OpCtx) -> Result<String, ConvertError> {
        self.value_as(idx, false, ctx)
    }

    /// Like [`Self::value`], but a lower-rank operand of a rank-4
    /// elementwise op is first given NHWC rank 4 (leading 1s, as NumPy
    /// broadcasting aligns trailing axes) and then moved to NCHW, so that
    /// broadcasting in ONNX pairs the same axes TFLite pairs.
    fn value_as(
        &mut self,
        idx: usize,
        to_rank4: bool,
        ctx: &OpCtx,
    ) -> Result<String, ConvertError> {
        let rank = self.tensor(idx).shape.len();
        if rank > 4 && to_rank4 {
            return Err(ctx.err("operand of rank > 4 cannot broadcast against a rank-4 tensor"));
        }
        let broadcast = to_rank4 && rank < 4;
        if let Some(c) = self.constant(idx)? {
            if let Some(n) = self.init_cache.get(&(idx, broadcast)) {
                return Ok(n.clone());
            }
            let mut shape = c.shape.clone();
            if broadcast {
                let mut s = vec![1usize; 4 - rank];
                s.extend(&shape);
                shape = s;
            }
            let hint = self.external[idx].clone();
            let name = match &c.values {
                Values::F32(v) if shape.len() == 4 => {
                    let (data, dims) = consts::permute(v, &shape, &TO_NCHW);
                    self.init_f32(&hint, &dims, &data)
                }
                Values::F32(v) => self.init_f32(&hint, &shape, v),
                Values::I64(_) => {
                    return Err(ctx.err("integer tensors are only supported as shape parameters"));
                }
            };
            self.init_cache.insert((idx, broadcast), name.clone());
            return Ok(name);
        }
        if !self.produced[idx] {
            return Err(ctx.err(format!(
                "input tensor {idx} ('{}') is neither a constant nor produced earlier",
                self.external[idx]
            )));
        }
        let name = self.internal[idx].clone();
        if !broadcast {
            return Ok(name);
        }
        if let Some(n) = self.init_cache.get(&(idx, true)) {
            return Ok(n.clone());
        }
        let mut nhwc: Vec<i64> = vec![1; 4 - rank];
        nhwc.extend(self.tensor(idx).shape.iter().map(|&d| d as i64));
        let shape = self.init_i64("shape", &nhwc);
        let reshaped = self.fresh(&name);
        self.node(
            "Reshape",
            vec![name.clone(), shape],
            reshaped.clone(),
            vec![],
        );
        let out = self.fresh(&name);
        self.node(
            "Transpose",
            vec![reshaped],
            out.clone(),
            vec![AttributeProto::ints(
                "perm",
                TO_NCHW.iter().map(|&p| p as i64).collect(),
            )],
        );
        self.init_cache.insert((idx, true), out.clone());
        Ok(out)
    }

    /// Appends the fused activation `code` from `pre` to `out`.
    fn activation(
        &mut self,
        pre: String,
        out: String,
        code: u8,
        ctx: &OpCtx,
    ) -> Result<(), ConvertError> {
        match code {
            act::RELU => self.node("Relu", vec![pre], out, vec![]),
            act::RELU6 | act::RELU_N1_TO_1 => {
                let (lo, hi) = if code == act::RELU6 {
                    (0.0, 6.0)
                } else {
                    (-1.0, 1.0)
                };
                let (lo, hi) = (self.scalar(lo), self.scalar(hi));
                self.node("Clip", vec![pre, lo, hi], out, vec![]);
            }
            act::TANH => self.node("Tanh", vec![pre], out, vec![]),
            other => return Err(ctx.err(format!("fused activation {other} not supported"))),
        }
        Ok(())
    }

    /// Output name for the op itself: the final tensor when there is no fused
    /// activation, otherwise a temporary feeding the activation.
    fn pre_activation(&mut self, out: usize, code: u8) -> String {
        if code == act::NONE {
            self.internal[out].clone()
        } else {
            let hint = self.internal[out].clone();
            self.fresh(&hint)
        }
    }

    fn finish_activation(
        &mut self,
        pre: String,
        out: usize,
        code: u8,
        ctx: &OpCtx,
    ) -> Result<(), ConvertError> {
        if code != act::NONE {
            let name = self.internal[out].clone();
            self.activation(pre, name, code, ctx)?;
        }
        Ok(())
    }

    fn run(&mut self) -> Result<onnx::GraphProto, ConvertError> {
        let model = self.model;
        let sg = &model.subgraph;
        let n_tensors = sg.tensors.len();
        let check = |i: i32| -> Result<usize, ConvertError> {
            usize::try_from(i)
                .ok()
                .filter(|&i| i < n_tensors)
                .ok_or_else(|| ConvertError::Malformed(format!("tensor index {i} out of range")))
        };

        let mut inputs = Vec::new();
        for &i in &sg.inputs {
            let i = check(i)?;
            let t = self.tensor(i);
            if t.dtype != TensorType::Float32 {
                return Err(ConvertError::Unsupported(format!(
                    "graph input '{}' has type {}; only float32 inputs are supported",
                    t.name, t.dtype
                )));
            }
            inputs.push(ValueInfoProto::tensor(
                &self.external[i],
                onnx::dtype::FLOAT,
                &t.shape,
            ));
            if t.shape.len() == 4 {
                self.node(
                    "Transpose",
                    vec![self.external[i].clone()],
                    self.internal[i].clone(),
                    vec![AttributeProto::ints(
                        "perm",
                        TO_NCHW.iter().map(|&p| p as i64).collect(),
                    )],
                );
            }
            self.produced[i] = true;
        }

        for (index, o) in sg.operators.iter().enumerate() {
            let code = self
                .model
                .operator_codes
                .get(o.opcode_index)
                .ok_or_else(|| {
                    ConvertError::Malformed(format!("operator {index}: opcode index out of range"))
                })?;
            let ctx = OpCtx {
                index,
                name: code.name(),
            };
            let ins: Vec<Option<usize>> = o
                .inputs
                .iter()
                .map(|&i| if i < 0 { Ok(None) } else { check(i).map(Some) })
                .collect::<Result<_, _>>()?;
            let outs: Vec<usize> = o
                .outputs
                .iter()
                .map(|&i| check(i))
                .collect::<Result<_, _>>()?;
            self.operator(code.builtin, code.custom.as_deref(), o, &ins, &outs, &ctx)?;
            for &t in &outs {
                self.produced[t] = true;
            }
        }

        let mut outputs = Vec::new();
        let mut seen = HashSet::new();
        for &i in &sg.outputs {
            let i = check(i)?;
            let t = self.tensor(i);
            // ONNX names each value once: an output listed twice, or an input
            // passed straight through, would need two producers of one name.
            if !seen.insert(i) || sg.inputs.contains(&(i as i32)) {
                return Err(ConvertError::Unsupported(format!(
                    "graph output '{}' is listed twice or is also a graph input",
                    t.name
                )));
            }
            if t.dtype != TensorType::Float32 {
                return Err(ConvertError::Unsupported(format!(
                    "graph output '{}' has type {}; only float32 outputs are supported",
                    t.name, t.dtype
                )));
            }
            let ctx = OpCtx {
                index: sg.operators.len(),
                name: "graph output".into(),
            };
            let value = self.value(i, &ctx)?;
            if t.shape.len() == 4 {
                self.node(
                    "Transpose",
                    vec![value],
                    self.external[i].clone(),
                    vec![AttributeProto::ints(
                        "perm",
                        TO_NHWC.iter().map(|&p| p as i64).collect(),
                    )],
                );
            } else if value != self.external[i] {
                return Err(ConvertError::Unsupported(format!(
                    "graph output '{}' is a constant",
                    t.name
                )));
            }
            outputs.push(ValueInfoProto::tensor(
                &self.external[i],
                onnx::dtype::FLOAT,
                &t.shape,
            ));
        }

        Ok(onnx::GraphProto {
            node: std::mem::take(&mut self.nodes),
            name: "garmax_tflite".into(),
            initializer: std::mem::take(&mut self.inits),
            input: inputs,
            output: outputs,
        })
    }

    fn operator(
        &mut self,
        builtin: i32,
        custom: Option<&str>,
        o: &Operator<'_>,
        ins: &[Option<usize>],
        outs: &[usize],
        ctx: &OpCtx,
    ) -> Result<(), ConvertError> {
        // The options table, checked to be of the type the operator
        // defines (BuiltinOptions union code), so a corrupt file cannot make
        // us read one options layout as another.
        let opts = |expected: u8| -> Result<Option<&Table<'_>>, ConvertError> {
            match (o.options_type, o.options.as_ref()) {
                (0, _) | (_, None) => Ok(None),
                (t, Some(table)) if t == expected => Ok(Some(table)),
                (t, Some(_)) => Err(ctx.err(format!("options of type {t}, expected {expected}"))),
            }
        };
        // Required input `i`.
        let input = |i: usize| -> Result<usize, ConvertError> {
            ins.get(i)
                .copied()
                .flatten()
                .ok_or_else(|| ctx.err(format!("missing input {i}")))
        };
        let out = *outs
            .first()
            .ok_or_else(|| ctx.err("operator has no output"))?;
        let model = self.model;
        let tensors = &model.subgraph.tensors;
        let shape_of = |t: usize| tensors[t].shape.clone();
        // Rank-4 shape with no zero dimension (the arithmetic below relies
        // on non-empty spatial extents).
        let rank4 = |t: usize, what: &str| -> Result<[usize; 4], ConvertError> {
            <[usize; 4]>::try_from(tensors[t].shape.as_slice())
                .ok()
                .filter(|s| s.iter().all(|&d| d > 0))
                .ok_or_else(|| {
                    ctx.err(format!(
                        "{what} must be non-empty rank 4 (NHWC), got {:?}",
                        tensors[t].shape
                    ))
                })
        };

        match builtin {
            op::DEQUANTIZE | op::DENSIFY => {
                let src = input(0)?;
                let c = self.constant(src)?.ok_or_else(|| {
                    ctx.err("only constant inputs are supported (folded at conversion time)")
                })?;
                let folded = if builtin == op::DEQUANTIZE {
                    // Both fp16 weights (already widened) and int8/uint8
                    // weights with affine parameters end up fp32.
                    consts::dequantize(&c, self.tensor(src).quantization.as_ref())?
                } else {
                    (*c).clone()
                };
                if folded.shape != shape_of(out) {
                    return Err(ctx.err("output shape differs from the input's"));
                }
                self.consts.insert(out, Rc::new(folded));
            }

            op::CONV_2D | op::DEPTHWISE_CONV_2D => {
                let depthwise = builtin == op::DEPTHWISE_CONV_2D;
                let o_ = if depthwise {
                    options::depthwise(opts(2)?)?
                } else {
                    options::conv(opts(1)?)?
                };
                let x_shape = rank4(input(0)?, "input")?;
                let y_shape = rank4(out, "output")?;
                let w = self.const_f32(input(1)?, ctx, "weights")?;
                let w_shape: [usize; 4] = w
                    .shape
                    .as_slice()
                    .try_into()
                    .map_err(|_| ctx.err("weights must be rank 4"))?;
                let wv = w.f32s().ok_or_else(|| ctx.err("weights must be float"))?;
                let kernel = [w_shape[1], w_shape[2]];
                if kernel.contains(&0) {
                    return Err(ctx.err("empty kernel"));
                }
                let in_c = x_shape[3];
                let (perm, group, out_c) = if depthwise {
                    // [1, KH, KW, C·M] → [C·M, 1, KH, KW], one group per
                    // input channel; output channel c·M+m reads channel c.
                    if w_shape[0] != 1 || !w_shape[3].is_multiple_of(in_c) {
                        return Err(ctx.err(format!(
                            "depthwise weights {w_shape:?} do not match input {x_shape:?}"
                        )));
                    }
                    ([3, 0, 1, 2], in_c, w_shape[3])
                } else {
                    // OHWI → OIHW; a filter with fewer input channels than
                    // the input is a grouped convolution.
                    if w_shape[3] == 0 || in_c % w_shape[3] != 0 {
                        return Err(ctx.err(format!(
                            "weights {w_shape:?} do not match input {x_shape:?}"
                        )));
                    }
                    ([0, 3, 1, 2], in_c / w_shape[3], w_shape[0])
                };
                let pads = spatial_pads(
                    o_.padding,
                    [x_shape[1], x_shape[2]],
                    kernel,
                    o_.stride,
                    o_.dilation,
                );
                let expect = [0, 1].map(|i| {
                    conv_out(
                        x_shape[1 + i],
                        pads[i],
                        kernel[i],
                        o_.stride[i],
                        o_.dilation[i],
                    )
                });
                if expect != [y_shape[1], y_shape[2]] || y_shape[3] != out_c {
                    return Err(ctx.err(format!(
                        "output shape {y_shape:?} inconsistent with input {x_shape:?} and weights {w_shape:?}"
                    )));
                }
                let (wdata, wdims) = consts::permute(wv, &w_shape, &perm);
                let x = self.value(input(0)?, ctx)?;
                let hint = self.external[input(1)?].clone();
                let wname = self.init_f32(&hint, &wdims, &wdata);
                let mut node_in = vec![x, wname];
                if let Some(b) = ins.get(2).copied().flatten() {
                    if self.tensor(b).shape != [out_c] {
                        return Err(ctx.err("bias must have one value per output channel"));
                    }
                    node_in.push(self.value(b, ctx)?);
                }
                let pre = self.pre_activation(out, o_.activation);
                self.node(
                    "Conv",
                    node_in,
                    pre.clone(),
                    vec![
                        AttributeProto::ints(
                            "kernel_shape",
                            kernel.iter().map(|&k| k as i64).collect(),
                        ),
                        AttributeProto::ints(
                            "strides",
                            o_.stride.iter().map(|&k| k as i64).collect(),
                        ),
                        AttributeProto::ints(
                            "dilations",
                            o_.dilation.iter().map(|&k| k as i64).collect(),
                        ),
                        AttributeProto::ints("pads", onnx_pads(pads)),
                        AttributeProto::int("group", group as i64),
                    ],
                );
                self.finish_activation(pre, out, o_.activation, ctx)?;
            }

            op::CUSTOM if custom == Some("Convolution2DTransposeBias") => {
                // MediaPipe's op: transposed convolution with bias, NHWC,
                // OHWI kernel. Its options are TfLiteTransposeConvParams as
                // raw bytes: padding (1 SAME, 2 VALID), stride_w, stride_h.
                let opt = &o.custom_options;
                let word = |i: usize| -> Result<i32, ConvertError> {
                    opt.get(4 * i..4 * i + 4)
                        .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                        .ok_or_else(|| ctx.err("custom options shorter than 12 bytes"))
                };
                let same = match word(0)? {
                    1 => true,
                    2 => false,
                    p => return Err(ctx.err(format!("unknown padding {p}"))),
                };
                let stride = [word(2)?, word(1)?];
                if stride.iter().any(|&s| s < 1) {
                    return Err(ctx.err("stride must be positive"));
                }
                let stride = stride.map(|s| s as usize);
                let x_shape = rank4(input(0)?, "input")?;
                let y_shape = rank4(out, "output")?;
                let w = self.const_f32(input(1)?, ctx, "weights")?;
                let w_shape: [usize; 4] = w
                    .shape
                    .as_slice()
                    .try_into()
                    .map_err(|_| ctx.err("weights must be rank 4"))?;
                if w_shape[3] != x_shape[3]
                    || w_shape[0] != y_shape[3]
                    || w_shape[1] == 0
                    || w_shape[2] == 0
                {
                    return Err(ctx.err(format!(
                        "weights {w_shape:?} do not match input {x_shape:?} / output {y_shape:?}"
                    )));
                }
                let wv = w.f32s().ok_or_else(|| ctx.err("weights must be float"))?;
                // ONNX ConvTranspose wants [C_in, C_out, KH, KW].
                let (wdata, wdims) = consts::permute(wv, &w_shape, &[3, 0, 1, 2]);
                let mut pads = [(0usize, 0usize); 2];
                let mut output_padding = [0usize; 2];
                for i in 0..2 {
                    let full = stride[i] * (x_shape[1 + i] - 1) + w_shape[1 + i];
                    let want = y_shape[1 + i];
                    if full >= want {
                        // Cropping: TFLite puts floor(total/2) before.
                        let total = full - want;
                        let begin = if same { total / 2 } else { 0 };
                        pads[i] = (begin, total - begin);
                    } else {
                        output_padding[i] = want - full;
                        if output_padding[i] >= stride[i] {
                            return Err(ctx
                                .err("output larger than the transposed convolution can produce"));
                        }
                    }
                }
                let x = self.value(input(0)?, ctx)?;
                let hint = self.external[input(1)?].clone();
                let wname = self.init_f32(&hint, &wdims, &wdata);
                let mut node_in = vec![x, wname];
                if let Some(b) = ins.get(2).copied().flatten() {
                    if self.tensor(b).shape.iter().product::<usize>() != y_shape[3] {
                        return Err(ctx.err("bias must have one value per output channel"));
                    }
                    let bc = self.const_f32(b, ctx, "bias")?;
                    let bv = bc.f32s().ok_or_else(|| ctx.err("bias must be float"))?;
                    let hint = self.external[b].clone();
                    node_in.push(self.init_f32(&hint, &[y_shape[3]], bv));
                }
                let out_name = self.internal[out].clone();
                self.node(
                    "ConvTranspose",
                    node_in,
                    out_name,
                    vec![
                        AttributeProto::ints(
                            "kernel_shape",
                            vec![w_shape[1] as i64, w_shape[2] as i64],
                        ),
                        AttributeProto::ints("strides", stride.iter().map(|&s| s as i64).collect()),
                        AttributeProto::ints("pads", onnx_pads(pads)),
                        AttributeProto::ints(
                            "output_padding",
                            output_padding.iter().map(|&s| s as i64).collect(),
                        ),
                    ],
                );
            }

            op::MAX_POOL_2D | op::AVERAGE_POOL_2D => {
                let p = options::pool(opts(5)?)?;
                let x_shape = rank4(input(0)?, "input")?;
                let y_shape = rank4(out, "output")?;
                let pads = spatial_pads(
                    p.padding,
                    [x_shape[1], x_shape[2]],
                    p.filter,
                    p.stride,
                    [1, 1],
                );
                let expect =
                    [0, 1].map(|i| conv_out(x_shape[1 + i], pads[i], p.filter[i], p.stride[i], 1));
                if expect != [y_shape[1], y_shape[2]] {
                    return Err(ctx.err(format!(
                        "output shape {y_shape:?} inconsistent with input {x_shape:?}"
                    )));
                }
                let x = self.value(input(0)?, ctx)?;
                let pre = self.pre_activation(out, p.activation);
                let mut attrs = vec![
                    AttributeProto::ints(
                        "kernel_shape",
                        p.filter.iter().map(|&k| k as i64).collect(),
                    ),
                    AttributeProto::ints("strides", p.stride.iter().map(|&k| k as i64).collect()),
                    AttributeProto::ints("pads", onnx_pads(pads)),
                ];
                let kind = if builtin == op::MAX_POOL_2D {
                    "MaxPool"
                } else {
                    // TFLite averages over the valid (unpadded) cells only.
                    attrs.push(AttributeProto::int("count_include_pad", 0));
                    "AveragePool"
                };
                self.node(kind, vec![x], pre.clone(), attrs);
                self.finish_activation(pre, out, p.activation, ctx)?;
            }

            op::ADD | op::MUL => {
                let activation =
                    options::activation_field0(opts(if builtin == op::ADD { 11 } else { 21 })?)?;
                let wide = shape_of(out).len() == 4;
                let a = self.value_as(input(0)?, wide, ctx)?;
                let b = self.value_as(input(1)?, wide, ctx)?;
                let pre = self.pre_activation(out, activation);
                let kind = if builtin == op::ADD { "Add" } else { "Mul" };
                self.node(kind, vec![a, b], pre.clone(), vec![]);
                self.finish_activation(pre, out, activation, ctx)?;
            }

            op::PRELU => {
                let wide = shape_of(out).len() == 4;
                let x = self.value(input(0)?, ctx)?;
                let alpha = self.value_as(input(1)?, wide, ctx)?;
                let name = self.internal[out].clone();
                self.node("PRelu", vec![x, alpha], name, vec![]);
            }

            op::RELU | op::RELU6 | op::RELU_N1_TO_1 | op::TANH => {
                let x = self.value(input(0)?, ctx)?;
                let code = match builtin {
                    op::RELU => act::RELU,
                    op::RELU6 => act::RELU6,
                    op::RELU_N1_TO_1 => act::RELU_N1_TO_1,
                    _ => act::TANH,
                };
                let name = self.internal[out].clone();
                self.activation(x, name, code, ctx)?;
            }

            op::LOGISTIC | op::HARD_SWISH => {
                let x = self.value(input(0)?, ctx)?;
                let name = self.internal[out].clone();
                let kind = if builtin == op::LOGISTIC {
                    "Sigmoid"
                } else {
                    "HardSwish"
                };
                self.node(kind, vec![x], name, vec![]);
            }

            op::PAD => {
                let x_idx = input(0)?;
                let rank = shape_of(x_idx).len();
                let p = self.const_ints(input(1)?, ctx, "paddings")?;
                if p.len() != 2 * rank || p.iter().any(|&v| v < 0) {
                    return Err(ctx.err(format!("paddings {p:?} do not fit rank {rank}")));
                }
                // TFLite: [[before, after]] per NHWC axis. ONNX: all
                // befores then all afters, per (NCHW for rank 4) axis.
                let order: Vec<usize> = if rank == 4 {
                    TO_NCHW.to_vec()
                } else {
                    (0..rank).collect()
                };
                let mut pads: Vec<i64> = order.iter().map(|&a| p[2 * a]).collect();
                pads.extend(order.iter().map(|&a| p[2 * a + 1]));
                let x = self.value(x_idx, ctx)?;
                let pads = self.init_i64("pads", &pads);
                let name = self.internal[out].clone();
                self.node("Pad", vec![x, pads], name, vec![]);
            }

            op::RESHAPE => {
                let x_idx = input(0)?;
                let in_shape = shape_of(x_idx);
                let out_shape = shape_of(out);
                // Runtime tensors are never materialised here, so compare
                // sizes without the constant-size cap (overflow = mismatch).
                let count = |s: &[usize]| s.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
                if count(&in_shape).is_none() || count(&in_shape) != count(&out_shape) {
                    return Err(ctx.err(format!("cannot reshape {in_shape:?} to {out_shape:?}")));
                }
                // Reshape is defined on the NHWC element order, so go back
                // to NHWC around it when either side is rank 4.
                let mut x = self.value(x_idx, ctx)?;
                if in_shape.len() == 4 {
                    let t = self.fresh(&x);
                    self.node("Transpose", vec![x], t.clone(), vec![perm_attr(&TO_NHWC)]);
                    x = t;
                }
                let target: Vec<i64> = out_shape.iter().map(|&d| d as i64).collect();
                let target = self.init_i64("shape", &target);
                let name = self.internal[out].clone();
                if out_shape.len() == 4 {
                    let t = self.fresh(&name);
                    self.node("Reshape", vec![x, target], t.clone(), vec![]);
                    self.node("Transpose", vec![t], name, vec![perm_attr(&TO_NCHW)]);
                } else {
                    self.node("Reshape", vec![x, target], name, vec![]);
                }
            }

            op::CONCATENATION => {
                let (axis, activation) = options::concat(opts(10)?)?;
                let rank = shape_of(out).len() as i32;
                let axis = if axis < 0 { axis + rank } else { axis };
                if !(0..rank).contains(&axis) {
                    return Err(ctx.err(format!("axis {axis} out of range for rank {rank}")));
                }
                let axis = if rank == 4 {
                    TO_NCHW
                        .iter()
                        .position(|&a| a == axis as usize)
                        .unwrap_or(0)
                } else {
                    axis as usize
                };
                let mut values = Vec::new();
                for i in 0..ins.len() {
                    let t = input(i)?;
                    if shape_of(t).len() as i32 != rank {
                        return Err(ctx.err("all inputs must have the output's rank"));
                    }
                    values.push(self.value(t, ctx)?);
                }
                let pre = self.pre_activation(out, activation);
                self.node(
                    "Concat",
                    values,
                    pre.clone(),
                    vec![AttributeProto::int("axis", axis as i64)],
                );
                self.finish_activation(pre, out, activation, ctx)?;
            }

            op::RESIZE_BILINEAR => {
                let (align_corners, half_pixel) = options::resize_bilinear(opts(15)?)?;
                let x_shape = rank4(input(0)?, "input")?;
                let y_shape = rank4(out, "output")?;
                let size = self.const_ints(input(1)?, ctx, "size")?;
                if size != [y_shape[1] as i64, y_shape[2] as i64]
                    || y_shape[0] != x_shape[0]
                    || y_shape[3] != x_shape[3]
                {
                    return Err(ctx.err(format!(
                        "size {size:?} inconsistent with output {y_shape:?}"
                    )));
                }
                // TF's three sampling conventions map one to one onto ONNX's
                // coordinate transformations (TF clamps out-of-range source
                // coordinates as ONNX Runtime's linear mode does).
                let mode = match (align_corners, half_pixel) {
                    (true, false) => "align_corners",
                    (false, true) => "half_pixel",
                    (false, false) => "asymmetric",
                    (true, true) => {
                        return Err(ctx.err("align_corners and half_pixel_centers both set"));
                    }
                };
                let x = self.value(input(0)?, ctx)?;
                let sizes = [y_shape[0], y_shape[3], y_shape[1], y_shape[2]].map(|d| d as i64);
                let sizes = self.init_i64("sizes", &sizes);
                let name = self.internal[out].clone();
                self.node(
                    "Resize",
                    vec![x, String::new(), String::new(), sizes],
                    name,
                    vec![
                        AttributeProto::string("mode", "linear"),
                        AttributeProto::string("coordinate_transformation_mode", mode),
                    ],
                );
            }

            op::DEPTH_TO_SPACE => {
                let block = options::depth_to_space(opts(94)?)?;
                let x_shape = rank4(input(0)?, "input")?;
                let y_shape = rank4(out, "output")?;
                let b = usize::try_from(block).ok().filter(|&b| b >= 1);
                let Some(b) = b else {
                    return Err(ctx.err(format!("block size {block} invalid")));
                };
                if y_shape
                    != [
                        x_shape[0],
                        x_shape[1] * b,
                        x_shape[2] * b,
                        x_shape[3] / (b * b),
                    ]
                    || x_shape[3] % (b * b) != 0
                {
                    return Err(ctx.err("output shape inconsistent with block size"));
                }
                // TF's NHWC depth-to-space orders channels (block_row,
                // block_col, depth): ONNX's DCR mode on NCHW.
                let x = self.value(input(0)?, ctx)?;
                let name = self.internal[out].clone();
                self.node(
                    "DepthToSpace",
                    vec![x],
                    name,
                    vec![
                        AttributeProto::int("blocksize", b as i64),
                        AttributeProto::string("mode", "DCR"),
                    ],
                );
            }

            _ => {
                return Err(ConvertError::UnsupportedOperator {
                    index: ctx.index,
                    op: ctx.name.clone(),
                });
            }
        }
        Ok(())
    }
}

fn perm_attr(perm: &[usize; 4]) -> AttributeProto {
    AttributeProto::ints("perm", perm.iter().map(|&p| p as i64).collect())
}

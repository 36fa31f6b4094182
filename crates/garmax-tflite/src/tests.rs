//! Operator-level tests on tiny hand-built TFLite models.
//!
//! Each model is written with the test FlatBuffers builder, converted, run
//! with ONNX Runtime, and compared with a naive NHWC implementation of the
//! TFLite operator written here from TFLite's definitions. Layout mistakes
//! (axis order, padding side, channel order of depth-to-space, weight
//! permutations) show up as large errors, not as rounding noise.

#[path = "../tests/common/mod.rs"]
mod common;

use crate::fb::tests::{Builder, Field};
use crate::schema::op;
use crate::{ConvertError, convert, convert_with_summary, inspect};

// ---------------------------------------------------------------- builder

const F32: u8 = 0;
const F16: u8 = 1;
const I32: u8 = 2;

struct SparseSpec {
    /// CSR over the last dimension: per-row segments and column indices.
    segments: Vec<u16>,
    indices: Vec<u8>,
}

struct TensorSpec {
    name: String,
    shape: Vec<usize>,
    dtype: u8,
    data: Option<Vec<u8>>,
    sparse: Option<SparseSpec>,
}

struct OpSpec {
    builtin: i32,
    custom: Option<String>,
    inputs: Vec<i32>,
    outputs: Vec<i32>,
    options: Option<(u8, Vec<Option<Field>>)>,
    custom_options: Option<Vec<u8>>,
}

/// A one-subgraph TFLite model under construction.
#[derive(Default)]
struct G {
    tensors: Vec<TensorSpec>,
    ops: Vec<OpSpec>,
}

/// f32 → f16 bits for normal values exactly representable in half precision
/// (the tests only use such values, so truncation is exact).
fn f32_to_f16(v: f32) -> u16 {
    if v == 0.0 {
        return 0;
    }
    let b = v.to_bits();
    let sign = ((b >> 16) & 0x8000) as u16;
    let exp = ((b >> 23) & 0xff) as i32 - 127 + 15;
    assert!((1..31).contains(&exp), "{v} is not a normal half");
    assert_eq!(b & 0x1fff, 0, "{v} is not exact in half precision");
    sign | ((exp as u16) << 10) | ((b >> 13) & 0x3ff) as u16
}

impl G {
    fn add(&mut self, name: &str, shape: &[usize], dtype: u8, data: Option<Vec<u8>>) -> i32 {
        self.tensors.push(TensorSpec {
            name: name.into(),
            shape: shape.to_vec(),
            dtype,
            data,
            sparse: None,
        });
        self.tensors.len() as i32 - 1
    }
    fn tensor(&mut self, name: &str, shape: &[usize]) -> i32 {
        self.add(name, shape, F32, None)
    }
    fn const_f32(&mut self, name: &str, shape: &[usize], v: &[f32]) -> i32 {
        assert_eq!(v.len(), shape.iter().product::<usize>());
        self.add(
            name,
            shape,
            F32,
            Some(v.iter().flat_map(|x| x.to_le_bytes()).collect()),
        )
    }
    fn const_f16(&mut self, name: &str, shape: &[usize], v: &[f32]) -> i32 {
        assert_eq!(v.len(), shape.iter().product::<usize>());
        self.add(
            name,
            shape,
            F16,
            Some(
                v.iter()
                    .flat_map(|&x| f32_to_f16(x).to_le_bytes())
                    .collect(),
            ),
        )
    }
    fn const_i32(&mut self, name: &str, shape: &[usize], v: &[i32]) -> i32 {
        self.add(
            name,
            shape,
            I32,
            Some(v.iter().flat_map(|x| x.to_le_bytes()).collect()),
        )
    }
    fn op(
        &mut self,
        builtin: i32,
        inputs: &[i32],
        outputs: &[i32],
        options: Option<(u8, Vec<Option<Field>>)>,
    ) {
        self.ops.push(OpSpec {
            builtin,
            custom: None,
            inputs: inputs.to_vec(),
            outputs: outputs.to_vec(),
            options,
            custom_options: None,
        });
    }
    fn custom(&mut self, code: &str, inputs: &[i32], outputs: &[i32], options: Vec<u8>) {
        self.ops.push(OpSpec {
            builtin: op::CUSTOM,
            custom: Some(code.into()),
            inputs: inputs.to_vec(),
            outputs: outputs.to_vec(),
            options: None,
            custom_options: Some(options),
        });
    }

    /// Serialises the model (schema.fbs field numbers).
    fn build(&self, inputs: &[i32], outputs: &[i32]) -> Vec<u8> {
        let mut b = Builder::default();
        // Buffers: 0 is the conventional empty buffer.
        let mut buffer_tables = vec![b.table(vec![])];
        let mut tensor_tables = Vec::new();
        for t in &self.tensors {
            let buffer = match &t.data {
                Some(d) => {
                    let v = b.ubytes(d.clone());
                    buffer_tables.push(b.table(vec![Some(Field::Ref(v))]));
                    buffer_tables.len() as u32 - 1
                }
                None => 0,
            };
            let sparsity = t.sparse.as_ref().map(|sp| {
                let rank = t.shape.len();
                let mut dims = Vec::new();
                for (d, &size) in t.shape.iter().enumerate() {
                    if d + 1 < rank {
                        dims.push(b.table(vec![Some(Field::U8(0)), Some(Field::I32(size as i32))]));
                    } else {
                        let sv = b.u16s(&sp.segments);
                        let seg = b.table(vec![Some(Field::Ref(sv))]);
                        let iv = b.ubytes(sp.indices.clone());
                        let idx = b.table(vec![Some(Field::Ref(iv))]);
                        dims.push(b.table(vec![
                            Some(Field::U8(1)),
                            None,
                            Some(Field::U8(2)), // Uint16Vector
                            Some(Field::Ref(seg)),
                            Some(Field::U8(3)), // Uint8Vector
                            Some(Field::Ref(idx)),
                        ]));
                    }
                }
                let order: Vec<i32> = (0..rank as i32).collect();
                let order = b.i32s(&order);
                let dims = b.refs(dims);
                b.table(vec![Some(Field::Ref(order)), None, Some(Field::Ref(dims))])
            });
            let shape: Vec<i32> = t.shape.iter().map(|&d| d as i32).collect();
            let shape = b.i32s(&shape);
            let name = b.string(&t.name);
            tensor_tables.push(b.table(vec![
                Some(Field::Ref(shape)),
                Some(Field::U8(t.dtype)),
                Some(Field::U32(buffer)),
                Some(Field::Ref(name)),
                None,
                None,
                sparsity.map(Field::Ref),
            ]));
        }
        let mut codes: Vec<(i32, Option<String>)> = Vec::new();
        let mut op_tables = Vec::new();
        for o in &self.ops {
            let key = (o.builtin, o.custom.clone());
            let opcode = codes.iter().position(|c| *c == key).unwrap_or_else(|| {
                codes.push(key);
                codes.len() - 1
            });
            let ins = b.i32s(&o.inputs);
            let outs = b.i32s(&o.outputs);
            let (opt_type, opt) = match &o.options {
                Some((ty, fields)) => {
                    let fields = fields
                        .iter()
                        .map(|f| match f {
                            Some(Field::U8(v)) => Some(Field::U8(*v)),
                            Some(Field::I32(v)) => Some(Field::I32(*v)),
                            Some(Field::U32(v)) => Some(Field::U32(*v)),
                            Some(Field::Ref(v)) => Some(Field::Ref(*v)),
                            None => None,
                        })
                        .collect();
                    (Some(Field::U8(*ty)), Some(Field::Ref(b.table(fields))))
                }
                None => (None, None),
            };
            let custom_opts = o.custom_options.clone().map(|c| Field::Ref(b.ubytes(c)));
            op_tables.push(b.table(vec![
                Some(Field::U32(opcode as u32)),
                Some(Field::Ref(ins)),
                Some(Field::Ref(outs)),
                opt_type,
                opt,
                custom_opts,
            ]));
        }
        let mut code_tables = Vec::new();
        for (builtin, custom) in &codes {
            let custom = custom.as_ref().map(|c| Field::Ref(b.string(c)));
            code_tables.push(b.table(vec![
                Some(Field::U8((*builtin).min(127) as u8)),
                custom,
                Some(Field::I32(1)),
                Some(Field::I32(*builtin)),
            ]));
        }
        let tensors = b.refs(tensor_tables);
        let sg_in = b.i32s(inputs);
        let sg_out = b.i32s(outputs);
        let ops = b.refs(op_tables);
        let sg = b.table(vec![
            Some(Field::Ref(tensors)),
            Some(Field::Ref(sg_in)),
            Some(Field::Ref(sg_out)),
            Some(Field::Ref(ops)),
        ]);
        let subgraphs = b.refs(vec![sg]);
        let codes = b.refs(code_tables);
        let buffers = b.refs(buffer_tables);
        let model = b.table(vec![
            Some(Field::U32(3)),
            Some(Field::Ref(codes)),
            Some(Field::Ref(subgraphs)),
            None,
            Some(Field::Ref(buffers)),
        ]);
        b.finish(model)
    }
}

// Options tables (BuiltinOptions type code, fields in schema order).
const PAD_SAME: u8 = 0;
const PAD_VALID: u8 = 1;

fn conv_opts(
    padding: u8,
    stride: [i32; 2],
    act: u8,
    dilation: [i32; 2],
) -> Option<(u8, Vec<Option<Field>>)> {
    Some((
        1,
        vec![
            Some(Field::U8(padding)),
            Some(Field::I32(stride[1])),
            Some(Field::I32(stride[0])),
            Some(Field::U8(act)),
            Some(Field::I32(dilation[1])),
            Some(Field::I32(dilation[0])),
        ],
    ))
}

fn dw_opts(padding: u8, stride: [i32; 2], mult: i32) -> Option<(u8, Vec<Option<Field>>)> {
    Some((
        2,
        vec![
            Some(Field::U8(padding)),
            Some(Field::I32(stride[1])),
            Some(Field::I32(stride[0])),
            Some(Field::I32(mult)),
            Some(Field::U8(0)),
        ],
    ))
}

fn pool_opts(padding: u8, stride: [i32; 2], filter: [i32; 2]) -> Option<(u8, Vec<Option<Field>>)> {
    Some((
        5,
        vec![
            Some(Field::U8(padding)),
            Some(Field::I32(stride[1])),
            Some(Field::I32(stride[0])),
            Some(Field::I32(filter[1])),
            Some(Field::I32(filter[0])),
            Some(Field::U8(0)),
        ],
    ))
}

// ------------------------------------------------------- run and compare

fn pat(n: usize, seed: f32) -> Vec<f32> {
    (0..n)
        .map(|i| ((i as f32) * 0.37 + seed).sin() * 1.5)
        .collect()
}

/// Converts and runs a one-input model; returns outputs in model order.
fn run(tflite: &[u8], input: &[f32]) -> Vec<Vec<f32>> {
    let conv = convert_with_summary(tflite).unwrap_or_else(|e| panic!("conversion failed: {e}"));
    let i = &conv.summary.inputs[0];
    let mut s = common::session(&conv.onnx);
    let outs = common::run(&mut s, &i.name, &i.shape, input.to_vec());
    conv.summary
        .outputs
        .iter()
        .map(|o| {
            outs.iter()
                .find(|(n, _)| *n == o.name)
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| panic!("output {} missing", o.name))
        })
        .collect()
}

fn assert_close(got: &[f32], want: &[f32], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    let err = got
        .iter()
        .zip(want)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert!(
        err <= 1e-4,
        "{what}: max abs error {err}\n got {:?}\nwant {:?}",
        &got[..got.len().min(12)],
        &want[..want.len().min(12)]
    );
}

/// Index of (n, h, w, c) in an NHWC array.
fn at(s: &[usize], n: usize, h: usize, w: usize, c: usize) -> usize {
    ((n * s[1] + h) * s[2] + w) * s[3] + c
}

/// TFLite's SAME padding before the data (the rest goes after).
fn same_before(input: usize, k: usize, stride: usize, dil: usize) -> usize {
    let out = input.div_ceil(stride);
    let eff = (k - 1) * dil + 1;
    ((out - 1) * stride + eff).saturating_sub(input) / 2
}

/// Reference (grouped / depthwise) convolution, NHWC, weights OHWI or
/// 1HW(C·M); `pad` = padding before, per spatial dim.
#[allow(clippy::too_many_arguments)]
fn ref_conv(
    x: &[f32],
    xs: &[usize],
    w: &[f32],
    ws: &[usize],
    bias: Option<&[f32]>,
    ys: &[usize],
    stride: [usize; 2],
    dil: [usize; 2],
    pad: [usize; 2],
    depthwise: bool,
) -> Vec<f32> {
    let mut y = vec![0f32; ys.iter().product()];
    let (kh, kw) = (ws[1], ws[2]);
    for oy in 0..ys[1] {
        for ox in 0..ys[2] {
            for oc in 0..ys[3] {
                let mut acc = bias.map_or(0.0, |b| b[oc]);
                for ky in 0..kh {
                    for kx in 0..kw {
                        let iy = (oy * stride[0] + ky * dil[0]) as isize - pad[0] as isize;
                        let ix = (ox * stride[1] + kx * dil[1]) as isize - pad[1] as isize;
                        if iy < 0 || ix < 0 || iy >= xs[1] as isize || ix >= xs[2] as isize {
                            continue;
                        }
                        let (iy, ix) = (iy as usize, ix as usize);
                        if depthwise {
                            let mult = ys[3] / xs[3];
                            acc += x[at(xs, 0, iy, ix, oc / mult)] * w[at(ws, 0, ky, kx, oc)];
                        } else {
                            for ic in 0..ws[3] {
                                acc += x[at(xs, 0, iy, ix, ic)] * w[at(ws, oc, ky, kx, ic)];
                            }
                        }
                    }
                }
                y[at(ys, 0, oy, ox, oc)] = acc;
            }
        }
    }
    y
}

// ------------------------------------------------------------ operators

#[test]
fn conv_same_stride2_with_relu6() {
    let (xs, ws, ys) = ([1, 7, 6, 3], [4, 3, 3, 3], [1, 4, 3, 4]);
    let wv = pat(108, 1.0);
    let bv = [0.5, -0.25, 1.0, 0.0];
    let mut g = G::default();
    let x = g.tensor("x", &xs);
    let w = g.const_f32("w", &ws, &wv);
    let b = g.const_f32("b", &[4], &bv);
    let y = g.tensor("y", &ys);
    g.op(
        op::CONV_2D,
        &[x, w, b],
        &[y],
        conv_opts(PAD_SAME, [2, 2], 3, [1, 1]),
    );
    let input = pat(126, 0.0);
    let got = run(&g.build(&[x], &[y]), &input);
    let pad = [same_before(7, 3, 2, 1), same_before(6, 3, 2, 1)];
    let want: Vec<f32> = ref_conv(
        &input,
        &xs,
        &wv,
        &ws,
        Some(&bv),
        &ys,
        [2, 2],
        [1, 1],
        pad,
        false,
    )
    .into_iter()
    .map(|v| v.clamp(0.0, 6.0))
    .collect();
    assert_close(&got[0], &want, "conv SAME/2 + RELU6");
}

#[test]
fn conv_valid_dilated_without_bias() {
    let (xs, ws, ys) = ([1, 9, 8, 2], [3, 3, 2, 2], [1, 5, 6, 3]);
    let wv = pat(36, 2.0);
    let mut g = G::default();
    let x = g.tensor("x", &xs);
    let w = g.const_f32("w", &ws, &wv);
    let y = g.tensor("y", &ys);
    g.op(
        op::CONV_2D,
        &[x, w, -1],
        &[y],
        conv_opts(PAD_VALID, [1, 1], 0, [2, 2]),
    );
    let input = pat(144, 0.3);
    let got = run(&g.build(&[x], &[y]), &input);
    let want = ref_conv(
        &input,
        &xs,
        &wv,
        &ws,
        None,
        &ys,
        [1, 1],
        [2, 2],
        [0, 0],
        false,
    );
    assert_close(&got[0], &want, "conv VALID dilated");
}

#[test]
fn depthwise_with_multiplier() {
    let (xs, ws, ys) = ([1, 5, 5, 3], [1, 3, 3, 6], [1, 5, 5, 6]);
    let wv = pat(54, 0.7);
    let bv = pat(6, 3.0);
    let mut g = G::default();
    let x = g.tensor("x", &xs);
    let w = g.const_f32("w", &ws, &wv);
    let b = g.const_f32("b", &[6], &bv);
    let y = g.tensor("y", &ys);
    g.op(
        op::DEPTHWISE_CONV_2D,
        &[x, w, b],
        &[y],
        dw_opts(PAD_SAME, [1, 1], 2),
    );
    let input = pat(75, 0.1);
    let got = run(&g.build(&[x], &[y]), &input);
    let want = ref_conv(
        &input,
        &xs,
        &wv,
        &ws,
        Some(&bv),
        &ys,
        [1, 1],
        [1, 1],
        [1, 1],
        true,
    );
    assert_close(&got[0], &want, "depthwise ×2");
}

#[test]
fn pools_same_padding() {
    let (xs, ys) = ([1, 7, 7, 2], [1, 4, 4, 2]);
    let mut g = G::default();
    let x = g.tensor("x", &xs);
    let mx = g.tensor("max", &ys);
    let av = g.tensor("avg", &ys);
    g.op(
        op::MAX_POOL_2D,
        &[x],
        &[mx],
        pool_opts(PAD_SAME, [2, 2], [3, 3]),
    );
    g.op(
        op::AVERAGE_POOL_2D,
        &[x],
        &[av],
        pool_opts(PAD_SAME, [2, 2], [3, 3]),
    );
    let input = pat(98, 0.4);
    let got = run(&g.build(&[x], &[mx, av]), &input);
    let pad = same_before(7, 3, 2, 1);
    let (mut want_max, mut want_avg) = (Vec::new(), Vec::new());
    for oy in 0..4 {
        for ox in 0..4 {
            for c in 0..2 {
                let (mut m, mut s, mut n) = (f32::MIN, 0.0, 0.0);
                for ky in 0..3 {
                    for kx in 0..3 {
                        let (iy, ix) = (
                            (oy * 2 + ky) as isize - pad as isize,
                            (ox * 2 + kx) as isize - pad as isize,
                        );
                        if (0..7).contains(&iy) && (0..7).contains(&ix) {
                            let v = input[at(&xs, 0, iy as usize, ix as usize, c)];
                            m = m.max(v);
                            s += v;
                            n += 1.0;
                        }
                    }
                }
                want_max.push(m);
                // TFLite divides by the number of cells inside the input.
                want_avg.push(s / n);
            }
        }
    }
    assert_close(&got[0], &want_max, "max pool");
    assert_close(&got[1], &want_avg, "average pool");
}

#[test]
fn elementwise_broadcast_and_activations() {
    let xs = [1, 3, 4, 5];
    let n = 60;
    let mut g = G::default();
    let x = g.tensor("x", &xs);
    let cvec = [0.5, -1.0, 2.0, 0.25, -0.5];
    let c = g.const_f32("c", &[5], &cvec);
    let alpha = g.const_f32("alpha", &[1, 1, 5], &[0.1, 0.2, 0.3, 0.4, 0.5]);
    let added = g.tensor("added", &xs);
    let mulled = g.tensor("mulled", &xs);
    let prelu = g.tensor("prelu", &xs);
    let sig = g.tensor("sig", &xs);
    let hs = g.tensor("hs", &xs);
    let relu = g.tensor("relu", &xs);
    let tanh = g.tensor("tanh", &xs);
    // ADD with fused RELU against a rank-1 constant (channel broadcast).
    g.op(
        op::ADD,
        &[x, c],
        &[added],
        Some((11, vec![Some(Field::U8(1))])),
    );
    g.op(
        op::MUL,
        &[x, added],
        &[mulled],
        Some((21, vec![Some(Field::U8(0))])),
    );
    g.op(op::PRELU, &[x, alpha], &[prelu], None);
    g.op(op::LOGISTIC, &[x], &[sig], None);
    g.op(op::HARD_SWISH, &[x], &[hs], None);
    g.op(op::RELU, &[x], &[relu], None);
    g.op(op::TANH, &[x], &[tanh], None);
    let input = pat(n, 0.9);
    let got = run(
        &g.build(&[x], &[added, mulled, prelu, sig, hs, relu, tanh]),
        &input,
    );
    let ch = |i: usize| i % 5;
    let add: Vec<f32> = input
        .iter()
        .enumerate()
        .map(|(i, v)| (v + cvec[ch(i)]).max(0.0))
        .collect();
    let mul: Vec<f32> = input.iter().zip(&add).map(|(a, b)| a * b).collect();
    let pr: Vec<f32> = input
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            if v >= 0.0 {
                v
            } else {
                v * 0.1 * (ch(i) + 1) as f32
            }
        })
        .collect();
    let sg: Vec<f32> = input.iter().map(|v| 1.0 / (1.0 + (-v).exp())).collect();
    let h: Vec<f32> = input
        .iter()
        .map(|v| v * (v + 3.0).clamp(0.0, 6.0) / 6.0)
        .collect();
    let r: Vec<f32> = input.iter().map(|v| v.max(0.0)).collect();
    let t: Vec<f32> = input.iter().map(|v| v.tanh()).collect();
    for (k, (want, what)) in [
        (add, "add+relu"),
        (mul, "mul"),
        (pr, "prelu"),
        (sg, "logistic"),
        (h, "hard_swish"),
        (r, "relu"),
        (t, "tanh"),
    ]
    .into_iter()
    .enumerate()
    {
        assert_close(&got[k], &want, what);
    }
}

#[test]
fn concat_pad_reshape_keep_nhwc_semantics() {
    let xs = [1, 2, 3, 2];
    let mut g = G::default();
    let x = g.tensor("x", &xs);
    let r = g.tensor("r", &xs);
    let cat_c = g.tensor("cat_c", &[1, 2, 3, 4]);
    let cat_h = g.tensor("cat_h", &[1, 4, 3, 2]);
    // [[N], [H before, after], [W], [C]]
    let pads = g.const_i32("pads", &[4, 2], &[0, 0, 1, 0, 0, 2, 0, 1]);
    let ps = [1, 5, 5, 3];
    let padded = g.tensor("padded", &ps);
    let shape = g.const_i32("shape", &[2], &[1, 75]);
    let flat = g.tensor("flat", &[1, 75]);
    let shape4 = g.const_i32("shape4", &[4], &[1, 5, 3, 5]);
    let back = g.tensor("back", &[1, 5, 3, 5]);
    g.op(op::RELU, &[x], &[r], None);
    g.op(
        op::CONCATENATION,
        &[x, r],
        &[cat_c],
        Some((10, vec![Some(Field::I32(3)), Some(Field::U8(0))])),
    );
    g.op(
        op::CONCATENATION,
        &[x, r],
        &[cat_h],
        Some((10, vec![Some(Field::I32(-3)), Some(Field::U8(0))])),
    );
    g.op(op::PAD, &[cat_h, pads], &[padded], None);
    g.op(op::RESHAPE, &[padded, shape], &[flat], None);
    g.op(op::RESHAPE, &[flat, shape4], &[back], None);
    let input = pat(12, 0.2);
    let got = run(&g.build(&[x], &[cat_c, cat_h, padded, flat, back]), &input);
    let relu: Vec<f32> = input.iter().map(|v| v.max(0.0)).collect();
    let mut want_c = Vec::new();
    for p in 0..6 {
        want_c.extend(&input[2 * p..2 * p + 2]);
        want_c.extend(&relu[2 * p..2 * p + 2]);
    }
    let want_h: Vec<f32> = input.iter().chain(&relu).copied().collect();
    let mut want_pad = vec![0f32; 75];
    for h in 0..4 {
        for w in 0..3 {
            for c in 0..2 {
                want_pad[at(&ps, 0, h + 1, w, c)] = want_h[at(&[1, 4, 3, 2], 0, h, w, c)];
            }
        }
    }
    assert_close(&got[0], &want_c, "concat channels");
    assert_close(&got[1], &want_h, "concat height");
    assert_close(&got[2], &want_pad, "pad");
    assert_close(&got[3], &want_pad, "reshape to 2-D");
    assert_close(&got[4], &want_pad, "reshape to 4-D");
}

/// TF's bilinear resize for the three sampling conventions.
fn ref_resize(x: &[f32], xs: &[usize], oh: usize, ow: usize, align: bool, half: bool) -> Vec<f32> {
    let src = |o: usize, inp: usize, out: usize| -> f32 {
        if align {
            if out > 1 {
                o as f32 * (inp - 1) as f32 / (out - 1) as f32
            } else {
                0.0
            }
        } else if half {
            (o as f32 + 0.5) * inp as f32 / out as f32 - 0.5
        } else {
            o as f32 * inp as f32 / out as f32
        }
    };
    let ys = [1, oh, ow, xs[3]];
    let mut y = vec![0f32; oh * ow * xs[3]];
    for oy in 0..oh {
        let fy = src(oy, xs[1], oh);
        let (y0, y1) = (
            (fy.floor().max(0.0)) as usize,
            (fy.ceil() as usize).min(xs[1] - 1),
        );
        let ly = fy - fy.floor();
        for ox in 0..ow {
            let fx = src(ox, xs[2], ow);
            let (x0, x1) = (
                (fx.floor().max(0.0)) as usize,
                (fx.ceil() as usize).min(xs[2] - 1),
            );
            let lx = fx - fx.floor();
            for c in 0..xs[3] {
                let v = |yy, xx| x[at(xs, 0, yy, xx, c)];
                let top = v(y0, x0) + (v(y0, x1) - v(y0, x0)) * lx;
                let bot = v(y1, x0) + (v(y1, x1) - v(y1, x0)) * lx;
                y[at(&ys, 0, oy, ox, c)] = top + (bot - top) * ly;
            }
        }
    }
    y
}

#[test]
fn resize_bilinear_sampling_modes() {
    let xs = [1, 5, 4, 2];
    let mut g = G::default();
    let x = g.tensor("x", &xs);
    let size = g.const_i32("size", &[2], &[9, 7]);
    let mut outs = Vec::new();
    for (k, (align, half)) in [(false, true), (true, false), (false, false)]
        .into_iter()
        .enumerate()
    {
        let y = g.tensor(&format!("y{k}"), &[1, 9, 7, 2]);
        g.op(
            op::RESIZE_BILINEAR,
            &[x, size],
            &[y],
            Some((
                15,
                vec![
                    None,
                    None,
                    Some(Field::U8(align as u8)),
                    Some(Field::U8(half as u8)),
                ],
            )),
        );
        outs.push((y, align, half));
    }
    let input = pat(40, 0.5);
    let ids: Vec<i32> = outs.iter().map(|o| o.0).collect();
    let got = run(&g.build(&[x], &ids), &input);
    for (k, &(_, align, half)) in outs.iter().enumerate() {
        let want = ref_resize(&input, &xs, 9, 7, align, half);
        assert_close(
            &got[k],
            &want,
            &format!("resize align_corners={align} half_pixel={half}"),
        );
    }
}

#[test]
fn depth_to_space_channel_order() {
    let (xs, ys) = ([1, 2, 3, 8], [1, 4, 6, 2]);
    let mut g = G::default();
    let x = g.tensor("x", &xs);
    let y = g.tensor("y", &ys);
    g.op(
        op::DEPTH_TO_SPACE,
        &[x],
        &[y],
        Some((94, vec![Some(Field::I32(2))])),
    );
    let input = pat(48, 0.8);
    let got = run(&g.build(&[x], &[y]), &input);
    let mut want = vec![0f32; 48];
    // TF: out[h*b + i, w*b + j, c] = in[h, w, (i*b + j)*C_out + c]
    for h in 0..2 {
        for w in 0..3 {
            for i in 0..2 {
                for j in 0..2 {
                    for c in 0..2 {
                        want[at(&ys, 0, h * 2 + i, w * 2 + j, c)] =
                            input[at(&xs, 0, h, w, (i * 2 + j) * 2 + c)];
                    }
                }
            }
        }
    }
    assert_close(&got[0], &want, "depth_to_space");
}

#[test]
fn convolution_2d_transpose_bias() {
    // Kernel 3 with stride 2 from 3×4 to 6×8: SAME crops one row/column,
    // at the end (TFLite puts floor(total/2) = 0 before).
    let (xs, ws, ys) = ([1, 3, 4, 2], [3, 3, 3, 2], [1, 6, 8, 3]);
    let wv = pat(54, 1.3);
    let bv = [0.1, -0.2, 0.3];
    let mut g = G::default();
    let x = g.tensor("x", &xs);
    let w = g.const_f32("w", &ws, &wv);
    let b = g.const_f32("b", &[3], &bv);
    let y = g.tensor("y", &ys);
    let opts: Vec<u8> = [1i32, 2, 2].iter().flat_map(|v| v.to_le_bytes()).collect();
    g.custom("Convolution2DTransposeBias", &[x, w, b], &[y], opts);
    let input = pat(24, 0.6);
    let got = run(&g.build(&[x], &[y]), &input);
    let total = 2 * (3 - 1) + 3 - 6;
    let before = total / 2;
    let mut want = vec![0f32; 144];
    for oy in 0..6 {
        for ox in 0..8 {
            for oc in 0..3 {
                want[at(&ys, 0, oy, ox, oc)] = bv[oc];
            }
        }
    }
    for iy in 0..3 {
        for ix in 0..4 {
            for ky in 0..3 {
                for kx in 0..3 {
                    let oy = (iy * 2 + ky) as isize - before as isize;
                    let ox = (ix * 2 + kx) as isize - before as isize;
                    if !(0..6).contains(&oy) || !(0..8).contains(&ox) {
                        continue;
                    }
                    for oc in 0..3 {
                        for ic in 0..2 {
                            want[at(&ys, 0, oy as usize, ox as usize, oc)] +=
                                input[at(&xs, 0, iy, ix, ic)] * wv[at(&ws, oc, ky, kx, ic)];
                        }
                    }
                }
            }
        }
    }
    assert_close(&got[0], &want, "Convolution2DTransposeBias");
}

#[test]
fn fp16_and_sparse_weights_are_folded() {
    // 1×1 convolution whose weights are sparse fp16 (DENSIFY then
    // DEQUANTIZE, as in pose_detection) and whose bias is dense fp16.
    let (xs, ys) = ([1, 2, 2, 4], [1, 2, 2, 3]);
    // Dense weights [3,1,1,4]: row o has its nonzeros at `indices`.
    let dense = [0.5, 0.0, -0.25, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.5, 0.0, 2.0];
    let stored = [0.5f32, -0.25, 1.5, 2.0];
    let mut g = G::default();
    let x = g.tensor("x", &xs);
    // The buffer holds only the nonzeros, in traversal order.
    let sparse = g.add(
        "w_sparse",
        &[3, 1, 1, 4],
        F16,
        Some(
            stored
                .iter()
                .flat_map(|&v| f32_to_f16(v).to_le_bytes())
                .collect(),
        ),
    );
    g.tensors[sparse as usize].sparse = Some(SparseSpec {
        segments: vec![0, 2, 2, 4],
        indices: vec![0, 2, 1, 3],
    });
    let w16 = g.add("w16", &[3, 1, 1, 4], F16, None);
    let w32 = g.tensor("w32", &[3, 1, 1, 4]);
    let b16 = g.const_f16("b16", &[3], &[0.125, -1.0, 0.0]);
    let b32 = g.tensor("b32", &[3]);
    let y = g.tensor("y", &ys);
    g.op(op::DENSIFY, &[sparse], &[w16], None);
    g.op(op::DEQUANTIZE, &[w16], &[w32], None);
    g.op(op::DEQUANTIZE, &[b16], &[b32], None);
    g.op(
        op::CONV_2D,
        &[x, w32, b32],
        &[y],
        conv_opts(PAD_VALID, [1, 1], 0, [1, 1]),
    );
    let input = pat(16, 0.0);
    let got = run(&g.build(&[x], &[y]), &input);
    let want = ref_conv(
        &input,
        &xs,
        &dense,
        &[3, 1, 1, 4],
        Some(&[0.125, -1.0, 0.0]),
        &ys,
        [1, 1],
        [1, 1],
        [0, 0],
        false,
    );
    assert_close(&got[0], &want, "sparse fp16 weights");
}

// --------------------------------------------------------------- errors

fn tiny_relu_model(builtin: i32) -> Vec<u8> {
    let mut g = G::default();
    let x = g.tensor("x", &[1, 2, 2, 1]);
    let a = g.tensor("a", &[1, 2, 2, 1]);
    let y = g.tensor("y", &[1, 2, 2, 1]);
    g.op(op::RELU, &[x], &[a], None);
    g.op(builtin, &[a], &[y], None);
    g.build(&[x], &[y])
}

#[test]
fn unsupported_operator_is_named_with_its_index() {
    match convert(&tiny_relu_model(25)) {
        Err(ConvertError::UnsupportedOperator { index, op }) => {
            assert_eq!((index, op.as_str()), (1, "SOFTMAX"));
        }
        other => panic!("expected UnsupportedOperator, got {other:?}"),
    }
    let mut g = G::default();
    let x = g.tensor("x", &[1, 2]);
    let y = g.tensor("y", &[1, 2]);
    g.custom("MyCustomOp", &[x], &[y], vec![]);
    let err = convert(&g.build(&[x], &[y])).unwrap_err();
    assert!(
        matches!(&err, ConvertError::UnsupportedOperator { index: 0, op } if op == "MyCustomOp"),
        "{err}"
    );
    assert!(err.to_string().contains("MyCustomOp"));
}

#[test]
fn operator_misuse_is_a_typed_error() {
    // Runtime (non-constant) convolution weights.
    let mut g = G::default();
    let x = g.tensor("x", &[1, 4, 4, 2]);
    let w = g.tensor("w", &[3, 1, 1, 2]);
    let y = g.tensor("y", &[1, 4, 4, 3]);
    g.op(
        op::CONV_2D,
        &[x, w, -1],
        &[y],
        conv_opts(PAD_SAME, [1, 1], 0, [1, 1]),
    );
    let err = convert(&g.build(&[x], &[y])).unwrap_err();
    assert!(
        matches!(&err, ConvertError::Operator { index: 0, op, .. } if op == "CONV_2D"),
        "{err}"
    );
    // Output shape inconsistent with SAME padding and stride.
    let mut g = G::default();
    let x = g.tensor("x", &[1, 4, 4, 2]);
    let w = g.const_f32("w", &[3, 1, 1, 2], &[0.0; 6]);
    let y = g.tensor("y", &[1, 3, 3, 3]);
    g.op(
        op::CONV_2D,
        &[x, w, -1],
        &[y],
        conv_opts(PAD_SAME, [1, 1], 0, [1, 1]),
    );
    assert!(matches!(
        convert(&g.build(&[x], &[y])),
        Err(ConvertError::Operator { .. })
    ));
    // Options table of another operator's type.
    let mut g = G::default();
    let x = g.tensor("x", &[1, 4, 4, 2]);
    let y = g.tensor("y", &[1, 4, 4, 2]);
    g.op(
        op::ADD,
        &[x, x],
        &[y],
        conv_opts(PAD_SAME, [1, 1], 0, [1, 1]),
    );
    assert!(matches!(
        convert(&g.build(&[x], &[y])),
        Err(ConvertError::Operator { index: 0, .. })
    ));
    // A graph input passed straight through to the outputs.
    let mut g = G::default();
    let x = g.tensor("x", &[1, 4, 4, 2]);
    assert!(matches!(
        convert(&g.build(&[x], &[x])),
        Err(ConvertError::Unsupported(_))
    ));
}

#[test]
fn malformed_bytes_give_errors_not_panics() {
    for bad in [
        &b""[..],
        b"TFL3",
        &[0u8; 64],
        &[0xffu8; 64],
        b"\x08\x07\x12\x0bgarmax-onnx",
    ] {
        assert!(
            matches!(convert(bad), Err(ConvertError::Malformed(_))),
            "{bad:?}"
        );
    }
    let good = tiny_relu_model(op::RELU);
    assert!(convert(&good).is_ok());
    // Every truncation, and single-byte corruptions everywhere: errors or a
    // (possibly different) model, never a panic.
    for len in 0..good.len() {
        let _ = convert(&good[..len]);
    }
    for pos in 0..good.len() {
        for v in [0x00, 0x7f, 0xff] {
            let mut b = good.clone();
            b[pos] = v;
            let _ = convert(&b);
        }
    }
}

#[test]
fn malformed_real_model_never_panics() {
    // Truncations and deterministic corruptions of a real MediaPipe model.
    let path = common::asset("mediapipe/modules/face_detection/face_detection_short_range.tflite");
    let good = std::fs::read(path).expect("read model");
    for k in 0..200 {
        let _ = convert(&good[..good.len() * k / 200]);
    }
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..300 {
        let mut b = good.clone();
        for _ in 0..4 {
            // xorshift: reproducible corruption positions and values.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let pos = (state % b.len() as u64) as usize;
            b[pos] = (state >> 40) as u8;
        }
        let _ = convert(&b);
    }
}

// -------------------------------------------------------------- summary

#[test]
fn summary_and_onnx_structure() {
    use prost::Message;
    let model = tiny_relu_model(op::LOGISTIC);
    let s = inspect(&model).unwrap();
    assert_eq!(s.inputs[0].name, "x");
    assert_eq!(s.inputs[0].shape, vec![1, 2, 2, 1]);
    assert_eq!(s.outputs[0].name, "y");
    assert_eq!(s.tflite_ops.get("RELU"), Some(&1));
    assert_eq!(s.tflite_ops.get("LOGISTIC"), Some(&1));
    let c = convert_with_summary(&model).unwrap();
    let m = crate::onnx::ModelProto::decode(c.onnx.as_slice()).unwrap();
    assert_eq!(m.opset_import[0].version, crate::onnx::OPSET);
    let g = m.graph.unwrap();
    let ops: Vec<&str> = g.node.iter().map(|n| n.op_type.as_str()).collect();
    // NHWC→NCHW once at the input, back once at the output.
    assert_eq!(ops, ["Transpose", "Relu", "Sigmoid", "Transpose"]);
    assert_eq!(g.input[0].name, "x");
    assert_eq!(g.output[0].name, "y");
    assert_eq!(c.summary.onnx_nodes, 4);
    assert!(c.summary.to_string().contains("LOGISTIC 1"));
}

//! Constant tensors: decoding TFLite buffers, fp16 → fp32, dequantisation,
//! densification of sparse tensors, and layout permutations.
//!
//! MediaPipe's models store most weights as fp16 (folded back through
//! DEQUANTIZE) and some as sparse fp16 (through DENSIFY then DEQUANTIZE). ONNX
//! Runtime would run those ops at every inference; folding them here gives
//! plain fp32 initialisers and the exact values TFLite computes once at load.

use crate::ConvertError;
use crate::schema::{DimMeta, Quantization, Sparsity, Tensor, TensorType};

/// Largest constant we agree to materialise (elements). Far above any
/// MediaPipe model; protects against a corrupt shape asking for terabytes.
const MAX_ELEMENTS: usize = 1 << 28;

/// A folded constant, values in the tensor's logical (NHWC for 4-D) layout.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Values {
    F32(Vec<f32>),
    /// Integer tensors (shapes, paddings, and raw quantised values before
    /// DEQUANTIZE).
    I64(Vec<i64>),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Const {
    pub shape: Vec<usize>,
    pub values: Values,
}

fn malformed(what: impl Into<String>) -> ConvertError {
    ConvertError::Malformed(what.into())
}

/// Number of elements of `shape`, bounded by [`MAX_ELEMENTS`].
pub(crate) fn element_count(shape: &[usize]) -> Result<usize, ConvertError> {
    shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .filter(|&n| n <= MAX_ELEMENTS)
        .ok_or_else(|| malformed(format!("tensor shape {shape:?} is too large")))
}

/// IEEE 754 half → single precision, exact for every input (subnormals,
/// infinities and NaN included).
pub(crate) fn f16_to_f32(h: u16) -> f32 {
    let sign = ((h >> 15) as u32) << 31;
    let exp = ((h >> 10) & 0x1f) as u32;
    let frac = (h & 0x3ff) as u32;
    let bits = match (exp, frac) {
        (0, 0) => sign,
        (0, _) => {
            // Subnormal: value = frac × 2^-24, exactly representable in f32.
            let v = frac as f32 * f32::from_bits(0x3380_0000); // 2^-24
            return if sign != 0 { -v } else { v };
        }
        (0x1f, 0) => sign | 0x7f80_0000,
        (0x1f, _) => sign | 0x7fc0_0000 | (frac << 13),
        _ => sign | ((exp + 127 - 15) << 23) | (frac << 13),
    };
    f32::from_bits(bits)
}

/// Decodes the raw little-endian elements of a buffer.
fn decode(bytes: &[u8], dtype: TensorType) -> Result<Values, ConvertError> {
    let size = dtype
        .elem_size()
        .ok_or_else(|| ConvertError::Unsupported(format!("constant of type {dtype}")))?;
    if !bytes.len().is_multiple_of(size) {
        return Err(malformed(format!(
            "buffer of {} bytes is not a whole number of {dtype} elements",
            bytes.len()
        )));
    }
    let chunks = bytes.chunks_exact(size);
    Ok(match dtype {
        TensorType::Float32 => Values::F32(
            chunks
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
        ),
        TensorType::Float16 => Values::F32(
            chunks
                .map(|c| f16_to_f32(u16::from_le_bytes([c[0], c[1]])))
                .collect(),
        ),
        TensorType::Int32 => Values::I64(
            chunks
                .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as i64)
                .collect(),
        ),
        TensorType::Int64 => Values::I64(
            chunks
                .map(|c| i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
                .collect(),
        ),
        TensorType::Int16 => Values::I64(
            chunks
                .map(|c| i16::from_le_bytes([c[0], c[1]]) as i64)
                .collect(),
        ),
        TensorType::Int8 => Values::I64(chunks.map(|c| c[0] as i8 as i64).collect()),
        TensorType::UInt8 => Values::I64(chunks.map(|c| c[0] as i64).collect()),
        TensorType::Other(_) => {
            return Err(ConvertError::Unsupported(format!(
                "constant of type {dtype}"
            )));
        }
    })
}

impl Const {
    /// The values when the constant is floating point.
    pub(crate) fn f32s(&self) -> Option<&[f32]> {
        match &self.values {
            Values::F32(v) => Some(v),
            Values::I64(_) => None,
        }
    }
}

impl Values {
    fn len(&self) -> usize {
        match self {
            Values::F32(v) => v.len(),
            Values::I64(v) => v.len(),
        }
    }
}

/// Reads the constant held by `tensor`'s buffer (densified when sparse).
pub(crate) fn read_const(tensor: &Tensor, bytes: &[u8]) -> Result<Const, ConvertError> {
    let count = element_count(&tensor.shape)?;
    let values = decode(bytes, tensor.dtype)?;
    let values = match &tensor.sparsity {
        Some(sp) => densify(&values, &tensor.shape, sp)?,
        None => values,
    };
    if values.len() != count {
        return Err(malformed(format!(
            "tensor '{}' has shape {:?} ({count} elements) but its buffer holds {}",
            tensor.name,
            tensor.shape,
            values.len()
        )));
    }
    Ok(Const {
        shape: tensor.shape.clone(),
        values,
    })
}

/// Dequantises raw integer values: `(q - zero_point) * scale`, per tensor or
/// per axis (`quantized_dimension`).
pub(crate) fn dequantize(c: &Const, q: Option<&Quantization>) -> Result<Const, ConvertError> {
    let raw = match &c.values {
        // fp16 constants were widened on decode: DEQUANTIZE is then the
        // identity, exactly as TFLite's fp16 → fp32 kernel.
        Values::F32(_) => return Ok(c.clone()),
        Values::I64(v) => v,
    };
    let q =
        q.ok_or_else(|| malformed("integer DEQUANTIZE input without quantisation parameters"))?;
    let n = q.scale.len();
    let (axis_len, inner) = if n == 1 {
        (1, 1)
    } else {
        let dim = q.quantized_dimension;
        if dim >= c.shape.len() || c.shape[dim] != n {
            return Err(malformed(format!(
                "{n} per-axis scales do not match dimension {dim} of shape {:?}",
                c.shape
            )));
        }
        (n, c.shape[dim + 1..].iter().product::<usize>())
    };
    let out = raw
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let ch = if axis_len == 1 {
                0
            } else {
                (i / inner) % axis_len
            };
            let zp = q
                .zero_point
                .get(ch)
                .or(q.zero_point.first())
                .copied()
                .unwrap_or(0);
            (v - zp) as f32 * q.scale[ch]
        })
        .collect();
    Ok(Const {
        shape: c.shape.clone(),
        values: Values::F32(out),
    })
}

/// Densifies a sparse tensor as TFLite's `FormatConverter::SparseToDense`
/// defines it: the stored values are visited in traversal order; dense levels
/// iterate their full size, CSR levels the indices of the current segment;
/// block levels refine the index of the dimension they block.
fn densify(values: &Values, dense_shape: &[usize], sp: &Sparsity) -> Result<Values, ConvertError> {
    let rank = dense_shape.len();
    let levels = sp.traversal_order.len();
    if levels != sp.dim_metadata.len() || levels != rank + sp.block_map.len() || levels > 16 {
        return Err(malformed(format!(
            "sparsity with {levels} traversal levels, {} dimension metadata, rank {rank} and {} blocks",
            sp.dim_metadata.len(),
            sp.block_map.len()
        )));
    }
    let mut seen = vec![false; levels];
    for (l, &d) in sp.traversal_order.iter().enumerate() {
        // TFLite traverses the original dimensions first, then the blocks.
        let ok = d < levels && !seen[d] && ((l < rank) == (d < rank));
        if !ok {
            return Err(malformed(format!(
                "unsupported traversal order {:?}",
                sp.traversal_order
            )));
        }
        seen[d] = true;
    }
    let mut block_size = Vec::with_capacity(sp.block_map.len());
    for (b, &dim) in sp.block_map.iter().enumerate() {
        let level = sp
            .traversal_order
            .iter()
            .position(|&d| d == rank + b)
            .ok_or_else(|| malformed("block dimension missing from traversal order"))?;
        match sp.dim_metadata[level] {
            DimMeta::Dense(size) if size > 0 && dim < rank => block_size.push(size),
            _ => {
                return Err(malformed(
                    "block dimension must be dense and map to a tensor dimension",
                ));
            }
        }
    }
    let total = element_count(dense_shape)?;
    // A corrupt shape could otherwise make a few stored values allocate
    // gigabytes; real pruned weights are at most a few percent dense.
    if total > (1 << 20) && total / 64 > values.len() {
        return Err(malformed(format!(
            "sparse tensor of shape {dense_shape:?} with only {} stored values",
            values.len()
        )));
    }

    struct Walk<'s> {
        sp: &'s Sparsity,
        rank: usize,
        dense_shape: &'s [usize],
        block_size: Vec<usize>,
        indices: Vec<usize>,
        next_value: usize,
        n_values: usize,
        /// (dense flat index, source value index) pairs.
        writes: Vec<(usize, usize)>,
        total: usize,
    }

    impl Walk<'_> {
        fn visit(&mut self, level: usize, prev: usize) -> Result<(), ConvertError> {
            if level == self.indices.len() {
                return self.leaf();
            }
            match &self.sp.dim_metadata[level] {
                DimMeta::Dense(size) => {
                    for i in 0..*size {
                        self.indices[level] = i;
                        let prev_next = prev
                            .checked_mul(*size)
                            .and_then(|p| p.checked_add(i))
                            .ok_or_else(|| malformed("sparse index overflow"))?;
                        self.visit(level + 1, prev_next)?;
                    }
                }
                DimMeta::SparseCsr { segments, indices } => {
                    let (Some(&start), Some(&end)) = (segments.get(prev), segments.get(prev + 1))
                    else {
                        return Err(malformed("sparse segment index out of range"));
                    };
                    for i in start..end {
                        let idx = *indices
                            .get(i)
                            .ok_or_else(|| malformed("sparse index position out of range"))?;
                        self.indices[level] = idx;
                        self.visit(level + 1, i)?;
                    }
                }
            }
            Ok(())
        }

        fn leaf(&mut self) -> Result<(), ConvertError> {
            let mut orig = vec![0usize; self.rank];
            for (l, &d) in self.sp.traversal_order.iter().enumerate() {
                if l < self.rank {
                    orig[d] = self.indices[l];
                } else {
                    let b = d - self.rank;
                    let dim = self.sp.block_map[b];
                    orig[dim] = orig[dim] * self.block_size[b] + self.indices[l];
                }
            }
            let mut flat = 0usize;
            for (&i, &n) in orig.iter().zip(self.dense_shape) {
                if i >= n {
                    return Err(malformed("sparse element index outside the dense shape"));
                }
                flat = flat * n + i;
            }
            // Every stored value is written once; more writes than the dense
            // size means a corrupt (e.g. cyclic or duplicated) structure.
            if self.next_value >= self.n_values || self.writes.len() >= self.total {
                return Err(malformed(
                    "sparse structure holds more elements than values",
                ));
            }
            self.writes.push((flat, self.next_value));
            self.next_value += 1;
            Ok(())
        }
    }

    let mut walk = Walk {
        sp,
        rank,
        dense_shape,
        block_size,
        indices: vec![0; levels],
        next_value: 0,
        n_values: values.len(),
        writes: Vec::new(),
        total,
    };
    walk.visit(0, 0)?;
    if walk.next_value != values.len() {
        return Err(malformed(format!(
            "sparse structure covers {} of {} stored values",
            walk.next_value,
            values.len()
        )));
    }
    Ok(match values {
        Values::F32(v) => {
            let mut out = vec![0f32; total];
            for (dst, src) in walk.writes {
                out[dst] = v[src];
            }
            Values::F32(out)
        }
        Values::I64(v) => {
            let mut out = vec![0i64; total];
            for (dst, src) in walk.writes {
                out[dst] = v[src];
            }
            Values::I64(out)
        }
    })
}

/// Permutes a row-major array: output dimension `i` is input dimension
/// `perm[i]`.
pub(crate) fn permute<T: Copy + Default>(
    data: &[T],
    shape: &[usize],
    perm: &[usize],
) -> (Vec<T>, Vec<usize>) {
    let rank = shape.len();
    debug_assert_eq!(perm.len(), rank);
    let out_shape: Vec<usize> = perm.iter().map(|&p| shape[p]).collect();
    let mut in_strides = vec![1usize; rank];
    for i in (0..rank.saturating_sub(1)).rev() {
        in_strides[i] = in_strides[i + 1] * shape[i + 1];
    }
    let strides: Vec<usize> = perm.iter().map(|&p| in_strides[p]).collect();
    let mut out = Vec::with_capacity(data.len());
    let mut idx = vec![0usize; rank];
    for _ in 0..data.len() {
        let src: usize = idx.iter().zip(&strides).map(|(i, s)| i * s).sum();
        out.push(data[src]);
        // Increment the multi-index, last dimension fastest.
        for d in (0..rank).rev() {
            idx[d] += 1;
            if idx[d] < out_shape[d] {
                break;
            }
            idx[d] = 0;
        }
    }
    (out, out_shape)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f16_conversion_is_exact() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x3555), 0.333_251_95);
        assert_eq!(f16_to_f32(0x0001), 5.960_464_5e-8); // smallest subnormal
        assert_eq!(f16_to_f32(0x7bff), 65504.0);
        assert_eq!(f16_to_f32(0x7c00), f32::INFINITY);
        assert!(f16_to_f32(0x7e00).is_nan());
        assert_eq!(f16_to_f32(0x8000).to_bits(), (-0.0f32).to_bits());
    }

    #[test]
    fn permute_nhwc_to_nchw() {
        // shape [1, 2, 2, 3]: value = h*100 + w*10 + c
        let mut data = Vec::new();
        for h in 0..2 {
            for w in 0..2 {
                for c in 0..3 {
                    data.push(h * 100 + w * 10 + c);
                }
            }
        }
        let (out, shape) = permute(&data, &[1, 2, 2, 3], &[0, 3, 1, 2]);
        assert_eq!(shape, vec![1, 3, 2, 2]);
        assert_eq!(&out[..4], &[0, 10, 100, 110]);
        assert_eq!(&out[4..8], &[1, 11, 101, 111]);
    }

    #[test]
    fn densify_csr_rows() {
        // Dense 3×4 matrix stored as CSR over its second dimension, the
        // layout MediaPipe's 1×1 convolution weights use.
        // [[1,0,2,0],[0,0,0,0],[0,3,0,4]]
        let sp = Sparsity {
            traversal_order: vec![0, 1],
            block_map: vec![],
            dim_metadata: vec![
                DimMeta::Dense(3),
                DimMeta::SparseCsr {
                    segments: vec![0, 2, 2, 4],
                    indices: vec![0, 2, 1, 3],
                },
            ],
        };
        let v = densify(&Values::F32(vec![1.0, 2.0, 3.0, 4.0]), &[3, 4], &sp).unwrap();
        assert_eq!(
            v,
            Values::F32(vec![
                1.0, 0.0, 2.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 3.0, 0.0, 4.0
            ])
        );
    }

    #[test]
    fn densify_with_blocks() {
        // 2×4 matrix in 1×2 blocks: block rows 2, block cols 2 (CSR), each
        // block dense of size 2. Block (0,1) and (1,0) present.
        // [[0,0,1,2],[3,4,0,0]]
        let sp = Sparsity {
            traversal_order: vec![0, 1, 2],
            block_map: vec![1],
            dim_metadata: vec![
                DimMeta::Dense(2),
                DimMeta::SparseCsr {
                    segments: vec![0, 1, 2],
                    indices: vec![1, 0],
                },
                DimMeta::Dense(2),
            ],
        };
        let v = densify(&Values::I64(vec![1, 2, 3, 4]), &[2, 4], &sp).unwrap();
        assert_eq!(v, Values::I64(vec![0, 0, 1, 2, 3, 4, 0, 0]));
    }

    #[test]
    fn densify_rejects_corrupt_structures() {
        let sp = Sparsity {
            traversal_order: vec![0, 1],
            block_map: vec![],
            dim_metadata: vec![
                DimMeta::Dense(2),
                DimMeta::SparseCsr {
                    segments: vec![0, 1, 2],
                    indices: vec![0, 9],
                },
            ],
        };
        assert!(densify(&Values::F32(vec![1.0, 2.0]), &[2, 2], &sp).is_err());
        let short = Sparsity {
            dim_metadata: vec![DimMeta::Dense(2)],
            ..sp.clone()
        };
        assert!(densify(&Values::F32(vec![1.0]), &[2, 2], &short).is_err());
    }

    #[test]
    fn dequantize_per_axis() {
        let c = Const {
            shape: vec![2, 2],
            values: Values::I64(vec![1, 2, 3, 4]),
        };
        let q = Quantization {
            scale: vec![0.5, 2.0],
            zero_point: vec![0, 1],
            quantized_dimension: 0,
        };
        let d = dequantize(&c, Some(&q)).unwrap();
        assert_eq!(d.values, Values::F32(vec![0.5, 1.0, 4.0, 6.0]));
    }
}

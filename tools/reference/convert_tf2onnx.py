"""Dev-only stop-gap: convert MediaPipe's TFLite models to ONNX with tf2onnx.

The product converts with the Rust importer (`garmax-tflite`); this script only
exists so the person pipeline can be developed and cross-checked before/while
that importer lands. Usage (in a venv with tensorflow-cpu, tf2onnx, onnx):

    python tools/reference/convert_tf2onnx.py <cache-root>

writes <cache-root>/models/{pose_detection,pose_landmark_full,
face_detection_short_range,face_landmark}.onnx.
"""
import os
import sys

import tensorflow as tf
from tf2onnx import tflite_utils
import tf2onnx.convert


class _NoInterpreter:
    """TF's `get_tensor_details` segfaults on these models' sparse/fp16
    constants; tf2onnx only uses it to refine shapes and falls back to the
    flatbuffer's own shapes when the interpreter raises."""

    def __init__(self, *a, **k):
        raise RuntimeError("interpreter disabled")


tflite_utils.tf.lite.Interpreter = _NoInterpreter

# pose_detection.tflite stores 38 weight tensors sparse (dims 0..n-1 dense, the
# last one CSR) behind DENSIFY ops, which tf2onnx does not know. We densify
# those constants up front, hand the dense data to tf2onnx when it decodes the
# buffer, and turn DENSIFY into Identity.
import numpy as np
from tf2onnx.handler import tfl_op
from tf2onnx.tflite.Model import Model

_DENSE = {}


def _index_vector(dm, which):
    from tf2onnx.tflite import Int32Vector, Uint16Vector, Uint8Vector
    kind = dm.ArraySegmentsType() if which == "segments" else dm.ArrayIndicesType()
    table = dm.ArraySegments() if which == "segments" else dm.ArrayIndices()
    cls = {1: Int32Vector.Int32Vector, 2: Uint16Vector.Uint16Vector, 3: Uint8Vector.Uint8Vector}[kind]
    v = cls()
    v.Init(table.Bytes, table.Pos)
    return v.ValuesAsNumpy().astype(np.int64)


def _collect_sparse(path):
    buf = bytearray(open(path, "rb").read())
    model = Model.GetRootAsModel(buf, 0)
    g = model.Subgraphs(0)
    for i in range(g.TensorsLength()):
        t = g.Tensors(i)
        sp = t.Sparsity()
        if sp is None:
            continue
        shape = t.ShapeAsNumpy().tolist()
        n = sp.DimMetadataLength()
        assert sp.TraversalOrderAsNumpy().tolist() == list(range(len(shape))), "block sparsity unsupported"
        for j in range(n - 1):
            assert sp.DimMetadata(j).Format() == 0
        dm = sp.DimMetadata(n - 1)
        assert dm.Format() == 1
        segments = _index_vector(dm, "segments")
        indices = _index_vector(dm, "indices")
        raw = model.Buffers(t.Buffer()).DataAsNumpy().tobytes()
        dtype = {0: np.float32, 1: np.float16}[t.Type()]
        values = np.frombuffer(raw, dtype=dtype)
        rows = int(np.prod(shape[:-1]))
        dense = np.zeros((rows, shape[-1]), dtype=dtype)
        for r in range(rows):
            for k in range(segments[r], segments[r + 1]):
                dense[r, indices[k]] = values[k]
        _DENSE[raw] = dense.reshape(shape)


_make_ndarray = tflite_utils.tensor_util.MakeNdarray


def _make_ndarray_dense(t):
    if t.tensor_content in _DENSE:
        return _DENSE[t.tensor_content]
    return _make_ndarray(t)


tflite_utils.tensor_util.MakeNdarray = _make_ndarray_dense


@tfl_op("TFL_DENSIFY", tf_op="Identity")
class _Densify:
    @classmethod
    def to_tf(cls, ctx, node, **kwargs):
        pass

MODELS = [
    "pose_detection/pose_detection",
    "pose_landmark/pose_landmark_full",
    "face_detection/face_detection_short_range",
    "face_landmark/face_landmark",
]


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.expanduser("~/.cache/garmax")
    os.makedirs(os.path.join(root, "models"), exist_ok=True)
    for m in MODELS:
        src = os.path.join(root, "assets/mediapipe/modules", m + ".tflite")
        dst = os.path.join(root, "models", os.path.basename(m) + ".onnx")
        _collect_sparse(src)
        sys.argv = ["tf2onnx", "--tflite", src, "--output", dst, "--opset", "13"]
        try:
            tf2onnx.convert.main()
        except SystemExit:
            pass
        print(m, "->", dst, os.path.exists(dst))


if __name__ == "__main__":
    main()

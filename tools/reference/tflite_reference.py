#!/usr/bin/env python3
"""Reference outputs of the TFLite interpreter for garmax-tflite's parity tests.

Dev-only: nothing at run time depends on Python. Run from the repository root:

    python3 -m venv /work/venv-ref   # any venv outside the repo
    /work/venv-ref/bin/pip install ai-edge-litert==2.3.0 numpy
    /work/venv-ref/bin/python tools/reference/tflite_reference.py

Reads the five MediaPipe models from the garmax asset cache
(``$GARMAX_CACHE_DIR`` or ``~/.cache/garmax``, run ``garmax models fetch``
first) and writes ``crates/garmax-tflite/tests/fixtures/``:

* ``<model>.txt``: one line per output,
  ``<name> <shape> <stride> <count> <noise>`` (shape comma-separated, NHWC
  as TFLite declares it; noise = max abs difference between TFLite's XNNPACK
  and builtin kernels on this input, ``-`` when the builtin kernels cannot run
  the model);
* ``<model>.<output index>.f32``: little-endian float32 values
  ``output.flatten()[::stride]``; ``stride`` is 1 for small outputs and > 1
  for the large maps (segmentation logits, heatmaps) to keep fixtures small.

The input is a closed-form synthetic image (see ``pattern``), computed in
float64 and rounded to float32 exactly like the Rust test does, so no RNG is
involved. The interpreter runs with its default resolver (XNNPACK), which
is the one that implements MediaPipe's custom ``Convolution2DTransposeBias``;
for the models without that op the script also records how far XNNPACK is
from TFLite's builtin kernels, a measure of the reference's own float noise.
"""

import os
import sys

import numpy as np
from ai_edge_litert.interpreter import Interpreter, OpResolverType

# (fixture name, path inside the mediapipe wheel, input range lo, hi, scene);
# the ranges are the normalisations MediaPipe's graphs feed each model.
MODELS = [
    ("pose_detection", "mediapipe/modules/pose_detection/pose_detection.tflite", -1.0, 1.0, "body"),
    ("pose_landmark_full", "mediapipe/modules/pose_landmark/pose_landmark_full.tflite", 0.0, 1.0, "body"),
    ("selfie_segmentation", "mediapipe/modules/selfie_segmentation/selfie_segmentation.tflite", 0.0, 1.0, "body"),
    ("face_detection_short_range", "mediapipe/modules/face_detection/face_detection_short_range.tflite", -1.0, 1.0, "face"),
    ("face_landmark", "mediapipe/modules/face_landmark/face_landmark.tflite", 0.0, 1.0, "face"),
]

# Outputs with more elements than this are sampled with a stride.
MAX_FULL = 30000
SAMPLE_STRIDE = 7


def pattern(shape, lo, hi, scene):
    """Closed-form synthetic image in [lo, hi], NHWC, float64 then float32.

    A textured background with a flat-coloured silhouette: a standing person
    (head, torso, arms, legs) for the body models, a face close-up (face,
    eyes, mouth) for the face models. A silhouette makes the models respond
    as on a photo (person presence ~0.73, mask spanning 0..1, face score
    > 0), so every output is exercised in its meaningful range rather than
    saturated. Only +, -, *, / and comparisons decide the shapes, so Rust
    computes bit-identical masks; sin/cos texture differs at most by an ulp.
    """
    n, height, width, ch = shape
    i = np.arange(n * height * width * ch, dtype=np.float64)
    c = i % ch
    w = (i // ch) % width
    h = (i // (ch * width)) % height
    y = h / height
    x = w / width
    bg = 0.35 + 0.15 * np.sin(0.071 * w + 0.9 * c) * np.cos(0.053 * h)
    skin = np.array([0.87, 0.68, 0.55])[c.astype(int)]
    cloth = np.array([0.15, 0.25, 0.6])[c.astype(int)] + 0.05 * np.sin(0.37 * i)
    if scene == "body":
        head = ((x - 0.5) / 0.08) ** 2 + ((y - 0.18) / 0.1) ** 2 <= 1
        torso = (np.abs(x - 0.5) <= 0.15) & (y >= 0.28) & (y <= 0.62)
        legs = (np.abs(np.abs(x - 0.5) - 0.07) <= 0.05) & (y > 0.62) & (y <= 0.95)
        arms = (np.abs(np.abs(x - 0.5) - 0.2) <= 0.04) & (y >= 0.3) & (y <= 0.6)
        v = np.where(head | arms, skin, np.where(torso | legs, cloth, bg))
    else:
        face = ((x - 0.5) / 0.3) ** 2 + ((y - 0.5) / 0.38) ** 2 <= 1
        eyes = (((x - 0.38) / 0.06) ** 2 + ((y - 0.42) / 0.03) ** 2 <= 1) | (
            ((x - 0.62) / 0.06) ** 2 + ((y - 0.42) / 0.03) ** 2 <= 1
        )
        mouth = (np.abs(x - 0.5) <= 0.1) & (np.abs(y - 0.68) <= 0.02)
        v = np.where(eyes | mouth, 0.1, np.where(face, skin, bg))
    return (lo + (hi - lo) * v).astype(np.float32).reshape(shape)


def run(path, x, resolver):
    it = Interpreter(model_path=path, experimental_op_resolver_type=resolver)
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], x)
    it.invoke()
    return [(d["name"], it.get_tensor(d["index"]).copy()) for d in it.get_output_details()]


def main():
    cache = os.environ.get("GARMAX_CACHE_DIR") or os.path.expanduser("~/.cache/garmax")
    out_dir = os.path.join(os.path.dirname(__file__), "..", "..", "crates", "garmax-tflite", "tests", "fixtures")
    os.makedirs(out_dir, exist_ok=True)
    for name, rel, lo, hi, scene in MODELS:
        path = os.path.join(cache, "assets", rel)
        if not os.path.exists(path):
            sys.exit(f"missing {path}: run `garmax models fetch` first")
        it = Interpreter(model_path=path)
        it.allocate_tensors()
        shape = [int(d) for d in it.get_input_details()[0]["shape"]]
        x = pattern(shape, lo, hi, scene)
        outs = run(path, x, OpResolverType.AUTO)
        try:
            builtin = run(path, x, OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
        except RuntimeError as e:  # the custom op only XNNPACK implements
            print(f"{name}: builtin kernels unavailable ({str(e).splitlines()[0]})")
            builtin = None
        lines = []
        for k, (oname, v) in enumerate(outs):
            flat = v.astype(np.float32).ravel()
            stride = 1 if flat.size <= MAX_FULL else SAMPLE_STRIDE
            sample = flat[::stride]
            sample.astype("<f4").tofile(os.path.join(out_dir, f"{name}.{k}.f32"))
            # TFLite's own spread: XNNPACK vs builtin kernels, max abs diff.
            noise = "-" if builtin is None else f"{float(np.abs(v - builtin[k][1]).max()):.6g}"
            lines.append(f"{oname} {','.join(str(d) for d in v.shape)} {stride} {sample.size} {noise}")
            print(
                f"{name}: {oname} {v.shape} range [{flat.min():.4g}, {flat.max():.4g}] "
                f"mean {flat.mean():.4g}; XNNPACK vs builtin max abs diff {noise}"
            )
        with open(os.path.join(out_dir, f"{name}.txt"), "w") as f:
            f.write("\n".join(lines) + "\n")

if __name__ == "__main__":
    main()

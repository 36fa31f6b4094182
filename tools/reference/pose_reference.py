"""Dev-only reference for garmax-person: MediaPipe Python's pose output on
real photos and deterministic synthetic transforms of them, and MediaPipe's
timing on the same images.

Needs a venv with mediapipe==0.10.14 and pillow (never a runtime dependency
of garmax). Usage:

    python tools/reference/pose_reference.py fixtures \
        --cache ~/.cache/garmax --faceapi /tmp/faceapi/package \
        --out crates/garmax-person/tests/fixtures
    taskset -c 0 python tools/reference/pose_reference.py bench --cache ~/.cache/garmax \
        --fixtures crates/garmax-person/tests/fixtures
    python tools/reference/pose_reference.py detections --cache ~/.cache/garmax \
        --fixtures crates/garmax-person/tests/fixtures   # adds the detector's half

Synthetic images are made by `warp()`: bilinear sampling through an affine
map (output pixel -> source pixel, coefficients stored in the fixture), zero
outside, rounded with floor(v + 0.5). The Rust test repeats exactly the same
float64 arithmetic in the same order and checks the FNV-1a hash of the pixels,
so both sides analyse identical images.
"""
import argparse
import json
import math
import os
import time

import numpy as np
from PIL import Image

PHOTOS = {
    # name: (where it comes from, how to load it)
    "astronaut": "cache:assets/skimage/data/astronaut.png",
    "camera": "cache:assets/skimage/data/camera.png",
    # Crop of @vladmandic/face-api 1.7.15 package/demo/sample4.jpg (MIT):
    # x 1200..1920, y 0..1448, Lanczos-resized to 300x603, committed as PNG.
    "faceapi_sample4_crop": "fixture:faceapi_sample4_crop.png",
}


def fnv1a64(data: bytes) -> str:
    h = 0xCBF29CE484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def fnv1a64_np(arr: np.ndarray) -> str:
    # Vectorised enough: process bytes in Python ints but via memoryview.
    return fnv1a64(arr.tobytes())


def load_photo(name, cache, fixtures):
    kind, path = PHOTOS[name].split(":", 1)
    full = os.path.join(cache if kind == "cache" else fixtures, path)
    return np.asarray(Image.open(full).convert("RGB"), dtype=np.uint8)


def affine(in_w, in_h, out_w, out_h, scale=1.0, angle_deg=0.0, tx=0.0, ty=0.0, flip=False):
    """Output pixel -> source pixel: undo shift, rotation (about the output
    centre) and scale, then optionally mirror. Returns 6 float64 coefficients."""
    a = math.radians(angle_deg)
    c, s = math.cos(a), math.sin(a)
    ocx, ocy = (out_w - 1) / 2.0, (out_h - 1) / 2.0
    icx, icy = (in_w - 1) / 2.0, (in_h - 1) / 2.0
    # q = R(-a) (p - oc - t) / scale + ic
    m0, m1 = c / scale, s / scale
    m3, m4 = -s / scale, c / scale
    m2 = icx - m0 * (ocx + tx) - m1 * (ocy + ty)
    m5 = icy - m3 * (ocx + tx) - m4 * (ocy + ty)
    if flip:
        m0, m1, m2 = -m0, -m1, (in_w - 1) - m2
    return [m0, m1, m2, m3, m4, m5]


def warp(src: np.ndarray, m, out_w, out_h) -> np.ndarray:
    h, w, _ = src.shape
    ys, xs = np.mgrid[0:out_h, 0:out_w].astype(np.float64)
    sx = m[0] * xs + m[1] * ys + m[2]
    sy = m[3] * xs + m[4] * ys + m[5]
    x0 = np.floor(sx)
    y0 = np.floor(sy)
    fx = (sx - x0)[..., None]
    fy = (sy - y0)[..., None]
    x0 = x0.astype(np.int64)
    y0 = y0.astype(np.int64)
    srcf = src.astype(np.float64)

    def fetch(x, y):
        ok = (x >= 0) & (y >= 0) & (x < w) & (y < h)
        v = srcf[np.clip(y, 0, h - 1), np.clip(x, 0, w - 1)]
        return np.where(ok[..., None], v, 0.0)

    a = fetch(x0, y0)
    b = fetch(x0 + 1, y0)
    c = fetch(x0, y0 + 1)
    d = fetch(x0 + 1, y0 + 1)
    top = a * (1.0 - fx) + b * fx
    bottom = c * (1.0 - fx) + d * fx
    v = top * (1.0 - fy) + bottom * fy
    return np.floor(v + 0.5).clip(0, 255).astype(np.uint8)


def transforms(w, h):
    """The synthetic cases of one photo: (name, out_w, out_h, kwargs)."""
    return [
        ("identity", w, h, {}),
        ("flip", w, h, {"flip": True}),
        ("scale0.7", w, h, {"scale": 0.7}),
        ("scale1.2", w, h, {"scale": 1.2}),
        ("shift", w, h, {"tx": 0.12 * w, "ty": -0.06 * h, "scale": 0.9}),
        ("rot+30", w, h, {"angle_deg": 30.0, "scale": 0.85}),
        ("rot-30", w, h, {"angle_deg": -30.0, "scale": 0.85}),
        ("rot+15_flip_shift", w, h, {"angle_deg": 15.0, "flip": True, "tx": -0.08 * w, "scale": 0.9}),
        ("wide_canvas", int(w * 1.6), h, {"tx": 0.1 * w}),
        ("tall_canvas", w, int(h * 1.5), {"ty": 0.05 * h, "angle_deg": -8.0}),
        ("rot+20_scale1.1", w, h, {"angle_deg": 20.0, "scale": 1.1, "ty": 0.05 * h}),
    ]


def rle(mask: np.ndarray):
    flat = mask.reshape(-1).astype(np.uint8)
    counts = []
    current, run = 0, 0
    for v in flat:
        if v == current:
            run += 1
        else:
            counts.append(run)
            current, run = v, 1
    counts.append(run)
    return counts


def rle_fast(mask: np.ndarray):
    flat = mask.reshape(-1).astype(np.int8)
    change = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.concatenate([[0], change, [flat.size]])
    counts = np.diff(bounds).tolist()
    if flat.size and flat[0] == 1:
        counts = [0] + counts
    return counts


def run_mediapipe(img: np.ndarray):
    """MediaPipe's pose graph on one image, twice, in video mode without
    smoothing: frame 0 is exactly the static-image result (the detector runs);
    frame 1 is the tracking result, the landmark model on the ROI that frame
    0's landmarks define (`pose_rect_from_landmarks`, recorded too). garmax's
    refine pass is that second step.

    Returns (static, tracking) references, or (None, None) without a person.
    """
    from mediapipe.python.solution_base import SolutionBase

    # Same graph and side packets as mp.solutions.pose.Pose(model_complexity=1,
    # enable_segmentation=True, smooth_landmarks=False, smooth_segmentation=False),
    # plus the ROI output. A fresh graph per image: no state carries over.
    graph = SolutionBase(
        binary_graph_path="mediapipe/modules/pose_landmark/pose_landmark_cpu.binarypb",
        side_inputs={
            "model_complexity": 1,
            "smooth_landmarks": False,
            "enable_segmentation": True,
            "smooth_segmentation": False,
            "use_prev_landmarks": True,
        },
        outputs=[
            "pose_landmarks",
            "pose_world_landmarks",
            "segmentation_mask",
            "pose_rect_from_landmarks",
            "pose_detection",
            "pose_rect_from_detection",
        ],
    )
    try:
        first = graph.process({"image": img})
        static = _result(img, first)
        if static is None:
            return None, None
        r = first.pose_rect_from_landmarks
        static["tracking_roi"] = [r.x_center, r.y_center, r.width, r.height, r.rotation]
        static.update(_detection(first))
        tracking = _result(img, graph.process({"image": img}))
        return static, tracking
    finally:
        graph.close()


def _detection(res):
    """The detector's best person (score; relative box xmin, ymin, w, h; the
    relative keypoints) and the ROI MediaPipe derives from it."""
    d = res.pose_detection
    b = d.location_data.relative_bounding_box
    r = res.pose_rect_from_detection
    return {
        "detection": {
            "score": d.score[0],
            "box": [b.xmin, b.ymin, b.width, b.height],
            "keypoints": [[k.x, k.y] for k in d.location_data.relative_keypoints],
        },
        "detection_roi": [r.x_center, r.y_center, r.width, r.height, r.rotation],
    }


def cmd_detections(args):
    """Adds `detection` and `detection_roi` to every case of an existing
    fixture, on the images rebuilt from its matrices, leaving the rest as is."""
    from mediapipe.python.solution_base import SolutionBase

    path = os.path.join(args.fixtures, "pose_reference.json")
    doc = json.load(open(path))
    photos = {name: load_photo(name, args.cache, args.fixtures) for name in doc["photos"]}
    for case in doc["cases"]:
        if not case["reference"]:
            continue
        ow, oh = case["out_size"]
        img = warp(photos[case["photo"]], case["matrix"], ow, oh)
        assert fnv1a64_np(img) == case["fnv1a64"], case["name"]
        graph = SolutionBase(
            binary_graph_path="mediapipe/modules/pose_landmark/pose_landmark_cpu.binarypb",
            side_inputs={
                "model_complexity": 1,
                "smooth_landmarks": False,
                "enable_segmentation": True,
                "smooth_segmentation": False,
                "use_prev_landmarks": True,
            },
            outputs=["pose_landmarks", "pose_detection", "pose_rect_from_detection"],
        )
        try:
            case["reference"].update(_detection(graph.process({"image": img})))
        finally:
            graph.close()
        print(case["name"], case["reference"]["detection_roi"])
    with open(path, "w") as f:
        json.dump(doc, f, separators=(",", ":"))


def _result(img, res):
    if res.pose_landmarks is None:
        return None
    h, w, _ = img.shape
    lms = [
        [l.x * w, l.y * h, l.z * w, l.visibility, l.presence]
        for l in res.pose_landmarks.landmark
    ]
    world = [[l.x, l.y, l.z] for l in res.pose_world_landmarks.landmark]
    mask = res.segmentation_mask > 0.5
    return {"landmarks": lms, "world": world, "mask_rle": rle_fast(mask)}


def cmd_fixtures(args):
    os.makedirs(args.out, exist_ok=True)
    # The third photo: crop + resize of the npm package's sample, committed.
    s4 = Image.open(os.path.join(args.faceapi, "demo/sample4.jpg")).convert("RGB")
    s4.crop((1200, 0, 1920, 1448)).resize((300, 603), Image.LANCZOS).save(
        os.path.join(args.out, "faceapi_sample4_crop.png"), optimize=True
    )
    cases = []
    for name in PHOTOS:
        src = load_photo(name, args.cache, args.out)
        h, w, _ = src.shape
        for tname, ow, oh, kw in transforms(w, h):
            m = affine(w, h, ow, oh, **kw)
            img = warp(src, m, ow, oh)
            t = time.time()
            ref, tracking = run_mediapipe(img)
            print(f"{name}/{tname}: {ow}x{oh} {'person' if ref else 'NO PERSON'} {1e3 * (time.time() - t):.0f} ms")
            if args.save_images:
                Image.fromarray(img).save(os.path.join(args.save_images, f"{name}_{tname}.png"))
            cases.append(
                {
                    "name": f"{name}/{tname}",
                    "photo": name,
                    "matrix": m,
                    "out_size": [ow, oh],
                    "fnv1a64": fnv1a64_np(img),
                    "reference": ref,
                    "reference_tracking": tracking,
                }
            )
    # Face mesh reference on the untransformed photos: MediaPipe FaceMesh
    # (short-range detector on the whole image, 468 points, no iris refine).
    import mediapipe as mp

    face_mesh = {}
    for name in PHOTOS:
        img = load_photo(name, args.cache, args.out)
        h, w, _ = img.shape
        with mp.solutions.face_mesh.FaceMesh(static_image_mode=True, max_num_faces=1, refine_landmarks=False) as fm:
            res = fm.process(img)
        face_mesh[name] = (
            [[l.x * w, l.y * h, l.z * w] for l in res.multi_face_landmarks[0].landmark]
            if res.multi_face_landmarks
            else None
        )
        print(f"face mesh {name}: {'found' if face_mesh[name] else 'none'}")
    doc = {
        "generator": "tools/reference/pose_reference.py",
        "face_mesh": face_mesh,
        "mediapipe": "0.10.14 pose_landmark_cpu graph as solutions.pose(model_complexity=1, enable_segmentation=True, no smoothing): reference = static-image result (frame 0), reference_tracking = frame 1 on the ROI from frame 0 landmarks (reference.tracking_roi)",
        "photos": PHOTOS,
        "landmarks_units": "pixels of the transformed image; z scaled by width; visibility, presence",
        "mask_rle": "row-major runs of (MediaPipe mask > 0.5), starting with a run of zeros",
        "cases": cases,
    }
    with open(os.path.join(args.out, "pose_reference.json"), "w") as f:
        json.dump(doc, f, separators=(",", ":"))


def cmd_bench(args):
    import mediapipe as mp

    doc = json.load(open(os.path.join(args.fixtures, "pose_reference.json")))
    results = {}
    # The same images `garmax bench pose` / the Rust bench example time: the
    # untransformed photos.
    with mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1, enable_segmentation=True) as pose:
        for name in doc["photos"]:
            img = load_photo(name, args.cache, args.fixtures)
            pose.process(img)
            times = []
            for _ in range(args.repeats):
                t = time.perf_counter()
                pose.process(img)
                times.append((time.perf_counter() - t) * 1e3)
            times.sort()
            results[name] = {
                "median_ms": times[len(times) // 2],
                "mean_ms": sum(times) / len(times),
                "min_ms": times[0],
            }
            r = results[name]
            print(f"mediapipe {name}: median {r['median_ms']:.1f} ms, mean {r['mean_ms']:.1f} ms, min {r['min_ms']:.1f} ms")
    print(json.dumps(results))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fixtures")
    f.add_argument("--cache", default=os.path.expanduser("~/.cache/garmax"))
    f.add_argument("--faceapi", required=True, help="extracted npm package dir of @vladmandic/face-api@1.7.15")
    f.add_argument("--out", required=True)
    f.add_argument("--save-images", default=None)
    b = sub.add_parser("bench")
    b.add_argument("--cache", default=os.path.expanduser("~/.cache/garmax"))
    b.add_argument("--fixtures", required=True)
    b.add_argument("--repeats", type=int, default=20)
    d = sub.add_parser("detections")
    d.add_argument("--cache", default=os.path.expanduser("~/.cache/garmax"))
    d.add_argument("--fixtures", required=True)
    args = p.parse_args()
    {"fixtures": cmd_fixtures, "bench": cmd_bench, "detections": cmd_detections}[args.cmd](args)


if __name__ == "__main__":
    main()

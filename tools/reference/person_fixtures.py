#!/usr/bin/env python3
"""Dev-only: writes the person fixtures of `garmax-render`'s tests.

For each packaged person photo (optionally cropped to one person) this runs
MediaPipe Pose 0.10.14 (static image mode, full model, segmentation on) and
writes, under crates/garmax-render/tests/fixtures/:

  <id>.json      source asset, crop box, image size, 33 image landmarks
                 (pixels of the crop), 33 world landmarks (metres)
  <id>_mask.png  the person mask (0/255) at the crop's resolution

MediaPipe is the reference implementation the Rust person analysis is
compared against; it is never a runtime dependency. Run with a venv that has
`mediapipe==0.10.14` (e.g. /work/venv-ref):

  /work/venv-ref/bin/python tools/reference/person_fixtures.py
"""

import json
import os
import sys

import numpy as np
from PIL import Image
import mediapipe as mp

CACHE = os.environ.get("GARMAX_CACHE_DIR", os.path.expanduser("~/.cache/garmax"))
ASSETS = os.path.join(CACHE, "assets")
OUT = os.path.join(os.path.dirname(__file__), "..", "..", "crates", "garmax-render", "tests", "fixtures")

# id, asset, crop [x, y, w, h] in source pixels (None = whole photo).
PEOPLE = [
    ("astronaut", "skimage/data/astronaut.png", None),
    ("camera", "skimage/data/camera.png", None),
    ("s6_olive", "face-api/package/demo/sample6.jpg", [100, 320, 660, 1217]),
    ("s6_green", "face-api/package/demo/sample6.jpg", [1360, 120, 560, 1417]),
    ("s6_wine", "face-api/package/demo/sample6.jpg", [580, 180, 500, 1357]),
    ("s1_medic", "face-api/package/demo/sample1.jpg", [1180, 160, 740, 1120]),
]


def main() -> int:
    os.makedirs(OUT, exist_ok=True)
    pose = mp.solutions.pose.Pose(
        static_image_mode=True, model_complexity=1, enable_segmentation=True, min_detection_confidence=0.5
    )
    for pid, asset, crop in PEOPLE:
        image = Image.open(os.path.join(ASSETS, asset)).convert("RGB")
        if crop is not None:
            x, y, w, h = crop
            image = image.crop((x, y, x + w, y + h))
        rgb = np.asarray(image)
        res = pose.process(rgb)
        if res.pose_landmarks is None:
            print(f"{pid}: no person found", file=sys.stderr)
            continue
        w, h = image.size
        lms = [
            {"x": l.x * w, "y": l.y * h, "z": l.z * w, "visibility": l.visibility, "presence": getattr(l, "presence", 1.0)}
            for l in res.pose_landmarks.landmark
        ]
        world = [[l.x, l.y, l.z] for l in res.pose_world_landmarks.landmark]
        doc = {
            "source": asset,
            "crop": crop,
            "landmarks": {"image_size": [w, h], "image": lms, "world": world},
        }
        with open(os.path.join(OUT, f"{pid}.json"), "w") as f:
            json.dump(doc, f, indent=1)
        mask = (res.segmentation_mask > 0.5).astype(np.uint8) * 255
        Image.fromarray(mask, "L").save(os.path.join(OUT, f"{pid}_mask.png"), optimize=True)
        print(f"{pid}: {w}x{h}, shoulders vis {lms[11]['visibility']:.2f}/{lms[12]['visibility']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

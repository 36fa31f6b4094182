"""Dev-only: side-by-side CPU time per image of MediaPipe Python and garmax's
pose pipeline, both pinned to one core, robust to a busy shared machine
(wall time is not: other processes' load inflates it by 20-50 %).

Each side runs its benchmark with 10 and with 40 repeats; the difference of
the child processes' CPU time over the 3 photos x 30 extra analyses is the
cost of one analysis, free of start-up (model loading, imports). Best of
`--rounds` rounds per side.

    cargo build --release -p garmax-person --example bench_pose
    python tools/reference/pose_bench_cputime.py --python /work/venv-ref/bin/python
"""
import argparse
import resource
import subprocess


def cpu_seconds(cmd):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--python", default="python")
    p.add_argument("--core", default="0")
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    pin = ["taskset", "-c", args.core]
    sides = {
        "mediapipe": pin + [args.python, "tools/reference/pose_reference.py", "bench",
                            "--fixtures", "crates/garmax-person/tests/fixtures", "--repeats"],
        "garmax": pin + ["./target/release/examples/bench_pose", "--equivalent-only"],
    }
    best = {}
    for name, cmd in sides.items():
        per_image = []
        for _ in range(args.rounds):
            lo = cpu_seconds(cmd + ["10"])
            hi = cpu_seconds(cmd + ["40"])
            per_image.append((hi - lo) / (3 * 30) * 1e3)
        best[name] = min(per_image)
        print(f"{name}: CPU ms per image {', '.join(f'{v:.1f}' for v in per_image)} (best {best[name]:.1f})")
    print(f"ratio garmax / mediapipe: {best['garmax'] / best['mediapipe']:.2f}")


if __name__ == "__main__":
    main()

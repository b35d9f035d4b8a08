"""Benchmark: what reading each hostile upload of issue 20 costs (prints figures; not a test).

    OMP_NUM_THREADS=1 python tests/bench/bench_hostile_images.py [--code /path/to/another/checkout]

Each upload (tests/zoo/hostile_uploads.py) is read by the function the pages call on it, in a fresh
process with one thread, with the default limits; printed: the upload's size, the read's wall time,
the process's peak memory and how far the read raised it, and the outcome. The last line is the
whole of what the ResNet page does with a zip (read, then each image cleaned to 28x28), once: a
rerun reuses it (`zoo.ui.from_upload`). `--code` reads with
another checkout's zoo/ (e.g. a worktree at main) to compare before and after.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.zoo.hostile_uploads import (REPOSITORY, deep_png, float_tiff, measure, phone_jpeg,  # noqa: E402
                                       zip_of_huge_pngs, zip_of_many_pngs)

UPLOADS = [
    ("16-bit PNG ramp, 6300x6300", "load_image", "ramp.png", deep_png),
    ("16-bit PNG ramp, 4000x4000", "load_image", "ramp.png", lambda: deep_png(4000)),
    ("float TIFF ramp, 6300x6300", "load_image", "ramp.tif", float_tiff),
    ("float TIFF ramp, 4000x4000", "load_image", "ramp.tif", lambda: float_tiff(4000)),
    ("phone JPEG, 4032x3024", "load_image", "phone.jpg", phone_jpeg),
    ("progressive phone JPEG, 8000x6000", "load_image", "phone48.jpg", lambda: phone_jpeg(8000, 6000, True)),
    ("zip of 20 PNGs of 6000x6000", "read_class_folders", "huge.zip", zip_of_huge_pngs),
    ("zip of 60 PNGs of 3500x3500", "read_class_folders", "huge.zip", lambda: zip_of_huge_pngs(60, 3500)),
    ("zip of 2,000 PNGs of 512x512", "read_class_folders", "many.zip", zip_of_many_pngs),
    ("the same, made into 28x28 pictures", "class_arrays", "many.zip", zip_of_many_pngs),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", type=Path, default=REPOSITORY, help="the checkout whose zoo/ reads the uploads")
    code = parser.parse_args().code.resolve()
    print(f"reading with {code}")
    for label, call, name, build in UPLOADS:
        data = build()
        cost = measure(call, data, name, cwd=code)
        print(f"{label} ({len(data) / 1024:,.0f} KB): {cost.seconds:.2f} s, peak {cost.peak_mb:,.0f} MB "
              f"(+{cost.extra_mb:,.0f} MB) -> {cost.outcome}")


if __name__ == "__main__":
    main()

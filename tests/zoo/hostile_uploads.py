"""Small uploads that decode to huge images (issue 20), and a way to measure what reading one costs.

Each builder returns the bytes a visitor could upload; `measure` reads them as the page does in a
fresh Python process and returns its wall time and peak memory, so one test's garbage cannot hide
another's peak. Shared by tests/zoo/test_upload_budgets.py and tests/bench/bench_hostile_images.py.
"""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

REPOSITORY = Path(__file__).resolve().parents[2]


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def deep_png(side: int = 6300) -> bytes:
    """A 16-bit greyscale PNG of a left-to-right ramp, side x side: every row alike, so it compresses ~1000:1."""
    row = np.linspace(0, 65535, side).astype(np.uint16)
    return encode(Image.fromarray(np.broadcast_to(row, (side, side)).copy()), "PNG")


def float_tiff(side: int = 6300) -> bytes:
    """A 32-bit float TIFF of a top-to-bottom ramp, side x side, deflated with a predictor."""
    column = np.linspace(-1, 1, side, dtype=np.float32)[:, None]
    return encode(Image.fromarray(np.broadcast_to(column, (side, side)).copy()), "TIFF",
                  compression="tiff_adobe_deflate")


def zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path, data in members.items():
            archive.writestr(path, data)
    return buffer.getvalue()


def zip_of_huge_pngs(count: int = 20, side: int = 6000) -> bytes:
    """`count` black side x side PNGs in two class folders: each decodes to 36 MP, the zip is a few KB."""
    png = encode(Image.new("L", (side, side)), "PNG", optimize=True)
    return zip_of({f"{('cat', 'dog')[k % 2]}/{k}.png": png for k in range(count)})


def zip_of_many_pngs(count: int = 2000, side: int = 512) -> bytes:
    """`count` side x side RGB PNGs, a white square on grey, in two class folders: the most files a zip may hold."""
    image = Image.new("RGB", (side, side), (90, 90, 90))
    image.paste((250, 250, 250), (side // 4, side // 4, 3 * side // 4, 3 * side // 4))
    png = encode(image, "PNG", optimize=True)
    return zip_of({f"{('cat', 'dog')[k % 2]}/{k}.png": png for k in range(count)})


def phone_jpeg(width: int = 4032, height: int = 3024, progressive: bool = False) -> bytes:
    """A photo-sized JPEG of a light garment-like rectangle on a shaded table, as a phone takes it."""
    table = Image.linear_gradient("L").point(lambda v: 110 + v // 3).resize((width, height), Image.Resampling.BILINEAR)
    table.paste(235, (3 * width // 10, height // 6, 7 * width // 10, 5 * height // 6))
    return encode(Image.merge("RGB", (table, table, table.point(lambda v: v * 9 // 10))), "JPEG",
                  quality=90, progressive=progressive)


CALLS = {
    "load_image": "from zoo.uploads import load_image as read",
    "read_class_folders": "from zoo.uploads import read_class_folders as read",
    "class_arrays": """
from models.resnet.transfer import class_arrays
from zoo.uploads import read_class_folders


def read(data, name):
    folders = read_class_folders(data, name)
    class_arrays(folders)
    return folders
""",
}
"""how the measured process reads the upload: the function the pages call on it (`class_arrays`: a zip
read and made into the 28x28 pictures the ResNet page trains on)"""

_CHILD = """
import json, sys, time
{reader}
from zoo.uploads import UploadError


def peak_mb():
    status = open("/proc/self/status").read()
    return int(status.split("VmHWM:")[1].split()[0]) / 1024


data = open(sys.argv[1], "rb").read()
before = peak_mb()
started = time.perf_counter()
try:
    result = read(data, sys.argv[2])
    images = result.images if hasattr(result, "images") else [result]
    outcome = f"{{len(images)}} image(s), largest {{max(max(im.size) for im in images)}} px a side"
except UploadError as error:
    outcome = f"UploadError: {{error}}"
seconds = time.perf_counter() - started
peak = peak_mb()
print(json.dumps({{"seconds": seconds, "peak_mb": peak, "extra_mb": peak - before,
                   "outcome": outcome}}))
"""


@dataclass(frozen=True)
class Cost:
    """What reading one upload cost a fresh process."""
    seconds: float
    """wall time of the read alone (imports excluded)"""
    peak_mb: float
    """the process's peak resident memory, imports included: VmHWM, since ru_maxrss keeps the forking
    parent's resident size across exec and so would count the test's own memory"""
    extra_mb: float
    """how far the read raised that peak above the peak after the imports"""
    outcome: str
    """"UploadError: <message>" or a description of the images read"""


def measure(call: str, data: bytes, name: str, env: dict[str, str] | None = None, cwd: Path = REPOSITORY) -> Cost:
    """Read `data` with `CALLS[call]` in a fresh Python process (one thread, code from `cwd`) and return its cost."""
    with tempfile.NamedTemporaryFile(suffix=Path(name).suffix) as upload:
        upload.write(data)
        upload.flush()
        child = subprocess.run(
            [sys.executable, "-c", _CHILD.format(reader=CALLS[call]), upload.name, name],
            capture_output=True, text=True, cwd=cwd, timeout=300,
            env={**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(cwd), **(env or {})})
    if child.returncode != 0:
        raise RuntimeError(f"reading {name} crashed the process:\n{child.stderr[-2000:]}")
    return Cost(**json.loads(child.stdout.strip().splitlines()[-1]))

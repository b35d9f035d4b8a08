"""Upload validation: every image mode converts, every bad upload gives one clear UploadError,
and zips of class folders are read in memory without trusting their paths or sizes."""
from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib

import numpy as np
import pytest
from PIL import Image

from zoo.uploads import ClassFolders, UploadError, load_image, read_class_folders


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def noise_png(side: int = 64, seed: int = 0) -> bytes:
    """A PNG that barely compresses, so truncating it cuts into the pixel data."""
    pixels = np.random.default_rng(seed).integers(0, 256, (side, side, 3), dtype=np.uint8)
    return encode(Image.fromarray(pixels), "PNG")


def small_png(colour: str = "red") -> bytes:
    return encode(Image.new("RGB", (8, 6), colour), "PNG")


def make_zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, data in members.items():
            archive.writestr(path, data)
    return buffer.getvalue()


# --- load_image: every mode comes back as RGB or L ---------------------------------------

def test_png_loads_as_rgb():
    image = load_image(small_png(), "red.png")
    assert image.mode == "RGB" and image.size == (8, 6)
    assert image.getpixel((0, 0)) == (255, 0, 0)


def test_jpeg_exif_orientation_is_applied():
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 degrees clockwise to display
    data = encode(Image.new("RGB", (40, 20), "blue"), "JPEG", exif=exif.tobytes())
    image = load_image(data, "phone.jpg")
    assert image.size == (20, 40)


def test_rgba_is_composited_on_white():
    rgba = Image.new("RGBA", (4, 4), (255, 0, 0, 0))
    rgba.putpixel((0, 0), (255, 0, 0, 255))
    image = load_image(encode(rgba, "PNG"))
    assert image.mode == "RGB"
    assert image.getpixel((1, 1)) == (255, 255, 255)
    assert image.getpixel((0, 0)) == (255, 0, 0)


def test_palette_transparency_is_composited_on_white():
    palette = Image.new("P", (4, 4), 0)
    palette.putpalette([0, 0, 0, 0, 0, 255] + [0] * 762)
    palette.putpixel((0, 0), 1)
    image = load_image(encode(palette, "PNG", transparency=0))
    assert image.mode == "RGB"
    assert image.getpixel((2, 2)) == (255, 255, 255)
    assert image.getpixel((0, 0)) == (0, 0, 255)


def test_16_bit_greyscale_is_scaled_not_clipped():
    ramp = np.linspace(0, 65535, 256).astype(np.uint16).reshape(1, 256).repeat(4, axis=0)
    image = load_image(encode(Image.fromarray(ramp), "PNG"), "scan.png")
    values = np.asarray(image)
    assert image.mode == "L"
    assert values.min() == 0 and values.max() == 255
    assert 120 <= values[0, 128] <= 135  # clipping would have made the middle white
    assert np.all(np.diff(values[0].astype(int)) >= 0)


def test_cmyk_jpeg_converts_to_rgb():
    data = encode(Image.new("CMYK", (8, 8), (0, 255, 255, 0)), "JPEG")
    image = load_image(data, "print.jpg")
    red, green, blue = image.getpixel((4, 4))
    assert image.mode == "RGB" and red > 200 and green < 60 and blue < 60


def test_animated_gif_gives_its_first_frame():
    frames = [Image.new("RGB", (6, 6), colour) for colour in ("red", "lime", "blue")]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    image = load_image(data, "anim.gif")
    assert image.mode == "RGB" and getattr(image, "n_frames", 1) == 1
    assert image.getpixel((3, 3)) == (255, 0, 0)


@pytest.mark.parametrize(
    "mode, fmt", [("1", "PNG"), ("LA", "PNG"), ("F", "TIFF"), ("RGB", "WEBP"), ("L", "BMP")]
)
def test_other_modes_become_rgb_or_l(mode, fmt):
    image = load_image(encode(Image.new(mode, (5, 5)), fmt), f"x.{fmt.lower()}")
    assert image.mode in ("RGB", "L") and image.size == (5, 5)


# --- load_image: bad uploads --------------------------------------------------------------

def test_empty_file_is_refused():
    with pytest.raises(UploadError, match="empty"):
        load_image(b"", "nothing.png")


@pytest.mark.parametrize("data", [random.Random(0).randbytes(500), b"hello, this is text\n" * 10])
def test_non_images_are_refused_naming_the_accepted_formats(data):
    with pytest.raises(UploadError, match=r"notes\.txt is not an image format we accept \(PNG, JPEG"):
        load_image(data, "notes.txt")


@pytest.mark.parametrize("fmt", ["ICO", "PPM"])
def test_unsupported_image_formats_are_refused(fmt):
    with pytest.raises(UploadError, match="format we accept"):
        load_image(encode(Image.new("RGB", (16, 16)), fmt), f"icon.{fmt.lower()}")


def test_truncated_png_is_refused():
    data = noise_png()
    with pytest.raises(UploadError, match="truncated"):
        load_image(data[: len(data) * 2 // 3], "cut.png")


def test_file_over_the_byte_limit_is_refused(monkeypatch):
    monkeypatch.setenv("ZOO_MAX_UPLOAD_MB", "0.001")
    with pytest.raises(UploadError, match="limit"):
        load_image(noise_png(), "big.png")


def with_declared_size(png: bytes, width: int, height: int) -> bytes:
    """Rewrite a PNG's IHDR so its header claims another size (and fix the chunk's CRC)."""
    ihdr = b"IHDR" + struct.pack(">II", width, height) + png[24:29]
    return png[:12] + ihdr + struct.pack(">I", zlib.crc32(ihdr)) + png[33:]


@pytest.mark.parametrize("side", [7_000, 100_000])  # over our limit; over PIL's own bomb limit
def test_decompression_bomb_is_refused_from_the_header(side):
    bomb = with_declared_size(encode(Image.new("L", (1, 1)), "PNG"), side, side)
    with pytest.raises(UploadError, match="pixels"):
        load_image(bomb, "bomb.png")


def test_pixel_limit_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("ZOO_MAX_PIXELS", "100")
    with pytest.raises(UploadError, match="pixels"):
        load_image(encode(Image.new("RGB", (20, 20)), "PNG"), "photo.png")


def test_bad_limit_setting_is_reported(monkeypatch):
    monkeypatch.setenv("ZOO_MAX_PIXELS", "lots")
    with pytest.raises(ValueError, match="ZOO_MAX_PIXELS"):
        load_image(small_png())


# --- read_class_folders -------------------------------------------------------------------

def test_zip_with_top_level_class_folders_skips_junk():
    data = make_zip({
        "dog/": b"",
        "dog/a.png": small_png("white"),
        "cat/b.png": small_png("black"),
        "cat/a.PNG": small_png("red"),
        "__MACOSX/cat/._a.PNG": b"\x00\x05\x16\x07junk",
        "cat/.DS_Store": b"junk",
        "dog/._a.png": b"junk",
        "dog/Thumbs.db": b"junk",
    })
    folders = read_class_folders(data)
    assert isinstance(folders, ClassFolders)
    assert folders.classes == ["cat", "dog"]
    assert folders.labels == [0, 0, 1]
    assert [image.getpixel((0, 0)) for image in folders.images] == [76, 0, 255]  # kept in grey: red is 76


def test_zip_with_one_common_root_folder():
    data = make_zip({"pets/cat/1.png": small_png(), "pets/dog/1.png": small_png(), "pets/.DS_Store": b"x"})
    folders = read_class_folders(data, "pets.zip")
    assert folders.classes == ["cat", "dog"] and folders.labels == [0, 1]


@pytest.mark.parametrize("data", [b"", b"not a zip at all", noise_png()])
def test_not_a_zip_is_refused(data):
    with pytest.raises(UploadError, match="not a zip"):
        read_class_folders(data, "photos.zip")


def test_empty_zip_is_refused():
    with pytest.raises(UploadError, match="no images"):
        read_class_folders(make_zip({"__MACOSX/._x": b"x", "cat/": b""}))


def test_one_class_is_refused_naming_it():
    with pytest.raises(UploadError, match="needs at least 2 classes, found 1: cat"):
        read_class_folders(make_zip({"cat/1.png": small_png(), "cat/2.png": small_png()}))


def test_too_many_classes_are_refused():
    members = {f"class{k:02d}/1.png": small_png() for k in range(11)}
    with pytest.raises(UploadError, match="11 class folders; at most 10"):
        read_class_folders(make_zip(members))


def test_too_few_images_in_a_class_are_refused():
    data = make_zip({"cat/1.png": small_png(), "cat/2.png": small_png(), "dog/1.png": small_png()})
    with pytest.raises(UploadError, match="'dog'.*1 image;"):
        read_class_folders(data, min_per_class=2)


@pytest.mark.parametrize(
    "path", ["../evil.png", "cat/../../evil.png", "/etc/x.png", "C:/x.png", "cat\\..\\x.png"]
)
def test_escaping_paths_reject_the_whole_zip(path):
    data = make_zip({"cat/1.png": small_png(), "dog/1.png": small_png(), path: small_png()})
    with pytest.raises(UploadError, match="outside the zip") as caught:
        read_class_folders(data)
    assert path in str(caught.value)


def test_encrypted_member_is_refused():
    data = bytearray(make_zip({"cat/1.png": small_png(), "dog/1.png": small_png()}))
    central = data.find(b"PK\x01\x02")
    data[central + 8] |= 0x1  # general purpose flag bit 0: encrypted
    with pytest.raises(UploadError, match="password"):
        read_class_folders(bytes(data))


def test_non_image_member_is_named():
    data = make_zip({"cat/1.png": small_png(), "dog/1.png": small_png(), "dog/notes.txt": b"hi"})
    with pytest.raises(UploadError, match=r"dog/notes\.txt .*not an image"):
        read_class_folders(data)


def test_image_outside_class_folders_is_refused():
    data = make_zip({"cat/1.png": small_png(), "dog/1.png": small_png(), "stray.png": small_png()})
    with pytest.raises(UploadError, match=r"stray\.png .*outside any class folder"):
        read_class_folders(data)


def test_image_in_a_sub_folder_is_refused():
    data = make_zip({"cat/1.png": small_png(), "dog/old/1.png": small_png()})
    with pytest.raises(UploadError, match="sub-folder"):
        read_class_folders(data)


def test_corrupted_image_member_is_named():
    broken = noise_png()[:300]
    data = make_zip({"cat/1.png": small_png(), "dog/1.png": broken})
    with pytest.raises(UploadError, match=r"In upload\.zip: dog/1\.png is damaged"):
        read_class_folders(data)


def test_too_many_files_are_refused_before_reading(monkeypatch):
    monkeypatch.setenv("ZOO_MAX_ZIP_FILES", "3")
    members = {f"{kind}/{k}.png": small_png() for kind in ("cat", "dog") for k in range(2)}
    with pytest.raises(UploadError, match="4 files; the limit is 3"):
        read_class_folders(make_zip(members))


def test_too_large_unpacked_size_is_refused_before_reading(monkeypatch):
    monkeypatch.setenv("ZOO_MAX_ZIP_MB", "0.01")
    members = {"cat/1.png": noise_png(seed=1), "dog/1.png": noise_png(seed=2)}
    with pytest.raises(UploadError, match="unpacks to .* the limit"):
        read_class_folders(make_zip(members))

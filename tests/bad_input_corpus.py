"""The bad-input corpus used by test_bad_inputs.py: messy files, arrays and damaged checkpoints, each with the
outcome it must have (an image of a given size and mode, or a ColorizationError whose message matches)."""

from __future__ import annotations

import io
import json
import re
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data

import colorize_hub
from conftest import build_tiny

GOOD = "good"  # the checkpoint every image case uses


# ---------------------------------------------------------------- input makers (each writes into a folder)
def _photo(size=(40, 30)) -> Image.Image:
    return Image.fromarray(data.camera()).resize(size)


def _save(image: Image.Image, name: str, **options) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        image.save(folder / name, **options)
        return folder / name
    return make


def _bytes(content: bytes, name: str) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        (folder / name).write_bytes(content)
        return folder / name
    return make


def _truncated(fmt: str, name: str) -> Callable[[Path], Path]:
    buffer = io.BytesIO()
    Image.fromarray(data.astronaut()).save(buffer, format=fmt)
    return _bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2], name)


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _bilevel_png(width: int, height: int, name: str) -> Callable[[Path], Path]:
    """A real, complete 1-bit PNG of width x height zeros: a few hundred kB that decode to width*height pixels."""
    def make(folder: Path) -> Path:
        row = b"\0" * (1 + (width + 7) // 8)  # filter byte + packed bits
        compressor, parts = zlib.compressobj(9), []
        for _ in range(height // 1000):
            parts.append(compressor.compress(row * 1000))
        parts.append(compressor.compress(row * (height % 1000)) + compressor.flush())
        ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
        content = b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", b"".join(parts))
        (folder / name).write_bytes(content + _png_chunk(b"IEND", b""))
        return folder / name
    return make


def _animated_gif(folder: Path) -> Path:
    frames = [_photo(), Image.new("L", (40, 30), 255)]
    frames[0].save(folder / "animated.gif", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return folder / "animated.gif"


def _exif_rotated(folder: Path) -> Path:
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display": a 40x30 sensor image is shown 30x40
    _photo().save(folder / "rotated.jpg", exif=exif)
    return folder / "rotated.jpg"


def _palette_transparency(folder: Path) -> Path:
    image = _photo().convert("P")
    image.info["transparency"] = int(np.asarray(image)[0, 0])
    image.save(folder / "palette.png")
    return folder / "palette.png"


def _float_tiff(value: float, name: str) -> Callable[[Path], Path]:
    array = np.asarray(_photo(), dtype=np.float32) / 255
    array[3, 4] = value
    return _save(Image.fromarray(array, "F"), name)


def _array(array: np.ndarray) -> Callable[[Path], np.ndarray]:
    return lambda folder: array


def _good_photo(folder: Path) -> Path:
    path = folder / "photo.png"
    if not path.exists():
        _photo().save(path)
    return path


# ---------------------------------------------------------------- checkpoint makers
def _checkpoint(folder: Path, damage: str | None = None) -> Path:
    """A tiny checkpoint folder, maybe damaged the way downloads and hand copies get damaged."""
    if damage == "missing":
        return folder / "no-such-checkpoint"
    model = build_tiny("colorizer-baseline")
    model.save_pretrained(folder)
    colorize_hub.ColorizationImageProcessor(render_size=64).save_pretrained(folder)
    weights, config = folder / "model.safetensors", folder / "config.json"
    if damage == "corrupt":
        weights.write_bytes(weights.read_bytes()[:200] + b"\xff" * 50)
    elif damage == "unknown_type":
        config.write_text(json.dumps({**json.loads(config.read_text()), "model_type": "not-a-colorizer"}))
    elif damage == "pickle":
        weights.unlink()
        torch.save(model.state_dict(), folder / "pytorch_model.bin")
    elif damage == "no_weights":
        weights.unlink()
    elif damage == "bad_json":
        config.write_text('{"model_type": "colorizer-baseline",')
    elif damage == "wrong_weights":
        from safetensors.torch import save_file

        save_file({k: v.contiguous() for k, v in build_tiny("colorizer-cunet").state_dict().items()}, weights)
    return folder


@dataclass(frozen=True)
class Case:
    name: str
    make: Callable[[Path], Path | np.ndarray]
    error: str | None = None  # regex the one clear message must match; None: a correct image is expected
    size: tuple[int, int] | None = (40, 30)  # expected output size (width, height) when error is None
    mode: str = "RGB"
    model: str = GOOD  # the checkpoint to use: GOOD, or the damage applied to it

    @property
    def is_file(self) -> bool:  # arrays only go through colorize(); the CLI and the app take files
        return not self.name.endswith("_array")


CORPUS = [
    # files that are not (whole) images
    Case("random_bytes", _bytes(bytes(np.random.default_rng(0).integers(0, 256, 3000, dtype=np.uint8)),
                                "noise.png"), error="not an image"),
    Case("empty_file", _bytes(b"", "empty.jpg"), error=r"empty \(0 bytes\)"),
    Case("truncated_jpeg", _truncated("JPEG", "cut.jpg"), error="corrupt or truncated"),
    Case("truncated_png", _truncated("PNG", "cut.png"), error="corrupt or truncated"),
    Case("text_named_jpg", _bytes(b"Dear diary,\nthis is not a photo.\n" * 20, "notes.jpg"), error="not an image"),
    Case("svg_named_svg", _bytes(b'<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>', "logo.svg"),
         error="not an image"),
    Case("nan_float_tiff", _float_tiff(np.nan, "nan.tif"), error="NaN"),
    Case("inf_float_tiff", _float_tiff(np.inf, "inf.tif"), error="NaN or infinity"),
    # sizes
    Case("one_pixel", _save(Image.new("L", (1, 1), 128), "dot.png"), size=(1, 1)),
    Case("one_by_10000", _save(Image.new("L", (10000, 1), 90), "line.png"), size=(10000, 1)),
    Case("decompression_bomb_30000x30000", _bilevel_png(30000, 30000, "bomb.png"), error="pixels"),
    Case("over_max_pixels_8000x7000", _bilevel_png(8000, 7000, "big.png"), error="max_pixels=50,000,000"),
    # every kind of image that must simply work
    Case("cmyk_jpeg", _save(_photo().convert("CMYK"), "cmyk.jpg")),
    Case("png_16_bit", _save(Image.fromarray(np.asarray(_photo(), np.uint16) * 257), "deep.png")),
    Case("palette_with_transparency", _palette_transparency, mode="RGBA"),
    Case("la_png", _save(_photo().convert("LA"), "la.png"), mode="RGBA"),
    Case("rgba_png", _save(_photo().convert("RGBA"), "rgba.png"), mode="RGBA"),
    Case("animated_gif", _animated_gif),
    Case("exif_rotated_jpeg", _exif_rotated, size=(30, 40)),
    Case("tiff", _save(_photo(), "scan.tif")),
    Case("webp", _save(_photo(), "web.webp")),
    Case("colour_photo", _save(Image.fromarray(data.astronaut()).resize((40, 30)), "colour.jpg")),
    # arrays (colorize() only)
    Case("nan_array", _array(np.full((30, 40), np.nan, np.float32)), error="NaN"),
    Case("inf_array", _array(np.array([[0.5, np.inf]], np.float64)), error="infinity"),
    Case("int64_array", _array(np.zeros((30, 40), np.int64)), error="dtype int64"),
    Case("complex_array", _array(np.zeros((30, 40), np.complex64)), error="dtype complex64"),
    Case("five_channel_array", _array(np.zeros((30, 40, 5), np.uint8)), error="shape"),
    Case("empty_array", _array(np.zeros((0, 40), np.uint8)), error="empty"),
    # damaged checkpoints (with a good photo)
    Case("corrupt_model_safetensors", _good_photo, model="corrupt", error="model.safetensors is corrupt"),
    Case("unknown_model_type", _good_photo, model="unknown_type", error="model_type 'not-a-colorizer'"),
    Case("missing_checkpoint", _good_photo, model="missing", error="No checkpoint"),
    Case("pickle_pytorch_model_bin", _good_photo, model="pickle",
         error=r"only pickle weights \(pytorch_model.bin\).*safetensors.*convert it"),
    Case("no_weights_file", _good_photo, model="no_weights", error="no model.safetensors"),
    Case("config_not_json", _good_photo, model="bad_json", error="config.json is not a readable JSON"),
    Case("weights_of_another_model", _good_photo, model="wrong_weights", error="do not match|damaged"),
]
FILE_CASES = [case for case in CORPUS if case.is_file]
MODEL_DAMAGES = sorted({case.model for case in CORPUS} - {GOOD})
assert len(CORPUS) >= 20 and len({case.name for case in CORPUS}) == len(CORPUS)


def by_name(cases):
    return pytest.mark.parametrize("case", cases, ids=[case.name for case in cases])


def make_corpus(folder: Path) -> dict[str, Path | np.ndarray]:
    return {case.name: case.make(folder) for case in CORPUS}


def make_checkpoints(root: Path) -> dict[str, Path]:
    """name -> checkpoint folder: the good tiny model and one damaged copy per kind of damage."""
    return {name: _checkpoint(root / name, None if name == GOOD else name) for name in [GOOD, *MODEL_DAMAGES]}


def check_result(case: Case, image: Image.Image) -> None:
    assert case.error is None, f"{case.name} should have been refused"
    assert image.size == case.size and image.mode == case.mode


def check_message(case: Case, message: str) -> None:
    assert case.error is not None, f"{case.name} should have worked: {message}"
    assert message and "Traceback" not in message
    assert re.search(case.error, message, re.S), message

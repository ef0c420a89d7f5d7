"""Fuzzing: random bytes, damaged image files, random arrays and random images into the processor and into
colorize() with a tiny model. Only two outcomes are allowed: a correct image, or a ColorizationError; and
never hang (an alarm turns a hang into a failure)."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from colorize_hub import ColorizationError, ColorizationImageProcessor, colorize
from conftest import build_tiny

# COLORIZE_HUB_FUZZ_EXAMPLES=2000 for a long run; the default keeps the suite fast
pytestmark = pytest.mark.filterwarnings("ignore:Corrupt EXIF data", "ignore::PIL.Image.DecompressionBombWarning")

# no per-example deadline: on a loaded machine it fails good code; a real hang still trips no_hang()
FUZZ = settings(max_examples=int(os.environ.get("COLORIZE_HUB_FUZZ_EXAMPLES", 40)), deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
HANG_SECONDS = 60  # far above any example's time, even on a loaded machine: only a real hang reaches it

PROCESSOR = ColorizationImageProcessor(render_size=32, max_pixels=1_000_000)
FORMATS = {"PNG": ".png", "JPEG": ".jpg", "GIF": ".gif", "TIFF": ".tif", "WEBP": ".webp", "BMP": ".bmp"}
MODES = ["1", "L", "LA", "P", "RGB", "RGBA", "CMYK", "I;16", "I", "F"]
SAVABLE = {"PNG": {"1", "L", "LA", "P", "RGB", "RGBA", "I;16", "I"}, "JPEG": {"L", "RGB", "CMYK"},
           "GIF": {"1", "L", "P"}, "TIFF": set(MODES), "WEBP": {"L", "RGB", "RGBA"}, "BMP": {"1", "L", "P", "RGB"}}


@contextlib.contextmanager
def no_hang(seconds: int = HANG_SECONDS):
    """Fail instead of hanging: SIGALRM interrupts anything that runs longer than `seconds`."""
    def alarm(signum, frame):
        raise TimeoutError(f"hung for more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def load_or_refuse(image, max_pixels=None) -> None:
    """The processor must either load `image` into a well-formed batch or raise ColorizationError."""
    with no_hang():
        try:
            features = PROCESSOR(image, max_pixels=max_pixels)
        except ColorizationError as error:
            assert str(error) and "Traceback" not in str(error)
            return
    (lightness,) = features["original_lightness"]
    assert features["pixel_values"].shape == (1, 1, 32, 32) and torch.isfinite(features["pixel_values"]).all()
    assert lightness.ndim == 3 and lightness.shape[0] == 1 and torch.isfinite(lightness).all()
    assert 0 <= float(lightness.min()) and float(lightness.max()) <= 100


@st.composite
def images(draw, max_side: int = 48) -> Image.Image:
    mode = draw(st.sampled_from(MODES))
    width, height = draw(st.integers(1, max_side)), draw(st.integers(1, max_side))
    seed = draw(st.integers(0, 2**32 - 1))
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    image = Image.fromarray(pixels, "RGB").convert("RGBA" if mode in ("LA", "RGBA") else "RGB")
    return image.convert(mode) if mode != "I;16" else Image.fromarray(pixels[..., 0].astype(np.uint16) * 257)


@st.composite
def encoded_images(draw) -> tuple[bytes, str]:
    """A real image file in a random format, then maybe damaged: truncated, bytes overwritten, or both."""
    image = draw(images())
    fmt = draw(st.sampled_from([f for f, modes in SAVABLE.items() if image.mode in modes]))
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    content = bytearray(buffer.getvalue())
    damage = draw(st.sampled_from(["none", "truncate", "overwrite", "both"]))
    if damage in ("overwrite", "both"):
        for _ in range(draw(st.integers(1, 8))):
            content[draw(st.integers(0, len(content) - 1))] = draw(st.integers(0, 255))
    if damage in ("truncate", "both"):
        content = content[: draw(st.integers(0, len(content)))]
    return bytes(content), FORMATS[fmt]


@FUZZ
@given(content=st.binary(max_size=2048), suffix=st.sampled_from([".png", ".jpg", ".gif", ".tif", ".webp", ""]))
def test_random_bytes_as_a_file(content, suffix):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(content)
        load_or_refuse(path)


@FUZZ
@given(encoded=encoded_images())
def test_damaged_image_files(encoded):
    content, suffix = encoded
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"photo{suffix}"
        path.write_bytes(content)
        load_or_refuse(path)
        load_or_refuse(path, max_pixels=64)  # a small limit refuses before decoding, never crashes


DTYPES = [np.uint8, np.uint16, np.int8, np.int32, np.int64, np.float16, np.float32, np.float64, np.bool_,
          np.complex64]


@FUZZ
@given(
    shape=st.lists(st.integers(0, 6), min_size=0, max_size=4),
    dtype=st.sampled_from(DTYPES),
    special=st.sampled_from([None, np.nan, np.inf, -np.inf, 1e30, -5.0]),
    seed=st.integers(0, 2**32 - 1),
    as_tensor=st.booleans(),
)
def test_random_arrays_and_tensors(shape, dtype, special, seed, as_tensor):
    rng = np.random.default_rng(seed)
    array = (rng.random(shape) * 300).astype(dtype)
    if special is not None and array.size and np.dtype(dtype).kind in "fc":
        with np.errstate(over="ignore"):  # 1e30 in float16 is infinity: one more special value
            array.flat[rng.integers(0, array.size)] = special
    image = array
    if as_tensor:
        try:
            image = torch.from_numpy(np.ascontiguousarray(array))
        except TypeError:  # a dtype torch has no tensor for (uint16 on old versions): the array it is
            image = array
    load_or_refuse(image)


@pytest.fixture(scope="module")
def tiny_model():
    return build_tiny("colorizer-baseline").eval()


@FUZZ
@given(image=images(max_side=40), render_size=st.sampled_from([32, 64]), saturation=st.floats(0, 2),
       as_array=st.booleans())
def test_colorize_gives_an_image_of_the_input_size(tiny_model, image, render_size, saturation, as_array):
    expected_mode = "RGBA" if image.mode in ("LA", "RGBA") else "RGB"
    source = np.asarray(image) if as_array and image.mode in ("L", "RGB", "RGBA", "LA") else image
    with no_hang():
        result = colorize(source, model=tiny_model, render_size=render_size, saturation=saturation,
                          precision="fp32")
    assert result.size == image.size and result.mode == expected_mode


@FUZZ
@given(content=st.binary(max_size=512), saturation=st.one_of(st.floats(allow_nan=True), st.none()),
       render_size=st.one_of(st.integers(-64, 600), st.none()))
def test_colorize_with_random_bytes_and_settings_raises_only_colorization_error(
    tiny_model, content, saturation, render_size
):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "x.png"
        path.write_bytes(content)
        with no_hang():
            try:
                kwargs = {} if saturation is None else {"saturation": saturation}
                colorize(path, model=tiny_model, render_size=render_size, precision="fp32", **kwargs)
            except ColorizationError:
                pass

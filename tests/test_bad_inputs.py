"""The bad-input corpus: one list of messy inputs (files, arrays, damaged checkpoints), sent through the three
entry points a user has: colorize(), the command line and the demo's API. Each gives a correct image or one
clear ColorizationError (what is wrong, what to do); the app answers the next request normally."""

from __future__ import annotations

import io
import json
import shutil
import struct
import sys
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
from colorize_hub import ColorizationError, colorize
from colorize_hub.loading import load_colorizer
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


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, Path | np.ndarray]:
    folder = tmp_path_factory.mktemp("corpus")
    return {case.name: case.make(folder) for case in CORPUS}


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory) -> dict[str, Path]:
    """name -> checkpoint folder: the good tiny model and one damaged copy per kind of damage."""
    root = tmp_path_factory.mktemp("checkpoints")
    return {name: _checkpoint(root / name, None if name == GOOD else name) for name in [GOOD, *MODEL_DAMAGES]}


def check_result(case: Case, image: Image.Image) -> None:
    assert case.error is None, f"{case.name} should have been refused"
    assert image.size == case.size and image.mode == case.mode


def check_message(case: Case, message: str) -> None:
    assert case.error is not None, f"{case.name} should have worked: {message}"
    assert message and "Traceback" not in message
    import re

    assert re.search(case.error, message, re.S), message


# ---------------------------------------------------------------- 1. colorize()
@by_name(CORPUS)
def test_colorize(case, corpus, checkpoints):
    load_colorizer.cache_clear()  # nothing cached may hide a damaged checkpoint
    try:
        image = colorize(corpus[case.name], model=str(checkpoints[case.model]), precision="fp32")
    except ColorizationError as error:
        check_message(case, str(error))
    else:
        check_result(case, image)


def test_colorize_honours_max_pixels_from_the_call_and_from_the_checkpoint(corpus, checkpoints, tmp_path):
    photo = corpus["colour_photo"]  # 40 x 30 = 1200 pixels
    with pytest.raises(ColorizationError, match="more than max_pixels=1,000"):
        colorize(photo, model=str(checkpoints[GOOD]), max_pixels=1000)
    assert colorize(photo, model=str(checkpoints[GOOD]), max_pixels=1200).size == (40, 30)
    strict = shutil.copytree(checkpoints[GOOD], tmp_path / "strict")
    colorize_hub.ColorizationImageProcessor(render_size=64, max_pixels=1000).save_pretrained(strict)
    with pytest.raises(ColorizationError, match="max_pixels=1,000"):
        colorize(photo, model=str(strict))
    with pytest.raises(ColorizationError, match="max_pixels must be a positive whole number"):
        colorize(photo, model=str(checkpoints[GOOD]), max_pixels=0)
    from transformers import pipeline

    colorizer = pipeline("image-colorization", model=str(checkpoints[GOOD]), trust_remote_code=False)
    with pytest.raises(ColorizationError, match="max_pixels=1,000"):
        colorizer(str(photo), max_pixels=1000)
    assert colorizer(str(photo)).size == (40, 30)


# ---------------------------------------------------------------- 2. the demo's API
gradio_client = pytest.importorskip("gradio_client")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # app.py sits at the repository root
import app  # noqa: E402
from test_app import launch_app  # noqa: E402


@pytest.fixture(scope="module")
def served(checkpoints, corpus):
    demo, url = launch_app(checkpoints)
    try:
        yield gradio_client.Client(url, verbose=False)
    finally:
        demo.close()


def ask(client, path, model=GOOD):
    before, after = client.predict(gradio_client.handle_file(str(path)), model, 128, 1.0, api_name="/colorize")
    return Image.open(before), Image.open(after)


@by_name(FILE_CASES)
def test_app_api(case, corpus, served):
    try:
        before, after = ask(served, corpus[case.name], case.model)
    except Exception as error:  # noqa: BLE001 - gradio_client raises its AppError with the gr.Error message
        check_message(case, str(error))
        assert str(Path(corpus[case.name]).parent) not in str(error)  # no server paths in the message
    else:
        check_result(case, after)
        assert before.size == after.size
    before, after = ask(served, corpus["colour_photo"])  # and the app answers the next request normally
    assert after.size == (40, 30)


def test_app_refuses_uploads_over_its_size_cap_and_carries_on(served, corpus, tmp_path):
    huge = tmp_path / "huge.png"
    with huge.open("wb") as file:
        file.truncate(21 * 1024 * 1024)  # over the 20 MB cap (a sparse file: nothing is written)
    with pytest.raises(Exception, match="(?i)file size|too large|exceed|413"):
        ask(served, huge)  # gradio_client checks the cap before sending...
    import httpx

    response = httpx.post(served.src.rstrip("/") + "/gradio_api/upload", timeout=60,  # ...and so does the server
                          files={"files": ("huge.png", b"\0" * (21 * 1024 * 1024), "image/png")})
    assert response.status_code == 413
    assert ask(served, corpus["colour_photo"])[1].size == (40, 30)


def test_app_max_pixels_from_the_environment(monkeypatch, checkpoints, corpus):
    monkeypatch.setenv(app.MAX_PIXELS_ENV, "1000")
    demo, url = launch_app({GOOD: checkpoints[GOOD]})
    try:
        client = gradio_client.Client(url, verbose=False)
        with pytest.raises(Exception, match="more than max_pixels=1,000"):
            ask(client, corpus["colour_photo"])  # 1200 pixels
        assert ask(client, corpus["one_pixel"])[1].size == (1, 1)
    finally:
        demo.close()
    for bad in ("lots", "-5", "0"):
        monkeypatch.setenv(app.MAX_PIXELS_ENV, bad)
        with pytest.raises(ColorizationError, match=app.MAX_PIXELS_ENV):
            app.max_pixels_from_env()


def test_app_compare_all_leaves_out_a_damaged_checkpoint(served, corpus, checkpoints):
    gallery = served.predict(gradio_client.handle_file(str(corpus["colour_photo"])), 128, 1.0,
                             api_name="/compare_all")
    assert [item["caption"] for item in gallery] == [app.describe(GOOD, checkpoints[GOOD])[0]]
    with pytest.raises(Exception, match="not an image"):
        served.predict(gradio_client.handle_file(str(corpus["text_named_jpg"])), 128, 1.0, api_name="/compare_all")


# ---------------------------------------------------------------- 3. the command line
def _cli_takes_many_inputs() -> bool:
    from colorize_hub import cli

    try:
        cli.build_parser().parse_args(["colorize", "a.png", "b.png", "-o", "out", "--model", "m"])
    except SystemExit:
        return False
    return True


needs_batch_cli = pytest.mark.skipif(not _cli_takes_many_inputs(),
                                     reason="`colorize-hub colorize INPUT... -o OUTDIR` is not in cli.py yet")


def run_cli(capsys, *argv) -> tuple[int, str]:
    from colorize_hub import cli

    load_colorizer.cache_clear()
    code = cli.main(["colorize", *map(str, argv), "-q"])
    captured = capsys.readouterr()
    return code, captured.err + captured.out


@needs_batch_cli
@by_name(FILE_CASES)
def test_cli(case, corpus, checkpoints, tmp_path, capsys):
    source = Path(corpus[case.name])
    code, output = run_cli(capsys, source, "-o", tmp_path / "out", "--model", checkpoints[case.model])
    results = list((tmp_path / "out").glob("*"))
    if case.error is None:
        assert code == 0, output
        (result,) = results
        assert result.name.startswith(source.stem)
        check_result(case, Image.open(result))
    else:
        assert code != 0 and not results
        check_message(case, output)


@needs_batch_cli
@pytest.mark.parametrize("given", ["files", "messy_folder"])
def test_cli_batch_reports_and_skips_failures_and_colorizes_the_rest(given, corpus, checkpoints, tmp_path, capsys):
    from colorize_hub.palette import IMAGE_SUFFIXES

    files = [Path(corpus[case.name]) for case in FILE_CASES if case.model == GOOD]
    inputs = files if given == "files" else [files[0].parent]  # the folder: every file of the corpus in one place
    code, output = run_cli(capsys, *inputs, "-o", tmp_path / "out", "--model", checkpoints[GOOD])
    assert code != 0  # some inputs failed
    for case in FILE_CASES:
        source = Path(corpus[case.name])
        if case.model != GOOD or (given == "messy_folder" and source.suffix.lower() not in IMAGE_SUFFIXES):
            continue  # a folder is searched for image suffixes only
        produced = [p for p in (tmp_path / "out").glob(f"{source.stem}*")]
        if case.error is None:
            assert len(produced) == 1, (case.name, output)
            check_result(case, Image.open(produced[0]))
        else:
            assert not produced and source.name in output, (case.name, output)
    assert "Traceback" not in output

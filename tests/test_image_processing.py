"""ColorizationImageProcessor: every input kind and Pillow mode in, exact-size images out."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data
from skimage.color import rgb2lab

from colorize_hub import color
from colorize_hub.errors import ColorizationError
from colorize_hub.image_processing_colorization import ColorizationImageProcessor, LoadedImage

RENDER = 64


@pytest.fixture(scope="module")
def proc() -> ColorizationImageProcessor:
    return ColorizationImageProcessor(render_size=RENDER)


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    """A real colour photo at an odd size (37x23 keeps every mode test fast)."""
    return Image.fromarray(data.astronaut()).resize((37, 23), Image.Resampling.BILINEAR)


def _random_ab(batch: int) -> torch.Tensor:
    return torch.rand(batch, 2, RENDER, RENDER, generator=torch.Generator().manual_seed(0)) * 1.6 - 0.8


def _round_trip(proc: ColorizationImageProcessor, images: object) -> list[Image.Image]:
    """preprocess, a fake prediction, post-process: what a pipeline does around the model."""
    feats = proc(images)
    return proc.post_process_colorization(_random_ab(len(feats["alpha"])), feats["original_lightness"], feats["alpha"])


def _alpha_ramp(size: tuple[int, int]) -> Image.Image:
    return Image.fromarray((np.arange(size[0] * size[1]) % 256).astype(np.uint8).reshape(size[1], size[0]))


def _make_mode(photo: Image.Image, mode: str) -> Image.Image:
    gray16 = (np.asarray(photo.convert("L")).astype(np.uint32) * 257).astype(np.uint16)
    if mode in ("I;16", "I;16B", "I;16L"):
        return Image.frombytes(mode, photo.size, gray16.astype(">u2" if mode == "I;16B" else "<u2").tobytes())
    if mode == "P+transparency":
        img = photo.convert("P")
        img.info["transparency"] = int(np.asarray(img)[0, 0])
        return img
    img = photo.convert(mode)
    if mode in ("LA", "RGBA", "PA"):
        img.putalpha(_alpha_ramp(photo.size))
    return img


MODES = ["1", "L", "LA", "P", "P+transparency", "PA", "RGB", "RGBA", "RGBX", "CMYK", "YCbCr", "LAB", "HSV",
         "I;16", "I;16B", "I;16L", "I", "F"]


@pytest.mark.parametrize("mode", MODES)
def test_every_pillow_mode_gives_exact_size_and_keeps_alpha(proc, photo, mode) -> None:
    img = _make_mode(photo, mode)
    loaded = proc.load_image(img)
    assert isinstance(loaded, LoadedImage) and loaded.size == photo.size
    assert loaded.lightness.dtype == torch.float32 and loaded.lightness.shape == (1, 23, 37)
    assert 0.0 <= loaded.lightness.min() and loaded.lightness.max() <= 100.0
    (out,) = _round_trip(proc, img)
    assert out.size == photo.size and out.mode == ("RGBA" if mode in ("LA", "RGBA", "PA", "P+transparency") else "RGB")
    if mode in ("LA", "RGBA", "PA"):
        assert np.array_equal(np.asarray(out)[..., 3], np.asarray(_alpha_ramp(photo.size)))
    if mode == "P+transparency":
        assert np.asarray(out)[0, 0, 3] == 0 and np.asarray(out)[..., 3].max() == 255


def test_wide_modes_are_scaled_by_their_real_range(proc, photo) -> None:
    """The same gray content in 8, 16, 32-bit and float modes must give the same L."""
    g8 = np.asarray(photo.convert("L"))
    expected = proc.load_image(Image.fromarray(g8)).lightness
    variants = {
        "I;16": _make_mode(photo, "I;16"), "I;16B": _make_mode(photo, "I;16B"),
        "I 8-bit range": Image.fromarray(g8.astype(np.int32)), "I 16-bit": Image.fromarray(g8.astype(np.int32) * 257),
        "F [0,1]": Image.fromarray(g8.astype(np.float32) / 255), "F [0,255]": Image.fromarray(g8.astype(np.float32)),
        "F [0,65535]": Image.fromarray(g8.astype(np.float32) * 257), "uint16 array": g8.astype(np.uint16) * 257,
        "float tensor": torch.from_numpy(g8.astype(np.float32) / 255),
    }
    for name, image in variants.items():
        assert torch.allclose(proc.load_image(image).lightness, expected, atol=0.05), name
    gray_rgb = np.repeat(g8[..., None], 3, axis=2)
    assert torch.allclose(proc.load_image(gray_rgb).lightness, expected, atol=1e-3)
    ref = color.rgb_to_lab(torch.from_numpy(gray_rgb).permute(2, 0, 1).float()[None] / 255)[0, :1]
    assert torch.allclose(expected, ref, atol=1e-3)


def test_colour_photo_lightness_matches_skimage(proc) -> None:
    rgb = data.chelsea()
    assert np.abs(proc.load_image(Image.fromarray(rgb)).lightness[0].numpy() - rgb2lab(rgb)[..., 0]).max() < 0.1


@pytest.mark.parametrize("size", [(1, 1), (7, 5), (4000, 3000), (1, 10000), (10000, 1)])
def test_sizes_round_trip_exactly(proc, size) -> None:
    w, h = size
    rgb = np.zeros((h, w, 3), dtype=np.uint8)
    rgb[..., 0] = (np.arange(w) % 256).astype(np.uint8)
    (out,) = _round_trip(proc, rgb)
    assert out.size == size and out.mode == "RGB"


_RNG = np.random.default_rng(0)
ARRAYS = {
    "f64-HW": _RNG.random((9, 11)), "f16-HW1": _RNG.random((9, 11, 1)).astype(np.float16),
    "u8-gray-alpha": _RNG.integers(0, 256, (9, 11, 2), dtype=np.uint8),
    "u16-rgb": _RNG.integers(0, 65536, (9, 11, 3), dtype=np.uint16),
    "f32-rgba": _RNG.random((9, 11, 4)).astype(np.float32), "bool": _RNG.random((9, 11)) > 0.5,
    "t-3HW": torch.rand(3, 9, 11), "t-bf16-1HW": torch.rand(1, 9, 11, dtype=torch.bfloat16),
    "t-HW-grad": torch.rand(9, 11, requires_grad=True),
}


@pytest.mark.parametrize("image", ARRAYS.values(), ids=ARRAYS.keys())
def test_array_and_tensor_inputs(proc, image) -> None:
    loaded = proc.load_image(image)
    assert loaded.size == (11, 9)
    has_alpha = isinstance(image, np.ndarray) and image.ndim == 3 and image.shape[2] in (2, 4)
    assert (loaded.alpha is not None) == has_alpha
    assert _round_trip(proc, image)[0].size == (11, 9)


def test_float_values_outside_unit_range_are_clipped(proc) -> None:
    light = proc.load_image(np.array([[2.0, -1.0]], dtype=np.float32)).lightness
    assert torch.allclose(light, torch.tensor([[[100.0, 0.0]]]), atol=1e-3)


def test_full_resolution_lightness_is_preserved(proc) -> None:
    """Chroma from a 64x64 copy of a real photo, merged at 1000x700: the output keeps the input's L."""
    photo = Image.fromarray(data.astronaut()).resize((1000, 700), Image.Resampling.BICUBIC)
    small_lab = rgb2lab(np.asarray(photo.resize((RENDER, RENDER), Image.Resampling.BOX)))
    ab = torch.from_numpy(small_lab[..., 1:]).permute(2, 0, 1)[None].float() / color.AB_SCALE  # (1, 2, 64, 64)
    feats = proc(photo)
    (out,) = proc.post_process_colorization(ab, feats["original_lightness"], feats["alpha"])
    assert out.size == (1000, 700)
    lab_in, lab_out = rgb2lab(np.asarray(photo)), rgb2lab(np.asarray(out))
    assert np.mean(np.abs(lab_out[..., 0] - lab_in[..., 0]) <= 2.0) >= 0.99
    assert np.hypot(lab_out[..., 1], lab_out[..., 2]).mean() > 5.0  # colour really was added


def test_saturation(proc) -> None:
    photo = Image.fromarray(data.coffee())
    feats = proc(photo)
    small_lab = rgb2lab(np.asarray(photo.resize((RENDER, RENDER), Image.Resampling.BOX)))
    ab = torch.from_numpy(small_lab[..., 1:]).permute(2, 0, 1)[None].float() / color.AB_SCALE

    def ab_of(sat: float) -> np.ndarray:
        (out,) = proc.post_process_colorization(ab, feats["original_lightness"], saturation=sat)
        return rgb2lab(np.asarray(out))[..., 1:]

    assert np.abs(ab_of(0.0)).max() < 1.5  # gray, up to uint8 rounding
    assert np.hypot(*np.moveaxis(ab_of(2.0), -1, 0)).mean() > np.hypot(*np.moveaxis(ab_of(1.0), -1, 0)).mean() + 5.0
    for bad in (-0.5, float("nan"), float("inf"), "2"):
        with pytest.raises(ColorizationError):
            proc.post_process_colorization(ab, feats["original_lightness"], saturation=bad)


def test_exif_orientation_is_applied(proc, tmp_path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    path = tmp_path / "rotated.jpg"
    Image.new("RGB", (40, 20), (200, 30, 30)).save(path, exif=exif.tobytes())
    assert proc.load_image(path).size == (20, 40)
    assert proc.load_image(str(path)).size == (20, 40)
    with Image.open(path) as img:
        assert proc.load_image(img).size == (20, 40)
    assert _round_trip(proc, path)[0].size == (20, 40)


def test_files_and_first_frame_of_animation(proc, photo, tmp_path) -> None:
    for name, img in {"a.png": _make_mode(photo, "RGBA"), "b.tif": _make_mode(photo, "F"),
                      "c.png": _make_mode(photo, "I;16"), "d.tif": _make_mode(photo, "CMYK")}.items():
        img.save(tmp_path / name)
        (out,) = _round_trip(proc, tmp_path / name)
        assert out.size == photo.size and out.mode == ("RGBA" if name == "a.png" else "RGB")
    frames = [Image.new("L", (8, 6), v) for v in (20, 230)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    assert proc.load_image(tmp_path / "anim.gif").lightness.max() < 30.0


def _png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG that declares width x height but holds no pixel data: decoding it would fail."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit gray
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b""))
    return path


def test_max_pixels_refused_from_header_without_decoding(proc, tmp_path) -> None:
    with pytest.raises(ColorizationError, match="huge.png"):
        proc.load_image(_png_header_only(tmp_path / "huge.png", 30000, 30000))
    small_limit = ColorizationImageProcessor(render_size=RENDER, max_pixels=10_000)
    # The file has no pixel data, so only a header check can produce the max_pixels message.
    with pytest.raises(ColorizationError, match="max_pixels"):
        small_limit.load_image(_png_header_only(tmp_path / "big.png", 200, 100))
    with pytest.raises(ColorizationError, match="max_pixels"):
        small_limit.load_image(np.zeros((200, 100), dtype=np.uint8))
    with pytest.raises(ColorizationError, match="max_pixels"):
        small_limit(Image.new("RGB", (200, 100)))


def _bad_files(tmp_path: Path) -> list[Path]:
    jpeg, png = tmp_path / "full.jpg", tmp_path / "full.png"
    Image.fromarray(data.astronaut()).save(jpeg, quality=90)
    Image.fromarray(data.astronaut()).save(png)
    Image.fromarray(np.full((4, 4), np.nan, dtype=np.float32)).save(tmp_path / "nan.tif")
    files = {"empty.png": b"", "text.jpg": b"this is not an image\n" * 10,
             "truncated.jpg": jpeg.read_bytes()[: jpeg.stat().st_size // 2],
             "truncated.png": png.read_bytes()[: png.stat().st_size // 2]}
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    return [tmp_path / name for name in [*files, "nan.tif", "missing.png"]] + [tmp_path]


def test_bad_files_raise_colorization_error_naming_the_file(proc, tmp_path) -> None:
    for path in _bad_files(tmp_path):
        with pytest.raises(ColorizationError, match=path.name):
            proc.load_image(path)
        with pytest.raises(ColorizationError):
            proc([str(path)])


@pytest.mark.parametrize(
    "bad",
    [
        np.full((4, 4), np.nan), np.array([[0.5, np.inf]]), torch.tensor([[0.5, float("nan")]]),
        np.zeros((4, 4), dtype=np.complex64), np.zeros((4, 4), dtype=object), np.array([["a", "b"]]),
        np.zeros((4, 4), dtype=np.int64), np.zeros((0, 4, 3), dtype=np.uint8), np.zeros(16, dtype=np.uint8),
        np.zeros((1, 4, 4, 3), dtype=np.uint8), np.zeros((4, 4, 5), dtype=np.uint8), torch.zeros(2, 3, 4, 4),
        torch.zeros(5, 4, 4), Image.new("RGB", (0, 0)), 42, None, b"bytes",
    ],
)
def test_bad_in_memory_inputs_raise(proc, bad) -> None:
    with pytest.raises(ColorizationError):
        proc.load_image(bad)


def test_preprocess_batch_and_render_size(proc, photo) -> None:
    feats = proc([photo, np.zeros((5, 300), dtype=np.uint8), torch.ones(1, 40, 30)])
    assert feats["pixel_values"].shape == (3, 1, RENDER, RENDER) and feats["pixel_values"].dtype == torch.float32
    assert feats["pixel_values"].min() >= -1.0 and feats["pixel_values"].max() <= 1.0
    assert [t.shape for t in feats["original_lightness"]] == [(1, 23, 37), (1, 5, 300), (1, 40, 30)]
    assert proc(photo, render_size=128)["pixel_values"].shape == (1, 1, 128, 128)
    assert isinstance(proc(photo, return_tensors="np")["pixel_values"], np.ndarray)
    for bad_call in (lambda: proc(photo, render_size=100), lambda: proc([]), lambda: proc(photo, size=3),
                     lambda: proc(photo, return_tensors="tf")):
        with pytest.raises(ColorizationError):
            bad_call()
    pixel_values, labels = proc.make_model_inputs(torch.rand(2, 3, 16, 24))
    assert pixel_values.shape == (2, 1, 16, 24) and labels.shape == (2, 2, 16, 24)


def test_post_process_validates_inputs(proc, photo) -> None:
    feats = proc([photo, photo])
    light = feats["original_lightness"]
    out = proc.post_process_colorization(_random_ab(2).to(torch.bfloat16), light)
    assert [o.size for o in out] == [photo.size, photo.size]
    for args in ((_random_ab(3), light), (torch.zeros(2, 3, 8, 8), light), (np.zeros((2, 2, 8, 8)), light),
                 (_random_ab(2), light, [np.zeros((2, 2), np.uint8), None])):
        with pytest.raises(ColorizationError):
            proc.post_process_colorization(*args)


def test_settings_round_trip_and_validation(tmp_path) -> None:
    proc = ColorizationImageProcessor(render_size=96, max_pixels=12_345)
    proc.save_pretrained(tmp_path)
    saved = json.loads((tmp_path / "preprocessor_config.json").read_text())
    assert saved["render_size"] == 96 and saved["max_pixels"] == 12_345
    assert saved["image_processor_type"] == "ColorizationImageProcessor"
    loaded = ColorizationImageProcessor.from_pretrained(tmp_path)
    assert (loaded.render_size, loaded.max_pixels) == (96, 12_345)
    assert loaded.to_dict() == proc.to_dict()
    assert ColorizationImageProcessor().render_size == 256
    for bad in (0, -32, 100, 31, 64.0, True, "256"):
        with pytest.raises(ColorizationError):
            ColorizationImageProcessor(render_size=bad)
    for bad in (0, -1, 1.5):
        with pytest.raises(ColorizationError):
            ColorizationImageProcessor(max_pixels=bad)


def test_chroma_gain_scales_chroma_and_round_trips(tmp_path):
    Processor = ColorizationImageProcessor
    gray = np.full((8, 8), 128, dtype=np.uint8)
    ab = torch.zeros(1, 2, 4, 4)
    ab[:, 0] = 0.1
    outputs = {}
    for gain in (1.0, 1.5):
        processor = Processor(chroma_gain=gain)
        inputs = processor(gray)
        image = processor.post_process_colorization(ab, inputs["original_lightness"])[0]
        outputs[gain] = rgb2lab(np.asarray(image) / 255.0)[..., 1].mean()
    assert outputs[1.5] == pytest.approx(1.5 * outputs[1.0], rel=0.05)
    Processor(chroma_gain=1.3).save_pretrained(tmp_path)
    assert Processor.from_pretrained(tmp_path).chroma_gain == 1.3
    with pytest.raises(ColorizationError, match="chroma_gain"):
        Processor(chroma_gain=0)


def test_a_loaded_image_is_taken_as_it_is_so_one_decode_serves_several_models(proc, photo, tmp_path) -> None:
    path = tmp_path / "decoded_once.png"
    photo.convert("RGBA").save(path)
    loaded = proc.load_image(path)
    assert proc.load_image(loaded) is loaded
    from_loaded, from_path = proc(loaded, render_size=64), proc(path, render_size=64)
    assert torch.equal(from_loaded["pixel_values"], from_path["pixel_values"])
    assert np.array_equal(from_loaded["alpha"][0], from_path["alpha"][0])
    with pytest.raises(ColorizationError, match="max_pixels"):
        proc.load_image(loaded, max_pixels=loaded.size[0] * loaded.size[1] - 1)

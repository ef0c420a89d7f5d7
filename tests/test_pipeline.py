"""colorize() and the "image-colorization" pipeline: full resolution, original L, alpha, caching."""

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import color as skcolor
from skimage import data
from transformers import pipeline

import colorize_hub
from colorize_hub import ColorizationError, ColorizationImageProcessor, colorize
from colorize_hub.loading import load_colorizer
from conftest import build_tiny


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory):
    """A tiny U-Net-24 saved with its processor: it predicts vivid colours even untrained (annealed mean)."""
    folder = tmp_path_factory.mktemp("colorizer-unet24-tiny")
    model = build_tiny("colorizer-unet24", seed=1).eval()
    with torch.no_grad():
        model.classifier.bias.copy_(torch.linspace(-3, 3, 24))  # prefer saturated colours
    model.save_pretrained(folder)
    ColorizationImageProcessor(render_size=64).save_pretrained(folder)
    return folder


def _rgba_photo(width=1000, height=700):
    rgb = Image.fromarray(data.astronaut()).resize((width, height))
    alpha = Image.fromarray(np.tile(np.linspace(0, 255, width, dtype=np.uint8), (height, 1)))
    return Image.merge("RGBA", (*rgb.split(), alpha))


def _lightness(image):
    return skcolor.rgb2lab(np.asarray(image.convert("RGB")) / 255.0)[..., 0]


def test_colorize_rgba_keeps_size_lightness_and_alpha(saved_model):
    source = _rgba_photo()
    result = colorize(source, model=str(saved_model), render_size=64)
    assert result.size == (1000, 700) and result.mode == "RGBA"
    assert np.array_equal(np.asarray(result)[..., 3], np.asarray(source)[..., 3])
    assert np.mean(np.abs(_lightness(result) - _lightness(source)) <= 2) >= 0.99
    chroma = np.hypot(*np.moveaxis(skcolor.rgb2lab(np.asarray(result.convert("RGB")) / 255.0)[..., 1:], -1, 0))
    assert chroma.mean() > 3  # really coloured, not the gray input back


def test_colorize_accepts_a_loaded_model_and_paths(saved_model, tmp_path):
    path = tmp_path / "gray.png"
    Image.fromarray(data.camera()).save(path)
    model, _ = load_colorizer(str(saved_model))
    by_model = colorize(path, model=model, render_size=64)
    by_path = colorize(str(path), model=saved_model, render_size=64)
    assert by_model.size == by_path.size == (512, 512)
    assert np.array_equal(np.asarray(by_model), np.asarray(by_path))


def test_saturation_zero_gives_the_gray_input(saved_model):
    gray = Image.fromarray(data.camera())
    result = np.asarray(colorize(gray, model=str(saved_model), saturation=0.0).convert("RGB")).astype(int)
    assert np.abs(result - np.asarray(gray)[..., None]).max() <= 1


def test_loaded_models_are_cached(saved_model):
    assert load_colorizer(str(saved_model))[0] is load_colorizer(str(saved_model))[0]


def test_pipeline_task_colorizes(saved_model):
    colorizer = pipeline("image-colorization", model=str(saved_model), trust_remote_code=False)
    assert isinstance(colorizer, colorize_hub.ColorizationPipeline)
    result = colorizer(Image.fromarray(data.camera()).resize((300, 200)), saturation=1.5)
    assert result.size == (300, 200)


def test_missing_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(ColorizationError, match="not a checkpoint folder|Cannot load"):
        colorize(Image.new("L", (8, 8)), model=str(tmp_path / "nowhere" / "x" / "y"))


def test_auto_image_processor_loads_the_colorization_processor(saved_model):
    from transformers import AutoImageProcessor

    processor = AutoImageProcessor.from_pretrained(saved_model)
    assert isinstance(processor, ColorizationImageProcessor) and processor.render_size == 64


def test_bf16_and_fp32_inference_agree_closely(saved_model):
    photo = Image.fromarray(data.astronaut()).resize((200, 150))
    fp32 = np.asarray(colorize(photo, model=str(saved_model), render_size=64, precision="fp32")).astype(float)
    bf16 = np.asarray(colorize(photo, model=str(saved_model), render_size=64, precision="bf16")).astype(float)
    assert np.abs(fp32 - bf16).mean() < 2.0  # 8-bit levels: bf16 keeps chroma well within what the eye sees
    with pytest.raises(ColorizationError, match="precision"):
        colorize(photo, model=str(saved_model), precision="fp8")

"""Distillation (`--teacher`): the reconstruction target blends the truth with a frozen colorizer's ab."""

import json

import pytest
import torch
from skimage import data

from colorize_hub.color import rgb_to_normalized_lab
from colorize_hub.loading import load_colorizer
from colorize_hub.training.distillation import TeacherTargets
from conftest import build_tiny
from test_training import run


@pytest.fixture(scope="module")
def teacher_folder(photo_folder, tmp_path_factory):
    """A (tiny) trained encoder U-Net, saved as a checkpoint folder."""
    folder = tmp_path_factory.mktemp("teacher")
    run("colorizer-encoder-unet", photo_folder, folder, "--max_steps", "1", "--backbone_weights", "none")
    return folder


def _photo():
    rgb = torch.from_numpy(data.coffee()[::8, ::8].copy()).permute(2, 0, 1)[None].float() / 255  # (1, 3, 50, 75)
    return rgb_to_normalized_lab(rgb[..., :48, :64])


def test_the_target_is_the_truth_moved_towards_the_teachers_ab_by_the_share(teacher_folder):
    lightness, truth = _photo()
    teacher, _ = load_colorizer(str(teacher_folder))
    with torch.no_grad():
        predicted = teacher(pixel_values=lightness).predicted_ab.float()
    assert not torch.allclose(predicted, truth, atol=1e-2)  # the blend below is not trivially the truth
    quarter = TeacherTargets(str(teacher_folder), 0.25).targets(lightness, truth)
    torch.testing.assert_close(quarter, truth + 0.25 * (predicted - truth), rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(TeacherTargets(str(teacher_folder), 1.0).targets(lightness, truth), predicted,
                               rtol=1e-4, atol=1e-5)
    assert not quarter.requires_grad


def test_a_share_outside_0_to_1_or_a_hint_model_is_refused(teacher_folder, tmp_path):
    for share in (0.0, -0.5, 1.5):
        with pytest.raises(ValueError, match="teacher_share"):
            TeacherTargets(str(teacher_folder), share)
    build_tiny("colorizer-encoder-unet", hints=True).save_pretrained(tmp_path / "hints")
    with pytest.raises(ValueError, match="hints"):
        TeacherTargets(str(tmp_path / "hints"), 0.5)


def _first_logged(folder, key):
    return next(entry[key] for entry in json.loads((folder / "loss_curve.json").read_text()) if key in entry)


@pytest.mark.parametrize("model_type, key, extra", [
    ("colorizer-baseline", "loss", ("--undersaturation_weight", "0.3")),  # the target reaches a compute_loss_func
    ("colorizer-unet24", "loss", ()),  # a palette head: classes of the blended ab
    ("colorizer-gan", "reconstruction_loss", ()),
])
def test_training_with_a_teacher_learns_against_the_blended_target(model_type, key, extra, photo_folder,
                                                                   teacher_folder, tmp_path):
    common = ("--max_steps", "1", "--logging_steps", "1", "--backbone_weights", "none", *extra)
    plain = run(model_type, photo_folder, tmp_path / "plain", *common)
    taught = run(model_type, photo_folder, tmp_path / "taught", *common, "--teacher", str(teacher_folder),
                 "--teacher_share", "1.0")
    assert plain["steps"] == taught["steps"] == 1
    # the same seed, photos and weights: only the target differs
    assert _first_logged(tmp_path / "taught", key) != pytest.approx(_first_logged(tmp_path / "plain", key), rel=1e-6)
    assert "--teacher" in taught["command"]

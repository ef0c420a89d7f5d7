"""Training on Trainer: every architecture trains from the command line; GAN and U-Net runs resume exactly."""

import json
import shutil

import pytest
import torch
from safetensors.torch import load_file
from skimage import data

from colorize_hub.training import train
from conftest import TINY_CONFIGS


def run(model_type, folder, output_dir, *extra):
    argv = [
        "--model", model_type, "--config_overrides", json.dumps(TINY_CONFIGS[model_type]),
        "--train_data", str(folder), "--image_size", "64", "--eval_image_size", "64",
        "--output_dir", str(output_dir), "--per_device_train_batch_size", "2", "--use_cpu",
        "--report_to", "none", "--seed", "7", "--disable_tqdm", "true", *extra,
    ]
    return train.main(argv)


def test_every_architecture_trains_evaluates_and_saves(model_type, photo_folder, tmp_path):
    summary = run(model_type, photo_folder, tmp_path, "--max_steps", "2", "--eval_data", str(photo_folder),
                  "--backbone_weights", "none", "--logging_steps", "1")
    assert summary["steps"] == 2
    metrics = summary["eval_metrics"]
    assert {"eval_psnr", "eval_psnr_gray", "eval_colourfulness", "eval_colourfulness_truth"} <= set(metrics)
    assert metrics["eval_psnr_gray"] > 10 and metrics["eval_colourfulness_truth"] > 20
    # the tiny configs of these two use the palette head; the others regress ab
    assert ("eval_pixel_accuracy" in metrics) == (model_type in {"colorizer-unet24", "colorizer-encoder-unet"})
    saved = {p.name for p in tmp_path.iterdir()}
    assert {"config.json", "model.safetensors", "preprocessor_config.json", "loss_curve.png",
            "training_summary.json", "README.md"} <= saved
    card = (tmp_path / "README.md").read_text()
    assert "library_name: transformers" in card and "pipeline_tag: image-to-image" in card
    assert "colorize-hub train --model " + model_type in card and "non-commercial" in card
    assert not any(name.endswith((".bin", ".pt", ".pth")) for name in saved), saved


def _final_weights(folder):
    weights = load_file(folder / "model.safetensors")
    if (folder / "discriminator").is_dir():
        weights.update({f"D.{k}": v for k, v in load_file(folder / "discriminator" / "model.safetensors").items()})
    return weights


@pytest.mark.parametrize("model_type", ["colorizer-gan", "colorizer-unet24"])
def test_resume_from_checkpoint_matches_an_uninterrupted_run(model_type, photo_folder, tmp_path):
    common = ["--max_steps", "6", "--save_steps", "3", "--ema_decay", "0.9"]
    run(model_type, photo_folder, tmp_path / "straight", *common)
    interrupted = tmp_path / "resumed"
    interrupted.mkdir()
    shutil.copytree(tmp_path / "straight" / "checkpoint-3", interrupted / "checkpoint-3")
    summary = run(model_type, photo_folder, interrupted, *common,
                  "--resume_from_checkpoint", str(interrupted / "checkpoint-3"))
    assert summary["steps"] == 6
    clock = json.loads((interrupted / "checkpoint-3" / "training_clock.json").read_text())
    assert summary["wall_seconds"] >= round(clock["wall_seconds"], 1)  # the run's time, not only its resumed part
    expected, resumed = _final_weights(tmp_path / "straight"), _final_weights(interrupted)
    assert expected.keys() == resumed.keys()
    if model_type == "colorizer-gan":
        assert any(key.startswith("D.") for key in expected)
    for key in expected:
        torch.testing.assert_close(resumed[key], expected[key], rtol=1e-4, atol=1e-5, msg=key)


def test_training_clock_counts_on_from_the_checkpoint_it_resumes(tmp_path):
    from colorize_hub.training.callbacks import TrainingClock

    (tmp_path / "training_clock.json").write_text(json.dumps({"wall_seconds": 3600.0}))
    clock = TrainingClock()
    clock.load_checkpoint_files(tmp_path)
    clock.on_train_begin(None, None, None)
    assert 3600.0 <= clock.seconds() < 3700.0
    fresh = TrainingClock()
    fresh.on_train_begin(None, None, None)
    assert fresh.seconds() < 100.0
    (tmp_path / "saved").mkdir()
    clock.save_checkpoint_files(tmp_path / "saved")
    assert json.loads((tmp_path / "saved" / "training_clock.json").read_text())["wall_seconds"] >= 3600.0


def test_undersaturation_term_charges_gray_not_vivid_predictions():
    from colorize_hub.training.losses import RegressionLoss, undersaturation

    truth = torch.zeros(1, 2, 4, 4)
    truth[:, 0] = 0.5
    assert undersaturation(torch.zeros_like(truth), truth) == pytest.approx(0.5, abs=1e-3)
    assert undersaturation(truth * 2, truth) == 0
    plain, colourful = RegressionLoss(0.0), RegressionLoss(1.0)
    outputs = {"predicted_ab": torch.zeros_like(truth, requires_grad=True)}
    assert colourful(outputs, truth) > plain(outputs, truth)
    colourful(outputs, truth).backward()
    assert torch.isfinite(outputs["predicted_ab"].grad).all()


def astronaut_lab() -> tuple[torch.Tensor, torch.Tensor]:
    """The astronaut photo at 64x64 as normalised (1, 1, 64, 64) L and (1, 2, 64, 64) ab."""
    from colorize_hub.color import rgb_to_normalized_lab

    rgb = torch.from_numpy(data.astronaut()[::8, ::8].copy()).permute(2, 0, 1)[None].float() / 255
    return rgb_to_normalized_lab(rgb)


def test_classifier_consistency_is_zero_for_true_colours_and_teaches_only_the_colorizer():
    from colorize_hub.training.losses import ClassifierConsistency

    term = ClassifierConsistency("tf_efficientnet_lite0", weights_source="package")
    lightness, true_ab = astronaut_lab()
    assert term(lightness, true_ab, true_ab).item() == pytest.approx(0.0, abs=1e-5)
    gray = torch.zeros_like(true_ab, requires_grad=True)
    swapped = true_ab.flip(1)  # a and b exchanged: other hues at the same chroma
    assert term(lightness, gray, true_ab) > 0 and term(lightness, swapped, true_ab) > 0
    term(lightness, gray, true_ab).backward()
    assert gray.grad.abs().sum() > 0
    assert all(parameter.grad is None for parameter in term.classifier.parameters())


def test_classifier_consistency_can_show_the_classifier_a_larger_photo():
    from colorize_hub.training.losses import ClassifierConsistency

    term = ClassifierConsistency("tf_efficientnet_lite0", weights_source="package", image_size=96)
    seen = []
    term.classifier.register_forward_pre_hook(lambda module, inputs: seen.append(tuple(inputs[0].shape[-2:])))
    lightness, true_ab = astronaut_lab()
    assert term(lightness, true_ab, true_ab).item() == pytest.approx(0.0, abs=1e-5)
    gray = torch.zeros_like(true_ab, requires_grad=True)
    term(lightness, gray, true_ab).backward()
    assert seen and set(seen) == {(96, 96)}
    assert gray.grad.abs().sum() > 0


def test_classifier_consistency_judges_the_prediction_at_the_displayed_chroma_gain():
    from colorize_hub.training.losses import ClassifierConsistency

    lightness, true_ab = astronaut_lab()
    muted = true_ab * 0.5
    plain = ClassifierConsistency("tf_efficientnet_lite0", weights_source="package")
    at_gain = ClassifierConsistency("tf_efficientnet_lite0", weights_source="package", chroma_gain=2.0)
    # half the true chroma shown at gain 2 is the true photo again; the plain term still charges it
    assert at_gain(lightness, muted, true_ab).item() == pytest.approx(0.0, abs=1e-4)
    assert plain(lightness, muted, true_ab).item() > 1e-3
    # and the gain is clamped as the processor clamps it
    vivid = true_ab * 3
    assert at_gain(lightness, vivid, true_ab).item() == pytest.approx(
        plain(lightness, (vivid * 2).clamp(-1, 1), true_ab).item(), rel=1e-5)
    with pytest.raises(ValueError, match="positive"):
        ClassifierConsistency("tf_efficientnet_lite0", weights_source="package", chroma_gain=0)


def test_classifier_consistency_relative_to_gray_charges_only_what_colour_adds_to_the_gray_photos_divergence():
    from colorize_hub.training.losses import ClassifierConsistency

    lightness, true_ab = astronaut_lab()
    plain = ClassifierConsistency("tf_efficientnet_lite0", weights_source="package")
    relative = ClassifierConsistency("tf_efficientnet_lite0", weights_source="package", relative_to_gray=True)
    gray = torch.zeros_like(true_ab)
    assert relative(lightness, gray, true_ab).item() == 0.0  # no colour is the bar, and it costs nothing
    assert relative(lightness, true_ab, true_ab).item() == 0.0
    swapped = true_ab.flip(1)  # wrong hues, yet closer to the truth for the classifier than gray: free here only
    assert plain(lightness, swapped, true_ab).item() > 0.1 and relative(lightness, swapped, true_ab).item() == 0.0
    # colour that misleads more than gray does is charged the excess over gray's divergence
    misleading = torch.tensor([-0.6, 0.3]).view(1, 2, 1, 1).expand_as(true_ab).clone().requires_grad_()  # green wash
    excess = plain(lightness, misleading, true_ab) - plain(lightness, gray, true_ab)
    assert excess.item() > 1e-3
    charged = relative(lightness, misleading, true_ab)
    assert charged.item() == pytest.approx(excess.item(), rel=1e-4)
    charged.backward()
    assert misleading.grad.abs().sum() > 0
    assert all(parameter.grad is None for parameter in relative.classifier.parameters())


def test_the_semantic_term_trains_regression_and_palette_models(photo_folder, tmp_path):
    semantic = ("--semantic_weight", "0.1", "--semantic_classifier", "tf_efficientnet_lite0",
                "--backbone_weights", "package", "--max_steps", "2")
    assert run("colorizer-baseline", photo_folder, tmp_path / "baseline", *semantic)["steps"] == 2
    with_undersaturation = run("colorizer-baseline", photo_folder, tmp_path / "both", *semantic,
                               "--undersaturation_weight", "0.3",  # a compute_loss_func as well
                               "--semantic_image_size", "96", "--semantic_chroma_gain", "1.5",
                               "--semantic_relative_to_gray", "true")
    assert with_undersaturation["steps"] == 2
    # a palette head: the term reaches its logits through the annealed mean, which is differentiable
    assert run("colorizer-unet24", photo_folder, tmp_path / "unet24", *semantic)["steps"] == 2


def test_the_srgb_term_is_the_squared_error_of_the_displayed_colours():
    from colorize_hub.color import denormalize_ab, denormalize_l, lab_to_rgb
    from colorize_hub.training.losses import RgbReconstruction

    term = RgbReconstruction()
    lightness, true_ab = astronaut_lab()
    assert term(lightness, true_ab, true_ab).item() == pytest.approx(0.0, abs=1e-7)
    gray = torch.zeros_like(true_ab, requires_grad=True)
    as_shown = lambda ab: lab_to_rgb(torch.cat([denormalize_l(lightness), denormalize_ab(ab)], dim=1))
    expected = (as_shown(gray.detach()) - as_shown(true_ab)).square().mean()
    assert term(lightness, gray, true_ab).item() == pytest.approx(expected.item(), rel=1e-5) and expected > 1e-3
    term(lightness, gray, true_ab).backward()
    assert gray.grad.abs().sum() > 0
    # a prediction at a lower resolution than the photo is upsampled first, as the merge does
    assert term(lightness, true_ab[..., ::2, ::2], true_ab).item() < expected.item() / 10


def test_the_srgb_term_trains_regression_and_palette_models_and_the_gan_refuses_it(photo_folder, tmp_path):
    flags = ("--rgb_weight", "50", "--max_steps", "2", "--backbone_weights", "none", "--logging_steps", "1")
    first_loss = lambda folder: json.loads((folder / "loss_curve.json").read_text())[0]["loss"]
    assert run("colorizer-baseline", photo_folder, tmp_path / "baseline", *flags)["steps"] == 2
    run("colorizer-baseline", photo_folder, tmp_path / "plain", *flags[2:])  # the same step without the term
    assert first_loss(tmp_path / "baseline") > first_loss(tmp_path / "plain") > 0
    # beside a compute_loss_func (the under-saturation term), which takes the labels out of the inputs
    both = run("colorizer-baseline", photo_folder, tmp_path / "both", *flags, "--undersaturation_weight", "0.3")
    assert both["steps"] == 2
    assert run("colorizer-unet24", photo_folder, tmp_path / "unet24", *flags)["steps"] == 2
    with pytest.raises(SystemExit, match="rgb_weight"):
        run("colorizer-gan", photo_folder, tmp_path / "gan", *flags)


def test_the_gan_generator_takes_the_semantic_term(photo_folder, tmp_path):
    summary = run("colorizer-gan", photo_folder, tmp_path, "--semantic_weight", "1.0", "--semantic_classifier",
                  "tf_efficientnet_lite0", "--backbone_weights", "package", "--max_steps", "2", "--logging_steps", "1")
    logged = [entry for entry in json.loads((tmp_path / "loss_curve.json").read_text()) if "semantic_loss" in entry]
    assert summary["steps"] == 2 and logged and all(entry["semantic_loss"] > 0 for entry in logged)


def test_gan_trains_with_the_undersaturation_term(photo_folder, tmp_path):
    summary = run("colorizer-gan", photo_folder, tmp_path, "--max_steps", "2", "--undersaturation_weight", "0.5",
                  "--logging_steps", "1")
    logged = json.loads((tmp_path / "loss_curve.json").read_text())
    assert summary["steps"] == 2 and any("reconstruction_loss" in entry for entry in logged)


def test_pixel_accuracy_counts_pixels_on_their_nearest_palette_colour():
    from colorize_hub.training.train import pixel_accuracy

    palette = torch.tensor([[0.0, 0.0], [0.5, 0.0], [0.0, 0.5]])
    true_ab = torch.tensor([[0.45, 0.0], [0.0, 0.4], [0.1, 0.0], [0.0, 0.6]]).T.reshape(1, 2, 2, 2)
    predicted = torch.tensor([[1, 2], [1, 0]])[None]  # right, right, wrong (nearest is 0), wrong (nearest is 2)
    assert pixel_accuracy(predicted, true_ab, palette) == 0.5


def test_the_same_command_runs_data_parallel_under_torchrun(photo_folder, tmp_path):
    """Two CPU processes (gloo): the multi-GPU path of `torchrun`/`accelerate launch`, with no code change."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    torchrun = Path(sys.executable).with_name("torchrun")
    command = [
        str(torchrun), "--nproc-per-node", "2", "-m", "colorize_hub.training.train", "--model", "colorizer-baseline",
        "--config_overrides", json.dumps(TINY_CONFIGS["colorizer-baseline"]), "--train_data", str(photo_folder),
        "--image_size", "64", "--output_dir", str(tmp_path), "--max_steps", "3", "--per_device_train_batch_size", "2",
        "--use_cpu", "--report_to", "none", "--disable_tqdm", "true",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((tmp_path / "training_summary.json").read_text())
    assert summary["processes"] == 2 and summary["steps"] == 3
    assert (tmp_path / "model.safetensors").exists()


def test_a_fine_tune_card_lists_every_run(photo_folder, tmp_path):
    run("colorizer-baseline", photo_folder, tmp_path / "first", "--max_steps", "1")
    summary = run("colorizer-baseline", photo_folder, tmp_path / "second", "--max_steps", "2",
                  "--init_from", str(tmp_path / "first"))
    assert [r["steps"] for r in summary["earlier_runs"]] == [1]
    card = (tmp_path / "second" / "README.md").read_text()
    assert "Run 1" in card and "Final run" in card and card.count("- command: `colorize-hub train") == 2


def test_a_regression_fusion_fine_tunes_into_a_palette_head(photo_folder, tmp_path):
    """--config_overrides '{"head": "palette"}' on --init_from: the trunk's weights carry over, the new head gets
    the training data's palette, and evaluation reports per-pixel class accuracy."""
    run("colorizer-fusion", photo_folder, tmp_path / "regression", "--max_steps", "1", "--backbone_weights", "none")
    palette_head = json.dumps({**TINY_CONFIGS["colorizer-fusion"], "head": "palette"})
    summary = run("colorizer-fusion", photo_folder, tmp_path / "palette", "--max_steps", "1", "--learning_rate", "0",
                  "--init_from", str(tmp_path / "regression"), "--config_overrides", palette_head,
                  "--eval_data", str(photo_folder))
    assert "eval_pixel_accuracy" in summary["eval_metrics"]
    config = json.loads((tmp_path / "palette" / "config.json").read_text())
    assert config["head"] == "palette" and len(config["palette"]) == 24 and config["annealed_temperature"] == 0.38
    assert config["palette"] != TINY_CONFIGS["colorizer-fusion"].get("palette") and len(set(config["class_weights"])) > 1
    before, after = (load_file(tmp_path / name / "model.safetensors") for name in ("regression", "palette"))
    assert "head.weight" in before and "head.weight" not in after and "classifier.weight" in after
    torch.testing.assert_close(after["encoder.0.0.0.weight"], before["encoder.0.0.0.weight"])  # lr 0: unchanged


def test_the_card_describes_the_fusion_head_and_backbone_features():
    from colorize_hub.publishing.model_card import description_of

    plain = description_of({"model_type": "colorizer-fusion", "head": "regression"})
    extended = description_of({"model_type": "colorizer-fusion", "head": "palette", "palette": [[0.0, 0.0]] * 24,
                               "backbone_feature_stage": 3})
    assert plain.startswith("Deep Koalarization") and "k-means" not in plain and "stage" not in plain
    assert "24 k-means colours" in extended and "feature map of stage 3" in extended

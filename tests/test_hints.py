"""Colour hints: parsing, the model's hint inputs, training draws, widening a hint-free checkpoint and narrowing a
hint model back, the pipeline, suggestions and the CLI."""

import json

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data

from colorize_hub import ColorizationError, colorize
from colorize_hub.color import AB_SCALE, rgb_to_lab
from colorize_hub.hints import hint_patch, hint_tensors, parse_colour, parse_hints
from colorize_hub.image_processing_colorization import ColorizationImageProcessor
from colorize_hub.models.hint_inputs import HINT_GAIN, hint_features
from colorize_hub.suggestions import suggest_colours
from colorize_hub.training.hints import draw_hints
from colorize_hub.training.narrowing import hint_free_copy
from colorize_hub.training.widening import load_widened
from conftest import build_tiny, tiny_config

HINTS = dict(tiny_config("colorizer-encoder-unet", "hints"))


def save(model, folder, render_size=64):
    model.save_pretrained(folder)
    ColorizationImageProcessor(render_size=render_size).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def hint_model(tmp_path_factory):
    return save(build_tiny("colorizer-encoder-unet", **HINTS).eval(), tmp_path_factory.mktemp("hints"))


@pytest.fixture(scope="module")
def photo():
    return Image.fromarray(data.astronaut()).resize((120, 90))


def test_colours_parse_from_hex_and_rgb_and_bad_ones_are_refused():
    assert parse_colour("#3060c0") == (48, 96, 192) == parse_colour((48, 96, 192)) == parse_colour("3060C0")
    assert parse_colour("#fff") == (255, 255, 255)
    for bad in ("blue", "#12345", (1, 2), (0, 0, 300), (0, float("nan"), 0), None, (True, 0, 0)):
        with pytest.raises(ColorizationError, match="not a colour"):
            parse_colour(bad)


def test_hints_are_validated_against_the_photo_size():
    assert parse_hints([(0, 0, "#000000"), {"x": 119.5, "y": 89, "color": (1, 2, 3)}], (120, 90)) == [
        (0.0, 0.0, (0, 0, 0)), (119.5, 89.0, (1, 2, 3))]
    assert parse_hints(None, (10, 10)) == []
    with pytest.raises(ColorizationError, match=r"Hint 2: x = 120 is outside the photo \(120x90"):
        parse_hints([(1, 1, "#000000"), (120, 5, "#000000")], (120, 90))
    with pytest.raises(ColorizationError, match="y = -1 is outside"):
        parse_hints([(1, -1, "#000000")], (120, 90))
    with pytest.raises(ColorizationError, match="Hint 1: Hint colour 'red' is not a colour"):
        parse_hints([(1, 1, "red")], (120, 90))
    with pytest.raises(ColorizationError, match="each hint is"):
        parse_hints([(1, 1)], (120, 90))
    with pytest.raises(ColorizationError, match="list of"):
        parse_hints("1,1,#fff", (120, 90))
    with pytest.raises(ColorizationError, match="more than"):
        parse_hints([(1, 1, "#000000")] * 201, (120, 90))


def test_hint_tensors_mark_a_patch_with_the_colours_ab_divided_by_the_gain():
    tensors = hint_tensors([(60, 45, "#3060c0")], (120, 90), 64, chroma=2.0)
    mask, ab = tensors["hint_mask"][0, 0], tensors["hint_ab"][0]
    rows, columns = torch.nonzero(mask, as_tuple=True)
    side = hint_patch(64)
    assert mask.sum() == side * side and (rows.float().mean(), columns.float().mean()) == (32, 32)
    expected = rgb_to_lab(torch.tensor([48, 96, 192]).float().view(1, 3, 1, 1) / 255)[0, 1:, 0, 0] / AB_SCALE / 2
    assert torch.allclose(ab[:, 32, 32], expected, atol=1e-5)
    assert ab[:, 0, 0].abs().sum() == 0


def test_at_a_larger_input_a_hint_covers_the_share_of_cells_it_covered_at_the_trained_size():
    hint_ab, hint_mask = torch.zeros(1, 2, 256, 256), torch.zeros(1, 1, 256, 256)
    hint_ab[:, :, 100, 40], hint_mask[:, :, 100, 40] = 0.3, 1
    plain = hint_features(hint_ab, hint_mask, (8, 8))
    assert plain[0, 2].sum() == HINT_GAIN and plain[0, 2, 3, 1] == HINT_GAIN  # one cell of 32 px
    coarse = hint_features(hint_ab, hint_mask, (8, 8), trained_size=128)
    assert coarse[0, 2].sum() == 4 * HINT_GAIN and torch.equal(coarse[0, 2, 2:4, 0:2], plain.new_full((2, 2), HINT_GAIN))
    assert torch.allclose(coarse[0, :2, 2, 0], torch.tensor([0.3, 0.3]) * HINT_GAIN)  # the hint's own ab, not diluted
    # at or below the trained size, and on grids the trained size cannot coarsen, nothing changes
    assert torch.equal(hint_features(hint_ab, hint_mask, (8, 8), trained_size=256), plain)
    assert torch.equal(hint_features(hint_ab, hint_mask, (8, 8), trained_size=512), plain)


def test_the_hint_grid_changes_hinted_outputs_only():
    model = build_tiny("colorizer-encoder-unet", seed=5, **HINTS).eval()
    torch.nn.init.normal_(model.hint_entry.weight, std=0.05)  # make hints count, as training would
    pixels, hint_ab, hint_mask = torch.rand(1, 1, 128, 128) * 2 - 1, torch.zeros(1, 2, 128, 128), torch.zeros(1, 1, 128, 128)
    hint_ab[:, 0, 60:63, 60:63], hint_mask[:, :, 60:63, 60:63] = 0.4, 1
    with torch.no_grad():
        free, hinted = model(pixels).predicted_ab, model(pixels, hint_ab=hint_ab, hint_mask=hint_mask).predicted_ab
        model.config.hint_trained_size = 64
        assert torch.equal(model(pixels).predicted_ab, free)
        assert not torch.allclose(model(pixels, hint_ab=hint_ab, hint_mask=hint_mask).predicted_ab, hinted)


def test_training_hints_reveal_the_mean_true_colour_of_each_patch():
    labels = torch.rand(2, 32, 32) - 0.5
    generator = torch.Generator().manual_seed(0)
    assert draw_hints(labels, free_share=1.0, generator=generator)["hint_mask"].sum() == 0
    counts = []
    for _ in range(50):
        hints = draw_hints(labels, free_share=0.0, p=0.5, max_patch=1, generator=generator)
        mask = hints["hint_mask"][0].bool()
        assert mask.any()
        # 1-pixel patches: the hint is exactly the true ab there, zero elsewhere
        assert torch.equal(hints["hint_ab"][:, mask], labels[:, mask]) and hints["hint_ab"][:, ~mask].abs().sum() == 0
        counts.append(int(mask.sum()))
    assert 1.4 < np.mean(counts) < 2.8  # 1 + Geometric(0.5): mean 2 (minus rare overlaps)


def test_a_widened_checkpoint_starts_identical_and_then_learns_from_hints(tmp_path):
    plain = build_tiny("colorizer-encoder-unet", head="regression").eval()
    save(plain, tmp_path / "plain")
    widened = build_tiny("colorizer-encoder-unet", seed=3, **HINTS)
    changes = load_widened(widened, tmp_path / "plain")
    assert len(changes["widened"]) == 4 and "hint_entry.weight" in changes["new"]
    widened.eval()
    pixels = torch.rand(2, 1, 64, 96) * 2 - 1
    hint_ab = torch.zeros(2, 2, 64, 96)
    hint_mask = torch.zeros(2, 1, 64, 96)
    hint_ab[:, 0, 5:10, 5:10], hint_mask[:, :, 5:10, 5:10] = 0.5, 1
    with torch.no_grad():
        reference = plain(pixels).predicted_ab
        assert torch.equal(widened(pixels).predicted_ab, reference)
        assert torch.equal(widened(pixels, hint_ab=hint_ab, hint_mask=hint_mask).predicted_ab, reference)
    widened.train()
    widened(pixels, labels=torch.zeros(2, 2, 64, 96), hint_ab=hint_ab, hint_mask=hint_mask).loss.backward()
    assert widened.hint_entry.weight.grad.abs().sum() > 0  # zero weights, but they learn
    assert widened.decoder[-1].conv[0].weight.grad[:, -3:].abs().sum() > 0


def test_a_hint_model_without_its_hint_inputs_colours_exactly_as_it_does_given_none():
    hinted = build_tiny("colorizer-encoder-unet", seed=4, **HINTS).eval()
    with torch.no_grad():  # as after training: the hint weights are no longer zero
        hinted.hint_entry.weight.normal_(0, 0.5)
        hinted.hint_entry.bias.normal_(0, 0.5)
        for stage in hinted.decoder:
            stage.conv[0].weight[:, -3:].normal_(0, 0.5)
    plain = hint_free_copy(hinted)
    assert not plain.config.hints and not hasattr(plain, "hint_entry")
    pixels = torch.rand(2, 1, 64, 96) * 2 - 1
    with torch.no_grad():
        expected = hinted(pixels).predicted_ab
        assert torch.allclose(plain(pixels).predicted_ab, expected, atol=1e-6)
        hinted.hint_entry.bias.zero_()  # without hints the entry conv adds its bias: the copy must carry it
        assert not torch.allclose(hinted(pixels).predicted_ab, expected, atol=1e-4)
    with pytest.raises(ColorizationError, match="already hint-free"):
        hint_free_copy(plain)


def test_a_model_without_hint_support_refuses_hints_and_names_one_that_has_them(tmp_path, photo, monkeypatch):
    plain = save(build_tiny("colorizer-encoder-unet", head="regression").eval(), tmp_path / "plain")
    monkeypatch.setattr("colorize_hub.pipeline.hint_checkpoints", lambda: ["colorizer-encoder-unet-hints"])
    with pytest.raises(ColorizationError, match="does not take colour hints; use colorizer-encoder-unet-hints"):
        colorize(photo, model=str(plain), hints=[(5, 5, "#0000ff")])
    assert colorize(photo, model=str(plain), hints=[]).size == photo.size  # no hints: nothing to refuse
    with pytest.raises(ValueError, match="does not take colour hints"):  # the model itself refuses them too
        build_tiny("colorizer-encoder-unet")(torch.zeros(1, 1, 32, 32), hint_ab=torch.zeros(1, 2, 32, 32),
                                              hint_mask=torch.zeros(1, 1, 32, 32))


def test_colorize_with_hints_keeps_the_photos_lightness_and_follows_the_hints(hint_model, photo):
    plain = colorize(photo, model=str(hint_model), precision="fp32")
    same = colorize(photo, model=str(hint_model), precision="fp32", hints=[])
    hinted = colorize(photo, model=str(hint_model), precision="fp32", hints=[(30, 40, "#2040ff"), (90, 20, "#ff2000")])
    assert np.array_equal(np.asarray(plain), np.asarray(same))
    assert hinted.size == photo.size and not np.array_equal(np.asarray(plain), np.asarray(hinted))
    lightness = lambda image: rgb_to_lab(torch.from_numpy(np.asarray(image).copy()).permute(2, 0, 1)[None] / 255)[0, 0]  # noqa: E731
    assert (lightness(hinted) - lightness(plain)).abs().mean() < 1.0
    with pytest.raises(ColorizationError, match="outside the photo"):
        colorize(photo, model=str(hint_model), hints=[(500, 40, "#2040ff")])


def test_suggestions_are_distinct_colours_most_likely_first(hint_model, photo):
    suggestions = suggest_colours(photo, 30, 40, model=str(hint_model), count=5, hints=[(90, 20, "#ff2000")])
    assert 1 <= len(suggestions) <= 5 and len({s.colour for s in suggestions}) == len(suggestions)
    assert all(s.colour.startswith("#") and len(s.colour) == 7 for s in suggestions)
    probabilities = [s.probability for s in suggestions]
    assert probabilities == sorted(probabilities, reverse=True) and 0 < sum(probabilities) <= 1.0001
    with pytest.raises(ColorizationError, match="outside the photo"):
        suggest_colours(photo, 30, 400, model=str(hint_model))


def test_cli_takes_a_hints_file_for_one_photo(hint_model, photo, tmp_path):
    from colorize_hub.cli import main

    photo.save(tmp_path / "old.png")
    (tmp_path / "hints.json").write_text(json.dumps([{"x": 30, "y": 40, "color": "#2040ff"}]))
    argv = ["colorize", str(tmp_path / "old.png"), "-o", str(tmp_path / "new.png"), "--model", str(hint_model), "-q"]
    assert main(argv + ["--hints", str(tmp_path / "hints.json")]) == 0
    expected = colorize(tmp_path / "old.png", model=str(hint_model), hints=[(30, 40, "#2040ff")])
    assert np.array_equal(np.asarray(Image.open(tmp_path / "new.png")), np.asarray(expected))
    (tmp_path / "bad.json").write_text("{not json")
    assert main(argv + ["--overwrite", "--hints", str(tmp_path / "bad.json")]) != 0
    assert main(["colorize", str(tmp_path / "old.png"), str(tmp_path / "old.png"), "-o", str(tmp_path / "out"),
                 "--model", str(hint_model), "--hints", str(tmp_path / "hints.json")]) != 0


def test_a_hint_checkpoint_loads_as_remote_code_with_its_hint_inputs(hint_model):
    from transformers import AutoModel

    assert (hint_model / "hint_inputs.py").is_file()
    remote = AutoModel.from_pretrained(hint_model, trust_remote_code=True).eval()
    local = build_tiny("colorizer-encoder-unet", **HINTS).eval()
    pixels, hint_ab, hint_mask = torch.rand(1, 1, 64, 64) * 2 - 1, torch.zeros(1, 2, 64, 64), torch.zeros(1, 1, 64, 64)
    hint_ab[:, 1, 20:25, 20:25], hint_mask[..., 20:25, 20:25] = -0.4, 1
    with torch.no_grad():
        ours = local(pixels, hint_ab=hint_ab, hint_mask=hint_mask, return_suggestions=True)
        theirs = remote(pixels, hint_ab=hint_ab, hint_mask=hint_mask, return_suggestions=True)
    assert torch.allclose(ours.predicted_ab, theirs.predicted_ab, atol=1e-6)
    assert torch.allclose(ours.suggestion_logits, theirs.suggestion_logits, atol=1e-5)


def test_the_demo_api_colorizes_with_hints_and_suggests_colours(hint_model, photo, tmp_path):
    import gradio_client
    from gradio_client import handle_file

    from test_app import launch_app

    photo.save(tmp_path / "old.png")
    demo, url = launch_app({"colorizer-encoder-unet-hints": hint_model})
    try:
        client = gradio_client.Client(url, verbose=False)
        hints = json.dumps([{"x": 30, "y": 40, "color": "#2040ff"}])
        before, after = client.predict(handle_file(str(tmp_path / "old.png")), hints, 128, 1.0,
                                       api_name="/colorize_with_hints")
        expected = colorize(tmp_path / "old.png", model=str(hint_model), render_size=128, hints=[(30, 40, "#2040ff")])
        with Image.open(after) as shown:
            assert shown.size == photo.size
            assert np.abs(np.asarray(shown, dtype=float) - np.asarray(expected, dtype=float)).mean() < 3  # JPEG
        likely = client.predict(handle_file(str(tmp_path / "old.png")), 30, 40, "[]", api_name="/suggest_colours")
        assert likely and all(entry["color"].startswith("#") for entry in likely)
        for bad, message in (('[{"x": 500, "y": 40, "color": "#2040ff"}]', "outside the photo"),
                             ("[{", "must be JSON"), ('[{"x": 5, "y": 5, "color": "blue"}]', "not a colour")):
            with pytest.raises(gradio_client.exceptions.AppError, match=message):
                client.predict(handle_file(str(tmp_path / "old.png")), bad, 128, 1.0, api_name="/colorize_with_hints")
        # the classic endpoints keep their signatures
        client.predict(handle_file(str(tmp_path / "old.png")), "colorizer-encoder-unet-hints", 128, 1.0,
                       api_name="/colorize")
    finally:
        demo.close()


def test_fine_tuning_to_take_hints_records_the_size_hints_were_learnt_at(tmp_path):
    from colorize_hub.training import train

    for index in range(4):
        Image.fromarray(data.astronaut()).rotate(90 * index).resize((96, 80)).save(tmp_path / f"{index}.png")
    plain = save(build_tiny("colorizer-encoder-unet", head="regression").eval(), tmp_path / "plain")
    train.main(["--model", "colorizer-encoder-unet", "--init_from", str(plain), "--config_overrides", '{"hints": true}',
                "--train_data", str(tmp_path), "--image_size", "64", "--output_dir", str(tmp_path / "run"),
                "--per_device_train_batch_size", "2", "--max_steps", "1", "--use_cpu", "--report_to", "none",
                "--disable_tqdm", "true"])
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["hints"] and config["hint_trained_size"] == 64

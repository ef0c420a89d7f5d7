import csv
import json

import pytest
from PIL import Image
from skimage import data

from colorize_hub import ColorizationImageProcessor, cli
from colorize_hub.evaluation.evaluate import GRAY, evaluate
from colorize_hub.evaluation.protocol import load_protocol_image
from colorize_hub.evaluation.semantic import imagenet_label
from conftest import build_tiny


@pytest.fixture(scope="module")
def eval_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("eval")
    for name in ("astronaut", "coffee", "chelsea"):
        Image.fromarray(getattr(data, name)()).save(folder / f"{name}.png")
    return folder


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    folder = tmp_path_factory.mktemp("colorizer-unet24-tiny")
    build_tiny("colorizer-unet24").save_pretrained(folder)
    ColorizationImageProcessor(render_size=64).save_pretrained(folder)
    return folder


def test_protocols_give_the_documented_sizes(eval_folder):
    path = eval_folder / "coffee.png"  # 600 x 400
    assert load_protocol_image(path, "short-side-256").size == (384, 256)
    assert load_protocol_image(path, "ct2-256").size == (256, 256)
    assert load_protocol_image(path, "native").size == (600, 400)


def test_gray_row_matches_the_known_baseline_and_models_are_rows(eval_folder, tiny_checkpoint):
    results, _ = evaluate([str(tiny_checkpoint)], eval_folder, render_size=64)
    assert list(results) == [GRAY, str(tiny_checkpoint)]
    gray = results[GRAY]
    assert gray["images"] == 3 and gray["colourfulness"] < 1.0 and gray["colourfulness_truth"] > 20
    assert "top1" not in gray  # no ImageNet wnids in these file names
    assert 15 < gray["psnr"] < 40 and 0 < gray["ssim"] <= 1 and gray["delta_e"] > 1
    assert gray["delta_colourfulness"] == pytest.approx(gray["colourfulness_truth"] - gray["colourfulness"])


def test_cli_writes_json_and_markdown(eval_folder, tiny_checkpoint, tmp_path):
    assert cli.main(["evaluate", "--models", str(tiny_checkpoint), "--data", str(eval_folder),
                     "--render-size", "64", "--max-images", "2", "--out", str(tmp_path)]) == 0
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["results"][GRAY]["images"] == 2
    report = (tmp_path / "metrics.md").read_text()
    assert "PSNR − gray" in report and "LPIPS: n/a" in report and "FID: n/a" in report
    assert saved["not_available"]["fid"].startswith("n/a")
    assert (tmp_path / "grid.png").exists() and (tmp_path / "bars.png").exists()


def test_per_image_rows_add_up_to_the_means_and_name_the_worst_photos(eval_folder, tiny_checkpoint, tmp_path):
    rows = []
    results, _ = evaluate([str(tiny_checkpoint)], eval_folder, render_size=64, per_image=rows)
    model = str(tiny_checkpoint)
    assert [(row["image"], row["model"]) for row in rows[:2]] == [("astronaut.png", GRAY), ("astronaut.png", model)]
    mine = [row for row in rows if row["model"] == model]
    assert len(mine) == 3 and sum(row["psnr"] for row in mine) / 3 == pytest.approx(results[model]["psnr"])
    gray = {row["image"]: row["psnr"] for row in rows if row["model"] == GRAY}
    assert all(row["psnr_minus_gray"] == pytest.approx(row["psnr"] - gray[row["image"]]) for row in mine)

    assert cli.main(["evaluate", "--models", model, "--data", str(eval_folder), "--render-size", "64",
                     "--grid-images", "0", "--out", str(tmp_path)]) == 0
    with (tmp_path / "per_image.csv").open() as file:
        saved = list(csv.DictReader(file))
    assert len(saved) == 6 and float(saved[1]["psnr"]) == pytest.approx(rows[1]["psnr"], abs=1e-4)
    worst = min(mine, key=lambda row: row["psnr_minus_gray"])
    report = (tmp_path / "metrics.md").read_text()
    assert f"{worst['image']} {worst['psnr_minus_gray']:+.2f} dB" in report.split("furthest below gray")[1]


def test_update_adds_and_replaces_models_as_a_full_run_would_write_them(eval_folder, tiny_checkpoint, tmp_path,
                                                                      capsys):
    other = tmp_path / "colorizer-baseline-tiny"
    build_tiny("colorizer-baseline").save_pretrained(other)
    ColorizationImageProcessor(render_size=64).save_pretrained(other)
    common = ["evaluate", "--data", str(eval_folder), "--render-size", "64", "--grid-images", "1"]
    full, updated = tmp_path / "full", tmp_path / "updated"
    assert cli.main([*common, "--models", str(tiny_checkpoint), str(other), "--out", str(full)]) == 0
    assert cli.main([*common, "--models", str(tiny_checkpoint), "--out", str(updated)]) == 0
    assert cli.main([*common, "--models", str(other), "--out", str(updated), "--update"]) == 0  # added
    assert cli.main([*common, "--models", str(tiny_checkpoint), "--out", str(updated), "--update"]) == 0  # replaced
    for name in ("metrics.json", "per_image.csv", "metrics.md"):
        assert (updated / name).read_text() == (full / name).read_text(), name
    assert (updated / "grid.png").exists()
    before = (updated / "per_image.csv").read_text()
    assert cli.main([*common, "--models", str(other), "--out", str(updated), "--update", "--protocol", "ct2-256"]) == 2
    assert "same --data, --protocol" in capsys.readouterr().err and (updated / "per_image.csv").read_text() == before
    assert cli.main([*common, "--models", str(other), "--out", str(tmp_path / "empty"), "--update"]) == 2
    assert "earlier run" in capsys.readouterr().err


def test_evaluation_runs_in_fp32_unless_asked_and_updates_only_in_the_same_precision(eval_folder, tiny_checkpoint,
                                                                                    tmp_path, capsys, monkeypatch):
    from colorize_hub.evaluation import evaluate as evaluate_module

    precisions = []
    real_colorize = evaluate_module.colorize

    def recording_colorize(*args, **kwargs):
        precisions.append(kwargs["precision"])
        return real_colorize(*args, **kwargs)

    monkeypatch.setattr(evaluate_module, "colorize", recording_colorize)
    out = tmp_path / "results"
    common = ["evaluate", "--data", str(eval_folder), "--render-size", "64", "--grid-images", "0", "--max-images", "1",
              "--models", str(tiny_checkpoint), "--out", str(out)]
    assert cli.main(common) == 0
    assert set(precisions) == {"fp32"}  # the same numbers on a CPU with or without native bf16
    assert json.loads((out / "metrics.json").read_text())["precision"] == "fp32"
    assert "fp32" in (out / "metrics.md").read_text().splitlines()[0]
    precisions.clear()
    before = (out / "per_image.csv").read_text()
    assert cli.main([*common, "--update", "--precision", "bf16"]) == 2
    assert "--precision" in capsys.readouterr().err and (out / "per_image.csv").read_text() == before
    assert precisions == []
    metrics = json.loads((out / "metrics.json").read_text())  # a folder written before the field existed: fp32
    del metrics["precision"]
    (out / "metrics.json").write_text(json.dumps(metrics))
    assert cli.main([*common, "--update"]) == 0 and set(precisions) == {"fp32"}
    assert cli.main([*common[:-2], "--out", str(tmp_path / "bf16"), "--precision", "bf16"]) == 0
    assert precisions[-1] == "bf16"


def test_results_name_data_under_the_home_folder_with_a_tilde():
    from pathlib import Path

    from colorize_hub.evaluation.earlier_results import shown_path

    assert shown_path(Path.home() / "colorize-data" / "val") == shown_path("~/colorize-data/val") == "~/colorize-data/val"
    assert shown_path("../shared/data/eval/kodak24") == "../shared/data/eval/kodak24"


def test_semantic_top1_for_files_named_by_imagenet_wnid(tiny_checkpoint, tmp_path):
    Image.fromarray(data.chelsea()).save(tmp_path / "n02123045_tabby.png")  # a tabby cat
    results, grid = evaluate([str(tiny_checkpoint)], tmp_path, protocol="ct2-256", render_size=64, grid_images=1)
    assert results[GRAY]["top1_truth"] in (0.0, 1.0) and "top1" in results[str(tiny_checkpoint)]
    assert len(grid) == 1 and len(grid[0]) == 3  # gray, the model, ground truth


def test_semantic_top1_for_tiny_imagenet_val_photos_named_in_its_annotations(tiny_checkpoint, tmp_path):
    (tmp_path / "images").mkdir()
    Image.fromarray(data.chelsea()).resize((64, 64)).save(tmp_path / "images" / "val_0.JPEG")
    Image.fromarray(data.coffee()).resize((64, 64)).save(tmp_path / "images" / "val_1.JPEG")
    (tmp_path / "val_annotations.txt").write_text(
        "val_0.JPEG\tn02123045\t0\t0\t63\t63\nval_1.JPEG\tn07920052\t0\t0\t63\t63\n")  # tabby, espresso
    assert imagenet_label(tmp_path / "images" / "val_0.JPEG") == 281  # tabby in ImageNet-1k order
    assert imagenet_label(tmp_path / "images" / "val_7.JPEG") is None  # not in the annotations
    results, _ = evaluate([str(tiny_checkpoint)], tmp_path / "images", protocol="native", render_size=64)
    assert "top1" in results[str(tiny_checkpoint)] and results[GRAY]["top1_truth"] in (0.0, 1.0)


def test_tiny_imagenet_annotations_are_found_above_val_images_as_extracted(tmp_path):
    # the extracted copy: tinyimagenet/val_annotations.txt beside tinyimagenet/val/, photos in val/images/
    (tmp_path / "val" / "images").mkdir(parents=True)
    (tmp_path / "val_annotations.txt").write_text("val_3.JPEG\tn02123045\t0\t0\t63\t63\n")
    assert imagenet_label(tmp_path / "val" / "images" / "val_3.JPEG") == 281


def test_chroma_gain_is_the_most_natural_one_that_keeps_psnr_above_gray():
    from colorize_hub.evaluation.calibration import choose_gain

    table = {0.8: (23.0, 20.0), 1.0: (22.8, 30.0), 1.2: (22.4, 38.0), 1.4: (21.9, 44.0)}
    assert choose_gain(table, gray_psnr=22.5, truth_cf=40.0) == 1.0  # 1.2 is closer to 40 but below gray
    assert choose_gain(table, gray_psnr=22.0, truth_cf=40.0) == 1.2
    assert choose_gain(table, gray_psnr=30.0, truth_cf=40.0) == 0.8  # none keeps PSNR: the most faithful
    assert choose_gain(table, gray_psnr=22.5, truth_cf=40.0, psnr_tolerance=0.5) == 1.2  # 22.4 is within 0.5 dB
    # a negative tolerance is a margin every setting must keep over the gray image
    assert choose_gain(table, gray_psnr=22.4, truth_cf=40.0, psnr_tolerance=-0.3) == 1.0  # 22.8 is 0.4 above
    assert choose_gain(table, gray_psnr=22.4, truth_cf=40.0, psnr_tolerance=-0.5) == 0.8  # only 23.0 is


def test_psnr_at_colourfulness_interpolates_one_temperature_and_says_when_out_of_reach():
    from colorize_hub.evaluation.calibration import psnr_at_colourfulness

    table = {(0.5, 1.0): (23.0, 20.0), (0.5, 1.2): (22.0, 30.0), (0.7, 1.0): (30.0, 25.0)}
    assert psnr_at_colourfulness(table, 0.5, 25.0) == pytest.approx(22.5)
    assert psnr_at_colourfulness(table, 0.5, 20.0) == pytest.approx(23.0)
    assert psnr_at_colourfulness(table, 0.5, 31.0) is None  # more colour than the gains searched give
    regression = {(None, 1.0): (23.0, 20.0), (None, 1.4): (21.0, 28.0)}
    assert psnr_at_colourfulness(regression, None, 24.0) == pytest.approx(22.0)


def test_paired_difference_compares_each_photo_at_the_gain_of_equal_mean_colour_with_its_standard_error():
    import numpy as np

    from colorize_hub.evaluation.calibration import paired_difference

    # three photos; at gain 1.0 the mean CF is 20, at 2.0 it is 30: CF 25 is reached at gain 1.5
    candidate = {(None, 1.0): np.array([[24.0, 19.0], [22.0, 20.0], [20.0, 21.0]]),
                 (None, 2.0): np.array([[22.0, 29.0], [21.0, 30.0], [18.0, 31.0]])}
    reference_psnr = np.array([22.0, 22.0, 19.5])
    result = paired_difference(candidate, None, reference_psnr, 25.0)
    assert result["gain"] == pytest.approx(1.5)
    # at gain 1.5 the photos read 23.0, 21.5 and 19.0: differences +1.0, -0.5, -0.5
    assert result["mean"] == pytest.approx(0.0)
    assert result["standard_error"] == pytest.approx(np.std([1.0, -0.5, -0.5], ddof=1) / np.sqrt(3))
    assert (result["wins"], result["photos"]) == (1, 3)
    assert paired_difference(candidate, None, reference_psnr, 35.0) is None  # beyond the gains searched


def test_temperatures_are_compared_at_the_gain_where_the_reference_set_has_the_same_colour():
    from colorize_hub.evaluation.calibration import equal_colour_settings

    dev = {(0.5, 1.0): (22.0, 30.0), (0.5, 1.2): (21.6, 36.0), (1.0, 1.0): (22.4, 24.0), (1.0, 1.2): (22.0, 28.0),
           (2.0, 1.0): (22.6, 10.0), (2.0, 1.2): (22.5, 12.0)}
    other = {key: (psnr + 1.0, cf + 2.0) for key, (psnr, cf) in dev.items()}
    rows = equal_colour_settings({"dev": (dev, 22.5), "other": (other, 23.0)}, "dev", target_cf=33.0)
    assert [row["temperature"] for row in rows] == [0.5]  # at 1.0 and 2.0 dev never reaches CF 33
    (row,) = rows
    assert row["gain"] == pytest.approx(1.1)
    assert row["scores"]["dev"] == pytest.approx((21.8 - 22.5, 33.0))
    assert row["scores"]["other"] == pytest.approx((22.8 - 23.0, 35.0))
    rows = equal_colour_settings({"dev": (dev, 22.5)}, "dev", target_cf=26.0)
    assert [(row["temperature"], round(row["gain"], 3)) for row in rows] == [(1.0, 1.1)]


def test_calibration_searches_the_temperature_of_a_classifier_and_leaves_the_model_as_it_was(
        eval_folder, tiny_checkpoint):
    from colorize_hub.evaluation.calibration import calibrate_chroma_gain
    from colorize_hub.loading import as_colorizer

    model, _ = as_colorizer(str(tiny_checkpoint))
    before = model.config.annealed_temperature
    result = calibrate_chroma_gain(str(tiny_checkpoint), eval_folder, gains=(0.5, 1.0), max_images=1,
                                   temperatures=(0.2, 1.0), psnr_tolerance=100.0)
    assert result["annealed_temperature"] in (0.2, 1.0) and set(result["tables"]) == {"0.2", "1.0"}
    assert result["tables"]["0.2"] != result["tables"]["1.0"]  # the temperature changes the output
    assert model.config.annealed_temperature == before
    cf_gap = {key: abs(values[1] - result["truth_colourfulness"]) for t, table in result["tables"].items()
              for key, values in [((float(t), g), v) for g, v in table.items()]}
    assert cf_gap[(result["annealed_temperature"], result["chroma_gain"])] == min(cf_gap.values())


def test_calibration_runs_on_a_folder(eval_folder, tiny_checkpoint):
    from colorize_hub.evaluation.calibration import calibrate_chroma_gain

    result = calibrate_chroma_gain(str(tiny_checkpoint), eval_folder, gains=(0.5, 1.0, 1.5), max_images=2)
    assert result["chroma_gain"] in (0.5, 1.0, 1.5) and set(result["table"]) == {0.5, 1.0, 1.5}
    assert result["truth_colourfulness"] > 20


def test_calibration_runs_the_model_in_the_precision_asked_fp32_by_default(eval_folder, tiny_checkpoint, monkeypatch):
    from colorize_hub.evaluation import calibration

    precisions = []
    real_predict = calibration.predict_ab

    def recording_predict(model, pixel_values, precision="auto", *args):
        precisions.append(precision)
        return real_predict(model, pixel_values, precision, *args)

    monkeypatch.setattr(calibration, "predict_ab", recording_predict)
    result = calibration.calibrate_chroma_gain(str(tiny_checkpoint), eval_folder, gains=(1.0,), max_images=1,
                                               temperatures=(0.38,))
    assert set(precisions) == {"fp32"} and result["precision"] == "fp32"
    calibration.calibrate_chroma_gain(str(tiny_checkpoint), eval_folder, gains=(1.0,), max_images=1,
                                      temperatures=(0.38,), precision="bf16")
    assert precisions[-1] == "bf16"


def test_gain_table_renders_at_the_size_asked_for(eval_folder, tiny_checkpoint):
    from colorize_hub.evaluation.calibration import gain_table
    from colorize_hub.loading import as_colorizer

    model, _ = as_colorizer(str(tiny_checkpoint))
    seen = []
    hook = model.register_forward_pre_hook(lambda module, inputs: seen.append(tuple(inputs[0].shape[-2:])))
    try:
        gain_table(str(tiny_checkpoint), eval_folder, gains=(1.0,), max_images=1, render_size=32)
        asked, seen[:] = set(seen), []
        gain_table(str(tiny_checkpoint), eval_folder, gains=(1.0,), max_images=1)  # its own: 64
    finally:
        hook.remove()
    assert asked == {(32, 32)} and set(seen) == {(64, 64)}

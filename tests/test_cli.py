"""The command line: help for every subcommand, batch colorization of files, folders and globs, safety rules."""

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data

from colorize_hub import ColorizationImageProcessor, cli
from conftest import build_tiny

SUBCOMMANDS = ["train", "evaluate", "list", "colorize", "video", "push", "export"]


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory):
    """A tiny U-Net-24 that paints vivid colours even untrained (its classifier prefers saturated palette colours)."""
    folder = tmp_path_factory.mktemp("colorizer-unet24-tiny")
    model = build_tiny("colorizer-unet24", seed=1).eval()
    with torch.no_grad():
        model.classifier.bias.copy_(torch.linspace(-3, 3, 24))
    model.save_pretrained(folder)
    ColorizationImageProcessor(render_size=64).save_pretrained(folder)
    return str(folder)


@pytest.fixture
def photos(tmp_path):
    """inputs/a.png, inputs/sub/b.jpg (gray), inputs/sub/broken.jpg (not an image), loose/c.png (RGBA)."""
    (tmp_path / "inputs" / "sub").mkdir(parents=True)
    (tmp_path / "loose").mkdir()
    Image.fromarray(data.astronaut()).resize((80, 60)).save(tmp_path / "inputs" / "a.png")
    Image.fromarray(data.camera()).resize((50, 70)).save(tmp_path / "inputs" / "sub" / "b.jpg")
    (tmp_path / "inputs" / "sub" / "broken.jpg").write_bytes(b"\xff\xd8 this is not a JPEG")
    Image.fromarray(data.coffee()).resize((40, 30)).convert("RGBA").save(tmp_path / "loose" / "c.png")
    return tmp_path


def test_help_lists_every_subcommand_with_a_description(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    for name in SUBCOMMANDS:
        line = next(line for line in text.splitlines() if line.strip().startswith(name + " "))
        assert len(line.split(maxsplit=1)[1]) > 20, line  # a real one-line description


@pytest.mark.parametrize("name", ["list", "colorize", "video", "push", "export", "evaluate"])
def test_each_subcommand_has_help_with_examples(name, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main([name, "--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    assert "example" in text and f"colorize-hub {name}" in text


def test_colorize_folders_files_and_globs_reports_bad_files_and_keeps_going(photos, model_folder, capsys):
    out = photos / "out"
    code = cli.main(["colorize", str(photos / "inputs"), str(photos / "loose" / "*.png"), str(photos / "nothing*.png"),
                     "-o", str(out), "--model", model_folder, "--compare", "-q"])
    captured = capsys.readouterr()
    assert code == 1  # two inputs failed, the others were done
    assert "3 colorized, 0 skipped, 2 failed" in captured.out
    assert "broken.jpg" in captured.err and "nothing*.png" in captured.err
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png")) == [
        "a_color.png", "a_compare.png", "c_color.png", "c_compare.png", "sub/b_color.png", "sub/b_compare.png"]
    colour = Image.open(out / "a_color.png")
    assert colour.size == (80, 60) and Image.open(out / "c_color.png").mode == "RGBA"
    strip = Image.open(out / "a_compare.png")
    assert strip.size == (160, 60)
    pixels = np.asarray(strip.convert("RGB"), dtype=int)
    gray, coloured = pixels[:, :80], pixels[:, 80:]
    assert np.abs(gray[..., 0] - gray[..., 2]).max() <= 2  # left half is gray
    assert np.abs(coloured[..., 0] - coloured[..., 2]).mean() > 5  # right half is colour


def test_existing_outputs_are_kept_unless_overwrite(photos, model_folder, capsys):
    out = photos / "out"
    out.mkdir()
    (out / "a_color.png").write_bytes(b"keep me")
    args = ["colorize", str(photos / "inputs" / "a.png"), "-o", str(out), "--model", model_folder, "-q"]
    assert cli.main(args) == 0
    assert (out / "a_color.png").read_bytes() == b"keep me" and "0 colorized, 1 skipped" in capsys.readouterr().out
    assert cli.main([*args, "--overwrite"]) == 0
    assert Image.open(out / "a_color.png").size == (80, 60)


def test_a_rerun_adds_the_comparison_strip_an_interrupted_run_left_out(photos, model_folder, capsys):
    out = photos / "out"
    args = ["colorize", str(photos / "inputs" / "a.png"), "-o", str(out), "--model", model_folder, "--compare", "-q"]
    assert cli.main(args) == 0
    colour = (out / "a_color.png").read_bytes()
    strip = np.asarray(Image.open(out / "a_compare.png"))
    (out / "a_compare.png").unlink()  # the run was cut between the two files
    assert cli.main(args) == 0
    assert "0 colorized, 1 finished (comparison strip added), 0 skipped" in capsys.readouterr().out
    assert (out / "a_color.png").read_bytes() == colour  # the colour output is kept as it was
    assert np.array_equal(np.asarray(Image.open(out / "a_compare.png")), strip)
    assert cli.main(args) == 0 and "0 colorized, 1 skipped" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["a_color.png", "a_compare.png"]  # no temporary files left


def test_an_output_folder_that_would_overwrite_an_input_is_refused(photos, model_folder, capsys):
    victim = photos / "inputs" / "a_color.png"  # an input whose name an output would take
    Image.new("L", (40, 40), 128).save(victim)
    before = victim.read_bytes()
    code = cli.main(["colorize", str(photos / "inputs"), "-o", str(photos / "inputs"), "--model", model_folder,
                     "--overwrite", "-q"])
    assert code == 2 and "would overwrite the input" in capsys.readouterr().err
    assert victim.read_bytes() == before


def test_single_file_to_named_output_and_bad_model(photos, model_folder, capsys):
    source, target = photos / "inputs" / "a.png", photos / "a_out.jpg"
    assert cli.main(["colorize", str(source), "-o", str(target), "--model", model_folder, "-q"]) == 0
    assert Image.open(target).size == (80, 60)
    assert cli.main(["colorize", str(source), "-o", str(source), "--model", model_folder]) == 2
    assert cli.main(["colorize", str(source), "-o", str(photos / "o"), "--model", str(photos / "no-such-model")]) == 2
    assert "error:" in capsys.readouterr().err


def test_list_still_works(capsys):
    assert cli.main(["list"]) == 0
    assert "colorizer-fusion" in capsys.readouterr().out


def test_an_output_folder_inside_the_input_folder_is_not_read_back(photos, model_folder, capsys):
    args = ["colorize", str(photos / "loose"), "-o", str(photos / "loose" / "colored"), "--model", model_folder, "-q"]
    assert cli.main(args) == 0 and "1 colorized" in capsys.readouterr().out
    assert cli.main(args) == 0 and "0 colorized, 1 skipped, 0 failed" in capsys.readouterr().out
    assert [p.name for p in (photos / "loose" / "colored").iterdir()] == ["c_color.png"]

"""The bad-input corpus (tests/bad_input_corpus.py: messy files, arrays, damaged checkpoints), sent through the
three entry points a user has: colorize(), the command line and the demo's API. Each gives a correct image or one
clear ColorizationError (what is wrong, what to do); the app answers the next request normally."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import colorize_hub
from bad_input_corpus import (
    CORPUS, FILE_CASES, GOOD, by_name, check_message, check_result, make_checkpoints, make_corpus,
)
from colorize_hub import ColorizationError, colorize
from colorize_hub.loading import load_colorizer


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, Path | np.ndarray]:
    return make_corpus(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory) -> dict[str, Path]:
    return make_checkpoints(tmp_path_factory.mktemp("checkpoints"))


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
def run_cli(capsys, *argv) -> tuple[int, str]:
    from colorize_hub import cli

    load_colorizer.cache_clear()
    code = cli.main(["colorize", *map(str, argv), "-q"])
    captured = capsys.readouterr()
    return code, captured.err + captured.out


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


@pytest.mark.parametrize("given", ["files", "messy_folder"])
def test_cli_batch_reports_and_skips_failures_and_colorizes_the_rest(given, corpus, checkpoints, tmp_path, capsys):
    from colorize_hub.image_decoding import IMAGE_SUFFIXES

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

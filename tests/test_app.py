"""The Gradio demo end to end: launched on tiny checkpoints, called through gradio_client like any API user."""

import os
import socket
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import colorize_hub
from colorize_hub import catalog
from colorize_hub.catalog import known_checkpoints
from conftest import build_tiny

gradio_client = pytest.importorskip("gradio_client")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # app.py sits at the repository root
import app  # noqa: E402
from colorize_hub import demo_files  # noqa: E402

TINY_TYPES = ("colorizer-baseline", "colorizer-cunet", "colorizer-unet24")


def write_tiny_checkpoints(folder: Path, model_types=TINY_TYPES) -> dict[str, Path]:
    """Save tiny untrained models as checkpoint folders, the layout checkpoints/ has; name -> folder."""
    checkpoints = {}
    for model_type in model_types:
        target = folder / model_type
        build_tiny(model_type).save_pretrained(target)
        colorize_hub.ColorizationImageProcessor(render_size=64).save_pretrained(target)
        checkpoints[model_type] = target
    return checkpoints


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def launch_app(checkpoints: dict[str, Path]):
    """Build and start the demo in this process; returns (demo, url)."""
    demo = app.build_demo(checkpoints)
    _, url, _ = app.launch(demo, prevent_thread_lock=True, server_name="127.0.0.1", server_port=free_port(),
                           quiet=True)
    return demo, url


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """One app for the whole module (launching costs seconds): (client, checkpoints)."""
    checkpoints = write_tiny_checkpoints(tmp_path_factory.mktemp("checkpoints"))
    demo, url = launch_app(checkpoints)
    try:
        yield gradio_client.Client(url, verbose=False), checkpoints
    finally:
        demo.close()


@pytest.fixture(scope="module")
def photo(tmp_path_factory) -> Path:
    """A gray, non-square photo (odd size, so a resize mix-up would show)."""
    rng = np.random.default_rng(0)
    pixels = np.clip(np.linspace(0, 255, 70)[None, :] + rng.normal(0, 20, (45, 70)), 0, 255).astype(np.uint8)
    path = tmp_path_factory.mktemp("photo") / "photo.png"
    Image.fromarray(pixels, "L").save(path)
    return path


def model_values(client) -> list[str]:
    """The dropdown's values, as the API describes them."""
    info = client.view_api(print_info=False, return_format="dict")
    model = next(p for p in info["named_endpoints"]["/colorize"]["parameters"] if p["parameter_name"] == "model")
    return model["type"]["enum"]


def test_dropdown_lists_every_checkpoint_best_first_and_compare_all(served):
    client, checkpoints = served
    catalog_order = [name for name in known_checkpoints() if name in checkpoints]
    assert model_values(client) == [*catalog_order, app.COMPARE_ALL]
    assert list(checkpoints) != catalog_order  # written in another order: the app sorts them


def test_starts_on_the_default_model_with_short_labels_that_say_what_each_is_good_for(tmp_path):
    checkpoints = write_tiny_checkpoints(tmp_path, ["colorizer-baseline", colorize_hub.DEFAULT_MODEL])
    demo = app.build_demo(checkpoints)
    dropdown = next(block for block in demo.blocks.values() if getattr(block, "elem_id", None) == "model")
    assert dropdown.value == colorize_hub.DEFAULT_MODEL == dropdown.choices[0][1]
    for label, name in dropdown.choices[:-1]:
        assert catalog.good_for(name) and label.endswith(catalog.good_for(name)) and len(label) <= 45, label
    info = next(block for block in demo.blocks.values() if getattr(block, "elem_id", None) == "model-info")
    assert info.value == known_checkpoints()[colorize_hub.DEFAULT_MODEL][1]


def test_the_render_slider_starts_at_the_chosen_checkpoints_own_render_size(tmp_path):
    from colorize_hub.demo_runs import own_render_size

    checkpoints = write_tiny_checkpoints(tmp_path, ["colorizer-baseline", colorize_hub.DEFAULT_MODEL])
    colorize_hub.ColorizationImageProcessor(render_size=192).save_pretrained(checkpoints[colorize_hub.DEFAULT_MODEL])
    demo = app.build_demo(checkpoints)
    slider = next(block for block in demo.blocks.values() if getattr(block, "label", None) == "Render size (px)")
    assert slider.value == 192
    assert own_render_size(checkpoints["colorizer-baseline"]) == app.RENDER_MIN  # 64 is below the slider's range
    assert own_render_size(tmp_path / "none", 320) == 320  # no preprocessor_config.json (e.g. Compare all)
    # the dropdown's change handler moves the slider to the newly chosen model's size
    handlers = [dependency for dependency in demo.fns.values()
                if dependency.fn.__name__ == "<lambda>" and len(dependency.inputs) == 2]
    assert [handler.fn(colorize_hub.DEFAULT_MODEL, 256) for handler in handlers] == [192]
    assert [handler.fn(app.COMPARE_ALL, 288) for handler in handlers] == [288]


def test_gallery_columns_show_every_model_at_once():
    assert [app.gallery_columns(count) for count in (1, 2, 4, 5, 8, 9)] == [2, 2, 2, 3, 3, 3]


def test_every_model_returns_its_colour_image_at_the_input_size(served, photo, tmp_path):
    """The slider shows JPEG (quick to encode and send): colorize()'s picture, encoded once, byte for byte."""
    client, checkpoints = served
    for name in checkpoints:
        before, after = client.predict(
            gradio_client.handle_file(str(photo)), name, 128, 2.0, api_name="/colorize"
        )
        before, after = Image.open(before), Image.open(after)
        assert before.size == after.size == (70, 45), name
        expected = colorize_hub.colorize(photo, model=str(checkpoints[name]), render_size=128, saturation=2.0)
        expected = Image.open(demo_files.ResultFiles._save_shown(expected, tmp_path / name))
        assert after.mode == "RGB" and np.array_equal(np.asarray(after), np.asarray(expected)), name
        assert np.ptp(np.asarray(before.convert("RGB"), np.int16), axis=-1).max() == 0, name  # before is gray
        if name == "colorizer-unet24":  # the one tiny model that paints strong colour untrained
            assert np.ptp(np.asarray(after, np.int16), axis=-1).mean() > 10


def test_compare_all_returns_one_labelled_image_per_model(served, photo):
    client, checkpoints = served
    gallery = client.predict(gradio_client.handle_file(str(photo)), 128, 1.0, api_name="/compare_all")
    in_order = catalog.best_first(checkpoints)
    assert [item["caption"] for item in gallery] == [app.describe(n, f)[0] for n, f in in_order.items()]
    assert all(Image.open(item["image"]).size == (70, 45) for item in gallery)


def test_shown_result_is_jpeg_and_the_download_is_the_exact_full_resolution_png(tmp_path):
    results = demo_files.ResultFiles(tmp_path / "downloads")
    rng = np.random.default_rng(1)
    after = Image.fromarray(rng.integers(0, 255, (30, 40, 3), dtype=np.uint8))
    before = after.convert("L").convert("RGB")
    shown_before, shown_after = results.save(before, after)
    assert Path(shown_after).suffix == ".jpg" and Image.open(shown_before).mode == "L"
    assert not list((tmp_path / "downloads").rglob("*.png"))  # encoded only when a download asks for it
    png = results.full_png(shown_after)
    assert png is not None and np.array_equal(np.asarray(Image.open(png)), np.asarray(after))
    modified = png.stat().st_mtime_ns
    assert results.full_png(shown_after) == png and png.stat().st_mtime_ns == modified  # encoded once
    assert not list(png.parent.glob("*.npy"))  # the kept pixels give way to the PNG
    button = demo_files.save_download((shown_before, shown_after), "old.jpg", "colorizer-gan", tmp_path / "downloads",
                                      results)
    assert np.array_equal(np.asarray(Image.open(button.value["path"])), np.asarray(after))
    for forged in ("../../etc/passwd", str(tmp_path / "result.jpg"), "0" * 31 + "g.jpg"):
        assert results.full_png(forged) is None
    rgba = Image.new("RGBA", (5, 4), (10, 20, 30, 128))
    shown_rgba = results.save(rgba, rgba)[1]
    assert Path(shown_rgba).suffix == ".png"  # transparency is kept in what is shown, and in the download
    assert np.array_equal(np.asarray(Image.open(results.full_png(shown_rgba))), np.asarray(rgba))


def test_results_older_than_their_lifetime_are_deleted_as_new_ones_come_in(tmp_path, monkeypatch):
    results = demo_files.ResultFiles(tmp_path / "downloads")
    image = Image.new("RGB", (8, 6), (200, 120, 40))
    old = Path(results.save(image, image)[1]).parent
    hours_ago = time.time() - demo_files.DOWNLOAD_LIFETIME_S - 60
    os.utime(old, (hours_ago, hours_ago))
    results.save(image, image)
    assert old.is_dir()  # pruning runs at most once a minute, not at every request
    monkeypatch.setattr(results, "_pruned_at", time.monotonic() - results.PRUNE_EVERY_S - 1)
    recent = Path(results.save(image, image)[1]).parent
    assert not old.exists() and recent.is_dir()


def test_download_copies_older_than_their_lifetime_are_deleted(tmp_path):
    folder, result = tmp_path / "downloads", tmp_path / "result.png"
    folder.mkdir()
    Image.new("RGB", (4, 3)).save(result)

    def download(photo: str, model: str) -> None:
        button = demo_files.save_download(("before.png", str(result)), photo, model, folder)
        assert button.visible and Path(button.value["path"]).name == f"{Path(photo).stem}-{model}.png"

    def copies() -> dict[str, Path]:
        return {path.name: path for path in folder.glob("*/*.png")}

    download("/photos/old.jpg", "colorizer-gan")
    download("/photos/new.jpg", "colorizer-gan")
    hours_ago = time.time() - demo_files.DOWNLOAD_LIFETIME_S - 60
    os.utime(copies()["old-colorizer-gan.png"].parent, (hours_ago, hours_ago))

    download("/photos/newest.jpg", "colorizer-unet24")

    assert sorted(copies()) == ["new-colorizer-gan.png", "newest-colorizer-unet24.png"]
    assert len(list(folder.iterdir())) == 2


def test_fallback_name_for_an_unknown_checkpoint_folder(tmp_path):
    folder = write_tiny_checkpoints(tmp_path, ["colorizer-cunet"])["colorizer-cunet"]
    human, description = app.describe("my_portrait-run", folder)
    assert human == "My portrait run" and "dilated U-Net" in description


@pytest.mark.parametrize(
    "bad, message",
    [
        ("text", "is not an image"),
        ("none", "Upload a black-and-white photo"),
        ("model", "not in the list of choices"),
        ("compare", "Compare all models has its own button"),
        ("size", "Render size must be"),
    ],
)
def test_bad_input_gives_a_human_message_and_the_app_keeps_working(served, photo, tmp_path, bad, message):
    client, checkpoints = served
    name = next(iter(checkpoints))
    text = tmp_path / "notes.txt"
    text.write_text("not a photo")
    args = {
        "text": (gradio_client.handle_file(str(text)), name, 128, 1.0),
        "none": (None, name, 128, 1.0),
        "model": (gradio_client.handle_file(str(photo)), "../../etc", 128, 1.0),
        "compare": (gradio_client.handle_file(str(photo)), app.COMPARE_ALL, 128, 1.0),
        "size": (gradio_client.handle_file(str(photo)), name, 200, 1.0),
    }[bad]
    with pytest.raises(Exception, match=message) as caught:
        client.predict(*args, api_name="/colorize")
    assert "Traceback" not in str(caught.value) and str(tmp_path) not in str(caught.value)
    before, after = client.predict(gradio_client.handle_file(str(photo)), name, 128, 1.0, api_name="/colorize")
    assert Image.open(after).size == (70, 45)


def test_checkpoint_folder_from_environment(tmp_path, monkeypatch):
    write_tiny_checkpoints(tmp_path, ["colorizer-baseline"])
    monkeypatch.setenv(app.CHECKPOINTS_ENV, str(tmp_path))
    assert list(app.default_checkpoints()) == ["colorizer-baseline"]


def test_command_line_honours_port_host_and_share(monkeypatch):
    monkeypatch.setenv("GRADIO_SERVER_PORT", "7999")
    monkeypatch.delenv("GRADIO_SERVER_NAME", raising=False)
    args = app.parse_args([])
    assert (args.port, args.host, args.share) == (7999, "127.0.0.1", False)
    args = app.parse_args(["--port", "8001", "--share"])
    assert (args.port, args.share) == (8001, True)


def test_builds_without_any_checkpoint():
    """A fresh clone before checkpoints are released still starts (only Compare all, which explains itself)."""
    demo = app.build_demo({})
    dropdown = next(block for block in demo.blocks.values() if getattr(block, "elem_id", None) == "model")
    assert [value for _, value in dropdown.choices] == [app.COMPARE_ALL]


def test_readme_front_matter_is_a_gradio_space_running_app_py():
    import gradio as gr
    from huggingface_hub import metadata_load

    root = Path(__file__).resolve().parent.parent
    meta = metadata_load(root / "README.md")
    assert meta["sdk"] == "gradio" and (root / meta["app_file"]).is_file()
    assert meta["sdk_version"].split(".")[0] == gr.__version__.split(".")[0]  # the major version app.py is written for
    assert meta["python_version"] == "3.11" and meta["license"] == "apache-2.0"
    assert {m.split("/")[-1] for m in meta["models"]} >= set(known_checkpoints())


def test_server_log_is_one_line_per_fact_and_bad_input_logs_no_traceback(tmp_path):
    """`python app.py`: no progress bar per model, no hint for --share, and a user's bad upload is one log line."""
    import subprocess

    folder = tmp_path / "checkpoints"
    write_tiny_checkpoints(folder, ["colorizer-baseline", "colorizer-cunet"])
    port = free_port()
    env = {**os.environ, app.CHECKPOINTS_ENV: str(folder), "HF_HUB_OFFLINE": "1"}
    server = subprocess.Popen([sys.executable, str(Path(app.__file__)), "--port", str(port)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        while not any("Serving on" in line for line in lines):
            line = server.stdout.readline()
            assert line, "the app exited:\n" + "".join(lines)
            lines.append(line)
        bad = tmp_path / "photo.jpg"
        bad.write_text("not an image")
        client = gradio_client.Client(f"http://127.0.0.1:{port}/", verbose=False)
        with pytest.raises(Exception, match="not an image"):
            client.predict(gradio_client.handle_file(str(bad)), "colorizer-baseline", 128, 1.0, api_name="/colorize")
        lines.append(server.stdout.readline())  # the refusal's line
    finally:
        server.terminate()
        lines.extend(server.communicate(timeout=30)[0].splitlines(keepends=True))
    log = "".join(lines)
    # the model selected at start loads before the server opens, the others in the background
    assert "Loaded 1 model(s): colorizer-cunet" in log and "Loaded 1 model(s): colorizer-baseline" in log, log
    assert f"http://127.0.0.1:{port}" in log
    assert "Loading weights" not in log and "share=True" not in log and "Traceback" not in log, log
    assert sum("not an image" in line for line in lines) == 1, log


def test_each_upload_is_decoded_once_for_the_before_image_and_every_model(served, photo, monkeypatch):
    client, checkpoints = served
    decode = colorize_hub.ColorizationImageProcessor._decode
    calls = []
    monkeypatch.setattr(colorize_hub.ColorizationImageProcessor, "_decode",
                        lambda self, *args: calls.append(args[1]) or decode(self, *args))
    client.predict(gradio_client.handle_file(str(photo)), next(iter(checkpoints)), 128, 1.0, api_name="/colorize")
    assert len(calls) == 1, calls
    gallery = client.predict(gradio_client.handle_file(str(photo)), 128, 1.0, api_name="/compare_all")
    assert len(gallery) == len(checkpoints) > 1 and len(calls) == 2, calls


def test_the_load_benchmarks_plain_http_client_makes_the_same_call_as_gradio_client(served, photo):
    """benchmarks/load_app.py's light client speaks Gradio's HTTP API: it gets both images, and a refused request
    is a failure it reports with the app's message."""
    sys.path.insert(0, str(Path(app.__file__).parent / "benchmarks"))
    import load_app

    client, checkpoints = served
    caller = load_app.HttpCaller(client.src)
    caller.colorize(photo, next(iter(checkpoints)), 128)  # raises on anything but two images
    with pytest.raises(RuntimeError, match="error"):
        caller.colorize(photo, next(iter(checkpoints)), 100)  # not a multiple of 32: refused by the app

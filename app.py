"""Gradio demo: upload a black-and-white photo, pick a model, drag the before/after slider.

`python app.py` serves the checkpoints bundled in checkpoints/ with no network; the same file runs as a
Hugging Face Space (see README.md's front matter). Public API endpoints, usable from gradio_client:
/colorize (image, model name, render size, saturation) -> (before, after),
/compare_all (image, render size, saturation) -> one image per model, and, where a served model takes colour hints,
/colorize_with_hints (image, hints JSON, render size, saturation) -> (before, after) and
/suggest_colours (image, x, y, hints JSON) -> the likely colours at (x, y).
"""

import argparse
import atexit
import logging
import math
import os
import shutil
import tempfile
import threading
from pathlib import Path

import gradio as gr
from transformers.utils import logging as transformers_logging

from colorize_hub import DEFAULT_MODEL, ColorizationError, bundled_checkpoints, load_colorizer
from colorize_hub import demo_files
from colorize_hub.catalog import best_first, describe, good_for
from colorize_hub.demo_hints import add_hints_panel
from colorize_hub.demo_files import (MAX_FILE_SIZE, ResultFiles, check_files_first, is_served, readable_upload,
                                     stored_results)
from colorize_hub.forward_batcher import MAX_BATCH, ForwardBatcher
from colorize_hub.demo_runs import (DEFAULT_MAX_PIXELS, RENDER_MAX, RENDER_MIN, RENDER_STEP, check_request,
                                    load_photo, own_render_size, run_model, user_error)

logger = logging.getLogger("colorize_hub.app")

TITLE = "colorize_hub: black-and-white photos in colour"
DESCRIPTION = (
    "Upload a black-and-white photo and pick a model. The model predicts the colour (the *ab* channels of CIE "
    "Lab) from a small square copy of your photo; that colour is then enlarged and joined with the photo's own "
    "lightness, so the result keeps every detail of the original at its full resolution. Drag the slider to "
    "compare, or choose *Compare all models* to see every model side by side. Everything runs on a CPU."
)
COMPARE_ALL = "compare-all"
CHECKPOINTS_ENV = "COLORIZE_HUB_CHECKPOINTS"
MAX_PIXELS_ENV = "COLORIZE_HUB_MAX_PIXELS"  # refuse photos with more pixels (checked before decoding)
QUEUE = {"max_size": 16, "default_concurrency_limit": 1}  # Compare all: one at a time, it uses every core
# /colorize: this many requests at once; they decode and merge in parallel and share the model's forward passes
COLORIZE_CONCURRENCY = MAX_BATCH
EXAMPLES = sorted((Path(__file__).resolve().parent / "examples").glob("*.jpg"))
RESULT_HEIGHT = 640  # px: the result pane; a portrait photo fills its height, a landscape its width
WAITING = {  # the result pane before there is a result: what will appear there (not an upload box)
    "one": "Your photo in colour will appear here, with a slider to compare it with the black-and-white original.",
    "all": "Every model's colour version of your photo will appear here, side by side, each with its name.",
}
CSS = (
    # errors are shown once, as the message box: the pane keeps its last result instead of a red "Error" badge
    "#result [data-testid=status-tracker]:has(.error), #gallery [data-testid=status-tracker]:has(.error) "
    "{ display: none; }\n"
    # Compare all: the gallery grows with its rows, so every model and its caption show without scrolling inside it
    "#gallery, #gallery .grid-wrap { height: auto !important; max-height: none !important; overflow-y: visible; }\n"
    "#gallery .caption-label { max-width: 100%; }"
)


def default_checkpoints() -> dict[str, Path]:
    """$COLORIZE_HUB_CHECKPOINTS when set (tests, other deployments), else the bundled checkpoints/; best first."""
    folder = os.environ.get(CHECKPOINTS_ENV)
    return best_first(bundled_checkpoints(folder) if folder else bundled_checkpoints())


def max_pixels_from_env() -> int:
    """$COLORIZE_HUB_MAX_PIXELS (a whole number, e.g. 20000000 or 20_000_000) when set, else 50 megapixels."""
    value = os.environ.get(MAX_PIXELS_ENV, "").strip()
    if not value:
        return DEFAULT_MAX_PIXELS
    try:
        limit = int(value)
    except ValueError:
        limit = 0
    if limit <= 0:
        raise ColorizationError(f"${MAX_PIXELS_ENV} must be a positive whole number of pixels, e.g. 20000000; "
                                f"got {value!r}.")
    return limit


def model_choices(checkpoints: dict[str, Path]) -> list[tuple[str, str]]:
    """Dropdown (label, value) pairs, in the order given: a short label (name, what it is good for); the value is
    the checkpoint name the API takes."""
    choices = [(" — ".join(filter(None, [describe(name, folder)[0], good_for(name)])), name)
               for name, folder in checkpoints.items()]
    return choices + [("Compare all models", COMPARE_ALL)]


def model_info(model: str, checkpoints: dict[str, Path]) -> str:
    """The line under the dropdown: the chosen model's whole description."""
    if model == COMPARE_ALL:
        return f"Runs all {len(checkpoints)} models on your photo and shows them side by side."
    return describe(model, checkpoints[model])[1] if model in checkpoints else ""


def starting_model(checkpoints: dict[str, Path]) -> str | None:
    """The model selected (and loaded) first: DEFAULT_MODEL where it is served, else the first listed."""
    return DEFAULT_MODEL if DEFAULT_MODEL in checkpoints else next(iter(checkpoints), None)


def gallery_columns(count: int) -> int:
    """Columns for `count` results, so that every one shows at once with its caption: 2 up to 4, else 3."""
    return 2 if count <= 4 else 3


def build_demo(checkpoints: dict[str, Path] | None = None, max_pixels: int | None = None) -> gr.Blocks:
    """The Blocks app on `checkpoints` (name -> folder); default: $COLORIZE_HUB_CHECKPOINTS or checkpoints/.

    Models are listed best first (checkpoints/catalog.json's order, others after them); DEFAULT_MODEL, where it is
    served, is selected at start, else the first.

    `max_pixels`: photos with more pixels are refused before decoding; default $COLORIZE_HUB_MAX_PIXELS, else 50 MP.
    """
    checkpoints = default_checkpoints() if checkpoints is None else best_first(dict(checkpoints))
    max_pixels = max_pixels_from_env() if max_pixels is None else max_pixels
    if isinstance(max_pixels, bool) or not isinstance(max_pixels, int) or max_pixels <= 0:
        raise ColorizationError(f"max_pixels must be a positive whole number of pixels; got {max_pixels!r}.")
    choices = model_choices(checkpoints)
    first = starting_model(checkpoints) or COMPARE_ALL  # Compare all alone when there is no checkpoint
    one = first != COMPARE_ALL
    downloads = tempfile.mkdtemp(prefix="colorize_hub_downloads_")
    atexit.register(shutil.rmtree, downloads, ignore_errors=True)
    results, batcher = ResultFiles(Path(downloads)), ForwardBatcher()

    def colorize_one(image: str | None, model: str, render_size: float, saturation: float):
        """Colorize with one model; returns the (before, after) files for the slider (JPEG, quick to encode and
        send), the full-resolution PNG following for the download button (demo_files.ResultFiles)."""
        size = check_request(image, render_size, saturation)
        if model == COMPARE_ALL:
            raise user_error("Compare all models has its own button (API: /compare_all); /colorize takes one model.")
        if not is_served(model, checkpoints):  # None, a list; the dropdown itself refuses names it does not list
            raise user_error("Choose a model first.")
        photo, before = load_photo(image, max_pixels)
        after = run_model(photo, image, model, checkpoints[model], size, float(saturation), batcher, max_pixels)
        return results.save(before, after)

    def colorize_hints(image: str | None, hints: list, model: str, render_size: float, saturation: float):
        """The hints panel's runner: colorize with `model` following the user's colour points."""
        size = check_request(image, render_size, saturation)
        photo, before = load_photo(image, max_pixels)
        after = run_model(photo, image, model, checkpoints[model], size, float(saturation), batcher, max_pixels, hints)
        return results.save(before, after)

    def compare_all(image: str | None, render_size: float, saturation: float, progress=gr.Progress()):
        """Colorize with every model; returns (image, human name) pairs for the gallery.

        The photo is decoded once for all models. A model that fails (a damaged checkpoint) is left out with a
        warning; a photo that cannot be used, or every model failing, is an error.
        """
        size = check_request(image, render_size, saturation)
        if not checkpoints:
            raise user_error("No model is available: the checkpoint folder holds no checkpoint.")
        photo, _ = load_photo(image, max_pixels)  # refuses a bad photo once, before any model runs
        pictures, failures = [], []
        for index, (name, folder) in enumerate(checkpoints.items()):
            human = describe(name, folder)[0]
            progress((index, len(checkpoints)), desc=f"Colorizing with {human}")
            try:
                pictures.append((run_model(photo, image, name, folder, size, float(saturation), batcher, max_pixels),
                                human))
            except gr.Error as error:
                failures.append(f"{human}: {error.message}")
        if not pictures:
            raise user_error("No model could colorize this photo. " + " ".join(failures))
        for failure in failures:
            gr.Warning(f"Left out {failure}")
        return pictures

    def offer_download(slider: tuple[str, str] | None, image: str | None, model: str) -> gr.DownloadButton:
        """The download button for the slider's result, named after a served model (demo_files.offer_download)."""
        return demo_files.offer_download(slider, image, model, checkpoints, Path(downloads), results)

    def show_pane(model: str, slider_value, gallery_value):
        """What the result pane shows for the chosen model: its last result, or what will appear there; the
        Colorize button of the mode; the chosen model's description."""
        one = model != COMPARE_ALL
        has_result = bool(slider_value) if one else bool(gallery_value)
        return (gr.Button(visible=one), gr.Button(visible=not one),
                gr.ImageSlider(visible=one and has_result), gr.Gallery(visible=not one and has_result),
                gr.Markdown(WAITING["one" if one else "all"], visible=not has_result),
                gr.DownloadButton(visible=False), model_info(model, checkpoints))

    rows = max(1, math.ceil(len(checkpoints) / gallery_columns(len(checkpoints))))
    with gr.Blocks(title="colorize_hub", delete_cache=(3600, 3600)) as demo:
        gr.Markdown(f"# {TITLE}\n{DESCRIPTION}")
        with gr.Row():
            with gr.Column(scale=2):
                image = readable_upload(gr.Image(type="filepath", image_mode=None, label="Black-and-white photo",
                                                 sources=["upload", "clipboard"], elem_id="photo"))
                model = gr.Dropdown(choices, value=first, label="Model", elem_id="model")
                info = gr.Markdown(model_info(first, checkpoints), elem_id="model-info")
                render_size = gr.Slider(RENDER_MIN, RENDER_MAX, value=own_render_size(checkpoints.get(first)),
                                        step=RENDER_STEP, label="Render size (px)",
                                        info="Lower = bolder colour, higher = finer colour detail.")
                saturation = gr.Slider(0, 2, value=1, step=0.05, label="Saturation",
                                       info="0 = gray, 1 = as the model is calibrated, 2 = twice as vivid.")
                colorize_button = gr.Button("Colorize", variant="primary", visible=one, elem_id="colorize")
                compare_button = gr.Button("Colorize with every model", variant="primary", visible=not one)
                if EXAMPLES:
                    gr.Examples([[str(path)] for path in EXAMPLES], inputs=[image], label="Examples")
                hints_column = gr.Column()  # the colour hints panel, filled once the result pane exists
            with gr.Column(scale=3):
                waiting = gr.Markdown(WAITING["one" if one else "all"], elem_id="waiting", container=True,
                                      height=RESULT_HEIGHT // 2)  # a framed, empty pane with this text
                slider = stored_results(gr.ImageSlider(type="filepath", image_mode=None, format="jpeg",
                                                       label="Before / after", visible=False, interactive=False,
                                                       height=RESULT_HEIGHT, max_height=RESULT_HEIGHT,
                                                       elem_id="result"))
                gallery = gr.Gallery(label="Every model", format="png", columns=gallery_columns(len(checkpoints)),
                                     rows=rows, height="auto", object_fit="contain", visible=False,
                                     buttons=["download", "fullscreen"], elem_id="gallery")
                download = gr.DownloadButton("Download PNG", visible=False, elem_id="download")
        pane = [colorize_button, compare_button, slider, gallery, waiting, download, info]  # what show_pane sets
        model.change(show_pane, [model, slider, gallery], pane, api_visibility="private")
        # a chosen model starts at the render size it was calibrated at; Compare all keeps the slider's
        model.change(lambda chosen, size: own_render_size(checkpoints.get(chosen), size), [model, render_size],
                     render_size, api_visibility="private")
        colorize_button.click(
            colorize_one, [image, model, render_size, saturation], slider, api_name="colorize",
            concurrency_limit=COLORIZE_CONCURRENCY, concurrency_id="colorize",
        ).success(show_pane, [model, slider, gallery], pane, api_visibility="private"
        ).success(offer_download, [slider, image, model], download, api_visibility="private")
        compare_button.click(compare_all, [image, render_size, saturation], gallery, api_name="compare_all").success(
            show_pane, [model, slider, gallery], pane, api_visibility="private")
        with hints_column:
            panel = add_hints_panel(checkpoints, image, render_size, saturation, slider, colorize_hints, max_pixels)
        if panel is not None:  # the result shows as the hint model's, in the slider
            hinted, hint_model = panel
            hinted.success(lambda: hint_model, None, model, api_visibility="private").success(
                show_pane, [model, slider, gallery], pane, api_visibility="private").success(
                offer_download, [slider, image, model], download, api_visibility="private")
    check_files_first(demo, [image, slider])
    return demo


def limit_malloc_arenas(arenas: int = 2) -> None:
    """Cap glibc's malloc arenas before the server starts its worker threads.

    glibc gives each thread its own arena; with Gradio's thread pool and large image buffers they fragment, and the
    server's memory crept up ~10% over 200 requests (benchmarks/load_app.py) with no leak behind it. Capped, it stays
    flat. A no-op where the C library is not glibc.
    """
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").mallopt(-8, arenas)  # -8 = M_ARENA_MAX
    except (OSError, AttributeError):
        pass


def launch(demo: gr.Blocks, **options) -> tuple:
    """Queue limits, upload cap and allocator settings in one place, for `python app.py`, the Space and the tests."""
    limit_malloc_arenas()
    demo.queue(**QUEUE)
    return demo.launch(**{"max_file_size": MAX_FILE_SIZE, "theme": gr.themes.Soft(), "css": CSS, **options})


def warm_up(checkpoints: dict[str, Path]) -> None:
    """Load models once (load_colorizer caches), so no visitor waits for a load; logs one line when done."""
    for name, folder in checkpoints.items():
        try:
            load_colorizer(str(folder))
        except ColorizationError:
            logger.exception("Checkpoint %s cannot be loaded; it will fail when chosen", name)
    if checkpoints:
        logger.info("Loaded %d model(s): %s", len(checkpoints), ", ".join(checkpoints))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", 7860)))
    parser.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
                        help="address to listen on; 0.0.0.0 to serve the network (Spaces set GRADIO_SERVER_NAME)")
    parser.add_argument("--share", action="store_true", help="also open a temporary public gradio.live link")
    parser.add_argument("--max-pixels", type=int, default=None,
                        help=f"refuse photos with more pixels, before decoding them (or ${MAX_PIXELS_ENV}; default "
                             f"{DEFAULT_MAX_PIXELS:,})")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Start-up prints one line per fact (models loaded, the address), not a progress bar per model or hints for
    options the command line already has. The model selected at start is loaded before the server opens; the
    others load in a background thread meanwhile, so the first visitor is answered sooner (a request for a model
    still loading loads it itself)."""
    args = parse_args(argv)
    logging.basicConfig(format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("colorize_hub").setLevel(logging.INFO)  # ours, without every HTTP request of httpx
    transformers_logging.disable_progress_bar()  # one "Loading weights" bar per model otherwise
    checkpoints = default_checkpoints()
    if not checkpoints:
        logger.warning("No checkpoint found (checkpoints/ or $%s): the model list is empty", CHECKPOINTS_ENV)
    first = starting_model(checkpoints)
    warm_up({name: folder for name, folder in checkpoints.items() if name == first})
    rest = {name: folder for name, folder in checkpoints.items() if name != first}
    threading.Thread(target=warm_up, args=(rest,), name="warm-up", daemon=True).start()
    demo = build_demo(checkpoints, max_pixels=args.max_pixels)
    _, local_url, share_url = launch(demo, server_name=args.host, server_port=args.port, share=args.share,
                                     quiet=True, prevent_thread_lock=True)
    logger.info("Serving on %s%s (Ctrl+C stops)", local_url, f" and {share_url}" if share_url else "")
    demo.block_thread()


if __name__ == "__main__":
    main()

"""Gradio demo: upload a black-and-white photo, pick a model, drag the before/after slider.

`python app.py` serves the checkpoints bundled in checkpoints/ with no network; the same file runs as a
Hugging Face Space (see README.md's front matter). Public API endpoints, usable from gradio_client:
/colorize (image, model name, render size, saturation) -> (before, after) and
/compare_all (image, render size, saturation) -> one image per model.
"""

import argparse
import atexit
import logging
import os
import shutil
import tempfile
from pathlib import Path

import gradio as gr
import torch
from PIL import Image

from colorize_hub import ColorizationError, ColorizationImageProcessor, bundled_checkpoints, colorize, load_colorizer
from colorize_hub import demo_files
from colorize_hub.catalog import describe
from colorize_hub.demo_files import MAX_FILE_SIZE, check_files_first, is_served, readable_upload, stored_results

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
DEFAULT_MAX_PIXELS = ColorizationImageProcessor.max_pixels  # 50 megapixels
QUEUE = {"max_size": 16, "default_concurrency_limit": 1}  # one model run at a time: each uses every CPU core
RENDER_MIN, RENDER_MAX, RENDER_STEP = 128, 512, 32
EXAMPLES = sorted((Path(__file__).resolve().parent / "examples").glob("*.jpg"))

def default_checkpoints() -> dict[str, Path]:
    """$COLORIZE_HUB_CHECKPOINTS when set (tests, other deployments), else the bundled checkpoints/."""
    folder = os.environ.get(CHECKPOINTS_ENV)
    return bundled_checkpoints(folder) if folder else bundled_checkpoints()


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
    """Dropdown (label, value) pairs; the value is the checkpoint name the API takes."""
    choices = [(" — ".join(describe(name, folder)), name) for name, folder in checkpoints.items()]
    return choices + [("Compare all models — run every model above on the photo", COMPARE_ALL)]


def check_request(image: str | None, render_size: float, saturation: float) -> int:
    """Refuse what the sliders cannot produce (API callers can send anything); return render size as int."""
    if image is None:
        raise gr.Error("Upload a black-and-white photo first (PNG, JPEG, WebP, TIFF...).")
    try:
        size = int(render_size)
        size_ok = size == render_size and RENDER_MIN <= size <= RENDER_MAX and not size % RENDER_STEP
    except (TypeError, ValueError, OverflowError):  # None, NaN, infinity, text
        size_ok = False
    if not size_ok:
        raise gr.Error(f"Render size must be a multiple of {RENDER_STEP} from {RENDER_MIN} to {RENDER_MAX}.")
    try:
        saturation_ok = 0 <= saturation <= 2  # False for NaN
    except TypeError:
        saturation_ok = False
    if not saturation_ok:
        raise gr.Error("Saturation must be between 0 (gray) and 2 (twice as vivid).")
    return size


def human_message(error: Exception, image: str) -> str:
    """The library's message, with the server's upload path shortened to the file's name."""
    return str(error).replace(str(image), Path(image).name)


def run_model(image: str, name: str, folder: Path, render_size: int, saturation: float,
              max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """colorize() with its ColorizationError (bad input, bad checkpoint) shown to the user as a gr.Error.

    Server paths are replaced by the photo's file name and the checkpoint's name; an unexpected failure is
    logged here with its traceback and reaches the user as a short message, and the app carries on.
    """
    try:
        return colorize(image, model=str(folder), render_size=render_size, saturation=saturation,
                        max_pixels=max_pixels)
    except ColorizationError as error:
        raise gr.Error(human_message(error, image).replace(str(folder), name)) from error
    except Exception as error:  # noqa: BLE001 - RuntimeError, MemoryError...: one request fails, not the app
        logger.exception("Colorizing %s with %s failed", image, folder)
        raise gr.Error("The model could not process this photo; try a smaller render size or image.") from error


def gray_version(image: str, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """The 'before' image: the photo's own CIE L with no colour, the exact lightness the result keeps.

    It also checks the upload: a photo that cannot be used gives a gr.Error saying why, before any model runs.
    """
    processor = ColorizationImageProcessor()
    try:
        loaded = processor.load_image(image, max_pixels=max_pixels)
        no_colour = torch.zeros(1, 2, 1, 1)
        return processor.post_process_colorization(no_colour, [loaded.lightness], alpha=[loaded.alpha])[0]
    except ColorizationError as error:
        raise gr.Error(human_message(error, image)) from error
    except Exception as error:  # noqa: BLE001
        logger.exception("Reading %s failed", image)
        raise gr.Error("This photo could not be read; upload it again as PNG or JPEG.") from error


def build_demo(checkpoints: dict[str, Path] | None = None, max_pixels: int | None = None) -> gr.Blocks:
    """The Blocks app on `checkpoints` (name -> folder); default: $COLORIZE_HUB_CHECKPOINTS or checkpoints/.

    `max_pixels`: photos with more pixels are refused before decoding; default $COLORIZE_HUB_MAX_PIXELS, else 50 MP.
    """
    checkpoints = default_checkpoints() if checkpoints is None else dict(checkpoints)
    max_pixels = max_pixels_from_env() if max_pixels is None else max_pixels
    if isinstance(max_pixels, bool) or not isinstance(max_pixels, int) or max_pixels <= 0:
        raise ColorizationError(f"max_pixels must be a positive whole number of pixels; got {max_pixels!r}.")
    choices = model_choices(checkpoints)
    first = choices[0][1]  # the first checkpoint, or Compare all when there is none
    one = first != COMPARE_ALL
    downloads = tempfile.mkdtemp(prefix="colorize_hub_downloads_")
    atexit.register(shutil.rmtree, downloads, ignore_errors=True)

    def colorize_one(image: str | None, model: str, render_size: float, saturation: float):
        """Colorize with one model; returns (before, after) for the slider."""
        size = check_request(image, render_size, saturation)
        if model == COMPARE_ALL:
            raise gr.Error("Compare all models has its own button (API: /compare_all); /colorize takes one model.")
        if not is_served(model, checkpoints):  # None, a list; the dropdown itself refuses names it does not list
            raise gr.Error("Choose a model first.")
        before = gray_version(image, max_pixels)
        return before, run_model(image, model, checkpoints[model], size, float(saturation), max_pixels)

    def compare_all(image: str | None, render_size: float, saturation: float, progress=gr.Progress()):
        """Colorize with every model; returns (image, human name) pairs for the gallery.

        A model that fails (a damaged checkpoint) is left out with a warning; a photo that cannot be used,
        or every model failing, is an error.
        """
        size = check_request(image, render_size, saturation)
        if not checkpoints:
            raise gr.Error("No model is available: the checkpoint folder holds no checkpoint.")
        gray_version(image, max_pixels)  # refuse a bad photo once, before any model runs
        results, failures = [], []
        for index, (name, folder) in enumerate(checkpoints.items()):
            human = describe(name, folder)[0]
            progress((index, len(checkpoints)), desc=f"Colorizing with {human}")
            try:
                results.append((run_model(image, name, folder, size, float(saturation), max_pixels), human))
            except gr.Error as error:
                failures.append(f"{human}: {error.message}")
        if not results:
            raise gr.Error("No model could colorize this photo. " + " ".join(failures))
        for failure in failures:
            gr.Warning(f"Left out {failure}")
        return results

    def offer_download(slider: tuple[str, str] | None, image: str | None, model: str) -> gr.DownloadButton:
        """The download button for the slider's result, named after a served model (demo_files.offer_download)."""
        return demo_files.offer_download(slider, image, model, checkpoints, Path(downloads))

    def switch_mode(model: str):
        """Show the slider and Colorize for one model, the gallery and its own button for Compare all."""
        one = model != COMPARE_ALL
        return (gr.Button(visible=one), gr.Button(visible=not one), gr.ImageSlider(visible=one),
                gr.Gallery(visible=not one), gr.DownloadButton(visible=False))

    with gr.Blocks(title="colorize_hub", delete_cache=(3600, 3600)) as demo:
        gr.Markdown(f"# {TITLE}\n{DESCRIPTION}")
        with gr.Row():
            with gr.Column():
                image = readable_upload(gr.Image(type="filepath", image_mode=None, label="Black-and-white photo",
                                                 sources=["upload", "clipboard"], elem_id="photo"))
                model = gr.Dropdown(choices, value=first, label="Model", elem_id="model")
                render_size = gr.Slider(RENDER_MIN, RENDER_MAX, value=256, step=RENDER_STEP, label="Render size (px)",
                                        info="Lower = bolder colour, higher = finer colour detail.")
                saturation = gr.Slider(0, 2, value=1, step=0.05, label="Saturation",
                                       info="0 = gray, 1 = as the model is calibrated, 2 = twice as vivid.")
                colorize_button = gr.Button("Colorize", variant="primary", visible=one, elem_id="colorize")
                compare_button = gr.Button("Colorize with every model", variant="primary", visible=not one)
                if EXAMPLES:
                    gr.Examples([[str(path)] for path in EXAMPLES], inputs=[image], label="Examples")
            with gr.Column():
                slider = stored_results(gr.ImageSlider(type="filepath", image_mode=None, format="png",
                                                       label="Before / after", visible=one, elem_id="result"))
                gallery = gr.Gallery(label="Every model", format="png", columns=2, visible=not one,
                                     buttons=["download", "fullscreen"], elem_id="gallery")
                download = gr.DownloadButton("Download PNG", visible=False, elem_id="download")
        model.change(switch_mode, model, [colorize_button, compare_button, slider, gallery, download],
                     api_visibility="private")
        colorize_button.click(
            colorize_one, [image, model, render_size, saturation], slider, api_name="colorize"
        ).success(offer_download, [slider, image, model], download, api_visibility="private")
        compare_button.click(compare_all, [image, render_size, saturation], gallery, api_name="compare_all")
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
    return demo.launch(**{"max_file_size": MAX_FILE_SIZE, "theme": gr.themes.Soft(), **options})


def warm_up(checkpoints: dict[str, Path]) -> None:
    """Load every model once at start-up (load_colorizer caches), so the first visitor does not wait."""
    for name, folder in checkpoints.items():
        try:
            load_colorizer(str(folder))
        except ColorizationError:
            logger.exception("Checkpoint %s cannot be loaded; it will fail when chosen", name)


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
    args = parse_args(argv)
    logging.basicConfig(format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("colorize_hub").setLevel(logging.INFO)  # ours, without every HTTP request of httpx
    checkpoints = default_checkpoints()
    if not checkpoints:
        logger.warning("No checkpoint found (checkpoints/ or $%s): the model list is empty", CHECKPOINTS_ENV)
    warm_up(checkpoints)
    demo = build_demo(checkpoints, max_pixels=args.max_pixels)
    launch(demo, server_name=args.host, server_port=args.port, share=args.share)


if __name__ == "__main__":
    main()

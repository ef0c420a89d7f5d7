"""Gradio demo: upload a black-and-white photo, pick a model, drag the before/after slider.

Runs on the checkpoints bundled in checkpoints/, with no network: `python app.py`.
"""

import argparse
import os

import gradio as gr
from PIL import Image

from colorize_hub import ColorizationError, bundled_checkpoints, colorize

DESCRIPTION = (
    "Upload an old black-and-white photo and pick a model. The model predicts the colour (the ab channels "
    "of CIE Lab) at a small render size; the colour is then upscaled and joined with your photo's own "
    "lightness, so every detail of the original survives at full resolution."
)


def colorize_for_demo(image: Image.Image | None, model_name: str, render_size: int, saturation: float):
    if image is None:
        raise gr.Error("Upload an image first.")
    if not model_name:
        raise gr.Error("No model is available: checkpoints/ holds no checkpoint.")
    try:
        result = colorize(image, model=model_name, render_size=int(render_size), saturation=float(saturation))
    except ColorizationError as error:
        raise gr.Error(str(error)) from error
    return image.convert("L").convert(result.mode), result


def build_demo() -> gr.Blocks:
    names = list(bundled_checkpoints())
    with gr.Blocks(title="colorize_hub") as demo:
        gr.Markdown("# colorize_hub\n" + DESCRIPTION)
        with gr.Row():
            with gr.Column():
                image = gr.Image(type="pil", label="Black-and-white photo")
                model = gr.Dropdown(names, value=names[0] if names else None, label="Model")
                render_size = gr.Slider(128, 512, value=256, step=32, label="Render size (lower = bolder colour)")
                saturation = gr.Slider(0, 2, value=1, step=0.05, label="Saturation")
                button = gr.Button("Colorize", variant="primary")
            result = gr.ImageSlider(type="pil", label="Before / after")
        button.click(colorize_for_demo, [image, model, render_size, saturation], result, api_name="colorize")
    return demo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", 7860)))
    parser.add_argument("--share", action="store_true")
    args = parser.parse_args()
    build_demo().queue(max_size=32, default_concurrency_limit=2).launch(
        server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"), server_port=args.port, share=args.share
    )


if __name__ == "__main__":
    main()

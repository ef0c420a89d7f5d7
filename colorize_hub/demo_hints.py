"""The demo's colour hints panel: click the photo to place a point, choose its colour (the model's suggestions for
that point, or any colour), see the points on the photo, select, move or remove them, and colorize with them.

The points live in the browser session (a gr.State list of {"x", "y", "color"} in the photo's own pixels); the
photo is shown scaled to at most PREVIEW_SIDE pixels, and clicks are scaled back. Public API endpoints:
/colorize_with_hints (image, hints JSON, render size, saturation) -> (before, after), and
/suggest_colours (image, x, y, hints JSON) -> the likely colours there, most likely first.
"""

import json
import math

import gradio as gr
from PIL import Image, ImageDraw, ImageOps

from .checkpoints import hint_checkpoints
from .errors import ColorizationError
from .suggestions import suggest_colours

PREVIEW_SIDE = 768  # px: the longer side of the photo shown for clicking
PICK_RADIUS = 14  # px of the preview: a click this close to a point selects it instead of adding one
SUGGESTIONS = 6


def preview(image: str | None) -> tuple[Image.Image | None, float]:
    """The upload as an RGB picture to click on, at most PREVIEW_SIDE a side, and photo pixels per preview pixel."""
    if image is None:
        return None, 1.0
    with Image.open(image) as opened:
        picture = ImageOps.exif_transpose(opened).convert("RGB")
    scale = max(picture.size) / PREVIEW_SIDE
    if scale > 1:
        picture = picture.resize((round(picture.width / scale), round(picture.height / scale)), Image.BILINEAR)
    return picture, max(scale, 1.0)


def draw_points(picture: Image.Image | None, scale: float, points: list[dict], selected: int | None) -> Image.Image | None:
    """The preview with every point as a disc of its colour, numbered; the selected one ringed."""
    if picture is None:
        return None
    canvas = picture.copy()
    draw = ImageDraw.Draw(canvas)
    radius = max(6, round(min(canvas.size) / 60))
    for number, point in enumerate(points):
        x, y = point["x"] / scale, point["y"] / scale
        ring = radius + 4 if number == selected else radius + 2
        draw.ellipse((x - ring, y - ring, x + ring, y + ring), fill="yellow" if number == selected else "white")
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=point["color"], outline="black")
        draw.text((x + ring + 2, y - ring), str(number + 1), fill="yellow", stroke_width=2, stroke_fill="black")
    return canvas


def as_hints(points: list[dict]) -> list[tuple[float, float, str]]:
    return [(point["x"], point["y"], point["color"]) for point in points]


def hints_from_json(text: str | None) -> list:
    """The API's hints argument: a JSON list of {"x", "y", "color"} (or [x, y, colour]); empty means none."""
    if text is None or not str(text).strip():
        return []
    try:
        hints = json.loads(text)
    except json.JSONDecodeError as error:
        raise ColorizationError(f"hints must be JSON, e.g. [{{\"x\": 120, \"y\": 80, \"color\": \"#3060c0\"}}] ({error})") from None
    if not isinstance(hints, list):
        raise ColorizationError("hints must be a JSON list of {\"x\": ..., \"y\": ..., \"color\": \"#rrggbb\"}.")
    return hints


def nearest_point(points: list[dict], x: float, y: float, limit: float) -> int | None:
    """Index of the point closest to (x, y) within `limit` (photo pixels), else None."""
    distances = [math.hypot(point["x"] - x, point["y"] - y) for point in points]
    best = min(range(len(points)), key=distances.__getitem__, default=None)
    return best if best is not None and distances[best] <= limit else None


def suggestion_choices(image: str, x: float, y: float, points: list[dict], model: str, max_pixels: int):
    """(Radio choices "#rrggbb" with their share, the most likely colour) at (x, y), given the other points."""
    suggestions = suggest_colours(image, x, y, model=model, count=SUGGESTIONS, hints=as_hints(points),
                                  max_pixels=max_pixels)
    return [(f"{s.colour}  {s.probability:.0%}", s.colour) for s in suggestions], suggestions[0].colour


def swatches(choices: list[tuple[str, str]]) -> str:
    """The suggested colours as a row of swatches, in the order of the choices beside them."""
    cells = "".join(f'<span title="{value}" style="display:inline-block;width:28px;height:28px;margin:2px;'
                    f'border:1px solid #444;border-radius:4px;background:{value}"></span>' for _, value in choices)
    return f'<div id="swatch-row">{cells}</div>'


def points_table(points: list[dict]) -> list[list]:
    return [[number + 1, round(point["x"]), round(point["y"]), point["color"]] for number, point in enumerate(points)]


def add_hints_panel(checkpoints: dict, image, render_size, saturation, slider, colorize_hints, max_pixels: int):
    """Build the panel in the current Blocks context; returns (the click event of its Colorize button, for the app
    to chain the result pane's updates; the checkpoint it uses), or None when no served checkpoint takes hints.

    `colorize_hints(image, hints, model, render_size, saturation)` -> the slider's value (the app's runner)."""
    capable = hint_checkpoints(checkpoints)
    if not capable:
        return None
    model = capable[0]
    folder = str(checkpoints[model])  # what suggest_colours loads (load_colorizer caches it with the app's)
    with gr.Accordion("Your colours: click the photo, pick a colour", open=False, elem_id="hints-panel"):
        gr.Markdown(f"Click a spot of the photo to place a colour point there; the likely colours at that spot are "
                    f"offered first, and the picker takes any colour. Click a point to select it. The photo is "
                    f"colorized by **{model}**, which follows your points and colours the rest itself.")
        canvas = gr.Image(type="pil", interactive=False, label="Click to place a point", elem_id="hint-canvas",
                          buttons=[])
        suggestions = gr.Radio([], label="Likely colours at the selected point", elem_id="hint-suggestions")
        swatch = gr.HTML(elem_id="hint-swatches")
        colour = gr.ColorPicker("#808080", label="Colour of the selected point", elem_id="hint-colour")
        move = gr.Checkbox(False, label="Next click moves the selected point", elem_id="hint-move")
        with gr.Row():
            remove = gr.Button("Remove selected point", size="sm", elem_id="hint-remove")
            clear = gr.Button("Remove all points", size="sm", elem_id="hint-clear")
        table = gr.Dataframe(headers=["#", "x", "y", "colour"], value=[], interactive=False, elem_id="hint-table")
        apply = gr.Button("Colorize with my colours", variant="primary", elem_id="colorize-hints")
        hints_json = gr.Textbox("[]", visible=False, label="hints (JSON)")
        x_in, y_in = gr.Number(visible=False, label="x"), gr.Number(visible=False, label="y")
        suggest_out, suggest_button = gr.JSON(visible=False), gr.Button(visible=False)
    points, selected, base = gr.State([]), gr.State(None), gr.State((None, 1.0))
    view = [canvas, points, selected, table, hints_json]

    def shown(points_now, selected_now, base_now):
        picture, scale = base_now
        return draw_points(picture, scale, points_now, selected_now), points_now, selected_now, \
            points_table(points_now), json.dumps(points_now)

    def reset(image_now):
        try:
            base_now = preview(image_now)
        except Exception:  # noqa: BLE001 - the upload's own check reports a bad photo
            base_now = (None, 1.0)
        return (*shown([], None, base_now), base_now, gr.Radio(choices=[], value=None), "")

    def click(image_now, points_now, selected_now, moving, base_now, event: gr.SelectData):
        picture, scale = base_now
        if picture is None:
            raise gr.Error("Upload a photo first.", print_exception=False)
        x, y = event.index[0] * scale, event.index[1] * scale
        points_now = [dict(point) for point in points_now]
        near = nearest_point(points_now, x, y, PICK_RADIUS * scale)
        if near is not None:
            selected_now = near
        elif moving and selected_now is not None:
            points_now[selected_now].update(x=x, y=y)
        else:
            points_now.append({"x": x, "y": y, "color": None})
            selected_now = len(points_now) - 1
        point = points_now[selected_now]
        others = [p for i, p in enumerate(points_now) if i != selected_now and p["color"]]
        try:
            choices, likely = suggestion_choices(image_now, point["x"], point["y"], others, folder, max_pixels)
        except ColorizationError as error:
            raise gr.Error(str(error), print_exception=False) from None
        point["color"] = point["color"] or likely
        return (*shown(points_now, selected_now, base_now), gr.Radio(choices=choices, value=point["color"]
                if point["color"] in [value for _, value in choices] else None), swatches(choices),
                point["color"], False)

    def recolour(new_colour, points_now, selected_now, base_now):
        if selected_now is None or not new_colour or selected_now >= len(points_now):
            return shown(points_now, selected_now, base_now)
        points_now = [dict(point) for point in points_now]
        points_now[selected_now]["color"] = new_colour
        return shown(points_now, selected_now, base_now)

    def drop(points_now, selected_now, base_now, everything: bool):
        if everything or selected_now is None:
            kept = [] if everything else points_now
        else:
            kept = [point for i, point in enumerate(points_now) if i != selected_now]
        return (*shown(kept, None, base_now), gr.Radio(choices=[], value=None), "")

    def suggest(image_now, x, y, hints_text):
        try:
            if image_now is None:
                raise ColorizationError("Upload a black-and-white photo first (PNG, JPEG, WebP, TIFF...).")
            found = suggest_colours(image_now, x, y, model=folder, count=SUGGESTIONS, hints=hints_from_json(hints_text),
                                    max_pixels=max_pixels)
        except ColorizationError as error:
            raise gr.Error(str(error), print_exception=False) from None
        return [{"color": s.colour, "probability": s.probability} for s in found]

    def colorize_with(image_now, hints_text, size, saturation_now):
        try:
            hints = hints_from_json(hints_text)
        except ColorizationError as error:
            raise gr.Error(str(error), print_exception=False) from None
        return colorize_hints(image_now, hints, model, size, saturation_now)

    private = dict(api_visibility="private")
    image.change(reset, [image], [*view, base, suggestions, swatch], **private)
    canvas.select(click, [image, points, selected, move, base], [*view, suggestions, swatch, colour, move], **private)
    suggestions.input(recolour, [suggestions, points, selected, base], view, **private).then(
        lambda value: value or gr.skip(), [suggestions], [colour], **private)
    colour.change(recolour, [colour, points, selected, base], view, **private)  # the picker, its text field too
    remove.click(lambda p, s, b: drop(p, s, b, False), [points, selected, base], [*view, suggestions, swatch], **private)
    clear.click(lambda p, s, b: drop(p, s, b, True), [points, selected, base], [*view, suggestions, swatch], **private)
    suggest_button.click(suggest, [image, x_in, y_in, hints_json], suggest_out, api_name="suggest_colours")
    return apply.click(colorize_with, [image, hints_json, render_size, saturation], slider,
                       api_name="colorize_with_hints", concurrency_limit=2, concurrency_id="hints"), model

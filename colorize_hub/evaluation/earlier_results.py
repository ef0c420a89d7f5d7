"""`colorize-hub evaluate --update`: re-evaluate some models into an earlier results folder.

A new release of one checkpoint should not cost a re-run of every other one (on a 2-core CPU the MiniPlaces and
Tiny ImageNet tables take hours). The updated models' means and per-photo rows replace theirs; the other models'
rows are kept exactly as they were written (per_image.csv stores full-precision floats), so the folder reads as a
full run of the same command would have written it. Only a folder made with the same data, protocol, render size,
number of photos and precision can be updated (a folder written before the precision was recorded was
written in fp32).
"""

import csv
import json
from pathlib import Path

from ..errors import ColorizationError
from .protocol import MEASURED_PRECISION


def load_earlier(out: Path, data: str, protocol: str, render_size: int | None, images: int,
                 precision: str = MEASURED_PRECISION) -> tuple[dict, list[dict]]:
    """(results, per-photo rows) of the run that wrote `out`; refuses one made with other settings."""
    metrics, per_image = out / "metrics.json", out / "per_image.csv"
    if not (metrics.is_file() and per_image.is_file()):
        raise ColorizationError(f"--update needs an earlier run in {out} (metrics.json and per_image.csv); "
                                "run once without --update first.")
    earlier = json.loads(metrics.read_text())
    asked = {"data": shown_path(data), "protocol": protocol, "render_size": render_size, "precision": precision}
    found = {key: earlier.get(key) for key in asked}
    found["precision"] = found["precision"] or MEASURED_PRECISION
    found["data"] = shown_path(found["data"] or "")
    found_images = earlier["results"]["gray"]["images"]
    if found != asked or found_images != images:
        raise ColorizationError(f"{out} holds a run with {found} on {found_images} photos, not {asked} on {images}: "
                                "use the same --data, --protocol, --render-size, --max-images and --precision, "
                                "or another --out.")
    with per_image.open(newline="") as file:
        rows = [{key: _number(value) for key, value in row.items()} for row in csv.DictReader(file)]
    return earlier["results"], rows


def shown_path(path: str | Path) -> str:
    """A data folder as results name it: under the home folder as `~/...`, so results read the same on every machine."""
    expanded = Path(path).expanduser()
    home = Path.home()
    return "~/" + str(expanded.relative_to(home)) if expanded.is_relative_to(home) and expanded != home else str(path)


def _number(text: str):
    """A csv cell as written by `write_per_image_csv`: float, None (empty) or the text itself (names)."""
    if text == "":
        return None
    try:
        return float(text)
    except ValueError:
        return text


def merge(earlier: dict, earlier_rows: list[dict], results: dict, rows: list[dict]) -> tuple[dict, list[dict]]:
    """Earlier means and rows with the new models' replaced (or appended), in the earlier models' order.

    Rows come out photo by photo, each photo's models in that order, as a full run writes them.
    """
    merged = {**earlier, **results}
    order = {name: i for i, name in enumerate(merged)}
    kept = [row for row in earlier_rows if row["model"] not in results]
    photos = {name: i for i, name in enumerate(dict.fromkeys(row["image"] for row in kept + rows))}
    merged_rows = sorted(kept + [row for row in rows if row["model"] in results],
                         key=lambda row: (photos[row["image"]], order[row["model"]]))
    return merged, merged_rows

"""Human names and one-line descriptions of checkpoints, for the demo's model list and `colorize-hub list`.

The bundled checkpoints are described in `checkpoints/catalog.json`, beside them; any other checkpoint folder
gets a readable name from its folder and the summary of its architecture's registry record.
"""

import functools
import json
from pathlib import Path

from .checkpoints import BUNDLED_CHECKPOINTS

CATALOG_FILE = "catalog.json"


@functools.cache
def known_checkpoints(folder: Path = BUNDLED_CHECKPOINTS) -> dict[str, tuple[str, str]]:
    """checkpoint name -> (human name, one-line description), from `folder`/catalog.json (empty without one)."""
    path = folder / CATALOG_FILE
    if not path.is_file():
        return {}
    entries = json.loads(path.read_text(encoding="utf-8"))["checkpoints"]
    return {name: (entry["name"], entry["description"]) for name, entry in entries.items()}


def architecture_summary(folder: Path) -> str:
    """The registry's summary of the architecture in `folder`/config.json, or what the file names."""
    try:
        model_type = json.loads((folder / "config.json").read_text()).get("model_type", "")
    except (OSError, ValueError, AttributeError):
        model_type = ""
    from .models import MODEL_REGISTRY  # imports torch: only for folders the catalog does not describe

    record = MODEL_REGISTRY.get(model_type)
    return record.summary if record else (model_type or "unknown architecture")


def describe(name: str, folder: Path) -> tuple[str, str]:
    """(human name, description): from the bundled catalog, else readable defaults from the folder's config.json."""
    known = known_checkpoints()
    if name in known:
        return known[name]
    return name.replace("-", " ").replace("_", " ").capitalize(), f"{architecture_summary(folder)} (checkpoint folder {name})"

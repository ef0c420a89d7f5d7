"""Human names and one-line descriptions of checkpoints, for the demo's model list and `colorize-hub list`.

The bundled checkpoints are described in `checkpoints/catalog.json`, beside them, best first (the general models in
the order of their dev-set results, then the specialists), each with a short "good for"; any other checkpoint folder
gets a readable name from its folder and the summary of its architecture's registry record, and comes last. `listing()`, what
`colorize-hub list` prints, reads only files (no torch), so it answers at once.
"""

import functools
import json
from dataclasses import dataclass
from pathlib import Path

from .checkpoints import BUNDLED_CHECKPOINTS, DEFAULT_MODEL, bundled_checkpoints

CATALOG_FILE = "catalog.json"


@functools.cache
def catalog_entries(folder: Path = BUNDLED_CHECKPOINTS) -> dict[str, dict]:
    """checkpoint name -> its catalog entry (name, description, good_for), best first; empty without a catalog."""
    path = folder / CATALOG_FILE
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))["checkpoints"]


def known_checkpoints(folder: Path = BUNDLED_CHECKPOINTS) -> dict[str, tuple[str, str]]:
    """checkpoint name -> (human name, one-line description), from `folder`/catalog.json, best first."""
    return {name: (entry["name"], entry["description"]) for name, entry in catalog_entries(folder).items()}


def good_for(name: str) -> str:
    """What a checkpoint is good for, in a few words ("" for one the catalog does not describe)."""
    return catalog_entries().get(name, {}).get("good_for", "")


def best_first(checkpoints: dict[str, Path], catalog_folder: Path = BUNDLED_CHECKPOINTS) -> dict[str, Path]:
    """The same name -> folder mapping, in the catalog's order (best first); checkpoints it lacks come last."""
    rank = {name: index for index, name in enumerate(catalog_entries(catalog_folder))}
    return dict(sorted(checkpoints.items(), key=lambda item: (rank.get(item[0], len(rank)), item[0])))


def model_type_of(folder: Path) -> str:
    """The model_type that `folder`/config.json declares ("" when it is unreadable)."""
    try:
        return str(json.loads((folder / "config.json").read_text()).get("model_type", ""))
    except (OSError, ValueError, AttributeError):
        return ""


def architecture_summary(folder: Path) -> str:
    """The registry's summary of the architecture in `folder`/config.json, or what the file names."""
    model_type = model_type_of(folder)
    from .models import MODEL_REGISTRY  # imports torch: only for folders the catalog does not describe

    record = MODEL_REGISTRY.get(model_type)
    return record.summary if record else (model_type or "unknown architecture")


def describe(name: str, folder: Path) -> tuple[str, str]:
    """(human name, description): from the bundled catalog, else readable defaults from the folder's config.json."""
    known = known_checkpoints()
    if name in known:
        return known[name]
    return name.replace("-", " ").replace("_", " ").capitalize(), f"{architecture_summary(folder)} (checkpoint folder {name})"


@dataclass(frozen=True)
class ListedCheckpoint:
    """One line of `colorize-hub list`."""

    name: str
    description: str
    megabytes: float  # every file of the folder, as it lies on disk
    is_default: bool


def listing(folder: Path = BUNDLED_CHECKPOINTS) -> list[ListedCheckpoint]:
    """Every checkpoint in `folder` with its catalog description, its size and whether it is DEFAULT_MODEL."""
    known = known_checkpoints(folder)
    rows = []
    for name, path in best_first(bundled_checkpoints(folder), folder).items():
        # the registry's summary would load the model code (torch): a folder the catalog lacks says so instead
        description = known[name][1] if name in known else f"a {model_type_of(path) or 'unknown'} checkpoint " \
                                                           f"(no entry in {folder.name}/{CATALOG_FILE})"
        size = sum(file.stat().st_size for file in path.rglob("*") if file.is_file())
        rows.append(ListedCheckpoint(name, description, size / 1e6, name == DEFAULT_MODEL))
    return rows

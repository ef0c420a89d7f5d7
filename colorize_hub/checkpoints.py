"""Where checkpoints are: the bundled ones beside the package, a local folder, or a Hub repo id.

One module for the lookup, imported by loading and publishing alike (neither imports the other for it). It
imports no torch, so model lists and argument errors stay fast.
"""

import difflib
import json
from pathlib import Path

from huggingface_hub import constants

from .errors import ColorizationError

# checkpoints/ beside the package in a source checkout (what `python app.py` and the tests use)
BUNDLED_CHECKPOINTS = Path(__file__).resolve().parent.parent / "checkpoints"
# what colorize(), `colorize-hub colorize`/`video` and pipeline("image-colorization") use when no model is named:
# the bundled checkpoint recommended for general photos (README, "Which model for what")
DEFAULT_MODEL = "colorizer-encoder-unet"


def bundled_checkpoints(folder: str | Path | None = None) -> dict[str, Path]:
    """Name -> folder of every checkpoint (a sub-folder with config.json) in `folder`, default `checkpoints/`."""
    folder = Path(folder) if folder is not None else BUNDLED_CHECKPOINTS
    return {p.parent.name: p.parent for p in sorted(folder.glob("*/config.json"))} if folder.is_dir() else {}


def hint_checkpoints(checkpoints: dict[str, Path] | None = None) -> list[str]:
    """Names of the checkpoints (name -> folder; default: the bundled ones) that take colour hints (their
    config.json says `"hints": true`), in the order given."""
    checkpoints = bundled_checkpoints() if checkpoints is None else checkpoints
    return [name for name, path in checkpoints.items() if takes_hints_file(path)]


def takes_hints_file(folder: Path) -> bool:
    """Whether the checkpoint in `folder` takes colour hints, by its config.json alone (False when that is not
    readable JSON: loading the checkpoint says what is wrong with it)."""
    try:
        return json.loads((Path(folder) / "config.json").read_text()).get("hints") is True
    except (OSError, ValueError, AttributeError):
        return False


def what_to_pass() -> str:
    bundled = sorted(bundled_checkpoints())
    names = f"a bundled name ({', '.join(bundled)}), " if bundled else ""
    return f"pass {names}a checkpoint folder (config.json + model.safetensors) or a Hub repo id (owner/name)"


def resolve_checkpoint(name_or_path: str | Path) -> str:
    """A local folder, else a bundled checkpoint name, else (unchanged) a Hub repo id (owner/name).

    `checkpoints/NAME`, the bundled folder as the README writes it, finds the bundled checkpoint from any working
    folder, not only from the source checkout's root. Needs no torch and no network, so a mistyped name fails fast.
    """
    text = str(name_or_path)
    if not text.strip():
        raise ColorizationError(f"No checkpoint was named; {what_to_pass()}.")
    path = Path(text).expanduser()
    if path.is_dir():
        return str(path)
    bundled = bundled_checkpoints()
    if text in bundled:
        return str(bundled[text])
    if path.parent == Path(BUNDLED_CHECKPOINTS.name) and path.name in bundled:
        return str(bundled[path.name])
    if path.exists():
        raise ColorizationError(f"{text!r} is a file, not a checkpoint folder; {what_to_pass()}.")
    if not text or text.count("/") != 1 or text.startswith((".", "~", "/")) or path.is_absolute():
        raise ColorizationError(f"No checkpoint {text!r}: it is not a checkpoint folder (no such folder) nor a "
                                f"bundled name; {_did_you_mean(path.name)}{what_to_pass()}.")
    return text


def _did_you_mean(name: str) -> str:
    """'did you mean colorizer-fusion? Otherwise ' for a near miss of a bundled name, else ''."""
    close = difflib.get_close_matches(name, bundled_checkpoints(), n=1, cutoff=0.8)
    return f"did you mean {close[0]}? Otherwise " if close else ""


def local_checkpoint(name_or_path: str | Path) -> Path:
    """The folder of a local checkpoint or bundled name, for commands that need its files (`colorize-hub push`)."""
    try:
        location = Path(resolve_checkpoint(name_or_path))
    except ColorizationError:
        location = None
    if location is None or not location.is_dir():
        bundled = ", ".join(sorted(bundled_checkpoints())) or "none"
        raise ColorizationError(f"{str(name_or_path)!r} is not a checkpoint folder on this machine nor a bundled "
                                f"name; {_did_you_mean(Path(str(name_or_path)).name)}pass a folder or one of "
                                f"{bundled}.")
    return location


def hub_unreachable(error: BaseException) -> bool:
    """True when the error chain shows the Hub could not be reached (offline mode, DNS, connection, timeout)."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        names = {cls.__name__ for cls in type(error).__mro__}
        if names & {"OfflineModeIsEnabled", "LocalEntryNotFoundError", "ConnectionError", "ConnectError",
                    "TimeoutException", "TransportError", "gaierror"} or "couldn't connect" in str(error):
            return True
        error = error.__cause__ or error.__context__
    return False


def unreachable_hub_message(name: str, error: BaseException) -> str | None:
    """The message for a Hub id that failed because the Hub could not be reached, else None (another cause)."""
    if "/" not in str(name) or Path(name).exists() or not (constants.is_offline_mode() or hub_unreachable(error)):
        return None
    why = "offline mode: HF_HUB_OFFLINE=1" if constants.is_offline_mode() else "no connection"
    bundled = sorted(bundled_checkpoints())
    return (f"Cannot load colorizer {name!r}: the Hugging Face Hub is unreachable ({why}) and {name} is not in the "
            f"local Hub cache. Pass the path of a local checkpoint folder instead (model='path/to/checkpoint'"
            f"{', or one of ' + ', '.join(bundled) if bundled else ''}), or download it once where the Hub is "
            f"reachable: `hf download {name}`.")

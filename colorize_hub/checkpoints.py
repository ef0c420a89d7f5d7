"""Where checkpoints are: the bundled ones beside the package, a local folder, or a Hub repo id.

One module for the lookup, imported by loading and publishing alike (neither imports the other for it). It
imports no torch, so model lists and argument errors stay fast.
"""

from pathlib import Path

from huggingface_hub import constants

from .errors import ColorizationError

# checkpoints/ beside the package in a source checkout (what `python app.py` and the tests use)
BUNDLED_CHECKPOINTS = Path(__file__).resolve().parent.parent / "checkpoints"


def bundled_checkpoints(folder: str | Path | None = None) -> dict[str, Path]:
    """Name -> folder of every checkpoint (a sub-folder with config.json) in `folder`, default `checkpoints/`."""
    folder = Path(folder) if folder is not None else BUNDLED_CHECKPOINTS
    return {p.parent.name: p.parent for p in sorted(folder.glob("*/config.json"))} if folder.is_dir() else {}


def what_to_pass() -> str:
    bundled = sorted(bundled_checkpoints())
    names = f"a bundled name ({', '.join(bundled)}), " if bundled else ""
    return f"pass {names}a checkpoint folder (config.json + model.safetensors) or a Hub repo id (owner/name)"


def resolve_checkpoint(name_or_path: str | Path) -> str:
    """A local folder, else a bundled checkpoint name, else (unchanged) a Hub repo id (owner/name)."""
    text = str(name_or_path)
    if not text.strip():
        raise ColorizationError(f"No checkpoint was named; {what_to_pass()}.")
    path = Path(text).expanduser()
    if path.is_dir():
        return str(path)
    bundled = bundled_checkpoints()
    if text in bundled:
        return str(bundled[text])
    if path.exists():
        raise ColorizationError(f"{text!r} is a file, not a checkpoint folder; {what_to_pass()}.")
    if not text or text.count("/") != 1 or text.startswith((".", "~", "/")) or path.is_absolute():
        raise ColorizationError(f"No checkpoint {text!r}: it is not a checkpoint folder (no such folder) nor a "
                                f"bundled name; {what_to_pass()}.")
    return text


def _unreachable(error: BaseException) -> bool:
    """True when the error chain shows the Hub could not be reached (offline mode, DNS, connection, timeout)."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        names = {cls.__name__ for cls in type(error).__mro__}
        if names & {"OfflineModeIsEnabled", "LocalEntryNotFoundError", "ConnectionError", "ConnectError",
                    "TimeoutException", "gaierror"} or "couldn't connect" in str(error):
            return True
        error = error.__cause__ or error.__context__
    return False


def unreachable_hub_message(name: str, error: BaseException) -> str | None:
    """The message for a Hub id that failed because the Hub could not be reached, else None (another cause)."""
    if "/" not in str(name) or Path(name).exists() or not (constants.is_offline_mode() or _unreachable(error)):
        return None
    why = "offline mode: HF_HUB_OFFLINE=1" if constants.is_offline_mode() else "no connection"
    bundled = sorted(bundled_checkpoints())
    return (f"Cannot load colorizer {name!r}: the Hugging Face Hub is unreachable ({why}) and {name} is not in the "
            f"local Hub cache. Pass the path of a local checkpoint folder instead (model='path/to/checkpoint'"
            f"{', or one of ' + ', '.join(bundled) if bundled else ''}), or download it once where the Hub is "
            f"reachable: `hf download {name}`.")

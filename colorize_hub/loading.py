"""Find and load a colorizer by bundled name, local folder or Hub id — once, then from a cache."""

import functools
import json
import logging
from pathlib import Path

from transformers import AutoConfig, AutoModel, PreTrainedModel

from .checkpoints import what_to_pass, resolve_checkpoint, unreachable_hub_message
from .errors import ColorizationError
from .folding import copy_weights_channels_last, fold_batch_norms
from .image_processing_colorization import ColorizationImageProcessor

logger = logging.getLogger(__name__)

PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")
SAFETENSORS_FILES = ("model.safetensors", "model.safetensors.index.json")
CONVERT_HINT = (
    "colorize_hub loads only safetensors weights, because unpickling a file can run any code it contains. "
    "If you trust the file, convert it once: python -c \"import colorize_hub, transformers; "
    "transformers.AutoModel.from_pretrained('{folder}', use_safetensors=False).save_pretrained('{folder}')\" "
    "(writes model.safetensors), or ask its author for a safetensors checkpoint."
)


def check_checkpoint_folder(folder: Path) -> None:
    """Refuse, with a message saying what to do, a local folder that is not a loadable colorize_hub checkpoint.

    Checked before transformers sees it: a missing or non-JSON config.json, a model_type that is not one of
    ours (transformers would otherwise offer to run the folder's code), pickle-only weights, and a
    model.safetensors whose header is corrupt or truncated.
    """
    from safetensors import safe_open

    from .models import MODEL_REGISTRY

    config_file = folder / "config.json"
    if not config_file.is_file():
        raise ColorizationError(f"{folder} has no config.json, so it is not a checkpoint folder; {what_to_pass()}.")
    try:
        model_type = json.loads(config_file.read_text(encoding="utf-8")).get("model_type")
    except (OSError, ValueError, AttributeError) as error:
        msg = f"{config_file} is not a readable JSON object ({error}); re-download or re-save the checkpoint."
        raise ColorizationError(msg) from error
    if model_type not in MODEL_REGISTRY:
        raise ColorizationError(
            f"{config_file} declares model_type {model_type!r}, which is not a colorize_hub architecture "
            f"({', '.join(MODEL_REGISTRY)}); pass a checkpoint saved by colorize_hub."
        )
    present = [name for name in SAFETENSORS_FILES if (folder / name).is_file()]
    if not present:
        pickles = sorted(p.name for p in folder.iterdir() if p.suffix.lower() in PICKLE_SUFFIXES)
        if pickles:
            raise ColorizationError(f"{folder} holds only pickle weights ({', '.join(pickles)}), no model.safetensors. "
                                    + CONVERT_HINT.format(folder=folder))
        raise ColorizationError(f"{folder} has no model.safetensors; copy the whole checkpoint folder, weights too.")
    if present[0] == "model.safetensors":
        try:
            with safe_open(folder / "model.safetensors", framework="pt") as weights:
                weights.keys()
        except Exception as error:  # noqa: BLE001 - SafetensorError is not an OSError/ValueError
            raise ColorizationError(
                f"{folder / 'model.safetensors'} is corrupt or truncated ({error}); re-download or re-save it."
            ) from error


@functools.lru_cache(maxsize=16)
def load_colorizer(name_or_path: str) -> tuple[PreTrainedModel, ColorizationImageProcessor]:
    """Load model (eval mode) and image processor; cached, so repeated calls cost nothing.

    Only safetensors weights are ever loaded: a pickle checkpoint (pytorch_model.bin) is refused, and code
    shipped inside a checkpoint is never run (the architectures are this package's own). Weights that do not
    match the architecture are refused rather than silently replaced by random ones. Every failure is a
    :class:`ColorizationError` that says what is wrong and what to do.
    """
    from .models import MODEL_REGISTRY

    location = resolve_checkpoint(name_or_path)
    local = Path(location).is_dir()
    if local:
        check_checkpoint_folder(Path(location))
    try:
        config = AutoConfig.from_pretrained(location, trust_remote_code=False)
        if config.model_type not in MODEL_REGISTRY:
            raise ColorizationError(f"{name_or_path!r} is a {config.model_type!r} model, not a colorize_hub "
                                    f"architecture ({', '.join(MODEL_REGISTRY)}).")
        model, info = AutoModel.from_pretrained(
            location, config=config, use_safetensors=True, trust_remote_code=False, output_loading_info=True
        )
    except ColorizationError:
        raise
    except OSError as error:
        if not local and (unreachable := unreachable_hub_message(location, error)):
            raise ColorizationError(unreachable) from error
        if not local and "safetensors" in str(error):
            raise ColorizationError(f"Hub repo {location!r} has no model.safetensors. "
                                    + CONVERT_HINT.format(folder="DOWNLOADED_FOLDER")) from error
        where = "" if local else " If it is a Hub id, check the name and that the Hub is reachable."
        raise ColorizationError(f"Cannot load colorizer {name_or_path!r}: {error}.{where} Otherwise "
                                f"{what_to_pass()}.") from error
    except Exception as error:  # noqa: BLE001 - bad config values or weights fail in many ways inside transformers
        raise ColorizationError(
            f"Cannot load colorizer {name_or_path!r}: {type(error).__name__}: {error}. The checkpoint is damaged or "
            "was saved by an incompatible version; re-download or re-save it."
        ) from error
    broken = {kind: info.get(kind) for kind in ("missing_keys", "mismatched_keys") if info.get(kind)}
    if broken:
        detail = "; ".join(f"{kind.replace('_', ' ')}: {sorted(map(str, keys))[:5]}" for kind, keys in broken.items())
        raise ColorizationError(
            f"The weights of {name_or_path!r} do not match its config.json ({detail}); the checkpoint is damaged or "
            "its files come from different models: re-download or re-save it."
        )
    processor = load_processor(location, local)
    return copy_weights_channels_last(fold_batch_norms(model.eval())), processor


def load_processor(location: str, local: bool) -> ColorizationImageProcessor:
    """The checkpoint's preprocessor_config.json, or the default processor where it has none."""
    if local and not (Path(location) / "preprocessor_config.json").is_file():
        logger.info("No preprocessor_config.json in %s: using the default image processor", location)
        return ColorizationImageProcessor()
    try:
        return ColorizationImageProcessor.from_pretrained(location)
    except ColorizationError as error:
        raise ColorizationError(f"{location}/preprocessor_config.json has a bad setting: {error}") from error
    except OSError as error:
        if not local:
            logger.info("No preprocessor_config.json in %s: using the default image processor", location)
            return ColorizationImageProcessor()
        msg = f"{location}/preprocessor_config.json cannot be read ({error}); fix or delete it (defaults are used)."
        raise ColorizationError(msg) from error
    except Exception as error:  # noqa: BLE001
        msg = f"{location}/preprocessor_config.json is invalid ({error}); fix or delete it (defaults are used)."
        raise ColorizationError(msg) from error


def as_colorizer(model: "str | Path | PreTrainedModel") -> tuple[PreTrainedModel, ColorizationImageProcessor]:
    """Accept a loaded model (default processor) or anything `load_colorizer` takes."""
    if isinstance(model, PreTrainedModel):
        return model, ColorizationImageProcessor()
    if isinstance(model, (str, Path)):
        return load_colorizer(str(model))
    raise ColorizationError(f"model must be a checkpoint name, folder, Hub id or loaded model, not {type(model)}")

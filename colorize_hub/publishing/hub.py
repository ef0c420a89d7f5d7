"""Publish a checkpoint folder to the Hugging Face Hub, and explain why a Hub id could not be loaded.

What is uploaded is exactly what a user needs and nothing else: `config.json` (with `auto_map`),
`model*.safetensors`, `preprocessor_config.json` (with an `auto_map` for AutoImageProcessor), the source files
of the model, config and image processor (so `trust_remote_code=True` works without this package) and a model
card whose metadata carries the evaluation as `model-index`. Training state (optimizer, scheduler, RNG,
discriminator, `training_args.bin`) and pickle weights never leave the machine.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import sys
import tempfile
from pathlib import Path

from huggingface_hub import EvalResult, HfApi, ModelCard
from huggingface_hub.errors import HfHubHTTPError, LocalTokenNotFoundError
from transformers.dynamic_module_utils import get_relative_import_files

from .. import image_processing_colorization
from ..checkpoints import hub_unreachable, local_checkpoint
from ..errors import ColorizationError
from . import hub_access
from .model_card import description_of, load_calibration, load_summary, metrics_table, write_model_card

logger = logging.getLogger(__name__)

PROCESSOR_AUTO_MAP = {"AutoImageProcessor": "image_processing_colorization.ColorizationImageProcessor"}
CARD_TAGS = ["image-colorization", "colorize_hub"]
# metric key in evaluation.json -> (model-index metric type, display name)
CARD_METRICS = {
    "psnr": ("psnr", "PSNR (dB)"),
    "ssim": ("ssim", "SSIM"),
    "delta_e": ("delta_e_ciede2000", "Mean CIEDE2000 ΔE"),
    "colourfulness": ("colourfulness", "Colourfulness (Hasler-Süsstrunk)"),
    "delta_colourfulness": ("delta_colourfulness", "|CF - CF of ground truth|"),
}
# remote files that a new push replaces; anything else there (e.g. images a person added) is left alone
STALE_PATTERNS = ["*.safetensors", "*.bin", "*.pt", "*.pth", "*.ckpt", "*.py", "*.onnx"]


def _copy_model_files(checkpoint: Path, destination: Path) -> dict:
    """config.json, the safetensors weights and the model's source files (from the checkpoint, else the package)."""
    weights = sorted(checkpoint.glob("model*.safetensors")) + sorted(checkpoint.glob("model.safetensors.index.json"))
    if not (checkpoint / "config.json").is_file() or not weights:
        found = sorted(p.name for p in checkpoint.iterdir()) if checkpoint.is_dir() else "nothing (not a folder)"
        raise ColorizationError(f"{checkpoint} is not a checkpoint folder with config.json and model.safetensors "
                                f"(found: {found}); pickle weights (.bin/.pt) are never published.")
    for path in weights:
        shutil.copy2(path, destination / path.name)
    config = json.loads((checkpoint / "config.json").read_text())
    modules = {ref.split(".")[0] for ref in config.get("auto_map", {}).values()}
    if modules and all((checkpoint / f"{module}.py").is_file() for module in modules):
        for module in modules:  # the code the weights were saved with
            _copy_with_siblings(checkpoint / f"{module}.py", destination)
        shutil.copy2(checkpoint / "config.json", destination / "config.json")
        return config
    from .. import MODEL_REGISTRY  # saved without remote code: ship the installed package's code

    if config.get("model_type") not in MODEL_REGISTRY:
        raise ColorizationError(f"{checkpoint}/config.json has model_type {config.get('model_type')!r}, "
                                f"not one of {sorted(MODEL_REGISTRY)}.")
    record = MODEL_REGISTRY[config["model_type"]]
    config_class, model_class = record.config_class, record.model_class
    for cls, auto_class in ((config_class, "AutoConfig"), (model_class, "AutoModel")):
        source = Path(sys.modules[cls.__module__].__file__)
        _copy_with_siblings(source, destination)
        config.setdefault("auto_map", {})[auto_class] = f"{source.stem}.{cls.__name__}"
    (destination / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    return config


def _copy_with_siblings(source: Path, destination: Path) -> None:
    """A remote-code file and every file it imports relatively (what transformers' loader will ask for)."""
    for path in [source, *map(Path, get_relative_import_files(str(source)))]:
        shutil.copy2(path, destination / path.name)


def _copy_processor(checkpoint: Path, destination: Path) -> None:
    """preprocessor_config.json (the checkpoint's, else the defaults) with an auto_map, plus its source code."""
    source = checkpoint / "preprocessor_config.json"
    if source.is_file():
        settings = json.loads(source.read_text())
    else:
        logger.warning("%s has no preprocessor_config.json: publishing the default image processor", checkpoint)
        settings = image_processing_colorization.ColorizationImageProcessor().to_dict()
    settings["auto_map"] = {**settings.get("auto_map", {}), **PROCESSOR_AUTO_MAP}
    (destination / "preprocessor_config.json").write_text(json.dumps(settings, indent=2, sort_keys=True) + "\n")
    _copy_with_siblings(Path(image_processing_colorization.__file__), destination)


def load_evaluations(checkpoint: str | Path, metrics: list[str | Path] = ()) -> dict[str, dict]:
    """{"<data> (<protocol>)": {"model": ..., "gray": ...}} from the checkpoint's evaluation.json and from
    `colorize-hub evaluate` outputs (metrics.json), whose row for this checkpoint is found by name."""
    checkpoint = Path(checkpoint)
    evaluations = {}
    if (checkpoint / "evaluation.json").is_file():
        evaluations.update(json.loads((checkpoint / "evaluation.json").read_text()))
    for path in metrics:
        report = json.loads(Path(path).read_text())
        rows = {name: row for name, row in report["results"].items() if name != "gray"}
        mine = [name for name in rows if Path(name).name == checkpoint.name] or (list(rows) if len(rows) == 1 else [])
        if len(mine) != 1:
            raise ColorizationError(f"{path} has no single row for {checkpoint.name} (rows: {sorted(rows)}).")
        key = f"{Path(report['data'].rstrip('/')).name} ({report['protocol']})"
        evaluations[key] = {"model": rows[mine[0]], "gray": report["results"]["gray"]}
    return evaluations


def _eval_results(evaluations: dict[str, dict]) -> list[EvalResult]:
    results = []
    for key, result in evaluations.items():
        match = re.fullmatch(r"(.*) \((.*)\)", key)
        data, protocol = match.groups() if match else (key, None)
        for metric, (metric_type, metric_name) in CARD_METRICS.items():
            if result["model"].get(metric) is not None:
                results.append(EvalResult(
                    task_type="image-to-image", task_name="Image colorization", dataset_type=data, dataset_name=data,
                    dataset_config=protocol, metric_type=metric_type, metric_name=metric_name,
                    metric_value=round(float(result["model"][metric]), 4)))
    return results


def write_hub_card(checkpoint: Path, destination: Path, repo_id: str, model_type: str, evaluations: dict) -> Path:
    """The model card: rewritten from training_summary.json when present (so it names `repo_id`), else the
    checkpoint's README.md, else a short card; then the Hub metadata and model-index are set."""
    path = destination / "README.md"
    config = json.loads((checkpoint / "config.json").read_text()) if (checkpoint / "config.json").is_file() else {}
    description = description_of({**config, "model_type": model_type})
    if (checkpoint / "training_summary.json").is_file():
        write_model_card(destination, repo_id, load_summary(checkpoint), description, evaluations,
                         load_calibration(checkpoint))
    else:
        text = (checkpoint / "README.md").read_text() if (checkpoint / "README.md").is_file() else (
            f"# {repo_id}\n\n{description}\n\n## Use\n\n```python\nimport colorize_hub\n\n"
            f"image = colorize_hub.colorize(\"old_photo.jpg\", model=\"{repo_id}\")\n```\n")
        if evaluations and "## Evaluation" not in text:
            text += "\n## Evaluation\n\n" + metrics_table(evaluations) + "\n"
        if not text.startswith("---"):  # a metadata block for ModelCard to fill in below
            text = "---\nlibrary_name: transformers\n---\n\n" + text
        path.write_text(text)
    card = ModelCard.load(path)
    card.data.library_name, card.data.pipeline_tag = "transformers", "image-to-image"
    card.data.tags = list(dict.fromkeys([*(card.data.tags or []), *CARD_TAGS, model_type]))
    if evaluations:
        card.data.model_name, card.data.eval_results = repo_id, _eval_results(evaluations)
    card.save(path)
    return path


def stage_checkpoint(checkpoint: str | Path, destination: str | Path, repo_id: str,
                     metrics: list[str | Path] = ()) -> list[str]:
    """Write into `destination` exactly the files that `push_checkpoint` uploads; returns their names.

    `checkpoint` is a checkpoint folder or a bundled name (as `colorize` and `export` take it)."""
    checkpoint, destination = local_checkpoint(checkpoint), Path(destination)
    destination.mkdir(parents=True, exist_ok=True)
    config = _copy_model_files(checkpoint, destination)
    _copy_processor(checkpoint, destination)
    evaluations = load_evaluations(checkpoint, metrics)
    write_hub_card(checkpoint, destination, repo_id, config.get("model_type", ""), evaluations)
    return sorted(path.name for path in destination.iterdir())


def push_checkpoint(checkpoint: str | Path, repo_id: str, private: bool = False, metrics: list[str | Path] = (),
                    commit_message: str | None = None, token: str | None = None, api: HfApi | None = None) -> str:
    """Create the model repo (if needed) and upload the staged checkpoint in one commit; returns the repo URL.

    `api`: an `HfApi` that has passed `hub_access.check_hub_access` (the command line checks before it loads the
    model code); by default a new one, checked here, before anything is staged.
    """
    folder = local_checkpoint(checkpoint)
    if api is None:
        api = HfApi(token=token)
        hub_access.check_hub_access(api)
    with tempfile.TemporaryDirectory(prefix="colorize-hub-push-") as staging:
        files = stage_checkpoint(folder, staging, repo_id, metrics)
        try:
            url = api.create_repo(repo_id, private=private, repo_type="model", exist_ok=True)
            logger.info("uploading %s to %s", files, repo_id)
            api.upload_folder(repo_id=repo_id, folder_path=staging, repo_type="model", delete_patterns=STALE_PATTERNS,
                              commit_message=commit_message or f"Upload {folder.name} with colorize_hub")
        except (HfHubHTTPError, LocalTokenNotFoundError, OSError) as error:
            raise ColorizationError(
                f"Upload to {repo_id} failed: {hub_access.first_line(error)}; {hub_access.LOGIN}, and check that the "
                "Hub is reachable."
            ) from error
        except Exception as error:  # noqa: BLE001 - a connection lost mid-upload (httpx) is no OSError
            if hub_unreachable(error):
                raise ColorizationError(f"Upload to {repo_id} failed: the connection to the Hub was lost "
                                        f"({type(error).__name__}); check the network, then push again.") from error
            raise
    return str(url)

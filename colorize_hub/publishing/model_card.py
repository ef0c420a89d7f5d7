"""Model cards: the Hub README of a checkpoint, written from what its training run recorded."""

import json
import shutil
from pathlib import Path

from huggingface_hub import ModelCard, ModelCardData

from ..checkpoints import takes_hints_file

# What each training folder is, for the card's metadata and licence note: {name: (Hub dataset ids, what it
# holds, the collection whose terms the weights inherit)}. A folder is known by its last one or two path parts.
DATA_SOURCES = {
    "general": (["imagenet-1k", "bsds500"], "881 photos: 682 ImageNet images (one per class) and 199 BSDS500 train "
                "images", "ImageNet, BSDS500"),
    "faces": (["utkface"], "2,712 UTKFace cropped faces, 200x200", "UTKFace"),
    "cifar10-horse": (["cifar10"], "4,957 CIFAR-10 'horse' training images, 32x32", "CIFAR-10"),
    "miniplaces/train": (["places365"], "MiniPlaces train: scene photos of 100 Places categories, 128x128",
                         "MiniPlaces (Places)"),
    "tinyimagenet/train": (["tiny-imagenet"], "Tiny ImageNet train: object photos of 200 ImageNet classes, 64x64",
                           "Tiny ImageNet (ImageNet)"),
}
LICENCE_NOTE = (
    "The weights were trained on research photo collections ({collections}) whose terms allow non-commercial "
    "research use only: these weights inherit those terms and are **not licensed for commercial use**. The code "
    "that defines and runs the model is Apache-2.0."
)


def without_home(text: str) -> str:
    """A recorded command or path as a reader can reuse it: this machine's home folder written as ~."""
    home = str(Path.home())
    return text.replace(home + "/", "~/") if home != "/" else text


def data_sources(train_data: str) -> list[tuple[str, tuple[list[str], str, str]]]:
    """The recorded train_data ("A + B" for a weighted mix) -> (short name, DATA_SOURCES entry) per folder."""
    sources = []
    for folder in train_data.split(" + "):
        parts = Path(folder.rstrip("/")).parts
        for name in ("/".join(parts[-2:]), parts[-1] if parts else folder):
            if name in DATA_SOURCES:
                sources.append((name, DATA_SOURCES[name]))
                break
        else:
            short = "/".join(parts[-2:]) or folder
            sources.append((short, ([parts[-1] if parts else folder], f"images from `{without_home(folder)}`", short)))
    return sources


def images_seen(run: dict) -> str:
    seen = run.get("images_seen")
    return f"; images seen: {seen:,}" if seen else ""


def description_of(config: dict) -> str:
    """The card's one-paragraph description of a checkpoint, from its config.json (its architecture's record)."""
    from ..models import MODEL_REGISTRY

    model_type = config.get("model_type")
    if model_type not in MODEL_REGISTRY:
        return f"Image colorization model ({model_type})."
    return MODEL_REGISTRY[model_type].card_description(config)


# files of a checkpoint folder that are pushed to the Hub (push adds the remote-code .py files)
HUB_FILES = ("config.json", "model.safetensors", "preprocessor_config.json", "README.md")
# what a shipped checkpoint keeps beside them: how it was trained, calibrated and evaluated
RECORDS = ("loss_curve.png", "training_summary.json", "calibration.json", "evaluation.json")


def metrics_table(evaluations: dict[str, dict]) -> str:
    """evaluations: {data set: {"model": metrics, "gray": metrics}} -> markdown rows beside the gray baseline."""
    lines = ["| data (protocol) | PSNR | gray PSNR | PSNR − gray | CF | ground-truth CF | SSIM | ΔE2000 |",
             "|---|---|---|---|---|---|---|---|"]
    for name, result in evaluations.items():
        model, gray = result["model"], result["gray"]
        lines.append(
            f"| {name} | {model['psnr']:.2f} | {gray['psnr']:.2f} | {model['psnr'] - gray['psnr']:+.2f} | "
            f"{model['colourfulness']:.1f} | {model['colourfulness_truth']:.1f} | "
            f"{model.get('ssim', float('nan')):.4f} | {model.get('delta_e', float('nan')):.2f} |"
        )
    return "\n".join(lines)


def data_lines(run: dict) -> str:
    """`miniplaces/train` (share 60%) — what it is; one part per folder of the run's data."""
    shares = run.get("train_weights") or []
    parts = []
    for index, (name, (_, about, _)) in enumerate(data_sources(run["train_data"])):
        share = f" (share {100 * shares[index]:.0f}%)" if index < len(shares) else ""
        parts.append(f"`{name}`{share} — {about}")
    return "; ".join(parts)


def run_lines(run: dict) -> str:
    """Markdown bullets: the data, the exact command, steps, wall time and hardware of one training run."""
    return (
        f"- data: {data_lines(run)}\n"
        f"- command: `{without_home(run['command'])}`\n"
        f"- steps: {run['steps']}{images_seen(run)}; wall time: {run['wall_seconds'] / 60:.1f} min; hardware: {run['hardware']}"
        f" x {run.get('processes', 1)} process(es)\n"
    )


def note_lines(run: dict) -> str:
    """Markdown bullets: what a run's release noted (why it was released, how an interruption was handled)."""
    return "".join(f"- {note}\n" for note in run.get("notes", []))


def write_model_card(folder: str | Path, repo_name: str, summary: dict, description: str,
                     evaluations: dict[str, dict] | None = None, calibration: dict | None = None) -> Path:
    """README.md with Hub metadata, how to use it, how it was trained and what it scores."""
    folder = Path(folder)
    runs = [*summary.get("earlier_runs", []), summary]
    sources = [source for run in runs for _, source in data_sources(run["train_data"])]
    datasets = list(dict.fromkeys(dataset for ids, _, _ in sources for dataset in ids))
    collections = ", ".join(dict.fromkeys(collection for _, _, collection in sources))
    card_data = ModelCardData(
        library_name="transformers", pipeline_tag="image-to-image", license="other",
        license_name="non-commercial-research", tags=["image-colorization", "colorize_hub", summary["model_type"]],
        datasets=datasets,
    )
    dev = summary.get("eval_metrics", {})
    dev_line = (
        f"Dev evaluation at the end of training (`{without_home(str(summary.get('eval_data')))}`, "
        f"{summary.get('eval_image_size', 256)}x{summary.get('eval_image_size', 256)} centre crops): PSNR "
        f"{dev['eval_psnr']:.2f} dB vs {dev['eval_psnr_gray']:.2f} dB for the gray image, colourfulness "
        f"{dev['eval_colourfulness']:.1f} vs {dev['eval_colourfulness_truth']:.1f} for the ground truth."
        if "eval_psnr" in dev else "No dev evaluation was run."
    )
    if "eval_pixel_accuracy" in dev:
        dev_line += (f" Per-pixel class accuracy (the predicted colour class is the palette colour nearest to the "
                     f"true ab): {100 * dev['eval_pixel_accuracy']:.1f}% over the palette's classes.")
    sections = [
        f"# {repo_name}\n\n{description}",
        "## Use\n\n```python\nimport colorize_hub  # or: AutoModel.from_pretrained(..., trust_remote_code=True)\n\n"
        f"image = colorize_hub.colorize(\"old_photo.jpg\", model=\"{repo_name}\")\nimage.save(\"old_photo_color.png\")\n"
        + (f"# colour hints: (x, y) in the photo's pixels and the colour wanted there\n"
           f"image = colorize_hub.colorize(\"old_photo.jpg\", model=\"{repo_name}\", hints=[(120, 80, \"#3060c0\")])\n"
           f"colorize_hub.suggest_colours(\"old_photo.jpg\", 120, 80, model=\"{repo_name}\")  # likely colours there\n"
           if takes_hints_file(folder) else "") + "```",
        "## Training\n\n"
        + "".join(f"Run {index} (the next run starts from its weights):\n\n{run_lines(run)}{note_lines(run)}\n"
                  for index, run in enumerate(summary.get("earlier_runs", []), start=1))
        + ("Final run:\n\n" if summary.get("earlier_runs") else "")
        + f"{run_lines(summary)}- parameters: {summary['parameters'] / 1e6:.2f} M\n"
        + note_lines(summary)
        + f"\n{dev_line}",
    ]
    if calibration:
        table = calibration["table"]
        gain = calibration["chroma_gain"]
        sections.append(
            f"## Chroma calibration\n\n`preprocessor_config.json` sets `chroma_gain: "
            f"{calibration.get('saved_chroma_gain', gain)}`: predicted chroma is multiplied by it before the user's "
            f"saturation{temperature_note(calibration)}. It was chosen on {calibration_set(calibration)} (a dev set, "
            "not an evaluation set) as the setting whose colourfulness is closest to the real photos' "
            f"({calibration['truth_colourfulness']:.1f}) among those whose PSNR {psnr_bound(calibration)} "
            f"({calibration['gray_psnr']:.2f} dB). At gain 1: PSNR {table[1.0][0]:.2f}, CF {table[1.0][1]:.1f}; at "
            f"{gain}: PSNR {table[gain][0]:.2f}, CF {table[gain][1]:.1f}."
            if 1.0 in table else f"## Chroma calibration\n\n`chroma_gain: {gain}`, chosen on `{calibration['data']}`."
        )
    if evaluations:
        sections.append("## Evaluation\n\nOutput vs ground truth in RGB; the gray row is the input itself (ab = 0). "
                        "CF = colourfulness (Hasler & Süsstrunk).\n\n" + metrics_table(evaluations))
    sections.append("## Licence\n\n" + LICENCE_NOTE.format(collections=collections))
    card = ModelCard.from_template(card_data, template_str="---\n{{ card_data }}\n---\n\n" + "\n\n".join(sections) + "\n")
    path = folder / "README.md"
    card.save(path)
    return path


def export_checkpoint(run_dir: str | Path, destination: str | Path) -> Path:
    """Copy what the Hub needs from a training run (weights, configs, card) and its records (loss curve, summary).

    The remote-code source files are not kept here: `colorize-hub push` adds the package's own at upload time.
    """
    run_dir, destination = Path(run_dir), Path(destination)
    destination.mkdir(parents=True, exist_ok=True)
    for name in RECORDS:  # a previous release's records (its calibration, its scores) describe other weights
        if not (run_dir / name).exists():
            (destination / name).unlink(missing_ok=True)
    for path in run_dir.iterdir():
        if path.name in HUB_FILES or path.name in RECORDS:
            shutil.copy2(path, destination / path.name)
    return destination


def load_summary(folder: str | Path) -> dict:
    return json.loads((Path(folder) / "training_summary.json").read_text())


def temperature_note(calibration: dict) -> str:
    """The sentence part about a calibrated annealed-mean temperature, if the calibration chose one."""
    temperature = calibration.get("annealed_temperature")
    if temperature is None:
        return ""
    return (f", and `config.json` sets the annealed-mean temperature to {temperature} (chosen together with the "
            f"gain from {', '.join(calibration.get('tables', {}))})")


def psnr_bound(calibration: dict) -> str:
    """How the calibration bounded PSNR, as the card says it."""
    tolerance = calibration.get("psnr_tolerance", 0.0)
    if tolerance < 0:
        return f"is at least {-tolerance} dB above the gray image's"
    return f"stays within {tolerance} dB of the gray image's" if tolerance else "is at least the gray image's"


def calibration_set(calibration: dict) -> str:
    """Where the gain was chosen, with the protocol when it is not the default shorter side 256."""
    protocol = calibration.get("protocol", "short-side-256")
    where = f"`{without_home(calibration['data'])}`"
    return where if protocol == "short-side-256" else f"{where} under the `{protocol}` protocol"


def load_calibration(folder: str | Path) -> dict | None:
    """calibration.json (written by scripts/release_checkpoint.py --calibrate), gains as numbers; or None."""
    path = Path(folder) / "calibration.json"
    if not path.is_file():
        return None
    calibration = json.loads(path.read_text())
    calibration["table"] = {float(gain): tuple(values) for gain, values in calibration["table"].items()}
    return calibration

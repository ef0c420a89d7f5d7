"""Turn a training run into a shipped checkpoint: copy the Hub files into checkpoints/NAME, evaluate it on
the standard sets (output vs ground truth, shorter side 256) and write its model card with the numbers.

    python scripts/release_checkpoint.py runs/colorizer-unet24 colorizer-unet24 \
        --eval ../shared/data/eval/kodak24 ../shared/data/eval/bsds500-test
"""

import argparse
import json
from pathlib import Path

from colorize_hub import ColorizationImageProcessor, load_colorizer
from colorize_hub.evaluation.calibration import DEFAULT_GAINS, calibrate_chroma_gain
from colorize_hub.evaluation.evaluate import GRAY, evaluate
from colorize_hub.evaluation.protocol import MEASURED_PRECISION
from colorize_hub.pipeline import PRECISIONS
from colorize_hub.publishing.model_card import description_of, export_checkpoint, load_summary, write_model_card

ROOT = Path(__file__).resolve().parent.parent


def set_config_fields(folder: Path, fields: dict) -> None:
    """Set fields of the checkpoint's config.json in place (save_pretrained would also copy the config's source
    file into the folder)."""
    config = json.loads((folder / "config.json").read_text())
    config.update(fields)
    (folder / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dir")
    parser.add_argument("name", help="checkpoint name, e.g. colorizer-cunet-faces")
    parser.add_argument("--eval", nargs="*", default=[], help="folders of ground-truth colour photos")
    parser.add_argument("--protocol", default="short-side-256", help="evaluation protocol (see colorize-hub evaluate)")
    parser.add_argument("--calibrate", help="dev folder on which to choose the checkpoint's chroma_gain")
    parser.add_argument("--gains", type=float, nargs="+", default=DEFAULT_GAINS,
                        help="calibration: the gains to try (default 0.5 to 1.6 in steps of 0.05); a finer grid "
                             "around the chosen one finds the most colour the PSNR bar allows")
    parser.add_argument("--psnr-tolerance", type=float, default=0.0,
                        help="calibration: how far below the gray image's dev PSNR a setting may go (dB); negative: "
                             "how far above it every setting must stay")
    parser.add_argument("--calibration-protocol", default="short-side-256",
                        help="calibration: the protocol the dev photos are scored under (see colorize-hub evaluate)")
    parser.add_argument("--render-size", type=int, default=None,
                        help="set the checkpoint's render size (its preprocessor_config.json); default: keep the run's")
    parser.add_argument("--chroma-gain", type=float, default=None,
                        help="set the checkpoint's chroma_gain instead of calibrating one (e.g. that of the checkpoint a "
                             "run was fine-tuned from, to compare the two at equal gain)")
    parser.add_argument("--config-overrides", default=None, metavar="JSON",
                        help="set config.json fields of the checkpoint, e.g. '{\"hint_trained_size\": 128}' for a run "
                             "that predates the field")
    parser.add_argument("--precision", choices=PRECISIONS, default=MEASURED_PRECISION,
                        help="of the forward pass in calibration and evaluation (fp32: the same choice on every CPU)")
    parser.add_argument("--note", action="append", default=[],
                        help="a line for the card's training section (e.g. how an interrupted run was continued)")
    args = parser.parse_args()
    if args.chroma_gain is not None and args.calibrate:
        parser.error("--chroma-gain and --calibrate both set the gain: give one")

    destination = export_checkpoint(args.run_dir, ROOT / "checkpoints" / args.name)
    if args.config_overrides:
        set_config_fields(destination, json.loads(args.config_overrides))
    if args.render_size:
        ColorizationImageProcessor(render_size=args.render_size).save_pretrained(destination)
    if args.chroma_gain is not None:
        processor = ColorizationImageProcessor.from_pretrained(destination)
        processor.chroma_gain = args.chroma_gain
        processor.save_pretrained(destination)
    summary = load_summary(destination)
    if args.note:
        summary["notes"] = [*summary.get("notes", []), *args.note]
        (destination / "training_summary.json").write_text(json.dumps(summary, indent=2))
    calibration = None
    if args.calibrate:
        calibration = calibrate_chroma_gain(str(destination), args.calibrate, args.calibration_protocol,
                                            gains=tuple(args.gains), psnr_tolerance=args.psnr_tolerance,
                                            precision=args.precision)
        if calibration["annealed_temperature"] is not None:
            set_config_fields(destination, {"annealed_temperature": calibration["annealed_temperature"]})
        processor = ColorizationImageProcessor.from_pretrained(destination)
        # the gains were tried on top of the processor's own: compose, so re-releasing a calibrated run stays right
        processor.chroma_gain = round(processor.chroma_gain * calibration["chroma_gain"], 4)
        calibration["saved_chroma_gain"] = processor.chroma_gain
        processor.save_pretrained(destination)
        load_colorizer.cache_clear()  # evaluate the checkpoint as saved, with its new gain
        (destination / "calibration.json").write_text(json.dumps(
            {**calibration, "table": {str(k): v for k, v in calibration["table"].items()}}, indent=2))
        print(f"chroma_gain {calibration['chroma_gain']}, temperature {calibration['annealed_temperature']} "
              f"(chosen on {args.calibrate})")
    evaluations = {}
    for folder in args.eval:
        results, _ = evaluate([str(destination)], folder, args.protocol, precision=args.precision)
        evaluations[f"{Path(folder).name} ({args.protocol})"] = {"model": results[str(destination)], "gray": results[GRAY]}
    if evaluations:
        (destination / "evaluation.json").write_text(json.dumps(evaluations, indent=2))
    description = description_of(json.loads((destination / "config.json").read_text()))
    write_model_card(destination, args.name, summary, description, evaluations, calibration)
    print((destination / "README.md").read_text())


if __name__ == "__main__":
    main()

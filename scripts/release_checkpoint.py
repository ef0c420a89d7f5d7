"""Turn a training run into a shipped checkpoint: copy the Hub files into checkpoints/NAME, evaluate it on
the standard sets (output vs ground truth, shorter side 256) and write its model card with the numbers.

    python scripts/release_checkpoint.py runs/colorizer-unet24 colorizer-unet24 \
        --eval ../shared/data/eval/kodak24 ../shared/data/eval/bsds500-test
"""

import argparse
import json
from pathlib import Path

from colorize_hub import ColorizationImageProcessor
from colorize_hub.evaluate import GRAY, evaluate
from colorize_hub.model_card import DESCRIPTIONS, export_checkpoint, load_summary, write_model_card

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dir")
    parser.add_argument("name", help="checkpoint name, e.g. colorizer-cunet-faces")
    parser.add_argument("--eval", nargs="*", default=[], help="folders of ground-truth colour photos")
    parser.add_argument("--protocol", default="short-side-256")
    parser.add_argument("--render-size", type=int, default=None,
                        help="set the checkpoint's render size (its preprocessor_config.json); default: keep the run's")
    args = parser.parse_args()

    destination = export_checkpoint(args.run_dir, ROOT / "checkpoints" / args.name)
    if args.render_size:
        ColorizationImageProcessor(render_size=args.render_size).save_pretrained(destination)
    summary = load_summary(destination)
    evaluations = {}
    for folder in args.eval:
        results, _ = evaluate([str(destination)], folder, args.protocol)
        evaluations[f"{Path(folder).name} ({args.protocol})"] = {"model": results[str(destination)], "gray": results[GRAY]}
    if evaluations:
        (destination / "evaluation.json").write_text(json.dumps(evaluations, indent=2))
    write_model_card(destination, args.name, summary, DESCRIPTIONS[summary["model_type"]], evaluations)
    print((destination / "README.md").read_text())


if __name__ == "__main__":
    main()

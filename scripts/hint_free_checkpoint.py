"""Save a hint model without its hint inputs: the hint-free checkpoint that computes exactly what it computes given
no hints (colorize_hub/training/narrowing.py), as a run folder that scripts/release_checkpoint.py takes.

    python scripts/hint_free_checkpoint.py colorizer-encoder-unet-hints ~/colorize-runs/encoder-unet-from-hints

The folder gets the weights, the processor with chroma_gain 1 (release calibrates its own) and the hint model's
training_summary.json with a note saying where the weights came from, so the model card states the whole training.
"""

import argparse
import json
from pathlib import Path

from colorize_hub import ColorizationImageProcessor, ColorizerEncoderUnetForColorization
from colorize_hub.checkpoints import local_checkpoint
from colorize_hub.training.narrowing import hint_free_copy

NOTE = ("the weights are those of {name} (this model fine-tuned to take colour hints, the run above) without its "
        "hint inputs: `python scripts/hint_free_checkpoint.py {name} OUT` keeps each decoder conv's first input "
        "channels and folds the hint entry's bias into the encoder's last BatchNorm, so the output equals {name}'s "
        "given no hints; half of that run's photos carried no hints, and it trained the whole decoder")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", help="a checkpoint that takes hints (bundled name or folder)")
    parser.add_argument("out", help="folder to write")
    args = parser.parse_args()
    folder = local_checkpoint(args.checkpoint)
    # not load_colorizer: it folds BatchNorms into convs for inference, and the copy needs them as trained
    model = ColorizerEncoderUnetForColorization.from_pretrained(folder)
    processor = ColorizationImageProcessor.from_pretrained(folder)
    out = Path(args.out)
    hint_free_copy(model).save_pretrained(out)
    processor.chroma_gain = 1.0
    processor.save_pretrained(out)
    summary_file = folder / "training_summary.json"
    if summary_file.exists():
        summary = json.loads(summary_file.read_text())
        name = Path(args.checkpoint).name
        summary["notes"] = [*summary.get("notes", []), NOTE.format(name=name)]
        (out / "training_summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"wrote {out}: the hint-free copy of {args.checkpoint}")


if __name__ == "__main__":
    main()

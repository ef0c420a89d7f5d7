"""`colorize-hub`: the command line. One subcommand per task; each has --help with examples."""

import argparse
import logging
import sys
from pathlib import Path

from .errors import ColorizationError


def _list(args: argparse.Namespace) -> int:
    from . import MODEL_REGISTRY, bundled_checkpoints

    print("architectures:", ", ".join(MODEL_REGISTRY))
    checkpoints = bundled_checkpoints()
    print("bundled checkpoints:", ", ".join(checkpoints) if checkpoints else "(none in checkpoints/)")
    return 0


def _colorize(args: argparse.Namespace) -> int:
    from . import colorize

    output = Path(args.output)
    if output.resolve() == Path(args.input).resolve():
        raise ColorizationError("The output path is the input path: choose another, inputs are never overwritten.")
    result = colorize(args.input, model=args.model, render_size=args.render_size, saturation=args.saturation)
    output.parent.mkdir(parents=True, exist_ok=True)
    result.save(output)
    print(f"{args.input} -> {output}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="colorize-hub", description="Colorize black-and-white photos.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    commands.add_parser(
        "train",
        help="train an architecture with transformers.Trainer (all TrainingArguments; see train --help)",
        add_help=False,
    )

    commands.add_parser(
        "evaluate", help="PSNR, SSIM, ΔE2000 and colourfulness of models against colour photos", add_help=False
    )

    listing = commands.add_parser("list", help="list the architectures and the bundled checkpoints")
    listing.set_defaults(run=_list)

    one = commands.add_parser(
        "colorize",
        help="colorize one image",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  colorize-hub colorize old.jpg -o old_color.png --model colorizer-fusion",
    )
    one.add_argument("input", help="image file")
    one.add_argument("-o", "--output", required=True, help="where to write the colorized image")
    one.add_argument("--model", required=True, help="bundled checkpoint name, checkpoint folder or Hub id")
    one.add_argument("--render-size", type=int, default=256, help="side the model sees (multiple of 32)")
    one.add_argument("--saturation", type=float, default=1.0, help="chroma multiplier, 0-2")
    one.set_defaults(run=_colorize)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["train"]:  # every TrainingArguments flag: HfArgumentParser parses the rest
        from .train import main as train_main

        train_main(argv[1:])
        return 0
    if argv[:1] == ["evaluate"]:
        from .evaluate import main as evaluate_main

        return evaluate_main(argv[1:])
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.run(args)
    except ColorizationError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

"""`colorize-hub`: the command line. One subcommand per task; each has --help with examples.

`train` and `evaluate` have their own parsers (every TrainingArguments flag, the evaluation options) and are
handed the rest of the command line before argparse sees it. Exit codes: 0 done, 1 some inputs failed (the rest
were done), 2 nothing could be done (bad model, bad arguments, refused output).

Each subcommand imports what it needs when it runs, and checks a model name before that: `--help`, `list` and a
mistyped name answer at once, without loading torch (seconds on a busy machine).
"""

import argparse
import logging
import sys
from pathlib import Path

from .checkpoints import BUNDLED_CHECKPOINTS, DEFAULT_MODEL, local_checkpoint, resolve_checkpoint
from .errors import ColorizationError

MODEL_HELP = "bundled checkpoint name, checkpoint folder or Hub repo id (ORG/NAME)"
RENDER_HELP = "side of the square the model sees, a multiple of 32 (default: the checkpoint's own)"


def _list(args: argparse.Namespace) -> int:
    from .catalog import listing

    rows = listing()
    print(f"bundled checkpoints ({BUNDLED_CHECKPOINTS}):" if rows else f"no checkpoints in {BUNDLED_CHECKPOINTS}")
    width = max((len(row.name) for row in rows), default=0) + 3
    for row in rows:
        name = f"{row.name} *" if row.is_default else row.name
        print(f"  {name:<{width}}{row.megabytes:5.1f} MB  {row.description}")
    if any(row.is_default for row in rows):
        print("* the default model (colorize(), `colorize-hub colorize` and `video` without --model)")
    if args.architectures:  # the registry is the model code itself: this loads torch
        from .models import MODEL_REGISTRY

        print("\narchitectures (`colorize-hub train --model NAME`):")
        for name, record in MODEL_REGISTRY.items():
            print(f"  {name:<{width}}{record.summary}")
    return 0


def _colorize(args: argparse.Namespace) -> int:
    resolve_checkpoint(args.model)  # a mistyped name fails here, before torch loads
    from .media.batch import BatchReport, plan, run_jobs, single_job
    from .media.batch_pipeline import process_rank, shard
    from .image_decoding import IMAGE_SUFFIXES

    output = Path(args.output)
    single = len(args.inputs) == 1 and Path(args.inputs[0]).is_file() and output.suffix.lower() in IMAGE_SUFFIXES
    if args.hints and not single:
        raise ColorizationError("--hints gives points of one photo: pass one input file and an output file name "
                                "(colorize old.jpg -o old_color.png --hints hints.json).")
    if single:  # `colorize old.jpg -o old_color.png`: one file to one named output
        jobs, problems = [single_job(args.inputs[0], output, args.compare)], []
        if args.hints:
            return _colorize_with_hints(args, jobs[0])
    else:
        jobs, problems = plan(args.inputs, output, args.compare)
    rank, world = process_rank()  # under torchrun / accelerate launch: this process's share of the same plan
    jobs, problems = shard(jobs, rank, world), (problems if rank == 0 else [])
    report = run_jobs(jobs, args.model, args.render_size, args.saturation, args.overwrite,
                      progress=not args.quiet, report=BatchReport(failed=list(problems)),
                      batch_size=args.batch_size, workers=args.workers)
    for source, reason in report.skipped:
        print(f"skipped {source}: {reason}", file=sys.stderr)
    for source, reason in report.failed:
        print(f"failed {source}: {reason}", file=sys.stderr)
    process = f"process {rank + 1} of {world}: " if world > 1 else ""
    print(f"{process}{report.summary()}; outputs in {output.parent if single else output}")
    return 1 if report.failed else 0


def _colorize_with_hints(args: argparse.Namespace, job) -> int:
    """One photo with the colour hints of a JSON file."""
    from .hints import load_hints_file
    from .media.batch import write_outputs
    from .pipeline import colorize

    hints = load_hints_file(args.hints)
    if job.output.exists() and not args.overwrite:
        print(f"skipped {job.source}: {job.output} exists (use --overwrite to replace it)", file=sys.stderr)
        return 0
    write_outputs(job, colorize(job.source, args.model, args.render_size, args.saturation, hints=hints))
    print(f"colorized {job.source} with {len(hints)} hint(s) -> {job.output}")
    return 0


def _video(args: argparse.Namespace) -> int:
    resolve_checkpoint(args.model)
    from .media.video import colorize_video

    report = colorize_video(args.input, args.output, args.model, args.render_size, args.saturation,
                            smoothing=args.smoothing, batch_size=args.batch_size, crf=args.crf,
                            overwrite=args.overwrite, progress=not args.quiet)
    audio = ", ".join(report.audio) if report.audio else "no audio track"
    print(f"{args.input} -> {args.output}: {report.frames} frames, {len(report.scene_cuts)} scene cut(s), {audio}")
    return 0


def _push(args: argparse.Namespace) -> int:
    import tempfile

    folder = local_checkpoint(args.checkpoint)  # a folder or a bundled name, as `colorize` and `export` take
    if args.dry_run:
        from .publishing.hub import stage_checkpoint

        with tempfile.TemporaryDirectory() as staging:
            files = stage_checkpoint(folder, staging, args.repo_id, args.metrics)
            print(f"would upload to {args.repo_id}:", *files, sep="\n  ")
        return 0
    from huggingface_hub import HfApi

    from .publishing.hub_access import check_hub_access

    api = HfApi()
    check_hub_access(api)  # network and login first: a push that cannot work says so at once, in one line
    from .publishing.hub import push_checkpoint

    url = push_checkpoint(folder, args.repo_id, private=args.private, metrics=args.metrics,
                          commit_message=args.commit_message, api=api)
    print(f"{folder} -> {url}")
    return 0


def _export(args: argparse.Namespace) -> int:
    resolve_checkpoint(args.checkpoint)
    from .publishing.onnx_export import export_onnx

    path = export_onnx(args.checkpoint, args.onnx, render_size=args.render_size)
    print(f"{args.checkpoint} -> {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


def _subcommand(commands, name: str, help: str, examples: list[str], run) -> argparse.ArgumentParser:
    parser = commands.add_parser(name, help=help, description=help[0].upper() + help[1:] + ".",
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="examples:\n" + "\n".join(f"  colorize-hub {name} {e}" for e in examples))
    parser.set_defaults(run=run)
    return parser


def _image_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default=DEFAULT_MODEL, help=f"{MODEL_HELP} (default: {DEFAULT_MODEL})")
    parser.add_argument("--render-size", type=int, default=None, help=RENDER_HELP)
    parser.add_argument("--saturation", type=float, default=1.0,
                        help="chroma multiplier: 0 gray, 1 as predicted, 2 vivid")
    parser.add_argument("--overwrite", action="store_true", help="replace outputs that already exist")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="colorize-hub", description="Colorize black-and-white photos and videos.",
                                     epilog="Run `colorize-hub COMMAND --help` for a command's options and examples.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("train", add_help=False, help="train an architecture with transformers.Trainer "
                                                      "(all TrainingArguments; see train --help)")
    commands.add_parser("evaluate", add_help=False,
                        help="PSNR, SSIM, ΔE2000 and colourfulness of models against colour photos")
    listing = _subcommand(commands, "list", "list the bundled checkpoints: description, size, the default",
                          ["", "--architectures"], _list)
    listing.add_argument("--architectures", action="store_true",
                         help="also list the architectures that `train` builds (loads the model code)")

    one = _subcommand(commands, "colorize", "colorize image files, folders (recursively) and globs", [
        "old.jpg -o old_color.png                       (the default model)",
        "old.jpg -o old_color.png --model NAME          (NAME: see `colorize-hub list`)",
        "old.jpg -o old_color.png --model colorizer-encoder-unet-hints --hints hints.json   (your colours)",
        "scans/ 'more/**/*.tif' -o colored/ --model NAME --render-size 384 --compare",
        "family/ -o family_color/ --model ORG/REPO --saturation 1.3 --overwrite",
        "archive/ -o archive_color/ --batch-size 16      (prints photos/s; run it again to finish a cut-short run)",
        "archive/ -o out/  under `torchrun --nproc-per-node N -m colorize_hub.cli colorize ...` or "
        "`accelerate launch`: each process a share",
    ], _colorize)
    one.add_argument("inputs", nargs="+", metavar="INPUT", help="image files, folders (searched recursively) or globs")
    one.add_argument("-o", "--output", required=True, metavar="OUTDIR",
                     help="output folder (<stem>_color.png each; a folder input keeps its tree), or a .png/.jpg "
                          "file name when there is a single input file; inputs are never overwritten")
    one.add_argument("--compare", action="store_true", help="also write <stem>_compare.png: input gray | colorized")
    one.add_argument("--hints", metavar="HINTS.json", default=None,
                     help='colour hints for one input photo: a JSON list of {"x": 120, "y": 80, "color": "#3060c0"} '
                          "(pixels from the top-left corner); needs a model that takes hints (colorize-hub list)")
    one.add_argument("--batch-size", type=int, default=8, help="photos per forward pass (default 8)")
    one.add_argument("--workers", type=int, default=None,
                     help="threads that decode and write photos while the model runs (default: the CPU count)")
    _image_options(one)

    video = _subcommand(commands, "video", "colorize a video frame by frame with steady colour, keeping its audio", [
        "old_film.mp4 -o old_film_color.mp4 --model NAME",
        "reel.mkv -o reel_color.mkv --model NAME --render-size 256 --smoothing 0.8 --crf 20",
    ], _video)
    video.add_argument("input", help="video file (anything FFmpeg reads)")
    video.add_argument("-o", "--output", required=True, help="output video: .mp4, .m4v, .mov or .mkv (H.264)")
    video.add_argument("--smoothing", type=float, default=0.7,
                       help="weight of the past in the moving average of the colour, in [0, 1) (0 = off; default 0.7)")
    video.add_argument("--batch-size", type=int, default=8, help="frames per forward pass")
    video.add_argument("--crf", type=int, default=18, help="H.264 quality, lower is better (default 18)")
    _image_options(video)

    push = _subcommand(commands, "push", "publish a checkpoint to the Hugging Face Hub with its model card", [
        "NAME --repo-id ORG/NAME                      (NAME: a bundled checkpoint or its folder)",
        "checkpoints/NAME --repo-id ORG/NAME --private --metrics results/kodak24/metrics.json",
        "checkpoints/NAME --repo-id ORG/NAME --dry-run",
    ], _push)
    push.add_argument("checkpoint", help="checkpoint folder (config.json, model.safetensors, ...) or bundled name")
    push.add_argument("--repo-id", required=True, help="Hub model repo, ORG/NAME (created if it does not exist)")
    push.add_argument("--private", action="store_true", help="create the repo private")
    push.add_argument("--metrics", nargs="*", default=[],
                      help="metrics.json files of `colorize-hub evaluate` to put in the card (beside evaluation.json)")
    push.add_argument("--commit-message", default=None)
    push.add_argument("--dry-run", action="store_true", help="list what would be uploaded; upload nothing")

    export = _subcommand(commands, "export", "export a checkpoint to ONNX (dynamic batch, height and width)", [
        "checkpoints/NAME --onnx NAME.onnx",
        "ORG/REPO --onnx model.onnx",
    ], _export)
    export.add_argument("checkpoint", help=MODEL_HELP)
    export.add_argument("--onnx", required=True, help="output .onnx file (weights included)")
    export.add_argument("--render-size", type=int, default=None, help="render size recorded in the file's metadata")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["train"]:  # every TrainingArguments flag: HfArgumentParser parses the rest
        from .training.train import main as train_main

        train_main(argv[1:])
        return 0
    try:
        if argv[:1] == ["evaluate"]:
            from .evaluation.evaluate import main as evaluate_main

            return evaluate_main(argv[1:])
        args = build_parser().parse_args(argv)
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
        return args.run(args)
    except ColorizationError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

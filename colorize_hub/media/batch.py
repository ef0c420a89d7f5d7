"""`colorize-hub colorize`: many files, folders (recursive) and globs in one run, batched and split across processes
(media/batch_pipeline.py).

Safety rules, because a batch tool is run on people's only copies of their photos:
- inputs are never written: a run whose outputs would replace any input is refused before it starts;
- an existing output is skipped (reported) unless `overwrite=True`; a run cut short is finished by running it
  again: every file is written under a temporary name and renamed when complete, so an output that exists is
  whole, and a photo whose colour output exists but whose comparison strip does not gets the strip, made from
  that output;
- a bad image is reported and skipped; the rest of the batch goes on; the caller gets the failures.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from ..errors import ColorizationError
from ..image_decoding import IMAGE_SUFFIXES
from ..loading import load_colorizer
from .batch_pipeline import BATCH_SIZE, failure_reason, run_pipelined

OUTPUT_SUFFIX = "_color.png"
COMPARE_SUFFIX = "_compare.png"


@dataclass
class Job:
    """One input and where its result goes."""

    source: Path
    output: Path
    compare: Path | None = None


@dataclass
class BatchReport:
    """What happened to every input: done, skipped (output exists) and failed (with the reason)."""

    done: list[Path] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)
    finished: list[Path] = field(default_factory=list)  # an earlier run's output existed; its strip was added
    seconds: float = 0.0  # colorizing the photos, model loading excluded

    def summary(self) -> str:
        finished = f", {len(self.finished)} finished (comparison strip added)" if self.finished else ""
        rate = f" ({len(self.done) / self.seconds:.2f} photos/s over {self.seconds:.1f} s)" if self.done and self.seconds \
            else ""
        return f"{len(self.done)} colorized{finished}, {len(self.skipped)} skipped, {len(self.failed)} failed{rate}"


def _is_image(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES


def _folder_images(folder: Path, outdir: Path) -> list[Path]:
    """Images under `folder`, recursively, leaving out an output folder inside it (`photos/ -o photos/colored`:
    a re-run must not colorize the results). When OUTDIR is the folder itself, everything is an input, and a
    result that would take an input's name is refused by `plan`."""
    outdir, folder_resolved = outdir.resolve(), folder.resolve()
    skip = outdir != folder_resolved and folder_resolved in outdir.parents
    return sorted(p for p in folder.rglob("*") if _is_image(p) and not (skip and outdir in p.resolve().parents))


def collect_inputs(inputs: list[str], outdir: Path) -> tuple[list[tuple[Path, Path]], list[tuple[Path, str]]]:
    """(file, path relative to where its output goes) for every file, folder and glob; plus inputs that match
    nothing. A folder keeps its tree under OUTDIR (no name clashes); a file or glob match goes to OUTDIR itself."""
    found, missing = [], []
    for item in inputs:
        path = Path(item).expanduser()
        if path.is_dir():
            found += [(p, p.relative_to(path)) for p in _folder_images(path, outdir)]
        elif path.is_file():
            found.append((path, Path(path.name)))  # any suffix: an unreadable one is reported when it is read
        else:
            matches = sorted(Path(p) for p in glob.glob(str(path), recursive=True))
            files = [m for m in matches if _is_image(m)]
            for folder in (m for m in matches if m.is_dir()):
                files += [p for p in _folder_images(folder, outdir)]
            if not files:
                missing.append((path, "no such file or folder, and no image matches it as a pattern"))
            found += [(p, Path(p.name)) for p in files]
    return found, missing


def plan(inputs: list[str], outdir: str | Path, compare: bool = False) -> tuple[list[Job], list[tuple[Path, str]]]:
    """Jobs for every input and the inputs that cannot be run; refuses a plan that would overwrite an input."""
    outdir = Path(outdir)
    found, problems = collect_inputs(inputs, outdir)
    sources = {source.resolve() for source, _ in found}
    jobs, taken = [], {}
    for source, relative in found:
        if source.resolve() in taken.values():
            continue  # the same file reached twice (a folder and a glob): colorize it once
        stem = relative.with_name(relative.stem)
        output = outdir / f"{stem}{OUTPUT_SUFFIX}"
        job = Job(source, output, outdir / f"{stem}{COMPARE_SUFFIX}" if compare else None)
        targets = [p.resolve() for p in (job.output, job.compare) if p is not None]
        if any(t in sources for t in targets):
            raise ColorizationError(f"Writing to {outdir} would overwrite the input {source}: choose another output "
                                    "folder (inputs are never overwritten).")
        if output.resolve() in taken:
            problems.append((source, f"same output name as {taken[output.resolve()]} ({output}); colorize it "
                                     "separately or rename it"))
            continue
        taken[output.resolve()] = source.resolve()
        jobs.append(job)
    return jobs, problems


def side_by_side(gray: Image.Image, colour: Image.Image) -> Image.Image:
    """The input's gray (L only) and the colorized result in one strip, left to right."""
    strip = Image.new("RGB", (gray.width + colour.width, max(gray.height, colour.height)), "white")
    strip.paste(gray.convert("RGB"), (0, 0))
    strip.paste(colour.convert("RGB"), (gray.width, 0))
    return strip


def save_whole(image: Image.Image, path: Path) -> None:
    """Write `image` under a temporary name beside `path`, then rename it: `path` is never half-written."""
    kind = Image.registered_extensions().get(path.suffix.lower())
    if kind is None:
        raise ColorizationError(f"Cannot write {path.name}: {path.suffix or 'no extension'} is not an image type; "
                                "name the output .png or .jpg.")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    try:
        image.save(partial, format=kind)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def save_compare(result: Image.Image, path: Path) -> None:
    """The comparison strip of a colorized result: its gray (the output's own L with ab = 0, exactly the input's
    lightness) beside it."""
    from ..evaluation.protocol import gray_image

    save_whole(side_by_side(gray_image(result.convert("RGB")), result), path)


def write_outputs(job: Job, result: Image.Image) -> None:
    """Write one colorized result to its output (and its comparison strip when asked)."""
    save_whole(result, job.output)
    if job.compare is not None:
        save_compare(result, job.compare)


def finish_compare(job: Job) -> None:
    """An earlier run wrote the colour output but not its strip: make the strip from that output."""
    with Image.open(job.output) as opened:
        save_compare(opened.convert("RGB"), job.compare)


def single_job(source: str | Path, output: str | Path, compare: bool = False) -> Job:
    """`colorize-hub colorize old.jpg -o old_color.png`: one file to one named output, never onto itself."""
    source, output = Path(source), Path(output)
    if output.resolve() == source.resolve():
        raise ColorizationError("The output path is the input path: choose another, inputs are never overwritten.")
    return Job(source, output, output.with_name(output.stem + "_compare.png") if compare else None)


def run_jobs(jobs: list[Job], model: str, render_size: int | None = None, saturation: float = 1.0,
             overwrite: bool = False, progress: bool = True, report: BatchReport | None = None,
             batch_size: int = BATCH_SIZE, workers: int | None = None) -> BatchReport:
    """Colorize every job, `batch_size` photos per forward pass with decoding and writing in `workers` threads;
    a failure is recorded and the batch goes on.

    The model is loaded before the first image, so a bad model name fails the whole run at once
    (ColorizationError). Outputs that exist are skipped (or finished with their comparison strip).
    """
    report = report or BatchReport()
    if jobs:
        load_colorizer(str(model))
    todo = []
    for job in jobs:
        resume = job.output.exists() and not overwrite  # an earlier run's output is kept
        if not resume:
            todo.append(job)
        elif job.compare is None or job.compare.exists():
            report.skipped.append((job.source, f"{job.output} exists (use --overwrite to replace it)"))
        else:
            try:
                finish_compare(job)
                report.finished.append(job.source)
            except Exception as error:  # noqa: BLE001 - one bad output must never stop the batch
                report.failed.append((job.source, failure_reason(error)))
    run_pipelined(todo, str(model), render_size, saturation, report, write_outputs, batch_size, workers, progress)
    return report


def colorize_batch(inputs: list[str], outdir: str | Path, model: str, render_size: int | None = None,
                   saturation: float = 1.0, compare: bool = False, overwrite: bool = False,
                   progress: bool = True) -> BatchReport:
    """Colorize every file, folder and glob in `inputs` into `outdir` as <stem>_color.png."""
    jobs, problems = plan(inputs, outdir, compare)
    return run_jobs(jobs, model, render_size, saturation, overwrite, progress, BatchReport(failed=list(problems)))

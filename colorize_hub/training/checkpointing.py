"""Crash-safe (atomic) checkpoints for Trainer.

transformers' Trainer writes `checkpoint-N/` file by file, so a run killed while saving leaves a
half-written folder that `resume_from_checkpoint` would pick. `AtomicCheckpointMixin` writes each checkpoint
into `.checkpoint-staging/checkpoint-N/`, adds a manifest (every file and its size), flushes it to disk and
only then renames it to `checkpoint-N/`; a rename is atomic, so a `checkpoint-N/` folder is always complete.
Resuming with `resume_from_checkpoint="last"` (or "auto") takes the newest complete checkpoint and ignores
anything else, such as a folder left by an older version or copied in part.
"""

import json
import logging
import os
import re
import shutil
from pathlib import Path

from transformers import Trainer
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR, rotate_checkpoints

from ..errors import ColorizationError

logger = logging.getLogger(__name__)

CHECKPOINT_MANIFEST = "checkpoint_complete.json"  # written last: every file of the checkpoint and its size
STAGING_DIR = ".checkpoint-staging"  # checkpoints are written here, then renamed into place
LAST_CHECKPOINT = ("last", "auto", "latest")  # resume_from_checkpoint values meaning "the newest complete one"
_CHECKPOINT_NAME = re.compile(rf"^{PREFIX_CHECKPOINT_DIR}-(\d+)$")


def _fsync(path: Path) -> None:
    """Flush a file or folder to disk, so a power cut cannot leave a renamed but empty file behind."""
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:  # e.g. folders on Windows
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def write_manifest(folder: str | Path) -> None:
    """Flush every file under `folder` and record them with their sizes in the manifest (written last)."""
    folder = Path(folder)
    files = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != CHECKPOINT_MANIFEST):
        _fsync(path)
        files[path.relative_to(folder).as_posix()] = path.stat().st_size
    manifest = folder / CHECKPOINT_MANIFEST
    manifest.write_text(json.dumps({"files": files}, indent=1))
    _fsync(manifest)
    _fsync(folder)


def is_complete_checkpoint(folder: str | Path) -> bool:
    """True when `folder` holds a whole checkpoint: every file its manifest lists, at its recorded size.

    A folder without a manifest (saved by plain transformers or an older colorize_hub) counts as complete
    when its trainer_state.json parses and its model.safetensors header reads.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return False
    try:
        manifest = folder / CHECKPOINT_MANIFEST
        if manifest.is_file():
            files = json.loads(manifest.read_text())["files"]
            return bool(files) and all((folder / name).is_file() and (folder / name).stat().st_size == size
                                       for name, size in files.items())
        json.loads((folder / "trainer_state.json").read_text())
        from safetensors import safe_open

        with safe_open(folder / "model.safetensors", framework="pt") as weights:
            weights.keys()
        return True
    except Exception:  # noqa: BLE001 - a damaged folder can fail in any way: it is simply not complete
        return False


def last_complete_checkpoint(output_dir: str | Path) -> str | None:
    """The newest (highest step) complete `checkpoint-N` folder in `output_dir`, or None."""
    output_dir = Path(output_dir)
    if not output_dir.is_dir():
        return None
    found = sorted(((int(m.group(1)), p) for p in output_dir.iterdir()
                    if (m := _CHECKPOINT_NAME.match(p.name)) and p.is_dir()), reverse=True)
    for _, path in found:
        if is_complete_checkpoint(path):
            return str(path)
        logger.warning("Skipping %s: it is incomplete (a run was stopped while writing it)", path)
    return None


def resolve_resume_checkpoint(resume: str | bool | None, output_dir: str | Path) -> str | None:
    """`resume_from_checkpoint` -> a complete checkpoint folder or None (start fresh).

    "last"/"auto"/"latest": the newest complete checkpoint in `output_dir`, or None when there is none yet, so
    the same command starts a run and resumes it after a crash. True: the same, but none found is an error
    (as in transformers). A path must be a complete checkpoint.
    """
    if resume is None or resume is False:
        return None
    if resume is True or (isinstance(resume, str) and resume.lower() in LAST_CHECKPOINT):
        found = last_complete_checkpoint(output_dir)
        if found is None and resume is True:
            raise ColorizationError(f"No complete checkpoint in {output_dir} to resume from; drop "
                                    "--resume_from_checkpoint or use --resume_from_checkpoint last.")
        if found is None:
            logger.info("No complete checkpoint in %s yet: starting from scratch", output_dir)
        else:
            logger.info("Resuming from %s, the newest complete checkpoint", found)
        return found
    if not is_complete_checkpoint(resume):
        raise ColorizationError(
            f"{resume} is not a complete checkpoint (missing, or its run stopped while writing it); pass another "
            f"checkpoint folder, or --resume_from_checkpoint last for the newest complete one in {output_dir}."
        )
    return str(resume)


def publish_folder(staging: str | Path, final: str | Path) -> None:
    """Rename a fully written `staging` folder to `final` (atomic); an existing `final` is replaced."""
    staging, final = Path(staging), Path(final)
    old = None
    if final.exists():  # the same step saved again: move the old one aside first (still never half-written)
        old = staging.with_name(staging.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(final, old)
    os.replace(staging, final)
    _fsync(final.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def publish_files(staging: str | Path, target: str | Path, last: str | None = None) -> None:
    """Move every entry of `staging` into `target`, each by an atomic rename (`last` is moved last), and remove
    `staging`. Every file in `target` is then either the old one or the whole new one."""
    staging, target = Path(staging), Path(target)
    for path in staging.rglob("*"):
        if path.is_file():
            _fsync(path)
    entries = sorted(staging.iterdir(), key=lambda p: p.name == last)
    for entry in entries:
        destination = target / entry.name
        if entry.is_dir() and destination.exists():
            old = staging / f".old-{entry.name}"
            os.replace(destination, old)
            os.replace(entry, destination)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(entry, destination)
    _fsync(target)
    shutil.rmtree(staging, ignore_errors=True)


class AtomicCheckpointMixin:
    """For a `transformers.Trainer` subclass: every checkpoint is written into a staging folder and renamed
    into place when whole (see the module docstring); `train(resume_from_checkpoint="last")` resumes from the
    newest complete checkpoint. Callbacks with `save_checkpoint_files(folder)` / `load_checkpoint_files(folder)`
    add their own state to each checkpoint before the rename and get it back on resume.
    """

    _write_to_staging = False

    def _get_output_dir(self, trial):
        run_dir = super()._get_output_dir(trial)
        return os.path.join(run_dir, STAGING_DIR) if self._write_to_staging else run_dir

    def _save_checkpoint(self, model, trial):
        run_dir = self._get_output_dir(trial)
        name = f"{PREFIX_CHECKPOINT_DIR}-{self.state.global_step}"
        staging_root = os.path.join(run_dir, STAGING_DIR)
        staging = os.path.join(staging_root, name)
        if self.args.should_save:
            shutil.rmtree(staging, ignore_errors=True)  # left by a run killed while saving
        self.accelerator.wait_for_everyone()
        self._write_to_staging = True
        try:
            super()._save_checkpoint(model, trial)  # model, optimizer, scheduler, RNG, trainer state -> staging
        finally:
            self._write_to_staging = False
        if self.args.should_save:
            if (self.state.best_model_checkpoint or "").startswith(staging_root):  # the path it will have
                self.state.best_model_checkpoint = os.path.join(run_dir, name)
                self.state.save_to_json(os.path.join(staging, "trainer_state.json"))
            for callback in self.callback_handler.callbacks:
                if hasattr(callback, "save_checkpoint_files"):
                    callback.save_checkpoint_files(staging)
        self.accelerator.wait_for_everyone()  # every process has written its RNG state
        if self.args.should_save:
            write_manifest(staging)
            publish_folder(staging, os.path.join(run_dir, name))
            try:
                os.rmdir(staging_root)  # only when empty
            except OSError:
                pass
            rotate_checkpoints(output_dir=run_dir, save_total_limit=self.args.save_total_limit,
                               best_model_checkpoint=self.state.best_model_checkpoint, use_mtime=True)
        self.accelerator.wait_for_everyone()

    def _load_optimizer_and_scheduler(self, checkpoint):
        super()._load_optimizer_and_scheduler(checkpoint)
        if checkpoint is not None:
            for callback in self.callback_handler.callbacks:
                if hasattr(callback, "load_checkpoint_files"):
                    callback.load_checkpoint_files(checkpoint)

    def train(self, resume_from_checkpoint=None, *args, **kwargs):
        """`Trainer.train`, where `resume_from_checkpoint` may also be "last"/"auto" and is always checked whole."""
        if self.args.should_save:
            shutil.rmtree(os.path.join(self.args.output_dir, STAGING_DIR), ignore_errors=True)
        checkpoint = resolve_resume_checkpoint(resume_from_checkpoint, self.args.output_dir)
        return super().train(checkpoint, *args, **kwargs)


class ColorizationTrainer(AtomicCheckpointMixin, Trainer):
    """`transformers.Trainer` with atomic checkpoints and `resume_from_checkpoint="last"`.

    Also the protocol every trainer of an architecture's record follows: `from_model_arguments` builds it from the
    command line's model arguments, `save_extra_parts` writes what the final folder needs beside the model.
    """

    semantic_loss = None  # a ClassifierConsistency, added to the training loss x semantic_weight
    semantic_weight = 0.0
    teacher = None  # a TeacherTargets: blends a stronger colorizer's ab into the reconstruction target
    rgb_loss = None  # an RgbReconstruction, added to the training loss x rgb_weight
    rgb_weight = 0.0

    @classmethod
    def from_model_arguments(cls, model_args, **trainer_kwargs) -> "ColorizationTrainer":
        return cls(**trainer_kwargs).with_semantic_term(model_args).with_teacher(model_args).with_rgb_term(model_args)

    def with_rgb_term(self, model_args) -> "ColorizationTrainer":
        """Adds `--rgb_weight` x the squared error in sRGB to the training loss, when it is set."""
        if model_args.rgb_weight:
            from .losses import RgbReconstruction

            self.rgb_loss = RgbReconstruction()
            self.rgb_weight = model_args.rgb_weight
        return self

    def with_teacher(self, model_args) -> "ColorizationTrainer":
        """Distils `--teacher`'s ab into the reconstruction target (`--teacher_share`), when it is set."""
        if model_args.teacher:
            from .distillation import TeacherTargets

            self.teacher = TeacherTargets(model_args.teacher, model_args.teacher_share)
        return self

    def reconstruction_target(self, pixel_values, true_ab):
        """What the model's own loss is computed against in training: the truth, or its blend with the teacher's."""
        return true_ab if self.teacher is None else self.teacher.targets(pixel_values, true_ab)

    def with_semantic_term(self, model_args) -> "ColorizationTrainer":
        """Adds `--semantic_weight` x the classifier-consistency term to the training loss, when it is set."""
        if model_args.semantic_weight > 0:
            from .losses import ClassifierConsistency

            source = model_args.backbone_weights if model_args.backbone_weights in {"hub", "package"} else "auto"
            self.semantic_loss = ClassifierConsistency(model_args.semantic_classifier, weights_source=source,
                                                       image_size=model_args.semantic_image_size,
                                                       chroma_gain=model_args.semantic_chroma_gain,
                                                       relative_to_gray=model_args.semantic_relative_to_gray)
            self.semantic_weight = model_args.semantic_weight
        return self

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        if not model.training:
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        labels = inputs["labels"]  # Trainer pops it from `inputs` when a compute_loss_func is set
        target = self.reconstruction_target(inputs["pixel_values"], labels)
        inputs = {**inputs, "labels": target}  # popped again by Trainer where a compute_loss_func is set
        if self.semantic_loss is None and self.rgb_loss is None:
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        loss, outputs = super().compute_loss(model, inputs, True, num_items_in_batch)
        if self.rgb_loss is not None:
            loss = loss + self.rgb_weight * self.rgb_loss(inputs["pixel_values"], outputs["predicted_ab"], target)
        if self.semantic_loss is not None:
            loss = loss + self.semantic_weight * self.semantic_loss(inputs["pixel_values"], outputs["predicted_ab"],
                                                                    labels)
        return (loss, outputs) if return_outputs else loss

    def save_extra_parts(self, folder) -> None:
        """Nothing beyond the model: `save_model` writes it."""

"""Trainer callbacks: an exponential moving average of the weights, a wall clock that survives resumes, and a
loss-curve picture."""

import json
import os
import logging
import time
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from transformers import TrainerCallback

logger = logging.getLogger(__name__)

EMA_FILE = "ema.safetensors"
CLOCK_FILE = "training_clock.json"


class EmaCallback(TrainerCallback):
    """Keeps `shadow = decay * shadow + (1 - decay) * weights` after every optimizer step and puts the
    average into the model when training ends (checkpoints carry it, so a resumed run continues it).

    Averaging smooths the step-to-step jumps of a small-batch run; the saved model is the average.
    """

    def __init__(self, decay: float = 0.999):
        self.decay = decay
        self.shadow: dict[str, torch.Tensor] | None = None
        self._resumed: dict[str, torch.Tensor] | None = None

    def _start(self, model, args):
        if self._resumed is not None:  # load_checkpoint_files ran (AtomicCheckpointMixin)
            self.shadow, self._resumed = self._resumed, None
            return
        self.shadow = {k: v.detach().clone().float() for k, v in model.state_dict().items()}
        checkpoint = args.resume_from_checkpoint  # a plain Trainer: the checkpoint named in the arguments
        if isinstance(checkpoint, str) and os.path.isfile(os.path.join(checkpoint, EMA_FILE)):
            self.shadow = load_file(os.path.join(checkpoint, EMA_FILE))
            logger.info("Resumed the weight average from %s", checkpoint)

    def load_checkpoint_files(self, folder):
        if os.path.isfile(os.path.join(folder, EMA_FILE)):
            self._resumed = load_file(os.path.join(folder, EMA_FILE))
            logger.info("Resumed the weight average from %s", folder)

    def save_checkpoint_files(self, folder):
        if self.shadow is not None:
            save_file({k: v.contiguous() for k, v in self.shadow.items()}, os.path.join(folder, EMA_FILE))

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        self._start(model, args)

    @torch.no_grad()
    def on_step_end(self, args, state, control, model=None, **kwargs):
        decay = min(self.decay, (1 + state.global_step) / (10 + state.global_step))  # short warm-up
        for key, value in model.state_dict().items():
            if value.is_floating_point():
                self.shadow[key].lerp_(value.float(), 1 - decay)
            else:
                self.shadow[key].copy_(value)

    def on_save(self, args, state, control, **kwargs):
        """A plain Trainer: add the average to the checkpoint just written (AtomicCheckpointMixin did it already)."""
        folder = os.path.join(args.output_dir, f"checkpoint-{state.global_step}")
        if os.path.isdir(folder) and args.should_save and not os.path.isfile(os.path.join(folder, EMA_FILE)):
            self.save_checkpoint_files(folder)

    @torch.no_grad()
    def on_train_end(self, args, state, control, model=None, **kwargs):
        if self.shadow is not None:
            current = model.state_dict()
            model.load_state_dict({k: v.to(current[k].dtype) for k, v in self.shadow.items()})


class TrainingClock(TrainerCallback):
    """Wall time of a whole run, resumes included: every checkpoint records the seconds trained so far, and a run
    resumed from it counts on from there (so a model card's wall time is the run's, not its last part's)."""

    def __init__(self):
        self.earlier_seconds = 0.0
        self.started = time.time()

    def seconds(self) -> float:
        return self.earlier_seconds + time.time() - self.started

    def load_checkpoint_files(self, folder):
        path = os.path.join(folder, CLOCK_FILE)
        if os.path.isfile(path):
            self.earlier_seconds = float(json.loads(Path(path).read_text())["wall_seconds"])

    def save_checkpoint_files(self, folder):
        Path(folder, CLOCK_FILE).write_text(json.dumps({"wall_seconds": round(self.seconds(), 3)}))

    def on_train_begin(self, args, state, control, **kwargs):
        self.started = time.time()


def plot_loss_curve(log_history: list[dict], path: str | Path) -> Path:
    """Training loss (and evaluation loss, when logged) against the step, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4), dpi=100)
    for key, label in (("loss", "train loss"), ("eval_loss", "eval loss")):
        points = [(entry["step"], entry[key]) for entry in log_history if key in entry]
        if points:
            axis.plot(*zip(*points), label=label, marker="." if len(points) < 50 else None)
    axis.set_xlabel("step")
    axis.set_ylabel("loss")
    axis.grid(alpha=0.3)
    if axis.get_legend_handles_labels()[0]:
        axis.legend()
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    Path(path).with_suffix(".json").write_text(json.dumps(log_history, indent=1))
    return Path(path)

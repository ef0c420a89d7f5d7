"""Training throughput (images/s) of every architecture at 128 px, batch 16, through the real training path
(`Trainer`, or `GanTrainer` with its discriminator step), in fp32 and in bf16 + channels_last.

    python benchmarks/bench_train.py [--steps 8] [--threads N]

Median step time over the steps after the first two (warm-up). Writes benchmarks/results/train.{md,json}.
"""

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch.utils.data import Dataset
from transformers import TrainerCallback

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))

from colorize_hub import MODEL_REGISTRY  # noqa: E402
from colorize_hub.training.train import build_model, make_trainer, parse_arguments  # noqa: E402


class RandomPhotos(Dataset):
    """Random L/ab pairs: throughput does not depend on the content."""

    def __init__(self, count: int, size: int):
        generator = torch.Generator().manual_seed(0)
        self.lightness = torch.rand(count, 1, size, size, generator=generator) * 2 - 1
        self.ab = torch.rand(count, 2, size, size, generator=generator) * 0.6 - 0.3

    def __len__(self):
        return len(self.lightness)

    def __getitem__(self, index):
        return {"pixel_values": self.lightness[index], "labels": self.ab[index]}


class StepTimer(TrainerCallback):
    def __init__(self):
        self.times, self._start = [], None

    def on_step_begin(self, args, state, control, **kwargs):
        self._start = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        self.times.append(time.perf_counter() - self._start)


def throughput(model_type: str, steps: int, batch: int, size: int, fast: bool) -> float:
    with tempfile.TemporaryDirectory() as output_dir:
        flags = ["--model", model_type, "--train_data", output_dir, "--output_dir", output_dir, "--use_cpu",
                 "--max_steps", str(steps), "--per_device_train_batch_size", str(batch), "--report_to", "none",
                 "--save_strategy", "no", "--disable_tqdm", "true", "--backbone_weights", "none",
                 "--no_palette_from_data"]
        if fast:
            flags += ["--bf16", "--channels_last"]
        model_args, data_args, training_args = parse_arguments(flags)
        model = build_model(model_args, data_args)
        trainer = make_trainer(model, model_args, training_args, RandomPhotos(batch * steps, size), None)
        timer = StepTimer()
        trainer.add_callback(timer)
        trainer.train()
    return batch / statistics.median(timer.times[2:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--out", default=str(ROOT / "results"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rows = []
    for model_type in MODEL_REGISTRY:
        fp32 = throughput(model_type, args.steps, args.batch, args.size, fast=False)
        fast = throughput(model_type, args.steps, args.batch, args.size, fast=True)
        rows.append({"model_type": model_type, "fp32_images_per_s": fp32, "bf16_channels_last_images_per_s": fast})
        print(f"{model_type}: fp32 {fp32:.1f} img/s, bf16+channels_last {fast:.1f} img/s", flush=True)
    lines = [f"{args.size} px, batch {args.batch}, {args.threads} thread(s), median step after 2 warm-up steps.", "",
             "| model | fp32 (images/s) | bf16 + channels_last (images/s) | speed-up |", "|---|---|---|---|"]
    lines += [f"| {r['model_type']} | {r['fp32_images_per_s']:.1f} | {r['bf16_channels_last_images_per_s']:.1f} | "
              f"{r['bf16_channels_last_images_per_s'] / r['fp32_images_per_s']:.1f}x |" for r in rows]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "train.json").write_text(json.dumps({"threads": args.threads, "rows": rows}, indent=2))
    (out / "train.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()

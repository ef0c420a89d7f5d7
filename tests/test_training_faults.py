"""Training survives faults: a run killed with SIGKILL resumes from its newest complete checkpoint, and a
checkpoint is never left half-written (written into a staging folder, then renamed into place)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from PIL import Image
from skimage import data

from colorize_hub.training import train
from colorize_hub.training.checkpointing import (
    CHECKPOINT_MANIFEST,
    STAGING_DIR,
    is_complete_checkpoint,
    last_complete_checkpoint,
    resolve_resume_checkpoint,
)
from colorize_hub.errors import ColorizationError
from conftest import TINY_CONFIGS


@pytest.fixture(scope="module")
def photo_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("photos")
    for name in ("astronaut", "coffee", "chelsea", "rocket"):
        Image.fromarray(getattr(data, name)()).resize((96, 80)).save(folder / f"{name}.png")
    return folder


def arguments(model_type, folder, output_dir, *extra):
    return [
        "--model", model_type, "--config_overrides", json.dumps(TINY_CONFIGS[model_type]),
        "--train_data", str(folder), "--image_size", "64", "--output_dir", str(output_dir),
        "--per_device_train_batch_size", "2", "--use_cpu", "--report_to", "none", "--seed", "7",
        "--disable_tqdm", "true", "--logging_steps", "1000", *extra,
    ]


def checkpoints(folder: Path) -> dict[int, Path]:
    return {int(p.name.split("-")[1]): p for p in folder.glob("checkpoint-*") if p.is_dir()}


def optimizer_steps(file: Path) -> set[int]:
    """The step counts Adam stored for every parameter: how many updates that optimizer has made."""
    state = torch.load(file, weights_only=True)["state"]
    return {int(entry["step"]) for entry in state.values()}


def test_gan_killed_mid_run_resumes_to_the_same_final_step_with_its_discriminator(photo_folder, tmp_path):
    max_steps, save_steps = 200, 10
    extra = ["--max_steps", str(max_steps), "--save_steps", str(save_steps), "--save_total_limit", "3",
             "--ema_decay", "0.9"]
    command = [sys.executable, "-m", "colorize_hub.training.train", *arguments("colorizer-gan", photo_folder, tmp_path, *extra)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 90
        while not checkpoints(tmp_path) and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.02)
        assert checkpoints(tmp_path), process.stderr.read().decode()[-3000:] if process.poll() is not None else ""
        time.sleep(0.3)  # later steps (and probably the next save) are running now
        assert process.poll() is None, "the run finished before it could be killed"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        process.stderr.close()
    assert process.returncode == -signal.SIGKILL
    survived = checkpoints(tmp_path)
    assert survived and max(survived) < max_steps
    assert all(is_complete_checkpoint(folder) for folder in survived.values()), survived  # none half-written
    newest = last_complete_checkpoint(tmp_path)
    assert newest == str(survived[max(survived)])

    summary = train.main(arguments("colorizer-gan", photo_folder, tmp_path, *extra,
                                   "--resume_from_checkpoint", "last"))

    assert summary["steps"] == max_steps
    final = tmp_path / f"checkpoint-{max_steps}"
    assert is_complete_checkpoint(final) and not (tmp_path / STAGING_DIR).exists()
    state = json.loads((final / "trainer_state.json").read_text())
    assert state["global_step"] == max_steps
    # Adam counts its own updates: max_steps only if both optimizers (and the discriminator they belong
    # to) were restored from the checkpoint instead of restarting from zero at the resume.
    assert optimizer_steps(final / "optimizer.pt") == {max_steps}
    assert optimizer_steps(final / "discriminator_optimizer.pt") == {max_steps}
    assert (tmp_path / "discriminator" / "model.safetensors").is_file()
    assert (tmp_path / "training_summary.json").is_file() and not (tmp_path / ".final-staging").exists()


def test_a_crash_while_saving_leaves_no_checkpoint_folder_and_resume_uses_the_previous_one(
    photo_folder, tmp_path, monkeypatch
):
    from transformers import Trainer

    original = Trainer._save_rng_state

    def dies_at_step_4(self, output_dir):
        if self.state.global_step == 4:
            raise RuntimeError("simulated crash while writing checkpoint-4")
        return original(self, output_dir)

    monkeypatch.setattr(Trainer, "_save_rng_state", dies_at_step_4)
    common = ["--max_steps", "6", "--save_steps", "2", "--ema_decay", "0.9"]
    with pytest.raises(RuntimeError, match="simulated crash"):
        train.main(arguments("colorizer-baseline", photo_folder, tmp_path, *common))
    assert sorted(checkpoints(tmp_path)) == [2]  # checkpoint-4 only ever existed in the staging folder
    assert (tmp_path / STAGING_DIR / "checkpoint-4" / "model.safetensors").is_file()
    assert (tmp_path / "checkpoint-2" / "ema.safetensors").is_file()

    monkeypatch.setattr(Trainer, "_save_rng_state", original)
    summary = train.main(arguments("colorizer-baseline", photo_folder, tmp_path, *common,
                                   "--resume_from_checkpoint", "auto"))
    assert summary["steps"] == 6 and sorted(checkpoints(tmp_path)) == [2, 4, 6]
    assert not (tmp_path / STAGING_DIR).exists()  # the leftover was cleaned up


def _complete_checkpoint(folder: Path, step: int) -> Path:
    checkpoint = folder / f"checkpoint-{step}"
    checkpoint.mkdir(parents=True)
    from safetensors.torch import save_file

    save_file({"w": torch.zeros(3)}, checkpoint / "model.safetensors")
    (checkpoint / "trainer_state.json").write_text(json.dumps({"global_step": step}))
    return checkpoint


@pytest.mark.parametrize("damage", ["no_manifest_truncated_weights", "no_trainer_state", "manifest_missing_file",
                                    "manifest_wrong_size", "empty_folder", "manifest_not_json"])
def test_a_half_written_checkpoint_folder_is_never_picked(tmp_path, damage):
    from colorize_hub.training.checkpointing import write_manifest

    good = _complete_checkpoint(tmp_path, 5)
    write_manifest(good)
    assert is_complete_checkpoint(good)
    bad = _complete_checkpoint(tmp_path, 9)
    if damage == "no_manifest_truncated_weights":
        weights = (bad / "model.safetensors").read_bytes()
        (bad / "model.safetensors").write_bytes(weights[: len(weights) // 2])
    elif damage == "no_trainer_state":
        (bad / "trainer_state.json").unlink()
    elif damage == "manifest_missing_file":
        write_manifest(bad)
        (bad / "trainer_state.json").unlink()
    elif damage == "manifest_wrong_size":
        write_manifest(bad)
        (bad / "model.safetensors").write_bytes(b"\0" * 10)
    elif damage == "empty_folder":
        for path in bad.iterdir():
            path.unlink()
    else:
        (bad / CHECKPOINT_MANIFEST).write_text("{half")
    assert not is_complete_checkpoint(bad)
    assert last_complete_checkpoint(tmp_path) == str(good)
    assert resolve_resume_checkpoint("last", tmp_path) == str(good)
    with pytest.raises(ColorizationError, match="not a complete checkpoint"):
        resolve_resume_checkpoint(str(bad), tmp_path)


def test_resume_last_without_any_checkpoint_starts_fresh_and_true_explains(tmp_path):
    assert resolve_resume_checkpoint("last", tmp_path) is None
    assert resolve_resume_checkpoint(None, tmp_path) is None
    with pytest.raises(ColorizationError, match="No complete checkpoint"):
        resolve_resume_checkpoint(True, tmp_path)

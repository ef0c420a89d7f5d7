"""Loading checkpoints safely: only safetensors are ever read (never a pickle, never code shipped in a checkpoint),
damaged checkpoints are refused with a message that says what to do, and nothing prompts or hangs."""

from __future__ import annotations

import builtins
import json
import os
import pickle
import shlex
import shutil
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file

import colorize_hub
from colorize_hub import ColorizationError, colorize
from colorize_hub.checkpoints import resolve_checkpoint
from colorize_hub.loading import load_colorizer
from colorize_hub.pipeline import predict_ab
from conftest import build_tiny


@pytest.fixture(autouse=True)
def fresh_cache():
    load_colorizer.cache_clear()
    yield
    load_colorizer.cache_clear()


@pytest.fixture
def checkpoint(tmp_path):
    folder = tmp_path / "tiny"
    build_tiny("colorizer-cunet").save_pretrained(folder)
    colorize_hub.ColorizationImageProcessor(render_size=64).save_pretrained(folder)
    return folder


class RunsCode:
    """Unpickling this creates a file: proof that a pickle was loaded."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickle_checkpoint_is_refused_with_the_reason_and_a_conversion_that_works(checkpoint):
    model = build_tiny("colorizer-cunet")
    (checkpoint / "model.safetensors").unlink()
    torch.save(model.state_dict(), checkpoint / "pytorch_model.bin")  # a real PyTorch pickle checkpoint
    with pytest.raises(ColorizationError, match="only pickle weights") as caught:
        load_colorizer(str(checkpoint))
    message = str(caught.value)
    assert "can run any code" in message and "model.safetensors" in message
    command = message.split("convert it once: ", 1)[1].split(" (writes", 1)[0]
    argv = shlex.split(command)
    assert argv[0] == "python"
    subprocess.run([sys.executable, *argv[1:]], check=True, capture_output=True, timeout=120,
                   env={**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"})
    converted = load_file(checkpoint / "model.safetensors")
    for key, value in model.state_dict().items():
        torch.testing.assert_close(converted[key], value)
    loaded, _ = load_colorizer(str(checkpoint))  # and it loads (BatchNorms folded: compare outputs, not state dicts)
    pixel_values = torch.rand(1, 1, 32, 32) * 2 - 1
    torch.testing.assert_close(predict_ab(loaded, pixel_values, "fp32"), predict_ab(model.eval(), pixel_values, "fp32"))


def test_a_pickle_beside_broken_safetensors_is_never_the_fallback(checkpoint, tmp_path):
    marker = tmp_path / "pickle-was-loaded"
    (checkpoint / "pytorch_model.bin").write_bytes(pickle.dumps(RunsCode(marker)))
    (checkpoint / "model.safetensors").write_bytes(b"\0" * 64)
    with pytest.raises(ColorizationError, match="model.safetensors is corrupt"):
        load_colorizer(str(checkpoint))
    (checkpoint / "model.safetensors").unlink()
    with pytest.raises(ColorizationError, match="only pickle weights"):
        load_colorizer(str(checkpoint))
    assert not marker.exists()


def test_safetensors_are_loaded_and_a_pickle_beside_them_is_ignored(checkpoint, tmp_path):
    marker = tmp_path / "pickle-was-loaded"
    (checkpoint / "pytorch_model.bin").write_bytes(pickle.dumps(RunsCode(marker)))
    model, _ = load_colorizer(str(checkpoint))
    assert model.config.model_type == "colorizer-cunet" and not marker.exists()


def test_unknown_model_type_is_refused_without_asking_to_run_the_checkpoints_code(checkpoint, monkeypatch):
    config = json.loads((checkpoint / "config.json").read_text())
    assert "auto_map" in config  # the folder ships code, which transformers would offer to run
    (checkpoint / "config.json").write_text(json.dumps({**config, "model_type": "evil-net"}))

    def no_prompt(*args, **kwargs):
        raise AssertionError("a prompt was shown")

    monkeypatch.setattr(builtins, "input", no_prompt)
    with pytest.raises(ColorizationError, match="model_type 'evil-net', which is not a colorize_hub architecture"):
        load_colorizer(str(checkpoint))


@pytest.mark.parametrize("damage, message", [
    ("truncated_weights", "corrupt or truncated"),
    ("missing_tensors", "do not match"),
    ("bad_setting", "damaged or was saved by an incompatible version"),
    ("no_config", "has no config.json"),
    ("bad_preprocessor", "preprocessor_config.json has a bad setting"),
    ("preprocessor_not_json", "preprocessor_config.json"),
])
def test_damaged_checkpoints_say_what_is_wrong(checkpoint, damage, message):
    from safetensors.torch import load_file, save_file

    weights, config = checkpoint / "model.safetensors", checkpoint / "config.json"
    if damage == "truncated_weights":
        weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    elif damage == "missing_tensors":
        tensors = load_file(weights)
        save_file(dict(list(tensors.items())[:3]), weights, metadata={"format": "pt"})
    elif damage == "bad_setting":
        config.write_text(json.dumps({**json.loads(config.read_text()), "hidden_sizes": "wide"}))
    elif damage == "no_config":
        config.unlink()
    elif damage == "bad_preprocessor":
        processor = checkpoint / "preprocessor_config.json"
        processor.write_text(json.dumps({**json.loads(processor.read_text()), "render_size": 33}))
    else:
        (checkpoint / "preprocessor_config.json").write_text("{")
    with pytest.raises(ColorizationError, match=message):
        colorize(torch.rand(1, 20, 30), model=str(checkpoint))


@pytest.mark.parametrize("name", ["colorizer-nope", "./not/here", "/no/such/folder", "a/b/c", ""])
def test_missing_checkpoints_fail_at_once_without_the_network(name):
    with pytest.raises(ColorizationError, match="No checkpoint.*pass .*a checkpoint folder"):
        resolve_checkpoint(name)


def test_a_file_is_not_a_checkpoint(checkpoint):
    with pytest.raises(ColorizationError, match="is a file, not a checkpoint folder"):
        load_colorizer(str(checkpoint / "config.json"))


def test_hub_id_when_offline_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ColorizationError, match="Hub is (unreachable|reachable)"):
        load_colorizer("someone/not-a-cached-colorizer")


def test_copy_of_a_good_checkpoint_still_loads_after_the_checks(checkpoint, tmp_path):
    copy = shutil.copytree(checkpoint, tmp_path / "copy")
    model, processor = load_colorizer(str(copy))
    assert processor.render_size == 64 and not model.training

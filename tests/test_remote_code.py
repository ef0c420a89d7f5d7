"""A saved folder loads with trust_remote_code in a fresh interpreter that never imports colorize_hub."""

import json
import os
import subprocess
import sys

import torch
from safetensors.torch import save_file

import colorize_hub

LOADER = r"""
import json, sys
import torch
from safetensors.torch import load_file
from transformers import AutoModel
root = sys.argv[1]
expected = load_file(f"{root}/expected.safetensors")
for name in json.loads(sys.argv[2]):
    model = AutoModel.from_pretrained(f"{root}/{name}", trust_remote_code=True).eval()
    with torch.no_grad():
        output = model(expected["input"]).predicted_ab
    torch.testing.assert_close(output, expected[name], rtol=0, atol=1e-6)
    assert type(model).__module__.startswith("transformers_modules"), type(model).__module__
assert not any(name.startswith("colorize_hub") for name in sys.modules), "colorize_hub was imported"
print("remote code ok")
"""


def test_every_architecture_and_variant_reloads_through_remote_code_in_a_fresh_process(tmp_path):
    """Default configs, and every config variant of the registry (e.g. the shared palette head must travel)."""
    pixel_values = torch.rand(1, 1, 64, 64) * 2 - 1
    expected = {"input": pixel_values}
    folders = []
    for model_type, record in colorize_hub.MODEL_REGISTRY.items():
        for variant in ["full", *record.tiny_configs]:
            name = f"{model_type}-{variant}"
            torch.manual_seed(0)
            config = record.config_class(**({} if variant == "full" else record.tiny_configs[variant]))
            model = record.model_class(config).eval()
            model.save_pretrained(tmp_path / name)
            saved = json.loads((tmp_path / name / "config.json").read_text())
            assert saved["auto_map"]["AutoModel"].endswith(record.model_class.__name__)
            assert not list((tmp_path / name).glob("*.bin"))
            with torch.no_grad():
                expected[name] = model(pixel_values).predicted_ab.contiguous()
            folders.append(name)
    save_file(expected, tmp_path / "expected.safetensors")

    # a fresh interpreter, started outside the repository, with its own module cache
    env = {**os.environ, "HF_HOME": str(tmp_path / "hf_home"), "HF_HUB_OFFLINE": "1", "PYTHONPATH": ""}
    result = subprocess.run(
        [sys.executable, "-c", LOADER, str(tmp_path), json.dumps(folders)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "remote code ok" in result.stdout

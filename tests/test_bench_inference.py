"""The speed-up benchmark compares like with like: the anchor runs in the models' precision, and the AVX2-only
case can be measured on a CPU that has more."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import bench_inference  # noqa: E402


def test_the_anchor_runs_under_bf16_autocast_exactly_where_the_models_do(monkeypatch):
    from colorize_hub import pipeline

    monkeypatch.setattr(pipeline, "cpu_has_fast_bf16", lambda: True)
    with bench_inference.anchor_precision("auto"):
        assert torch.is_autocast_enabled("cpu") and torch.get_autocast_dtype("cpu") == torch.bfloat16
    with bench_inference.anchor_precision("fp32"):
        assert not torch.is_autocast_enabled("cpu")
    monkeypatch.setattr(pipeline, "cpu_has_fast_bf16", lambda: False)
    with bench_inference.anchor_precision("auto"):
        assert not torch.is_autocast_enabled("cpu")


def test_the_interleaved_record_names_its_precision_cpu_and_kernels():
    result = bench_inference.bench_interleaved(["colorizer-gan"], rounds=1, precision="fp32")
    assert result["precision"] == "fp32" and result["cpu"] and result["kernels"]
    assert result["anchor_ms"] > 0 and result["e2e_1024x768_r256_ms"]["colorizer-gan"] > 0
    table = "\n".join(bench_inference.interleaved_markdown(result))
    assert "everything in fp32" in table and result["kernels"] in table


@pytest.mark.skipif(torch.backends.cpu.get_cpu_capability() not in ("AVX512", "AVX512_BF16"),
                    reason="only a CPU beyond AVX2 can be held down to it")
def test_isa_avx2_holds_the_kernels_to_avx2_and_the_precision_to_fp32():
    code = ("import torch, json; from colorize_hub.pipeline import use_bf16; "
            "print(json.dumps([torch.backends.cpu.get_cpu_capability(), use_bf16(torch.device('cpu'), 'auto')]))")
    environment = {**os.environ, **bench_inference.ISA_LIMITS["avx2"]}
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=environment)
    assert json.loads(output.stdout.strip().splitlines()[-1]) == ["AVX2", False]


def test_render_sizes_are_timed_per_checkpoint_and_size():
    result = bench_inference.bench_render_sizes(["colorizer-gan"], [128, 192], rounds=1, precision="fp32")
    assert set(result["e2e_1024x768_ms"]["colorizer-gan"]) == {"128", "192"}
    assert all(ms > 0 for ms in result["e2e_1024x768_ms"]["colorizer-gan"].values())
    table = "\n".join(bench_inference.render_sizes_markdown(result))
    assert "| colorizer-gan |" in table and "render 192" in table and "fp32" in table

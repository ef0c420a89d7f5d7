"""What CPU this is, for every speed figure: these machines change, and a ratio holds only on one CPU."""

import platform
from pathlib import Path

SPEED_FLAGS = ("amx_bf16", "avx512_bf16", "avx512f", "avx2")  # what decides the fast precision and kernels


def _cpuinfo_lines() -> list[str]:
    try:
        return Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return []


def _model_name(cpuinfo_lines: list[str]) -> str:
    name = next((line.split(":", 1)[1].strip() for line in cpuinfo_lines if line.startswith("model name")), "")
    return name or platform.processor() or platform.machine()


def cpu_model_name() -> str:
    """The CPU's model name (/proc/cpuinfo), e.g. 'AMD EPYC'; where there is none, what `platform` knows."""
    return _model_name(_cpuinfo_lines())


def cpu_description() -> str:
    """e.g. 'AMD EPYC (2 logical CPUs; avx2)': the model name and the instruction sets that matter for speed."""
    lines = _cpuinfo_lines()  # read once for the name, the flags and the count
    if not lines:
        return _model_name(lines)
    flags = next((line.split(":", 1)[1].split() for line in lines if line.startswith("flags")), [])
    shown = [flag for flag in SPEED_FLAGS if flag in flags]
    cpus = sum(line.startswith("processor") for line in lines)
    return f"{_model_name(lines)} ({cpus} logical CPUs; {', '.join(shown) or 'no AVX2'})"

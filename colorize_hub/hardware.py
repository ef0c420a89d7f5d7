"""What CPU this is, for every speed figure: these machines change, and a ratio holds only on one CPU."""

import platform
from pathlib import Path

SPEED_FLAGS = ("amx_bf16", "avx512_bf16", "avx512f", "avx2")  # what decides the fast precision and kernels


def cpu_description() -> str:
    """e.g. 'AMD EPYC (2 logical CPUs; avx2)': the model name and the instruction sets that matter for speed."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or platform.machine()
    name = next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")), "?")
    flags = next((line.split(":", 1)[1].split() for line in info.splitlines() if line.startswith("flags")), [])
    shown = [flag for flag in SPEED_FLAGS if flag in flags]
    cpus = sum(line.startswith("processor") for line in info.splitlines())
    return f"{name} ({cpus} logical CPUs; {', '.join(shown) or 'no AVX2'})"

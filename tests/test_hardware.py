"""The CPU named in speed tables and model cards: both read the same model name."""

from colorize_hub import hardware
from colorize_hub.training.train import hardware_description


def test_speed_tables_and_cards_name_the_same_cpu(monkeypatch):
    lines = ["processor\t: 0", "model name\t: Example CPU 9000", "flags\t\t: fpu sse2 avx2 avx512f",
             "processor\t: 1", "model name\t: Example CPU 9000", "flags\t\t: fpu sse2 avx2 avx512f"]
    monkeypatch.setattr(hardware, "_cpuinfo_lines", lambda: lines)
    assert hardware.cpu_description() == "Example CPU 9000 (2 logical CPUs; avx512f, avx2)"
    assert hardware_description().startswith("CPU Example CPU 9000, ")  # no GPU in the tests


def test_without_cpuinfo_the_platform_names_the_cpu(monkeypatch):
    monkeypatch.setattr(hardware, "_cpuinfo_lines", lambda: [])
    monkeypatch.setattr(hardware.platform, "processor", lambda: "")
    monkeypatch.setattr(hardware.platform, "machine", lambda: "aarch64")
    assert hardware.cpu_model_name() == hardware.cpu_description() == "aarch64"

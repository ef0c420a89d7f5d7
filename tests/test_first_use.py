"""What a new user meets first: a default model, a command line that answers without loading torch, `list` with
descriptions, and `pipeline()` finding bundled names and folders as `colorize()` does, with no network attempt."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image
from skimage import data

import colorize_hub
from colorize_hub import DEFAULT_MODEL, cli
from colorize_hub.catalog import known_checkpoints

REPO = Path(__file__).resolve().parent.parent


def _run_python(code: str, *args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    """`code` with `args` in a fresh interpreter from `cwd` (outside the repository), one thread, `env` added."""
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO), **env}
    return subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, env=environment, capture_output=True,
                          text=True, timeout=300)


def _photo() -> Image.Image:
    return Image.fromarray(data.astronaut()).resize((96, 72))


def test_the_default_model_is_bundled_and_used_when_none_is_named():
    assert DEFAULT_MODEL in colorize_hub.bundled_checkpoints()
    by_default = colorize_hub.colorize(_photo(), precision="fp32")
    named = colorize_hub.colorize(_photo(), model=DEFAULT_MODEL, precision="fp32")
    assert by_default.size == (96, 72) and np.array_equal(np.asarray(by_default), np.asarray(named))


def test_colorize_command_without_model_uses_the_default(tmp_path, capsys):
    _photo().save(tmp_path / "old.png")
    assert cli.main(["colorize", str(tmp_path / "old.png"), "-o", str(tmp_path / "old_color.png"), "-q"]) == 0
    assert Image.open(tmp_path / "old_color.png").size == (96, 72)


def test_list_shows_each_checkpoint_with_description_size_and_the_default(capsys):
    assert cli.main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    for name in colorize_hub.bundled_checkpoints():
        line = next(line for line in lines if line.split()[:1] == [name])
        assert " MB  " in line and float(line.split(" MB")[0].split()[-1]) > 0.1, line
        if name in known_checkpoints():
            assert line.endswith(known_checkpoints()[name][1]), line
        assert ("*" in line.split(" MB")[0]) == (name == DEFAULT_MODEL), line
    assert any(line.startswith("* the default model") for line in lines)


LIGHT_COMMANDS = r"""
import sys
from colorize_hub.cli import main
answers = []
for argv in (["--help"], ["colorize", "--help"], ["list"], ["colorize"],
             ["colorize", "old.jpg", "-o", "out/", "--model", "colorizer-fusoin"],
             ["video", "old.mp4", "-o", "out.mp4", "--model", "no-such-model"],
             ["export", "colorizer-fusoin", "--onnx", "x.onnx"], ["push", "colorizer-gann", "--repo-id", "org/x"]):
    try:
        answers.append(main(argv))
    except SystemExit as exit_:
        answers.append(exit_.code)
print(answers, "torch" in sys.modules, "transformers" in sys.modules)
"""


def test_help_list_and_argument_errors_load_no_torch(tmp_path):
    result = _run_python(LIGHT_COMMANDS, cwd=tmp_path, HF_HUB_OFFLINE="1")
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == "[0, 0, 0, 2, 2, 2, 2, 2] False False", result.stdout
    assert "did you mean colorizer-fusion?" in result.stderr and "did you mean colorizer-gan?" in result.stderr


REGISTERS_ON_TRANSFORMERS_IMPORT = r"""
import sys
import colorize_hub
assert "torch" not in sys.modules, "import colorize_hub loaded torch"
from transformers import AutoConfig, pipeline
from transformers.pipelines import PIPELINE_REGISTRY
assert type(AutoConfig.for_model("colorizer-gan")).__name__ == "ColorizerGanConfig"
assert "image-colorization" in PIPELINE_REGISTRY.get_supported_tasks()
print("registered")
"""


def test_import_colorize_hub_registers_with_transformers_when_it_is_imported(tmp_path):
    result = _run_python(REGISTERS_ON_TRANSFORMERS_IMPORT, cwd=tmp_path, HF_HUB_OFFLINE="1")
    assert result.returncode == 0 and "registered" in result.stdout, result.stderr[-3000:]


NO_NETWORK = r"""
import socket, sys
attempts = []

def refuse(*args, **kwargs):
    attempts.append(repr(args[:2]))
    raise RuntimeError(f"network attempt: {args[:2]}")

socket.socket.connect = socket.socket.connect_ex = refuse
socket.create_connection = socket.getaddrinfo = refuse
import httpx2
httpx2.Client.send = httpx2.AsyncClient.send = refuse

import numpy as np
from PIL import Image
import colorize_hub
from transformers import pipeline

photo = Image.fromarray(np.load(sys.argv[1]))
direct = np.asarray(colorize_hub.colorize(photo, model="colorizer-unet24"))
for model in ("checkpoints/colorizer-unet24", "colorizer-unet24", sys.argv[2]):
    result = np.asarray(pipeline("image-colorization", model=model)(photo))
    assert np.array_equal(result, direct), model
by_default = np.asarray(pipeline("image-colorization")(photo))
assert np.array_equal(by_default, np.asarray(colorize_hub.colorize(photo))), "default model"
assert not attempts, attempts
print("no network", len(attempts))
"""


def test_pipeline_finds_bundled_names_and_folders_from_another_folder_without_network(tmp_path):
    np.save(tmp_path / "photo.npy", np.asarray(_photo()))
    folder = str(colorize_hub.bundled_checkpoints()["colorizer-unet24"])
    # offline mode off: any attempt would reach the patched socket and HTTP layers, and be counted
    result = _run_python(NO_NETWORK, str(tmp_path / "photo.npy"), folder, cwd=tmp_path, HF_HUB_OFFLINE="0",
                         HF_HOME=str(tmp_path / "hf-home"))
    assert result.returncode == 0 and "no network 0" in result.stdout, result.stderr[-3000:]

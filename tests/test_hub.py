"""Publishing to the Hub and loading by Hub id, without a network: HfApi is patched (what would be uploaded is
read at call time) and a Hub id resolves through a Hub cache that the test fills with the uploaded files."""

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx2
import numpy as np
import pytest
import torch
import yaml
from huggingface_hub import HfApi, constants
from PIL import Image
from safetensors.torch import save_file
from skimage import data

from colorize_hub import ColorizationError, ColorizationImageProcessor, cli, colorize
from colorize_hub.checkpoints import unreachable_hub_message
from colorize_hub.publishing.hub import stage_checkpoint
from colorize_hub.loading import load_colorizer
from conftest import build_tiny

REPO_ID = "test-org/colorizer-gan"
EVALUATION = {"kodak24 (short-side-256)": {
    "model": {"psnr": 23.4, "ssim": 0.91, "delta_e": 7.5, "colourfulness": 21.0, "colourfulness_truth": 39.4,
              "delta_colourfulness": 18.4},
    "gray": {"psnr": 22.49, "ssim": 0.92, "delta_e": 8.1, "colourfulness": 0.0, "colourfulness_truth": 39.4}}}
SUMMARY = {"model_type": "colorizer-gan", "train_data": "../shared/data/train/general", "steps": 10,
           "command": "colorize-hub train --model colorizer-gan", "wall_seconds": 60.0, "hardware": "CPU",
           "parameters": 12345}
TRAINING_STATE = ["optimizer.pt", "scheduler.pt", "rng_state.pth", "training_args.bin", "pytorch_model.bin",
                  "trainer_state.json", "loss_curve.png"]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A tiny GAN checkpoint as a training run leaves it: Hub files plus training state that must stay home."""
    folder = tmp_path_factory.mktemp("run") / "colorizer-gan"
    build_tiny("colorizer-gan", seed=2).eval().save_pretrained(folder)
    ColorizationImageProcessor(render_size=64).save_pretrained(folder)
    (folder / "evaluation.json").write_text(json.dumps(EVALUATION))
    (folder / "training_summary.json").write_text(json.dumps(SUMMARY))
    for name in TRAINING_STATE:
        (folder / name).write_bytes(b"not for the hub")
    (folder / "discriminator").mkdir()
    save_file({"w": torch.zeros(1)}, folder / "discriminator" / "model.safetensors")
    return folder


def _refuse_network(request, **kwargs):
    raise AssertionError(f"a test tried the network: {request.method} {request.url}")


def _online_and_logged_in(patch) -> None:
    """What the access check sees on a machine that reaches the Hub with a good token; any real request fails."""
    patch.setattr(constants, "HF_HUB_OFFLINE", False)
    patch.setattr(httpx2.Client, "send", lambda self, request, **kwargs: _refuse_network(request))
    patch.setenv("HF_TOKEN", "hf_test_token")
    patch.setattr(HfApi, "whoami", lambda self, token=None, cache=False: {"name": "test-org"})


@pytest.fixture(scope="module")
def pushed(checkpoint):
    """`colorize-hub push` with HfApi patched: (uploaded {name: bytes}, create_repo kwargs, upload_folder kwargs)."""
    calls = {}

    def create_repo(self, repo_id, **kwargs):
        calls["create_repo"] = {"repo_id": repo_id, **kwargs}
        return f"https://huggingface.co/{repo_id}"

    def upload_folder(self, *, repo_id, folder_path, **kwargs):
        calls["upload"] = {"repo_id": repo_id, **kwargs}
        root = Path(folder_path)
        calls["files"] = {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}

    with pytest.MonkeyPatch.context() as patch:
        _online_and_logged_in(patch)
        patch.setattr(HfApi, "create_repo", create_repo)
        patch.setattr(HfApi, "upload_folder", upload_folder)
        assert cli.main(["push", str(checkpoint), "--repo-id", REPO_ID, "--private"]) == 0
    return calls["files"], calls["create_repo"], calls["upload"]


def _front_matter(card: str) -> dict:
    return yaml.safe_load(card.split("---")[1])


def test_push_uploads_exactly_the_model_processor_code_and_card(pushed):
    files, create_repo, upload = pushed
    assert create_repo["repo_id"] == REPO_ID and create_repo["private"] is True
    assert upload["repo_id"] == REPO_ID and "*.bin" in upload["delete_patterns"]
    assert set(files) == {
        "config.json", "model.safetensors", "preprocessor_config.json", "README.md",
        "configuration_gan.py", "modeling_gan.py", "layers.py", "modeling_outputs.py",  # the model's remote code
        "image_processing_colorization.py", "image_decoding.py", "color.py", "gamut.py", "cie.py", "merge_kernels.py", "errors.py",  # the processor's remote code
    }
    config = json.loads(files["config.json"])
    assert config["auto_map"] == {"AutoConfig": "configuration_gan.ColorizerGanConfig",
                                  "AutoModel": "modeling_gan.ColorizerGanForColorization"}
    processor = json.loads(files["preprocessor_config.json"])
    assert processor["auto_map"]["AutoImageProcessor"] == "image_processing_colorization.ColorizationImageProcessor"
    assert processor["render_size"] == 64
    meta = _front_matter(files["README.md"].decode())
    assert meta["library_name"] == "transformers" and meta["pipeline_tag"] == "image-to-image"
    assert {"image-colorization", "colorize_hub", "colorizer-gan"} <= set(meta["tags"])
    [result] = meta["model-index"][0]["results"]
    assert meta["model-index"][0]["name"] == REPO_ID
    assert result["dataset"] == {"name": "kodak24", "type": "kodak24", "config": "short-side-256"}
    metrics = {m["type"]: m["value"] for m in result["metrics"]}
    assert metrics["psnr"] == 23.4 and metrics["ssim"] == 0.91 and metrics["delta_e_ciede2000"] == 7.5
    card = files["README.md"].decode()
    assert f'model="{REPO_ID}"' in card and "| kodak24 (short-side-256) | 23.40 | 22.49 | +0.91 |" in card


def test_metrics_json_from_evaluate_goes_into_the_card(tmp_path):
    folder = tmp_path / "colorizer-cunet"
    build_tiny("colorizer-cunet").save_pretrained(folder)  # no processor config, no card, no summary
    metrics = tmp_path / "metrics.json"
    metrics.write_text(json.dumps({"data": "../shared/data/eval/bsds500-test", "protocol": "ct2-256", "results": {
        "gray": EVALUATION["kodak24 (short-side-256)"]["gray"], str(folder): {**EVALUATION["kodak24 (short-side-256)"]
                                                                               ["model"], "psnr": 21.0}}}))
    files = stage_checkpoint(folder, tmp_path / "staged", "org/colorizer-cunet", metrics=[metrics])
    assert {"preprocessor_config.json", "image_processing_colorization.py", "modeling_cunet.py"} <= set(files)
    meta = _front_matter((tmp_path / "staged" / "README.md").read_text())
    result = meta["model-index"][0]["results"][0]
    assert result["dataset"]["name"] == "bsds500-test" and result["dataset"]["config"] == "ct2-256"
    assert {m["type"]: m["value"] for m in result["metrics"]}["psnr"] == 21.0


def test_push_refuses_a_folder_without_safetensors(tmp_path, capsys):
    (tmp_path / "config.json").write_text('{"model_type": "colorizer-gan"}')
    (tmp_path / "pytorch_model.bin").write_bytes(b"pickle")
    assert cli.main(["push", str(tmp_path), "--repo-id", "org/x", "--dry-run"]) == 2
    assert "never published" in capsys.readouterr().err


def _fill_hub_cache(cache, repo_id: str, files: dict) -> None:
    """The layout huggingface_hub's cache has after a download: refs/main -> snapshots/<commit>/<files>."""
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    for name, content in files.items():
        (repo / "snapshots" / commit / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / "snapshots" / commit / name).write_bytes(content)


REMOTE_LOADER = r"""
import sys, numpy as np, torch
from transformers import AutoImageProcessor, AutoModel
model = AutoModel.from_pretrained(sys.argv[1], trust_remote_code=True).eval()
processor = AutoImageProcessor.from_pretrained(sys.argv[1], trust_remote_code=True)
assert type(model).__module__.startswith("transformers_modules"), type(model).__module__
assert type(processor).__module__.startswith("transformers_modules"), type(processor).__module__
image = np.load(sys.argv[2])
inputs = processor(image)
with torch.no_grad():
    ab = model(inputs["pixel_values"]).predicted_ab
result = processor.post_process_colorization(ab, inputs["original_lightness"], alpha=inputs["alpha"])[0]
result.save(sys.argv[3])
assert not any(name.startswith("colorize_hub") for name in sys.modules), "colorize_hub was imported"
print("remote ok", tuple(inputs["pixel_values"].shape))
"""


def test_pushed_repo_loads_by_hub_id_with_and_without_the_package(pushed, checkpoint, tmp_path, monkeypatch):
    files, _, _ = pushed
    _fill_hub_cache(tmp_path / "hub", REPO_ID, files)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    photo = np.asarray(Image.fromarray(data.astronaut()).resize((96, 80)))
    by_id = colorize(photo, model=REPO_ID, precision="fp32")
    by_folder = colorize(photo, model=str(checkpoint), precision="fp32")
    assert by_id.size == (96, 80) and np.array_equal(np.asarray(by_id), np.asarray(by_folder))

    # a fresh interpreter without colorize_hub: model AND image processor come from the repo's remote code
    np.save(tmp_path / "photo.npy", photo)
    env = {**os.environ, "HF_HOME": str(tmp_path / "home"), "HF_HUB_CACHE": str(tmp_path / "hub"),
           "HF_HUB_OFFLINE": "1", "PYTHONPATH": "", "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, "-c", REMOTE_LOADER, REPO_ID, str(tmp_path / "photo.npy"),
                             str(tmp_path / "remote.png")], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "remote ok (1, 1, 64, 64)" in result.stdout  # the checkpoint's render size travelled with it
    remote = np.asarray(Image.open(tmp_path / "remote.png"), dtype=np.int16)
    assert np.abs(remote - np.asarray(by_folder, dtype=np.int16)).max() <= 1


def test_offline_hub_id_error_says_unreachable_and_suggests_a_local_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(ColorizationError, match="Hub is unreachable") as error:
        load_colorizer("test-org/not-downloaded")
    assert "HF_HUB_OFFLINE=1" in str(error.value) and "local checkpoint folder" in str(error.value)
    assert "hf download test-org/not-downloaded" in str(error.value)


def test_connection_errors_get_the_unreachable_message_too(monkeypatch):
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    try:
        try:
            raise ConnectionError("Name or service not known")
        except ConnectionError as cause:
            raise OSError("We couldn't connect to 'https://huggingface.co'") from cause
    except OSError as error:
        message = unreachable_hub_message("org/model", error)
    assert "unreachable (no connection)" in message and "local checkpoint folder" in message
    assert unreachable_hub_message("org/model", OSError("org/model is not a valid model identifier")) is None


def _push_lines(capsys, *argv) -> tuple[int, list[str]]:
    code = cli.main(["push", *argv])
    captured = capsys.readouterr()
    return code, (captured.out + captured.err).strip().splitlines()


def _token(monkeypatch, token: str | None) -> None:
    """The token HfApi finds: HF_TOKEN, or none at all (no variable, and the saved-token lookup finds nothing)."""
    if token:
        monkeypatch.setenv("HF_TOKEN", token)
    else:
        monkeypatch.delenv("HF_TOKEN", raising=False)
        monkeypatch.setattr("colorize_hub.publishing.hub_access.get_token", lambda: None)


def _answer(routes: dict):
    """An httpx send that answers each URL path from `routes` (status code or exception), so no request leaves."""
    def send(self, request, **kwargs):
        answer = routes[request.url.path]
        if isinstance(answer, Exception):
            raise answer
        return httpx2.Response(answer, request=request, json={"error": "test answer"})
    return send


def test_push_in_offline_mode_says_so_in_one_line(monkeypatch, capsys):
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(httpx2.Client, "send", lambda self, request, **kwargs: _refuse_network(request))
    code, lines = _push_lines(capsys, "colorizer-gan", "--repo-id", REPO_ID)
    assert code == 2 and len(lines) == 1 and "HF_HUB_OFFLINE=1" in lines[0], lines


@pytest.mark.parametrize("token", [None, "hf_test_token"])
def test_push_without_a_network_fails_fast_without_a_traceback(token, monkeypatch, capsys):
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    _token(monkeypatch, token)
    refused = httpx2.ConnectError("[Errno -3] Temporary failure in name resolution")
    monkeypatch.setattr(httpx2.Client, "send", _answer({"/": refused, "/api/whoami-v2": refused}))
    code, lines = _push_lines(capsys, "colorizer-gan", "--repo-id", REPO_ID)
    assert code == 2 and len(lines) <= 3 and "Traceback" not in "\n".join(lines), lines
    assert "unreachable (ConnectError)" in lines[0] and "check the network connection" in lines[0]


@pytest.mark.parametrize("token, whoami, expected", [
    (None, 200, "not logged in to the Hugging Face Hub; log in once with `hf auth login`"),
    ("hf_expired", 401, "refused the token (invalid or expired); log in once with `hf auth login`"),
])
def test_push_checks_the_login_before_anything_is_staged(token, whoami, expected, monkeypatch, capsys):
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    _token(monkeypatch, token)
    monkeypatch.setattr(httpx2.Client, "send", _answer({"/": 200, "/api/whoami-v2": whoami}))
    monkeypatch.setattr("colorize_hub.publishing.hub.stage_checkpoint", lambda *args, **kwargs: pytest.fail("staged"))
    code, lines = _push_lines(capsys, "colorizer-gan", "--repo-id", REPO_ID)
    assert code == 2 and len(lines) == 1 and expected in lines[0], lines


def test_push_takes_bundled_names_like_colorize_and_export(monkeypatch, capsys):
    code, lines = _push_lines(capsys, "colorizer-gan", "--repo-id", REPO_ID, "--dry-run")
    assert code == 0 and lines[0] == f"would upload to {REPO_ID}:" and "  model.safetensors" in lines
    uploaded = {}
    with pytest.MonkeyPatch.context() as patch:
        _online_and_logged_in(patch)
        patch.setattr(HfApi, "create_repo", lambda self, repo_id, **kwargs: f"https://huggingface.co/{repo_id}")
        patch.setattr(HfApi, "upload_folder", lambda self, *, folder_path, **kwargs: uploaded.update(
            config=json.loads((Path(folder_path) / "config.json").read_text())))
        code, lines = _push_lines(capsys, "colorizer-gan", "--repo-id", REPO_ID)
    assert code == 0 and uploaded["config"]["model_type"] == "colorizer-gan", lines
    code, lines = _push_lines(capsys, "colorizer-gann", "--repo-id", REPO_ID)  # a typo: named, with the near miss
    assert code == 2 and len(lines) == 1 and "did you mean colorizer-gan?" in lines[0], lines


PUSH_WITHOUT_NETWORK = r"""
import sys, httpx2
def refuse(self, request, **kwargs):
    raise httpx2.ConnectError("[Errno 101] Network is unreachable", request=request)
httpx2.Client.send = refuse
from colorize_hub.cli import main
sys.exit(main(["push", "colorizer-gan", "--repo-id", "test-org/colorizer-gan"]))
"""


def test_push_without_a_network_in_a_fresh_process_prints_one_line(tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "0", "HF_TOKEN": "hf_test_token", "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, "-c", PUSH_WITHOUT_NETWORK], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=120)
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1 and "Traceback" not in result.stderr, lines
    assert lines[0].startswith("error: Cannot push: the Hugging Face Hub") and "unreachable" in lines[0]

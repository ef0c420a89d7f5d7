"""ONNX export: every architecture gives the same ab under ONNX Runtime as under PyTorch, at any batch and size."""

import shutil
import signal
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import torch
from PIL import Image

import colorize_hub
from colorize_hub import ColorizationImageProcessor, cli
from colorize_hub.loading import load_colorizer
from colorize_hub.publishing.onnx_export import export_onnx
from conftest import build_tiny

ROOT = Path(__file__).resolve().parent.parent
SHAPES = [(1, 1, 64, 96), (3, 1, 128, 64)]  # batch, height and width all differ from the export example (2, 64, 64)


def assert_onnx_runtime_matches(model, path: Path, shapes=SHAPES) -> None:
    """The exported file at `path` gives `model`'s ab under ONNX Runtime, at each input shape."""
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    generator = torch.Generator().manual_seed(0)
    for shape in shapes:
        pixel_values = torch.rand(shape, generator=generator) * 2 - 1
        with torch.no_grad():
            expected = model(pixel_values).predicted_ab.numpy()
        [got] = session.run(["predicted_ab"], {"pixel_values": pixel_values.numpy()})
        assert got.shape == expected.shape == (shape[0], 2, *shape[2:])
        assert np.abs(got - expected).max() < 1e-3 / 110  # |Δab| < 1e-3 in CIE Lab units (ab is stored / 110)


def test_every_architecture_matches_onnx_runtime(model_type, tmp_path):
    model = build_tiny(model_type, seed=3).eval()
    path = export_onnx(model, tmp_path / f"{model_type}.onnx")
    assert [p.name for p in tmp_path.iterdir()] == [f"{model_type}.onnx"]  # one file, weights inside
    assert_onnx_runtime_matches(model, path)


def test_fusion_with_backbone_features_matches_onnx_runtime(tmp_path):
    model = build_tiny("colorizer-fusion", seed=3, backbone_feature_stage=3).eval()
    with torch.no_grad():
        model.feature_fusion.weight.normal_()  # not the zero it starts from
    assert_onnx_runtime_matches(model, export_onnx(model, tmp_path / "fusion.onnx"), shapes=SHAPES[:1])


def test_tensorflow_same_padding_exports_in_seconds_and_matches_onnx_runtime(tmp_path):
    """EfficientNet-Lite (the encoder U-Nets' encoder) pads its strided convolutions TensorFlow's way, from the input
    size at every call; exported as such, the shape expressions took the exporter over 15 minutes. The export fixes
    that padding for multiples of 32, where it is the same at every size: the numbers must not change."""
    import timm
    from timm.layers.conv2d_same import Conv2dSame

    model = build_tiny("colorizer-encoder-unet", seed=3).eval()
    model.encoder = timm.create_model("test_efficientnet", features_only=True, pad_type="same").eval()  # same channels
    assert any(isinstance(module, Conv2dSame) for module in model.modules())

    def too_slow(*_):
        raise TimeoutError("the export took over 3 minutes (20 s here when the padding is fixed)")

    previous = signal.signal(signal.SIGALRM, too_slow)
    signal.alarm(180)
    try:
        path = export_onnx(model, tmp_path / "same.onnx")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert any(isinstance(module, Conv2dSame) for module in model.modules())  # the model itself is left as it was
    assert_onnx_runtime_matches(model, path)


def test_export_command_writes_dynamic_axes_and_metadata(tmp_path, capsys):
    folder = tmp_path / "checkpoint"
    build_tiny("colorizer-baseline").save_pretrained(folder)
    ColorizationImageProcessor(render_size=96).save_pretrained(folder)
    target = tmp_path / "out" / "baseline.onnx"
    assert cli.main(["export", str(folder), "--onnx", str(target)]) == 0
    assert str(target) in capsys.readouterr().out
    graph = onnx.load(str(target))
    dims = [d.dim_param or d.dim_value for d in graph.graph.input[0].type.tensor_type.shape.dim]
    assert dims[1] == 1 and all(isinstance(d, str) for d in (dims[0], dims[2], dims[3]))  # batch, height, width
    metadata = {p.key: p.value for p in graph.metadata_props}
    assert metadata["model_type"] == "colorizer-baseline" and metadata["render_size"] == "96"
    assert metadata["ab_scale"] == "110.0" and metadata["l_max"] == "100.0"
    model, _ = load_colorizer(str(folder))  # the loader's channels_last model exports the same numbers
    pixel_values = torch.rand(2, 1, 96, 160) * 2 - 1
    with torch.no_grad():
        expected = model(pixel_values).predicted_ab.numpy()
    session = onnxruntime.InferenceSession(str(target), providers=["CPUExecutionProvider"])
    assert np.abs(session.run(None, {"pixel_values": pixel_values.numpy()})[0] - expected).max() < 1e-3 / 110
    assert cli.main(["export", str(tmp_path / "missing"), "--onnx", str(tmp_path / "x.onnx")]) == 2


def readme_onnx_snippet() -> str:
    """The Python block under README's "### ONNX Runtime", exactly as a reader copies it."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("### ONNX Runtime", 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


def test_readme_onnx_snippet_runs_as_written_and_matches_colorize(tmp_path, monkeypatch):
    """The file's metadata carries what colorize() applies after the network (chroma_gain above all: a snippet
    without it gave 1/1.2 of the chroma), and README's snippet, run as written, gives colorize()'s picture."""
    export_onnx("colorizer-fusion", tmp_path / "colorizer-fusion.onnx")
    photo = ROOT / "examples" / "chelsea.jpg"
    shutil.copy(photo, tmp_path / "old.jpg")
    monkeypatch.chdir(tmp_path)
    exec(compile(readme_onnx_snippet(), "README.md", "exec"), {})
    _, processor = load_colorizer("colorizer-fusion")
    metadata = onnxruntime.InferenceSession("colorizer-fusion.onnx").get_modelmeta().custom_metadata_map
    assert float(metadata["chroma_gain"]) == processor.chroma_gain != 1.0
    assert "inside the graph" in metadata["annealed_temperature"] and "chroma_gain" in metadata["postprocess"]
    expected = np.asarray(colorize_hub.colorize(photo, model="colorizer-fusion", precision="fp32"), np.int16)
    with Image.open("old_color.png") as written:
        got = np.asarray(written, np.int16)
    assert got.shape == expected.shape and np.abs(got - expected).max() <= 2

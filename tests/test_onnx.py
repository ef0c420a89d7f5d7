"""ONNX export: every architecture gives the same ab under ONNX Runtime as under PyTorch, at any batch and size."""

import numpy as np
import onnx
import onnxruntime
import torch

from colorize_hub import ColorizationImageProcessor, cli
from colorize_hub.loading import load_colorizer
from colorize_hub.publishing.onnx_export import export_onnx
from conftest import build_tiny

SHAPES = [(1, 1, 64, 96), (3, 1, 128, 64)]  # batch, height and width all differ from the export example (2, 64, 64)


def test_every_architecture_matches_onnx_runtime(model_type, tmp_path):
    model = build_tiny(model_type, seed=3).eval()
    path = export_onnx(model, tmp_path / f"{model_type}.onnx")
    assert [p.name for p in tmp_path.iterdir()] == [f"{model_type}.onnx"]  # one file, weights inside
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    generator = torch.Generator().manual_seed(0)
    for shape in SHAPES:
        pixel_values = torch.rand(shape, generator=generator) * 2 - 1
        with torch.no_grad():
            expected = model(pixel_values).predicted_ab.numpy()
        [got] = session.run(["predicted_ab"], {"pixel_values": pixel_values.numpy()})
        assert got.shape == expected.shape == (shape[0], 2, *shape[2:])
        assert np.abs(got - expected).max() < 1e-3 / 110  # |Δab| < 1e-3 in CIE Lab units (ab is stored / 110)


def test_fusion_with_backbone_features_matches_onnx_runtime(tmp_path):
    model = build_tiny("colorizer-fusion", seed=3, backbone_feature_stage=3).eval()
    with torch.no_grad():
        model.feature_fusion.weight.normal_()  # not the zero it starts from
    session = onnxruntime.InferenceSession(str(export_onnx(model, tmp_path / "fusion.onnx")),
                                           providers=["CPUExecutionProvider"])
    pixel_values = torch.rand(SHAPES[0], generator=torch.Generator().manual_seed(0)) * 2 - 1
    with torch.no_grad():
        expected = model(pixel_values).predicted_ab.numpy()
    [got] = session.run(["predicted_ab"], {"pixel_values": pixel_values.numpy()})
    assert np.abs(got - expected).max() < 1e-3 / 110


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

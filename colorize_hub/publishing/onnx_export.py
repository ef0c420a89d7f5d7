"""`colorize-hub export`: a checkpoint as one self-contained ONNX file, for ONNX Runtime and other runtimes.

The graph is the model's forward only: `pixel_values` (batch, 1, height, width) normalised L in [-1, 1] ->
`predicted_ab` (batch, 2, height, width) normalised ab; batch, height and width are dynamic (height and width
multiples of 32 from 64 up, as every render size is). The Lab
conversions, resizing and full-resolution merge stay outside (they are the image processor's), and the
scale constants and the render size travel in the file's metadata so another runtime can rebuild them.
It uses torch's dynamo exporter (torch.export + onnxscript), which exports every architecture, including
the antialiased resize in front of the fusion model's backbone, which the old TorchScript exporter cannot.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch

from .. import color
from ..errors import ColorizationError
from ..loading import load_colorizer

logger = logging.getLogger(__name__)
OPSET = 18  # the first opset whose Resize has `antialias`
EXAMPLE_SIZE = 64  # any multiple of 32: the exported graph is not specialised to it


class PredictAb(torch.nn.Module):
    """The model with a plain tensor output: ONNX graphs return tensors, not ModelOutput objects."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return self.model(pixel_values).predicted_ab


def export_onnx(model_or_checkpoint, destination: str | Path, render_size: int | None = None,
                opset: int = OPSET) -> Path:
    """Export a checkpoint (name, folder, Hub id) or a loaded model to `destination` (one .onnx file, weights
    inside); returns the path. `render_size` is only recorded in the metadata (default: the processor's)."""
    if isinstance(model_or_checkpoint, torch.nn.Module):
        model, processor_size = model_or_checkpoint, render_size or 256
    else:
        model, processor = load_colorizer(str(model_or_checkpoint))
        processor_size = render_size or processor.render_size
    was_training = model.training  # the model may be the loader's cached one: leave it as it was found
    model.eval()
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    example = torch.rand(2, 1, EXAMPLE_SIZE, EXAMPLE_SIZE) * 2 - 1  # batch 2: a batch of 1 would be specialised
    # height and width: any multiple of 32 from 64 up (the render size always is one; the U-Nets downsample 32x)
    dims = {0: torch.export.Dim("batch"), 2: 32 * torch.export.Dim("height_blocks", min=2),
            3: 32 * torch.export.Dim("width_blocks", min=2)}
    try:
        program = torch.onnx.export(
            PredictAb(model).eval(), (example,), None, input_names=["pixel_values"], output_names=["predicted_ab"],
            dynamic_shapes={"pixel_values": dims}, opset_version=opset, dynamo=True, external_data=False,
            verbose=False,
        )
    except Exception as error:  # noqa: BLE001 - the exporter fails in many ways; the message says which
        raise ColorizationError(f"ONNX export of {type(model).__name__} failed: {error}") from error
    finally:
        model.train(was_training)
    program.model.metadata_props.update({
        "model_type": str(model.config.model_type),
        "render_size": str(processor_size),
        "l_max": str(color.L_MAX),
        "ab_scale": str(color.AB_SCALE),
        "input": "pixel_values: (batch, 1, height, width) = L / l_max * 2 - 1, CIE L (D65); height, width: "
                 "multiples of 32, at least 64",
        "output": "predicted_ab: (batch, 2, height, width) = ab / ab_scale; upsample to full size, join with L",
    })
    program.save(str(destination), external_data=False)
    logger.info("exported %s to %s", type(model).__name__, destination)
    return destination

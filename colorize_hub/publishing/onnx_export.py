"""`colorize-hub export`: a checkpoint as one self-contained ONNX file, for ONNX Runtime and other runtimes.

The graph is the model's forward only: `pixel_values` (batch, 1, height, width) normalised L in [-1, 1] ->
`predicted_ab` (batch, 2, height, width) normalised ab; batch, height and width are dynamic (height and width
multiples of 32 from 64 up, as every render size is). The Lab
conversions, resizing and full-resolution merge stay outside (they are the image processor's); everything
`colorize()` applies after the network (the checkpoint's calibrated chroma gain, the ab scale and clamp, the
upsampling and the merge with the original L) travels in the file's metadata, with the render size and the
colour decoding baked into the graph (a palette model's annealed-mean temperature), so another runtime gives
the same picture.
It uses torch's dynamo exporter (torch.export + onnxscript), which exports every architecture, including
the antialiased resize in front of the fusion model's backbone, which the old TorchScript exporter cannot.
"""

from __future__ import annotations

import copy
import logging
from pathlib import Path

import torch
import torch.nn.functional as F

from .. import color
from ..errors import ColorizationError
from ..loading import load_colorizer

logger = logging.getLogger(__name__)
OPSET = 18  # the first opset whose Resize has `antialias`
EXAMPLE_SIZE = 64  # any multiple of 32: the exported graph is not specialised to it


class StaticSamePadConv(torch.nn.Module):
    """A TensorFlow "SAME" convolution (timm's Conv2dSame) with its padding fixed for inputs whose height and
    width are multiples of its stride.

    Conv2dSame computes its padding from the input size at every call; with dynamic shapes the exporter carries
    those ceil/max expressions through every later layer, and simplifying them took over 15 minutes for
    EfficientNet-Lite0. For a size that is a multiple of the stride the padding is a constant: (k - 1) * d + 1 - s
    in all, the smaller half before. Every exported input is a multiple of 32, so every such convolution (stride
    at most 2 inside a network of total stride 32) sees one.
    """

    def __init__(self, conv: torch.nn.Conv2d) -> None:
        super().__init__()
        self.conv = conv
        pads = []
        for kernel, stride, dilation in zip(conv.kernel_size, conv.stride, conv.dilation):
            total = max((kernel - 1) * dilation + 1 - stride, 0)
            pads.append((total // 2, total - total // 2))
        (top, bottom), (left, right) = pads
        self.padding = (left, right, top, bottom)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        conv = self.conv
        return F.conv2d(F.pad(x, self.padding), conv.weight, conv.bias, conv.stride, 0, conv.dilation, conv.groups)


def with_static_same_padding(model: torch.nn.Module) -> torch.nn.Module:
    """`model` itself when it has no timm Conv2dSame, else a copy in which each is a StaticSamePadConv."""
    from timm.layers.conv2d_same import Conv2dSame

    if not any(isinstance(module, Conv2dSame) for module in model.modules()):
        return model
    model = copy.deepcopy(model)
    for module in list(model.modules()):
        for name, child in module.named_children():
            if isinstance(child, Conv2dSame):
                setattr(module, name, StaticSamePadConv(child))
    return model


class PredictAb(torch.nn.Module):
    """The model with a plain tensor output: ONNX graphs return tensors, not ModelOutput objects."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return self.model(pixel_values).predicted_ab


def onnx_metadata(model: torch.nn.Module, render_size: int, chroma_gain: float) -> dict[str, str]:
    """What a runtime needs around the graph to give colorize()'s picture: how to make the input, and everything
    applied to the output (ColorizationImageProcessor.post_process_colorization with saturation 1)."""
    temperature = getattr(model.config, "annealed_temperature", None) if getattr(model, "classifies_colours", False) \
        else None
    return {
        "model_type": str(model.config.model_type),
        "render_size": str(render_size),
        "l_max": str(color.L_MAX),
        "ab_scale": str(color.AB_SCALE),
        "chroma_gain": str(chroma_gain),
        "annealed_temperature": "none (regression)" if temperature is None else f"{temperature} (inside the graph)",
        "input": "pixel_values: (batch, 1, height, width) = L / l_max * 2 - 1, CIE L (D65) of the photo resized "
                 "(antialiased) to render_size x render_size; height, width: multiples of 32, at least 64",
        "output": "predicted_ab: (batch, 2, height, width) = ab / ab_scale",
        "postprocess": "upsample predicted_ab bilinearly (align_corners=False) to the photo's full size, multiply by "
                       "ab_scale * chroma_gain * saturation (saturation 1 = as calibrated), clamp to "
                       "[-ab_scale, ab_scale], join with the photo's own full-resolution L, convert Lab (D65) to "
                       "sRGB; a colour outside sRGB loses chroma at constant L and hue "
                       "(colorize_hub.ColorizationImageProcessor.post_process_colorization does all of this)",
    }


def export_onnx(model_or_checkpoint, destination: str | Path, render_size: int | None = None,
                opset: int = OPSET) -> Path:
    """Export a checkpoint (name, folder, Hub id) or a loaded model to `destination` (one .onnx file, weights
    inside); returns the path. `render_size` is only recorded in the metadata (default: the processor's)."""
    if isinstance(model_or_checkpoint, torch.nn.Module):
        model, processor_size, chroma_gain = model_or_checkpoint, render_size or 256, 1.0
    else:
        model, processor = load_colorizer(str(model_or_checkpoint))
        processor_size, chroma_gain = render_size or processor.render_size, processor.chroma_gain
    was_training = model.training  # the model may be the loader's cached one: leave it as it was found
    model.eval()
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    example = torch.rand(2, 1, EXAMPLE_SIZE, EXAMPLE_SIZE) * 2 - 1  # batch 2: a batch of 1 would be specialised
    # height and width: any multiple of 32 from 64 up (the render size always is one; the U-Nets downsample 32x)
    dims = {0: torch.export.Dim("batch"), 2: 32 * torch.export.Dim("height_blocks", min=2),
            3: 32 * torch.export.Dim("width_blocks", min=2)}
    exported = PredictAb(with_static_same_padding(model)).eval()
    try:
        program = torch.onnx.export(
            exported, (example,), None, input_names=["pixel_values"], output_names=["predicted_ab"],
            dynamic_shapes={"pixel_values": dims}, opset_version=opset, dynamo=True, external_data=False,
            verbose=False,
        )
    except Exception as error:  # noqa: BLE001 - the exporter fails in many ways; the message says which
        raise ColorizationError(f"ONNX export of {type(model).__name__} failed: {error}") from error
    finally:
        model.train(was_training)
    program.model.metadata_props.update(onnx_metadata(model, processor_size, chroma_gain))
    program.save(str(destination), external_data=False)
    logger.info("exported %s to %s", type(model).__name__, destination)
    return destination

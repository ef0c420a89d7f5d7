"""Image processor: any image -> normalised L at the render size; predicted ab -> full-size RGB."""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError
from transformers.image_processing_backends import TorchvisionBackend
from transformers.image_processing_base import BatchFeature
from transformers.image_utils import SizeDict
from transformers.processing_utils import ImagesKwargs

from .color import AB_SCALE, array_to_lightness, normalize_l, rgb_to_normalized_lab
from .errors import ColorizationError
from .gamut import merge_to_srgb8
from .image_decoding import INT_SCALES, all_finite, alpha_to_uint8, pil_pixels

logger = logging.getLogger(__name__)

_EXIF_ORIENTATION = 0x0112


@dataclass
class LoadedImage:
    """An input reduced to what colorization needs, at the ORIGINAL full resolution.

    ``lightness`` is float32 (1, H, W) CIE L in [0, 100]; ``alpha`` is uint8 (H, W) or None.
    """

    lightness: torch.Tensor
    alpha: np.ndarray | None = None

    @property
    def size(self) -> tuple[int, int]:
        """(width, height), the PIL convention."""
        return int(self.lightness.shape[-1]), int(self.lightness.shape[-2])


# a LoadedImage (what load_image returns) is taken as it is: decode a photo once, colorize it with several models
ImageLike = Union[str, os.PathLike, Image.Image, np.ndarray, torch.Tensor, LoadedImage]


class ColorizationImageProcessorKwargs(ImagesKwargs, total=False):
    """The processor's own settings, on top of the generic image kwargs."""

    render_size: int
    max_pixels: int
    chroma_gain: float


def _positive_int(value: Any, name: str, multiple: int = 1) -> int:
    """Validate a setting; render_size must be a multiple of 32 because the models downsample by 32."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0 or value % multiple:
        what = f"a positive multiple of {multiple}, e.g. 256 or 512" if multiple > 1 else "a positive whole number"
        raise ColorizationError(f"{name} must be {what}; got {value!r}.")
    return int(value)


class ColorizationImageProcessor(TorchvisionBackend):
    """Turns images of any size, mode and shape into model inputs, and predictions back into images.

    Aspect ratio: the model always sees a square ``render_size`` x ``render_size`` L image (resized
    with antialiasing, so the aspect ratio is distorted). The predicted ab is later resized back
    to the original exact size, which restores the aspect ratio, and joined with the ORIGINAL
    full-resolution L. Chroma is low-frequency, so the distortion costs little, and it lets images
    of any shape share one batch. The output's lightness is the input's, pixel for pixel.
    Settings are saved by ``save_pretrained`` as ``preprocessor_config.json``.

    Args:
        render_size: side of the square model input; a positive multiple of 32 (U-Net strides).
        max_pixels: inputs with more pixels are refused before their pixel data is decoded, so a
            crafted file cannot exhaust memory (a 50-megapixel L image alone is 200 MB in float32).
        chroma_gain: the checkpoint's own chroma multiplier, applied before the user's ``saturation``
            (so saturation 1 means "as this checkpoint is calibrated"). A model trained with a loss that
            averages over plausible colours predicts too little chroma; its gain is calibrated on a dev
            set (scripts/release_checkpoint.py --calibrate) to come closest to the colourfulness of real photos
            while PSNR stays within a stated tolerance of the gray image's (see colorize_hub.evaluation.calibration).
    """

    valid_kwargs = ColorizationImageProcessorKwargs
    model_input_names = ["pixel_values"]
    render_size: int = 256
    max_pixels: int = 50_000_000
    chroma_gain: float = 1.0

    def __init__(self, render_size: int = 256, max_pixels: int = 50_000_000, chroma_gain: float = 1.0,
                 **kwargs: Any) -> None:
        render_size = _positive_int(render_size, "render_size", 32)
        if isinstance(chroma_gain, bool) or not isinstance(chroma_gain, (int, float)) or not 0 < chroma_gain < 10:
            raise ColorizationError(f"chroma_gain must be a number in (0, 10), got {chroma_gain!r}.")
        super().__init__(render_size=render_size, max_pixels=_positive_int(max_pixels, "max_pixels"),
                         chroma_gain=float(chroma_gain), **kwargs)

    def _limit(self, max_pixels: int | None) -> int:
        """The pixel limit of one call: its own ``max_pixels`` when given, else the processor's setting."""
        return self.max_pixels if max_pixels is None else _positive_int(max_pixels, "max_pixels")

    @staticmethod
    def _check_pixels(width: int, height: int, source: str, limit: int) -> None:
        """Refuse empty images and images over `limit` pixels, from their size alone (no pixel data needed)."""
        if width <= 0 or height <= 0:
            raise ColorizationError(f"{source} is empty ({width}x{height}); pass an image with pixels.")
        if width * height > limit:
            msg = f"{source} is {width}x{height} = {width * height:,} pixels, more than max_pixels={limit:,}"
            raise ColorizationError(msg + "; downscale it first or raise max_pixels.")

    def load_image(self, image: ImageLike, max_pixels: int | None = None) -> LoadedImage:
        """Load a path, PIL image, numpy array (H, W[, C]) or tensor ([C,] H, W) as full-size L and alpha.

        Numpy: C in {1: gray, 2: gray+alpha, 3: RGB, 4: RGBA}; dtypes uint8, uint16 (/ 65535), bool,
        float (expected in [0, 1]; values outside are clipped). Tensors: float in [0, 1], C in 1..4.
        Files and PIL images get their EXIF orientation applied; files use their first frame.
        ``max_pixels`` overrides the processor's limit for this call (checked before any pixel is decoded).
        Anything that cannot be loaded raises :class:`ColorizationError` saying why. A :class:`LoadedImage` is
        returned as it is (after the pixel limit check), so a photo decoded once can go to several models.
        """
        limit = self._limit(max_pixels)
        if isinstance(image, LoadedImage):
            self._check_pixels(*image.size, "The loaded image", limit)
            return image
        if isinstance(image, torch.Tensor):
            return self._from_array(self._tensor_to_array(image), "The tensor", limit)
        if isinstance(image, np.ndarray):
            return self._from_array(image, "The numpy array", limit)
        if not isinstance(image, (str, os.PathLike, Image.Image)):
            kind = type(image).__name__
            raise ColorizationError(f"Cannot load an image from {kind}; pass a path, PIL.Image, numpy array or tensor.")
        source = "The PIL image" if isinstance(image, Image.Image) else f"Image file {image}"
        if not isinstance(image, Image.Image):
            path = Path(image)
            if not path.is_file():  # False for a folder, a missing file, or a name the OS cannot represent
                raise ColorizationError(f"{source} does not exist or is not a file; pass the path of one image file.")
            if path.stat().st_size == 0:
                msg = f"{source} is empty (0 bytes); it holds no image: check the file, or copy or upload it again."
                raise ColorizationError(msg)
        try:
            if isinstance(image, Image.Image):
                pixels, scale, alpha, is_l = self._decode(image, source, limit)
            else:
                with Image.open(image) as img:  # lazy: only the header is read here
                    img.seek(0)  # first frame of animated GIF / PNG / WebP / TIFF
                    pixels, scale, alpha, is_l = self._decode(img, source, limit)
        except ColorizationError:
            raise
        except Image.DecompressionBombError as err:
            msg = f"{source} has too many pixels to open safely ({err}); downscale it below max_pixels={limit:,} first."
            raise ColorizationError(msg) from err
        except UnidentifiedImageError as err:
            raise ColorizationError(f"{source} is not an image Pillow can read; convert it to PNG or JPEG.") from err
        except PermissionError as err:
            raise ColorizationError(f"{source} cannot be read ({err}); check the file's permissions.") from err
        except MemoryError as err:
            raise ColorizationError(f"{source} needs more memory than is free to decode; downscale it first.") from err
        except Exception as err:  # noqa: BLE001 - a crafted file can make any decoder fail in any way
            raise ColorizationError(
                f"{source} could not be decoded ({type(err).__name__}: {err}): it is corrupt or truncated; "
                "re-export it as PNG or JPEG."
            ) from err
        return LoadedImage(array_to_lightness(pixels, scale, is_l), alpha)

    def _decode(
        self, img: Image.Image, source: str, limit: int
    ) -> tuple[np.ndarray, float, np.ndarray | None, bool]:
        """Check the header size BEFORE decoding, apply EXIF orientation, then decode."""
        self._check_pixels(*img.size, source, limit)
        orientation = img.getexif().get(_EXIF_ORIENTATION, 1)
        if orientation in range(2, 9):  # exif_transpose always copies: skip it when it would be a no-op
            logger.debug("%s: applying EXIF orientation %s", source, orientation)
            img = ImageOps.exif_transpose(img)
        return pil_pixels(img, source)

    @staticmethod
    def _tensor_to_array(tensor: torch.Tensor) -> np.ndarray:
        """Channel-first tensor -> channel-last numpy view (no copy for float32 CPU tensors)."""
        tensor = tensor.detach().cpu()
        tensor = tensor.float() if tensor.dtype == torch.bfloat16 else tensor  # numpy has no bfloat16
        if tensor.ndim == 3 and tensor.shape[0] in (1, 2, 3, 4):
            tensor = tensor.permute(1, 2, 0)  # (C, H, W) -> (H, W, C)
        elif tensor.ndim != 2:
            msg = f"A tensor image must be (C<=4, H, W) or (H, W), got {tuple(tensor.shape)}"
            raise ColorizationError(msg + "; pass a batch as a list of images.")
        return tensor.numpy()

    def _from_array(self, arr: np.ndarray, source: str, limit: int) -> LoadedImage:
        """Channel-last array -> LoadedImage; the dtype sets the scale (uint8 /255, uint16 /65535, bool, float)."""
        if arr.ndim == 3 and arr.shape[-1] in (1, 2, 3, 4):
            gray_or_rgb, alpha = (arr[..., :-1], arr[..., -1]) if arr.shape[-1] in (2, 4) else (arr, None)
            if gray_or_rgb.shape[-1] == 1:
                gray_or_rgb = gray_or_rgb[..., 0]
        elif arr.ndim == 2:
            gray_or_rgb, alpha = arr, None
        else:
            raise ColorizationError(f"{source} has shape {arr.shape}; expected (H, W) or (H, W, C<=4), channels last.")
        self._check_pixels(arr.shape[1], arr.shape[0], source, limit)
        if arr.dtype.kind == "f":
            if not all_finite(arr):
                raise ColorizationError(f"{source} contains NaN or infinity; replace them before colorizing.")
        elif arr.dtype not in INT_SCALES:
            raise ColorizationError(f"{source} has dtype {arr.dtype}; use uint8, uint16, bool or float in [0, 1].")
        scale = INT_SCALES.get(arr.dtype, 1.0)  # floats are expected in [0, 1]; anything outside is clipped
        alpha = None if alpha is None else alpha_to_uint8(alpha)
        return LoadedImage(array_to_lightness(gray_or_rgb, scale), alpha)

    def preprocess(  # type: ignore[override]
        self, images: ImageLike | list[ImageLike], render_size: int | None = None, return_tensors: str | None = "pt",
        max_pixels: int | None = None, **kwargs: Any,
    ) -> BatchFeature:
        """Load images and return ``pixel_values`` (B, 1, render, render) normalised L.

        ``max_pixels`` overrides the processor's limit for this call. Also returns ``original_lightness`` (list of
        (1, H, W) L tensors) and ``alpha`` (list of uint8 arrays or None), which :meth:`post_process_colorization`
        needs to rebuild full-size images.
        """
        if kwargs:
            msg = f"Unknown preprocess arguments {sorted(kwargs)}; use render_size, max_pixels, return_tensors."
            raise ColorizationError(msg)
        if return_tensors not in ("pt", "np", None):
            raise ColorizationError(f"return_tensors must be 'pt' or 'np', got {return_tensors!r}.")
        size = _positive_int(self.render_size if render_size is None else render_size, "render_size", 32)
        items = list(images) if isinstance(images, (list, tuple)) else [images]
        if not items:
            raise ColorizationError("No images were given; pass an image or a non-empty list of images.")
        loaded = [self.load_image(item, max_pixels) for item in items]
        square = SizeDict(height=size, width=size)
        # (1, H, W) -> (1, size, size) each, antialiased; stacked -> (B, 1, size, size)
        resized = [self.resize(item.lightness, square, antialias=True) for item in loaded]
        pixel_values = normalize_l(torch.stack(resized)).clamp_(-1.0, 1.0)
        features = BatchFeature({"pixel_values": pixel_values}, tensor_type=return_tensors)
        features["original_lightness"] = [item.lightness for item in loaded]
        features["alpha"] = [item.alpha for item in loaded]
        return features

    def post_process_colorization(
        self, predicted_ab: torch.Tensor, original_lightness: list[torch.Tensor] | torch.Tensor,
        alpha: list[np.ndarray | None] | None = None, saturation: float = 1.0,
    ) -> list[Image.Image]:
        """Upsample predicted normalised ab to each original size, join with the original L, return PIL images.

        ab is clamped to [-AB_SCALE, AB_SCALE] after scaling by ``chroma_gain * saturation`` (0 gives gray,
        > 1 more vivid). Output mode is "RGB", or "RGBA" when that item has an alpha channel.
        Work is done on the CPU in one pass over the output (:func:`colorize_hub.gamut.merge_to_srgb8`), with no
        full-size temporaries, so a 50-megapixel image stays affordable.
        """
        if not isinstance(predicted_ab, torch.Tensor) or predicted_ab.ndim != 4 or predicted_ab.shape[1] != 2:
            shape = tuple(predicted_ab.shape) if isinstance(predicted_ab, torch.Tensor) else type(predicted_ab)
            raise ColorizationError(f"predicted_ab must be a (B, 2, h, w) tensor, got {shape}.")
        if isinstance(saturation, bool) or not isinstance(saturation, (int, float)) or not 0 <= saturation < math.inf:
            raise ColorizationError(f"saturation must be a finite number >= 0, got {saturation!r}.")
        batch = predicted_ab.shape[0]
        alpha = [None] * batch if alpha is None else list(alpha)
        if len(original_lightness) != batch or len(alpha) != batch:
            counts = f"{batch} predicted_ab items, {len(original_lightness)} original_lightness, {len(alpha)} alpha"
            raise ColorizationError(f"Got {counts}; pass the lists that preprocess returned for the same batch.")
        ab_all = predicted_ab.detach().to("cpu", torch.float32).contiguous()  # (B, 2, h, w), small
        sat = float(saturation) * self.chroma_gain
        # (B, 2, h, w) -> B items of (1, 2, h, w), each merged at its own full size
        return [self._merge(ab_all[i : i + 1], original_lightness[i], alpha[i], sat) for i in range(batch)]

    @staticmethod
    def _merge(ab: torch.Tensor, lightness: Any, alpha: np.ndarray | None, saturation: float) -> Image.Image:
        """Merge one (1, 2, h, w) normalised ab with its full-resolution (1, H, W) L into a PIL image."""
        lightness = torch.as_tensor(lightness).detach().to("cpu", torch.float32)  # (1, H, W)
        if lightness.ndim != 3 or lightness.shape[0] != 1:
            raise ColorizationError(f"original_lightness items must be (1, H, W), got {tuple(lightness.shape)}.")
        h, w = lightness.shape[-2:]
        alpha = None if alpha is None else np.asarray(alpha)
        if alpha is not None and alpha.shape != (h, w):
            raise ColorizationError(f"alpha has shape {alpha.shape} but the image is {(h, w)}; pass matching items.")
        out = np.empty((h, w, 3 if alpha is None else 4), dtype=np.uint8)
        if alpha is not None:
            out[..., 3] = alpha_to_uint8(alpha)
        merge_to_srgb8(lightness[0], ab[0], AB_SCALE * saturation, out)  # ab upsampled to (H, W) inside
        return Image.fromarray(out)

    def make_model_inputs(self, rgb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, 3, H, W) RGB in [0, 1] -> (pixel_values (B, 1, H, W), labels (B, 2, H, W)) for training."""
        return rgb_to_normalized_lab(rgb)

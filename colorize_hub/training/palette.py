"""The colour palette of the classification model: k-means centres of training-data chroma, and the
class-rebalancing weights that make rare, saturated colours count (Zhang et al., ECCV 2016)."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from scipy.cluster.vq import kmeans2, vq

from ..color import rgb_to_normalized_lab
from ..errors import ColorizationError
from ..image_decoding import image_files

@dataclass
class Palette:
    """centres: (Q, 2) normalised ab, by increasing chroma; frequencies: (Q,) share of training pixels;
    class_weights: (Q,) cross-entropy weights, with sum(frequencies * class_weights) == 1."""

    centres: np.ndarray
    frequencies: np.ndarray
    class_weights: np.ndarray

    def config_kwargs(self) -> dict:
        """`palette` and `class_weights` for `ColorizerUnet24Config`."""
        rounded = lambda array: np.round(np.asarray(array, dtype=np.float64), 4).tolist()  # noqa: E731
        return {"palette": rounded(self.centres), "class_weights": rounded(self.class_weights)}


def sample_ab(files: list[Path], pixels_per_image: int = 256, image_size: int = 64, seed: int = 0) -> np.ndarray:
    """(N, 2) normalised ab: `pixels_per_image` random pixels of each image, resized to `image_size`."""
    rng = np.random.default_rng(seed)
    samples = []
    for path in files:
        with Image.open(path) as image:
            rgb = np.asarray(image.convert("RGB").resize((image_size, image_size), Image.BILINEAR))
        # (S, S, 3) uint8 -> (1, 3, S, S) float -> ab (1, 2, S, S) -> (S * S, 2)
        _, ab = rgb_to_normalized_lab(torch.from_numpy(rgb.copy()).permute(2, 0, 1)[None].float() / 255)
        ab = ab[0].reshape(2, -1).T.numpy()
        samples.append(ab[rng.choice(len(ab), min(pixels_per_image, len(ab)), replace=False)])
    return np.concatenate(samples)


def rebalancing_weights(frequencies: np.ndarray, mix: float = 0.5) -> np.ndarray:
    """w ∝ 1 / ((1 - mix) p + mix / Q), normalised so that E_p[w] = 1 (Zhang et al. use mix = 0.5)."""
    weights = 1.0 / ((1 - mix) * frequencies + mix / len(frequencies))
    return weights / np.sum(frequencies * weights)


def compute_palette(
    folder: str | Path, num_colors: int = 24, pixels_per_image: int = 256, seed: int = 0, mix: float = 0.5,
    max_images: int | None = None,
) -> Palette:
    """k-means (k-means++ start, `seed`) over the ab of every image under `folder` (or of `max_images` of them,
    spread evenly over the sorted folder)."""
    files = image_files(folder)
    if max_images and max_images < len(files):
        files = [files[i * len(files) // max_images] for i in range(max_images)]
    ab = sample_ab(files, pixels_per_image, seed=seed)
    if len(ab) < num_colors:
        raise ColorizationError(f"{len(ab)} sampled pixels cannot make {num_colors} colours; add images.")
    centres, _ = kmeans2(ab.astype(np.float64), num_colors, seed=seed, minit="++", iter=50)
    centres = centres[np.argsort(np.hypot(centres[:, 0], centres[:, 1]))]
    labels, _ = vq(ab.astype(np.float64), centres)
    frequencies = np.bincount(labels, minlength=num_colors) / len(labels)
    return Palette(centres.astype(np.float32), frequencies, rebalancing_weights(frequencies, mix))

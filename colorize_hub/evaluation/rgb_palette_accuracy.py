"""Per-pixel accuracy against an RGB k-means palette: the measure the seed U-Net (24 colours, CIFAR-10 horses)
reports its validation accuracy in.

The palette is K k-means centres fitted in RGB to the pixels of the training photos. A pixel of an output counts
as right when the output's colour and the ground truth's colour have the same nearest centre. This is not the
same measure as the training-time class accuracy of a palette model (its predicted class against the ab palette
colour nearest to the true ab): the RGB centres include lightness, which the output shares with the truth, so a
gray image already scores well here.
"""

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..image_decoding import image_files

PALETTE_SIZE = 24  # the seed U-Net's number of colours
KMEANS_SEED = 0
KMEANS_ITERATIONS = 300  # Lloyd steps at most
KMEANS_TOLERANCE = 1e-4  # stop once no centre coordinate moves more (a fortieth of an 8-bit level)
KMEANS_RESTARTS = 10  # k-means++ starts; the lowest inertia wins (as scikit-learn's n_init=10)
CHUNK = 1 << 18  # pixels per distance computation, so (CHUNK, K) distances stay small


def photo_pixels(folder: str | Path) -> torch.Tensor:
    """Every pixel of every photo under `folder`, as RGB in [0, 1]: (N, 3) float32."""
    pixels = []
    for path in image_files(folder):
        with Image.open(path) as image:  # closed at once: thousands of training photos
            pixels.append(np.asarray(image.convert("RGB"), dtype=np.uint8).reshape(-1, 3))
    return torch.from_numpy(np.concatenate(pixels)).float() / 255


def nearest_centre(rgb: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
    """Index of the nearest centre (K, 3) for each colour of `rgb` (..., 3): (...,) int64."""
    flat = rgb.reshape(-1, 3).float()
    # (N, 3) vs (K, 3) -> (N, K) distances -> (N,), a chunk at a time
    labels = [torch.cdist(flat[start : start + CHUNK], centres.float()).argmin(dim=1)
              for start in range(0, flat.shape[0], CHUNK)]
    return torch.cat(labels).reshape(rgb.shape[:-1]) if labels else torch.zeros(rgb.shape[:-1], dtype=torch.long)


def kmeans_plus_plus(colours: torch.Tensor, weights: torch.Tensor, count: int,
                     generator: torch.Generator) -> torch.Tensor:
    """k-means++ seeding (Arthur & Vassilvitskii 2007) of distinct colours (M, 3) that stand for `weights` (M,)
    pixels each: each next centre is drawn with probability proportional to its pixels' squared distance from
    the nearest centre chosen so far. -> (count, 3)."""
    first = torch.multinomial(weights, 1, generator=generator)
    centres = colours[first]
    squared = ((colours - centres[0]) ** 2).sum(dim=1).double()
    for _ in range(count - 1):
        mass = weights * squared
        # fewer distinct colours than centres: repeat one, k-means keeps it
        index = torch.multinomial(mass, 1, generator=generator) if mass.sum() > 0 else first
        centres = torch.cat([centres, colours[index]])
        squared = torch.minimum(squared, ((colours - colours[index]) ** 2).sum(dim=1).double())
    return centres


def lloyd(colours: torch.Tensor, weights: torch.Tensor, centres: torch.Tensor,
          iterations: int) -> tuple[torch.Tensor, float]:
    """Weighted Lloyd steps from `centres` (K, 3) until no centre coordinate moves by KMEANS_TOLERANCE (so also
    once no colour changes centre): (centres, inertia), the inertia being the pixels' summed squared distance to
    their centres."""
    count = centres.shape[0]
    for _ in range(iterations):
        labels = nearest_centre(colours, centres)
        # each centre moves to the weighted mean of its colours (float64 sums, summed in a fixed order)
        sums = torch.zeros(count, 3, dtype=torch.float64).index_add_(0, labels, colours.double() * weights[:, None])
        sizes = torch.zeros(count, dtype=torch.float64).index_add_(0, labels, weights)
        occupied = sizes > 0  # a centre that lost all its pixels stays where it was
        moved = centres.double()
        moved[occupied] = sums[occupied] / sizes[occupied, None]
        shift, centres = (moved.float() - centres).abs().max().item(), moved.float()
        if shift < KMEANS_TOLERANCE:
            break
    labels = nearest_centre(colours, centres)
    inertia = (weights * ((colours - centres[labels]).double() ** 2).sum(dim=1)).sum().item()
    return centres, inertia


def fit_rgb_palette(pixels: torch.Tensor, count: int = PALETTE_SIZE, seed: int = KMEANS_SEED,
                    restarts: int = KMEANS_RESTARTS, iterations: int = KMEANS_ITERATIONS) -> torch.Tensor:
    """K k-means centres of RGB pixels (N, 3): (count, 3), sorted by brightness then red, green, blue.

    The pixels are collapsed to their distinct colours, each weighted by how many pixels have it (the same
    k-means, several times faster on photos). Of `restarts` k-means++ starts drawn from `seed`, the one with the
    lowest inertia wins, so the same pixels and seed always give the same centres in the same order.
    """
    # (N, 3) -> distinct colours (M, 3) and their pixel counts (M,)
    colours, counts = torch.unique(pixels.reshape(-1, 3).float(), dim=0, return_counts=True)
    weights = counts.double()
    generator = torch.Generator().manual_seed(seed)
    fits = [lloyd(colours, weights, kmeans_plus_plus(colours, weights, count, generator), iterations)
            for _ in range(restarts)]
    centres = min(fits, key=lambda fit: fit[1])[0]
    order = sorted(range(count), key=lambda i: (float(centres[i].sum()), *map(float, centres[i])))
    return centres[order]


def palette_accuracy(output: torch.Tensor, truth: torch.Tensor, centres: torch.Tensor) -> float:
    """Share of pixels whose output colour and true colour have the same nearest centre; (..., 3, H, W) RGB
    in [0, 1], output and truth of the same shape."""
    if output.shape != truth.shape:
        raise ValueError(f"output {tuple(output.shape)} and truth {tuple(truth.shape)} differ in shape")
    # (..., 3, H, W) -> (..., H, W, 3) -> nearest centre per pixel (..., H, W)
    same = nearest_centre(output.movedim(-3, -1), centres) == nearest_centre(truth.movedim(-3, -1), centres)
    return same.float().mean().item()

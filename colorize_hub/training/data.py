"""Training data: photos -> (normalised L, normalised ab) pairs, through the same colour code as inference.

Two kinds of source: a local folder of images (decoded on each access; small folders keep the decoded images in
memory) or a `datasets` data set (a Hub id, or "imagefolder" with a data_dir; `streaming=True` for ImageNet scale).
Several sources are mixed in fixed proportions by `WeightedMix` (`load_training_mix`).
"""

import bisect
import logging
import math
import random
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset
from torchvision.transforms import v2

from ..color import rgb_to_normalized_lab
from ..errors import ColorizationError
from ..image_decoding import image_files

logger = logging.getLogger(__name__)

# Folders with at most this many images keep them decoded in memory (all of ../shared/data/train does: 881 to 4,957
# photos). Without dataloader workers the cache reads 128 px MiniPlaces photos ~1.3x faster than decoding (see
# benchmarks/bench_data.py); a larger folder would not fit, and with workers each worker's cache dies with its epoch.
CACHE_MAX_IMAGES = 5000


def make_transform(image_size: int, train: bool):
    """Random resized crop + horizontal flip for training; resize shorter side + centre crop for evaluation."""
    if train:
        return v2.Compose([v2.RandomResizedCrop(image_size, scale=(0.3, 1.0), antialias=True), v2.RandomHorizontalFlip()])
    return v2.Compose([v2.Resize(image_size, antialias=True), v2.CenterCrop(image_size)])


def to_model_inputs(image: torch.Tensor) -> dict[str, torch.Tensor]:
    """(3, S, S) uint8 RGB -> {"pixel_values": (1, S, S) normalised L, "labels": (2, S, S) normalised ab}."""
    lightness, ab = rgb_to_normalized_lab(image[None].float() / 255)
    return {"pixel_values": lightness[0], "labels": ab[0]}


def pil_to_tensor(image: Image.Image) -> torch.Tensor:
    """PIL image (any mode) -> (3, H, W) uint8 RGB tensor."""
    return torch.from_numpy(np.array(image.convert("RGB"))).permute(2, 0, 1).contiguous()


def evenly_spread(count: int, total: int) -> list[int]:
    """`count` indices spread evenly over range(total), first one 0 (every k-th item): a sorted folder's subset then
    covers all its classes instead of the first ones alphabetically."""
    if count >= total:
        return list(range(total))
    return [i * total // count for i in range(count)]


class ColorizationImageFolder(Dataset):
    """Every image under `folder` (recursively), cropped and converted to model inputs on each access.

    Decoding is lazy: each access opens and decodes the file, so a 100,000-photo folder costs only its list of
    paths (plain strings, cheap to share with DataLoader worker processes, which then decode in parallel).
    `cache=True` keeps each decoded image (uint8) in memory after its first access instead; it only pays without
    dataloader workers (a worker's cache is its own and ends with the epoch) and on folders that fit in memory.
    The default (None) caches folders of at most CACHE_MAX_IMAGES images.
    `max_images` keeps an evenly spread subset of the sorted files (see `evenly_spread`).
    """

    def __init__(self, folder: str | Path, image_size: int = 128, train: bool = True, max_images: int | None = None,
                 cache: bool | None = None):
        files = image_files(folder)
        self.files = [str(files[i]) for i in evenly_spread(max_images or len(files), len(files))]
        self.transform = make_transform(image_size, train)
        if cache is None:
            cache = len(self.files) <= CACHE_MAX_IMAGES
        self.cache: dict[int, torch.Tensor] | None = {} if cache else None

    def __len__(self) -> int:
        return len(self.files)

    def image(self, index: int) -> torch.Tensor:
        """(3, H, W) uint8 RGB of file `index`, decoded now (or taken from the cache)."""
        if self.cache is not None and index in self.cache:
            return self.cache[index]
        with Image.open(self.files[index]) as image:
            pixels = pil_to_tensor(image)
        if self.cache is not None:
            self.cache[index] = pixels
        return pixels

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return to_model_inputs(self.transform(self.image(index)))


class WeightedMix(Dataset):
    """Several data sets in fixed proportions: a share `weights[s] / sum(weights)` of every epoch comes from `sources[s]`.

    An epoch is just long enough that every item of every source appears at least once (a source weighted above
    its share of the images repeats, each time with a fresh random crop). Index i maps to (source, item) by
    arithmetic alone: the first quotas[0] indices are source 0, its items in order and cycling, then source 1, and
    so on. Trainer's sampler shuffles the indices (seeded, per epoch), so the mix is random in order, exact in
    proportion and resumes exactly, and worker processes share nothing but a few integers.
    Without weights the mix is a plain concatenation (each item once per epoch).
    """

    def __init__(self, sources: list[Dataset], weights: list[float] | None = None, names: list[str] | None = None):
        self.sources, self.sizes = sources, [len(source) for source in sources]
        weights = self.sizes if weights is None else weights
        if len(weights) != len(sources) or min(weights) <= 0 or min(self.sizes) == 0:
            raise ColorizationError(f"{len(sources)} non-empty sources need as many positive weights, got {weights}")
        self.shares = [weight / sum(weights) for weight in weights]
        epoch = max(math.ceil(size / share - 1e-9) for size, share in zip(self.sizes, self.shares))
        # share * epoch >= size for every source, so each quota covers its source at least once
        self.quotas = [max(size, round(share * epoch)) for size, share in zip(self.sizes, self.shares)]
        self.starts = [sum(self.quotas[:s]) for s in range(len(sources))]
        for name, size, quota in zip(names or map(str, range(len(sources))), self.sizes, self.quotas):
            logger.info("mix: %s gives %d of %d items per epoch (%.1f%%, each of its %d items %.2fx)",
                        name, quota, len(self), 100 * quota / len(self), size, quota / size)

    def __len__(self) -> int:
        return sum(self.quotas)

    def locate(self, index: int) -> tuple[int, int]:
        """Index of the mix -> (source, item in that source)."""
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for a mix of {len(self)}")
        source = bisect.bisect_right(self.starts, index) - 1
        return source, (index - self.starts[source]) % self.sizes[source]

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        source, item = self.locate(index)
        return self.sources[source][item]


def hub_dataset(name: str, split: str, image_size: int, train: bool, streaming: bool = False, data_dir: str | None = None,
                max_images: int | None = None):
    """A `datasets` data set with an image column, mapped to model inputs on the fly. `max_images` keeps an evenly
    spread subset (streaming: the first `max_images`, the only ones a stream can take without reading it all)."""
    import datasets

    dataset = datasets.load_dataset(name, data_dir=data_dir, split=split, streaming=streaming)
    if max_images:
        dataset = dataset.take(max_images) if streaming else dataset.select(evenly_spread(max_images, len(dataset)))
    column = next((c for c in ("image", "img", "pixel_values") if c in dataset.column_names), None)
    if column is None:
        raise ColorizationError(f"{name} has no image column (looked for image, img); columns: {dataset.column_names}")
    transform = make_transform(image_size, train)

    def convert(batch):
        inputs = [to_model_inputs(transform(pil_to_tensor(image))) for image in batch[column]]
        return {key: [item[key] for item in inputs] for key in ("pixel_values", "labels")}

    if streaming:
        return dataset.map(convert, batched=True, batch_size=16, remove_columns=dataset.column_names).with_format("torch")
    dataset.set_transform(convert)
    return dataset


def load_training_data(source: str, image_size: int, train: bool, split: str = "train", streaming: bool = False,
                       max_images: int | None = None):
    """A local folder, else a `datasets` id (`imagefolder:DIR` loads a local folder through `datasets`)."""
    if source.startswith("imagefolder:"):
        return hub_dataset("imagefolder", split, image_size, train, streaming, data_dir=source.split(":", 1)[1],
                           max_images=max_images)
    if Path(source).is_dir():
        return ColorizationImageFolder(source, image_size, train, max_images)
    if Path(source).exists() or source.startswith((".", "/", "~")):
        raise ColorizationError(f"Training data {source!r} is not a folder of images.")
    logger.info("%s is not a local folder: loading it with datasets", source)
    return hub_dataset(source, split, image_size, train, streaming, max_images=max_images)


def load_training_mix(sources: list[str], weights: list[float] | None, image_size: int, train: bool,
                      split: str = "train", streaming: bool = False):
    """One source: exactly `load_training_data`. Several: a `WeightedMix` of them (map-style sources only)."""
    if weights is not None and len(weights) != len(sources):
        raise ColorizationError(f"{len(sources)} training sources but {len(weights)} weights: give one weight each.")
    if len(sources) == 1:
        return load_training_data(sources[0], image_size, train, split, streaming)
    if streaming:
        raise ColorizationError("Streamed sources cannot be mixed by weight (a stream has no length); "
                                "mix map-style sources, or one stream alone.")
    datasets = [load_training_data(source, image_size, train, split) for source in sources]
    return WeightedMix(datasets, weights, names=sources)


def seed_worker(worker_id: int) -> None:  # pragma: no cover - only with dataloader workers
    seed = torch.initial_seed() % 2**32
    np.random.seed(seed)
    random.seed(seed)

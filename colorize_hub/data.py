"""Training data: photos -> (normalised L, normalised ab) pairs, through the same colour code as inference.

Two sources: a local folder of images (decoded once and kept in memory, the fast path for small sets) or
a `datasets` data set (a Hub id, or "imagefolder" with a data_dir; `streaming=True` for ImageNet scale).
"""

import logging
import random
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset
from torchvision.transforms import v2

from .color import rgb_to_normalized_lab
from .errors import ColorizationError
from .palette import image_files

logger = logging.getLogger(__name__)


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


class ColorizationImageFolder(Dataset):
    """Every image under `folder`, decoded once (kept as uint8), cropped and converted on each access."""

    def __init__(self, folder: str | Path, image_size: int = 128, train: bool = True, max_images: int | None = None):
        self.files = image_files(folder)[:max_images]
        self.transform = make_transform(image_size, train)
        self.cache: dict[int, torch.Tensor] = {}

    def __len__(self) -> int:
        return len(self.files)

    def image(self, index: int) -> torch.Tensor:
        if index not in self.cache:
            with Image.open(self.files[index]) as image:
                self.cache[index] = pil_to_tensor(image)
        return self.cache[index]

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return to_model_inputs(self.transform(self.image(index)))


def hub_dataset(name: str, split: str, image_size: int, train: bool, streaming: bool = False, data_dir: str | None = None):
    """A `datasets` data set with an image column, mapped to model inputs on the fly."""
    import datasets

    dataset = datasets.load_dataset(name, data_dir=data_dir, split=split, streaming=streaming)
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
        return hub_dataset("imagefolder", split, image_size, train, streaming, data_dir=source.split(":", 1)[1])
    if Path(source).is_dir():
        return ColorizationImageFolder(source, image_size, train, max_images)
    if Path(source).exists() or source.startswith((".", "/", "~")):
        raise ColorizationError(f"Training data {source!r} is not a folder of images.")
    logger.info("%s is not a local folder: loading it with datasets", source)
    return hub_dataset(source, split, image_size, train, streaming)


def seed_worker(worker_id: int) -> None:  # pragma: no cover - only with dataloader workers
    seed = torch.initial_seed() % 2**32
    np.random.seed(seed)
    random.seed(seed)

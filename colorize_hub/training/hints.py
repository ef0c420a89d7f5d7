"""Random colour hints for training a model that takes them, drawn as in Zhang et al. (SIGGRAPH 2017).

Each training photo gets, with probability `free_share`, no hint at all (so the model keeps colorizing on its own),
otherwise a geometric number of hints (mean 1 / p): square patches of a random side at random places, each
revealing the MEAN true ab of its patch, the way a user's click reveals one colour for a small region.
"""

import torch
from torch.utils.data import Dataset


def draw_hints(labels: torch.Tensor, free_share: float = 0.5, p: float = 0.125, max_patch: int = 9,
               generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
    """(2, H, W) true normalised ab -> {"hint_ab": (2, H, W), "hint_mask": (1, H, W)} of random hints."""
    _, height, width = labels.shape
    hint_ab, hint_mask = torch.zeros_like(labels), labels.new_zeros(1, height, width)
    rand = lambda *shape: torch.rand(shape, generator=generator)  # noqa: E731
    if rand(1).item() < free_share:
        return {"hint_ab": hint_ab, "hint_mask": hint_mask}
    # 1 + Geometric(p) by inversion: P(count = k) = p (1 - p)^(k - 1)
    count = 1 + int(torch.log(rand(1).clamp_min(1e-12)).item() // torch.log(torch.tensor(1 - p)).item())
    for _ in range(count):
        side = int(torch.randint(1, max_patch + 1, (1,), generator=generator))
        top = int(torch.randint(0, max(1, height - side + 1), (1,), generator=generator))
        left = int(torch.randint(0, max(1, width - side + 1), (1,), generator=generator))
        patch = (slice(None), slice(top, top + side), slice(left, left + side))
        # the patch reveals one colour: the mean true ab over it
        hint_ab[patch] = labels[patch].mean(dim=(1, 2), keepdim=True)
        hint_mask[patch] = 1
    return {"hint_ab": hint_ab, "hint_mask": hint_mask}


class HintedDataset(Dataset):
    """A training data set whose items also carry random hints (`draw_hints`); evaluation data stays hint-free."""

    def __init__(self, dataset: Dataset, free_share: float = 0.5, p: float = 0.125, max_patch: int = 9):
        self.dataset, self.free_share, self.p, self.max_patch = dataset, free_share, p, max_patch

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        item = self.dataset[index]
        return {**item, **draw_hints(item["labels"], self.free_share, self.p, self.max_patch)}

"""FID and LPIPS: computed with torchmetrics where their network weights are on this machine, otherwise
reported as "n/a" with the reason (they cannot be downloaded offline, and a made-up number is worse)."""

from pathlib import Path

import torch

LPIPS_WEIGHTS = "alexnet-owt-7be5be79.pth"  # torchvision AlexNet, the LPIPS backbone
FID_WEIGHTS = "weights-inception-2015-12-05-6726825d.pth"  # torch-fidelity's Inception


def _cached(filename: str) -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints" / filename


def availability() -> dict[str, str | None]:
    """{"lpips": None or why not, "fid": None or why not}."""
    reasons: dict[str, str | None] = {"lpips": None, "fid": None}
    if not _cached(LPIPS_WEIGHTS).exists():
        reasons["lpips"] = f"AlexNet weights not found at {_cached(LPIPS_WEIGHTS)} (no network to fetch them)"
    try:
        import torch_fidelity  # noqa: F401
    except ImportError:
        reasons["fid"] = "torch-fidelity is not installed (pip install torch-fidelity, then its Inception weights)"
    else:
        if not _cached(FID_WEIGHTS).exists():
            reasons["fid"] = f"Inception weights not found at {_cached(FID_WEIGHTS)} (no network to fetch them)"
    return reasons


class PerceptualMetrics:
    """Accumulates LPIPS per image and FID per model over (1, 3, H, W) RGB in [0, 1]."""

    def __init__(self):
        self.reasons = availability()
        self.lpips = self.fid = None
        if self.reasons["lpips"] is None:
            from torchmetrics.image.lpip import LearnedPerceptualImagePatchSimilarity

            self.lpips = LearnedPerceptualImagePatchSimilarity(net_type="alex", normalize=True)
        self.fids: dict[str, object] = {}

    def lpips_of(self, output: torch.Tensor, truth: torch.Tensor) -> float | None:
        return None if self.lpips is None else float(self.lpips(output, truth))

    def add_to_fid(self, name: str, output: torch.Tensor, truth: torch.Tensor) -> None:
        if self.reasons["fid"] is not None:
            return
        if name not in self.fids:
            from torchmetrics.image.fid import FrechetInceptionDistance

            self.fids[name] = FrechetInceptionDistance(normalize=True)
        self.fids[name].update(truth, real=True)
        self.fids[name].update(output, real=False)

    def fid_of(self, name: str) -> float | None:
        fid = self.fids.get(name)
        return None if fid is None else float(fid.compute())

"""Steady colour in video: smoothing of the predicted chroma over time, scene-cut detection, and a flicker measure.

A colorizer sees each frame alone, so sensor noise, compression and small camera shake change its prediction
from frame to frame and the colours flicker. `ChromaSmoother` keeps an exponential moving average of the
predicted ab at the render size (cheap: 256x256, whatever the video's resolution), with two guards:
- where the lightness itself changed (something moved), the new prediction is trusted more, so moving objects
  do not drag the previous frame's colour behind them;
- at a scene cut (the L histogram or the mean |ΔL| jumps) the average restarts from the new frame, so the
  first frame of a new shot is never tinted by the previous one.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from ..color import rgb_to_lab

HISTOGRAM_BINS = 32


def lightness_histogram(lightness: torch.Tensor) -> torch.Tensor:
    """Normalised histogram (bins sum to 1) of normalised L in [-1, 1]; lightness is (1, 1, S, S)."""
    histogram = torch.histc(lightness.float(), bins=HISTOGRAM_BINS, min=-1.0, max=1.0)
    return histogram / histogram.sum().clamp_min(1.0)


class ChromaSmoother:
    """Exponential moving average of predicted ab (1, 2, S, S), reset on scene cuts; call once per frame in order.

    Args:
        strength: weight of the past in the average, in [0, 1). 0 turns smoothing off; 0.7 averages over
            about three frames, which removes most flicker without visible lag.
        histogram_cut: total-variation distance between consecutive L histograms (0 = same, 1 = disjoint)
            above which a frame starts a new scene.
        difference_cut: mean |ΔL| between consecutive frames, in normalised L units ([-1, 1], so 0.4 is 20 L),
            above which a frame starts a new scene (catches cuts between shots of similar tonality; camera
            shake and motion stay well below it).
        motion_floor, motion_range: a pixel whose local |ΔL| (3x3 mean, normalised units) is below
            `motion_floor` is averaged fully; above `motion_floor + motion_range` it takes the new prediction.
    """

    def __init__(self, strength: float = 0.7, histogram_cut: float = 0.25, difference_cut: float = 0.4,
                 motion_floor: float = 0.04, motion_range: float = 0.2) -> None:
        if not 0.0 <= strength < 1.0:
            raise ValueError(f"strength must be in [0, 1), got {strength}")
        self.strength, self.histogram_cut, self.difference_cut = strength, histogram_cut, difference_cut
        self.motion_floor, self.motion_range = motion_floor, motion_range
        self.cuts: list[int] = []  # indices of the frames that started a new scene (frame 0 excluded)
        self.reset()

    def reset(self) -> None:
        self._lightness = self._histogram = self._ab = None
        self._frame = -1

    def is_cut(self, lightness: torch.Tensor, histogram: torch.Tensor) -> bool:
        """True when `lightness` (1, 1, S, S) is not a continuation of the previous frame."""
        if self._lightness is None or self._lightness.shape != lightness.shape:
            return True
        distance = 0.5 * (histogram - self._histogram).abs().sum().item()
        difference = (lightness - self._lightness).abs().mean().item()
        return distance > self.histogram_cut or difference > self.difference_cut

    @torch.no_grad()
    def __call__(self, lightness: torch.Tensor, ab: torch.Tensor) -> torch.Tensor:
        """The smoothed ab for this frame; `lightness` is its normalised L at the render size (1, 1, S, S)."""
        self._frame += 1
        lightness, ab = lightness.float(), ab.float()
        histogram = lightness_histogram(lightness)
        if self.is_cut(lightness, histogram):
            if self._lightness is not None:
                self.cuts.append(self._frame)
            smoothed = ab
        else:
            # (1, 1, S, S) local mean |ΔL| -> per-pixel weight of the new prediction in [1 - strength, 1]
            motion = F.avg_pool2d((lightness - self._lightness).abs(), 3, stride=1, padding=1)
            moving = ((motion - self.motion_floor) / self.motion_range).clamp(0.0, 1.0)
            new_weight = (1.0 - self.strength) + self.strength * moving
            smoothed = new_weight * ab + (1.0 - new_weight) * self._ab
        self._lightness, self._histogram, self._ab = lightness, histogram, smoothed
        return smoothed


def flicker(frames: list, scene_starts: list[int] | tuple = ()) -> float:
    """Mean frame-to-frame |Δab| (CIE Lab units, Euclidean in the ab plane) between consecutive frames of the same
    scene: how much the colour changes where the picture does not. The pair that crosses a scene start is left out.

    Frames are either colour layers, (2, H, W) ab tensors in Lab units (what `colorize_frames(with_chroma=True)`
    yields: the colorizer's own flicker, which smoothing targets), or pictures, PIL images / (H, W, 3) uint8
    arrays (the output as seen: it also carries the source's grain, since each frame keeps its own lightness,
    and sRGB rounding, which no chroma smoothing can or should remove).
    """
    previous, total, pairs = None, 0.0, 0
    for index, frame in enumerate(frames):
        if isinstance(frame, torch.Tensor) and frame.ndim == 3 and frame.shape[0] == 2:
            ab = frame.float()
        else:
            rgb = np.asarray(frame.convert("RGB") if isinstance(frame, Image.Image) else frame)
            ab = rgb_to_lab(torch.from_numpy(rgb.copy()).permute(2, 0, 1)[None].float() / 255.0)[0, 1:]  # (2, H, W)
        if previous is not None and index not in scene_starts:
            total += (ab - previous).square().sum(0).sqrt().mean().item()
            pairs += 1
        previous = ab
    return total / max(pairs, 1)


def static_camera_clip(photos: list[np.ndarray], frames_per_scene: int = 8, noise: float = 4.0, jitter: int = 1,
                       seed: int = 0) -> tuple[list[np.ndarray], list[int]]:
    """A black-and-white clip in which nothing moves: each photo held for `frames_per_scene` frames with sensor
    noise (std in 8-bit levels) and camera shake of up to `jitter` pixels, then a hard cut to the next photo.
    Returns (frames as (H, W) uint8, indices of the first frame of each scene after the first). What the
    flicker measurement runs on: any colour change inside a scene is flicker."""
    rng = np.random.default_rng(seed)
    frames, starts = [], []
    for photo in photos:
        gray = np.asarray(Image.fromarray(photo).convert("L"), dtype=np.float32)
        if frames:
            starts.append(len(frames))
        for _ in range(frames_per_scene):
            dy, dx = rng.integers(-jitter, jitter + 1, size=2) if jitter else (0, 0)
            shaken = np.roll(gray, (int(dy), int(dx)), axis=(0, 1))
            frames.append(np.clip(shaken + rng.normal(0.0, noise, gray.shape), 0, 255).round().astype(np.uint8))
    return frames, starts

"""Chroma calibration: the checkpoint's `chroma_gain`, chosen on a dev set.

A colorizer trained with a loss that averages over plausible colours predicts too little chroma. The gain
chosen here brings the colourfulness of its output closest to that of the real photos, among the gains whose
PSNR is not below the gray image's: as vivid as real photos, never less faithful than no colour at all. It is
chosen on a dev set only, never on the sets the model is evaluated on.
"""

import numpy as np
import torch
from tqdm.auto import tqdm

from .evaluate import gray_image, load_protocol_image, to_tensor
from .loading import as_colorizer, predict_ab
from .metrics import colourfulness, psnr
from .palette import image_files

DEFAULT_GAINS = tuple(round(0.7 + 0.05 * i, 2) for i in range(19))  # 0.7 ... 1.6


def gain_table(model, data, protocol: str = "short-side-256", gains=DEFAULT_GAINS, max_images: int | None = None):
    """{gain: (mean PSNR, mean CF)}, the gray PSNR and the ground-truth CF; one forward pass per image."""
    model, processor = as_colorizer(model)
    scores = {gain: [] for gain in gains}
    gray, truth_cf = [], []
    for path in tqdm(image_files(data)[:max_images], desc="calibrate", unit="image"):
        image = load_protocol_image(path, protocol)
        truth = to_tensor(image)
        gray.append(psnr(to_tensor(gray_image(image)), truth).item())
        truth_cf.append(colourfulness(truth).item())
        inputs = processor(image)
        ab = predict_ab(model, inputs["pixel_values"])
        for gain in gains:
            output = processor.post_process_colorization(ab, inputs["original_lightness"], saturation=gain)[0]
            output = to_tensor(output)
            scores[gain].append((psnr(output, truth).item(), colourfulness(output).item()))
    table = {gain: tuple(np.mean(values, axis=0)) for gain, values in scores.items()}
    return table, float(np.mean(gray)), float(np.mean(truth_cf))


def choose_gain(table: dict[float, tuple[float, float]], gray_psnr: float, truth_cf: float) -> float:
    """The gain whose CF is closest to the truth's among those with PSNR >= gray; else the best-PSNR gain."""
    feasible = [gain for gain, (score, _) in table.items() if score >= gray_psnr]
    if not feasible:
        return max(table, key=lambda gain: table[gain][0])
    return min(feasible, key=lambda gain: abs(table[gain][1] - truth_cf))


@torch.inference_mode()
def calibrate_chroma_gain(model, data, protocol: str = "short-side-256", gains=DEFAULT_GAINS,
                          max_images: int | None = None) -> dict:
    """Returns {"chroma_gain", "table", "gray_psnr", "truth_colourfulness", "data", "protocol"}; gains are relative
    to the processor's current chroma_gain."""
    table, gray_psnr, truth_cf = gain_table(model, data, protocol, gains, max_images)
    return {"chroma_gain": choose_gain(table, gray_psnr, truth_cf), "table": table, "gray_psnr": gray_psnr,
            "truth_colourfulness": truth_cf, "data": str(data), "protocol": protocol}

"""Chroma calibration: the checkpoint's `chroma_gain` (and, for the 24-colour classifier, its annealed-mean
temperature), chosen on a dev set.

A colorizer trained with a loss that averages over plausible colours predicts too little chroma. The setting
chosen here brings the colourfulness of its output closest to that of the real photos, among the settings
whose PSNR stays within `psnr_tolerance` dB of the gray image's: as vivid as real photos, never less faithful
than no colour at all. The releases use a tolerance of 0 dB (PSNR at least the gray image's on the dev set),
the bar every shipped checkpoint is held to on the evaluation sets. It is chosen on a dev set only, never on
the sets the model is evaluated on.

The temperature of a classifier's annealed mean (Zhang et al. 2016 use 0.38) trades vividness for safety
per pixel: low temperatures pick the most likely colour, high ones average the candidates. Scaling the
result by a gain is a second, global knob; both are searched together.
"""

import numpy as np
import torch
from tqdm.auto import tqdm

from ..loading import as_colorizer
from ..pipeline import predict_ab
from ..models import classifies_colours
from .metrics import colourfulness, psnr
from .protocol import MEASURED_PRECISION, gray_image, load_protocol_image, to_tensor
from ..image_decoding import image_files

DEFAULT_GAINS = tuple(round(0.5 + 0.05 * i, 2) for i in range(23))  # 0.5 ... 1.6
DEFAULT_TEMPERATURES = (0.3, 0.38, 0.5, 0.7, 1.0)


def temperatures_of(model, temperatures=DEFAULT_TEMPERATURES) -> tuple:
    """The temperatures to try: `temperatures` for a model that decodes an annealed mean, else (None,)."""
    return tuple(temperatures) if classifies_colours(model) else (None,)


def gain_table(model, data, protocol: str = "short-side-256", gains=DEFAULT_GAINS, max_images: int | None = None,
               temperatures=DEFAULT_TEMPERATURES, precision: str = MEASURED_PRECISION, render_size: int | None = None):
    """{(temperature, gain): (mean PSNR, mean CF)}, the gray PSNR and the ground-truth CF (`gain_scores`, averaged
    over the photos)."""
    scores, gray, truth_cf = gain_scores(model, data, protocol, gains, max_images, temperatures, precision, render_size)
    table = {setting: tuple(values.mean(axis=0)) for setting, values in scores.items()}
    return table, float(gray.mean()), float(truth_cf.mean())


def gain_scores(model, data, protocol: str = "short-side-256", gains=DEFAULT_GAINS, max_images: int | None = None,
                temperatures=DEFAULT_TEMPERATURES, precision: str = MEASURED_PRECISION, render_size: int | None = None):
    """{(temperature, gain): (N, 2) array of each photo's (PSNR, CF)}, each photo's gray PSNR and ground-truth CF.

    temperature is None for models without one. One forward pass per image and temperature, in `precision`
    (fp32 by default, as `colorize-hub evaluate` measures, so the choice is the same on every CPU), at
    `render_size` (None: the checkpoint's own).
    """
    model, processor = as_colorizer(model)
    temperatures = temperatures_of(model, temperatures)
    original = getattr(model.config, "annealed_temperature", None)
    scores = {(t, gain): [] for t in temperatures for gain in gains}
    gray, truth_cf = [], []
    try:
        for path in tqdm(image_files(data)[:max_images], desc="calibrate", unit="image"):
            image = load_protocol_image(path, protocol)
            truth = to_tensor(image)
            gray.append(psnr(to_tensor(gray_image(image)), truth).item())
            truth_cf.append(colourfulness(truth).item())
            inputs = processor(image, render_size=render_size)
            for temperature in temperatures:
                if temperature is not None:
                    model.config.annealed_temperature = temperature
                ab = predict_ab(model, inputs["pixel_values"], precision)
                for gain in gains:
                    output = processor.post_process_colorization(ab, inputs["original_lightness"], saturation=gain)[0]
                    output = to_tensor(output)
                    scores[(temperature, gain)].append((psnr(output, truth).item(), colourfulness(output).item()))
    finally:
        if original is not None:
            model.config.annealed_temperature = original
    return {setting: np.array(values) for setting, values in scores.items()}, np.array(gray), np.array(truth_cf)


def choose_gain(table: dict, gray_psnr: float, truth_cf: float, psnr_tolerance: float = 0.0):
    """The key (gain, or (temperature, gain)) whose CF is closest to the truth's among those with
    PSNR >= gray - psnr_tolerance (a negative tolerance: a margin over gray); when none qualifies, the best-PSNR
    key."""
    feasible = [key for key, (score, _) in table.items() if score >= gray_psnr - psnr_tolerance]
    if not feasible:
        return max(table, key=lambda key: table[key][0])
    return min(feasible, key=lambda key: abs(table[key][1] - truth_cf))


@torch.inference_mode()
def calibrate_chroma_gain(model, data, protocol: str = "short-side-256", gains=DEFAULT_GAINS,
                          max_images: int | None = None, psnr_tolerance: float = 0.0,
                          temperatures=DEFAULT_TEMPERATURES, precision: str = MEASURED_PRECISION) -> dict:
    """Returns {"chroma_gain", "annealed_temperature" (None for models without one), "table" (gain -> (PSNR, CF)
    at the chosen temperature), "tables" (every temperature), "gray_psnr", "truth_colourfulness",
    "psnr_tolerance", "data", "protocol"}; gains are relative to the processor's current chroma_gain."""
    table, gray_psnr, truth_cf = gain_table(model, data, protocol, gains, max_images, temperatures, precision)
    temperature, gain = choose_gain(table, gray_psnr, truth_cf, psnr_tolerance)
    tables = {str(t): {g: table[(t, g)] for g in gains} for t in dict.fromkeys(t for t, _ in table)}
    return {"chroma_gain": gain, "annealed_temperature": temperature, "table": tables[str(temperature)],
            "tables": tables, "gray_psnr": gray_psnr, "truth_colourfulness": truth_cf,
            "psnr_tolerance": psnr_tolerance, "data": str(data), "protocol": protocol, "precision": precision}


def psnr_at_colourfulness(table: dict, temperature, target_cf: float) -> float | None:
    """PSNR of a gain_table at `temperature`, interpolated (linearly in CF) where its colourfulness reaches
    `target_cf`; None when the gains searched do not reach it. Compares two checkpoints at equal colour."""
    points = sorted(table[key][::-1] for key in table if key[0] == temperature)  # (CF, PSNR), CF rising
    cfs, psnrs = zip(*points)
    return float(np.interp(target_cf, cfs, psnrs)) if cfs[0] <= target_cf <= cfs[-1] else None


def paired_difference(candidate: dict, temperature, reference_psnr: np.ndarray, target_cf: float) -> dict | None:
    """Candidate minus reference PSNR photo by photo, the candidate at the gain where its mean CF reaches
    `target_cf` (each photo's PSNR linear between the gains searched); None when the gains do not reach it.

    `candidate`: `gain_scores` of the candidate; `reference_psnr`: each photo's PSNR for the reference, the same
    photos in the same order. Returns {"gain", "mean", "standard_error", "wins", "photos"}: a mean within two
    standard errors of 0 is a difference the set does not resolve.
    """
    gains = sorted(g for t, g in candidate if t == temperature)
    mean_cf = [candidate[(temperature, g)][:, 1].mean() for g in gains]
    if not min(mean_cf) <= target_cf <= max(mean_cf):
        return None
    gain = float(np.interp(target_cf, mean_cf, gains))  # CF rises with the gain
    psnr_by_gain = np.stack([candidate[(temperature, g)][:, 0] for g in gains], axis=1)  # (photos, gains)
    at_gain = np.array([np.interp(gain, gains, row) for row in psnr_by_gain])
    difference = at_gain - np.asarray(reference_psnr)
    error = float(difference.std(ddof=1) / np.sqrt(len(difference))) if len(difference) > 1 else float("nan")
    return {"gain": gain, "mean": float(difference.mean()), "standard_error": error,
            "wins": int((difference > 0).sum()), "photos": len(difference)}


def equal_colour_settings(tables: dict, reference: str, target_cf: float) -> list[dict]:
    """Compare temperatures at equal colour: for each temperature, the gain at which the `reference` set's CF
    reaches `target_cf` (linear between the gains searched), and every set's (PSNR - gray, CF) at that gain.

    `tables`: {set name: (gain_table's table, gray PSNR)}. A temperature whose gains never reach `target_cf` on
    the reference set is left out. Returns [{"temperature", "gain", "scores": {set name: (PSNR - gray, CF)}}].
    """
    reference_table = tables[reference][0]
    rows = []
    for temperature in dict.fromkeys(t for t, _ in reference_table):
        gains = sorted(g for t, g in reference_table if t == temperature)
        reference_cf = [reference_table[(temperature, g)][1] for g in gains]
        if not min(reference_cf) <= target_cf <= max(reference_cf):
            continue
        gain = float(np.interp(target_cf, reference_cf, gains))  # CF rises with the gain
        scores = {}
        for name, (table, gray_psnr) in tables.items():
            psnr_at, cf_at = zip(*(table[(temperature, g)] for g in gains))
            scores[name] = (float(np.interp(gain, gains, psnr_at)) - gray_psnr, float(np.interp(gain, gains, cf_at)))
        rows.append({"temperature": temperature, "gain": gain, "scores": scores})
    return rows

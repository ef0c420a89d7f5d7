"""PSNR against the number of colour hints (Zhang et al. 2017, Figure 4): how much a few true colours help.

For every photo (sized by the evaluation protocol), a fixed random sequence of points is drawn once (seeded by the
photo's position in the sorted folder); the run with N hints uses its first N points, so the curves are nested.
Each hint's colour is the ground truth's mean RGB over the square the hint marks (what a user who knew the true
colour would pick there). Reported per hint count: mean PSNR, PSNR minus the gray image's, colourfulness, and
how closely the output follows the hints: the median distance in ab (CIE units) between the output at each hinted
point and the hint's own ab.
"""

import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from ..color import rgb_to_lab
from ..hints import hex_colour, hint_patch
from ..image_decoding import image_files
from ..loading import as_colorizer
from ..pipeline import colorize
from .metrics import colourfulness, psnr
from .protocol import MEASURED_PRECISION, gray_image, load_protocol_image, to_tensor

HINT_COUNTS = (0, 1, 2, 5, 10, 20, 50)


def truth_hints(truth: Image.Image, count: int, seed: int, render_size: int) -> list[tuple[int, int, str]]:
    """`count` hints at seeded random points of `truth`, each the truth's mean colour over the hint's square."""
    rng = np.random.default_rng(seed)
    pixels = np.asarray(truth.convert("RGB"), dtype=np.float64)
    height, width = pixels.shape[:2]
    # the photo-pixel extent of the square a hint marks at the render size
    half_x = max(0, round(hint_patch(render_size) * width / render_size / 2))
    half_y = max(0, round(hint_patch(render_size) * height / render_size / 2))
    hints = []
    for x, y in zip(rng.integers(0, width, count), rng.integers(0, height, count)):
        window = pixels[max(0, y - half_y) : y + half_y + 1, max(0, x - half_x) : x + half_x + 1]
        hints.append((int(x), int(y), hex_colour(window.reshape(-1, 3).mean(0))))
    return hints


def ab_errors(output: Image.Image, hints: list) -> list[float]:
    """Distance in ab between the output at each hinted point and the hint colour's own ab."""
    if not hints:
        return []
    rgb = torch.from_numpy(np.asarray(output.convert("RGB"), dtype=np.float32) / 255).permute(2, 0, 1)[None]
    lab = rgb_to_lab(rgb)[0]  # (3, H, W)
    colours = torch.tensor([[int(c[i : i + 2], 16) for i in (1, 3, 5)] for _, _, c in hints]).float() / 255
    hint_ab = rgb_to_lab(colours.T[None, :, :, None])[0, 1:, :, 0].T  # (N, 2)
    points = lab[1:, [y for _, y, _ in hints], [x for x, _, _ in hints]].T  # (N, 2)
    return (points - hint_ab).norm(dim=1).tolist()


def hint_sweep(model, data, counts=HINT_COUNTS, protocol: str = "short-side-256", max_images: int | None = None,
               twin=None) -> dict:
    """{count: {psnr, psnr_minus_gray, colourfulness, colourfulness_truth, hint_ab_error_median, images}}; with
    `twin` (a hint-free model) also {"twin": the same metrics without hints}."""
    _, processor = as_colorizer(model)  # the checkpoint's render size; colorize() finds it cached by name
    files = image_files(data)[:max_images]
    rows = {count: [] for count in counts}
    twin_rows = []
    for index, path in enumerate(tqdm(files, desc=f"hint sweep {data}", unit="image")):
        truth_image = load_protocol_image(path, protocol)
        truth = to_tensor(truth_image)
        gray_psnr = psnr(to_tensor(gray_image(truth_image)), truth).item()
        points = truth_hints(truth_image, max(counts), index, processor.render_size)
        for count in counts:
            output = colorize(truth_image, model=model, hints=points[:count], precision=MEASURED_PRECISION)
            rows[count].append({**scores(output, truth, gray_psnr), "errors": ab_errors(output, points[:count])})
        if twin is not None:
            twin_output = colorize(truth_image, model=twin, precision=MEASURED_PRECISION)
            twin_rows.append({**scores(twin_output, truth, gray_psnr), "errors": []})
    results = {count: summary(rows[count]) for count in counts}
    if twin is not None:
        results["twin"] = summary(twin_rows)
    return results


def scores(output: Image.Image, truth: torch.Tensor, gray_psnr: float) -> dict:
    tensor = to_tensor(output)
    value = psnr(tensor, truth).item()
    return {"psnr": value, "psnr_minus_gray": value - gray_psnr, "colourfulness": colourfulness(tensor).item(),
            "colourfulness_truth": colourfulness(truth).item()}


def summary(rows: list[dict]) -> dict:
    errors = [error for row in rows for error in row["errors"]]
    means = {key: round(float(np.mean([row[key] for row in rows])), 3)
             for key in ("psnr", "psnr_minus_gray", "colourfulness", "colourfulness_truth")}
    return {**means, "hint_ab_error_median": round(float(np.median(errors)), 2) if errors else None,
            "images": len(rows)}

"""What `colorize-hub evaluate` writes: a markdown table, the worst photos, a per-photo CSV, a comparison grid
and a bar chart."""

import csv
from pathlib import Path

from PIL import Image, ImageDraw

GRID_HEIGHT = 160


def display_name(name: str) -> str:
    """A checkpoint's folder name; a Trainer checkpoint folder keeps its run's name (run/checkpoint-500)."""
    path = Path(name)
    return f"{path.parent.name}/{path.name}" if path.name.startswith("checkpoint-") else path.name


def markdown_table(results: dict[str, dict], gray: str = "gray") -> str:
    gray_psnr = results[gray]["psnr"]
    has_top1 = "top1" in results[gray]
    header = "| model | PSNR | PSNR − gray | SSIM | ΔE2000 | CF | ΔCF |" + (" top-1 |" if has_top1 else "")
    lines = [header, "|" + "---|" * (header.count("|") - 1)]
    for name, m in results.items():
        row = (f"| {display_name(name)} | {m['psnr']:.2f} | {m['psnr'] - gray_psnr:+.2f} | {m['ssim']:.4f} | "
               f"{m['delta_e']:.2f} | {m['colourfulness']:.1f} | {m['delta_colourfulness']:.1f} |")
        lines.append(row + (f" {100 * m['top1']:.1f}% |" if has_top1 else ""))
    first = results[gray]
    notes = f"\n\nGround truth: CF {first['colourfulness_truth']:.1f}"
    if has_top1:
        notes += f", classifier top-1 {100 * first['top1_truth']:.1f}%"
    return "\n".join(lines) + notes + f"; {first['images']} images.\n"


def write_per_image_csv(rows: list[dict], path: Path) -> None:
    """One line per photo and model; columns are the union of the rows' keys (top-1 only where scored)."""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    with path.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def worst_photos(rows: list[dict], count: int, gray: str = "gray") -> str:
    """Markdown: for each model, the `count` photos where its PSNR falls furthest below the gray image's."""
    lines = []
    for model in dict.fromkeys(row["model"] for row in rows if row["model"] != gray):
        worst = sorted((row for row in rows if row["model"] == model), key=lambda row: row["psnr_minus_gray"])
        cells = ", ".join(f"{row['image']} {row['psnr_minus_gray']:+.2f} dB (CF {row['colourfulness']:.1f}, "
                          f"truth {row['colourfulness_truth']:.1f})" for row in worst[:count])
        lines.append(f"- {display_name(model)}: {cells}\n")
    return f"Photos furthest below gray (PSNR − gray):\n\n{''.join(lines)}" if lines else ""


def comparison_grid(rows: list[list[Image.Image]], labels: list[str], path: Path) -> Path:
    """One row per image: gray | each model | ground truth, scaled to a common height, labelled on top."""
    scaled = [[im.convert("RGB").resize((max(1, round(im.width * GRID_HEIGHT / im.height)), GRID_HEIGHT))
               for im in row] for row in rows]
    widths = [max(row[i].width for row in scaled) for i in range(len(labels))]
    label_height = 18
    grid = Image.new("RGB", (sum(widths) + 4 * len(widths), label_height + len(scaled) * (GRID_HEIGHT + 4)), "white")
    draw = ImageDraw.Draw(grid)
    x = 0
    for column, (label, width) in enumerate(zip(labels, widths)):
        draw.text((x + 2, 2), label[:28], fill="black")
        for r, row in enumerate(scaled):
            grid.paste(row[column], (x, label_height + r * (GRID_HEIGHT + 4)))
        x += width + 4
    grid.save(path)
    return path


def bar_chart(results: dict[str, dict], path: Path, gray: str = "gray") -> Path:
    """PSNR above the gray baseline and colourfulness (with the ground truth's as a line), per model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [display_name(n) for n in results if n != gray]
    models = [m for n, m in results.items() if n != gray]
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8), dpi=100)
    left.bar(names, [m["psnr"] - results[gray]["psnr"] for m in models], color="tab:blue")
    left.axhline(0, color="black", linewidth=0.8)
    left.set_title("PSNR − gray (dB)")
    right.bar(names, [m["colourfulness"] for m in models], color="tab:orange")
    right.axhline(results[gray]["colourfulness_truth"], color="black", linestyle="--", label="ground truth")
    right.set_title("colourfulness")
    right.legend()
    for axis in (left, right):
        axis.tick_params(axis="x", labelrotation=30)
        for tick in axis.get_xticklabels():
            tick.set_horizontalalignment("right")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path

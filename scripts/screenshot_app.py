"""Screenshot of the demo for README: launch app.py on the bundled checkpoints, colorize an example, save a PNG.

Drives a real Chromium (Debian's `chromium` package: `apt-get install chromium`) with Playwright
(`pip install playwright`; no `playwright install` needed). tests/test_browser.py uses the same helpers.

    python scripts/screenshot_app.py [--image examples/astronaut.jpg] [--model LABEL] [--out docs/screenshot.jpg]
                                     [--checkpoints DIR]   # default: checkpoints/ (or $COLORIZE_HUB_CHECKPOINTS)
    python scripts/screenshot_app.py --compare --out docs/screenshot_compare.jpg   # Compare all models
    python scripts/screenshot_app.py --hints 0.3,0.6,#2050e0 --out docs/screenshot_hints.jpg   # colour points
"""

import argparse
import shutil
import socket
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 1000}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def launch_chromium(playwright):
    """Debian's Chromium: Playwright's own browser download needs a network this project may not have."""
    executable = shutil.which("chromium")
    if executable is None:
        raise RuntimeError("chromium is not installed; run `apt-get install -y chromium`.")
    return playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)


def colorize_in_browser(page, url: str, image: Path, model: str | None = None, timeout_ms: int = 120_000):
    """Open the app, upload `image`, optionally pick `model` by its label, click Colorize; wait for the slider.

    Returns the download button locator (it appears once the full-resolution PNG is ready).
    """
    page.goto(url)
    page.locator("#photo input[type=file]").set_input_files(str(image))
    page.locator("#photo img").first.wait_for(state="visible", timeout=timeout_ms)
    if model:
        page.locator("#model input").click()
        page.get_by_role("option", name=model).first.click()
    page.get_by_role("button", name="Colorize", exact=True).click()
    page.locator("#result img").nth(1).wait_for(state="visible", timeout=timeout_ms)
    download = page.locator("#download")
    download.wait_for(state="visible", timeout=timeout_ms)
    return download


def compare_all_in_browser(page, url: str, image: Path, count: int, timeout_ms: int = 300_000) -> None:
    """Open the app, upload `image`, choose Compare all models, run it; wait for all `count` results."""
    page.goto(url)
    page.locator("#photo input[type=file]").set_input_files(str(image))
    page.locator("#photo img").first.wait_for(state="visible", timeout=timeout_ms)
    page.locator("#model input").click()
    page.get_by_role("option", name="Compare all models").click()
    page.get_by_role("button", name="Colorize with every model").click()
    page.locator("#gallery img").nth(count - 1).wait_for(state="visible", timeout=timeout_ms)
    page.wait_for_timeout(500)  # the last thumbnails finish loading


def place_hints_in_browser(page, url: str, image: Path, spots, colours, timeout_ms: int = 120_000) -> list:
    """Open the app, upload `image`, open the colour hints panel and, for each spot (fractions of the width and
    height) and colour ("#rrggbb"), click the photo there and set that colour with the picker. Returns the points
    as the panel lists them: [(x, y) in photo pixels]."""
    page.goto(url)
    page.locator("#photo input[type=file]").set_input_files(str(image))
    page.locator("#photo img").first.wait_for(state="visible", timeout=timeout_ms)
    page.locator("#hints-panel").get_by_text("Your colours").first.click()
    canvas = page.locator("#hint-canvas img").first
    canvas.wait_for(state="visible", timeout=timeout_ms)
    for number, ((fx, fy), colour) in enumerate(zip(spots, colours), start=1):
        box = canvas.bounding_box()
        canvas.click(position={"x": fx * box["width"], "y": fy * box["height"]})
        page.wait_for_function(f"() => document.querySelectorAll('#hint-table .virtual-row').length === {number}",
                               timeout=timeout_ms)
        page.locator("#hint-colour button.dialog-button").click()
        field = page.locator("#hint-colour input[type=text]")
        field.fill(colour)
        field.press("Enter")
        page.wait_for_function("([n, c]) => { const r = document.querySelectorAll('#hint-table .virtual-row')[n];"
                               " return r && r.innerText.includes(c); }", arg=[number - 1, colour], timeout=timeout_ms)
        page.locator("#hint-colour button.dialog-button").click()  # close the picker
    rows = page.locator("#hint-table .virtual-row")
    cells = [rows.nth(i).locator("[role=gridcell]").all_inner_texts() for i in range(rows.count())]
    return [(int(row[1].strip()), int(row[2].strip())) for row in cells]


def colorize_with_hints_in_browser(page, timeout_ms: int = 120_000):
    """Click "Colorize with my colours"; wait for the slider's result. Returns the result image's locator."""
    page.get_by_role("button", name="Colorize with my colours").click()
    after = page.locator("#result img").nth(1)
    after.wait_for(state="visible", timeout=timeout_ms)
    page.locator("#download").wait_for(state="visible", timeout=timeout_ms)
    return after


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--image", type=Path, default=ROOT / "examples" / "astronaut.jpg")
    parser.add_argument("--model", help="start of a dropdown label, e.g. 'Fusion'; default: the first model")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshot.jpg")
    parser.add_argument("--checkpoints", type=Path, help="folder of checkpoint folders instead of checkpoints/")
    parser.add_argument("--compare", action="store_true", help="Compare all models instead of one model's slider")
    parser.add_argument("--hints", nargs="*", metavar="FX,FY,#RRGGBB",
                        help="place colour points (fractions of width and height, and a colour) in the hints panel "
                             "and colorize with them, e.g. --hints 0.3,0.6,#2050e0 0.7,0.4,#e04010")
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    import app
    from playwright.sync_api import sync_playwright

    from colorize_hub import bundled_checkpoints

    checkpoints = bundled_checkpoints(args.checkpoints) if args.checkpoints else app.default_checkpoints()
    demo = app.build_demo(checkpoints)
    _, url, _ = app.launch(demo, prevent_thread_lock=True, server_name="127.0.0.1", server_port=free_port(),
                           quiet=True)
    try:
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            page = browser.new_page(viewport=VIEWPORT)
            if args.compare:
                compare_all_in_browser(page, url, args.image, len(checkpoints))
            elif args.hints is not None:
                fields = [hint.split(",") for hint in args.hints]
                spots, colours = [(float(fx), float(fy)) for fx, fy, _ in fields], [c for _, _, c in fields]
                place_hints_in_browser(page, url, args.image, spots, colours)
                colorize_with_hints_in_browser(page)
            else:
                colorize_in_browser(page, url, args.image, args.model)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            jpeg = {"quality": 85} if args.out.suffix.lower() in (".jpg", ".jpeg") else {}  # a quarter of the PNG
            page.screenshot(path=str(args.out), full_page=True, **jpeg)
            browser.close()
    finally:
        demo.close()


if __name__ == "__main__":
    main()

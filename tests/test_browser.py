"""The demo in a real browser: upload, click Colorize, see the slider, download the full-resolution PNG.

Drives Debian's Chromium through Playwright. Without chromium the test is skipped locally; in CI
(CI=true, where .ci/run installs chromium) it must run, so a missing browser fails instead.
"""

import importlib.util
import math
import os
import shutil
from pathlib import Path

import pytest
from PIL import Image

from colorize_hub import DEFAULT_MODEL
from colorize_hub.catalog import known_checkpoints
from test_app import launch_app, write_tiny_checkpoints

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def load_screenshot_helpers():
    """scripts/screenshot_app.py holds the browser steps, shared with the README screenshot."""
    spec = importlib.util.spec_from_file_location("screenshot_app", ROOT / "scripts" / "screenshot_app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def browser():
    if shutil.which("chromium") is None or importlib.util.find_spec("playwright") is None:
        if IN_CI:
            pytest.fail("CI=true but chromium or playwright is missing: .ci/run should have installed them.")
        pytest.skip("Needs Debian's chromium (apt-get install chromium) and playwright; CI runs it.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = load_screenshot_helpers().launch_chromium(playwright)
        yield instance
        instance.close()


def test_upload_colorize_slider_download_and_compare_all(browser, tmp_path):
    checkpoints = write_tiny_checkpoints(tmp_path / "checkpoints", ["colorizer-baseline", "colorizer-cunet",
                                                                    DEFAULT_MODEL])
    photo = ROOT / "examples" / "coffee.jpg"
    demo, url = launch_app(checkpoints)
    helpers = load_screenshot_helpers()
    try:
        page = browser.new_page(viewport=helpers.VIEWPORT)
        page.goto(url)
        # before any result: the default model is chosen, and the result pane says what will appear (no upload box)
        assert page.locator("#model input").input_value().startswith(known_checkpoints()[DEFAULT_MODEL][0])
        assert page.locator("#waiting").is_visible() and "will appear here" in page.locator("#waiting").inner_text()
        assert not page.locator("#result").is_visible()
        assert page.get_by_text("Click to Upload").count() == 1  # the photo's own upload box only

        download_button = helpers.colorize_in_browser(page, url, photo, model="Dilated U-Net", timeout_ms=30_000)
        after = page.locator("#result img").nth(1)
        assert "/gradio_api/file=" in after.get_attribute("src")
        assert "colorizer-cunet" in download_button.inner_text()

        with page.expect_download() as pending:
            download_button.click()
        saved = tmp_path / pending.value.suggested_filename
        pending.value.save_as(saved)
        with Image.open(saved) as result, Image.open(photo) as original:
            assert result.format == "PNG" and result.size == original.size and result.mode == "RGB"

        screenshot = Path(os.environ.get("COLORIZE_HUB_SCREENSHOT") or tmp_path / "screenshot.png")
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(screenshot), full_page=True)  # the slider result, for people to look at
        assert screenshot.stat().st_size > 10_000

        portrait = tmp_path / "portrait.png"  # a tall photo fills the pane's height, not a 300-px strip
        Image.open(photo).convert("L").crop((100, 0, 280, 341)).save(portrait)
        shown_before = page.locator("#result img").nth(1).get_attribute("src")
        helpers.colorize_in_browser(page, url, portrait, timeout_ms=30_000)
        page.wait_for_function("([old]) => { const img = document.querySelectorAll('#result img')[1]; "
                               "return img && img.src !== old && img.complete && img.naturalHeight > 0; }",
                               arg=[shown_before], timeout=30_000)
        pane, shown = page.locator("#result").bounding_box(), page.locator("#result img").nth(1).bounding_box()
        assert shown["height"] >= 0.6 * pane["height"], (shown, pane)

        # an error is one message: the pane keeps its result, with no red "Error" badge over it
        page.locator("#photo button[aria-label='Remove Image']").click()
        page.get_by_role("button", name="Colorize", exact=True).click()
        page.get_by_text("Upload a black-and-white photo first").first.wait_for(state="visible", timeout=10_000)
        assert page.locator("#result img").nth(1).is_visible()
        assert not page.locator("#result [data-testid=status-tracker]").is_visible()
        page.locator("#photo input[type=file]").set_input_files(str(photo))
        page.locator("#photo img").first.wait_for(state="visible", timeout=30_000)

        page.locator("#model input").click()  # Compare all: its own button, a gallery with every model
        page.get_by_role("option", name="Compare all models").click()
        assert "will appear here" in page.locator("#waiting").inner_text()
        page.get_by_role("button", name="Colorize with every model").click()
        page.locator("#gallery img").nth(len(checkpoints) - 1).wait_for(state="visible", timeout=30_000)
        assert not page.locator("#download").is_visible() and not page.locator("#waiting").is_visible()
        # every model at once, each caption whole and in view, nothing to scroll inside the gallery
        captions = page.locator("#gallery .caption-label")
        assert captions.count() == len(checkpoints)
        for index in range(len(checkpoints)):
            caption = captions.nth(index)
            assert caption.is_visible() and caption.evaluate("e => e.scrollWidth <= e.clientWidth")
        grid = page.locator("#gallery .grid-wrap")
        assert grid.evaluate("e => e.scrollHeight <= e.clientHeight + 1")

        page.close()
    finally:
        demo.close()


HINT_MODEL = ROOT / "checkpoints" / "colorizer-encoder-unet-hints"


def lab_hue(rgb) -> float:
    """CIE Lab hue angle (degrees) of an sRGB colour or the mean ab of an (H, W, 3) uint8 patch."""
    import numpy as np
    import torch

    from colorize_hub.color import rgb_to_lab

    pixels = torch.tensor(np.asarray(rgb, dtype=np.float32).reshape(-1, 3, 1, 1) / 255)
    a, b = rgb_to_lab(pixels)[:, 1:].mean(dim=0).view(2).tolist()
    return math.degrees(math.atan2(b, a)) % 360


def mid_gray_points(photo: Path, count: int) -> list[tuple[float, float]]:
    """Spots (as fractions of width and height) where the photo is neither near black nor near white, so that a
    colour there can show its hue."""
    with Image.open(photo) as image:
        gray = image.convert("L")
        candidates = [(fx / 10, fy / 10) for fy in range(2, 9, 2) for fx in range(1, 10, 2)]
        found = [(fx, fy) for fx, fy in candidates
                 if 70 <= gray.getpixel((int(fx * gray.width), int(fy * gray.height))) <= 180]
    return found[:count]


@pytest.mark.skipif(not HINT_MODEL.is_dir(), reason="needs the bundled colour-hint checkpoint")
def test_colour_points_are_placed_recoloured_and_followed(browser, tmp_path):
    """Place two points by clicking the photo, give each a colour with the picker, colorize: at each point the
    result has the chosen hue."""
    photo = ROOT / "examples" / "coffee.jpg"
    demo, url = launch_app({HINT_MODEL.name: HINT_MODEL})
    helpers = load_screenshot_helpers()
    chosen = ["#2050e0", "#e04010"]  # blue, red-orange
    try:
        page = browser.new_page(viewport=helpers.VIEWPORT)
        spots = mid_gray_points(photo, 2)
        assert len(spots) == 2
        points = helpers.place_hints_in_browser(page, url, photo, spots, chosen, timeout_ms=60_000)
        assert len(points) == 2
        assert page.locator("#hint-suggestions input[type=radio]").count() >= 1  # likely colours offered
        # a third point: placed (a likely colour preset), moved with the next click, then removed
        rows = page.locator("#hint-table .virtual-row")
        canvas = page.locator("#hint-canvas img").first
        box = canvas.bounding_box()
        canvas.click(position={"x": 0.5 * box["width"], "y": 0.1 * box["height"]})
        page.wait_for_function("() => document.querySelectorAll('#hint-table .virtual-row').length === 3")
        placed = rows.nth(2).inner_text()
        page.locator("#hint-move input").check()
        canvas.click(position={"x": 0.5 * box["width"], "y": 0.9 * box["height"]})
        page.wait_for_function("([old]) => { const r = document.querySelectorAll('#hint-table .virtual-row')[2];"
                               " return r && r.innerText !== old; }", arg=[placed])
        assert rows.count() == 3 and not page.locator("#hint-move input").is_checked()
        page.get_by_role("button", name="Remove selected point").click()
        page.wait_for_function("() => document.querySelectorAll('#hint-table .virtual-row').length === 2")
        after = helpers.colorize_with_hints_in_browser(page, timeout_ms=60_000)
        result_file = tmp_path / "after.jpg"
        result_file.write_bytes(page.request.get(after.get_attribute("src")).body())
        with Image.open(result_file) as result:
            result = result.convert("RGB")
            for (x, y), colour in zip(points, chosen):
                patch = result.crop((x - 2, y - 2, x + 3, y + 3))
                wanted = lab_hue([int(colour[i : i + 2], 16) for i in (1, 3, 5)])
                got = lab_hue(list(patch.getdata()))
                assert min(abs(got - wanted), 360 - abs(got - wanted)) <= 25, (x, y, colour, got, wanted)
        page.close()
    finally:
        demo.close()

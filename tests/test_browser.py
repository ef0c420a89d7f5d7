"""The demo in a real browser: upload, click Colorize, see the slider, download the full-resolution PNG.

Drives Debian's Chromium through Playwright. Without chromium the test is skipped locally; in CI
(CI=true, where .ci/run installs chromium) it must run, so a missing browser fails instead.
"""

import importlib.util
import os
import shutil
from pathlib import Path

import pytest
from PIL import Image

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
    checkpoints = write_tiny_checkpoints(tmp_path / "checkpoints", ["colorizer-baseline", "colorizer-cunet"])
    photo = ROOT / "examples" / "coffee.jpg"
    demo, url = launch_app(checkpoints)
    helpers = load_screenshot_helpers()
    try:
        page = browser.new_page(viewport=helpers.VIEWPORT)
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

        page.locator("#model input").click()  # Compare all: its own button, a gallery with every model
        page.get_by_role("option", name="Compare all models").click()
        page.get_by_role("button", name="Colorize with every model").click()
        page.locator("#gallery img").nth(len(checkpoints) - 1).wait_for(state="visible", timeout=30_000)
        assert not page.locator("#download").is_visible()

        page.close()
    finally:
        demo.close()

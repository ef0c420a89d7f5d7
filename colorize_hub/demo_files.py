"""Every file the Gradio demo (app.py) takes from a client or hands back to one, and the model names it accepts.

This module owns the demo's one rule for files: a photo or result reaches the demo's functions only as the path of a
file that Gradio stored in its own cache (an upload, an example photo, a result the demo wrote), or as a data: URL
that is written into that cache first; any other reference is refused with the same message, which names no path.
It wraps the components' preprocess and Blocks.preprocess_data so that the check runs before Gradio itself touches
a value, caps data: URLs at the upload limit, and copies results for the download button only under the name of a
model the demo serves. It may import the standard library, gradio and the two libraries gradio itself reads images
with (numpy, Pillow) only: no model, no colour processing, nothing of app.py, so the rule can be read, and tested, on
its own.
"""

import base64
import hashlib
import os
import re
import secrets
import shutil
import tempfile
import threading
import time
from pathlib import Path

import gradio as gr
import numpy as np
from PIL import Image

MAX_FILE_SIZE = 20 * gr.FileSize.MB  # uploads through the page or the API, and data: URLs
MAX_DATA_URL_CHARS = -(-MAX_FILE_SIZE // 3) * 4  # base64 length of MAX_FILE_SIZE bytes
NOT_A_STORED_FILE = ("This demo opens only photos uploaded to it (the page's upload box, gradio_client's handle_file) "
                     "or sent as a data: URL.")
NOT_AN_IMAGE = "The upload is not an image that can be read; upload a PNG, JPEG, WebP or TIFF."
DOWNLOAD_LIFETIME_S = 3600  # download copies live as long as Gradio's own cache (app.py's delete_cache)


def _file_reference(value) -> tuple[object, object]:
    """The (path, url) that a client's file value names: a dict as sent, or Gradio's FileData / ImageData."""
    if isinstance(value, dict):
        return value.get("path"), value.get("url")
    return getattr(value, "path", None), getattr(value, "url", None)


def _data_url(value) -> str | None:
    """The value's data: URL when it is one (a URL and no path), else None."""
    path, url = _file_reference(value)
    return url if path is None and isinstance(url, str) and url.startswith("data:") else None


def stored_file(value, cache_dir: str | Path) -> str:
    """The one check for every file a client names: it must be a file Gradio stored in its cache.

    Returns the real path (symlinks and `..` resolved) of a regular file inside `cache_dir`, Gradio's cache, where
    it keeps uploads, the example photos and the results. Anything else (a path elsewhere on the server, a missing
    file, a symlink leading out of the cache, a file:// or http:// URL, a data: URL, a value that names no file)
    raises the same gr.Error, which names no path: an answer never tells which server files exist.
    """
    path, _ = _file_reference(value)
    if isinstance(path, str) and path:
        try:
            real = Path(os.path.realpath(path))
            if real.is_relative_to(os.path.realpath(cache_dir)) and real.is_file():
                return str(real)
        except (OSError, ValueError):  # a NUL byte, a name too long
            pass
    raise gr.Error(NOT_A_STORED_FILE)


def save_data_url(url: str, cache_dir: str | Path) -> str:
    """Write a data: URL's bytes, as they are, into a new file in Gradio's cache; returns its path.

    The photo is not decoded here: the loader checks its pixel count first. A URL over the upload cap, or not in
    base64, is refused.
    """
    header, _, encoded = url.partition(",")
    if len(encoded) > MAX_DATA_URL_CHARS:
        raise gr.Error(f"The photo is larger than the {MAX_FILE_SIZE // gr.FileSize.MB} MB upload limit.")
    try:
        if not header.endswith(";base64"):
            raise ValueError("not base64")
        data = base64.b64decode(encoded, validate=True)
    except ValueError as error:  # binascii.Error is a ValueError
        raise gr.Error(NOT_AN_IMAGE) from error
    folder = Path(cache_dir) / hashlib.sha256(data).hexdigest()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "photo"
    target.write_bytes(data)
    return str(target)


def readable_upload(component: gr.Image) -> gr.Image:
    """The photo reaches our functions as the path of a file in Gradio's cache, for our own loader.

    An upload or an example photo passes stored_file; a data: URL is written into the cache first. Gradio's own
    preprocess is not used: it would decode the photo with Pillow before our loader checks its pixel count (and
    refuse a decompression bomb with a generic error). The instance's preprocess is wrapped, not subclassed: a
    gr.Image subclass makes Gradio write a .pyi stub beside the module that defines it at every import.
    """

    def checked(payload) -> str | None:
        if payload is None:
            return None
        url = _data_url(payload)
        return save_data_url(url, component.GRADIO_CACHE) if url else stored_file(payload, component.GRADIO_CACHE)

    component.preprocess = checked
    return component


def stored_results(slider: gr.ImageSlider) -> gr.ImageSlider:
    """The slider is also an input, of the page's download step: it takes back only files in Gradio's cache (the
    results the demo wrote there), as paths, and opens none of them."""

    def checked(payload) -> tuple[str, str] | None:
        if payload is None or payload.root is None:
            return None
        before, after = (stored_file(image, slider.GRADIO_CACHE) for image in payload.root)
        return before, after

    slider.preprocess = checked
    return slider


def _file_values(value) -> list:
    """The file values inside a component's input: the value itself, or each image of the slider's pair."""
    if value is None:
        return []
    return [item for item in value if item is not None] if isinstance(value, (list, tuple)) else [value]


def check_files_first(demo: gr.Blocks, components: list[gr.components.Component]) -> None:
    """Run stored_file on every file a request names for `components`, before Gradio itself handles them.

    Gradio copies each file value marked as its FileData into its cache before any component sees it: it refuses
    a server path with a generic error of its own and downloads an http(s) URL. Checked first, every value that is
    no stored file gets stored_file's one message, and Gradio fetches nothing a client names. A data: URL names no
    file: the component's own check decides. Blocks.preprocess_data is the step where Gradio takes a request's
    inputs; a Gradio without it stops the demo at start-up (AttributeError), never silently.
    """
    ids = {component._id: component for component in components}
    preprocess_data = demo.preprocess_data

    async def checked(block_fn, inputs, *args, **kwargs):
        for block, value in zip(block_fn.inputs, inputs):
            if block._id in ids:
                for item in _file_values(value):
                    if not _data_url(item):
                        stored_file(item, ids[block._id].GRADIO_CACHE)
        return await preprocess_data(block_fn, inputs, *args, **kwargs)

    demo.preprocess_data = checked


def is_served(model, checkpoints: dict[str, Path]) -> bool:
    """A checkpoint name this demo serves: never a path, nor the list of names the dropdown also lets through."""
    return isinstance(model, str) and model in checkpoints


def offer_download(slider: tuple[str, str] | None, image: str | None, model: str, checkpoints: dict[str, Path],
                   folder: Path, results: "ResultFiles | None" = None) -> gr.DownloadButton:
    """The download button for the slider's result (a step of the page that any client can call, too); the
    model's name goes into the file's name, so it must be a served one."""
    if not is_served(model, checkpoints):
        return gr.DownloadButton(visible=False)
    return save_download(slider, image, model, folder, results)


def save_download(slider: tuple[str, str] | None, image: str | None, model: str, folder: Path,
                  results: "ResultFiles | None" = None) -> gr.DownloadButton:
    """The full-resolution PNG of the slider's result under a readable name ("<photo>-<model>.png"): the one
    `results` wrote for it, or the shown file itself when that is a PNG."""
    if not slider or not slider[1]:
        return gr.DownloadButton(visible=False)
    source = results.full_png(slider[1]) if results is not None else None
    if source is None and Path(slider[1]).suffix.lower() != ".png":
        return gr.DownloadButton(visible=False)  # a result older than the downloads' lifetime
    prune_downloads(folder)
    stem = Path(image).stem if image else "photo"
    target = Path(tempfile.mkdtemp(dir=folder)) / f"{stem}-{model}.png"
    shutil.copyfile(source or slider[1], target)
    return gr.DownloadButton(f"Download {target.name}", value=str(target), visible=True)


class ResultFiles:
    """Results as the page shows them, and the full-resolution PNG the download button hands out.

    The slider shows JPEG (quality 90, no chroma subsampling: a few ms to encode 1024x768 where PNG takes 70-250, and
    a third of the bytes to send), or a quickly compressed PNG for a photo with transparency, and the gray 'before'
    as a one-channel image, so it stays exactly gray. The result's exact pixels are kept beside it, uncompressed
    (2 ms to write), in `folder`/<token>/; the PNG is encoded from them only when the download step asks for it, so
    a request that never downloads (an API client, a busy server) pays nothing for it. The shown file is named after
    the token, so the download step, given back the shown file (a path in Gradio's cache, checked by stored_file),
    finds the PNG by that name alone: a token is 32 hex digits, anything else finds nothing. Entries older than
    DOWNLOAD_LIFETIME_S are deleted as new results come in.
    """

    DISPLAY_QUALITY = 90
    PNG_LEVEL = 1  # zlib level of the download: a quarter of the time of Pillow's default 6, files ~7% larger
    PRUNE_EVERY_S = 60.0

    @classmethod
    def _save_shown(cls, image, path_stem: Path) -> Path:
        """JPEG, or PNG (fastest compression) when the image has alpha; a gray image is saved as one channel."""
        if image.mode in ("RGBA", "LA"):
            path = path_stem.with_suffix(".png")
            image.save(path, "PNG", compress_level=1)
        else:
            path = path_stem.with_suffix(".jpg")
            image.save(path, "JPEG", quality=cls.DISPLAY_QUALITY, subsampling=0)  # 4:4:4: colour at full resolution
        return path

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self._encode_lock = threading.Lock()  # one PNG encode at a time: two downloads of one result encode it once
        self._pruned_at = time.monotonic()

    def save(self, before, after) -> tuple[str, str]:
        """(before, after) PIL images -> the paths of the files shown; `after`'s pixels are kept for its PNG."""
        token = secrets.token_hex(16)
        work = self.folder / token
        work.mkdir(parents=True)
        gray = before.convert("LA" if before.mode == "RGBA" else "L")  # its three channels are equal: keep one
        paths = self._save_shown(gray, work / f"{token}-gray"), self._save_shown(after, work / token)
        np.save(work / "pixels.npy", np.asarray(after))  # (H, W, 3 or 4) uint8: RGB or RGBA
        if time.monotonic() - self._pruned_at > self.PRUNE_EVERY_S:
            self._pruned_at = time.monotonic()
            prune_downloads(self.folder)
        return str(paths[0]), str(paths[1])

    def full_png(self, shown: str) -> Path | None:
        """The PNG of the result shown as `shown` (encoded now, the first time it is asked for), or None when there
        is none."""
        token = Path(shown).stem
        if not re.fullmatch(r"[0-9a-f]{32}", token):
            return None
        work = self.folder / token
        png, pixels = work / "result.png", work / "pixels.npy"
        with self._encode_lock:
            if not png.is_file() and pixels.is_file():
                partial = work / "result.partial.png"  # renamed when complete: a crash leaves no truncated PNG
                Image.fromarray(np.load(pixels, allow_pickle=False)).save(partial, "PNG", compress_level=self.PNG_LEVEL)
                partial.replace(png)
                pixels.unlink()
        return png if png.is_file() else None


def prune_downloads(folder: Path, max_age_s: float = DOWNLOAD_LIFETIME_S) -> None:
    """Delete download copies older than `max_age_s`, so a server that runs for weeks does not fill its disk."""
    cutoff = time.time() - max_age_s
    for entry in folder.iterdir():
        try:
            if entry.stat().st_mtime < cutoff:
                shutil.rmtree(entry, ignore_errors=True)
        except FileNotFoundError:  # another request pruned it first
            pass

"""The demo opens only files that Gradio stored for it (uploads, the example photos) and data: URLs.

A client can send, in place of an upload, a file value that names any path or URL. The attacker here is
gradio_client with its upload step switched off (it then sends each value exactly as written) and with the page's
private download step unlocked. Every such value is refused with one message, whatever lies at that path, by every
endpoint that takes a file; uploads, example photos and data: URLs keep working.
"""

import base64
import os
import shutil
import uuid
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from test_app import launch_app, write_tiny_checkpoints

gradio_client = pytest.importorskip("gradio_client")
import app  # noqa: E402 - test_app puts the repository root on sys.path
from colorize_hub import demo_files  # noqa: E402

MODEL = "colorizer-baseline"
FILEDATA = {"_type": "gradio.FileData"}  # the marker gradio_client and the page put on every file value
SECRET_SIZE = (7, 9)  # width, height of the image outside the cache


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """One app on one tiny checkpoint for the module: (demo, url)."""
    demo, url = launch_app(write_tiny_checkpoints(tmp_path_factory.mktemp("checkpoints"), [MODEL]))
    try:
        yield demo, url
    finally:
        demo.close()


@pytest.fixture(scope="module")
def user(served):
    return gradio_client.Client(served[1], verbose=False)


@pytest.fixture(scope="module")
def attacker(served):
    """gradio_client as an attacker changes it: file values go out as written, not uploaded, and the page's
    private steps can be called by fn_index."""
    client = gradio_client.Client(served[1], verbose=False)
    for endpoint in client.endpoints.values():
        endpoint._upload_file = lambda value, data_index: value
        endpoint.is_valid = True
    return client


@pytest.fixture(scope="module")
def outside(tmp_path_factory) -> Path:
    """A folder outside Gradio's cache with an image and a text file in it."""
    folder = tmp_path_factory.mktemp("server_files")
    Image.fromarray(np.full(SECRET_SIZE[::-1], 100, np.uint8), "L").save(folder / "private.png")
    (folder / "notes.txt").write_text("not a photo")
    return folder


@pytest.fixture(scope="module")
def link_in_cache(served, outside):
    """A symlink placed inside Gradio's cache that points to the image outside it."""
    folder = Path(served[0].GRADIO_CACHE) / f"security-test-{uuid.uuid4().hex}"
    folder.mkdir(parents=True)
    (folder / "photo.png").symlink_to(outside / "private.png")
    yield folder / "photo.png"
    shutil.rmtree(folder)


def examples_as_sent(client) -> list[dict]:
    """The example photos' file values, as the page sends them when a visitor clicks one."""
    dataset = next(c for c in client.config["components"] if c["type"] == "dataset")
    return [sample[0] for sample in dataset["props"]["samples"]]


def server_references(served, outside, link_in_cache, attacker) -> dict[str, str]:
    """Paths and URLs that name server files other than a stored upload."""
    demo, url = served
    cache, secret = demo.GRADIO_CACHE, outside / "private.png"
    return {
        "image_outside_the_cache": str(secret),
        "text_file_outside_the_cache": str(outside / "notes.txt"),
        "missing_file": str(outside / "missing.png"),
        "dotdot_out_of_the_cache": os.path.join(cache, os.path.relpath(secret, cache)),
        "relative_path": os.path.relpath(secret),
        "symlink_in_the_cache": str(link_in_cache),
        "file_url": secret.as_uri(),
        "http_url_to_localhost": f"{url}gradio_api/file={examples_as_sent(attacker)[0]['path']}",
    }


REFERENCES = ["image_outside_the_cache", "text_file_outside_the_cache", "missing_file", "dotdot_out_of_the_cache",
              "relative_path", "symlink_in_the_cache", "file_url", "http_url_to_localhost"]
SHAPES = {  # a value with the page's FileData marker, one without it, one that names the file as its URL
    "marked": lambda reference: {"path": reference, "meta": FILEDATA},
    "unmarked": lambda reference: {"path": reference},
    "url_field": lambda reference: {"path": None, "url": reference, "meta": FILEDATA},
}
ENDPOINTS = {
    "/colorize": lambda value: (value, MODEL, 128, 1.0),
    "/compare_all": lambda value: (value, 128, 1.0),
}


def assert_refused(call):
    """The call raises the one refusal message, so nothing comes back and nothing tells what is on the disk."""
    with pytest.raises(gradio_client.exceptions.AppError) as refused:
        call()
    assert str(refused.value) == demo_files.NOT_A_STORED_FILE


def data_url_of(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("reference", REFERENCES)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_server_file_is_refused_with_one_message(served, outside, link_in_cache, attacker, endpoint, reference,
                                                    shape):
    named = server_references(served, outside, link_in_cache, attacker)[reference]
    value = SHAPES[shape](named)
    assert_refused(lambda: attacker.predict(*ENDPOINTS[endpoint](value), api_name=endpoint))


def download_step(client) -> int:
    """The fn_index of the page's private step that offers the result for download."""
    button = next(c["id"] for c in client.config["components"] if c.get("props", {}).get("elem_id") == "download")
    return next(d["id"] for d in client.config["dependencies"] if d["outputs"] == [button])


@pytest.mark.parametrize("shape", ["marked", "unmarked"])
@pytest.mark.parametrize("reference", ["image_outside_the_cache", "symlink_in_the_cache", "missing_file"])
def test_the_download_step_refuses_a_server_file_as_its_result(served, outside, link_in_cache, attacker, reference,
                                                                shape):
    value = SHAPES[shape](server_references(served, outside, link_in_cache, attacker)[reference])
    assert_refused(lambda: attacker.predict([value, value], None, MODEL, fn_index=download_step(attacker)))


@pytest.mark.parametrize("name", ["../../escaped", "/etc/passwd", [MODEL]])
def test_a_model_name_must_be_a_served_one(user, outside, name):
    with pytest.raises(gradio_client.exceptions.AppError, match="not in the list of choices|Choose a model first"):
        user.predict(gradio_client.handle_file(str(outside / "private.png")), name, 128, 1.0, api_name="/colorize")


def test_the_download_step_names_its_file_only_after_a_served_model(user, attacker, outside):
    """The download's file name is made of the model's name: a list of served names, which the dropdown lets
    through, gets no download."""
    photo = gradio_client.handle_file(str(outside / "private.png"))
    result = [{"path": path, "meta": FILEDATA} for path in user.predict(photo, MODEL, 128, 1.0, api_name="/colorize")]
    offered = attacker.predict(result, None, MODEL, fn_index=download_step(attacker))
    offered = offered.get("value") or offered.get("path") if isinstance(offered, dict) else offered
    offered = offered.get("path") if isinstance(offered, dict) else offered
    assert Path(offered).name == f"photo-{MODEL}.png"  # no photo given: the generic stem
    hidden = attacker.predict(result, None, [MODEL], fn_index=download_step(attacker))
    assert hidden is None or hidden.get("visible") is False  # no download offered


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_an_upload_still_works(user, outside, endpoint):
    result = user.predict(*ENDPOINTS[endpoint](gradio_client.handle_file(str(outside / "private.png"))),
                          api_name=endpoint)
    after = result[1] if endpoint == "/colorize" else result[0]["image"]
    assert Image.open(after).size == SECRET_SIZE


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_an_example_photo_still_works(attacker, endpoint):
    example = examples_as_sent(attacker)[0]
    result = attacker.predict(*ENDPOINTS[endpoint](example), api_name=endpoint)
    after = result[1] if endpoint == "/colorize" else result[0]["image"]
    expected = next(path for path in app.EXAMPLES if path.name == example["orig_name"])
    assert Image.open(after).size == Image.open(expected).size


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_data_url_still_works(user, outside, endpoint):
    result = user.predict(*ENDPOINTS[endpoint]({"url": data_url_of(outside / "private.png")}), api_name=endpoint)
    after = result[1] if endpoint == "/colorize" else result[0]["image"]
    assert Image.open(after).size == SECRET_SIZE


def test_a_data_url_is_held_to_the_upload_limits(user, outside, monkeypatch, tmp_path):
    too_long = "data:image/png;base64," + "A" * (demo_files.MAX_DATA_URL_CHARS + 4)
    with pytest.raises(gradio_client.exceptions.AppError, match="larger than the 20 MB upload limit"):
        user.predict({"url": too_long}, MODEL, 128, 1.0, api_name="/colorize")
    monkeypatch.setenv(app.MAX_PIXELS_ENV, "60")  # the photo has 63 pixels: refused before it is decoded
    demo, url = launch_app(write_tiny_checkpoints(tmp_path, [MODEL]))
    try:
        client = gradio_client.Client(url, verbose=False)
        with pytest.raises(gradio_client.exceptions.AppError, match="more than max_pixels=60"):
            client.predict({"url": data_url_of(outside / "private.png")}, MODEL, 128, 1.0, api_name="/colorize")
    finally:
        demo.close()

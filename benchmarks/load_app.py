"""Load test of the Gradio demo: many concurrent API clients, no failure allowed, no memory creep.

Starts `app.py` in a subprocess (its own process, so its memory is measured alone) on the given checkpoint
folder, the bundled checkpoints/ by default, or, when there are none, on tiny untrained models made here.
The photos are the ones in examples/ made gray and 1024x768 (--photo-size), or a generated one. After --warmup
requests through gradio_client, as README's example sends them (first loads, worker threads, caches), three
measurements, in one run, with the requests sent over Gradio's HTTP API by a light client (--client http: upload,
call, event stream, both images downloaded, on one kept-alive connection per client; --client gradio sends them with
gradio_client, whose own CPU time per call exceeds the server's on a 2-core machine, where clients and server share
the cores):
1. one request alone: --alone sequential requests from one client to --model (the default model), median;
2. a burst: --clients concurrent clients x --burst requests each, all to --model: p50, p95, throughput (photos/s),
   and p95 over the median alone (the target is at most 3x: concurrent requests share the work);
3. memory: --requests calls from --clients clients, the models taken in turn; the server's RSS after the warm-up
   and at the end (growth must stay within --max-rss-growth), sampled every 5 s.
Failures must be 0 throughout.

    python benchmarks/load_app.py                         # bundled checkpoints: alone, 8 x 4 burst, 200 requests
    python benchmarks/load_app.py --requests 40 --checkpoints DIR --json results/load.json
    python benchmarks/load_app.py --client gradio         # the measured requests through gradio_client

Exit status 1 when a request failed or memory grew more than allowed.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# small untrained models (their registry records' tiny configs), when no trained checkpoint is available: they
# exercise the whole request path
TINY_TYPES = ("colorizer-baseline", "colorizer-cunet", "colorizer-unet24")


def make_tiny_checkpoints(folder: Path) -> Path:
    sys.path.insert(0, str(ROOT))
    import torch

    import colorize_hub

    for model_type in TINY_TYPES:
        record = colorize_hub.MODEL_REGISTRY[model_type]
        torch.manual_seed(0)
        record.model_class(record.config_class(**record.tiny_configs["default"])).save_pretrained(folder / model_type)
        colorize_hub.ColorizationImageProcessor(render_size=64).save_pretrained(folder / model_type)
    return folder


def checkpoint_folder(requested: str | None, scratch: Path) -> tuple[Path, str]:
    if requested:
        return Path(requested), "given"
    bundled = ROOT / "checkpoints"
    if any(bundled.glob("*/config.json")):
        return bundled, "bundled"
    return make_tiny_checkpoints(scratch / "tiny-checkpoints"), "tiny (made here, untrained)"


def photos(scratch: Path, size: tuple[int, int] | None) -> list[Path]:
    """examples/*.jpg, made gray and resized to `size` (as they are when None), or a generated gradient."""
    import numpy as np
    from PIL import Image

    found = sorted((ROOT / "examples").glob("*.jpg"))
    if found and size:
        resized = []
        for path in found:
            with Image.open(path) as image:
                image.convert("L").resize(size).save(scratch / path.name, quality=92)
            resized.append(scratch / path.name)
        return resized
    if found:
        return found

    gradient = np.tile(np.linspace(0, 255, 320, dtype=np.uint8), (240, 1))
    path = scratch / "gradient.png"
    Image.fromarray(gradient, "L").save(path)
    return [path]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(checkpoints: Path, port: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, "COLORIZE_HUB_CHECKPOINTS": str(checkpoints), "GRADIO_ANALYTICS_ENABLED": "False"}
    command = [sys.executable, str(ROOT / "app.py"), "--port", str(port), "--host", "127.0.0.1"]
    with log.open("wb") as output:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)


def wait_until_up(url: str, server: subprocess.Popen, log: Path, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the app exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"the app did not answer within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def rss_bytes(pid: int) -> int:
    """Resident memory of the server process (VmRSS), without psutil."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def sample_rss(pid: int, samples: list[float], done: threading.Event, every: float = 5.0) -> None:
    """The server's RSS in MB every `every` seconds until `done`: shows a plateau or a steady creep."""
    while not done.wait(every):
        try:
            samples.append(round(rss_bytes(pid) / 2**20, 1))
        except (OSError, RuntimeError):
            return


class GradioClientCaller:
    """One gradio_client.Client, as README's API example uses it: one /colorize call -> (before, after) files."""

    def __init__(self, url: str):
        from gradio_client import Client

        self.client = Client(url, verbose=False)

    def colorize(self, image: Path, model: str, render_size: int) -> None:
        from gradio_client import handle_file

        before, after = self.client.predict(handle_file(str(image)), model, render_size, 1.0, api_name="/colorize")
        if not (Path(before).is_file() and Path(after).is_file()):
            raise RuntimeError("the response named no image files")


class HttpCaller:
    """The same /colorize call over Gradio's plain HTTP API, on one kept-alive connection: upload the photo, start
    the call, read its result from the event stream, download both images. gradio_client does these steps too, but
    builds a new HTTP client (and TLS context) for each, and on a 2-core machine its CPU time per call exceeds the
    server's; this caller costs a few ms, so the cores measure the server."""

    def __init__(self, url: str):
        import httpx

        self.base = url.rstrip("/") + "/gradio_api"
        self.http = httpx.Client(timeout=300)

    def colorize(self, image: Path, model: str, render_size: int) -> None:
        with image.open("rb") as handle:
            upload = self.http.post(f"{self.base}/upload", files=[("files", (image.name, handle))])
        upload.raise_for_status()
        photo = {"path": upload.json()[0], "meta": {"_type": "gradio.FileData"}}
        started = self.http.post(f"{self.base}/call/colorize", json={"data": [photo, model, render_size, 1.0]})
        started.raise_for_status()
        event, data = None, None
        with self.http.stream("GET", f"{self.base}/call/colorize/{started.json()['event_id']}") as stream:
            for line in stream.iter_lines():
                if line.startswith("event:"):
                    event = line.partition(":")[2].strip()
                elif line.startswith("data:") and event in ("complete", "error"):
                    data = line.partition(":")[2].strip()
                    break
        if event != "complete":
            raise RuntimeError(f"the call ended with {event!r}: {data}")
        for result in json.loads(data)[0]:  # the slider's (before, after)
            content = self.http.get(result["url"]).raise_for_status().content
            if not content.startswith((b"\xff\xd8", b"\x89PNG")):
                raise RuntimeError(f"{result['orig_name']} is not a JPEG or PNG image")


CALLERS = {"http": HttpCaller, "gradio": GradioClientCaller}


def run_load(url: str, models: list[str], images: list[Path], requests: int, clients: int, render_size: int,
             first_index: int = 0, caller: str = "http") -> tuple[list[float], list[str], float]:
    """`requests` /colorize calls from `clients` threads, each with its own `caller`; (latencies, failures)."""
    counter, lock = iter(range(first_index, first_index + requests)), threading.Lock()
    latencies, failures = [], []

    def worker() -> None:
        client = CALLERS[caller](url)
        while True:
            with lock:
                index = next(counter, None)
            if index is None:
                return
            model, image = models[index % len(models)], images[index % len(images)]
            start = time.perf_counter()
            try:
                client.colorize(image, model, render_size)
            except Exception as error:  # noqa: BLE001 - every failure is counted and reported
                with lock:
                    failures.append(f"request {index} ({model}, {image.name}): {type(error).__name__}: {error}")
            else:
                with lock:
                    latencies.append(time.perf_counter() - start)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, failures, time.perf_counter() - started


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoints", help="folder of checkpoint folders (default: checkpoints/, else tiny)")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=24,
                        help="requests before the first memory reading (at least one per model x photo pair, so "
                             "every model has seen every input size)")
    parser.add_argument("--render-size", type=int, default=256)
    parser.add_argument("--photo-size", default="1024x768", help="WIDTHxHEIGHT of the photos sent, or 'examples'")
    parser.add_argument("--model", default=None, help="model of the alone and burst measurements (default: the "
                                                      "default model when served, else the first)")
    parser.add_argument("--alone", type=int, default=7, help="sequential requests of the alone measurement")
    parser.add_argument("--burst", type=int, default=4, help="requests per client in the burst")
    parser.add_argument("--max-rss-growth", type=float, default=0.10, help="allowed RSS growth, 0.10 = 10%%")
    parser.add_argument("--client", choices=sorted(CALLERS), default="http",
                        help="how the measured requests are sent: Gradio's HTTP API on a kept-alive connection "
                             "(default; a few ms of CPU per call) or gradio_client (as README's example; on a 2-core "
                             "machine it needs more CPU per call than the server). The warm-up always uses "
                             "gradio_client")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="colorize_hub_load_") as scratch_name:
        scratch = Path(scratch_name)
        checkpoints, origin = checkpoint_folder(args.checkpoints, scratch)
        models = sorted(p.parent.name for p in checkpoints.glob("*/config.json"))
        if not models:
            raise SystemExit(f"no checkpoint (a folder with config.json) in {checkpoints}")
        size = None if args.photo_size == "examples" else tuple(int(v) for v in args.photo_size.split("x"))
        images = photos(scratch, size)
        sys.path.insert(0, str(ROOT))
        from colorize_hub.checkpoints import DEFAULT_MODEL
        from colorize_hub.hardware import cpu_description

        model = args.model or (DEFAULT_MODEL if DEFAULT_MODEL in models else models[0])
        port, log = free_port(), scratch / "server.log"
        url = f"http://127.0.0.1:{port}/"
        server = start_server(checkpoints, port, log)
        try:
            started = time.perf_counter()
            wait_until_up(url, server, log)
            startup = time.perf_counter() - started
            # the warm-up goes through gradio_client, as README's example does: every model x photo answers it
            _, warm_failures, _ = run_load(url, models, images, max(args.warmup, len(models) * len(images)),
                                           args.clients, args.render_size, caller="gradio")
            alone, alone_failures, _ = run_load(url, [model], images[:1], args.alone, 1, args.render_size,
                                                caller=args.client)
            burst, burst_failures, burst_wall = run_load(url, [model], images, args.clients * args.burst,
                                                         args.clients, args.render_size, caller=args.client)
            rss_before = rss_bytes(server.pid)
            samples, done = [], threading.Event()
            sampler = threading.Thread(target=sample_rss, args=(server.pid, samples, done))
            sampler.start()
            latencies, failures, wall = run_load(url, models, images, args.requests, args.clients, args.render_size,
                                                 first_index=args.warmup, caller=args.client)
            done.set()
            sampler.join()
            rss_after = rss_bytes(server.pid)
            alive = server.poll() is None
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        failures = warm_failures + alone_failures + burst_failures + failures + ([] if alive else ["the server died"])
        growth = rss_after / rss_before - 1
        alone_median = percentile(alone, 50)
        result = {
            "checkpoints": f"{checkpoints} ({origin})", "models": models, "images": [p.name for p in images],
            "photo_size": args.photo_size, "cpu": cpu_description(), "client": args.client,
            "alone_model": model, "alone_median_s": round(alone_median, 3),
            "burst": f"{args.clients} clients x {args.burst} requests", "burst_p50_s": round(percentile(burst, 50), 3),
            "burst_p95_s": round(percentile(burst, 95), 3), "burst_photos_per_s": round(len(burst) / burst_wall, 2),
            "burst_p95_over_alone": round(percentile(burst, 95) / alone_median, 2),
            "requests": args.requests, "clients": args.clients, "render_size": args.render_size,
            "failures": len(failures), "failure_messages": failures[:20],
            "latency_p50_s": round(percentile(latencies, 50), 3), "latency_p95_s": round(percentile(latencies, 95), 3),
            "latency_max_s": round(max(latencies, default=float("nan")), 3),
            "throughput_rps": round(len(latencies) / wall, 2), "startup_s": round(startup, 1),
            "rss_before_mb": round(rss_before / 2**20, 1), "rss_after_mb": round(rss_after / 2**20, 1),
            "rss_growth_percent": round(100 * growth, 1), "rss_samples_mb": samples,
        }
    print(json.dumps(result, indent=2))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=2))
    ok = not failures and growth <= args.max_rss_growth
    print(f"client {args.client}; alone: {result['alone_median_s']} s; burst of {result['burst']}: p50 {result['burst_p50_s']} s, "
          f"p95 {result['burst_p95_s']} s ({result['burst_p95_over_alone']}x alone), "
          f"{result['burst_photos_per_s']} photos/s")
    print(("PASS" if ok else "FAIL") + f": {len(failures)} failures, p50 {result['latency_p50_s']} s, "
          f"p95 {result['latency_p95_s']} s, RSS {result['rss_before_mb']} -> {result['rss_after_mb']} MB "
          f"({result['rss_growth_percent']:+.1f}%, limit {100 * args.max_rss_growth:.0f}%)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

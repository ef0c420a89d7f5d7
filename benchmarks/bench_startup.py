"""Start-up: `import colorize_hub`, and `python app.py` to its first answered request, for this tree and another.

For each source tree (this one, and --against GIT_REVISION checked out into a temporary worktree), alternating
--rounds times so that a noisy machine skews neither:
- import: a fresh `python -c "import colorize_hub"`, wall time;
- first answer: `python app.py` on the bundled checkpoints, from the process start to the first /colorize answer
  (the default model, a 1024x768 photo), polled every 0.1 s.
Prints the medians side by side, with the CPU.

    python benchmarks/bench_startup.py [--against HEAD~1] [--rounds 3]
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from colorize_hub.checkpoints import DEFAULT_MODEL  # noqa: E402
from colorize_hub.hardware import cpu_description  # noqa: E402
from load_app import free_port  # noqa: E402  (benchmarks/, beside this script)


def time_import(tree: Path) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import colorize_hub"], cwd=tree, check=True,
                   env={**os.environ, "PYTHONPATH": str(tree)})
    return time.perf_counter() - start


def time_first_answer(tree: Path, photo: Path) -> float:
    from gradio_client import Client, handle_file

    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(tree), "GRADIO_ANALYTICS_ENABLED": "False",
           "COLORIZE_HUB_CHECKPOINTS": str(ROOT / "checkpoints")}
    start = time.perf_counter()
    server = subprocess.Popen([sys.executable, str(tree / "app.py"), "--port", str(port)], cwd=tree, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            if server.poll() is not None:
                raise SystemExit(f"app.py of {tree} exited with {server.returncode}")
            try:
                client = Client(f"http://127.0.0.1:{port}/", verbose=False)
                break
            except Exception:  # noqa: BLE001 - not up yet
                time.sleep(0.1)
        client.predict(handle_file(str(photo)), DEFAULT_MODEL, 256, 1.0, api_name="/colorize")
        return time.perf_counter() - start
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--against", default="HEAD~1", help="git revision to compare with")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from PIL import Image

    scratch = Path(tempfile.mkdtemp(prefix="bench_startup_"))
    other = scratch / "other"
    try:
        subprocess.run(["git", "worktree", "add", "--detach", str(other), args.against], cwd=ROOT, check=True,
                       capture_output=True)
        photo = scratch / "photo.jpg"
        Image.open(ROOT / "examples" / "astronaut.jpg").convert("L").resize((1024, 768)).save(photo)
        trees = {"this tree": ROOT, args.against: other}
        times = {name: {"import": [], "first answer": []} for name in trees}
        for round_ in range(args.rounds):
            for name, tree in trees.items():
                times[name]["import"].append(time_import(tree))
                times[name]["first answer"].append(time_first_answer(tree, photo))
                print(f"round {round_ + 1}, {name}: import {times[name]['import'][-1]:.2f} s, first answer "
                      f"{times[name]['first answer'][-1]:.2f} s", flush=True)
        print(f"\nCPU: {cpu_description()}; medians of {args.rounds} rounds")
        print("| tree | import colorize_hub (s) | python app.py -> first /colorize answer (s) |\n|---|---|---|")
        for name, measured in times.items():
            print(f"| {name} | {statistics.median(measured['import']):.2f} | "
                  f"{statistics.median(measured['first answer']):.2f} |")
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(other)], cwd=ROOT, capture_output=True)
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()

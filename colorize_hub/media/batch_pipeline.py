"""Archives of photos: keep every core busy, and split one run across processes or machines.

`colorize-hub colorize` runs three stages at once: worker threads decode the next batch of photos (Pillow releases
the GIL while decoding), the model colours the current batch of render-size squares in one forward pass, and
worker threads merge each result with its full-resolution L and encode it (the merge kernel and zlib release the
GIL too). A photo that cannot be read is reported and the batch goes on without it.

Under `torchrun` or `accelerate launch` (they set RANK and WORLD_SIZE) process r of W takes photos r, r + W,
r + 2W, ... of the same sorted plan, so every photo is done by exactly one process. Outputs are written whole
(temporary name, then rename) and existing ones are skipped, so an interrupted run is finished by running the
same command again, with any number of processes.
"""

from __future__ import annotations

import logging
import os
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor

from tqdm.auto import tqdm

from ..errors import ColorizationError
from ..image_processing_colorization import LoadedImage
from ..loading import load_colorizer
from ..pipeline import predict_ab

logger = logging.getLogger(__name__)
BATCH_SIZE = 8  # photos per forward pass: render-size squares batch whatever the photos' own sizes
WRITES_IN_FLIGHT = 2 * BATCH_SIZE  # results waiting for their encoder: bounds memory on large photos


def process_rank() -> tuple[int, int]:
    """(rank, world size) of this process under torchrun / accelerate launch; (0, 1) when run on its own."""
    try:
        rank, world = int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))
    except ValueError as error:
        raise ColorizationError(f"RANK and WORLD_SIZE must be whole numbers ({error}).") from error
    if world < 1 or not 0 <= rank < world:
        raise ColorizationError(f"RANK={rank} is not a process of WORLD_SIZE={world}.")
    return rank, world


def shard(items: list, rank: int, world: int) -> list:
    """This process's share of a list that every process builds the same way: items rank, rank + world, ..."""
    return items[rank::world]


def failure_reason(error: Exception) -> str:
    """A failed photo's line in the report: our own message as it is, anything else with its type."""
    return str(error) if isinstance(error, ColorizationError) else f"{type(error).__name__}: {error}"


def run_pipelined(jobs: list, model: str, render_size: int | None, saturation: float, report, write,
                  batch_size: int = BATCH_SIZE, workers: int | None = None, progress: bool = True) -> None:
    """Colorize `jobs` (each with a .source) batch by batch; `write(job, image)` saves one result.

    Decoding of the next batch and writing of finished results run in `workers` threads (default: the CPU count)
    while the model runs; every job ends in `report.done` or `report.failed`, in the order the jobs finish.
    """
    if not jobs:
        return
    if batch_size < 1:
        raise ColorizationError(f"batch size must be at least 1, not {batch_size}.")
    network, processor = load_colorizer(model)
    started = time.perf_counter()
    bar = tqdm(total=len(jobs), desc="colorize", unit="photo", disable=not progress)
    writes: deque[tuple[object, Future]] = deque()

    def finish(job, future: Future) -> None:
        try:
            future.result()
        except Exception as error:  # noqa: BLE001 - one photo's failure never stops the archive
            logger.debug("writing %s failed", job.source, exc_info=True)
            report.failed.append((job.source, failure_reason(error)))
        else:
            report.done.append(job.source)
        bar.update()

    def merge_and_write(job, ab, loaded: LoadedImage) -> None:
        image = processor.post_process_colorization(ab, [loaded.lightness], alpha=[loaded.alpha],
                                                    saturation=saturation)[0]
        write(job, image)

    batches = [jobs[start:start + batch_size] for start in range(0, len(jobs), batch_size)]
    with ThreadPoolExecutor(workers or os.cpu_count() or 2, thread_name_prefix="colorize-io") as pool:
        decoding = [pool.submit(processor.load_image, job.source) for job in batches[0]]
        for index, batch in enumerate(batches):
            loaded = []
            for job, future in zip(batch, decoding):
                try:
                    loaded.append((job, future.result()))
                except Exception as error:  # noqa: BLE001 - unreadable photo: reported, the batch goes on
                    report.failed.append((job.source, failure_reason(error)))
                    bar.update()
            if index + 1 < len(batches):  # the next batch decodes while this one runs through the model
                decoding = [pool.submit(processor.load_image, job.source) for job in batches[index + 1]]
            if not loaded:
                continue
            try:
                inputs = processor([image for _, image in loaded], render_size=render_size)
                predicted = predict_ab(network, inputs["pixel_values"])  # (B, 2, S, S)
            except Exception as error:  # noqa: BLE001 - e.g. out of memory: this batch fails, the run goes on
                for job, _ in loaded:
                    report.failed.append((job.source, failure_reason(error)))
                    bar.update()
                continue
            for row, (job, image) in enumerate(loaded):
                writes.append((job, pool.submit(merge_and_write, job, predicted[row:row + 1], image)))
            while len(writes) > WRITES_IN_FLIGHT:
                finish(*writes.popleft())
        while writes:
            finish(*writes.popleft())
    bar.close()
    report.seconds += time.perf_counter() - started

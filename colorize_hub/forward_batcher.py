"""Requests that arrive together share one forward pass: a micro-batcher for servers (the demo, app.py).

Every request thread decodes its own photo and merges its own result (those steps run in parallel on all cores);
only the model's forward is shared. A thread puts its render-size L into the queue and takes the model's lock;
whoever holds the lock runs every waiting input of the same model and size as one batch, so a request that
arrives while the model is busy rides along with the next pass instead of waiting for one pass per request
ahead of it. A failed pass fails only the requests in it, each with the error.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import torch

from .pipeline import predict_ab

MAX_BATCH = 8  # render-size squares per forward pass; more would delay the first of them


@dataclass(eq=False)
class _Waiting:
    model: torch.nn.Module
    pixel_values: torch.Tensor  # (1, 1, S, S)
    done: threading.Event = field(default_factory=threading.Event)
    result: torch.Tensor | None = None
    error: BaseException | None = None


class ForwardBatcher:
    """`predict(model, pixel_values)` from any number of threads; forwards of one model run batched, one at a time.

    Args:
        max_batch: the most inputs of one forward pass.
        precision: as `predict_ab`'s ("auto": bf16 where the CPU runs it natively).
    """

    def __init__(self, max_batch: int = MAX_BATCH, precision: str = "auto"):
        self.max_batch, self.precision = max_batch, precision
        self._queue: list[_Waiting] = []
        self._queue_lock = threading.Lock()
        self._model_lock = threading.Lock()
        self.passes = 0  # forward passes run, for tests and benchmarks
        self.inputs = 0  # inputs they carried

    def predict(self, model: torch.nn.Module, pixel_values: torch.Tensor, hints: dict | None = None) -> torch.Tensor:
        """Normalised L (1, 1, S, S) -> normalised ab (1, 2, S, S), float32, as `predict_ab` gives it. An input
        with colour `hints` (hint_ab, hint_mask) is its own forward pass: no other request shares its hints."""
        if hints:
            return predict_ab(model, pixel_values, self.precision, hints)
        waiting = _Waiting(model, pixel_values)
        with self._queue_lock:
            self._queue.append(waiting)
        while not waiting.done.is_set():
            with self._model_lock:
                if not waiting.done.is_set():  # nobody took it along while this thread waited for the lock
                    self._run(self._take(waiting))
        if waiting.error is not None:
            raise waiting.error
        return waiting.result

    def _take(self, first: _Waiting) -> list[_Waiting]:
        """`first` and up to max_batch - 1 other waiting inputs of the same model and size, out of the queue."""
        with self._queue_lock:
            same = [w for w in self._queue if w.model is first.model and w.pixel_values.shape == first.pixel_values.shape]
            batch = [first] + [w for w in same if w is not first][: self.max_batch - 1]
            self._queue = [w for w in self._queue if w not in batch]
        return batch

    def _run(self, batch: list[_Waiting]) -> None:
        try:
            # B x (1, 1, S, S) -> (B, 1, S, S) -> ab (B, 2, S, S)
            predicted = predict_ab(batch[0].model, torch.cat([w.pixel_values for w in batch]), self.precision)
        except BaseException as error:  # noqa: BLE001 - handed to every request of this pass, re-raised there
            for waiting in batch:
                waiting.error = error
        else:
            for row, waiting in enumerate(batch):
                waiting.result = predicted[row : row + 1]
        finally:
            self.passes += 1
            self.inputs += len(batch)
            for waiting in batch:
                waiting.done.set()

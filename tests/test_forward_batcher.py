"""The demo's micro-batcher: concurrent requests share forward passes and get exactly their own results."""

import threading

import pytest
import torch

from colorize_hub.forward_batcher import ForwardBatcher
from colorize_hub.pipeline import predict_ab
from conftest import build_tiny


class SlowModel(torch.nn.Module):
    """Wraps a model: each forward waits a little, as a real one does, so requests pile up behind it."""

    def __init__(self, model, fail_on_batch_of: int | None = None):
        super().__init__()
        self.model, self.fail_on_batch_of = model, fail_on_batch_of
        self.batch_sizes = []

    def forward(self, pixel_values):
        self.batch_sizes.append(pixel_values.shape[0])
        if pixel_values.shape[0] == self.fail_on_batch_of:
            raise RuntimeError("out of memory")
        threading.Event().wait(0.05)
        return self.model(pixel_values)


def run_together(batcher, model, inputs):
    results, errors = [None] * len(inputs), [None] * len(inputs)
    start = threading.Barrier(len(inputs))

    def request(index):
        start.wait()
        try:
            results[index] = batcher.predict(model, inputs[index])
        except RuntimeError as error:
            errors[index] = error

    threads = [threading.Thread(target=request, args=(index,)) for index in range(len(inputs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


def test_concurrent_requests_share_passes_and_each_gets_its_own_result():
    model = SlowModel(build_tiny("colorizer-baseline").eval())
    inputs = [torch.rand(1, 1, 32, 32, generator=torch.Generator().manual_seed(i)) * 2 - 1 for i in range(8)]
    batcher = ForwardBatcher(max_batch=8, precision="fp32")
    results, errors = run_together(batcher, model, inputs)
    assert errors == [None] * 8
    for pixel_values, result in zip(inputs, results):
        assert torch.allclose(result, predict_ab(model.model, pixel_values, "fp32"), atol=1e-5)
    assert batcher.inputs == 8 and batcher.passes < 8 and max(model.batch_sizes) > 1  # shared, not one by one


def test_batches_hold_one_model_and_size_and_at_most_max_batch():
    first, second = SlowModel(build_tiny("colorizer-baseline").eval()), SlowModel(build_tiny("colorizer-cunet").eval())
    batcher = ForwardBatcher(max_batch=3, precision="fp32")
    inputs = [torch.zeros(1, 1, 32 if i % 2 else 64, 32 if i % 2 else 64) for i in range(12)]
    results = [None] * 12
    start = threading.Barrier(12)

    def request(index):
        start.wait()
        results[index] = batcher.predict(first if index % 3 else second, inputs[index])

    threads = [threading.Thread(target=request, args=(index,)) for index in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(r.shape == (1, 2, *inputs[i].shape[-2:]) for i, r in enumerate(results))
    assert max(first.batch_sizes + second.batch_sizes) <= 3 and batcher.inputs == 12


def test_a_failed_pass_fails_only_its_requests_and_the_next_ones_run():
    model = SlowModel(build_tiny("colorizer-baseline").eval(), fail_on_batch_of=1)
    batcher = ForwardBatcher(precision="fp32")
    with pytest.raises(RuntimeError, match="out of memory"):
        batcher.predict(model, torch.zeros(1, 1, 32, 32))
    model.fail_on_batch_of = None
    assert batcher.predict(model, torch.zeros(1, 1, 32, 32)).shape == (1, 2, 32, 32)

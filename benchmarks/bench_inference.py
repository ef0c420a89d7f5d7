"""Inference speed and memory of every shipped checkpoint, beside the ECCV16 network as a speed anchor.

Per checkpoint, each in a fresh subprocess (clean peak RSS): end-to-end `colorize()` latency (decode -> render
-> full-resolution merge) on 512x384, 1024x768 and 2048x1536 inputs at render sizes 256 and 512; forward-only
latency, in PyTorch and in ONNX Runtime (the checkpoint exported by `colorize-hub export`); batch throughput;
parameter count; peak RSS. Median of --repeats runs after a warm-up. Then the speed-up target measured
interleaved (see `bench_interleaved`), which a noisy machine cannot skew towards one checkpoint, with the anchor
in the same precision as the models. Writes benchmarks/results/inference.{md,json}.

    python benchmarks/bench_inference.py [--checkpoints NAME ...] [--repeats 5] [--threads N]
    python benchmarks/bench_inference.py --interleaved-only [--rounds 60] [--precision fp32] [--isa avx2]
    python benchmarks/bench_inference.py --checkpoints NAME ... --render-sizes 192 256 [--rounds 20]

`--isa avx2` measures the AVX2-only case on a CPU that has more: oneDNN and PyTorch's own kernels are held to
AVX2 (ONEDNN_MAX_CPU_ISA, ATEN_CPU_CAPABILITY) and everything runs in fp32, as colorize() does on such a CPU.
"""

import argparse
import contextlib
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
from PIL import Image

ROOT = Path(__file__).resolve().parent
INPUT_SIZES = [(512, 384), (1024, 768), (2048, 1536)]
RENDER_SIZES = [256, 512]
ISA_LIMITS = {"avx2": {"ONEDNN_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2"}}  # environment per --isa


def median_seconds(function, repeats: int) -> float:
    function()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def test_photo(width: int, height: int) -> bytes:
    """A real photo (skimage's astronaut) resized and encoded as JPEG: decoding is part of the measured path."""
    from skimage import data

    buffer = io.BytesIO()
    Image.fromarray(data.astronaut()).resize((width, height)).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def colorize_jpeg(name: str, encoded: bytes, render: int | None = None, precision: str = "auto"):
    """One end-to-end colorize() of a JPEG held in memory: decode, render, full-resolution merge."""
    import colorize_hub

    return colorize_hub.colorize(Image.open(io.BytesIO(encoded)), model=name, render_size=render, precision=precision)


def anchor_precision(precision: str):
    """A context that runs the anchor as colorize(precision=...) runs the models: bf16 autocast exactly where
    predict_ab uses it, float32 otherwise."""
    from colorize_hub.pipeline import use_bf16

    bf16 = use_bf16(torch.device("cpu"), precision)
    return torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()


def eccv16_anchor() -> tuple[torch.nn.Module, torch.Tensor]:
    """The ECCV16 reference network (random weights, eval mode) and a normalised-L input at 256."""
    sys.path.insert(0, str(ROOT))
    from eccv16_reference import ECCV16Colorizer

    return ECCV16Colorizer().eval(), torch.rand(1, 1, 256, 256) * 2 - 1


def bench_checkpoint(name: str, repeats: int) -> dict:
    import colorize_hub
    from colorize_hub.pipeline import predict_ab

    model, _ = colorize_hub.load_colorizer(name)
    result = {"name": name, "parameters": sum(p.numel() for p in model.parameters())}
    for width, height in INPUT_SIZES:
        encoded = test_photo(width, height)
        for render in RENDER_SIZES:
            run = lambda: colorize_jpeg(name, encoded, render)  # noqa: E731
            result[f"e2e_{width}x{height}_r{render}_ms"] = 1000 * median_seconds(run, repeats)
    with torch.inference_mode():
        for render in RENDER_SIZES:  # the precision colorize() uses ("auto": bf16 where the CPU runs it natively)
            x = torch.rand(1, 1, render, render) * 2 - 1
            result[f"forward_r{render}_ms"] = 1000 * median_seconds(lambda: predict_ab(model, x), repeats)
        batch = torch.rand(8, 1, 256, 256) * 2 - 1
        fp32 = median_seconds(lambda: predict_ab(model, batch[:1], "fp32"), repeats)
        result["forward_fp32_r256_ms"] = 1000 * fp32
        result["batch8_r256_images_per_s"] = 8 / median_seconds(lambda: predict_ab(model, batch), max(3, repeats // 2))
    result["onnx_forward_r256_ms"] = onnx_forward_ms(name, repeats)
    result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def onnx_forward_ms(name: str, repeats: int) -> float | None:
    """Forward latency at 256 under ONNX Runtime (CPU, same thread count as torch), of the checkpoint exported
    to a temporary .onnx file by `colorize-hub export`; None where the export or onnxruntime is unavailable."""
    import tempfile

    try:
        import onnxruntime

        from colorize_hub.publishing.onnx_export import export_onnx

        with tempfile.TemporaryDirectory() as folder:
            path = export_onnx(name, Path(folder) / "model.onnx")
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = torch.get_num_threads()
            session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as error:  # noqa: BLE001 - a benchmark column, not a reason to stop the benchmark
        print(f"{name}: no ONNX Runtime timing ({type(error).__name__}: {error})", file=sys.stderr)
        return None
    x = (torch.rand(1, 1, 256, 256) * 2 - 1).numpy()
    return 1000 * median_seconds(lambda: session.run(None, {"pixel_values": x}), repeats)


def bench_reference(repeats: int) -> dict:
    model, x = eccv16_anchor()
    with torch.inference_mode():
        forward = median_seconds(lambda: model(x), repeats)  # float32, as the published network runs
        # for comparison only: what predict_ab does for our models (channels_last weights, bf16 autocast)
        model = model.to(memory_format=torch.channels_last)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            forward_bf16 = median_seconds(lambda: model(x), repeats)
    return {"name": "ECCV16 reference (random weights)", "parameters": sum(p.numel() for p in model.parameters()),
            "forward_r256_ms": 1000 * forward, "forward_bf16_r256_ms": 1000 * forward_bf16}


def all_loaded_rss() -> dict:
    """Peak RSS with every bundled checkpoint loaded, then after each has colorized one 1024x768 photo (what a
    server holding all of them reaches: activations, oneDNN caches and the compiled merge come on top)."""
    import colorize_hub

    names = colorize_hub.bundled_checkpoints()
    for name in names:
        colorize_hub.load_colorizer(name)
    loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    encoded = test_photo(1024, 768)
    for name in names:
        colorize_jpeg(name, encoded)
    return {"loaded": loaded, "after_one_colorization_each": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def interleaved_medians(calls: dict, rounds: int) -> dict:
    """Every round calls each of `calls` once, in order, so a burst of noise from elsewhere slows them alike;
    {key: median ms} after one warm-up call each."""
    times = {key: [] for key in calls}
    with torch.inference_mode():
        for call in calls.values():
            call()  # warm-up
        for _ in range(rounds):
            for key, call in calls.items():
                start = time.perf_counter()
                call()
                times[key].append(1000 * (time.perf_counter() - start))
    return {key: statistics.median(values) for key, values in times.items()}


def bench_interleaved(names: list[str], rounds: int, precision: str = "auto") -> dict:
    """The speed-up target, robust to a noisy machine: every round times the ECCV16 forward once and each
    checkpoint's end-to-end 1024x768 @256 colorize() once, in one process, so a burst of noise from elsewhere
    slows them alike; medians over the rounds, and the ratio of the medians. The anchor runs in the models'
    precision (bf16 autocast and channels_last where colorize() uses bf16, as predict_ab does)."""
    import colorize_hub
    from colorize_hub.hardware import cpu_description
    from colorize_hub.pipeline import use_bf16

    anchor, x = eccv16_anchor()
    bf16 = use_bf16(torch.device("cpu"), precision)
    if bf16:
        anchor, x = anchor.to(memory_format=torch.channels_last), x.contiguous(memory_format=torch.channels_last)
    encoded = test_photo(1024, 768)
    anchor_context = anchor_precision(precision)  # decided once, outside the timed calls

    def run_anchor():
        with anchor_context:
            return anchor(x)

    calls = {"ECCV16": run_anchor}
    for name in names:
        colorize_hub.load_colorizer(name)
        calls[name] = lambda name=name: colorize_jpeg(name, encoded, 256, precision)
    medians = interleaved_medians(calls, rounds)
    return {"rounds": rounds, "precision": "bf16" if bf16 else "fp32", "cpu": cpu_description(),
            "kernels": torch.backends.cpu.get_cpu_capability(), "anchor_ms": medians.pop("ECCV16"),
            "e2e_1024x768_r256_ms": medians}


def bench_render_sizes(names: list[str], sizes: list[int], rounds: int, precision: str = "auto") -> dict:
    """End-to-end 1024x768 colorize() of each checkpoint at each render size, interleaved in one process as
    bench_interleaved does; medians in ms, {name: {size: ms}}."""
    import colorize_hub
    from colorize_hub.hardware import cpu_description
    from colorize_hub.pipeline import use_bf16

    encoded = test_photo(1024, 768)
    calls = {}
    for name in names:
        colorize_hub.load_colorizer(name)
        for size in sizes:
            calls[(name, size)] = lambda name=name, size=size: colorize_jpeg(name, encoded, size, precision)
    times = interleaved_medians(calls, rounds)
    medians = {name: {str(size): times[(name, size)] for size in sizes} for name in names}
    return {"rounds": rounds, "precision": "bf16" if use_bf16(torch.device("cpu"), precision) else "fp32",
            "cpu": cpu_description(), "e2e_1024x768_ms": medians}


def render_sizes_markdown(result: dict) -> list[str]:
    sizes = next(iter(result["e2e_1024x768_ms"].values()))
    lines = [f"1024x768 e2e (ms) by render size ({result['rounds']} interleaved rounds; medians; {result['cpu']}; "
             f"{result['precision']}):", "", "| checkpoint | " + " | ".join(f"render {size}" for size in sizes) + " |",
             "|---|" + "---|" * len(sizes)]
    for name, by_size in result["e2e_1024x768_ms"].items():
        lines.append(f"| {name} | " + " | ".join(f"{ms:.1f}" for ms in by_size.values()) + " |")
    return lines


def in_subprocess(call: str, threads: int, isa: str | None = None) -> dict | float:
    code = f"import sys, json, torch; sys.path.insert(0, {str(ROOT)!r}); torch.set_num_threads({threads}); " \
           f"import bench_inference as b; print(json.dumps({call}))"
    environment = {**os.environ, **ISA_LIMITS.get(isa, {})}
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            env=environment).stdout
    return json.loads(output.strip().splitlines()[-1])


def interleaved_markdown(interleaved: dict) -> list[str]:
    anchor = interleaved["anchor_ms"]
    lines = ["", f"**Speed-up target, interleaved** ({interleaved['rounds']} rounds; each round times the ECCV16 "
             "forward at 256 once and each checkpoint's end-to-end 1024x768 @256 once, in one process; medians; "
             f"{interleaved['cpu']}, kernels {interleaved['kernels']}; everything in {interleaved['precision']}): "
             f"ECCV16 **{anchor:.0f} ms**.", "", "| checkpoint | 1024x768 @256 e2e (ms) | speed-up vs ECCV16 | >= 6x |",
             "|---|---|---|---|"]
    for name, ms in interleaved["e2e_1024x768_r256_ms"].items():
        lines.append(f"| {name} | {ms:.1f} | {anchor / ms:.1f}x | {'yes' if anchor / ms >= 6 else 'no'} |")
    return lines


def markdown(results: list[dict], reference: dict, interleaved: dict, all_rss: dict, threads: int) -> str:
    key = "e2e_1024x768_r256_ms"
    from colorize_hub.hardware import cpu_description

    lines = [f"Threads: {threads}; CPU: {cpu_description()}; median of runs after warm-up.",
             "", f"ECCV16 reference forward at 256: **{reference['forward_r256_ms']:.0f} ms** in float32, the anchor "
             f"({reference['parameters'] / 1e6:.1f} M parameters); {reference['forward_bf16_r256_ms']:.0f} ms "
             "under bf16 autocast, for comparison.", "",
             "Forward columns use colorize()'s precision (bf16 autocast where the CPU has native bf16), except "
             "the fp32 and ONNX Runtime (fp32) ones.", "",
             "| checkpoint | params (M) | forward 256 (ms) | fp32 forward 256 (ms) | ONNX Runtime forward 256 (ms) | "
             "forward 512 (ms) | 1024x768 @256 e2e (ms) | speed-up vs ECCV16 | "
             "512x384 @256 | 2048x1536 @256 | 1024x768 @512 | 2048x1536 @512 | batch 8 @256 (img/s) | peak RSS (MiB) |",
             "|" + "---|" * 14]
    for r in results:
        onnx_ms = r.get("onnx_forward_r256_ms")
        lines.append(
            f"| {r['name']} | {r['parameters'] / 1e6:.2f} | {r['forward_r256_ms']:.1f} | "
            f"{r['forward_fp32_r256_ms']:.1f} | {'n/a' if onnx_ms is None else f'{onnx_ms:.1f}'} | "
            f"{r['forward_r512_ms']:.1f} | {r[key]:.1f} | {reference['forward_r256_ms'] / r[key]:.1f}x | "
            f"{r['e2e_512x384_r256_ms']:.1f} | "
            f"{r['e2e_2048x1536_r256_ms']:.1f} | {r['e2e_1024x768_r512_ms']:.1f} | {r['e2e_2048x1536_r512_ms']:.1f} | "
            f"{r['batch8_r256_images_per_s']:.1f} | {r['peak_rss_mib']:.0f} |")
    lines += interleaved_markdown(interleaved)
    lines += ["", f"All shipped checkpoints loaded together in one process: peak RSS **{all_rss['loaded']:.0f} MiB**; "
              f"after each has colorized one 1024x768 photo: {all_rss['after_one_colorization_each']:.0f} MiB."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoints", nargs="*", help="default: every bundled checkpoint")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--out", default=str(ROOT / "results"))
    parser.add_argument("--interleaved-only", action="store_true", help="only the speed-up target (about a minute)")
    parser.add_argument("--rounds", type=int, default=60, help="rounds of the interleaved measurement")
    parser.add_argument("--precision", choices=["auto", "fp32", "bf16"], default="auto",
                        help="of the models and the anchor alike (auto: bf16 where the CPU runs it natively)")
    parser.add_argument("--isa", choices=sorted(ISA_LIMITS), help="hold the kernels to this instruction set (fp32)")
    parser.add_argument("--render-sizes", type=int, nargs="+",
                        help="only: end-to-end 1024x768 at these render sizes, interleaved (--rounds of them)")
    args = parser.parse_args()
    import colorize_hub

    names = args.checkpoints or list(colorize_hub.bundled_checkpoints())
    precision = "fp32" if args.isa else args.precision  # no native bf16 below AVX-512
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.render_sizes:
        result = in_subprocess(f"b.bench_render_sizes({names!r}, {args.render_sizes!r}, {args.rounds}, {precision!r})",
                               args.threads, args.isa)
        print("\n".join(render_sizes_markdown(result)))
        return
    if args.interleaved_only:
        interleaved = in_subprocess(f"b.bench_interleaved({names!r}, {args.rounds}, {precision!r})", args.threads,
                                    args.isa)
        suffix = f"_{args.isa}" if args.isa else ""
        (out / f"interleaved{suffix}.json").write_text(json.dumps({"threads": args.threads, **interleaved}, indent=2))
        print("\n".join(interleaved_markdown(interleaved)))
        return
    reference = in_subprocess(f"b.bench_reference({args.repeats})", args.threads, args.isa)
    results = []
    for name in names:
        results.append(in_subprocess(f"b.bench_checkpoint({name!r}, {args.repeats})", args.threads, args.isa))
        print(f"{name}: {results[-1]['e2e_1024x768_r256_ms']:.1f} ms end-to-end 1024x768 @256", flush=True)
    # 60 rounds (about 40 s): with 15, one burst of noise on this kind of shared machine could move a median by 10%
    interleaved = in_subprocess(f"b.bench_interleaved({names!r}, {max(args.repeats, args.rounds)}, {precision!r})",
                                args.threads, args.isa)
    all_rss = in_subprocess("b.all_loaded_rss()", args.threads, args.isa)
    (out / "inference.json").write_text(json.dumps(
        {"threads": args.threads, "reference": reference, "checkpoints": results, "interleaved": interleaved,
         "all_peak_rss_mib": all_rss},
        indent=2))
    table = markdown(results, reference, interleaved, all_rss, args.threads)
    (out / "inference.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()

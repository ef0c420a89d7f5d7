"""Fused per-pixel kernels for the two full-resolution passes of `colorize()`, compiled by numba when it is installed.

The full-resolution work of a colorization is: L of the decoded 8-bit photo, and the merge (bilinear ab from
render size, Lab -> linear sRGB, chroma cut to the gamut, sRGB curve, rounding). Written as tensor operations
these are some fifteen passes over the image with a temporary each; here each is one pass that keeps every
intermediate in registers, in row bands spread over torch's thread count.

The arithmetic is that of :mod:`colorize_hub.gamut` and :mod:`colorize_hub.color` in scalar form: the CIE
constants come from :mod:`colorize_hub.cie`, the tables are built by gamut/color and passed in (never copied), and
tests hold the two paths to each other. Without numba,
:func:`kernels_available` is False and callers use the tensor path.
"""

from __future__ import annotations

import functools
import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

from .cie import A_SCALE, B_SCALE, F_THRESHOLD, L_OFFSET, L_SCALE, LINEAR_OFFSET, LINEAR_SLOPE

__all__ = ["fused_lightness_from_rgb8", "fused_merge_to_srgb8", "kernels_available"]

_MIN_BAND_PIXELS = 1 << 16  # below this, one thread is faster than handing out bands


@functools.cache
def _numba():
    """numba, imported on first use, or None where it is not installed or COLORIZE_HUB_NUMBA=0 turns it off.

    The switch is for memory-tight servers: numba's LLVM and the compiled kernels add about 100 MB to a process.
    """
    if os.environ.get("COLORIZE_HUB_NUMBA", "1") == "0":
        return None
    try:
        import numba
    except ImportError:  # optional: the tensor path gives the same pixels, only slower
        return None
    return numba


def kernels_available() -> bool:
    """Whether the compiled kernels can be used (numba is importable). Imports numba on the first call."""
    return _numba() is not None


_COMPILED = []  # the scalar helpers and kernels below, in the order they are compiled
_COMPILE_LOCK = threading.Lock()


def _jit(function):
    """Mark a function for :func:`_compile`; until then it stays plain Python."""
    _COMPILED.append(function.__name__)
    return function


@functools.cache
def _compile() -> None:
    """Swap every marked function for its numba version (compiled on first call, then cached on disk).

    Helpers come first: a kernel calls the compiled helpers it finds in this module's globals.
    cache=True: compiled once per machine (~2 s), then loaded from disk; nogil=True: the row bands of one image run
    in parallel Python threads; fastmath/numpy error model: no per-division zero checks.
    """
    jit = _numba().njit(cache=True, nogil=True, error_model="numpy", fastmath=True)
    with _COMPILE_LOCK:  # concurrent first requests (a server) must not wrap a function twice
        for name in _COMPILED:
            if not hasattr(globals()[name], "py_func"):
                globals()[name] = jit(globals()[name])


@_jit
def _f_inverse(f):
    """CIE f^-1: the cube above the threshold, a line below it."""
    return f * f * f if f > F_THRESHOLD else (f - LINEAR_OFFSET) / LINEAR_SLOPE


@_jit
def _lab_to_linear(l, a, b, matrix):
    """One Lab pixel -> linear sRGB (r, g, b), unclipped: gamut._lab_to_linear_rgb in scalar form."""
    fy = (l + L_OFFSET) / L_SCALE
    x, y, z = _f_inverse(fy + a / A_SCALE), _f_inverse(fy), _f_inverse(max(fy - b / B_SCALE, 0.0))
    return (
        matrix[0, 0] * x + matrix[0, 1] * y + matrix[0, 2] * z,
        matrix[1, 0] * x + matrix[1, 1] * y + matrix[1, 2] * z,
        matrix[2, 0] * x + matrix[2, 1] * y + matrix[2, 2] * z,
    )


@_jit
def _max_chroma(l, hue, table, l_max):
    """Bilinear lookup of the (L, hue) max-chroma table, hue in [-pi, pi]: gamut._max_chroma in scalar form."""
    rows, columns = table.shape
    row = min(max(l / l_max * (rows - 1), 0.0), rows - 1.0)
    column = (hue + 2 * math.pi if hue < 0 else hue) / (2 * math.pi) * (columns - 1)  # hue in [-pi, pi]
    r0, c0 = min(int(row), rows - 2), min(int(column), columns - 2)
    dr, dc = row - r0, column - c0
    top = table[r0, c0] * (1 - dc) + table[r0, c0 + 1] * dc
    bottom = table[r0 + 1, c0] * (1 - dc) + table[r0 + 1, c0 + 1] * dc
    return top * (1 - dr) + bottom * dr


@_jit
def _hue(a, b):
    """atan2(b, a) in [-pi, pi] by a degree-7 odd polynomial: within 3e-4 rad (the table's columns are 0.025 apart)."""
    largest, smallest = max(abs(a), abs(b)), min(abs(a), abs(b))
    if largest == 0.0:
        return 0.0
    t = smallest / largest
    s = t * t
    angle = (((-0.0464964749 * s + 0.15931422) * s - 0.327622764) * s + 1.0) * t  # atan(t), t in [0, 1]
    if abs(b) > abs(a):
        angle = math.pi / 2 - angle
    if a < 0:
        angle = math.pi - angle
    return -angle if b < 0 else angle


@_jit
def _encode(value, encode_table):
    """Linear value -> 8-bit sRGB code through the table (clipped to [0, 1] first)."""
    steps = encode_table.shape[0] - 1
    return encode_table[int(min(max(value, 0.0), 1.0) * steps + 0.5)]


@_jit
def _source_index(position, scale, size):
    """Bilinear source of output `position` (align_corners=False, as F.interpolate): (i0, i1, weight of i1)."""
    source = max((position + 0.5) * scale - 0.5, 0.0)
    i0 = min(int(source), size - 1)
    return i0, min(i0 + 1, size - 1), source - i0


@_jit
def _merge_rows(lightness, ab, gain, ab_limit, matrix, low, high, table, l_max, encode_table, start, stop, out):
    """Rows [start, stop) of the merge: out[y, x, :3] = sRGB8(L[y, x], bilinear(ab)[y, x] * gain).

    Per row: a branch-free pass converts every pixel (the compiler vectorises it), then the few pixels outside
    the gamut are redone with their chroma cut, then all are encoded.
    """
    height, width = lightness.shape
    ab_height, ab_width = ab.shape[1], ab.shape[2]
    x0 = np.empty(width, np.int64)
    x1 = np.empty(width, np.int64)
    wx = np.empty(width, np.float32)
    for x in range(width):
        x0[x], x1[x], wx[x] = _source_index(x, ab_width / width, ab_width)
    column = np.empty((2, ab_width), np.float32)  # the two source rows of this output row, blended vertically
    a_row = np.empty(width, np.float32)
    b_row = np.empty(width, np.float32)
    rgb = np.empty((3, width), np.float32)
    for y in range(start, stop):
        y0, y1, wy = _source_index(y, ab_height / height, ab_height)
        for c in range(2):
            for i in range(ab_width):
                column[c, i] = (ab[c, y0, i] * (1 - wy) + ab[c, y1, i] * wy) * gain
        for x in range(width):
            a = column[0, x0[x]] * (1 - wx[x]) + column[0, x1[x]] * wx[x]
            b = column[1, x0[x]] * (1 - wx[x]) + column[1, x1[x]] * wx[x]
            a_row[x] = min(max(a, -ab_limit), ab_limit)
            b_row[x] = min(max(b, -ab_limit), ab_limit)
        for x in range(width):
            rgb[0, x], rgb[1, x], rgb[2, x] = _lab_to_linear(lightness[y, x], a_row[x], b_row[x], matrix)
        for x in range(width):
            r, g, bl = rgb[0, x], rgb[1, x], rgb[2, x]
            if not (low <= r <= high and low <= g <= high and low <= bl <= high):
                l, a, b = lightness[y, x], a_row[x], b_row[x]
                scale = min(_max_chroma(l, _hue(a, b), table, l_max) / max(math.sqrt(a * a + b * b), 1e-6), 1.0)
                r, g, bl = _lab_to_linear(l, a * scale, b * scale, matrix)
            out[y, x, 0] = _encode(r, encode_table)
            out[y, x, 1] = _encode(g, encode_table)
            out[y, x, 2] = _encode(bl, encode_table)


@_jit
def _lightness_rows(rgb, luminance, lightness_table, start, stop, out):
    """Rows [start, stop) of L* for 8-bit sRGB: luminance by three lookups, L* by linear interpolation in a table."""
    steps = lightness_table.shape[0] - 1
    for y in range(start, stop):
        for x in range(rgb.shape[1]):
            lum = luminance[0, rgb[y, x, 0]] + luminance[1, rgb[y, x, 1]] + luminance[2, rgb[y, x, 2]]
            position = min(max(lum, 0.0), 1.0) * steps
            i = min(int(position), steps - 1)
            t = position - i
            out[y, x] = lightness_table[i] * (1 - t) + lightness_table[i + 1] * t


@functools.cache
def _pool(workers: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="colorize-merge")


os.register_at_fork(after_in_child=_pool.cache_clear)  # a forked child has none of its parent's pool threads


def _in_bands(kernel, height: int, width: int, *args) -> None:
    """Run kernel(*args[:-1], start, stop, out) over row bands, one per torch thread (one band for small images)."""
    *inputs, out = args
    _compile()
    kernel = globals()[kernel.__name__]  # the compiled version
    workers = max(1, min(torch.get_num_threads(), height, height * width // _MIN_BAND_PIXELS))
    if workers == 1:
        kernel(*inputs, 0, height, out)
        return
    edges = np.linspace(0, height, workers + 1).astype(int)
    futures = [_pool(workers).submit(kernel, *inputs, int(s), int(e), out) for s, e in zip(edges[:-1], edges[1:])]
    for future in futures:
        future.result()


def fused_merge_to_srgb8(lightness: np.ndarray, ab: np.ndarray, gain: float, ab_limit: float, out: np.ndarray, *,
                         matrix: np.ndarray, bounds: tuple[float, float], max_chroma_table: np.ndarray,
                         l_max: float, encode_table: np.ndarray) -> None:
    """Fill out[..., :3] (H, W, >=3 uint8) from L (H, W) float32 and render-size normalised ab (2, h, w) float32.

    Every value must be finite (the caller checks: the kernel does no bounds checks). ab is upsampled bilinearly
    (as F.interpolate with align_corners=False), multiplied by `gain`, clamped to +-`ab_limit`; out-of-gamut pixels
    lose chroma (never L) down to the table's bound; then encoded to 8 bits.
    """
    height, width = lightness.shape
    low, high = bounds
    _in_bands(_merge_rows, height, width, lightness, ab, float(gain), float(ab_limit), matrix, low, high,
              max_chroma_table, l_max, encode_table, out)


def fused_lightness_from_rgb8(rgb: np.ndarray, luminance: np.ndarray, lightness_table: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 sRGB -> (H, W) float32 L*, from (3, 256) luminance contributions and an L*(Y) table."""
    height, width = rgb.shape[:2]
    out = np.empty((height, width), np.float32)
    _in_bands(_lightness_rows, height, width, rgb, luminance, lightness_table, out)
    return out

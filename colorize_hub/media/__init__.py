"""Many photos and video: `colorize-hub colorize` over folders and globs, and `colorize-hub video`.

Owns batch planning and reporting (skip what is done, report what failed), video decoding and encoding, and the
temporal chroma smoothing that stops colours flickering between frames. Built on `colorize()` / `predict_ab`
of the inference core; nothing in the core imports it.
"""

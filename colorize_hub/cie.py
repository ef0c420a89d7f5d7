"""The CIE L*a*b* constants (D65), in the one place both merge paths read them from.

The tensor path (:mod:`colorize_hub.gamut`, :mod:`colorize_hub.color`) and the compiled per-pixel kernels
(:mod:`colorize_hub.merge_kernels`) write the same arithmetic in two forms; the numbers come from here, and
the tables (matrix, max-chroma, sRGB encoding) are built once in :mod:`colorize_hub.gamut` and passed to the
kernels. This file imports nothing, so every one of them can import it (numba folds these floats into the code).
"""

L_OFFSET = 16.0  # L* = L_SCALE * f(Y) - L_OFFSET
L_SCALE = 116.0
A_SCALE = 500.0  # a* = A_SCALE * (f(X) - f(Y))
B_SCALE = 200.0  # b* = B_SCALE * (f(Y) - f(Z))
F_THRESHOLD = 0.2068966  # 6/29: f^-1 is the cube above it, a line below
LINEAR_SLOPE = 7.787  # the line: f = LINEAR_SLOPE * t + LINEAR_OFFSET
LINEAR_OFFSET = 4.0 / 29.0
LAB_EPSILON = 0.008856  # (6/29)^3, the same threshold on Y (kornia / scikit-image)

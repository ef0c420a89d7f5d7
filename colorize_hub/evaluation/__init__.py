"""Evaluation: how good a colorizer is against ground-truth colour photos.

Owns the metrics (PSNR, SSIM, CIEDE2000, colourfulness, top-1 of a classifier, optional LPIPS/FID), the
evaluation protocols, `colorize-hub evaluate` and its report (tables, grids, charts), and the chroma calibration
of a checkpoint on a dev set. May import the inference core (colour, processor, loading, pipeline) and the model
registry; nothing here is imported by inference.
"""

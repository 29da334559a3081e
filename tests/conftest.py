"""Shared pytest configuration for the whole suite."""

import os

# BLAS threads: keep numbers reproducible and leave one core for the notebook kernels.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

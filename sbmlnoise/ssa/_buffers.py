"""Per-chunk output buffers shared by every ensemble driver (exact, time-dependent,
approximate): one place that allocates what the kernels fill."""

from __future__ import annotations

import numpy as np

from ._rng import run_states

__all__ = ["chunk_buffers"]


def chunk_buffers(problem, start: int, stop: int) -> tuple:
    """Random states and zeroed output arrays for runs ``start .. stop-1`` of ``problem``:
    ``(states, keep, mean, m2, cov, kept, samples, info, err_state)`` with shapes
    (runs, 4) uint64, int, (T, S), (T, S), (T, S, S) or (0, 0, 0) without covariance,
    (keep, T, S), (runs, n_samples, S), (8,), (S,)."""
    T, S = problem.times.shape[0], problem.model.n_species
    keep = max(0, min(stop, problem.keep) - start)
    cov = np.zeros((T, S, S)) if problem.want_cov else np.zeros((0, 0, 0))
    return (run_states(problem.entropy, start, stop), keep, np.zeros((T, S)),
            np.zeros((T, S)), cov, np.zeros((keep, T, S)),
            np.zeros((stop - start, problem.sample_idx.shape[0], S)), np.zeros(8),
            np.zeros(S))

"""BLAS threads: the matrices of the theory are small, and on a busy machine extra threads make each call slower."""

from __future__ import annotations

import contextlib

__all__ = ["single_thread"]

_CONTROLLER = []


@contextlib.contextmanager
def single_thread():
    """Limit BLAS to one thread inside the block: the matrices here are small, and on a busy machine
    extra threads make each call slower, not faster. (One ``threadpoolctl`` controller is created on
    first use and reused: creating it scans the loaded libraries.)"""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        yield
        return
    if not _CONTROLLER:
        _CONTROLLER.append(ThreadpoolController())
    with _CONTROLLER[0].limit(limits=1):
        yield

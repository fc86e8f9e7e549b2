"""BLAS threads: the matrices of the theory are small, and on a busy machine extra threads make each call slower.

The theory's estimators (``KernelRenormalization.fit``, ``FranzParisiTransfer.fit`` and ``with_gamma``) and the
slider panels run BLAS on one thread. On an idle 2-core machine a second thread speeds a 500 x 500 product up
about twice and an eigendecomposition by about a quarter, and the fits by less (much of their time is
elementwise work and small products); when another process holds a core, OpenBLAS's waiting threads make the
same fits several times slower, a transfer fit at P = 1500 once 65 s instead of 4 s (measured on the project's
2-core machine, whose CI and Binder-like use is exactly that case)."""

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

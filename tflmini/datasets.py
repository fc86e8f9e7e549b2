r"""Real-data tasks: binary class pairs, offline from scikit-learn's handwritten digits, and opt-in
downloads of MNIST, Fashion-MNIST, EMNIST and CIFAR-10 (grayscale, downsampled).

This module holds the digits: the normalised pool (:func:`load_digits_pool`), its fixed split into source,
target and test parts (:func:`digits_split`), the catalogue of targets of decreasing relatedness to one
source (:data:`DIGITS_TARGETS`, :func:`digits_catalogue`) and the digit tasks (:func:`make_digits_task`,
:func:`make_digits_transfer_task`). It also re-exports, as the one entry point for real data:

- :mod:`tflmini.class_pairs`: the split of a labelled pool by class, the per-image input normalisation and
  the class-pair task constructors;
- :mod:`tflmini.relatedness`: the relatedness ``rho`` of two tasks (:func:`task_relatedness`);
- :mod:`tflmini.remote_datasets`: the opt-in downloaded datasets (:data:`REMOTE_DATASETS`).
"""

from __future__ import annotations

import functools

import numpy as np

from ._download import ChecksumError, DatasetUnavailableError, get_data_home
from .class_pairs import (SPLIT_FRACTIONS, SPLIT_PARTS, SPLIT_SEED, _check_classes, class_pair, make_class_pair_task,
                          make_class_pair_transfer_task, normalize_images, shared_rows, split_by_class, standardize)
from .relatedness import METHODS, ridge_readout, task_relatedness
from .remote_datasets import (EMNIST_SPLITS, REMOTE_DATASETS, downsample,  # noqa: F401 (re-exported)
                              load_remote_dataset, make_remote_transfer_task)
from .remote_datasets import _MNIST_FILES, _read_emnist  # noqa: F401 (used through this module by the tests)

__all__ = [
    "ChecksumError",
    "DatasetUnavailableError",
    "DIGITS_SOURCE",
    "DIGITS_TARGETS",
    "DIGITS_PREPROCESSING",
    "REMOTE_DATASETS",
    "SPLIT_FRACTIONS",
    "SPLIT_SEED",
    "standardize",
    "normalize_images",
    "split_by_class",
    "shared_rows",
    "load_digits_pool",
    "digits_split",
    "digits_pair_training",
    "class_pair",
    "ridge_readout",
    "task_relatedness",
    "make_class_pair_task",
    "make_class_pair_transfer_task",
    "make_digits_task",
    "make_digits_transfer_task",
    "digits_catalogue",
    "load_remote_dataset",
    "make_remote_transfer_task",
    "get_data_home",
]


# One source task and targets of decreasing relatedness (numbers: digits_catalogue()).
DIGITS_SOURCE = (3, 8)
DIGITS_TARGETS = {
    "close": (2, 8),
    "related": (5, 8),
    "intermediate": (7, 8),
    "weak": (2, 5),
    "unrelated": (4, 6),
}
#: A description of the digits inputs, stored with the cached experiments (a change makes them stale).
DIGITS_PREPROCESSING = (f"per-digit split {'/'.join(f'{f:g}' for f in SPLIT_FRACTIONS)} (source/target/test), "
                        f"seed {SPLIT_SEED}; constant pixels dropped, training mean image subtracted, |x|^2 = N0")


# -- digits ----------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def _digits_data():
    from sklearn.datasets import load_digits  # bundled with scikit-learn: no download

    X, y = load_digits(return_X_y=True)
    y = y.astype(np.int64)
    parts = split_by_class(y)
    train = np.sort(np.r_[parts[0], parts[1]])
    Xtr, X, mask = normalize_images(X[train].astype(np.float64), X.astype(np.float64), return_mask=True)
    for a in (X, y, mask, *parts):
        a.setflags(write=False)
    return X, y, dict(zip(SPLIT_PARTS, parts)), mask


def _digits_pool():
    X, y, _, _ = _digits_data()
    return X, y


def load_digits_pool():
    """All 1797 scikit-learn digits (8x8), normalised per image with the statistics of the training parts
    (:func:`normalize_images`): ``X`` (1797, 61) (3 pixels constant over the training images dropped) and
    the digit labels ``y`` (1797,). Which image belongs to which part: :func:`digits_split`."""
    X, y = _digits_pool()
    return X.copy(), y.copy()


def digits_split():
    """The fixed split of the digits (:data:`SPLIT_FRACTIONS`, :data:`SPLIT_SEED`): a dict ``{"source",
    "target", "test"}`` of sorted index arrays into :func:`load_digits_pool`."""
    return {k: v.copy() for k, v in _digits_data()[2].items()}


def make_digits_task(classes, n_train, n_test=None, *, seed=None):
    """Binary task on two scikit-learn digits (normalised 8x8 images, offline): training images from the
    training parts (source and target) of the split, test images from its test part (:func:`digits_split`)."""
    X, y, parts, _ = _digits_data()
    train = np.sort(np.r_[parts["source"], parts["target"]])
    return make_class_pair_task(X[train], y[train], classes, n_train, n_test, X_test=X[parts["test"]],
                                y_test=y[parts["test"]], seed=seed)


def _digits_target(target):
    if isinstance(target, str):
        if target not in DIGITS_TARGETS:
            raise ValueError(f"target must be one of {sorted(DIGITS_TARGETS)} or a pair of digits, got {target!r}")
        return DIGITS_TARGETS[target]
    return target


def make_digits_transfer_task(target="close", n_source=160, n_target=20, n_test=None, *, source=DIGITS_SOURCE,
                              method="ridge", seed=None):
    """Source/target digit-pair tasks; ``target`` is a catalogue name (:data:`DIGITS_TARGETS`) or a pair.

    The fixed split of :func:`digits_split`: the source trains on ``n_source`` images of the source part of
    its two digits and is tested on their test part; the target trains on ``n_target`` images of the target
    part and is tested on ``n_test`` (default: all) images of the test part. ``rho`` is
    :func:`task_relatedness` on training images only (:func:`make_class_pair_transfer_task`).
    """
    X, y = _digits_pool()
    return make_class_pair_transfer_task(X, y, source, _digits_target(target), n_source, n_target, n_test,
                                         method=method, seed=seed)


def digits_pair_training(classes):
    """Every training image (source and target parts of :func:`digits_split`) of the digit pair ``classes``,
    labels +1 for the first digit and -1 for the second: the data of the pair's readout in
    :func:`digits_catalogue` (test images excluded)."""
    X, y, parts, _ = _digits_data()
    train = np.sort(np.r_[parts["source"], parts["target"]])
    return class_pair(X[train], y[train], _digits_target(classes))


@functools.lru_cache(maxsize=4)
def _catalogue(method, source):
    Xs, ys = digits_pair_training(source)
    rows = []
    for name, pair in DIGITS_TARGETS.items():
        Xt, yt = digits_pair_training(pair)
        signed = task_relatedness(Xs, ys, Xt, yt, method=method, signed=True)
        oriented = pair if signed >= 0 else (pair[1], pair[0])
        rows.append({"name": name, "source": tuple(source), "target": oriented, "relatedness": abs(signed)})
    return tuple(rows)


def digits_catalogue(method="ridge", source=DIGITS_SOURCE):
    """Rows ``{name, source, target, relatedness}`` for every catalogue target, computed (not stored) from the
    training images of each pair: the target pair is oriented so that its +1 class goes with the source's
    +1 class. The relatedness is the ``rho`` of :func:`make_digits_transfer_task`."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    _check_classes(source, _digits_pool()[1], "source")
    return [dict(r) for r in _catalogue(method, tuple(int(c) for c in source))]

r"""Real-data tasks: binary class pairs, offline from scikit-learn's handwritten digits, and opt-in
downloads of MNIST, Fashion-MNIST, EMNIST and CIFAR-10 (grayscale, downsampled).

A class-pair task labels class ``a`` by +1 and class ``b`` by -1.

Split (:func:`split_by_class`). The images of every class are divided ONCE, with a fixed seed
(:data:`SPLIT_SEED` = 0), into disjoint parts in the proportions :data:`SPLIT_FRACTIONS` = (0.5, 0.2, 0.3):
a *source* part (where every source training set is drawn), a *target* part (target training sets) and a
*test* part (the target's test sets, and the source's: the test part of its own pair). So no target test image is ever a training image of the source or of the target, whatever the
catalogue target, the seed or the sizes. The task ``seed`` only chooses which images of each part are used,
and in which order: for one seed, training sets of different sizes are nested (the first ``n`` of one
seeded ordering) and test sets do not depend on the training sizes. Datasets with an official test split
(the opt-in downloads) split their training split into source and target parts in the ratio of the first
two fractions, and take test images from the official test split. The digits split is fixed
(:func:`digits_split`); :func:`make_class_pair_transfer_task` applies the same construction to any pool.

Inputs (:func:`normalize_images`). The pixels that are constant over the training images are dropped;
every image is centred by subtracting the mean training image and then scaled to
:math:`|x|^2 = N_0`, the number of components kept. Only training images (source and target parts; for
the downloads, the official training split) enter these statistics. The theory's kernels depend on the
inputs only through the overlaps :math:`C(x,x') = x\cdot x'/N_0`; this normalisation puts every diagonal
overlap at 1, as for the isotropic Gaussian inputs of the synthetic tasks, and, unlike a per-pixel
standardisation, does not inflate rare pixels. (The former per-pixel :func:`standardize` is kept for
comparison.)

Relatedness of two tasks (:func:`task_relatedness`). With :math:`f_s, f_t` the best linear readouts
of each task (ridge regression, no intercept, like the bias-free network), the relatedness is their
normalised overlap as functions on a reference set :math:`R`:

.. math:: \rho = \frac{|\langle f_s, f_t\rangle_R|}{\sqrt{\langle f_s, f_s\rangle_R\,\langle f_t, f_t\rangle_R}},
          \qquad \langle f, g\rangle_R = \frac{1}{|R|}\sum_{x\in R} f(x)g(x).

Defaults, chosen for robustness: each readout is fitted on every *training* image of its class pair
(source and target parts, never the test part), with a ridge penalty relative to the input scale,
:math:`r = \text{ridge}\times\mathrm{tr}(X^\top X)/N_0` (``ridge=0.01``; on the digits catalogue the values
move by at most about 0.1 between penalties 0.001 and 1 and with the NNGP predictor, and the order of the
targets does not change); the reference set is the union of the two tasks' training inputs, where the two
predictors are used. For linear teachers on isotropic Gaussian
inputs this is the teacher overlap :math:`\rho` of :mod:`tflmini.tasks` in the limit of many examples; it is
invariant under swapping a task's labels, as the transfer theory is (the target readout is free). Target
labels are oriented so the signed overlap is positive. ``method="nngp"`` uses the infinite-width
network's posterior-mean predictors instead of ridge.
"""

from __future__ import annotations

import functools
import gzip
import struct
import tarfile
import zipfile

import numpy as np

from ._download import ChecksumError, DatasetUnavailableError, fetch_file, get_data_home
from ._validation import (check_matrix, check_nonnegative, check_positive, check_positive_int, check_random_state,
                          check_targets)
from .kernels import nngp_kernel
from .tasks import Task, TransferTask

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
METHODS = ("ridge", "nngp")
#: Parts of every class, in this order, and their proportions (pools without a separate test split).
SPLIT_PARTS = ("source", "target", "test")
SPLIT_FRACTIONS = (0.5, 0.2, 0.3)
#: The seed of the one split of each class into parts.
SPLIT_SEED = 0
#: A description of the digits inputs, stored with the cached experiments (a change makes them stale).
DIGITS_PREPROCESSING = (f"per-digit split {'/'.join(f'{f:g}' for f in SPLIT_FRACTIONS)} (source/target/test), "
                        f"seed {SPLIT_SEED}; constant pixels dropped, training mean image subtracted, |x|^2 = N0")


# -- inputs -----------------------------------------------------------------------------------------

def standardize(X_pool, *others):
    """Per-component standardisation with the pool's statistics; constant components are dropped.

    Returns the standardised pool followed by ``others`` transformed with the same statistics. Not used by
    the loaders any more (they normalise each image, :func:`normalize_images`); kept for comparison.
    """
    X_pool = check_matrix(X_pool, "X_pool", min_rows=2)
    mean, std = X_pool.mean(axis=0), X_pool.std(axis=0)
    keep = std > 1e-12 * max(1.0, float(np.max(std)))
    if not np.any(keep):
        raise ValueError("X_pool has no varying component")
    out = [(X_pool[:, keep] - mean[keep]) / std[keep]]
    for i, X in enumerate(others):
        X = check_matrix(X, f"others[{i}]")
        if X.shape[1] != X_pool.shape[1]:
            raise ValueError(f"others[{i}] has {X.shape[1]} components, the pool has {X_pool.shape[1]}")
        out.append((X[:, keep] - mean[keep]) / std[keep])
    return out[0] if not others else tuple(out)


def _varying(X_train):
    std = X_train.std(axis=0)
    keep = std > 1e-12 * max(1.0, float(np.max(std)))
    if not np.any(keep):
        raise ValueError("X_train has no varying component")
    return keep


def normalize_images(X_train, *others, return_mask=False):
    r"""Per-image normalisation with training statistics only.

    Components constant over ``X_train`` are dropped, the mean row of ``X_train`` (the mean training image) is
    subtracted from every row, and every row is scaled to :math:`|x|^2 = N_0` (the number of components
    kept). Returns the normalised ``X_train`` followed by ``others`` transformed the same way (their own
    rows are scaled, with the training mask and mean); with ``return_mask`` also the boolean mask of the
    kept components, last. A row equal to the mean training image cannot be scaled: ``ValueError``.
    """
    X_train = check_matrix(X_train, "X_train", min_rows=2)
    keep = _varying(X_train)
    mean = X_train[:, keep].mean(axis=0)
    n0 = int(keep.sum())

    def scale(X, name):
        Z = X[:, keep] - mean
        norm = np.linalg.norm(Z, axis=1)
        if np.any(norm <= 1e-12 * np.sqrt(n0)):
            raise ValueError(f"{name} has a row equal to the mean training image: it cannot be normalised")
        return Z * (np.sqrt(n0) / norm)[:, None]

    out = [scale(X_train, "X_train")]
    for i, X in enumerate(others):
        X = check_matrix(X, f"others[{i}]")
        if X.shape[1] != X_train.shape[1]:
            raise ValueError(f"others[{i}] has {X.shape[1]} components, X_train has {X_train.shape[1]}")
        out.append(scale(X, f"others[{i}]"))
    if return_mask:
        out.append(keep)
    return out[0] if len(out) == 1 else tuple(out)


# -- splits --------------------------------------------------------------------------------------------

def _check_fractions(fractions):
    fr = np.asarray(fractions, dtype=np.float64)
    if fr.ndim != 1 or fr.size < 1 or not np.all(np.isfinite(fr)) or np.any(fr <= 0):
        raise ValueError(f"fractions must be positive numbers, got {fractions!r}")
    return fr / fr.sum()


def split_by_class(y, fractions=SPLIT_FRACTIONS, seed=SPLIT_SEED):
    """Disjoint parts of a labelled pool, class by class.

    The examples of every class (in increasing order of the labels) are put in a random order drawn from
    ``seed`` and cut into consecutive parts in the proportions ``fractions`` (normalised to sum 1; every
    example is in exactly one part). Returns a tuple of sorted index arrays into ``y``, one per fraction.
    """
    y = np.asarray(y)
    if y.ndim != 1 or y.size == 0:
        raise ValueError(f"y must be a non-empty 1-D array of labels, got shape {y.shape}")
    fr = _check_fractions(fractions)
    rng = np.random.default_rng(seed)
    parts = [[] for _ in fr]
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        cuts = np.round(np.cumsum(fr) * idx.size).astype(int)
        cuts[-1] = idx.size
        for k, (lo, hi) in enumerate(zip(np.r_[0, cuts[:-1]], cuts)):
            parts[k].append(idx[lo:hi])
    return tuple(np.sort(np.concatenate(p)).astype(np.int64) for p in parts)


def shared_rows(A, B):
    """Number of rows of ``A`` that are also rows of ``B`` (exact comparison of the float values)."""
    A, B = np.ascontiguousarray(A, dtype=np.float64), np.ascontiguousarray(B, dtype=np.float64)
    if A.ndim != 2 or B.ndim != 2 or (A.size and B.size and A.shape[1] != B.shape[1]):
        raise ValueError(f"A and B must be matrices with the same number of columns, got {A.shape} and {B.shape}")
    rows = {r.tobytes() for r in B}
    return int(sum(r.tobytes() in rows for r in A))


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


def _check_classes(classes, labels, name="classes"):
    if not isinstance(classes, (tuple, list)) or len(classes) != 2:
        raise TypeError(f"{name} must be a pair (a, b) of class labels, got {classes!r}")
    a, b = classes
    available = np.unique(labels)
    for c in (a, b):
        if isinstance(c, bool) or not isinstance(c, (int, np.integer)) or c not in available:
            raise ValueError(f"{name} must hold two classes among {available.tolist()}, got {classes!r}")
    if a == b:
        raise ValueError(f"{name} must be two different classes, got {classes!r}")
    return int(a), int(b)


def class_pair(X, y, classes):
    """Inputs of classes ``(a, b)`` and labels +1 for ``a``, -1 for ``b``."""
    a, b = _check_classes(classes, y)
    mask = (y == a) | (y == b)
    return X[mask], np.where(y[mask] == a, 1.0, -1.0)


# -- relatedness ---------------------------------------------------------------------------------

def ridge_readout(X, y, ridge=0.01):
    r"""Ridge readout :math:`w = (X^\top X + rI)^{-1}X^\top y` (no intercept) with the penalty relative to the
    input scale, :math:`r = \text{ridge}\times\mathrm{tr}(X^\top X)/N_0` (the mean eigenvalue of :math:`X^\top X`;
    :math:`= P\,\text{ridge}` for inputs with :math:`|x|^2 = N_0`)."""
    X = check_matrix(X, "X")
    y = check_targets(y, X.shape[0], "y")
    ridge = check_positive(ridge, "ridge")
    A = X.T @ X
    r = ridge * np.trace(A) / X.shape[1]
    return np.linalg.solve(A + r * np.eye(X.shape[1]), X.T @ y)


def _readout_on(X_train, y_train, X_ref, method, ridge, temperature):
    if method == "ridge":
        return X_ref @ ridge_readout(X_train, y_train, ridge)
    K = nngp_kernel(X_train)
    K[np.diag_indices_from(K)] += temperature
    return nngp_kernel(X_ref, X_train) @ np.linalg.solve(K, y_train)


def task_relatedness(X_source, y_source, X_target, y_target, X_ref=None, *, method="ridge", ridge=0.01,
                     temperature=0.05, signed=False):
    r"""Overlap of the two tasks' predictors on the reference inputs ``X_ref`` (module docstring).

    ``method="ridge"``: ridge readouts (:func:`ridge_readout`, penalty ``ridge`` relative to the input
    scale); ``"nngp"``: posterior means of the infinite-width erf network (NNGP kernel, noise
    ``temperature``). ``X_ref=None``: the union of the two tasks' inputs. Pass training inputs only. Returns
    :math:`\rho\in[0,1]`, or the signed overlap in [-1, 1] if ``signed``.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    ridge = check_positive(ridge, "ridge")
    temperature = check_positive(temperature, "temperature")
    Xs = check_matrix(X_source, "X_source")
    ys = check_targets(y_source, Xs.shape[0], "y_source")
    Xt = check_matrix(X_target, "X_target")
    yt = check_targets(y_target, Xt.shape[0], "y_target")
    if Xt.shape[1] != Xs.shape[1]:
        raise ValueError(f"X_target has {Xt.shape[1]} components but X_source has {Xs.shape[1]}")
    Xr = np.r_[Xs, Xt] if X_ref is None else check_matrix(X_ref, "X_ref")
    if Xr.shape[1] != Xs.shape[1]:
        raise ValueError(f"X_ref has {Xr.shape[1]} components but X_source has {Xs.shape[1]}")
    fs = _readout_on(Xs, ys, Xr, method, ridge, temperature)
    ft = _readout_on(Xt, yt, Xr, method, ridge, temperature)
    norm = np.sqrt((fs @ fs) * (ft @ ft))
    if norm == 0:
        raise ValueError("a task's predictor vanishes on X_ref: relatedness undefined")
    overlap = float(fs @ ft / norm)
    return overlap if signed else abs(overlap)


# -- tasks from a labelled pool --------------------------------------------------------------------

def _split(n_available, n_train, n_test, rng, what):
    n_train = check_positive_int(n_train, "n_train")
    n_test = n_available - n_train if n_test is None else check_positive_int(n_test, "n_test")
    if n_test < 1 or n_train + n_test > n_available:
        raise ValueError(f"{what} has {n_available} examples: cannot take n_train={n_train} and n_test={n_test}")
    idx = rng.permutation(n_available)
    # test points from the end: for one seed and n_test, the test set is the same whatever n_train,
    # and training sets grow by nesting
    return idx[:n_train], idx[n_available - n_test:]


def _take(n_available, n, rng, what, name):
    """The first ``n`` of a seeded ordering of ``n_available`` examples (``n=None``: all, in order)."""
    if n is None:
        return np.arange(n_available)
    n = check_positive_int(n, name)
    if n > n_available:
        raise ValueError(f"{what} has {n_available} examples, asked for {name}={n}")
    return rng.permutation(n_available)[:n]


def make_class_pair_task(X, y, classes, n_train, n_test=None, *, X_test=None, y_test=None, seed=None, name=None):
    """A :class:`~tflmini.tasks.Task` for the class pair ``(a, b)`` of a labelled pool.

    Train and test points are drawn without replacement from the pool (``n_test=None``: all the rest),
    or, if ``X_test, y_test`` are given (a separate test split), the training points come from the pool and
    the test points from there. For one seed, training sets of different sizes are nested and the test set
    does not depend on ``n_train``.
    """
    X = check_matrix(X, "X")
    y = np.asarray(y)
    rng = check_random_state(seed)
    Xp, yp = class_pair(X, y, classes)
    label = name or f"{classes[0]} vs {classes[1]}"
    if X_test is None:
        tr, te = _split(len(yp), n_train, n_test, rng, f"class pair {label}")
        return Task(Xp[tr], yp[tr], Xp[te], yp[te], None, label)
    Xq, yq = class_pair(check_matrix(X_test, "X_test"), np.asarray(y_test), classes)
    tr = _take(len(yp), n_train, rng, f"class pair {label}", "n_train")
    te = _take(len(yq), n_test, rng, f"the test split of class pair {label}", "n_test")
    return Task(Xp[tr], yp[tr], Xq[te], yq[te], None, label)


def _pair_indices(y, idx, classes):
    a, b = classes
    sel = idx[(y[idx] == a) | (y[idx] == b)]
    return sel, np.where(y[sel] == a, 1.0, -1.0)


def make_class_pair_transfer_task(X, y, source, target, n_source, n_target, n_test=None, *, X_test=None, y_test=None,
                                  X_ref=None, method="ridge", seed=None, split_seed=SPLIT_SEED,
                                  fractions=SPLIT_FRACTIONS):
    """Source and target class-pair tasks of one pool, with their relatedness as ``rho``.

    Every class of the pool is split once (:func:`split_by_class` with ``fractions`` and ``split_seed``)
    into a source, a target and a test part; with a separate test split ``X_test, y_test``, the pool is
    split into source and target parts (ratio of the first two fractions) and test points come from the
    test split. The source trains on ``n_source`` images of the source part of its pair and is tested on
    the whole test part of its pair; the target trains on ``n_target`` images of the target part of its
    pair and is tested on ``n_test`` images (default: all) of the test part. ``seed`` orders each part:
    training sets are nested in their size, test sets independent of the training sizes, and the source is
    the same for every target.

    The relatedness (:func:`task_relatedness`, ``method``) is computed from training images only: each
    readout from every source- and target-part image of its pair, on ``X_ref`` (default: the union of
    these images of the two pairs). The target's labels are oriented (classes swapped if needed) so the
    signed overlap is >= 0.
    """
    X = check_matrix(X, "X")
    y = np.asarray(y)
    source = _check_classes(source, y, "source")
    target = _check_classes(target, y, "target")
    separate_test = X_test is not None
    fr = _check_fractions(fractions)
    if fr.size != 3:
        raise ValueError(f"fractions must give the source, target and test parts, got {fractions!r}")
    parts = split_by_class(y, fr[:2] if separate_test else fr, split_seed)
    train = np.sort(np.r_[parts[0], parts[1]])
    Xs_all, ys_all = class_pair(X[train], y[train], source)
    Xt_all, yt_all = class_pair(X[train], y[train], target)
    ref = X_ref
    if task_relatedness(Xs_all, ys_all, Xt_all, yt_all, ref, method=method, signed=True) < 0:
        target = (target[1], target[0])
        yt_all = -yt_all
    rho = task_relatedness(Xs_all, ys_all, Xt_all, yt_all, ref, method=method)
    rng = check_random_state(seed)
    if separate_test:
        Xq, yq = check_matrix(X_test, "X_test"), np.asarray(y_test)
        _check_classes(source, yq, "source")
        _check_classes(target, yq, "target")
        test = np.arange(len(yq))
    else:
        Xq, yq, test = X, y, parts[2]
    tasks = []
    roles = (("source", source, n_source, None), ("target", target, n_target, n_test))
    for k, (role, pair, n, n_te) in enumerate(roles):
        label = f"{role} {pair[0]} vs {pair[1]}"
        tr, ytr = _pair_indices(y, parts[k], pair)
        te, yte = _pair_indices(yq, test, pair)
        i = _take(len(tr), n, rng, f"the {role} part of class pair {pair[0]} vs {pair[1]}", f"n_{role}")
        j = _take(len(te), n_te, rng, f"the test part of class pair {pair[0]} vs {pair[1]}", "n_test")
        tasks.append(Task(X[tr[i]], ytr[i], Xq[te[j]], yte[j], None, label))
    return TransferTask(tasks[0], tasks[1], float(rho))


# -- digits ----------------------------------------------------------------------------------------

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


# -- opt-in downloads ------------------------------------------------------------------------------

# Official distribution points (MNIST also from a mirror, as LeCun's server often refuses scripted
# downloads) and the MD5 digests their distributors publish for each file: every download and every
# later load is checked against them (tflmini._download), plus a sha256 recorded at the first download.
_MNIST_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                "t10k-labels-idx1-ubyte.gz")
REMOTE_DATASETS = {
    "mnist": {"kind": "idx", "files": {f: [f"https://ossci-datasets.s3.amazonaws.com/mnist/{f}",
                                           f"http://yann.lecun.com/exdb/mnist/{f}"] for f in _MNIST_FILES},
              "md5": dict(zip(_MNIST_FILES, ("f68b3c2dcbeaaa9fbdd348bbdeb94873", "d53e105ee54ea40749a09fcbcd1e9432",
                                             "9fb629c4189551a2d022fa330f9573f3", "ec29112dd5afa0611ce80d1b7f02629c")))},
    "fashion_mnist": {"kind": "idx", "files": {
        f: [f"http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/{f}"] for f in _MNIST_FILES},
        "md5": dict(zip(_MNIST_FILES, ("8d4fb7e6c68d591d4c3dfef9ec88bf0d", "25c81989df183df01b3e8a0aad5dffbe",
                                       "bef4ecab320f06d8554ea6380940ec79", "bb300cfdad3c16e7a12a480ee83cd310")))},
    "emnist": {"kind": "emnist", "files": {"gzip.zip": ["https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip"]},
               "md5": {"gzip.zip": "58c8d27c78d21e728a6bc7b3cc06412e"}},
    "cifar10": {"kind": "cifar", "files": {
        "cifar-10-binary.tar.gz": ["https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"]},
        "md5": {"cifar-10-binary.tar.gz": "c32a1d4ab5d03f1284b67883e8d87530"}},
}
EMNIST_SPLITS = ("letters", "digits", "balanced", "byclass", "bymerge", "mnist")


def _parse_idx(raw: bytes):
    """Arrays in the IDX format of MNIST (big-endian header: magic 0x0000080<ndim>, then the sizes)."""
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError("not an IDX file of unsigned bytes")
    ndim = raw[3]
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"IDX file truncated: header says {dims}, found {data.size} values")
    return data.reshape(dims)


def _area_matrix(n_old, n_new):
    """(n_new, n_old) matrix averaging the old pixels each new pixel covers (exact block mean if n_new | n_old)."""
    edges_new = np.linspace(0.0, n_old, n_new + 1)
    M = np.zeros((n_new, n_old))
    for i in range(n_new):
        lo, hi = edges_new[i], edges_new[i + 1]
        for j in range(int(np.floor(lo)), int(np.ceil(hi))):
            M[i, j] = min(hi, j + 1) - max(lo, j)
    return M / M.sum(axis=1, keepdims=True)


def downsample(images, size):
    """Area-average images (n, h, w) to (n, size, size)."""
    images = np.asarray(images, dtype=np.float64)
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or not 1 <= size <= min(images.shape[1:]):
        raise ValueError(f"size must be an integer in [1, {min(images.shape[1:])}], got {size!r}")
    A, B = _area_matrix(images.shape[1], int(size)), _area_matrix(images.shape[2], int(size))
    return np.einsum("ih,nhw,jw->nij", A, images, B)


def _grayscale(rgb):
    """Luma of (n, 3, h, w) RGB images (ITU-R BT.601 weights)."""
    return np.einsum("c,nchw->nhw", np.array([0.299, 0.587, 0.114]), rgb.astype(np.float64))


def _read_raw(name, data_home, download, progress):
    spec = REMOTE_DATASETS[name]
    published = spec.get("md5", {})
    paths = {f: fetch_file(urls, f, name, data_home=data_home, md5=published.get(f), download=download,
                           progress=progress)
             for f, urls in spec["files"].items()}
    if spec["kind"] == "idx":
        arrays = [_parse_idx(gzip.decompress(paths[f].read_bytes())) for f in _MNIST_FILES]
        return arrays
    if spec["kind"] == "emnist":
        return paths["gzip.zip"]
    with tarfile.open(paths["cifar-10-binary.tar.gz"], "r:gz") as tar:
        def batch(member):
            f = tar.extractfile(member)
            if f is None:
                raise ValueError(f"{member} is missing from the CIFAR-10 archive")
            rec = np.frombuffer(f.read(), dtype=np.uint8).reshape(-1, 3073)
            return rec[:, 1:].reshape(-1, 3, 32, 32), rec[:, 0].astype(np.int64)
        members = {m.name.rsplit("/", 1)[-1]: m for m in tar.getmembers()}
        train = [batch(members[f"data_batch_{i}.bin"]) for i in range(1, 6)]
        test = batch(members["test_batch.bin"])
    return [np.concatenate([t[0] for t in train]), np.concatenate([t[1] for t in train]), test[0], test[1]]


def _read_emnist(zip_path, split):
    out = []
    with zipfile.ZipFile(zip_path) as zf:
        for part in ("train-images-idx3", "train-labels-idx1", "test-images-idx3", "test-labels-idx1"):
            member = f"gzip/emnist-{split}-{part}-ubyte.gz"
            out.append(_parse_idx(gzip.decompress(zf.read(member))))
    # EMNIST images are stored transposed relative to MNIST
    out[0], out[2] = np.swapaxes(out[0], 1, 2), np.swapaxes(out[2], 1, 2)
    return out


def load_remote_dataset(name, *, size=8, split="letters", data_home=None, download=True, progress=True):
    """Grayscale images of ``name`` (one of :data:`REMOTE_DATASETS`) area-downsampled to ``size`` x ``size``,
    normalised per image with the training split's statistics (:func:`normalize_images`: pixels constant
    over the training split dropped, mean training image subtracted, :math:`|x|^2 = N_0`).

    Files are downloaded once into ``get_data_home(data_home)/name`` and verified against the sha256
    recorded at the first download (trust on first use; see :mod:`tflmini._download`). Returns
    ``(X_train, y_train, X_test, y_test)``. Raises :class:`DatasetUnavailableError` when the files are
    not cached and cannot be downloaded (e.g. offline), :class:`ChecksumError` for a corrupted cache.
    ``split`` selects the EMNIST split (:data:`EMNIST_SPLITS`).
    """
    if name not in REMOTE_DATASETS:
        raise ValueError(f"name must be one of {sorted(REMOTE_DATASETS)}, got {name!r}")
    if name == "emnist" and split not in EMNIST_SPLITS:
        raise ValueError(f"split must be one of {EMNIST_SPLITS}, got {split!r}")
    raw = _read_raw(name, data_home, download, progress)
    if name == "emnist":
        raw = _read_emnist(raw, split)
    Xtr, ytr, Xte, yte = raw
    if name == "cifar10":
        Xtr, Xte = _grayscale(Xtr), _grayscale(Xte)
    Xtr, Xte = downsample(Xtr, size), downsample(Xte, size)
    Xtr, Xte = normalize_images(Xtr.reshape(len(Xtr), -1), Xte.reshape(len(Xte), -1))
    return Xtr, ytr.astype(np.int64), Xte, yte.astype(np.int64)


def make_remote_transfer_task(name, source, target, n_source, n_target, n_test, *, size=8, split="letters",
                              n_reference=None, method="ridge", seed=None, data_home=None, download=True,
                              progress=True):
    """Class-pair source/target tasks from a downloaded dataset. Every class of the official training split is
    split once into disjoint source and target parts (:func:`make_class_pair_transfer_task`); the source and
    the target train on their parts, test examples come from the official test split. The relatedness uses
    training images only: on the union of the two pairs' training images (``n_reference=None``), or on the
    first ``n_reference`` images of the training split. See :func:`load_remote_dataset` for caching and
    errors."""
    Xtr, ytr, Xte, yte = load_remote_dataset(name, size=size, split=split, data_home=data_home, download=download,
                                             progress=progress)
    X_ref = None
    if n_reference is not None:
        n_reference = int(check_nonnegative(n_reference, "n_reference")) or len(Xtr)
        X_ref = Xtr[:n_reference]
    return make_class_pair_transfer_task(Xtr, ytr, source, target, n_source, n_target, n_test, X_test=Xte, y_test=yte,
                                         X_ref=X_ref, method=method, seed=seed)

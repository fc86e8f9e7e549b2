r"""Binary class-pair tasks from a labelled pool of images: the split of every class into parts, the input
normalisation and the task constructors (the digits and the downloaded datasets use them).

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
(:func:`~tflmini.datasets.digits_split`); :func:`make_class_pair_transfer_task` applies the same construction
to any pool.

Inputs (:func:`normalize_images`). The pixels that are constant over the training images are dropped;
every image is centred by subtracting the mean training image and then scaled to
:math:`|x|^2 = N_0`, the number of components kept. Only training images (source and target parts; for
the downloads, the official training split) enter these statistics. The theory's kernels depend on the
inputs only through the overlaps :math:`C(x,x') = x\cdot x'/N_0`; this normalisation puts every diagonal
overlap at 1, as for the isotropic Gaussian inputs of the synthetic tasks, and, unlike a per-pixel
standardisation, does not inflate rare pixels. (The former per-pixel :func:`standardize` is kept for
comparison.)

The relatedness ``rho`` of a transfer task: :mod:`tflmini.relatedness`.
"""

from __future__ import annotations

import numpy as np

from ._validation import check_count, check_matrix, check_random_state
from .relatedness import task_relatedness
from .tasks import Task, TransferTask

__all__ = ["SPLIT_FRACTIONS", "SPLIT_SEED", "standardize", "normalize_images", "split_by_class", "shared_rows",
           "class_pair", "make_class_pair_task", "make_class_pair_transfer_task"]

#: Parts of every class, in this order, and their proportions (pools without a separate test split).
SPLIT_PARTS = ("source", "target", "test")
SPLIT_FRACTIONS = (0.5, 0.2, 0.3)
#: The seed of the one split of each class into parts.
SPLIT_SEED = 0


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



# -- tasks from a labelled pool --------------------------------------------------------------------

def _split(n_available, n_train, n_test, rng, what):
    n_train = check_count(n_train, "n_train")
    if n_test is None:  # all the rest: at least one example must be left for testing
        if n_train >= n_available:
            raise ValueError(f"{what} has {n_available} examples, asked for n_train={n_train} with the rest as test "
                             f"set (n_test=None): n_train can be at most {n_available - 1}")
        n_test = n_available - n_train
    n_test = check_count(n_test, "n_test")
    if n_train + n_test > n_available:
        raise ValueError(f"{what} has {n_available} examples, asked for n_train={n_train} and n_test={n_test} "
                         f"({n_train + n_test} in all)")
    idx = rng.permutation(n_available)
    # test points from the end: for one seed and n_test, the test set is the same whatever n_train,
    # and training sets grow by nesting
    return idx[:n_train], idx[n_available - n_test:]


def _take(n_available, n, rng, what, name):
    """The first ``n`` of a seeded ordering of ``n_available`` examples (``n=None``: all, in order)."""
    if n is None:
        return np.arange(n_available)
    n = check_count(n, name)
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
    tr = _take(len(yp), n_train, rng, f"the training pool of class pair {label}", "n_train")
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

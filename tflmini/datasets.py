r"""Real-data tasks: binary class pairs, offline from scikit-learn's handwritten digits, and opt-in
downloads of MNIST, Fashion-MNIST, EMNIST and CIFAR-10 (grayscale, downsampled).

A class-pair task labels class ``a`` by +1 and class ``b`` by -1. Inputs are standardised per pixel
with the mean and standard deviation of the whole pool (all digits, or a dataset's training split);
pixels that are constant over the pool are dropped, so every input component has variance 1, as the
theory's kernels assume.

Relatedness of two tasks (:func:`task_relatedness`). With :math:`f_s, f_t` the best linear readouts
of each task (ridge regression on all examples of its two classes, no intercept, like the bias-free
network), the relatedness is their overlap as functions on a common reference set :math:`R` (the pool):

.. math:: \rho = \frac{|\langle f_s, f_t\rangle_R|}{\sqrt{\langle f_s, f_s\rangle_R\,\langle f_t, f_t\rangle_R}},
          \qquad \langle f, g\rangle_R = \frac{1}{|R|}\sum_{x\in R} f(x)g(x).

Why: for the synthetic tasks (linear teachers, isotropic Gaussian inputs) this is exactly the teacher
overlap :math:`\rho` of :mod:`tflmini.tasks`, in the limit of many examples; it is cheap and
deterministic; and it is invariant under swapping a task's labels, which the transfer theory also is
(the target readout is free). Target labels are oriented so the signed overlap is positive.
``method="nngp"`` uses the infinite-width network's posterior-mean predictors instead of ridge.
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
    "REMOTE_DATASETS",
    "standardize",
    "load_digits_pool",
    "class_pair",
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
    "weak": (3, 4),
    "unrelated": (4, 6),
}
METHODS = ("ridge", "nngp")


# -- pools and class pairs ------------------------------------------------------------------------

def standardize(X_pool, *others):
    """Per-component standardisation with the pool's statistics; constant components are dropped.

    Returns the standardised pool followed by ``others`` transformed with the same statistics.
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


@functools.lru_cache(maxsize=1)
def _digits_pool():
    from sklearn.datasets import load_digits  # bundled with scikit-learn: no download

    X, y = load_digits(return_X_y=True)
    X = standardize(X.astype(np.float64))
    X.setflags(write=False)
    y = y.astype(np.int64)
    y.setflags(write=False)
    return X, y


def load_digits_pool():
    """All 1797 scikit-learn digits (8x8), standardised: ``X`` (1797, 61) (3 constant pixels dropped)
    and the digit labels ``y`` (1797,)."""
    X, y = _digits_pool()
    return X.copy(), y.copy()


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

def _readout_on(X_train, y_train, X_ref, method, ridge, temperature):
    if method == "ridge":
        A = X_train.T @ X_train + ridge * np.eye(X_train.shape[1])
        return X_ref @ np.linalg.solve(A, X_train.T @ y_train)
    K = nngp_kernel(X_train)
    K[np.diag_indices_from(K)] += temperature
    return nngp_kernel(X_ref, X_train) @ np.linalg.solve(K, y_train)


def task_relatedness(X_source, y_source, X_target, y_target, X_ref, *, method="ridge", ridge=1.0, temperature=0.05,
                     signed=False):
    r"""Overlap of the two tasks' predictors on the reference inputs ``X_ref`` (module docstring).

    ``method="ridge"``: ridge readouts with penalty ``ridge``; ``"nngp"``: posterior means of the
    infinite-width erf network (NNGP kernel, noise ``temperature``). Returns :math:`\rho\in[0,1]`, or
    the signed overlap in [-1, 1] if ``signed``.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    ridge = check_positive(ridge, "ridge")
    temperature = check_positive(temperature, "temperature")
    Xs = check_matrix(X_source, "X_source")
    ys = check_targets(y_source, Xs.shape[0], "y_source")
    Xt = check_matrix(X_target, "X_target")
    yt = check_targets(y_target, Xt.shape[0], "y_target")
    Xr = check_matrix(X_ref, "X_ref")
    for X, name in ((Xt, "X_target"), (Xr, "X_ref")):
        if X.shape[1] != Xs.shape[1]:
            raise ValueError(f"{name} has {X.shape[1]} components but X_source has {Xs.shape[1]}")
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


def make_class_pair_task(X, y, classes, n_train, n_test=None, *, X_test=None, y_test=None, seed=None, name=None):
    """A :class:`~tflmini.tasks.Task` for the class pair ``(a, b)`` of a labelled pool.

    Train and test points are drawn without replacement from the pool (``n_test=None``: all the rest),
    or, if ``X_test, y_test`` are given (an official test split), the test points come from there.
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
    n_train = check_positive_int(n_train, "n_train")
    if n_train > len(yp):
        raise ValueError(f"class pair {label} has {len(yp)} training examples, asked for n_train={n_train}")
    n_test = len(yq) if n_test is None else check_positive_int(n_test, "n_test")
    if n_test > len(yq):
        raise ValueError(f"the test split of class pair {label} has {len(yq)} examples, asked for n_test={n_test}")
    tr, te = rng.permutation(len(yp))[:n_train], rng.permutation(len(yq))[:n_test]
    return Task(Xp[tr], yp[tr], Xq[te], yq[te], None, label)


def make_class_pair_transfer_task(X, y, source, target, n_source, n_target, n_test=None, *, X_test=None, y_test=None,
                                  X_ref=None, method="ridge", seed=None):
    """Source and target class-pair tasks of one pool, with their relatedness as ``rho``.

    The target's labels are oriented (classes swapped if needed) so the signed overlap is >= 0; the
    relatedness uses every example of each pair and ``X_ref`` (default: the whole pool ``X``).
    """
    X = check_matrix(X, "X")
    y = np.asarray(y)
    source = _check_classes(source, y, "source")
    target = _check_classes(target, y, "target")
    Xs_all, ys_all = class_pair(X, y, source)
    Xt_all, yt_all = class_pair(X, y, target)
    ref = X if X_ref is None else X_ref
    if task_relatedness(Xs_all, ys_all, Xt_all, yt_all, ref, method=method, signed=True) < 0:
        target = (target[1], target[0])
        yt_all = -yt_all
    rho = task_relatedness(Xs_all, ys_all, Xt_all, yt_all, ref, method=method)
    rng = check_random_state(seed)
    src = make_class_pair_task(X, y, source, n_source, None, X_test=X_test, y_test=y_test,
                               seed=rng, name=f"source {source[0]} vs {source[1]}")
    tgt = make_class_pair_task(X, y, target, n_target, n_test, X_test=X_test, y_test=y_test, seed=rng,
                               name=f"target {target[0]} vs {target[1]}")
    return TransferTask(src, tgt, float(rho))


# -- digits ----------------------------------------------------------------------------------------

def make_digits_task(classes, n_train, n_test=None, *, seed=None):
    """Binary task on two scikit-learn digits (standardised 8x8 images, offline)."""
    X, y = _digits_pool()
    return make_class_pair_task(X, y, classes, n_train, n_test, seed=seed)


def _digits_target(target):
    if isinstance(target, str):
        if target not in DIGITS_TARGETS:
            raise ValueError(f"target must be one of {sorted(DIGITS_TARGETS)} or a pair of digits, got {target!r}")
        return DIGITS_TARGETS[target]
    return target


def make_digits_transfer_task(target="close", n_source=200, n_target=30, n_test=None, *, source=DIGITS_SOURCE,
                              method="ridge", seed=None):
    """Source/target digit-pair tasks; ``target`` is a catalogue name (:data:`DIGITS_TARGETS`) or a pair.

    The source uses ``n_source`` of its examples; the target ``n_target`` for training and ``n_test``
    (default: all its other examples) for testing. ``rho`` is :func:`task_relatedness` on all digits.
    """
    X, y = _digits_pool()
    return make_class_pair_transfer_task(X, y, source, _digits_target(target), n_source, n_target, n_test,
                                         method=method, seed=seed)


@functools.lru_cache(maxsize=4)
def _catalogue(method, source):
    X, y = _digits_pool()
    Xs, ys = class_pair(X, y, source)
    rows = []
    for name, pair in DIGITS_TARGETS.items():
        Xt, yt = class_pair(X, y, pair)
        signed = task_relatedness(Xs, ys, Xt, yt, X, method=method, signed=True)
        oriented = pair if signed >= 0 else (pair[1], pair[0])
        rows.append({"name": name, "source": tuple(source), "target": oriented, "relatedness": abs(signed)})
    return tuple(rows)


def digits_catalogue(method="ridge", source=DIGITS_SOURCE):
    """Rows ``{name, source, target, relatedness}`` for every catalogue target, computed (not stored):
    the target pair is oriented so that its +1 class goes with the source's +1 class."""
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
    standardised with the training split's statistics (constant pixels dropped).

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
    Xtr, Xte = standardize(Xtr.reshape(len(Xtr), -1), Xte.reshape(len(Xte), -1))
    return Xtr, ytr.astype(np.int64), Xte, yte.astype(np.int64)


def make_remote_transfer_task(name, source, target, n_source, n_target, n_test, *, size=8, split="letters",
                              n_reference=5000, method="ridge", seed=None, data_home=None, download=True,
                              progress=True):
    """Class-pair source/target tasks from a downloaded dataset (train examples from the official training
    split, target test examples from the official test split); the relatedness is computed on the first
    ``n_reference`` training images. See :func:`load_remote_dataset` for caching and errors."""
    Xtr, ytr, Xte, yte = load_remote_dataset(name, size=size, split=split, data_home=data_home, download=download,
                                             progress=progress)
    n_reference = int(check_nonnegative(n_reference, "n_reference")) or len(Xtr)
    return make_class_pair_transfer_task(Xtr, ytr, source, target, n_source, n_target, n_test, X_test=Xte, y_test=yte,
                                         X_ref=Xtr[:n_reference], method=method, seed=seed)

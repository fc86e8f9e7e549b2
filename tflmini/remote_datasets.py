r"""Opt-in real-data tasks downloaded on first use: MNIST, Fashion-MNIST, EMNIST and CIFAR-10
(:data:`REMOTE_DATASETS`), read from their distribution formats (IDX, the EMNIST zip, the CIFAR-10 binary
archive), made grayscale, area-downsampled (:func:`downsample`) and normalised per image with the statistics of
the official training split (:func:`~tflmini.class_pairs.normalize_images`). Class-pair transfer tasks of them
(:func:`make_remote_transfer_task`) are built like the digits' (:mod:`tflmini.class_pairs`), with test images
from the official test split. Downloading, caching and checksums: :mod:`tflmini._download`.
"""

from __future__ import annotations

import gzip
import struct
import tarfile
import zipfile

import numpy as np

from ._download import fetch_file
from ._validation import check_nonnegative
from .class_pairs import make_class_pair_transfer_task, normalize_images

__all__ = ["REMOTE_DATASETS", "EMNIST_SPLITS", "downsample", "load_remote_dataset", "make_remote_transfer_task"]

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

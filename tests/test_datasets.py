"""Real-data tasks: the offline digits catalogue, the relatedness measure, and the opt-in download
loaders, which are tested only on small fixture files this module writes (file:// URLs, never the network)."""

from __future__ import annotations

import gzip
import io
import json
import struct
import tarfile
import urllib.request
import zipfile

import numpy as np
import pytest

from tflmini import datasets
from tflmini._download import ChecksumError, DatasetUnavailableError, fetch_file, sha256_of
from tflmini.datasets import (DIGITS_TARGETS, class_pair, digits_catalogue, downsample, load_digits_pool,
                              load_remote_dataset, make_digits_task, make_digits_transfer_task,
                              make_remote_transfer_task, standardize, task_relatedness)
from tflmini.tasks import make_transfer_task


# -- digits ----------------------------------------------------------------------------------------------

def test_digits_pool_is_standardised():
    X, y = load_digits_pool()
    assert X.shape == (1797, 61) and y.shape == (1797,)
    np.testing.assert_allclose(X.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(X.var(axis=0), 1.0, rtol=1e-12)
    X[0, 0] = 99.0  # a copy: the cached pool is untouched
    assert load_digits_pool()[0][0, 0] != 99.0


def test_class_pair_labels():
    X, y = load_digits_pool()
    Xp, yp = class_pair(X, y, (3, 8))
    assert set(np.unique(yp)) == {-1.0, 1.0}
    assert np.sum(yp == 1) == np.sum(y == 3) and np.sum(yp == -1) == np.sum(y == 8)


def test_digits_task_split_is_nested_with_a_fixed_test_set():
    a = make_digits_task((0, 1), 20, 100, seed=3)
    b = make_digits_task((0, 1), 60, 100, seed=3)
    assert a.X_train.shape == (20, 61) and a.X_test.shape == (100, 61)
    np.testing.assert_array_equal(a.X_test, b.X_test)
    np.testing.assert_array_equal(a.X_train, b.X_train[:20])
    rows_train = {r.tobytes() for r in b.X_train}
    assert not any(r.tobytes() in rows_train for r in b.X_test)


def test_relatedness_properties():
    X, y = load_digits_pool()
    Xs, ys = class_pair(X, y, (3, 8))
    Xt, yt = class_pair(X, y, (5, 8))
    r = task_relatedness(Xs, ys, Xt, yt, X)
    assert 0 < r < 1
    assert task_relatedness(Xt, yt, Xs, ys, X) == pytest.approx(r)
    assert task_relatedness(Xs, ys, Xt, -yt, X) == pytest.approx(r)
    assert task_relatedness(Xs, ys, Xt, -yt, X, signed=True) == pytest.approx(-task_relatedness(Xs, ys, Xt, yt, X,
                                                                                                 signed=True))
    assert task_relatedness(Xs, ys, Xs, ys, X) == pytest.approx(1.0)
    assert 0 <= task_relatedness(Xs, ys, Xt, yt, X, method="nngp") <= 1


@pytest.mark.parametrize("rho", [0.0, 0.5, 0.9])
def test_relatedness_recovers_the_teacher_overlap(rho):
    task = make_transfer_task(4000, 4000, 4000, 10, rho, teacher="linear", seed=1)
    r = task_relatedness(task.source.X_train, task.source.y_train, task.target.X_train, task.target.y_train,
                         task.source.X_test)
    assert r == pytest.approx(rho, abs=0.03)


def test_catalogue_is_graded_from_close_to_unrelated():
    rows = digits_catalogue()
    assert len(rows) >= 3 and [r["name"] for r in rows] == list(DIGITS_TARGETS)
    rel = [r["relatedness"] for r in rows]
    assert all(a > b for a, b in zip(rel, rel[1:])), rel
    assert rel[0] > 0.7 and rel[-1] < 0.1
    X, y = load_digits_pool()
    Xs, ys = class_pair(X, y, rows[0]["source"])
    for r in rows:  # oriented targets have a non-negative signed overlap
        Xt, yt = class_pair(X, y, r["target"])
        assert task_relatedness(Xs, ys, Xt, yt, X, signed=True) >= 0


def test_digits_transfer_task():
    task = make_digits_transfer_task("related", n_source=100, n_target=20, n_test=50, seed=0)
    row = next(r for r in digits_catalogue() if r["name"] == "related")
    assert task.rho == pytest.approx(row["relatedness"])
    assert task.source.X_train.shape == (100, 61) and task.target.X_train.shape == (20, 61)
    assert task.target.X_test.shape == (50, 61)
    assert task.target.name == f"target {row['target'][0]} vs {row['target'][1]}"
    other = make_digits_transfer_task("close", n_source=100, n_target=20, n_test=50, seed=0)
    np.testing.assert_array_equal(task.source.X_train, other.source.X_train)  # one source for every target


@pytest.mark.parametrize(
    "call, exc, word",
    [
        (lambda: make_digits_task((3, 3), 5), ValueError, "classes"),
        (lambda: make_digits_task((3, 11), 5), ValueError, "classes"),
        (lambda: make_digits_task(3, 5), TypeError, "classes"),
        (lambda: make_digits_task((0, 1), 400), ValueError, "n_train"),
        (lambda: make_digits_task((0, 1), "ten"), TypeError, "n_train"),
        (lambda: make_digits_task((0, 1), 10, 0), ValueError, "n_test"),
        (lambda: make_digits_transfer_task("far away"), ValueError, "target"),
        (lambda: digits_catalogue(method="cosine"), ValueError, "method"),
        (lambda: task_relatedness(np.ones((3, 2)), np.ones(3), np.ones((3, 3)), np.ones(3), np.ones((3, 2))),
         ValueError, "X_target"),
        (lambda: standardize(np.ones((4, 3))), ValueError, "X_pool"),
    ],
)
def test_bad_arguments_are_named(call, exc, word):
    with pytest.raises(exc, match=word):
        call()


def test_standardize_drops_constant_components():
    X = np.c_[np.arange(6.0), np.ones(6), np.arange(6.0) ** 2]
    Z, W = standardize(X, X[:2])
    assert Z.shape == (6, 2) and W.shape == (2, 2)
    np.testing.assert_allclose(Z.std(axis=0), 1.0)
    np.testing.assert_allclose(W, Z[:2])


def test_downsample_is_an_area_average():
    rng = np.random.default_rng(0)
    imgs = rng.random((3, 28, 28))
    small = downsample(imgs, 7)
    np.testing.assert_allclose(small, imgs.reshape(3, 7, 4, 7, 4).mean(axis=(2, 4)))
    odd = downsample(imgs, 10)  # 28 is not a multiple of 10: fractional pixels
    np.testing.assert_allclose(odd.mean(axis=(1, 2)), imgs.mean(axis=(1, 2)), rtol=1e-12)
    with pytest.raises(ValueError, match="size"):
        downsample(imgs, 0)


# -- opt-in downloads, on local fixtures ------------------------------------------------------------------

def _idx(array):
    a = np.asarray(array, dtype=np.uint8)
    return gzip.compress(struct.pack(">BBBB", 0, 0, 8, a.ndim) + struct.pack(">" + "I" * a.ndim, *a.shape) + a.tobytes())


def _images(rng, n, size, n_classes):
    labels = np.arange(n) % n_classes
    imgs = rng.integers(0, 50, (n, size, size))
    for c in range(n_classes):  # class-dependent bright block, so class pairs are learnable
        imgs[labels == c, 2 * c:2 * c + 4, :] += 150
    return imgs.astype(np.uint8), labels.astype(np.uint8)


@pytest.fixture
def no_network(monkeypatch):
    """Only file:// URLs may be opened during these tests."""
    real = urllib.request.urlopen

    def guarded(url, *args, **kwargs):
        if not str(url).startswith("file://"):
            raise AssertionError(f"test tried to reach the network: {url}")
        return real(url, *args, **kwargs)

    monkeypatch.setattr(urllib.request, "urlopen", guarded)


@pytest.fixture
def mnist_fixture(tmp_path, monkeypatch, no_network):
    rng = np.random.default_rng(0)
    src = tmp_path / "server"
    src.mkdir()
    Xtr, ytr = _images(rng, 60, 28, 3)
    Xte, yte = _images(rng, 30, 28, 3)
    for name, arr in zip(datasets._MNIST_FILES, (Xtr, ytr, Xte, yte)):
        (src / name).write_bytes(_idx(arr))
    files = {f: [(src / "missing" / f).as_uri(), (src / f).as_uri()] for f in datasets._MNIST_FILES}
    monkeypatch.setitem(datasets.REMOTE_DATASETS, "mnist", {"kind": "idx", "files": files})
    return tmp_path / "cache", (Xtr, ytr, Xte, yte)


def test_mnist_loader_downloads_records_checksum_and_reuses_cache(mnist_fixture, monkeypatch):
    home, (Xtr, ytr, Xte, yte) = mnist_fixture
    X, y, X2, y2 = load_remote_dataset("mnist", size=7, data_home=home, progress=False)
    assert X.shape[0] == 60 and X2.shape[0] == 30 and X.shape[1] <= 49
    np.testing.assert_array_equal(y, ytr)
    np.testing.assert_allclose(X.mean(axis=0), 0.0, atol=1e-12)
    record = json.loads((home / "mnist" / "train-images-idx3-ubyte.gz.sha256").read_text())
    assert record["sha256"] == sha256_of(home / "mnist" / "train-images-idx3-ubyte.gz")
    assert "trust on first use" in record["note"]

    def offline(*a, **k):
        raise AssertionError("the cache should have been used")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    again = load_remote_dataset("mnist", size=7, data_home=home, progress=False)
    np.testing.assert_array_equal(again[0], X)
    task = make_remote_transfer_task("mnist", (0, 1), (0, 2), 20, 10, 5, size=7, data_home=home, seed=0,
                                     progress=False)
    assert task.source.X_train.shape == (20, X.shape[1]) and task.target.X_test.shape == (5, X.shape[1])
    assert 0 <= task.rho <= 1


def test_corrupted_cache_is_refused(mnist_fixture):
    home, _ = mnist_fixture
    load_remote_dataset("mnist", size=7, data_home=home, progress=False)
    path = home / "mnist" / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-3] + b"xyz")
    with pytest.raises(ChecksumError, match="Delete"):
        load_remote_dataset("mnist", size=7, data_home=home, progress=False)


def test_offline_gives_a_clear_error(tmp_path, monkeypatch, no_network):
    files = {f: [(tmp_path / "nowhere" / f).as_uri()] for f in datasets._MNIST_FILES}
    monkeypatch.setitem(datasets.REMOTE_DATASETS, "mnist", {"kind": "idx", "files": files})
    with pytest.raises(DatasetUnavailableError, match="offline"):
        load_remote_dataset("mnist", data_home=tmp_path / "cache", progress=False)
    with pytest.raises(DatasetUnavailableError, match="download=False"):
        load_remote_dataset("mnist", data_home=tmp_path / "cache", download=False, progress=False)
    assert not any((tmp_path / "cache" / "mnist").glob("*.part"))


def test_expected_sha256_is_enforced(tmp_path, no_network):
    f = tmp_path / "a.bin"
    f.write_bytes(b"hello")
    with pytest.raises(ChecksumError, match="expected"):
        fetch_file([f.as_uri()], "a.bin", "x", data_home=tmp_path / "c", sha256="0" * 64, progress=False)
    path = fetch_file([f.as_uri()], "a.bin", "x", data_home=tmp_path / "c", sha256=sha256_of(f), progress=False)
    assert path.read_bytes() == b"hello"


def test_published_md5_is_enforced_on_download_and_on_load(tmp_path, no_network):
    import hashlib

    f = tmp_path / "a.bin"
    f.write_bytes(b"hello")
    good = hashlib.md5(b"hello").hexdigest()
    with pytest.raises(ChecksumError, match="distributor publishes"):
        fetch_file([f.as_uri()], "a.bin", "x", data_home=tmp_path / "c", md5="0" * 32, progress=False)
    assert not any((tmp_path / "c" / "x").iterdir())  # the bad download is not kept
    path = fetch_file([f.as_uri()], "a.bin", "x", data_home=tmp_path / "c", md5=good, progress=False)
    assert path.read_bytes() == b"hello"
    with pytest.raises(ChecksumError, match="distributor publishes"):  # a cached file that is not the published one
        fetch_file([f.as_uri()], "a.bin", "x", data_home=tmp_path / "c", md5="1" * 32, progress=False)


def test_every_remote_dataset_ships_published_md5_digests():
    for name, spec in datasets.REMOTE_DATASETS.items():
        assert set(spec["md5"]) == set(spec["files"]), name
        assert all(len(d) == 32 and int(d, 16) >= 0 for d in spec["md5"].values()), name


def test_cifar_loader_grayscale_and_downsampled(tmp_path, monkeypatch, no_network):
    rng = np.random.default_rng(1)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
            labels = rng.integers(0, 10, 8).astype(np.uint8)
            pixels = rng.integers(0, 256, (8, 3072)).astype(np.uint8)
            data = np.c_[labels, pixels].astype(np.uint8).tobytes()
            info = tarfile.TarInfo(f"cifar-10-batches-bin/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    archive = tmp_path / "cifar-10-binary.tar.gz"
    archive.write_bytes(buf.getvalue())
    monkeypatch.setitem(datasets.REMOTE_DATASETS, "cifar10",
                        {"kind": "cifar", "files": {"cifar-10-binary.tar.gz": [archive.as_uri()]}})
    X, y, X2, y2 = load_remote_dataset("cifar10", size=4, data_home=tmp_path / "cache", progress=False)
    assert X.shape == (40, 16) and X2.shape == (8, 16) and y.max() < 10


def test_emnist_loader_reads_the_zip_and_transposes(tmp_path, monkeypatch, no_network):
    img = np.zeros((2, 28, 28), dtype=np.uint8)
    img[:, 0, :] = 255  # first stored row bright: after the transpose, the first column
    img[1, 5, 5] = 100
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for part, arr in (("train-images-idx3", img), ("train-labels-idx1", np.array([1, 2])),
                          ("test-images-idx3", img), ("test-labels-idx1", np.array([1, 2]))):
            zf.writestr(f"gzip/emnist-letters-{part}-ubyte.gz", _idx(arr))
    archive = tmp_path / "gzip.zip"
    archive.write_bytes(buf.getvalue())
    monkeypatch.setitem(datasets.REMOTE_DATASETS, "emnist", {"kind": "emnist", "files": {"gzip.zip": [archive.as_uri()]}})
    raw = datasets._read_emnist(archive, "letters")
    assert np.all(raw[0][:, :, 0] == 255) and raw[0][1, 5, 5] == 100
    X, y, _, _ = load_remote_dataset("emnist", size=28, data_home=tmp_path / "cache", progress=False)
    assert X.shape[0] == 2 and list(y) == [1, 2]
    with pytest.raises(ValueError, match="split"):
        load_remote_dataset("emnist", split="klingon", data_home=tmp_path / "cache")


def test_unknown_remote_dataset():
    with pytest.raises(ValueError, match="name"):
        load_remote_dataset("imagenet")

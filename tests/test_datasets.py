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
from tflmini.datasets import (DIGITS_SOURCE, DIGITS_TARGETS, SPLIT_FRACTIONS, class_pair, digits_catalogue,
                              digits_pair_training, digits_split, downsample, load_digits_pool, load_remote_dataset,
                              make_digits_task, make_digits_transfer_task, make_remote_transfer_task,
                              normalize_images, ridge_readout, shared_rows, split_by_class, standardize,
                              task_relatedness)
from tflmini.tasks import make_transfer_task


# -- digits ----------------------------------------------------------------------------------------------

def test_digits_pool_is_normalised_per_image():
    X, y = load_digits_pool()
    assert X.shape == (1797, 61) and y.shape == (1797,)
    np.testing.assert_allclose(np.sum(X**2, axis=1), 61.0, rtol=1e-12)  # |x|^2 = N0 for every image
    train = np.r_[digits_split()["source"], digits_split()["target"]]
    # centred with the mean training image: the training images' mean is along no preferred direction
    # (the per-image scaling moves it away from exactly 0, but only slightly)
    assert np.linalg.norm(X[train].mean(axis=0)) < 0.1 * np.sqrt(61)
    X[0, 0] = 99.0  # a copy: the cached pool is untouched
    assert load_digits_pool()[0][0, 0] != 99.0


def test_normalize_images_uses_training_statistics_only():
    rng = np.random.default_rng(0)
    Xtr = np.c_[rng.random((50, 4)), np.ones(50)]
    Xte = np.c_[rng.random((7, 4)) + 3.0, np.zeros(7)]
    Ztr, Zte, mask = normalize_images(Xtr, Xte, return_mask=True)
    assert list(mask) == [True] * 4 + [False]
    np.testing.assert_allclose(np.sum(Ztr**2, axis=1), 4.0)
    np.testing.assert_allclose(np.sum(Zte**2, axis=1), 4.0)
    expected = Xte[:, :4] - Xtr[:, :4].mean(axis=0)  # the test rows are centred with the TRAINING mean
    np.testing.assert_allclose(Zte, 2.0 * expected / np.linalg.norm(expected, axis=1, keepdims=True))
    with pytest.raises(ValueError, match="mean training image"):
        normalize_images(Xtr, Xtr.mean(axis=0, keepdims=True))


def test_split_by_class_is_a_partition_with_fixed_proportions():
    y = np.repeat(np.arange(4), [10, 20, 31, 7])
    parts = split_by_class(y, (0.5, 0.2, 0.3), seed=3)
    joined = np.concatenate(parts)
    assert sorted(joined.tolist()) == list(range(y.size))  # every example exactly once
    for c, n in zip(range(4), [10, 20, 31, 7]):
        counts = [int(np.sum(y[p] == c)) for p in parts]
        assert sum(counts) == n and abs(counts[0] - 0.5 * n) <= 1 and abs(counts[1] - 0.2 * n) <= 1
    again = split_by_class(y, (0.5, 0.2, 0.3), seed=3)
    assert all(np.array_equal(a, b) for a, b in zip(parts, again))
    with pytest.raises(ValueError, match="fractions"):
        split_by_class(y, (0.5, -0.1))


def test_digits_split_is_fixed_and_disjoint():
    sp = digits_split()
    _, y = load_digits_pool()
    assert set(sp) == {"source", "target", "test"}
    idx = np.concatenate(list(sp.values()))
    assert idx.size == np.unique(idx).size == y.size
    for d in range(10):  # every digit is split in the proportions 0.5 / 0.2 / 0.3
        n = np.sum(y == d)
        for part, f in zip(("source", "target", "test"), SPLIT_FRACTIONS):
            assert abs(np.sum(y[sp[part]] == d) - f * n) <= 1


@pytest.mark.parametrize("seed", [0, 1, 5, 123])
@pytest.mark.parametrize("sizes", [(20, 10, None), (160, 20, 100), (178, 60, None), (50, 5, 30)])
def test_no_image_is_shared_between_training_and_test_sets(seed, sizes):
    """Exact row comparison, for every catalogue target: no source or target training image is a target (or
    source) test image, and source and target never train on the same image."""
    n_source, n_target, n_test = sizes
    for name in DIGITS_TARGETS:
        task = make_digits_transfer_task(name, n_source, n_target, n_test, seed=seed)
        S, T = task.source, task.target
        assert S.X_train.shape[0] == n_source and T.X_train.shape[0] == n_target
        assert shared_rows(T.X_test, S.X_train) == 0
        assert shared_rows(T.X_test, T.X_train) == 0
        assert shared_rows(S.X_test, S.X_train) == 0
        assert shared_rows(S.X_test, T.X_train) == 0
        assert shared_rows(T.X_train, S.X_train) == 0


def test_shared_rows_counts_exact_matches():
    A = np.arange(12.0).reshape(4, 3)
    assert shared_rows(A, A[[0, 2]]) == 2 and shared_rows(A, A + 1e-12) == 0
    with pytest.raises(ValueError, match="columns"):
        shared_rows(A, np.ones((2, 4)))


def test_digits_training_sets_are_nested_with_fixed_test_sets():
    small = make_digits_transfer_task("close", 40, 10, None, seed=5)
    large = make_digits_transfer_task("close", 160, 20, None, seed=5)
    np.testing.assert_array_equal(small.source.X_train, large.source.X_train[:40])
    np.testing.assert_array_equal(small.target.X_train, large.target.X_train[:10])
    np.testing.assert_array_equal(small.target.X_test, large.target.X_test)
    np.testing.assert_array_equal(small.source.X_test, large.source.X_test)
    with pytest.raises(ValueError, match="n_source"):
        make_digits_transfer_task("close", 400, 20, seed=0)  # the source part of 3 vs 8 has 179 images


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
    assert shared_rows(b.X_test, b.X_train) == 0
    test_rows = load_digits_pool()[0][digits_split()["test"]]
    assert shared_rows(b.X_test, test_rows) == 100  # test images come from the test part


def test_relatedness_properties():
    Xs, ys = digits_pair_training((3, 8))
    Xt, yt = digits_pair_training((5, 8))
    r = task_relatedness(Xs, ys, Xt, yt)
    assert 0 < r < 1
    assert task_relatedness(Xt, yt, Xs, ys) == pytest.approx(r)
    assert task_relatedness(Xs, ys, Xt, -yt) == pytest.approx(r)
    assert task_relatedness(Xs, ys, Xt, -yt, signed=True) == pytest.approx(-task_relatedness(Xs, ys, Xt, yt,
                                                                                               signed=True))
    assert task_relatedness(Xs, ys, Xs, ys) == pytest.approx(1.0)
    assert 0 <= task_relatedness(Xs, ys, Xt, yt, method="nngp") <= 1
    # the default reference set is the union of the two tasks' inputs
    assert task_relatedness(Xs, ys, Xt, yt, np.r_[Xs, Xt]) == pytest.approx(r)


def test_ridge_readout_penalty_is_relative_to_the_input_scale():
    Xs, ys = digits_pair_training((3, 8))
    w = ridge_readout(Xs, ys, 0.1)
    r = 0.1 * np.trace(Xs.T @ Xs) / Xs.shape[1]
    np.testing.assert_allclose(Xs.T @ (Xs @ w - ys) + r * w, 0.0, atol=1e-8)
    # scale invariance: rescaling the inputs rescales the readout, the predictions do not change
    np.testing.assert_allclose((10 * Xs) @ ridge_readout(10 * Xs, ys, 0.1), Xs @ w, rtol=1e-8)


def test_relatedness_is_robust_to_method_and_penalty():
    """The catalogue's order and values hardly move with the penalty (0.001 to 1) or with the NNGP predictor."""
    base = [r["relatedness"] for r in digits_catalogue()]
    Xs, ys = digits_pair_training((3, 8))
    for kwargs in ({"ridge": 1e-3}, {"ridge": 0.1}, {"ridge": 1.0}, {"method": "nngp"}):
        values = []
        for r in digits_catalogue():
            Xt, yt = digits_pair_training(r["target"])
            values.append(task_relatedness(Xs, ys, Xt, yt, **kwargs))
        assert all(a > b for a, b in zip(values, values[1:])), (kwargs, values)
        np.testing.assert_allclose(values, base, atol=0.1)


@pytest.mark.parametrize("rho", [0.0, 0.5, 0.9])
def test_relatedness_recovers_the_teacher_overlap(rho):
    task = make_transfer_task(4000, 4000, 4000, 10, rho, teacher="linear", seed=1)
    r = task_relatedness(task.source.X_train, task.source.y_train, task.target.X_train, task.target.y_train,
                         task.source.X_test)
    assert r == pytest.approx(rho, abs=0.03)
    r_union = task_relatedness(task.source.X_train, task.source.y_train, task.target.X_train, task.target.y_train)
    assert r_union == pytest.approx(rho, abs=0.03)


def test_catalogue_is_graded_from_close_to_unrelated():
    rows = digits_catalogue()
    assert len(rows) >= 3 and [r["name"] for r in rows] == list(DIGITS_TARGETS)
    rel = [r["relatedness"] for r in rows]
    assert all(a > b for a, b in zip(rel, rel[1:])), rel
    assert rel[0] > 0.7 and rel[-1] < 0.1
    Xs, ys = digits_pair_training(rows[0]["source"])
    for r in rows:  # oriented targets have a non-negative signed overlap
        Xt, yt = digits_pair_training(r["target"])
        assert task_relatedness(Xs, ys, Xt, yt, signed=True) >= 0


def test_relatedness_uses_no_test_image(monkeypatch):
    """The task's rho is the catalogue's, computed from training images only: changing every test image
    leaves it unchanged."""
    task = make_digits_transfer_task("weak", n_source=100, n_target=20, n_test=50, seed=0)
    row = next(r for r in digits_catalogue() if r["name"] == "weak")
    assert task.rho == pytest.approx(row["relatedness"])
    X, y = load_digits_pool()
    test = digits_split()["test"]
    X[test] = np.random.default_rng(0).standard_normal((test.size, X.shape[1]))
    again = datasets.make_class_pair_transfer_task(X, y, DIGITS_SOURCE, DIGITS_TARGETS["weak"], 100, 20, 50, seed=0)
    assert again.rho == pytest.approx(task.rho, rel=1e-12)


def test_digits_transfer_task():
    task = make_digits_transfer_task("related", n_source=100, n_target=20, n_test=50, seed=0)
    row = next(r for r in digits_catalogue() if r["name"] == "related")
    assert task.rho == pytest.approx(row["relatedness"])
    assert task.source.X_train.shape == (100, 61) and task.target.X_train.shape == (20, 61)
    assert task.target.X_test.shape == (50, 61)
    assert task.target.name == f"target {row['target'][0]} vs {row['target'][1]}"
    other = make_digits_transfer_task("close", n_source=100, n_target=20, n_test=50, seed=0)
    np.testing.assert_array_equal(task.source.X_train, other.source.X_train)  # one source for every target
    np.testing.assert_array_equal(task.source.X_test, other.source.X_test)


@pytest.mark.parametrize(
    "call, exc, word",
    [
        (lambda: make_digits_task((3, 3), 5), ValueError, "classes"),
        (lambda: make_digits_task((3, 11), 5), ValueError, "classes"),
        (lambda: make_digits_task(3, 5), TypeError, "classes"),
        (lambda: make_digits_task((0, 1), 400), ValueError, "n_train"),
        (lambda: normalize_images(np.ones((4, 3))), ValueError, "X_train"),
        (lambda: ridge_readout(np.ones((3, 2)), np.ones(3), ridge=0.0), ValueError, "ridge"),
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
    np.testing.assert_allclose(np.sum(X**2, axis=1), X.shape[1], rtol=1e-12)  # per image: |x|^2 = N0
    np.testing.assert_allclose(np.sum(X2**2, axis=1), X.shape[1], rtol=1e-12)
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
    # source and target train on disjoint parts of the training split; tests come from the test split
    for seed in range(3):
        t = make_remote_transfer_task("mnist", (0, 1), (0, 2), 25, 10, None, size=7, data_home=home, seed=seed,
                                      progress=False)
        assert shared_rows(t.target.X_train, t.source.X_train) == 0
        assert shared_rows(t.target.X_test, X2) == t.target.X_test.shape[0]
        assert shared_rows(t.target.X_test, t.source.X_train) == 0


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

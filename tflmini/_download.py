"""Download-once file cache with checksum verification (standard library only: urllib, hashlib).

Two checks:

* **published digest** (``md5=``): the datasets' distributors publish an MD5 digest of each file
  (MNIST, Fashion-MNIST, EMNIST, CIFAR-10; :data:`tflmini.datasets.REMOTE_DATASETS` ships them). A
  download, and every later load of the cached file, must match it.
* **recorded digest**: on the first successful download the sha256 of the file is computed and
  written next to it (``<file>.sha256``, JSON with the digest, the URL, the date and a note); every
  later use re-hashes the cached file and refuses it if it changed. A caller that knows the sha256
  can pass ``sha256=`` to check the very first download against it too.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from tqdm.auto import tqdm

__all__ = ["DatasetUnavailableError", "ChecksumError", "get_data_home", "fetch_file", "sha256_of"]

_CHUNK = 1 << 20


class DatasetUnavailableError(OSError):
    """A data file is not cached and could not be downloaded (offline, or the server refused)."""


class ChecksumError(OSError):
    """A cached or downloaded file does not match its recorded sha256."""


def get_data_home(data_home=None) -> Path:
    """Cache directory: ``data_home``, else ``$TFLMINI_DATA``, else ``~/.cache/tflmini``."""
    if data_home is None:
        data_home = os.environ.get("TFLMINI_DATA") or Path.home() / ".cache" / "tflmini"
    if not isinstance(data_home, (str, os.PathLike)):
        raise TypeError(f"data_home must be a path, got {type(data_home).__name__}")
    return Path(data_home).expanduser()


def sha256_of(path) -> str:
    """Hex sha256 digest of a file, read in chunks."""
    return _digests_of(path)["sha256"]


class _Hashes:
    """sha256 and MD5 of a byte stream, updated chunk by chunk (one pass for both digests)."""

    def __init__(self):
        self._h = {"sha256": hashlib.sha256(), "md5": hashlib.md5(usedforsecurity=False)}

    def update(self, chunk):
        for h in self._h.values():
            h.update(chunk)

    def hexdigests(self):
        return {name: h.hexdigest() for name, h in self._h.items()}


def _digests_of(path) -> dict:
    hashes = _Hashes()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            hashes.update(chunk)
    return hashes.hexdigests()


def _record_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _check_md5(path: Path, actual, md5, source):
    if md5 is not None and actual != md5.lower():
        raise ChecksumError(f"{source} has MD5 {actual}, but its distributor publishes {md5.lower()}: the file is "
                            f"corrupted, truncated or not the published one. Delete {path} to download it again.")


def _verify_cached(path: Path, expected, md5=None):
    digests = _digests_of(path)
    _check_md5(path, digests["md5"], md5, path)
    record = _record_path(path)
    actual = digests["sha256"]
    if expected is None and record.exists():
        expected = _read_record(record, path)
    if expected is None:  # a file placed by hand, with no record at all: record it now
        _write_record(path, actual, url=None)
    elif actual != expected:
        raise ChecksumError(
            f"{path} has sha256 {actual} but {expected} was recorded when it was first downloaded: the file is "
            f"corrupted or was replaced. Delete {path} (and {record}) to download it again."
        )
    return path


def _is_sha256(value) -> bool:
    return isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value.lower())


def _read_record(record: Path, path: Path) -> str:
    """The sha256 recorded in ``record``; a record that exists but is unreadable, or whose ``sha256`` is missing,
    null or not a 64-digit hex digest, is a :class:`ChecksumError` (never replaced by the digest of the file as it
    is now: that would trust a file whose record was damaged)."""
    fix = f"delete it and {path} to download the file again"
    try:
        data = json.loads(record.read_text())
    except (OSError, ValueError) as exc:
        raise ChecksumError(f"the checksum record {record} is unreadable ({exc}); {fix}") from None
    if not isinstance(data, dict) or "sha256" not in data:
        raise ChecksumError(f"the checksum record {record} has no 'sha256' entry; {fix}")
    digest = data["sha256"]
    if not _is_sha256(digest):
        raise ChecksumError(f"the checksum record {record} holds sha256={digest!r}, not a 64-digit hex digest; {fix}")
    return digest.lower()


def _write_record(path: Path, digest: str, url):
    note = ("trust on first use: this digest was computed by tflmini when the file was first stored here; "
            "later loads refuse the file if its content changes")
    _record_path(path).write_text(json.dumps({"sha256": digest, "url": url, "file": path.name,
                                              "recorded": time.strftime("%Y-%m-%dT%H:%M:%S"), "note": note}, indent=1))


def _download(url, dest: Path, progress, timeout):
    """Stream ``url`` into ``dest``; returns the sha256 and MD5 hex digests of what was written."""
    h = _Hashes()
    with urllib.request.urlopen(url, timeout=timeout) as response:
        total = response.headers.get("Content-Length")
        bar = tqdm(total=int(total) if total else None, unit="B", unit_scale=True, desc=dest.name,
                   disable=not progress, leave=False)
        with open(dest, "wb") as out, bar:
            for chunk in iter(lambda: response.read(_CHUNK), b""):
                out.write(chunk)
                h.update(chunk)
                bar.update(len(chunk))
    return h.hexdigests()


def fetch_file(urls, filename, subdir, *, data_home=None, sha256=None, md5=None, download=True, progress=True,
               timeout=60):
    """Path of ``data_home/subdir/filename``, downloading it from the first working URL in ``urls``.

    Raises :class:`DatasetUnavailableError` (with every URL's error) if it is not cached and cannot be
    downloaded, :class:`ChecksumError` if the file does not match the published ``md5`` (when given) or
    its sha256 (``sha256`` if given, else the digest recorded at the first download).
    """
    if isinstance(urls, str):
        urls = [urls]
    directory = get_data_home(data_home) / subdir
    path = directory / filename
    if path.exists():
        return _verify_cached(path, sha256, md5)
    if not download:
        raise DatasetUnavailableError(f"{path} is not cached and download=False")
    directory.mkdir(parents=True, exist_ok=True)
    errors = []
    for url in urls:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=filename + ".", suffix=".part")
        os.close(fd)
        tmp = Path(tmp)
        try:
            digests = _download(url, tmp, progress, timeout)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            tmp.unlink(missing_ok=True)
            errors.append(f"{url}: {exc}")
            continue
        digest = digests["sha256"]
        if sha256 is not None and digest != sha256:
            tmp.unlink(missing_ok=True)
            raise ChecksumError(f"{url} gave a file with sha256 {digest}, expected {sha256}")
        try:
            _check_md5(tmp, digests["md5"], md5, url)
        except ChecksumError:
            tmp.unlink(missing_ok=True)
            raise
        shutil.move(tmp, path)
        _write_record(path, digest, url)
        return path
    raise DatasetUnavailableError(
        f"could not download {filename} (are you offline?). Tried:\n  " + "\n  ".join(errors)
        + f"\nDownload it by hand into {path} to use it offline."
    )

"""Network guard for the book build (tests/conftest.py puts this folder on PYTHONPATH of the build).

Every Python process of the build (jupyter-book, Sphinx, and the kernels that execute the pages)
imports this module at start-up. When ``TFLMINI_NETGUARD_LOG`` is set it

* appends ``active <pid>`` to that file (so the test can see the guard was really loaded), and
* refuses any connection or name lookup that is not on this machine (loopback addresses, Unix
  sockets), appending ``blocked <address>`` to the file and raising ``OSError``.

The build must not download anything: tests/test_book.py asserts that nothing was blocked.
"""

import os
import socket

_LOG = os.environ.get("TFLMINI_NETGUARD_LOG")
_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "", None, socket.gethostname()}


def _is_local(host):
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    if host in _LOCAL_NAMES:
        return True
    host = str(host)
    return host.startswith("127.") or host in {"::1", "0.0.0.0", "::"}


def _record(line):
    with open(_LOG, "a", encoding="utf-8") as f:
        f.write(line + "\n")


if _LOG:
    _record(f"active {os.getpid()}")
    _connect, _connect_ex, _getaddrinfo = socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo

    def _check(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address[0]):
            _record(f"blocked {address!r}")
            raise OSError(f"network access blocked during the book build: {address!r}")

    def connect(self, address):
        _check(self, address)
        return _connect(self, address)

    def connect_ex(self, address):
        _check(self, address)
        return _connect_ex(self, address)

    def getaddrinfo(host, *args, **kwargs):
        if not _is_local(host):
            _record(f"blocked lookup {host!r}")
            raise socket.gaierror(f"name lookup blocked during the book build: {host!r}")
        return _getaddrinfo(host, *args, **kwargs)

    socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo = connect, connect_ex, getaddrinfo

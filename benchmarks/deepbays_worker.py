"""The deepbays side of ``bench_deepbays.py``: a small server run with the Python of the separate
benchmark environment that has deepbays and torch (never imported by tflmini or its tests).

It reads one JSON command per line on stdin and answers one JSON line on stdout, so the driver can
interleave deepbays and tflmini runs in the same benchmark (a change of machine load then hits both).
deepbays prints while building networks; everything it prints goes to stderr.

Commands
--------
{"cmd": "info"}
    versions of deepbays, torch, numpy and numpy's BLAS.
{"cmd": "theory", "data": npz, "N1", "T", "l0", "l1"}
    ``FC_1HL(N1, T, l0, l1, "erf")``: time of ``preprocess(X, y)`` + ``optimize()`` and of
    ``predict(X_test)`` + ``averageLoss(y_test)``; returns Q = optQ / l1 and the test loss.
{"cmd": "langevin", "data": npz, "out": npz, "N1", "T", "l0", "l1", "lr", "n_burn", "n_steps", "seed"}
    deepbays' Langevin training of ``FCNet(N0, N1, L=1, act="erf")`` with ``regLoss`` and
    ``LangevinOpt(net, lr, T)`` through ``deepbays.NN.train`` (one step per call, full batch),
    recording |v|^2/N1 of the readout after every step; the trace is written to ``out``.
{"cmd": "quit"}
"""

from __future__ import annotations

import contextlib
import json
import sys
import time

PROTOCOL_OUT = sys.stdout


def reply(obj):
    PROTOCOL_OUT.write(json.dumps(obj) + "\n")
    PROTOCOL_OUT.flush()


def main():
    sys.stdout = sys.stderr  # anything deepbays or torch prints goes to stderr
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    import numpy as np
    import torch

    import deepbays
    import deepbays.NN as dbnn
    from deepbays.rkgp.theory_1HL_FC_single_output import FC_1HL

    torch.set_num_threads(threads)
    for line in sys.stdin:
        if not line.strip():
            continue
        cmd = json.loads(line)
        try:
            if cmd["cmd"] == "quit":
                reply({"ok": True})
                return
            if cmd["cmd"] == "info":
                deps = np.show_config(mode="dicts")["Build Dependencies"]
                reply({"ok": True, "deepbays": getattr(deepbays, "__version__", None) or _dist_version("deepbays"),
                       "torch": torch.__version__, "torch_threads": torch.get_num_threads(), "numpy": np.__version__,
                       "blas": {k: deps["blas"].get(k) for k in ("name", "version")},
                       "python": sys.version.split()[0]})
            elif cmd["cmd"] == "theory":
                d = np.load(cmd["data"])
                model = FC_1HL(cmd["N1"], cmd["T"], cmd["l0"], cmd["l1"], "erf")
                t0 = time.perf_counter()
                model.preprocess(d["X"], d["y"])
                model.optimize()
                t1 = time.perf_counter()
                model.predict(d["X_test"])
                loss, bias2, var = model.averageLoss(d["y_test"])
                t2 = time.perf_counter()
                reply({"ok": True, "fit_s": t1 - t0, "predict_loss_s": t2 - t1, "optQ": float(model.optQ),
                       "Q": float(model.optQ) / cmd["l1"], "gibbs_error": loss, "bias2": bias2, "variance": var})
            elif cmd["cmd"] == "langevin":
                d = np.load(cmd["data"])
                X = torch.tensor(d["X"], dtype=torch.float32)
                y = torch.tensor(d["y"], dtype=torch.float32)[:, None]  # (P, 1) like the network output
                N0, N1, T, l0, l1 = X.shape[1], cmd["N1"], cmd["T"], cmd["l0"], cmd["l1"]
                torch.manual_seed(cmd["seed"])
                net = dbnn.FCNet(N0, N1, 1, bias=False, act="erf").Sequential()  # N(0, 1) init: a prior draw at l0 = l1 = 1
                opt = dbnn.LangevinOpt(net, cmd["lr"], T)
                readout = net[-1].weight
                t0 = time.perf_counter()
                for _ in range(cmd["n_burn"]):
                    dbnn.train(net, X, y, dbnn.regLoss, opt, T, l0, l1)
                t1 = time.perf_counter()
                trace = np.empty(cmd["n_steps"])
                for i in range(cmd["n_steps"]):
                    dbnn.train(net, X, y, dbnn.regLoss, opt, T, l0, l1)
                    trace[i] = readout.detach().pow(2).sum().item() / N1
                t2 = time.perf_counter()
                np.savez(cmd["out"], Q=trace)
                reply({"ok": True, "burn_s": t1 - t0, "production_s": t2 - t1, "finite": bool(np.isfinite(trace).all()),
                       "torch_dtype": str(readout.dtype)})
            else:
                reply({"ok": False, "error": f"unknown command {cmd['cmd']!r}"})
        except Exception as exc:  # noqa: BLE001 - report to the driver
            reply({"ok": False, "error": f"{type(exc).__name__}: {exc}"})


def _dist_version(name):
    try:
        from importlib.metadata import version

        return version(name)
    except Exception:  # noqa: BLE001
        return None


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()

"""Theory vs sampler for ReLU networks, whose hidden units have a nonzero mean.

For ReLU the readout sum M = sum_i v_i / sqrt(N1) multiplies the mean hidden-unit output mu(x). Book chapter 4
(section "Activations with a nonzero mean") shows that, given Q = |v|^2/N1, M is Gaussian with variance Q by
the rotational invariance of the readout prior, so integrating it restores the uncentred kernel: the
single-network theory (``KernelRenormalization(activation="relu")``) needs no second order parameter. This
script checks that against sampled ReLU networks in the book's proportional regime: the width N1, the
number of examples P and the input dimension N0 grow together at fixed alpha = P/N1 and P/N0, for labels
with and without a large mean (a ReLU teacher plus an offset). The deviation must shrink as N1 grows.

Writes data/validation_relu.json in the format of data/validation_single_network.json (all parameters,
package version, seeds, wall time); each row also names its ``n_features`` and ``label_offset``.
Usage: python scripts/validate_relu.py [--quick] [--out PATH]
"""

from __future__ import annotations

import numpy as np

from tflmini import BayesianNetworkSampler, KernelRenormalization
from validate_single_network import run_cli, sampled_comparison

FULL = {"widths": [50, 100, 200], "alpha": 1.0, "P_over_N0": 1.0, "label_offsets": [0.0, 1.0], "n_datasets": 3}
QUICK = {"widths": [20, 40], "alpha": 1.0, "P_over_N0": 1.0, "label_offsets": [1.0], "n_datasets": 2}
COMMON = {"temperature": 0.05, "lambda0": 1.0, "lambda1": 1.0, "teacher": "relu", "n_test": 500, "n_chains": 4,
          "n_warmup": 300, "n_samples": 400, "seed": 11}


def relu_task(n_train, n0, offset, common, dataset=0):
    """Gaussian inputs, labels y = max(w.x/sqrt(N0), 0) + offset (teacher w ~ N(0, I)); one random data set
    (teacher, inputs) per ``dataset`` index."""
    rng = np.random.default_rng([common["seed"], n_train, n0, dataset])
    w = rng.standard_normal(n0)
    X = rng.standard_normal((n_train + common["n_test"], n0))
    y = np.maximum(X @ w / np.sqrt(n0), 0.0) + offset
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]


def run(grid, common, progress=True, on_rows=None):
    rows = []
    for offset in grid["label_offsets"]:
        for n1, dataset in ((n1, d) for n1 in grid["widths"] for d in range(grid["n_datasets"])):
            P = int(round(grid["alpha"] * n1))
            n0 = int(round(P / grid["P_over_N0"]))
            X, y, Xe, ye = relu_task(P, n0, offset, common, dataset)
            kr = KernelRenormalization(n1, common["temperature"], common["lambda0"], common["lambda1"], "relu").fit(X, y)
            sampler = BayesianNetworkSampler(n1, common["temperature"], common["lambda0"], common["lambda1"], "relu",
                                             n_chains=common["n_chains"], n_warmup=common["n_warmup"],
                                             n_samples=common["n_samples"], seed=common["seed"] + 1000 * dataset + n1,
                                             progress=progress)
            rows.append(sampled_comparison(kr, sampler, X, y, Xe, ye,
                                           {"activation": "relu", "n_hidden": n1, "P": P, "alpha": P / n1,
                                            "n_features": n0, "label_offset": offset, "dataset": dataset},
                                           f"relu offset={offset:g} N1={n1:4d} P={P} N0={n0} data set {dataset}"))
            if on_rows is not None:
                on_rows(rows)
    return rows


def main(argv=None):
    run_cli(argv, __doc__, "validation_relu", FULL, QUICK, COMMON, run)


if __name__ == "__main__":
    main()

r"""Tables of numbers for the four findings, computed from cached experiment results.

1. Related tasks: the target test loss decreases with :math:`\gamma` towards the frozen-feature plateau.
2. Less related tasks: an optimal finite :math:`\gamma^*`, which moves to larger :math:`\gamma` for wider networks.
3. No transfer benefit in the lazy (infinite-width) limit.
4. The benefit grows as the target has fewer examples and the source more.

The loss is each experiment's ``metric`` (default ``mean_error``: test loss of the posterior-mean
predictor); the benefit is :math:`E(\gamma=0) - E(\gamma)`. Theory at the sampled width, simulation
as mean ± standard error over source snapshots.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ._base import command, load
from ._cache import CacheError, SchemaError, StaleCacheWarning
from ..transfer_curves import gamma_index, optimal_gamma

METRIC = "mean_error"
#: The experiments whose cached results the tables read.
FINDINGS_EXPERIMENTS = ("gamma_sweep", "digits_gamma_sweep", "width_effect", "digits_width_effect", "source_size",
                        "digits_source_size", "map_alpha_rho")


@dataclass
class Table:
    finding: int
    title: str
    columns: list
    rows: list = field(default_factory=list)
    notes: list = field(default_factory=list)


def _pm(mean, se):
    if mean is None or not np.isfinite(mean):
        return "n/a"
    return f"{mean:.4f}" if se is None or not np.isfinite(se) else f"{mean:.4f} ± {se:.4f}"


def _g(g):
    return "inf" if np.isinf(g) else f"{g:.3g}"


def _load_all(names, quick, directory, notes):
    out = {}
    for name in names:
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", StaleCacheWarning)
                out[name] = load(name, quick=quick, directory=directory, on_stale="warn")
            notes.extend(str(w.message).splitlines()[0] for w in caught)
        except SchemaError as exc:  # a file that exists but does not hold what the experiment writes
            notes.append(f"{name}: refused, {str(exc).splitlines()[0]}")
        except CacheError:
            notes.append(f"{name}: not cached (run: {command(name, quick)})")
    return out


def _finding1(res, t):
    for name, label in (("gamma_sweep", "rho=0.9"), ("digits_gamma_sweep", "close")):
        if name not in res or label not in res[name].theory["curves"]:
            continue
        r = res[name]
        width = f"N1={r.parameters['n_hidden']}"
        th = r.theory["curves"][label][width][METRIC]
        gam = r.theory["gammas"]
        sim = r.simulation["results"][label] if r.simulation else None
        for i, g in enumerate(r.parameters["gammas"]):
            g = float(g) if g != "inf" else np.inf
            s = (sim[METRIC]["mean"][i], sim[METRIC]["se"][i]) if sim else (None, None)
            t.rows.append([name, label, width, _g(g), _pm(th[gamma_index(gam, g)], None), _pm(*s)])
        rises = np.diff(th[np.isfinite(th)])
        t.notes.append(f"{name} {label} {width}: theory E(0)={th[0]:.4f} -> E(inf)={th[-1]:.4f}; largest rise along "
                       f"the {gam.size}-point gamma grid {max(rises.max(), 0):.2e}; min {np.nanmin(th):.4f} at gamma="
                       f"{_g(gam[int(np.nanargmin(th))])}")


def _finding2(res, t):
    for name, label in (("gamma_sweep", "rho=0.3"), ("digits_gamma_sweep", "unrelated")):
        if name not in res or label not in res[name].theory["curves"]:
            continue
        r = res[name]
        gam, curves = r.theory["gammas"], r.theory["curves"][label]
        for width, c in curves.items():
            if not width.startswith("N1="):
                continue
            g_star, e_star = optimal_gamma(gam, c[METRIC])
            t.rows.append([name, label, width[3:], "theory", _g(g_star), f"{c[METRIC][0]:.4f}", f"{e_star:.4f}",
                           f"{c[METRIC][-1]:.4f}"])
        sim = r.simulation["results"].get(label) if r.simulation else None
        if sim:
            m, se = sim[METRIC]["mean"], sim[METRIC]["se"]
            k = int(np.argmin(m))
            t.rows.append([name, label, str(r.parameters["n_hidden"]), "simulation",
                           f"{_g(float(r.simulation['gammas'][k]))} (of sampled)", _pm(m[0], se[0]), _pm(m[k], se[k]),
                           _pm(m[-1], se[-1])])
            t.notes.append(f"{name} {label} N1={r.parameters['n_hidden']} sampled: " + ", ".join(
                f"{_g(float(g))}: {_pm(m[i], se[i])}" for i, g in enumerate(r.simulation["gammas"])))
    for name, labels in (("width_effect", ("rho=0", "rho=0.3", "rho=0.6")), ("digits_width_effect", ("unrelated",))):
        if name not in res:
            continue
        r = res[name]
        curves = r.theory["curves"]
        for label in labels:
            if label not in curves:
                continue
            c = curves[label]
            for j, w in enumerate(r.theory["widths"]):
                t.rows.append([name, label, _g(w), "theory", _g(c["gamma_star"][j]), f"{c['E_zero'][j]:.4f}",
                               f"{c['E_star'][j]:.4f}", f"{c['E_inf'][j]:.4f}"])
            sims = r.simulation["results"].get(label) if r.simulation else None
            for j, w in enumerate(r.parameters["widths"] if sims else []):
                m, se = sims[j][METRIC]["mean"], sims[j][METRIC]["se"]
                k = int(np.argmin(m))
                sampled = ", ".join(f"{_g(float(g) if g != 'inf' else np.inf)}: {_pm(m[i], se[i])}"
                                    for i, g in enumerate(r.parameters["gammas"]))
                t.rows.append([name, label, _g(w), "simulation", f"{_g(float(r.simulation['gammas'][k]))} (of sampled)",
                               _pm(m[0], se[0]), _pm(m[k], se[k]), _pm(m[-1], se[-1])])
                t.notes.append(f"{name} {label} N1={w} sampled: {sampled}")


def _finding3(res, t):
    for name, label in (("width_effect", "rho=0.9"), ("digits_width_effect", "close")):
        if name not in res or label not in res[name].theory["curves"]:
            continue
        r = res[name]
        c = r.theory["curves"][label]
        for j, w in enumerate(r.theory["widths"]):
            t.rows.append([name, label, _g(w), "theory", f"{c['E_zero'][j] - c['E_inf'][j]:+.4f}",
                           f"{c['E_zero'][j] - c['E_star'][j]:+.4f} (gamma*={_g(c['gamma_star'][j])})"])
        sims = r.simulation["results"].get(label) if r.simulation else None
        for j, w in enumerate(r.parameters["widths"] if sims else []):
            m, se = sims[j][METRIC]["mean"], sims[j][METRIC]["se"]
            b = m[0] - m[1:]
            bse = np.sqrt(se[0] ** 2 + se[1:] ** 2)
            k = int(np.argmax(b))
            t.rows.append([name, label, _g(w), "simulation", _pm(b[-1], bse[-1]),
                           f"{_pm(b[k], bse[k])} (gamma={_g(float(r.simulation['gammas'][k + 1]))}, of sampled)"])
    for name in ("gamma_sweep", "digits_gamma_sweep"):
        if name not in res:
            continue
        dev = [np.nanmax(np.abs(np.asarray(c["N1=inf"]["matched_mean_error"]) - np.asarray(c["N1=inf"][METRIC])))
               for c in res[name].theory["curves"].values() if "N1=inf" in c]
        if dev:
            t.notes.append(f"{name}: at N1=inf the transfer curve equals a network trained on the target alone with the "
                           f"same marginal weight variance c_tt(gamma) (largest difference {max(dev):.1e}): the source "
                           "plays no role; what gamma-dependence is left comes from the change of prior variance")


def _finding4(res, t):
    for name in ("source_size", "digits_source_size"):
        if name not in res:
            continue
        r = res[name]
        th = r.theory
        sim = r.simulation
        Ps_t, Pt_t = list(th["n_sources"]), list(th["n_targets"])
        for i, nt in enumerate(r.parameters["n_targets"]):
            for j, ns in enumerate(r.parameters["n_sources"]):
                a, b = Pt_t.index(int(nt)), Ps_t.index(int(ns))
                theory_b = th["E_zero"][a, b] - th["E_inf"][a, b]
                best_b = th["E_zero"][a, b] - th["E_star"][a, b]
                if sim:
                    z, f = sim["gamma_zero"][METRIC], sim["gamma_inf"][i][METRIC]
                    s = _pm(z["mean"][i] - f["mean"][j], float(np.hypot(z["se"][i], f["se"][j])))
                else:
                    s = "n/a"
                t.rows.append([name, f"Pt={nt}", f"Ps={ns}", f"{theory_b:+.4f}", f"{best_b:+.4f}", s])
    if "map_alpha_rho" in res:
        r = res["map_alpha_rho"]
        th = r.theory
        rhos = np.asarray(th["rhos"])
        for k, rho in enumerate(r.parameters["sim_rhos"]):
            i = int(np.argmin(np.abs(rhos - rho)))
            for j, nt in enumerate(r.parameters["n_targets"]):
                jj = list(th["n_targets"]).index(int(nt))
                if r.simulation:
                    z, f = r.simulation["results"][k]["gamma_zero"][METRIC], r.simulation["results"][k]["gamma_inf"][METRIC]
                    s = _pm(z["mean"][j] - f["mean"][j], float(np.hypot(z["se"][j], f["se"][j])))
                else:
                    s = "n/a"
                t.rows.append(["map_alpha_rho", f"Pt={nt} (rho={rhos[i]:.2f})", f"Ps={r.parameters['n_source']}",
                               f"{th['benefit_inf'][i, jj]:+.4f}", f"{th['benefit_star'][i, jj]:+.4f}", s])


def findings_tables(quick=False, directory=None):
    """The four findings' tables (list of :class:`Table`) from the cached results that exist.

    A ``directory`` that does not exist or is not a directory is an error (``FileNotFoundError``,
    ``NotADirectoryError``), not a set of empty tables."""
    if directory is not None:
        path = Path(directory).expanduser()
        if not path.exists():
            raise FileNotFoundError(f"directory {str(directory)!r} does not exist: it must hold the cached experiment "
                                    "results (default: data/experiments)")
        if not path.is_dir():
            raise NotADirectoryError(f"directory {str(directory)!r} is not a directory: it must be the folder that "
                                     "holds the cached experiment results (default: data/experiments)")
    names = list(FINDINGS_EXPERIMENTS)
    notes = []
    res = _load_all(names, quick, directory, notes)
    t1 = Table(1, "Related tasks: target loss vs gamma, towards the frozen-feature plateau (gamma = inf)",
               ["experiment", "task", "width", "gamma", "theory", "simulation"])
    t2 = Table(2, "Less related tasks: optimal coupling gamma* vs width N1 (fixed Ps, Pt)",
               ["experiment", "task", "N1", "kind", "gamma*", "E(0)", "E(gamma*)", "E(inf)"])
    t3 = Table(3, "Lazy limit: benefit E(0) - E(gamma) vs width N1 (related task)",
               ["experiment", "task", "N1", "kind", "benefit at gamma=inf", "best benefit"])
    t4 = Table(4, "Benefit E(0) - E(gamma) vs target size Pt and source size Ps",
               ["experiment", "target", "source", "theory, gamma=inf", "theory, best gamma", "simulation, gamma=inf"])
    for fn, t in ((_finding1, t1), (_finding2, t2), (_finding3, t3), (_finding4, t4)):
        fn(res, t)
    t1.notes = notes + t1.notes
    return [t1, t2, t3, t4]


def format_tables(tables):
    """Plain-text rendering of :func:`findings_tables`."""
    out = []
    for t in tables:
        out.append(f"Finding {t.finding}: {t.title}")
        rows = [t.columns] + [[str(c) for c in r] for r in t.rows]
        widths = [max(len(r[i]) for r in rows) for i in range(len(t.columns))]
        for k, r in enumerate(rows):
            out.append("  " + " | ".join(c.ljust(w) for c, w in zip(r, widths)))
            if k == 0:
                out.append("  " + "-+-".join("-" * w for w in widths))
        out.extend(f"  note: {n}" for n in t.notes)
        out.append("")
    return "\n".join(out)

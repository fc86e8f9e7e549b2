"""Slider latency of the book's panels: time from a slider value change to a redrawn figure.

Panels are discovered at run time: every function named ``*_panel`` defined in the panel modules of
``tflmini.widgets`` (``single``, ``transfer``, ``digits``; a module that does not exist is reported, not an
error). Each panel is
built live (``static`` off) at its defaults; then, for every slider, the value is moved up to ``moves``
steps away from the default and back, in Python (``slider.index = j``), which runs the panel's observer
synchronously: the theory (or a cache hit), the matplotlib drawing and the PNG the ``Image`` widget
shows. Moves to a slider state never drawn before are "first visits" (they may compute a new curve),
the way back "revisits" (cached solves, only a redraw). A second pass does the same at the largest
training sets the panel offers (width, alpha and sample-size sliders at their largest finite values).

The browser adds the round trip through the widget comm and the PNG decode (a few ms locally), which a
headless Python run cannot see. Each move records its wall time and the CPU time of this process (the
latter does not count waits for cores held by other jobs); per panel, the 95th percentile of both over the
moves at the default sizes is compared with the goal of 300 ms.

Usage: python benchmarks/bench_panels.py [--quick] [--json PATH]
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np

from _common import log, write_json

PANEL_MODULES = ("tflmini.widgets.single", "tflmini.widgets.transfer", "tflmini.widgets.digits")
SIZE_SLIDERS = ("n_hidden", "alpha_source", "alpha_target", "alpha", "n_source", "n_target", "n_train", "P", "n_points")


def discover():
    """[(module, name, function)] of the ``*_panel`` functions callable without arguments, {module: error} of
    missing modules and {function: reason} of ``*_panel`` functions that need arguments (not panels)."""
    found, missing, skipped = [], {}, {}
    for modname in PANEL_MODULES:
        try:
            mod = importlib.import_module(modname)
        except ImportError as exc:
            missing[modname] = f"{type(exc).__name__}: {exc}"
            continue
        for name, obj in sorted(vars(mod).items()):
            if (name.endswith("_panel") and not name.startswith("_") and inspect.isfunction(obj)
                    and obj.__module__ == mod.__name__):
                required = [p.name for p in inspect.signature(obj).parameters.values()
                            if p.default is inspect.Parameter.empty
                            and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
                if required:  # a building block (e.g. a frame renderer), not a panel a reader opens
                    skipped[f"{modname}.{name}"] = f"needs arguments {required}"
                else:
                    found.append((modname, name, obj))
    return found, missing, skipped


def _walk(widget):
    yield widget
    for child in getattr(widget, "children", ()) or ():
        yield from _walk(child)


def sliders_of(panel):
    """{name: slider}: the panel's ``sliders`` dict if it has one, else every selection/numeric slider in its
    widget tree, named by description."""
    if isinstance(getattr(panel, "sliders", None), dict) and panel.sliders:
        return dict(panel.sliders), "Panel"
    import ipywidgets as widgets

    out = {}
    for w in _walk(panel):
        if isinstance(w, (widgets.SelectionSlider, widgets.IntSlider, widgets.FloatSlider, widgets.FloatLogSlider,
                          widgets.Dropdown, widgets.ToggleButtons)):
            out[w.description or f"slider{len(out)}"] = w
    return out, "generic"


class Positions:
    """Move a slider by position, whatever its kind (selection sliders by index, numeric ones on 9 points)."""

    def __init__(self, slider):
        self.s = slider
        if hasattr(slider, "index") and hasattr(slider, "options"):
            self.kind, self.n = "index", len(slider.options)
        else:
            import ipywidgets as widgets

            self.kind, self.n = "numeric", 9
            self.values = np.linspace(slider.min, slider.max, 9)
            if isinstance(slider, widgets.FloatLogSlider):  # min and max are exponents of ``base``
                self.values = slider.base ** self.values
            if isinstance(slider.value, int):
                self.values = np.unique(np.round(self.values).astype(int))
                self.n = len(self.values)

    def get(self):
        if self.kind == "index":
            return self.s.index
        return int(np.argmin(np.abs(self.values - self.s.value)))

    def set(self, j):
        if self.kind == "index":
            self.s.index = j
        else:
            self.s.value = type(self.s.value)(self.values[j])

    def value_at(self, j):
        if self.kind == "index":
            opt = self.s.options[j]
            return opt[1] if isinstance(opt, tuple) else opt
        return self.values[j]


def _state(sliders):
    return tuple((k, repr(s.value)) for k, s in sliders.items())


def _sizes(panel):
    data = getattr(panel, "last_data", None)
    if isinstance(data, dict) and "sizes" in data:
        return [int(x) for x in data["sizes"]]
    vals = getattr(panel, "values", None)
    return None if vals is None else {k: (str(v) if isinstance(v, float) and not np.isfinite(v) else v)
                                      for k, v in vals.items() if k in SIZE_SLIDERS}


def move_slider(panel, sliders, name, moves, visited, scenario):
    """Move slider ``name`` up to ``moves`` positions away from its current one and back; time each move."""
    pos = Positions(sliders[name])
    start = pos.get()
    ahead = [j for j in range(start + 1, pos.n)][:moves]
    if len(ahead) < moves:
        ahead += [j for j in range(start - 1, -1, -1)][: moves - len(ahead)]
    path = ahead + ahead[-2::-1] + [start] if ahead else []
    rows = []
    for j in path:
        before = pos.get()
        t0, c0 = time.perf_counter(), time.process_time()
        pos.set(j)
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        st = _state(sliders)
        first = st not in visited
        visited.add(st)
        err = getattr(panel, "last_error", None)
        rows.append({"scenario": scenario, "slider": name, "from": str(pos.value_at(before)), "to": str(pos.value_at(j)),
                     "seconds": dt, "cpu_seconds": cpu, "first_visit": first, "error": None if err is None else err.strip().splitlines()[-1],
                     "sizes": _sizes(panel)})
    return rows


def _largest(pos):
    """Position of the largest finite value of a size slider."""
    vals = [pos.value_at(j) for j in range(pos.n)]
    finite = [j for j, v in enumerate(vals) if isinstance(v, (int, float, np.integer, np.floating)) and np.isfinite(v)]
    return max(finite, key=lambda j: vals[j]) if finite else pos.n - 1


def bench_panel(fn, moves):
    t0 = time.perf_counter()
    panel = fn()
    t_build = time.perf_counter() - t0
    sliders, api = sliders_of(panel)
    visited = {_state(sliders)}
    rows = []
    for name in sliders:
        rows += move_slider(panel, sliders, name, moves, visited, "defaults")
    # largest training sets the panel offers
    big = [n for n in sliders if n in SIZE_SLIDERS]
    for name in big:
        pos = Positions(sliders[name])
        j = _largest(pos)
        if j != pos.get():
            before = pos.get()
            t0 = time.perf_counter()
            pos.set(j)
            dt = time.perf_counter() - t0
            visited.add(_state(sliders))
            rows.append({"scenario": "to largest", "slider": name, "from": str(pos.value_at(before)),
                         "to": str(pos.value_at(j)), "seconds": dt, "first_visit": True, "error": None,
                         "sizes": _sizes(panel)})
    if big:
        for name in sliders:
            if name not in big:
                rows += move_slider(panel, sliders, name, max(2, moves // 2), visited, "largest sizes")
    return panel, api, t_build, rows


def _median(xs):
    return statistics.median(xs) if xs else None


def percentile(xs, q):
    """The ``q``-th percentile (linear interpolation between order statistics), None for no data."""
    return float(np.percentile(xs, q)) if xs else None


#: the goal for a live panel: 95 % of the slider moves at its default sizes within this time
GOAL_P95_S = 0.3


def summarize(rows):
    first = [r["seconds"] for r in rows if r["first_visit"]]
    at_defaults = [r["seconds"] for r in rows if r["scenario"] == "defaults"]
    # CPU time of this process: what the move costs without the waits for cores that other jobs hold
    cpu_at_defaults = [r["cpu_seconds"] for r in rows if r["scenario"] == "defaults" and "cpu_seconds" in r]
    again = [r["seconds"] for r in rows if not r["first_visit"]]
    allm = [r["seconds"] for r in rows]
    per_slider = {}
    for r in rows:
        d = per_slider.setdefault(r["slider"], {"first": [], "revisit": []})
        d["first" if r["first_visit"] else "revisit"].append(r["seconds"])
    p95 = percentile(at_defaults, 95)
    return {"median_s": _median(allm), "max_s": max(allm) if allm else None,
            "defaults_p95_s": p95, "defaults_max_s": max(at_defaults) if at_defaults else None,
            "defaults_p95_cpu_s": percentile(cpu_at_defaults, 95),
            "meets_goal": None if p95 is None else bool(p95 < GOAL_P95_S), "first_visit_median_s": _median(first),
            "revisit_median_s": _median(again), "n_moves": len(allm), "n_over_200ms": sum(t > 0.2 for t in allm),
            "n_errors": sum(r["error"] is not None for r in rows),
            "per_slider": {k: {"first_visit_median_s": _median(v["first"]), "revisit_median_s": _median(v["revisit"]),
                               "max_s": max(v["first"] + v["revisit"])} for k, v in per_slider.items()}}


def run(quick=False):
    import matplotlib

    matplotlib.use("Agg")
    found, missing, skipped = discover()
    for m, err in missing.items():
        log(f"panels: {m} not available ({err})")
    for m, why in skipped.items():
        log(f"panels: {m} left out ({why})")
    panels, failed = [], {}
    for modname, name, fn in found:
        try:
            panel, api, t_build, rows = bench_panel(fn, 2 if quick else 4)
        except Exception as exc:  # noqa: BLE001 - a panel under construction must not stop the others
            failed[f"{modname}.{name}"] = f"{type(exc).__name__}: {exc}"
            log(f"panel {modname}.{name}: FAILED ({failed[f'{modname}.{name}']})")
            continue
        s = summarize(rows)
        largest = max((r["sizes"] for r in rows if isinstance(r["sizes"], list)), key=lambda x: max(x), default=None)
        panels.append({"module": modname, "panel": name, "api": api, "build_s": t_build, **s, "largest_sizes": largest,
                       "moves": rows})
        log(f"panel {modname}.{name}: built in {t_build:.2f} s; {s['n_moves']} slider moves, median "
            f"{1e3 * s['median_s']:.0f} ms (first visits {1e3 * (s['first_visit_median_s'] or 0):.0f} ms, revisits "
            f"{1e3 * (s['revisit_median_s'] or 0):.0f} ms), max {1e3 * s['max_s']:.0f} ms, {s['n_over_200ms']} over 200 ms; "
            f"95th percentile at the default sizes {1e3 * (s['defaults_p95_s'] or 0):.0f} ms "
            f"(CPU {1e3 * (s['defaults_p95_cpu_s'] or 0):.0f} ms) "
            f"({'within' if s['meets_goal'] else 'over'} the goal of {1e3 * GOAL_P95_S:.0f} ms)"
            f"{', ' + str(s['n_errors']) + ' drawing errors' if s['n_errors'] else ''}; largest (P_s, P_t) {largest}")
        for k, v in s["per_slider"].items():
            log(f"    {k:14s} first visit {1e3 * (v['first_visit_median_s'] or 0):7.0f} ms   revisit "
                f"{1e3 * (v['revisit_median_s'] or 0):7.0f} ms   max {1e3 * v['max_s']:7.0f} ms")
        import matplotlib.pyplot as plt

        plt.close("all")
    return {"modules": list(PANEL_MODULES), "missing_modules": missing, "not_panels": skipped, "failed": failed,
            "panels": panels}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    out = run(args.quick)
    if args.json:
        write_json(args.json, out)


if __name__ == "__main__":
    main()

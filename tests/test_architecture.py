"""The shape of the package: one-way imports, small functions, the backend registry.

See docs/architecture.md. These tests read the source with ``ast``; they fail on any import
cycle between sbmlnoise modules (function-level imports included, ``TYPE_CHECKING`` blocks
excluded), on library code importing the ``sbmlnoise`` facade, and on a function longer
than 120 lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

import sbmlnoise as sn
from sbmlnoise.analysis import Backend, Cost, Refusal, register_backend
from sbmlnoise.stats import NoiseStatistics

PACKAGE = Path(sn.__file__).resolve().parent
MAX_FUNCTION_LINES = 120


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(path: Path, modules: set[str]) -> set[str]:
    """sbmlnoise modules that ``path`` imports (at any level, outside TYPE_CHECKING)."""
    name = _module_name(path)
    is_pkg = path.name == "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            skip.update(id(n) for n in ast.walk(node))
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "sbmlnoise")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_pkg else name.split(".")[:-1]
                base = base[:len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("sbmlnoise"):
                continue
            subs = [f"{target}.{a.name}" for a in node.names]
            hits = [s for s in subs if s in modules]
            found.update(hits if hits else [target])
    found.discard(name)
    return {m for m in found if m in modules}


def _graph() -> nx.DiGraph:
    files = sorted(PACKAGE.rglob("*.py"))
    modules = {_module_name(p) for p in files}
    g = nx.DiGraph()
    g.add_nodes_from(modules)
    for p in files:
        for target in _imports(p, modules):
            g.add_edge(_module_name(p), target)
    return g


def test_no_import_cycles():
    g = _graph()
    # a package importing its own submodules (re-exports) is not a cycle of the design;
    # every other strongly connected component is
    h = g.copy()
    for a, b in list(h.edges):
        if b.startswith(a + "."):
            h.remove_edge(a, b)
    cycles = [sorted(c) for c in nx.strongly_connected_components(h) if len(c) > 1]
    assert not cycles, cycles


def test_library_code_does_not_import_the_facade():
    g = _graph()
    offenders = sorted(m for m in g.predecessors("sbmlnoise")
                       if not m.startswith("sbmlnoise.__"))
    assert not offenders, offenders


def test_version_module_is_a_leaf():
    assert not list(_graph().successors("sbmlnoise._version"))


def test_no_function_longer_than_limit():
    long = []
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n >= MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(PACKAGE)}:{node.name} ({n} lines)")
    assert not long, long


# --------------------------------------------------------------------------- registry
def test_backends_table_lists_capabilities():
    table = sn.backends()
    assert {"fsp", "lna", "ssa"} <= set(table.index)
    assert bool(table.loc["fsp", "exact"]) and bool(table.loc["ssa", "exact"])
    assert not bool(table.loc["lna", "exact"])
    assert bool(table.loc["ssa", "events"]) and not bool(table.loc["fsp", "events"])
    assert bool(table.loc["lna", "large_counts"])
    assert {"description", "reference", "auto", "stationary", "time_point"} <= set(table.columns)


BD = "model bd; => X; k; X => ; g*X; k = 10; g = 1; X = 0; end"


class _PoissonBackend(Backend):
    """A test backend: the exact Poisson law of a birth-death process (mean = variance =
    k/g), applicable only to networks with one species and linear propensities."""

    name = "poisson_test"
    label = "Poisson"
    rank = 5
    auto = False
    capabilities = {"stationary": True, "exact": True}

    def applies(self, ctx, request, state):
        gap = super().applies(ctx, request, state)
        if gap is None and ctx.net.n_species != 1:
            return Refusal("only one species")
        return gap

    def cost(self, ctx, request, state):
        return Cost(0.0, "closed form")

    def run(self, ctx, request, state):
        import pandas as pd
        m = ctx.steady_state.to_numpy(float) * ctx.net.system_size
        ids = list(ctx.net.species_ids)
        return NoiseStatistics(mean=pd.Series(m, index=ids),
                               covariance=pd.DataFrame(np.diag(m), index=ids, columns=ids),
                               method=self.name, settings={})


def test_a_registered_backend_runs_through_analyze():
    register_backend(_PoissonBackend)
    try:
        rep = sn.analyze(BD, method="poisson_test", trajectories=0, thermo=None)
        assert rep.primary == "poisson_test"
        assert float(rep.species_table().loc["X", "mean"]) == pytest.approx(10.0)
        assert float(rep.species_table().loc["X", "fano"]) == pytest.approx(1.0)
        assert "poisson_test" in sn.backends().index
        # not tried by auto (auto=False)
        rep = sn.analyze(BD, method="auto", trajectories=0, thermo=None, seed=1)
        assert "poisson_test" not in rep.statistics
        two = "model t; => X; k; X => ; g*X; => Y; k; Y => ; g*Y; k = 1; g = 1; X = 0; Y = 0; end"
        with pytest.raises(sn.UnsupportedFeature, match="only one species"):
            sn.analyze(two, method="poisson_test", trajectories=0, thermo=None)
    finally:
        from sbmlnoise.analysis import _backends
        _backends._REGISTRY.pop("poisson_test", None)


def test_register_backend_rejects_unknown_capability():
    class Bad(_PoissonBackend):
        name = "bad_test"
        capabilities = {"teleportation": True}

    with pytest.raises(ValueError, match="teleportation"):
        register_backend(Bad)


def test_unknown_method_lists_registered_backends():
    with pytest.raises(ValueError, match="fsp"):
        sn.analyze(BD, method="nonsense")


# --------------------------------------------------------------------------- context
def test_steady_state_is_computed_once(monkeypatch):
    import sbmlnoise.ode as ode_mod

    calls = []
    real = ode_mod.steady_state

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(ode_mod, "steady_state", counting)
    sn.analyze(BD, method="all", trajectories=0, thermo="network", seed=3)
    assert len(calls) == 1


def test_system_size_with_a_network_is_refused_unless_equal():
    net = sn.load(BD)
    with pytest.raises(ValueError, match="system_size"):
        sn.analyze(net, method="lna", system_size=100)
    rep = sn.analyze(net, method="lna", system_size=1, trajectories=0, thermo=None)
    assert rep.settings["system_size"] == 1.0
    rep = sn.analyze(BD, method="lna", system_size=100, trajectories=0, thermo=None)
    assert rep.settings["system_size"] == 100.0


STIFF = """model stiff
A -> B; kf*A
B -> A; kb*B
B => ; kd*B
=> A; ks
kf = 1e6; kb = 1e6; kd = 1e-3; ks = 1e-2
A = 0; B = 0
end"""


def test_stiff_model_keeps_its_slow_time_scale_and_the_ssa_refuses():
    """Issue 16 #7: the slow mode (rate ~ kd/2 = 5e-4) was dropped, and the SSA ran for
    0.001 time units and reported mean 0. The exact stationary law is Poisson with
    kd <B> = ks and A = B on average (kf = kb): A = B = ks/kd = 10."""
    from sbmlnoise.analysis import build_context

    net = sn.load(STIFF)
    ctx = build_context(net)
    assert ctx.scales["slow"] == pytest.approx(2000.0, rel=1e-3)  # 1 / (kd / 2)
    with pytest.raises(sn.UnsupportedFeature, match="event budget"):
        sn.analyze(net, method="ssa", trajectories=0, thermo=None)
    rep = sn.analyze(net, method="auto", trajectories=0, thermo=None, seed=1)
    assert "ssa" in rep.skipped and "event budget" in rep.skipped["ssa"]
    tab = rep.species_table()
    assert float(tab.loc["A", "mean"]) == pytest.approx(10.0, rel=1e-3)
    assert float(tab.loc["B", "mean"]) == pytest.approx(10.0, rel=1e-3)


def test_ssa_inside_analyze_stays_within_its_event_budget():
    """Issue 15: an event far beyond the deterministic time scale (t = 3600) switches on a
    reaction firing ~1e6 times per time unit. The planned run (relaxation time 1000, so
    t_end > 1e4) passes t = 3600; it must stop at its hard cap of 10x the event budget
    (SimulationError -> skipped with the reason) instead of firing billions of events."""
    model = """model late
    => X; k; X => ; g*X
    => Y; kfast; Y => ; gy*Y
    k = 0.1; g = 0.001; kfast = 0; gy = 1; X = 0; Y = 0
    E1: at time > 3600: kfast = 1e6
    end"""
    import re
    import time as _t
    t0 = _t.process_time()
    rep = sn.analyze(model, method="auto", trajectories=0, thermo=None, seed=2,
                     ssa_events=1e4)
    assert _t.process_time() - t0 < 60
    ssa_reason = re.search(r"(ssa: [^;]*)", rep.skipped["ssa"]).group(1)
    assert "more than max_steps reaction events by t=36" in ssa_reason  # stopped at the event
    # the time course answers on the window its runs could simulate, and says so
    st = rep.statistics["timecourse"]
    assert "cut to" in st.settings["window"] and float(st.time) < 3600


def test_docs_architecture_worked_example_runs(capsys):
    """The 'adding a backend' example of docs/architecture.md runs as written and its
    numbers are the closed form (Poisson: mean k/g = 10, Fano 1)."""
    import re

    page = (PACKAGE.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```python[ \t]*\n(.*?)^```[ \t]*$", page, re.S | re.M)
    assert len(blocks) == 1
    assert len(blocks[0].splitlines()) < 100
    namespace: dict = {}
    try:
        exec(compile(blocks[0], "docs/architecture.md", "exec"), namespace)
        rep = namespace["rep"]
        assert float(rep.species_table().loc["X", "mean"]) == pytest.approx(10.0)
        assert float(rep.species_table().loc["X", "fano"]) == pytest.approx(1.0)
    finally:
        from sbmlnoise.analysis import _backends
        _backends._REGISTRY.pop("poisson", None)


def test_wall_time_limit_skips_what_remains_with_the_reason():
    """Issue 16: analyze has a (cooperative) wall-time limit. Once it has passed, the
    backends after the first answer and the optional stages are skipped, each saying so."""
    rep = sn.analyze(BD, method="all", seed=1, trajectories=0, thermo=None,
                     wall_time=1e-9, budget=1e9)
    assert rep.primary == "fsp" and list(rep.statistics) == ["fsp"]
    assert all("wall-time limit" in rep.skipped[m] for m in ("lna", "ssa"))
    assert "wall-time limit" in rep.dynamics["notes"]["dynamics"]
    assert rep.noise_control is None
    full = sn.analyze(BD, method="all", seed=1, trajectories=0, thermo=None)
    assert {"fsp", "lna", "ssa"} <= set(full.statistics)
    assert full.settings["budget"] is not None  # the default wall time bounds cost estimates

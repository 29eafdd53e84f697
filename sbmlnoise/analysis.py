"""One front door for a noise analysis: :func:`analyze` -> :class:`AnalysisReport`.

``sn.analyze(net, method)`` runs the noise backends a model allows, cross-checks them and
collects everything a report or an SBML write-back needs:

* ``"fsp"`` -- finite state projection (exact up to a stated truncation error; Munsky &
  Khammash 2006, doi:10.1063/1.2145882);
* ``"lna"`` -- linear noise approximation (Gaussian fluctuations around the rate
  equations; van Kampen 1992; Elf & Ehrenberg 2003, doi:10.1101/gr.1196503);
* ``"ssa"`` -- one long stochastic simulation (Gillespie 1977, doi:10.1021/j100540a008),
  time averages after a burn-in, with standard errors;
* ``"auto"`` -- FSP when the projected state space is small enough (at most
  ``max_states`` states), otherwise the LNA; the LNA also runs when the FSP does (for
  the Gaussian overlay of the report) and a short SSA run cross-checks both. A model
  without a stable steady state (an oscillator) gets the SSA as its primary method, and
  the report says so;
* ``"all"`` -- every backend that applies, with a consistency table.

All numbers are molecule counts of the *stationary* distribution (see
:mod:`sbmlnoise.stats` for the Fano factor, CV, autocovariance and two-sided PSD
conventions).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import math
import platform
import time as _time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .errors import NoSteadyState, SbmlnoiseError, StateSpaceTooLarge, UnsupportedFeature
from .network import ReactionNetwork
from .stats import NoiseStatistics

__all__ = ["analyze", "AnalysisReport", "METHODS"]

#: the backends, in order of preference for the primary result
METHODS = ("fsp", "lna", "ssa")
_CHOICES = ("auto", "all") + METHODS

#: relative tolerance between FSP and LNA below which they count as consistent
FSP_LNA_RTOL = 1e-3
#: number of standard errors beyond which an SSA estimate counts as inconsistent
SSA_N_SE = 4.0
#: ``auto``/``all`` skip the FSP without trying when a rough state-count estimate exceeds
#: this multiple of ``max_states``
PRECHECK_FACTOR = 20.0


# =========================================================================== report
@dataclass(eq=False)
class AnalysisReport:
    """Everything one :func:`analyze` call produced.

    Attributes
    ----------
    model_id, model_name : str
    species : tuple of str
        The reported species (the ``species`` argument of :func:`analyze`, default all).
    statistics : dict of str -> NoiseStatistics
        One entry per backend that ran (``"fsp"``, ``"lna"``, ``"ssa"``).
    primary : str or None
        The method whose numbers are reported first and written back into SBML.
    thermo : ThermoReport or None
        ``sn.thermodynamics`` of the network; ``thermo_status`` says why it is missing.
    thermo_status : dict
        ``{"status": "ok" | "unavailable" | "skipped", "reason": str}``.
    bursts : dict
        ``{"kinetic": [...], "moment": {...}, "assumptions": {...}}`` (see
        :mod:`sbmlnoise.bursts`).
    consistency : pandas.DataFrame
        Pairwise comparison of the methods (see :meth:`consistency_table`).
    skipped : dict of str -> str
        Backends that did not run and why.
    network_summary : dict
    settings, versions, timings : dict
        What was asked for, library versions, wall-clock seconds per step.
    warnings : list of str
    trajectories : pandas.DataFrame or None
        Sample SSA trajectories, long format (columns ``run``, ``time``, species...).
    fluxes : pandas.Series or None
        Deterministic steady-state rate of every reaction channel (extent per time).
    noise_decomposition : pandas.DataFrame or None
        Intrinsic/extrinsic noise of every pair of identical reporters found in the
        network (:func:`sbmlnoise.lna.noise_decomposition` of the primary statistics).
    network : ReactionNetwork or None
    """

    model_id: str
    model_name: str = ""
    species: tuple = ()
    statistics: dict = field(default_factory=dict)
    primary: str | None = None
    thermo: object = None
    thermo_status: dict = field(default_factory=lambda: {"status": "skipped", "reason": ""})
    bursts: dict = field(default_factory=dict)
    consistency: pd.DataFrame = field(default_factory=pd.DataFrame)
    skipped: dict = field(default_factory=dict)
    network_summary: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    versions: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)
    created: str = ""
    trajectories: pd.DataFrame | None = None
    fluxes: pd.Series | None = None
    noise_decomposition: pd.DataFrame | None = None
    network: ReactionNetwork | None = field(default=None, repr=False)
    _cache: dict = field(default_factory=dict, repr=False)

    def temporal(self, method: str | None = None) -> dict:
        """Autocorrelation time and PSD summary per reported species of one method:
        ``{species: {"autocorrelation_time", "psd_zero", "corner_frequency",
        "peak_frequency"}}`` (nan where the method has no spectrum); cached."""
        name = self.primary if method is None else method
        key = ("temporal", name)
        if key not in self._cache:
            st = self.statistics[name]
            species = [s for s in self.species if s in st.mean.index]
            self._cache[key] = _temporal_summary(st, species, self.settings.get("time_scale"))
        return self._cache[key]

    # ------------------------------------------------------------------ tables
    @property
    def primary_statistics(self) -> NoiseStatistics:
        if self.primary is None:
            raise ValueError("this report has no noise statistics")
        return self.statistics[self.primary]

    def species_table(self, method: str | None = None) -> pd.DataFrame:
        """Per-species statistics as a DataFrame (index ``species``).

        Parameters
        ----------
        method : str, optional
            ``None`` for the primary method, a method name, or ``"all"`` for one block of
            rows per method (the ``method`` column tells them apart).

        Columns: ``method``, ``mean``, ``variance``, ``std``, ``fano``, ``cv`` (counts,
        counts^2, counts, dimensionless, dimensionless), standard errors
        (``mean_stderr``, ... for SSA), ``autocorrelation_time`` (time), ``psd_zero``
        (S(0), counts^2 x time), ``corner_frequency`` (angular frequency where S falls to
        S(0)/2), ``burst_size`` (molecules) and ``burst_frequency`` (per time) with
        ``burst_estimate`` ("kinetic" for a telegraph motif, else "moment"); for the LNA,
        ``emre_mean`` (counts), the effective mesoscopic rate equation mean (Grima 2010).
        """
        if method == "all":
            frames = [self.species_table(m) for m in self.statistics]
            return pd.concat(frames) if frames else pd.DataFrame()
        name = self.primary if method is None else method
        if name not in self.statistics:
            raise KeyError(f"no '{name}' statistics in this report; methods: "
                           f"{', '.join(self.statistics) or 'none'}")
        st = self.statistics[name]
        species = [s for s in self.species if s in st.mean.index]
        frame = st.to_frame().loc[species].copy()
        frame.insert(0, "method", name)
        temporal = self.temporal(name)
        for col in ("autocorrelation_time", "psd_zero", "corner_frequency", "peak_frequency"):
            frame[col] = [temporal[s][col] for s in species]
        sizes, freqs, kinds = [], [], []
        kinetic = {b["species"]: b for b in self.bursts.get("kinetic", [])}
        for s in species:
            if s in kinetic:
                sizes.append(kinetic[s]["burst_size"])
                freqs.append(kinetic[s]["burst_frequency"])
                kinds.append("kinetic")
            else:
                from .bursts import moment_bursts
                row = moment_bursts(self.network, st.mean[[s]], st.fano[[s]]).iloc[0]
                sizes.append(row["burst_size"])
                freqs.append(row["burst_frequency"])
                kinds.append("moment")
        frame["burst_size"] = sizes
        frame["burst_frequency"] = freqs
        frame["burst_estimate"] = kinds
        emre = st.extra.get("emre_mean") if isinstance(st.extra, dict) else None
        if emre is not None:  # the LNA's mesoscopic correction, beside its mean
            frame["emre_mean"] = pd.Series(emre).reindex(species).to_numpy(dtype=float)
        frame.index.name = "species"
        return frame

    def consistency_table(self) -> pd.DataFrame:
        """Pairwise agreement of the methods.

        One row per (method pair, species, quantity in mean/variance/fano) with columns
        ``method_a``, ``method_b``, ``species``, ``quantity``, ``value_a``, ``value_b``,
        ``rel_diff`` (``|a - b| / |b|``, ``b`` the more exact method: FSP, then SSA),
        ``tolerance`` (relative), ``basis`` and ``flagged`` (``rel_diff > tolerance``).
        With an SSA estimate the tolerance is 4 standard errors (combined if both are
        sampled); FSP against LNA uses ``max(1e-3, 10 * error_bound)``, so a flag there
        means the LNA is inaccurate for this model (nonlinear propensities, small counts).
        """
        return self.consistency

    # ------------------------------------------------------------------ output
    def summary(self) -> str:
        """A short text summary (what the CLI prints)."""
        lines = [self.network_summary.get("summary") or f"model '{self.model_id}'"]
        if self.primary:
            when = self.settings.get("time")
            lines.append(("stationary distribution" if when is None else
                          f"distribution at t = {when:g} from the initial state"))
            lines.append(f"primary method: {self.primary}"
                         + (f" (also: {', '.join(m for m in self.statistics if m != self.primary)})"
                            if len(self.statistics) > 1 else ""))
            table = self.species_table()
            cols = ["mean", "fano", "cv", "burst_size", "burst_frequency"]
            shown = table[cols].copy()
            lines.append(shown.to_string(float_format=lambda v: f"{v:.4g}"))
        for m, why in self.skipped.items():
            lines.append(f"{m}: not run ({why})")
        if self.thermo is not None:
            lines.append(f"thermodynamics: {thermo_verdict(self.thermo)}")
        else:
            lines.append(f"thermodynamics: {self.thermo_status.get('status')} "
                         f"({self.thermo_status.get('reason', '')})")
        flagged = self.consistency[self.consistency["flagged"]] if len(self.consistency) else []
        if len(flagged):
            lines.append(f"consistency: {len(flagged)} of {len(self.consistency)} comparisons "
                         "flagged (see consistency table)")
        elif len(self.consistency):
            lines.append(f"consistency: all {len(self.consistency)} comparisons agree")
        for w in self.warnings:
            lines.append(f"warning: {w}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """JSON-able dict; the schema is documented in docs/report-schema.md."""
        from .report import report_dict
        return report_dict(self)

    def to_json(self, path) -> str:
        """Write ``report.json`` (atomically); returns the path."""
        from .report import write_json
        return write_json(self, path)

    def to_csv(self, directory) -> list[str]:
        """Write the CSV tables into ``directory``; returns the paths."""
        from .report import write_csv
        return write_csv(self, directory)

    def to_html(self, path) -> str:
        """Write a self-contained HTML report (opens offline); returns the path."""
        from .report import write_html
        return write_html(self, path)

    def write(self, directory) -> dict:
        """Write report.json, the CSV tables and report.html into ``directory``."""
        from .report import write_all
        return write_all(self, directory)

    def __repr__(self) -> str:
        return f"<AnalysisReport {self.model_id} primary={self.primary} " \
               f"methods={list(self.statistics)}>"


def thermo_verdict(th) -> str:
    """One line: detailed balance or not, and the entropy production rate."""
    verdict = ("detailed balance (equilibrium)" if th.detailed_balance
               else "NOT detailed balanced (non-equilibrium steady state)")
    sigma = th.entropy_production
    try:
        sigma = float(sigma)
    except (TypeError, ValueError):
        sigma = math.nan
    if math.isinf(sigma):
        irr = list(getattr(th, "irreversible", []) or [])
        why = f" (one-way reactions carry flux: {', '.join(map(str, irr[:6]))})" if irr else ""
        return f"{verdict}; entropy production unbounded{why}"
    if math.isnan(sigma):
        return f"{verdict}; entropy production not available"
    return f"{verdict}; entropy production {sigma:.4g} {th.units}"


def _fmt(v) -> str:
    try:
        return f"{float(v):.4g}"
    except (TypeError, ValueError):
        return str(v)


# =========================================================================== helpers
def versions() -> dict:
    """Versions of sbmlnoise and the libraries whose numbers it reports."""
    import libsbml
    import networkx
    import scipy

    from . import __version__
    return {"sbmlnoise": __version__, "libsbml": libsbml.getLibSBMLDottedVersion(),
            "numpy": np.__version__, "scipy": scipy.__version__, "pandas": pd.__version__,
            "networkx": networkx.__version__, "python": platform.python_version()}


def _time_scales(net: ReactionNetwork, amounts: np.ndarray) -> dict:
    """Relaxation times of the rate equations linearised at ``amounts``.

    Returns ``{"slow": 1/min|Re lambda|, "fast": 1/max|Re lambda|, "period": 2 pi /
    max|Im lambda| or None}`` from the eigenvalues ``lambda`` of the reduced Jacobian.
    """
    ind = list(net.independent_species)
    if not ind or net.n_reactions == 0:
        return {"slow": 1.0, "fast": 1.0, "period": None}
    try:
        jac = (np.asarray(net.stoichiometry) @ net.rate_jacobian(amounts))[ind] @ net.link_matrix
        eig = np.linalg.eigvals(jac)
    except (SbmlnoiseError, np.linalg.LinAlgError, ValueError):
        return {"slow": 1.0, "fast": 1.0, "period": None}
    eig = eig[np.isfinite(eig)]
    re = np.abs(eig.real)
    scale = float(np.max(np.abs(eig))) if eig.size else 0.0
    keep = re > 1e-9 * max(scale, 1e-300)
    if not np.any(keep):
        keep = np.abs(eig) > 1e-9 * max(scale, 1e-300)
        re = np.abs(eig)
    if not np.any(keep):
        return {"slow": 1.0, "fast": 1.0, "period": None}
    im = np.abs(eig.imag)
    period = float(2 * math.pi / im.max()) if im.max() > 1e-9 * max(scale, 1e-300) else None
    return {"slow": float(1.0 / re[keep].min()), "fast": float(1.0 / re[keep].max()),
            "period": period}


def omega_limit(st: NoiseStatistics) -> float:
    """Largest angular frequency at which a spectrum is meaningful: half the Nyquist
    frequency ``pi / dt`` of a sampled (SSA) estimate, infinity otherwise."""
    dt = (st.settings or {}).get("dt")
    try:
        dt = float(dt)
    except (TypeError, ValueError):
        return math.inf
    return 0.5 * math.pi / dt if dt > 0 else math.inf


def _temporal_summary(st: NoiseStatistics, species, time_scale) -> dict:
    """Autocorrelation time and PSD summary per species (nan where unavailable)."""
    out = {}
    tau = float(time_scale) if time_scale else 1.0
    omegas = np.logspace(-3, 3, 121) / tau
    omegas = omegas[omegas < omega_limit(st)]
    peak_factor = 1.5 if st.stderr else 1.05  # sampled spectra wiggle
    for s in species:
        row = {"autocorrelation_time": math.nan, "psd_zero": math.nan,
               "corner_frequency": math.nan, "peak_frequency": math.nan}
        if st.psd_function is not None:
            try:
                with np.errstate(all="ignore"):
                    s0 = float(st.psd(s, [0.0]).iloc[0])
                    spec = st.psd(s, omegas).to_numpy()
                row["psd_zero"] = s0
                row["autocorrelation_time"] = st.autocorrelation_time(s)
                if np.all(np.isfinite(spec)) and s0 > 0:
                    below = np.flatnonzero(spec <= s0 / 2)
                    if below.size:
                        k = int(below[0])
                        if k > 0:  # log-linear interpolation for the half-power point
                            x0, x1 = np.log(omegas[k - 1]), np.log(omegas[k])
                            y0, y1 = spec[k - 1], spec[k]
                            frac = (y0 - s0 / 2) / (y0 - y1) if y0 != y1 else 0.0
                            row["corner_frequency"] = float(np.exp(x0 + frac * (x1 - x0)))
                        else:
                            row["corner_frequency"] = float(omegas[0])
                    k = int(np.argmax(spec))
                    if spec[k] > peak_factor * s0:
                        row["peak_frequency"] = float(omegas[k])
            except (NotImplementedError, SbmlnoiseError, ValueError, KeyError):
                pass
        out[s] = row
    return out


def _consistency(statistics: dict, species) -> pd.DataFrame:
    rank = {"fsp": 0, "ssa": 1, "lna": 2}
    methods = sorted(statistics, key=lambda m: rank.get(m, 9))
    rows = []
    for i, ref in enumerate(methods):
        for other in methods[i + 1:]:
            a, b = statistics[other], statistics[ref]  # b = the more exact one
            for s in species:
                if s not in a.mean.index or s not in b.mean.index:
                    continue
                for q in ("mean", "variance", "fano"):
                    va, vb = float(getattr(a, q)[s]), float(getattr(b, q)[s])
                    diff = abs(va - vb)
                    denom = abs(vb) if vb != 0 else max(abs(va), 1e-300)
                    rel = diff / denom if (diff > 0 or denom > 0) else 0.0
                    ses = [float(st.stderr[q][s]) for st in (a, b)
                           if st.stderr and q in st.stderr and s in st.stderr[q].index]
                    if ses:
                        se = math.sqrt(sum(x * x for x in ses))
                        tol = SSA_N_SE * se / denom if denom > 0 else math.inf
                        basis = f"{SSA_N_SE:g} SE (sampling)"
                    elif "ssa" in (ref, other):
                        tol, basis = math.nan, "no SSA standard error available"
                    else:
                        bound = float(b.extra.get("error_bound", a.extra.get("error_bound", 0.0))
                                      or 0.0)
                        tol = max(FSP_LNA_RTOL, 10.0 * bound)
                        basis = "FSP bound (max(1e-3, 10 x error bound))"
                    flagged = bool(np.isfinite(tol) and np.isfinite(rel) and rel > tol)
                    rows.append({"method_a": other, "method_b": ref, "species": s,
                                 "quantity": q, "value_a": va, "value_b": vb,
                                 "rel_diff": rel, "tolerance": tol, "basis": basis,
                                 "flagged": flagged})
    cols = ["method_a", "method_b", "species", "quantity", "value_a", "value_b", "rel_diff",
            "tolerance", "basis", "flagged"]
    return pd.DataFrame(rows, columns=cols)


def _network_summary(net: ReactionNetwork) -> dict:
    reactions = []
    for r in net.reactions:
        reactions.append({"id": r.id, "sbml_id": r.sbml_id or r.id,
                          "equation": f"{net.complex_label(r.reactants)} -> "
                                      f"{net.complex_label(r.products)}",
                          "direction": r.direction,
                          "modifiers": list(r.modifiers)})
    return {"id": net.id, "name": net.name, "source": net.source_path,
            "n_species": net.n_species, "n_reactions": net.n_reactions,
            "n_parameters": len(net.parameters),
            "n_conservation_laws": int(net.conservation_laws.shape[0]),
            "system_size": float(net.system_size),
            "system_size_source": net.system_size_source,
            "species": list(net.species_ids), "reactions": reactions,
            "parameters": {p.id: float(p.value) for p in net.parameters},
            "summary": net.summary()}


def _trajectory_frame(ens, species_ids) -> pd.DataFrame | None:
    """Long-format DataFrame (run, time, species...) from an SSA ensemble, if possible."""
    traj = getattr(ens, "trajectories", None)
    if traj is None:
        return None
    if isinstance(traj, pd.DataFrame):
        frame = traj.reset_index()
        if "run" in frame.columns and "time" in frame.columns:
            return frame
        return None
    arr = np.asarray(traj, dtype=float)
    times = getattr(ens, "times", None)
    if times is None and hasattr(ens, "mean") and isinstance(ens.mean, pd.DataFrame):
        times = ens.mean.index.to_numpy()
    if arr.ndim != 3 or times is None:
        return None
    runs, nt, ns = arr.shape
    if ns != len(species_ids) or nt != len(times):
        return None
    frames = []
    for r in range(runs):
        f = pd.DataFrame(arr[r], columns=list(species_ids))
        f.insert(0, "time", np.asarray(times, float))
        f.insert(0, "run", r)
        frames.append(f)
    return pd.concat(frames, ignore_index=True)


# =========================================================================== front door
class _Outcome:
    """What a backend block ended with (``error`` is None on success)."""

    error: BaseException | None = None


@contextlib.contextmanager
def _backend(name: str, label: str, strict: bool, skipped: dict, warnings_list: list,
             timings: dict, explain=None):
    """Run one backend inside ``analyze``: time it, and unless ``strict`` turn its failure
    into ``skipped[name]`` (a user-facing reason) instead of sinking the whole report. An
    unexpected exception type is a bug in sbmlnoise, so it also becomes a warning."""
    outcome = _Outcome()
    started = _time.perf_counter()
    try:
        yield outcome
    except (SbmlnoiseError, MemoryError) as err:
        if strict:
            raise
        outcome.error = err
        skipped[name] = (explain or _first_line)(err)
    except ImportError as err:
        if strict:
            raise
        outcome.error = err
        skipped[name] = f"{label} backend unavailable ({err})"
    except Exception as err:  # noqa: BLE001 - a backend bug must not sink the report
        if strict:
            raise
        outcome.error = err
        skipped[name] = f"{label} failed: {type(err).__name__}: {_first_line(err)}"
        warnings_list.append(f"the {label} backend failed unexpectedly "
                             f"({type(err).__name__}); please report it")
    finally:
        timings[name] = _time.perf_counter() - started


def _explain_lna(err) -> str:
    if isinstance(err, NoSteadyState):
        return f"no stable steady state ({_first_line(err)})"
    return _first_line(err)


def _reaches_steady_state(net, ss: pd.Series) -> str | None:
    """A warning when the rate equations started from the model's initial state do not
    approach the stable steady state that the stationary analysis uses (a second stable
    state or a limit cycle: multistability), else ``None``. Integrates for 50 of the
    state's slowest relaxation times."""
    from .ode import simulate_ode

    eig = np.asarray(ss.attrs.get("eigenvalues", []))
    if eig.size == 0 or not np.all(eig.real < 0):
        return None
    horizon = 50.0 / float(np.min(-eig.real))
    if not np.isfinite(horizon) or horizon > 1e7:
        return None
    try:
        end = simulate_ode(net, [0.0, horizon]).to_numpy()[-1]
    except SbmlnoiseError:
        return None
    target = ss.to_numpy(dtype=float)
    scale = np.maximum(np.abs(target), 1e-6 * max(1e-300, float(np.max(np.abs(target)))))
    far = np.abs(end - target) > 0.01 * scale + 1e-9
    if not far.any():
        return None
    worst = list(np.array(net.species_ids)[far][:3])
    return (f"the rate equations started from the initial state do not approach the steady "
            f"state used here within {horizon:.3g} time units ({', '.join(worst)} differ by "
            "more than 1%): the model may be multistable or oscillate, and the stationary "
            "statistics describe only the neighbourhood of that state")


def analyze(net, method: str = "auto", species=None, *, seed: int | None = None,
            t_end: float | None = None, burn_in: float | None = None,
            ssa_events: float | None = None, trajectories: int = 3,
            fsp_tol: float = 1e-6, max_states: int = 200_000,
            thermo: str | None = "network", system_size: float | None = None,
            time: float | None = None, ssa_runs: int = 1000,
            progress: bool = False) -> AnalysisReport:
    """Noise analysis of a reaction network: stationary, or at one time point.

    Parameters
    ----------
    net : ReactionNetwork, str or os.PathLike
        A network, or a path / SBML / Antimony text (read with :func:`sbmlnoise.load`).
    method : {"auto", "all", "fsp", "lna", "ssa"}
        See the module docstring. An explicitly named method that cannot run raises
        (``StateSpaceTooLarge``, ``NoSteadyState``, ``UnsupportedFeature``); ``"auto"``
        and ``"all"`` fall back and record why in ``report.skipped``.
    species : str or sequence of str, optional
        Species to report (default: all). Backends still model every species.
    seed : int, optional
        Seed of the SSA runs (a ``numpy.random.SeedSequence`` is spawned from it).
    t_end, burn_in : float, optional
        Length of the stationary SSA run and of the discarded transient (model time
        units). Default: chosen from the slowest relaxation time ``tau`` of the rate
        equations and the event budget -- ``burn_in = 10 tau`` and ``t_end`` such that
        about ``ssa_events`` reactions fire (at most ``2000 tau`` after the burn-in).
    ssa_events : float, optional
        Event budget of the SSA run: default 3e5 for the cross-check of ``"auto"``,
        3e6 when the SSA is asked for (``"ssa"``, ``"all"``).
    trajectories : int
        Number of sample SSA trajectories kept for the report (0 for none).
    fsp_tol, max_states : float, int
        FSP truncation tolerance and the largest projected state space tried.
    thermo : {"network", "cme", None}
        Level of the thermodynamic analysis (:func:`sbmlnoise.thermodynamics`); None skips.
    system_size : float, optional
        Passed to :func:`sbmlnoise.load` when ``net`` is a path or text.
    time : float, optional
        Analyse the distribution at this time (model time units) after starting from the
        model's initial state instead of the stationary one: transient FSP and LNA, and an
        SSA ensemble of ``ssa_runs`` runs (standard errors from the ensemble). Spectra and
        autocorrelations are stationary notions and are absent then.
    ssa_runs : int
        Ensemble size of the SSA with ``time`` (default 1000).
    progress : bool
        Show a progress bar (tqdm) over the analysis steps.

    Returns
    -------
    AnalysisReport

    Examples
    --------
    >>> import sbmlnoise as sn
    >>> rep = sn.analyze("model bd; => X; k; X => ; g*X; k = 10; g = 1; X = 0; end",
    ...                  method="lna")
    >>> round(float(rep.species_table().loc["X", "fano"]), 6)
    1.0
    """
    t_start = _time.perf_counter()
    timings: dict[str, float] = {}
    if not isinstance(net, ReactionNetwork):
        from .importer import load
        t0 = _time.perf_counter()
        net = load(net, system_size=system_size)
        timings["load"] = _time.perf_counter() - t0
    method = str(method).lower()
    if method not in _CHOICES:
        raise ValueError(f"unknown method '{method}'; choose one of {', '.join(_CHOICES)}")
    if isinstance(species, str):
        species = [species]
    if species is None:
        species = list(net.species_ids)
    else:
        species = list(species)
        for s in species:
            net.index(s)  # KeyError names the species
    if not species:
        raise ValueError(f"model '{net.id}' has no species to analyse")
    if trajectories < 0:
        raise ValueError("trajectories must be >= 0")
    if time is not None:
        time = float(time)
        if not (math.isfinite(time) and time >= 0):
            raise ValueError(f"time must be a finite number >= 0 (got {time})")
        if ssa_runs < 2:
            raise ValueError("ssa_runs must be >= 2")
    warnings_list: list[str] = list(net.warnings)
    statistics: dict[str, NoiseStatistics] = {}
    skipped: dict[str, str] = {}
    strict = method in METHODS
    wanted = {"auto": ("fsp", "lna", "ssa"), "all": ("fsp", "lna", "ssa")}.get(method, (method,))
    seeds = np.random.SeedSequence(seed).spawn(2)
    seed_ss = int(seeds[0].generate_state(1)[0])
    seed_tr = int(seeds[1].generate_state(1)[0])

    bar = None
    n_steps = len(wanted) + (1 if thermo else 0) + (1 if trajectories else 0)
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=n_steps, desc=f"analyse {net.id}", unit="step")

    def step(label):
        if bar is not None:
            bar.set_postfix_str(label)

    def done():
        if bar is not None:
            bar.update(1)

    # ---------------------------------------------------------------- deterministic
    ss_amounts = None
    fluxes = None
    no_fixed_point = None  # the rate equations have no fixed point at all (e.g. growth)
    try:
        from .ode import steady_state
        t0 = _time.perf_counter()
        ss = steady_state(net)
        ss_amounts = ss.to_numpy(dtype=float)
        fluxes = pd.Series(net.rates(ss_amounts), index=list(net.reaction_ids), name="flux")
        reach = _reaches_steady_state(net, ss)
        if reach:
            warnings_list.append(reach)
        timings["steady_state"] = _time.perf_counter() - t0
    except (SbmlnoiseError, ValueError, np.linalg.LinAlgError) as err:
        if not isinstance(err, NoSteadyState):
            warnings_list.append(f"no deterministic steady state: {_first_line(err)}")
        elif not err.unstable:
            no_fixed_point = _first_line(err)
    stationary_ref = ss_amounts if ss_amounts is not None else \
        np.maximum(net.initial_amounts, 0.0)
    scales = _time_scales(net, stationary_ref)
    stochastic_ok = True
    try:
        net.require_stochastic("fsp/ssa")
    except UnsupportedFeature as err:
        stochastic_ok = False
        stochastic_reason = _first_line(err)

    # ---------------------------------------------------------------- FSP
    fsp_result = None
    if "fsp" in wanted:
        step("fsp")
        with _backend("fsp", "FSP", strict, skipped, warnings_list, timings,
                      explain=lambda err: _why(err, max_states)):
            if not stochastic_ok:
                raise UnsupportedFeature(stochastic_reason)
            if not strict and time is None:
                guess = _projected_states(net, ss_amounts, scales)
                if guess > PRECHECK_FACTOR * max_states:
                    raise StateSpaceTooLarge(
                        f"a projection covering mean + 6 sd of every independent species "
                        f"needs about {guess:.2g} states, far more than max_states="
                        f"{max_states:g}")
            from .fsp import fsp
            fsp_result = fsp(net, t=time, tol=fsp_tol, max_states=max_states)
            statistics["fsp"] = fsp_result.stats
            bound = float(getattr(fsp_result, "error_bound", 0.0) or 0.0)
            if bound > fsp_tol:
                warnings_list.append(f"FSP error bound {bound:.3g} exceeds the tolerance "
                                     f"{fsp_tol:g}")
        done()

    # ---------------------------------------------------------------- LNA
    oscillator = False
    if "lna" in wanted:
        step("lna")
        with _backend("lna", "LNA", strict, skipped, warnings_list, timings,
                      explain=_explain_lna) as outcome:
            from .lna import lna
            statistics["lna"] = lna(net) if time is None else lna(net, t=time)
        oscillator = isinstance(outcome.error, NoSteadyState)
        done()

    # ---------------------------------------------------------------- SSA (stationary)
    ref_counts = None
    for m in ("fsp", "lna"):
        if m in statistics:
            ref_counts = statistics[m].mean.reindex(list(net.species_ids)).to_numpy(float)
            break
    if ref_counts is None or not np.all(np.isfinite(ref_counts)):
        ref_counts = stationary_ref * net.system_size
    ssa_plan = None
    if "ssa" in wanted:
        step("ssa")
        t0 = _time.perf_counter()
        budget = float(ssa_events) if ssa_events else (3e5 if method == "auto" else 3e6)
        ssa_plan = _ssa_plan(net, ref_counts, scales, t_end, burn_in, budget)
        with _backend("ssa", "SSA", strict, skipped, warnings_list, timings):
            if not stochastic_ok:
                raise UnsupportedFeature(stochastic_reason)
            if time is None and no_fixed_point and "fsp" not in statistics:
                # time averages of a process without a stationary law would be numbers
                # that describe nothing (an unbounded birth process grows forever)
                raise NoSteadyState(f"no stationary distribution to estimate: {no_fixed_point}; "
                                    "analyse a time point instead (time=... / --time)")
            from .ssa import ssa_stationary
            if time is not None:
                ssa_plan = {"time": time, "runs": int(ssa_runs)}
                statistics["ssa"] = _ssa_at_time(net, time, int(ssa_runs), seed_ss)
            else:
                statistics["ssa"] = ssa_stationary(net, t_end=ssa_plan["t_end"],
                                                   burn_in=ssa_plan["burn_in"], seed=seed_ss)
            if time is None and ssa_plan["relaxation_times"] < 100:
                warnings_list.append(
                    f"the SSA run covers only {ssa_plan['relaxation_times']:.0f} relaxation "
                    "times after the burn-in; its estimates are rough (raise --t-end or "
                    "ssa_events)")
        done()

    if not statistics:
        reasons = "; ".join(f"{m}: {why}" for m, why in skipped.items())
        if bar is not None:
            bar.close()
        if no_fixed_point and time is None:
            raise NoSteadyState(f"model '{net.id}' has no stationary distribution to analyse: "
                                f"{no_fixed_point}; analyse a time point instead "
                                "(time=... / --time)")
        raise UnsupportedFeature(f"no noise backend could analyse model '{net.id}' ({reasons})")
    primary = next(m for m in METHODS if m in statistics)
    if oscillator and primary == "ssa":
        warnings_list.append("the rate equations have no stable steady state (oscillator?): "
                             "the LNA does not apply, the SSA time averages are reported")
    if method == "auto" and primary == "lna" and "fsp" in skipped:
        warnings_list.append(f"FSP not used ({skipped['fsp']}); the LNA (Gaussian, "
                             "small-noise) numbers are primary")

    # ---------------------------------------------------------------- trajectories
    traj = None
    if trajectories and stochastic_ok:
        step("trajectories")
        t0 = _time.perf_counter()
        try:
            from .ssa import ssa
            horizon = _trajectory_horizon(net, ref_counts, scales, ssa_plan)
            times = np.linspace(0.0, horizon, 201)
            ens = ssa(net, times, int(trajectories), seed=seed_tr,
                      keep_trajectories=int(trajectories), workers=1)
            traj = _trajectory_frame(ens, net.species_ids)
        except (SbmlnoiseError, ImportError, TypeError, ValueError) as err:
            warnings_list.append(f"no sample trajectories: {_first_line(err)}")
        timings["trajectories"] = _time.perf_counter() - t0
        done()

    # ---------------------------------------------------------------- thermodynamics
    thermo_report = None
    thermo_status = {"status": "skipped", "reason": "not requested"}
    if thermo:
        step("thermodynamics")
        t0 = _time.perf_counter()
        try:
            from .thermo import thermodynamics
            kwargs = {}
            if thermo == "cme" and fsp_result is not None and time is None:
                kwargs["fsp_result"] = fsp_result  # reuse the stationary projection
            if ss_amounts is not None:
                kwargs["steady_state"] = pd.Series(ss_amounts, index=list(net.species_ids))
            try:
                thermo_report = thermodynamics(net, level=thermo, **kwargs)
            except TypeError:  # an older signature without the reuse keywords
                thermo_report = thermodynamics(net, level=thermo)
            thermo_status = {"status": "ok", "reason": "", "level": thermo}
        except (SbmlnoiseError, ImportError, ValueError) as err:
            thermo_status = {"status": "unavailable", "reason": _first_line(err),
                             "error": type(err).__name__, "level": thermo}
        timings["thermodynamics"] = _time.perf_counter() - t0
        done()
    if bar is not None:
        bar.close()

    # ---------------------------------------------------------------- bursts, tables
    from .bursts import burst_table
    st = statistics[primary]
    t0 = _time.perf_counter()
    try:
        bursts = burst_table(net, st.mean.reindex(species), st.fano.reindex(species))
    except (SbmlnoiseError, ValueError) as err:
        bursts = {"kinetic": [], "moment": {}, "assumptions": {},
                  "error": _first_line(err)}
    bursts["kinetic"] = [b for b in bursts["kinetic"] if b["species"] in species]
    if time is not None:  # the moment relations hold for the stationary state only
        bursts["moment"] = {}
        bursts["assumptions"]["moment"] = ("not computed: the moment-based estimate "
                                           "assumes the stationary distribution")
    timings["bursts"] = _time.perf_counter() - t0
    consistency = _consistency(statistics, species)
    decomposition = None
    try:
        from .lna import find_reporter_pairs, noise_decomposition
        pairs = [p for p in find_reporter_pairs(net) if p[0] in species and p[1] in species]
        if pairs:
            decomposition = noise_decomposition(st, pairs)
    except (SbmlnoiseError, ImportError, ValueError, KeyError) as err:
        warnings_list.append(f"no intrinsic/extrinsic decomposition: {_first_line(err)}")
    settings = {"method": method, "species": species, "seed": seed,
                "fsp_tol": fsp_tol, "max_states": int(max_states),
                "thermo_level": thermo, "trajectories": int(trajectories),
                "system_size": float(net.system_size),
                "system_size_source": net.system_size_source,
                "time_scale": scales["slow"], "fast_time_scale": scales["fast"],
                "oscillation_period": scales["period"],
                "ssa": ssa_plan, "stationary": time is None, "time": time}
    timings["total"] = _time.perf_counter() - t_start
    return AnalysisReport(
        model_id=net.id, model_name=net.name, species=tuple(species), statistics=statistics,
        primary=primary, thermo=thermo_report, thermo_status=thermo_status, bursts=bursts,
        consistency=consistency, skipped=skipped, network_summary=_network_summary(net),
        settings=settings, versions=versions(), timings=timings, warnings=warnings_list,
        created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        trajectories=traj, fluxes=fluxes, noise_decomposition=decomposition, network=net)


def _first_line(err) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def _why(err, max_states) -> str:
    if isinstance(err, StateSpaceTooLarge):
        return f"state space larger than max_states={max_states:g} ({_first_line(err)})"
    if isinstance(err, MemoryError):
        return "out of memory building the projection"
    return _first_line(err)


def _ssa_at_time(net: ReactionNetwork, time: float, runs: int, seed: int) -> NoiseStatistics:
    """Ensemble statistics at one time from ``runs`` SSA runs, with standard errors
    (mean: sqrt(var/runs); variance: normal theory; Fano and CV by the delta method)."""
    from .ssa import ssa
    times = [0.0, time] if time > 0 else [0.0]
    ens = ssa(net, times, runs, seed=seed, covariance=True, workers=1)
    ids = list(ens.mean.columns)
    mean = ens.mean.iloc[-1].astype(float)
    cov = ens.covariance.xs(ens.mean.index[-1], level=0).loc[ids, ids].astype(float)
    var = pd.Series(np.diag(cov.to_numpy()), index=ids)
    se_mean = ens.stderr["mean"].iloc[-1].astype(float)
    se_var = ens.stderr["variance"].iloc[-1].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        fano = var / mean
        rel = np.sqrt((se_var / var) ** 2 + (se_mean / mean) ** 2)
        se_fano = (fano * rel).where(mean != 0)
        cv = np.sqrt(var) / mean
        se_cv = (cv * np.sqrt((0.5 * se_var / var) ** 2 + (se_mean / mean) ** 2)).where(mean != 0)
    settings = dict(ens.settings)
    settings.update(runs=runs, time=time)
    return NoiseStatistics(mean=mean.rename("mean"), covariance=cov, method="ssa",
                           settings=settings,
                           stderr={"mean": se_mean, "variance": se_var, "fano": se_fano,
                                   "cv": se_cv},
                           time=time)


def _projected_states(net: ReactionNetwork, ss_amounts, scales) -> float:
    """Rough size of an FSP projection: prod over independent species of
    ``mean + 6 sqrt(mean) + 1`` with Poisson-like spread, the mean taken from the
    deterministic steady state, or the ODE maximum over ``50 tau`` when there is none
    (oscillators). Species bounded by a conservation law use their total."""
    omega = float(net.system_size)
    if ss_amounts is not None:
        level = np.asarray(ss_amounts, dtype=float) * omega
    else:
        try:
            from .ode import simulate_ode
            horizon = 50.0 * max(scales["slow"], scales.get("period") or 0.0)
            traj = simulate_ode(net, np.linspace(0.0, horizon, 101))
            level = traj.max(axis=0).to_numpy(dtype=float) * omega
        except (SbmlnoiseError, ValueError, np.linalg.LinAlgError):
            return 0.0  # no estimate: let the FSP decide
    level = np.clip(np.nan_to_num(level, nan=0.0, posinf=1e300), 0.0, 1e300)
    caps = np.full(net.n_species, np.inf)
    init = np.asarray(net.initial_state, dtype=float)
    for row in net.conservation_laws:
        if np.all(row >= 0):
            total = float(row @ init)
            for i in np.flatnonzero(row):
                caps[i] = min(caps[i], total / row[i])
    size = 1.0
    for i in net.independent_species:
        if net.species[i].boundary or net.species[i].constant:
            continue
        span = level[i] + 6.0 * math.sqrt(max(level[i], 1.0)) + 1.0
        size *= min(span, caps[i] + 1.0)
        if size > 1e300:
            break
    return float(size)


def _ssa_plan(net, ref_counts, scales, t_end, burn_in, budget) -> dict:
    tau = scales["slow"]
    if scales.get("period"):
        tau = max(tau, scales["period"])
    try:
        rate = float(np.sum(np.clip(net.propensities(np.clip(ref_counts, 0, None)), 0, None)))
    except (SbmlnoiseError, ValueError):
        rate = math.nan
    if not (np.isfinite(rate) and rate > 0):
        rate = 1.0 / tau
    if burn_in is None:
        burn_in = 10.0 * tau
    if t_end is None:
        length = min(budget / rate, 2000.0 * tau)
        length = max(length, 20.0 * tau)
        t_end = burn_in + length
    if not (t_end > burn_in >= 0):
        raise ValueError(f"need t_end > burn_in >= 0 (got t_end={t_end}, burn_in={burn_in})")
    return {"t_end": float(t_end), "burn_in": float(burn_in), "relaxation_time": float(tau),
            "relaxation_times": float((t_end - burn_in) / tau),
            "expected_events": float(rate * t_end), "event_budget": float(budget)}


def _trajectory_horizon(net, ref_counts, scales, plan) -> float:
    tau = scales["slow"]
    horizon = 20.0 * tau
    if scales.get("period"):
        horizon = max(horizon, 5.0 * scales["period"])
    try:
        rate = float(np.sum(np.clip(net.propensities(np.clip(ref_counts, 0, None)), 0, None)))
        if rate > 0:
            horizon = min(horizon, 2e4 / rate)  # at most ~2e4 events per trajectory
    except (SbmlnoiseError, ValueError):
        pass
    return float(max(horizon, 1e-9))

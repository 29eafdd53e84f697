"""The result of :func:`sbmlnoise.analyze`: :class:`AnalysisReport`.

Writers (:mod:`sbmlnoise.report`, :mod:`sbmlnoise.annotate`, curation) read it through
:meth:`AnalysisReport.to_dict` (the one schema, docs/report-schema.md) or its tables; it
never imports them at module level, and they never import it at run time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from .._summary import temporal_summary
from ..network import ReactionNetwork
from ..stats import NoiseStatistics

if TYPE_CHECKING:
    from ..dynamics._multistability import Multistability
    from ..dynamics._timecourse import TimeCourseNoise
    from ..thermo import ThermoReport

__all__ = ["AnalysisReport"]


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
    noise_control : pandas.DataFrame or None
        "What controls the noise": parameters ranked by the exact log-sensitivity
        ``d ln CV^2 / d ln k`` of each species (:func:`sbmlnoise.sensitivities`, by the
        primary method when it is the stationary FSP or LNA); columns ``rank``,
        ``parameter``, ``species``, ``value``, ``effect``.
    assignment_statistics : pandas.DataFrame or None
        Mean, variance, sd and CV of every variable defined by an assignment rule
        (species in amounts, parameters by value): exact from the stationary FSP, by the
        first-order delta method from the LNA, sample statistics with standard errors
        (``mean_stderr`` ... ``cv_stderr``) from the SSA, stationary (batch means) or at a
        time point (between runs); ``approximation`` says which.
    time_course : TimeCourseNoise or None
        Noise over time from the initial state (:func:`sbmlnoise.time_course_noise`): for
        oscillators, models without a fixed point, events, or when no stationary method
        answered (the primary statistics are then its last time point).
    oscillation : pandas.DataFrame or None
        :func:`sbmlnoise.oscillation`: the SSA's periods, Q and phase diffusion of a limit
        cycle, or the LNA's quasi-cycle spectrum peak of a stable focus.
    multistability : Multistability or None
        Stable fixed points, the LNA at each and switching rates
        (:func:`sbmlnoise.multistability`), when the model has several.
    dynamics : dict
        ``{"kind": "monostable" | "oscillator" | "multistable" | "no steady state" |
        "non-autonomous", "notes": {analysis: why it did not run}}``.
    network : ReactionNetwork or None
    """

    model_id: str
    model_name: str = ""
    species: tuple[str, ...] = ()
    statistics: dict[str, NoiseStatistics] = field(default_factory=dict)
    primary: str | None = None
    thermo: ThermoReport | None = None
    thermo_status: dict[str, Any] = field(default_factory=lambda: {"status": "skipped", "reason": ""})
    bursts: dict[str, Any] = field(default_factory=dict)
    consistency: pd.DataFrame = field(default_factory=pd.DataFrame)
    skipped: dict[str, str] = field(default_factory=dict)
    network_summary: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    created: str = ""
    trajectories: pd.DataFrame | None = None
    fluxes: pd.Series | None = None
    noise_decomposition: pd.DataFrame | None = None
    noise_control: pd.DataFrame | None = None
    assignment_statistics: pd.DataFrame | None = None
    time_course: TimeCourseNoise | None = None
    oscillation: pd.DataFrame | None = None
    multistability: Multistability | None = None
    dynamics: dict[str, Any] = field(default_factory=dict)
    network: ReactionNetwork | None = field(default=None, repr=False)
    _cache: dict[Any, Any] = field(default_factory=dict, repr=False)

    def temporal(self, method: str | None = None) -> dict[str, dict[str, float]]:
        """Autocorrelation time and PSD summary per reported species of one method:
        ``{species: {"autocorrelation_time", "psd_zero", "corner_frequency",
        "peak_frequency"}}`` (nan where the method has no spectrum); cached."""
        name = self.primary if method is None else method
        if name is None:
            raise ValueError("this report has no noise statistics")
        key = ("temporal", name)
        if key not in self._cache:
            st = self.statistics[name]
            species = [s for s in self.species if s in st.mean.index]
            self._cache[key] = temporal_summary(st, species, self.settings.get("time_scale"))
        return self._cache[key]

    def assignment_time_course(self) -> pd.DataFrame | None:
        """Mean, variance, sd and CV over time of every assignment-rule variable, with
        between-run standard errors, from the runs behind :attr:`time_course` (simulated
        again with its seed, which reproduces them; cached); index ``(time, variable)``.
        None without a time course or assignment rules. Species defined by a rule are in
        amounts, or concentrations in a ``units="concentration"`` report."""
        key = ("assignment_time_course",)
        if key not in self._cache:
            frame = None
            if self.network is not None and self.time_course is not None:
                from ._rule_stats import rule_time_course_for
                frame = rule_time_course_for(self.network, self.time_course)
                if frame is not None and self.settings.get("units") == "concentration":
                    from ._units import _rules
                    converted = _rules(frame.reset_index(), self.network)
                    frame = None if converted is None else \
                        converted.set_index(["time", "variable"])
            self._cache[key] = frame
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
        from ..report._writers import species_frame
        if method not in (None, "all") and method not in self.statistics:
            raise KeyError(f"no '{method}' statistics in this report; methods: "
                           f"{', '.join(self.statistics) or 'none'}")
        frame = species_frame(self, method)
        return frame.drop(columns=["name", "burst_note"], errors="ignore")

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
        """A short text summary (what the CLI prints): SSA numbers with 95% confidence
        intervals and digits that match them."""
        from ..report._terminal import terminal_summary
        return terminal_summary(self)

    def plot(self, kind: str = "distributions", species=None):
        """A matplotlib Figure of this report (:func:`sbmlnoise.plots.plot_report`:
        ``kind`` is ``"distributions"``, ``"statistics"``, ``"autocorrelation"`` or ``"psd"``)."""
        from ..plots import plot_report
        return plot_report(self, kind, species)

    def _repr_html_(self) -> str:
        from ..report._writers import report_repr_html
        return report_repr_html(self)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict; the schema is documented in docs/report-schema.md."""
        from ..report import report_dict
        return report_dict(self)

    def to_json(self, path) -> str:
        """Write ``report.json`` (atomically); returns the path."""
        from ..report import write_json
        return write_json(self, path)

    def to_csv(self, directory) -> list[str]:
        """Write the CSV tables into ``directory``; returns the paths."""
        from ..report import write_csv
        return write_csv(self, directory)

    def to_html(self, path) -> str:
        """Write a self-contained HTML report (opens offline); returns the path."""
        from ..report import write_html
        return write_html(self, path)

    def write(self, directory) -> dict[str, Any]:
        """Write report.json, the CSV tables and report.html into ``directory``."""
        from ..report import write_all
        return write_all(self, directory)

    def __repr__(self) -> str:
        return f"<AnalysisReport {self.model_id} primary={self.primary} " \
               f"methods={list(self.statistics)}>"

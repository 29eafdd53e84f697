"""Reporting units of an analysis: molecule counts (default) or concentrations.

``analyze(..., units="concentration")`` reports every mean, standard deviation,
covariance, autocovariance and power-spectrum amplitude, distribution axis, trajectory and
time course as a concentration in model units, ``[X] = n / (Omega V)`` -- what
libRoadRunner reports as ``[X]`` (``n`` molecules, ``Omega`` = ``system_size`` molecules per
model substance unit, ``V`` the size of the species' compartment in model units). The
backends still work in counts; the report is converted once at the end
(:func:`report_in_units`). Conventions:

* the **CV** is dimensionless and unchanged;
* the **Fano factor** stays the Fano factor of the molecule counts (``Var n / E n``, 1 for
  a Poisson law): it is defined on counts, and a "Fano factor of concentrations"
  (``Var [X] / E [X]``, which has units) would depend on the compartment size. It is
  reported as such in every table (:class:`ConcentrationStatistics.fano`);
* burst sizes stay in molecules per burst, fluxes in extent per time;
* variables defined by assignment rules: a species is divided by its compartment size
  (its amount becomes a concentration), a parameter is unchanged.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..network import ReactionNetwork
from ..stats import ABSENT, NoiseStatistics

if TYPE_CHECKING:
    from ._result import AnalysisReport

__all__ = ["UNITS", "check_units", "report_in_units", "ConcentrationStatistics",
           "molecules_per_concentration"]

#: the reporting units ``analyze`` accepts
UNITS = ("count", "concentration")


def check_units(units: str) -> str:
    """``units`` normalised (``"count"``/``"counts"``/``"amount"`` -> ``"count"``), or a
    ValueError naming the choices."""
    name = str(units).lower()
    if name in ("count", "counts", "amount", "amounts", "molecules"):
        return "count"
    if name in ("concentration", "concentrations"):
        return "concentration"
    raise ValueError(f"units must be 'count' or 'concentration' (got {units!r})")


class ConcentrationStatistics(NoiseStatistics):
    """:class:`~sbmlnoise.stats.NoiseStatistics` in concentrations ``[X] = n / (Omega V)``
    whose :attr:`fano` is the Fano factor of the molecule *counts* (``Var n / E n``), as
    the report states it; ``stderr["fano"]`` is the counts' Fano standard error.
    Everything else (mean, covariance, std, ACF, PSD, distributions) is in concentrations;
    ``extra["molecules_per_concentration"]`` holds ``Omega V`` per species."""

    def _scale(self) -> np.ndarray:
        return pd.Series(self.extra["molecules_per_concentration"]) \
            .reindex(self.mean.index).to_numpy(dtype=float)

    def _present(self) -> np.ndarray:
        return np.abs(self.mean.to_numpy(dtype=float) * self._scale()) >= ABSENT

    @property
    def fano(self) -> pd.Series:
        return (super().fano * self._scale()).rename("fano")


def molecules_per_concentration(net: ReactionNetwork) -> pd.Series:
    """``Omega V`` per species: molecules per concentration unit of its compartment."""
    sizes = {c.id: float(c.size) for c in net.compartments}
    return pd.Series({s.id: float(net.system_size) * (sizes.get(s.compartment, 1.0) or 1.0)
                      for s in net.species}, dtype=float)


def _statistics(st: NoiseStatistics, net: ReactionNetwork) -> NoiseStatistics:
    conc = st.in_concentrations(net)
    stderr = dict(conc.stderr) if conc.stderr else None
    if stderr is not None and st.stderr and "fano" in st.stderr:
        stderr["fano"] = st.stderr["fano"]  # the counts' Fano factor is what is reported
    fields = {f.name: getattr(conc, f.name) for f in dataclasses.fields(conc)
              if f.name != "_memo"}
    fields["stderr"] = stderr
    return ConcentrationStatistics(**fields)


def report_in_units(rep: AnalysisReport, units: str) -> AnalysisReport:
    """The report in ``units`` (see the module docstring); the same object for counts.

    Parameters
    ----------
    rep : AnalysisReport
        An analysis in molecule counts, with its network.
    units : {"count", "concentration"}

    Returns
    -------
    AnalysisReport
        ``settings["units"]`` says which; with concentrations also
        ``settings["molecules_per_concentration"]`` (``Omega V`` per species).

    Raises
    ------
    ValueError
        For another ``units``, or a species whose compartment has no positive finite size.
    """
    units = check_units(units)
    have = rep.settings.get("units", "count")
    if have == units:
        rep.settings.setdefault("units", units)
        return rep
    if have != "count":
        raise ValueError(f"this report is already in {have} units; run the analysis again "
                         f"with units={units!r}")
    settings = dict(rep.settings, units=units)
    if units == "count" or rep.network is None:
        return dataclasses.replace(rep, settings=settings, _cache={})
    net = rep.network
    scale = molecules_per_concentration(net)
    settings["molecules_per_concentration"] = {k: float(v) for k, v in scale.items()}
    stats = {m: _statistics(st, net) for m, st in rep.statistics.items()}
    return dataclasses.replace(
        rep, statistics=stats, settings=settings, _cache={},
        consistency=_consistency(rep.consistency, scale),
        trajectories=_columns(rep.trajectories, scale),
        time_course=_time_course(rep.time_course, scale),
        assignment_statistics=_rules(rep.assignment_statistics, net),
        noise_decomposition=_decomposition(rep.noise_decomposition, scale),
        oscillation=_oscillation(rep.oscillation, scale),
        multistability=_multistability(rep.multistability, scale, net))


def _columns(frame: pd.DataFrame | None, scale: pd.Series) -> pd.DataFrame | None:
    """Species columns of a frame divided by their ``Omega V``."""
    if frame is None:
        return None
    out = frame.copy()
    for sid in scale.index:
        if sid in out.columns:
            out[sid] = out[sid].astype(float) / float(scale[sid])
    return out


def _consistency(cons: pd.DataFrame, scale: pd.Series) -> pd.DataFrame:
    """value_a/value_b of means (/ Omega V) and variances (/ (Omega V)^2); the Fano
    factors and relative differences are unit-free (counts' Fano)."""
    if cons is None or not len(cons):
        return cons
    out = cons.copy()
    factor = out["species"].map(scale).astype(float)
    power = out["quantity"].map({"mean": 1, "variance": 2}).fillna(0).astype(float)
    div = factor ** power
    for col in ("value_a", "value_b"):
        out[col] = out[col].astype(float) / div.to_numpy()
    return out


def _time_course(tc: Any, scale: pd.Series) -> Any:
    if tc is None:
        return None
    ids = [s for s in tc.mean.columns if s in scale.index]
    f = scale.reindex(ids).to_numpy(dtype=float)
    cov = tc.covariance.copy()
    rows = cov.index.get_level_values(-1)
    cov = cov.div(scale.reindex(rows).to_numpy(dtype=float), axis=0)
    cov = cov.div(scale.reindex(cov.columns).to_numpy(dtype=float), axis=1)
    stderr = dict(tc.stderr)
    for key in ("mean", "sd"):
        if key in stderr:
            stderr[key] = _columns(stderr[key], scale)
    traj = np.asarray(tc.trajectories, dtype=float)
    if traj.ndim == 3 and traj.shape[2] == len(f):
        traj = traj / f[None, None, :]
    return dataclasses.replace(
        tc, mean=_columns(tc.mean, scale), sd=_columns(tc.sd, scale), covariance=cov,
        stderr=stderr, ode=_columns(tc.ode, scale), lna_sd=_columns(tc.lna_sd, scale),
        trajectories=traj, settings=dict(tc.settings, units="concentration"))


def _rules(frame: pd.DataFrame | None, net: ReactionNetwork) -> pd.DataFrame | None:
    """Species defined by a rule: amount / compartment size; parameters unchanged."""
    if frame is None or not len(frame):
        return frame
    volume = _rule_species_volumes(net)
    v = frame["variable"].map(lambda x: volume.get(x, 1.0)).astype(float).to_numpy()
    out = frame.copy()
    for col, power in (("mean", 1), ("variance", 2), ("sd", 1), ("mean_stderr", 1),
                       ("variance_stderr", 2), ("sd_stderr", 1)):
        if col in out.columns:
            out[col] = out[col].astype(float) / v ** power
    return out


def _rule_species_volumes(net: ReactionNetwork) -> dict[str, float]:
    """Compartment size of every species (dynamic or defined by a rule), read from the
    network and, for rule-defined species, from its SBML text."""
    sizes = {c.id: float(c.size) for c in net.compartments}
    volume = {s.id: sizes.get(s.compartment, 1.0) or 1.0 for s in net.species}
    missing = [v for v in net.assignment_ids if v not in volume and v not in net.parameter_ids]
    if missing and net.sbml:
        import libsbml
        model = libsbml.readSBMLFromString(net.sbml).getModel()
        for vid in missing:
            sp = model.getSpecies(vid) if model is not None else None
            if sp is not None:
                volume[vid] = sizes.get(sp.getCompartment(), 1.0) or 1.0
    return volume


def _decomposition(frame: pd.DataFrame | None, scale: pd.Series) -> pd.DataFrame | None:
    """``mean_x``/``mean_y`` to concentrations (the eta's are dimensionless)."""
    if frame is None or not len(frame):
        return frame
    out = frame.copy()
    names = out.index.to_frame(index=False) if isinstance(out.index, pd.MultiIndex) \
        else None
    for col, key in (("mean_x", "x"), ("mean_y", "y")):
        if col not in out.columns:
            continue
        ids = names[key] if names is not None and key in names else out.get(key)
        if ids is None:
            continue
        out[col] = out[col].astype(float).to_numpy() / \
            pd.Series(list(ids)).map(scale).astype(float).to_numpy()
    return out


def _oscillation(frame: pd.DataFrame | None, scale: pd.Series) -> pd.DataFrame | None:
    """Amplitude columns (counts) to concentrations; periods, Q and CVs unchanged."""
    if frame is None or not len(frame):
        return frame
    out = frame.copy()
    f = scale.reindex(out.index).to_numpy(dtype=float)
    for col in out.columns:
        if "amplitude" in str(col):
            out[col] = out[col].astype(float) / f
    return out


def _multistability(ms: Any, scale: pd.Series, net: ReactionNetwork) -> Any:
    """Fixed points and their LNA sd (counts) to concentrations."""
    if ms is None:
        return None
    states = ms.states.copy()
    for sid in scale.index:
        for col in (sid, f"sd_{sid}"):
            if col in states.columns:
                states[col] = states[col].astype(float) / float(scale[sid])
    return type(ms)(states, ms.switching, ms.cores, dict(ms.settings, units="concentration"))

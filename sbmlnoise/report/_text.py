"""What a person reads: numbers with error bars, species labels, the plain-language summary,
which temporal statistics to draw and where burst estimates apply.

Shared by the HTML report (:mod:`sbmlnoise.report`) and the terminal
(:mod:`sbmlnoise.report._terminal`). Conventions:

* an estimated (SSA) number is printed as ``value ± half-width`` of its **95% confidence
  interval** (``1.96`` standard errors, normal approximation of the batch-means estimate),
  the value rounded to the decimal place of the half-width's second significant digit
  (``1154 ± 410`` -> ``1150 ± 410``);
* exact (FSP) and approximate (LNA) numbers carry no interval and are printed with four
  significant digits; magnitudes outside ``[1e-3, 1e6)`` in scientific notation.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ..analysis import AnalysisReport
    from ..network import ReactionNetwork

#: normal quantile of a two-sided 95% confidence interval
Z95 = 1.959963984540054

METHOD_NAMES = {
    "fsp": "the finite state projection (FSP: the exact stationary chemical master "
           "equation, up to a stated truncation error)",
    "lna": "the linear noise approximation (LNA: Gaussian fluctuations around the rate "
           "equations)",
    "ssa": "stochastic simulation (SSA: time averages of one long exact simulation, with "
           "sampling error)",
    "timecourse": "noise over time (an ensemble of stochastic runs from the initial state, "
                  "or the time-dependent LNA where no simulation can run), at the end of "
                  "the window",
}
SHORT_NAMES = {"fsp": "FSP", "lna": "LNA", "ssa": "SSA", "timecourse": "time course"}


def units(rep) -> str:
    """``"count"`` (molecule counts, the default) or ``"concentration"`` (``[X]``)."""
    return str((getattr(rep, "settings", None) or {}).get("units", "count"))


def unit_word(rep) -> str:
    """What a mean or sd is measured in, for table headers and axis labels."""
    return "concentration" if units(rep) == "concentration" else "molecules"


def header(rep, quantity: str) -> str:
    """A table header naming the unit: ``mean (molecules)``, ``mean [X] (concentration)``,
    ``Fano factor (of counts)`` -- the Fano factor is always that of the counts."""
    conc = units(rep) == "concentration"
    if quantity in ("fano", "Fano factor"):
        return "Fano factor (of counts)" if conc else "Fano factor"
    if quantity in ("cv", "CV"):
        return "CV"
    if quantity == "variance":
        return "variance [X]\u00b2 (concentration\u00b2)" if conc else "variance (molecules\u00b2)"
    return f"{quantity} [X] (concentration)" if conc else f"{quantity} (molecules)"


def _finite(v) -> bool:
    try:
        return math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


def fmt(v, digits: int = 4) -> str:
    """``digits`` significant digits; scientific notation outside [1e-3, 1e6); '-' if NaN."""
    if v is None or isinstance(v, bool):
        return "-" if v is None else ("yes" if v else "no")
    if not _finite(v):
        try:
            x = float(v)
        except (TypeError, ValueError):
            return str(v)
        return "-" if math.isnan(x) else ("inf" if x > 0 else "-inf")
    x = float(v)
    if x == 0:
        return "0"
    if 1e-3 <= abs(x) < 1e6:
        text = f"{x:.{digits}g}"
        if "e" in text:  # e.g. 156 to two digits: "160", not "1.6e+02"
            decimals = digits - 1 - math.floor(math.log10(abs(x)))
            text = f"{round(x, decimals):.{max(decimals, 0)}f}"
        return text
    return f"{x:.{max(digits - 1, 0)}e}".replace("e+", "e")


def fmt_pm(value, half_width, pm: str = "±") -> str:
    """``value ± half_width`` with digits that match the error bar (see module docstring);
    just :func:`fmt` when there is no finite positive half-width."""
    if not _finite(value):
        return fmt(value)
    if not _finite(half_width) or float(half_width) <= 0:
        return fmt(value)
    v, h = float(value), float(half_width)
    exp = math.floor(math.log10(h))
    decimals = 1 - exp  # keep two significant digits of the half-width
    big = max(abs(v), h)
    if big >= 1e6 or big < 1e-3:  # common power of ten
        p = math.floor(math.log10(big))
        scale = 10.0 ** p
        d = max(decimals + p, 0)
        return f"({v / scale:.{d}f} {pm} {h / scale:.{d}f})e{p}"
    d = max(decimals, 0)
    vr, hr = round(v, decimals), round(h, decimals)
    return f"{vr:.{d}f} {pm} {hr:.{d}f}"


def half_width(st, quantity: str, species: str) -> float:
    """95% CI half-width of ``quantity`` (mean/variance/std/fano/cv) of ``species`` (nan
    if the statistics are not sampled; for the std by the delta method from the
    variance's standard error)."""
    if not st.stderr:
        return math.nan
    if quantity == "std" and "std" not in st.stderr and "variance" in st.stderr:
        try:  # delta method: SE(sqrt(V)) = SE(V) / (2 sqrt(V))
            sd = float(st.std[species])
            return Z95 * float(st.stderr["variance"][species]) / (2 * sd) if sd > 0 \
                else math.nan
        except (KeyError, TypeError, ValueError):
            return math.nan
    if quantity not in st.stderr:
        return math.nan
    se = st.stderr[quantity]
    try:
        return Z95 * float(se[species])
    except (KeyError, TypeError, ValueError):
        return math.nan


def autocorrelation_times(rep: AnalysisReport, method: str) -> list[float]:
    """Integrated autocorrelation time ``S(0) / (2 Var)`` (time units; nan where there is
    none) of every reported species of ``method``: from the cached temporal summary when
    there is one, else from the spectrum at zero frequency alone -- the same numbers as
    :meth:`AnalysisReport.temporal`, without its 121-frequency spectra (for a 15-species
    SSA result those took 0.8 s of the report)."""
    cached = rep._cache.get(("temporal", method))
    if cached is not None:
        return [v.get("autocorrelation_time", math.nan) for v in cached.values()]
    from ..errors import SbmlnoiseError
    st = rep.statistics[method]
    out = []
    for s in (s for s in rep.species if s in st.mean.index):
        try:
            with np.errstate(all="ignore"):
                out.append(st.autocorrelation_time(s) if st.psd_function is not None
                           else math.nan)
        except (NotImplementedError, SbmlnoiseError, ValueError, KeyError):
            out.append(math.nan)
    return out


def interval_caveat(rep: AnalysisReport) -> str | None:
    """Why the SSA's 95% intervals may be too narrow, or None.

    Batch means give honest standard errors only when a batch is much longer than the
    correlation time. With ``L`` the batch length (recorded span / ``n_batches``) and
    ``tau`` the longest integrated autocorrelation time of the reported species (or the
    oscillation period, whichever is longer: an oscillator's negative lobes make its
    integrated time small while batches shorter than a few periods still correlate), the
    caveat is raised when ``L < 10 tau``."""
    st = rep.statistics.get("ssa")
    if st is None or not st.stderr or rep.settings.get("time") is not None:
        return None
    try:
        span = float(st.settings["t_end"]) - float(st.settings["burn_in"])
        batch = span / int(st.settings["n_batches"])
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return None
    try:
        raw = autocorrelation_times(rep, "ssa")
    except Exception:  # noqa: BLE001 - no temporal summary: no caveat
        return None
    times = [abs(float(t)) for t in raw if t is not None and _finite(t)]
    tau = max(times) if times else 0.0
    period = _peak_period(rep) if rep.primary == "ssa" else None
    if period is None and oscillates(rep):
        sid = (noisiest(rep) or (rep.species[0], 0.0))[0]
        period = acf_period(st, sid, batch / 2) or rep.settings.get("oscillation_period")
    tau = max(tau, float(period or 0.0))
    if tau > 0 and batch < 10.0 * tau:
        return (f"the SSA batches ({fmt(batch, 2)} time units each) are shorter than ten "
                f"correlation times ({fmt(tau, 2)}): the \u00b1 intervals may be too narrow; "
                "a longer run (--t-end, --ssa-events) makes them trustworthy")
    return None


# ------------------------------------------------------------------------ species labels
def species_names(rep: AnalysisReport) -> dict:
    """id -> SBML name for the species whose name differs from the id."""
    net = getattr(rep, "network", None)
    if net is None:
        return {}
    return {s.id: s.name for s in net.species if s.name and s.name != s.id}


def label(rep: AnalysisReport, sid: str) -> str:
    """``"name (id)"`` when the species has a distinct name, else the id."""
    name = species_names(rep).get(sid)
    return f"{name} ({sid})" if name else sid


# ------------------------------------------------------------------------ ranking
def noisiest(rep: AnalysisReport) -> tuple[str, float] | None:
    """(species, Fano factor) of the primary statistics with the largest Fano factor
    (variance/mean) among the species that fluctuate (positive mean and variance) and
    are in no conservation law -- a promoter's 0/1 state or a protein's switching forms
    are not what "how noisy is this species" asks; all species if every one is
    conserved. ``None`` if nothing fluctuates."""
    if not rep.primary:
        return None
    st = rep.statistics[rep.primary]
    fano = st.fano.reindex(list(rep.species)).astype(float)
    var = st.variance.reindex(list(rep.species)).astype(float)
    ok = np.isfinite(fano.to_numpy()) & (var.to_numpy() > 0)
    fano = fano[ok]
    if not len(fano):
        return None
    free = fano[[not conserved(rep, s) for s in fano.index]]
    pick = free if len(free) else fano
    sid = str(pick.idxmax())
    return sid, float(pick[sid])


def conserved(rep: AnalysisReport, sid: str) -> bool:
    """``sid`` takes part in a conservation law of the network."""
    net = getattr(rep, "network", None)
    if net is None:
        return False
    laws = np.asarray(net.conservation_laws)
    return bool(laws.size and np.any(laws[:, net.index(sid)] != 0))


# ------------------------------------------------------------------------ model structure
def propensities_linear(net: ReactionNetwork | None) -> bool:
    """True when every propensity is affine in the species counts (zeroth or first order)
    and nothing else changes the state (no events, no explicit time): then the LNA's
    stationary mean, covariance and autocovariance are exact (the moment equations
    close; van Kampen 1992)."""
    if net is None or len(getattr(net, "events", None) or ()) or net.is_time_dependent:
        return False
    from .. import expr as ex
    species = set(net.species_ids)
    assigned = {name for name, _ in getattr(net, "assignments", ())}
    for row in net.rate_jacobian_expressions:
        for entry in row:
            used = ex.symbols(entry)
            if used & species or used & assigned:
                return False
    return True


def oscillates(rep: AnalysisReport) -> bool:
    """The model oscillates: the LNA was refused for want of a stable steady state while
    the SSA ran, or the primary spectrum has a peak."""
    if "lna" in rep.skipped and rep.primary == "ssa" and any(
            "no stable steady state" in w for w in rep.warnings):
        return True
    return bool(_peak_period(rep))


def _peak_period(rep: AnalysisReport) -> float | None:
    cached = rep._cache.get(("temporal", rep.primary)) if rep.primary else None
    if not cached:
        return None
    peaks = [v.get("peak_frequency") for v in cached.values()]
    peaks = [p for p in peaks if _finite(p) and p > 0]
    return 2 * math.pi / min(peaks) if peaks else None


def acf_period(st, species, horizon: float) -> float | None:
    """Period of an oscillating autocovariance within ``horizon``: the lag of its first
    maximum after its first zero crossing, or twice the lag of its first minimum when
    only that is seen (``None`` if it does not oscillate within ``horizon``)."""
    lags = np.linspace(0.0, horizon, 801)
    try:
        c = np.asarray(st.autocorrelation(species, lags).to_numpy(), dtype=float)
    except (NotImplementedError, KeyError, ValueError):
        return None
    ok = np.isfinite(c)
    c, lags = c[ok], lags[ok]
    if c.size < 10 or not c[0] > 0:
        return None
    neg = np.flatnonzero(c < 0)
    if not neg.size:
        return None
    after = c[neg[0]:]
    k_min = int(np.argmin(after)) + neg[0]
    k_max = int(np.argmax(c[k_min:])) + k_min
    if k_max < c.size - 2 and c[k_max] > 0.05 * c[0]:
        return float(lags[k_max])
    if k_min < c.size - 2 and c[k_min] < -0.05 * c[0]:
        return float(2.0 * lags[k_min])
    return None


# ------------------------------------------------------------------------ bursts
def burst_validity(rep: AnalysisReport, sid: str) -> tuple[str | None, str]:
    """Which burst estimate applies to ``sid``: ``("kinetic" | "moment" | None, reason)``.

    The kinetic estimate needs a telegraph motif (found structurally). The moment estimate
    (b = F - 1) assumes geometric bursts at a constant frequency and first-order decay
    with no feedback; it is withheld for oscillators, time points, species in a
    conservation law (they switch between forms rather than being made and degraded),
    species with feedback on their own production, no first-order degradation, or
    F <= 1 (no bursts)."""
    kinetic = {b["species"]: b for b in rep.bursts.get("kinetic", []) or []}
    if sid in kinetic:
        b = kinetic[sid]
        why = "telegraph promoter " + str(b.get("promoter_on"))
        if b.get("feedback"):
            why += "; rates depend on other species (evaluated at the mean)"
        return "kinetic", why
    if rep.settings.get("time") is not None:
        return None, "not a stationary state"
    if oscillates(rep):
        return None, "oscillating model: no stationary burst process"
    net = rep.network
    if net is None:
        return None, "no network"
    i = net.index(sid)
    if conserved(rep, sid):
        return None, "in a conservation law (switches between forms, not made and degraded)"
    moment = (rep.bursts.get("moment") or {}).get(sid) or {}
    if moment.get("note"):
        return None, str(moment["note"])
    if not _finite(moment.get("burst_size")):
        return None, "Fano factor <= 1: no bursts"
    from .. import expr as ex
    stoich = np.asarray(net.stoichiometry)
    for j, r in enumerate(net.reactions):
        if stoich[i, j] > 0 and sid in ex.symbols(r.rate):
            return None, f"feedback: its production ({r.id}) depends on {sid} itself"
    return "moment", "geometric bursts, first-order decay, no feedback"

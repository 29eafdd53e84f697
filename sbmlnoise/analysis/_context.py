"""The model context: what every backend needs to know about a model, computed once.

:func:`build_context` runs the deterministic analysis a noise analysis rests on -- the
steady state of the rate equations and its stability, the reaction fluxes there, the
relaxation time scales, the copy-number scale and whether a stochastic backend can read
the network at all -- and hands it to every backend as one frozen :class:`ModelContext`.
Nothing downstream recomputes the steady state.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._summary import first_line
from ..errors import ModelError, NoSteadyState, SbmlnoiseError, UnsupportedFeature
from ..network import ReactionNetwork

__all__ = ["ModelContext", "build_context", "time_scales"]

#: eigenvalues whose real part is below this multiple of machine precision times the
#: Jacobian's spectral radius are numerically zero (conservation laws are already removed
#: by the reduction, so this only drops round-off, never a slow mode of a stiff model)
_ZERO_EIG = 1e3 * np.finfo(float).eps


@dataclass(frozen=True, eq=False)
class ModelContext:
    """Deterministic facts about one network that the noise backends share.

    Attributes
    ----------
    net : ReactionNetwork
    steady_state : pandas.Series or None
        Stable steady state of the rate equations (model substance units), ``None`` when
        there is none; its ``attrs["eigenvalues"]`` hold the reduced Jacobian's spectrum.
    fluxes : pandas.Series or None
        Reaction-channel rates at the steady state (extent per time).
    no_fixed_point : str or None
        Why the rate equations have no fixed point at all (e.g. unbounded growth).
    unstable : bool
        A fixed point exists but is unstable (an oscillator or a saddle).
    scales : dict
        ``{"slow", "fast", "period"}``: relaxation times ``1/|Re lambda|`` (time units) of
        the linearised rate equations at the steady state (or the initial state) and the
        period ``2 pi / |Im lambda|`` of their fastest rotation (None without one).
    stochastic_reason : str or None
        Why no stochastic backend can read the network (None when they can).
    time : float or None
        The analysed time point (None: stationary).
    warnings : tuple of str
        What the deterministic analysis noticed (multistability, no steady state).
    """

    net: ReactionNetwork
    steady_state: pd.Series | None = None
    fluxes: pd.Series | None = None
    no_fixed_point: str | None = None
    unstable: bool = False
    scales: dict = field(default_factory=lambda: {"slow": 1.0, "fast": 1.0, "period": None})
    stochastic_reason: str | None = None
    time: float | None = None
    warnings: tuple[str, ...] = ()
    #: derived numbers several backends ask for (e.g. the FSP's projected size), computed
    #: on first use
    memo: dict = field(default_factory=dict, repr=False)

    @property
    def ss_amounts(self) -> np.ndarray | None:
        """Steady-state amounts as an array (model substance units), or None."""
        return None if self.steady_state is None else self.steady_state.to_numpy(dtype=float)

    @property
    def reference_amounts(self) -> np.ndarray:
        """The steady state, else the (non-negative) initial amounts."""
        ss = self.ss_amounts
        return ss if ss is not None else np.maximum(self.net.initial_amounts, 0.0)

    @property
    def reference_counts(self) -> np.ndarray:
        """:attr:`reference_amounts` in molecule counts (times the system size)."""
        return self.reference_amounts * float(self.net.system_size)

    @property
    def copy_number_scale(self) -> float:
        """Largest reference count of a species (molecules): how large the state is."""
        counts = self.reference_counts
        return float(np.max(counts)) if counts.size else 0.0

    @property
    def relaxation_time(self) -> float:
        """The slowest relaxation time, or the period when that is longer (time units)."""
        return max(float(self.scales["slow"]), float(self.scales.get("period") or 0.0))

    def event_rate(self, counts: np.ndarray | None = None) -> float:
        """Total propensity (events per time) at ``counts`` (default: the reference
        counts); nan when it cannot be evaluated."""
        at = self.reference_counts if counts is None else np.asarray(counts, dtype=float)
        try:
            return float(np.sum(np.clip(self.net.propensities(np.clip(at, 0, None)), 0, None)))
        except (SbmlnoiseError, ValueError, ZeroDivisionError, OverflowError):
            return math.nan


def time_scales(net: ReactionNetwork, amounts: np.ndarray) -> dict:
    """Relaxation times of the rate equations linearised at ``amounts``.

    Returns ``{"slow": 1/min|Re lambda|, "fast": 1/max|Re lambda|, "period": 2 pi /
    max|Im lambda| or None}`` from the eigenvalues ``lambda`` of the reduced Jacobian
    (conservation laws removed). Only eigenvalues at round-off level relative to the
    spectral radius are treated as zero, so the slow mode of a stiff model (rates 1e6
    and 1e-3) is kept.
    """
    ind = list(net.independent_species)
    fallback = {"slow": 1.0, "fast": 1.0, "period": None}
    if not ind or net.n_reactions == 0:
        return fallback
    try:
        with np.errstate(all="ignore"):
            jac = (np.asarray(net.stoichiometry) @ net.rate_jacobian(amounts))[ind] \
                @ net.link_matrix
            eig = np.linalg.eigvals(jac)
    except (SbmlnoiseError, np.linalg.LinAlgError, ValueError, ZeroDivisionError):
        return fallback
    return scales_of(eig)


def scales_of(eig) -> dict:
    """:func:`time_scales` from the reduced Jacobian's eigenvalues ``eig``."""
    fallback = {"slow": 1.0, "fast": 1.0, "period": None}
    eig = np.asarray(eig, dtype=complex)
    eig = eig[np.isfinite(eig)]
    if eig.size == 0:
        return fallback
    radius = float(np.max(np.abs(eig)))
    tiny = _ZERO_EIG * max(radius, 1e-300)
    re = np.abs(eig.real)
    keep = re > tiny
    if not np.any(keep):  # a purely rotating (or frozen) linearisation
        re = np.abs(eig)
        keep = re > tiny
    if not np.any(keep):
        return fallback
    im = np.abs(eig.imag)
    period = float(2 * math.pi / im.max()) if im.max() > tiny else None
    return {"slow": float(1.0 / re[keep].min()), "fast": float(1.0 / re[keep].max()),
            "period": period}


def check_values(net: ReactionNetwork) -> None:
    """Refuse a noise analysis of a parameter, compartment size or initial amount that is
    infinite or NaN (e.g. ``k = 1e308*10``), or of a concentration species in a compartment
    of size 0: no noise number means anything then, and an integrator would loop at t = 0.
    Valid SBML all the same (the rate equations follow such models as the spec says), so
    this is the analysis's check, not the importer's."""
    for p in net.parameters:
        if not math.isfinite(float(p.value)):
            what = {"global": "parameter", "local": "local parameter",
                    "compartment": "compartment", "stoichiometry": "stoichiometry"}
            raise ModelError(f"{what.get(p.kind, 'parameter')} '{p.id}' has the value "
                             f"{p.value} (must be finite)")
    sizes = {c.id: float(c.size) for c in net.compartments}
    for sid in net.concentration_species:
        if sid not in net.species_index:
            continue
        cid = net.species[net.index(sid)].compartment
        if sizes.get(cid) == 0.0:
            raise ModelError(f"compartment '{cid}' has size 0 but species '{sid}' in it is a "
                             "concentration (amount / size is undefined); give the "
                             "compartment a size or the species hasOnlySubstanceUnits")
    for sp in net.species:
        if not math.isfinite(float(sp.initial_amount)):
            raise ModelError(f"species '{sp.id}' has the initial amount {sp.initial_amount} "
                             "(must be finite)")


def build_context(net: ReactionNetwork, *, time: float | None = None) -> ModelContext:
    """Steady state, stability, fluxes, time scales and stochastic readability of ``net``.

    Never raises for a model without a (stable) steady state: that is recorded in
    ``no_fixed_point`` / ``unstable`` and ``warnings``.
    """
    from ..ode import steady_state

    check_values(net)
    notes: list[str] = []
    ss = fluxes = None
    no_fixed_point = None
    unstable = False
    unstable_eig = None
    try:
        ss = steady_state(net)
        amounts = ss.to_numpy(dtype=float)
        fluxes = pd.Series(net.rates(amounts), index=list(net.reaction_ids), name="flux")
        reach = _reaches_steady_state(net, ss)
        if reach:
            notes.append(reach)
    except NoSteadyState as err:
        unstable = bool(err.unstable)
        if not unstable:
            no_fixed_point = first_line(err)
        elif err.eigenvalues is not None and len(err.eigenvalues):
            unstable_eig = err.eigenvalues
    except ModelError:  # math undefined at the initial state: one line naming the reaction
        raise
    except (SbmlnoiseError, ValueError, np.linalg.LinAlgError) as err:
        notes.append(f"no deterministic steady state: {first_line(err)}")
    reference = ss.to_numpy(dtype=float) if ss is not None else \
        np.maximum(net.initial_amounts, 0.0)
    stochastic_reason = None
    try:
        net.require_stochastic("fsp/ssa")
    except UnsupportedFeature as err:
        stochastic_reason = first_line(err)
    # an oscillator's time scales are those of its unstable fixed point (the period of the
    # leading rotation), not of the initial state's linearisation (all species at zero)
    scales = scales_of(unstable_eig) if unstable_eig is not None else \
        time_scales(net, reference)
    return ModelContext(net=net, steady_state=ss, fluxes=fluxes, no_fixed_point=no_fixed_point,
                        unstable=unstable, scales=scales,
                        stochastic_reason=stochastic_reason, time=time, warnings=tuple(notes))


def _reaches_steady_state(net: ReactionNetwork, ss: pd.Series) -> str | None:
    """A warning when the rate equations started from the model's initial state do not
    approach the stable steady state that the stationary analysis uses (a second stable
    state or a limit cycle: multistability), else ``None``. Integrates for 50 of the
    state's slowest relaxation times."""
    from ..ode import simulate_ode

    eig = np.asarray(ss.attrs.get("eigenvalues", []))
    if eig.size == 0 or not np.all(eig.real < 0):
        return None
    horizon = 50.0 / float(np.min(-eig.real))
    if not np.isfinite(horizon) or horizon > 1e7:
        return None
    try:
        end = simulate_ode(net, [0.0, horizon], rules=False)[list(net.species_ids)] \
            .to_numpy()[-1]
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

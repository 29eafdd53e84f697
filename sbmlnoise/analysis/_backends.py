"""Noise backends behind one protocol, and the registry ``analyze`` loops over.

Modelled on SciPy's ``solve_ivp`` (a ``METHODS`` registry of solver classes) and
JumpProcesses.jl (one type per method, capability queries). A backend is a class that

* declares what it can do (:attr:`Backend.capabilities`, keys :data:`CAPABILITIES`) and
  whether it is exact;
* answers :meth:`Backend.applies` ``(context, request) -> Refusal or None``;
* estimates its :meth:`Backend.cost` before running (seconds of one core);
* :meth:`Backend.run` s, returning :class:`~sbmlnoise.stats.NoiseStatistics`;
* :meth:`Backend.explain` s a failure in one line.

Register a new one with :func:`register_backend`; :func:`backends` lists them all (the
public ``sn.backends()``). docs/architecture.md has a worked example.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from .._summary import first_line
from ..errors import SbmlnoiseError, UnsupportedFeature
from ..stats import NoiseStatistics
from ._context import ModelContext

#: order of magnitude of the compiled SSA's throughput on one core (events/s), used only
#: for cost estimates
EVENTS_PER_SECOND = 2e7

__all__ = ["Backend", "Refusal", "Request", "RunState", "Cost", "CAPABILITIES",
           "register_backend", "get_backend", "backends", "registered"]

#: what a backend may declare (True: handled), in the order ``sn.backends()`` shows them
CAPABILITIES: dict[str, str] = {
    "stationary": "the stationary law (long-run statistics, spectra)",
    "time_point": "the distribution at a time after the initial state",
    "exact": "exact up to a stated numerical or sampling error (no modelling approximation)",
    "events": "SBML events (discrete changes of state or parameters)",
    "time_dependent_rates": "rates that depend on time (csymbol time, rate rules on parameters)",
    "rate_rules": "species or parameters driven by rate rules",
    "delays": "delay() in kinetic laws and delayed events",
    "oscillators": "models without a stable fixed point (limit cycles)",
    "large_counts": "copy numbers far beyond 1e6 molecules",
    "non_integer_stoichiometry": "non-integer net stoichiometry",
}


class Refusal(str):
    """Why a backend does not apply: a one-line reason (a ``str``) that also knows which
    error to raise when the user asked for this backend by name."""

    error: type[SbmlnoiseError]
    #: a fallback that was simply not needed (not listed among the skipped methods)
    quiet: bool

    def __new__(cls, reason: str, error: type[SbmlnoiseError] = UnsupportedFeature,
                quiet: bool = False):
        obj = super().__new__(cls, reason)
        obj.error = error
        obj.quiet = quiet
        return obj

    def exception(self) -> SbmlnoiseError:
        return self.error(str(self))


@dataclass(frozen=True)
class Request:
    """What the user asked ``analyze`` for (the backend-relevant part).

    Times are in model time units; ``budget`` is wall-clock seconds for one backend
    (None: unlimited).
    """

    method: str = "auto"
    species: tuple[str, ...] = ()
    time: float | None = None
    seed: int | None = None
    strict: bool = False
    fsp_tol: float = 1e-6
    max_states: int = 200_000
    t_end: float | None = None
    burn_in: float | None = None
    ssa_events: float | None = None
    ssa_runs: int = 1000
    budget: float | None = None

    def child_seed(self, k: int) -> int:
        """Seed of the ``k``-th stochastic step of the analysis (0: stationary SSA,
        1: sample trajectories, 2: time course, 4-6: dynamics stage): child ``k`` of
        ``SeedSequence(seed)``, so every step is reproducible and independent."""
        child = np.random.SeedSequence(self.seed).spawn(k + 1)[k]
        return int(child.generate_state(1)[0])


@dataclass
class RunState:
    """What the backends run so far produced, for the ones that follow (e.g. the SSA plans
    its run from the FSP's or LNA's means) and for the stages after them."""

    statistics: dict[str, NoiseStatistics] = field(default_factory=dict)
    artifacts: dict[str, Any] = field(default_factory=dict)
    plans: dict[str, dict] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def reference_counts(self, ctx: ModelContext) -> np.ndarray:
        """Mean counts of the most exact finished backend, else the context's."""
        for name in registered():
            st = self.statistics.get(name)
            if st is not None:
                counts = st.mean.reindex(list(ctx.net.species_ids)).to_numpy(float)
                if np.all(np.isfinite(counts)):
                    return counts
        return ctx.reference_counts


@dataclass(frozen=True)
class Cost:
    """A backend's estimate of its own cost: ``seconds`` of one core (order of magnitude)
    and what it is based on."""

    seconds: float
    detail: str = ""


class Backend(ABC):
    """One noise method. Subclasses set the class attributes and implement the methods."""

    name: ClassVar[str]
    label: ClassVar[str]
    description: ClassVar[str] = ""
    reference: ClassVar[str] = ""
    capabilities: ClassVar[dict[str, bool]] = {}
    #: tried by ``method="auto"`` and ``"all"`` (False: only when asked by name)
    auto: ClassVar[bool] = True
    #: order of preference for the primary result (lower first)
    rank: ClassVar[int] = 50

    @classmethod
    def supports(cls, capability: str) -> bool:
        if capability not in CAPABILITIES:
            raise KeyError(f"unknown capability '{capability}'; known: {', '.join(CAPABILITIES)}")
        return bool(cls.capabilities.get(capability, False))

    def applies(self, ctx: ModelContext, request: Request,
                state: RunState) -> Refusal | None:
        """``None`` when the backend can analyse this model for this request, else why not.

        The default checks the declared capabilities against the network and request."""
        return _capability_gap(self, ctx, request)

    def cost(self, ctx: ModelContext, request: Request, state: RunState) -> Cost:
        """Estimated cost before running (default: negligible)."""
        return Cost(0.0, "negligible")

    @abstractmethod
    def run(self, ctx: ModelContext, request: Request, state: RunState) -> NoiseStatistics:
        """Compute the statistics (molecule counts); may add to ``state.artifacts``,
        ``state.plans`` and ``state.warnings``."""

    def explain(self, err: BaseException, request: Request) -> str:
        """One line for ``report.skipped`` when :meth:`run` failed."""
        return first_line(err)


_REGISTRY: dict[str, type[Backend]] = {}


def register_backend(cls: type[Backend]) -> type[Backend]:
    """Add a backend class to the registry (usable as a class decorator)."""
    if not (isinstance(cls, type) and issubclass(cls, Backend)):
        raise TypeError("register_backend needs a Backend subclass")
    unknown = set(cls.capabilities) - set(CAPABILITIES)
    if unknown:
        raise ValueError(f"backend '{cls.name}' declares unknown capabilities: "
                         f"{', '.join(sorted(unknown))}")
    _REGISTRY[cls.name] = cls
    return cls


def registered() -> list[str]:
    """Backend names in order of preference."""
    return sorted(_REGISTRY, key=lambda n: (_REGISTRY[n].rank, n))


def get_backend(name: str | type[Backend]) -> Backend:
    """An instance of the backend called ``name`` (or of the class given)."""
    if isinstance(name, type) and issubclass(name, Backend):
        return name()
    try:
        return _REGISTRY[str(name)]()
    except KeyError:
        raise ValueError(f"unknown method '{name}'; choose one of "
                         f"{', '.join(['auto', 'all', *registered()])}") from None


def backends() -> pd.DataFrame:
    """The registered noise backends and what each supports.

    Returns
    -------
    pandas.DataFrame
        One row per backend (index: its ``method`` name, in order of preference), columns
        ``label``, ``auto`` (tried by ``method="auto"``), one boolean column per capability
        of :data:`CAPABILITIES`, ``description`` and ``reference``.

    Examples
    --------
    >>> import sbmlnoise as sn
    >>> bool(sn.backends().loc["fsp", "exact"])
    True
    """
    rows = []
    for name in registered():
        cls = _REGISTRY[name]
        row: dict[str, Any] = {"method": name, "label": cls.label, "auto": cls.auto}
        row.update({cap: bool(cls.capabilities.get(cap, False)) for cap in CAPABILITIES})
        row.update(description=cls.description, reference=cls.reference)
        rows.append(row)
    return pd.DataFrame(rows).set_index("method")


def _capability_gap(backend: Backend, ctx: ModelContext, request: Request) -> Refusal | None:
    """The first declared capability this model or request needs and ``backend`` lacks."""
    net = ctx.net
    caps = backend.capabilities
    needs = []
    if request.time is None:
        needs.append(("stationary", "the stationary law"))
    else:
        needs.append(("time_point", "a time point"))
    if net.events:
        needs.append(("events", f"events ('{net.events[0].id}')"))
    if net.is_time_dependent:
        needs.append(("time_dependent_rates", "time-dependent rates"))
    if ctx.stochastic_reason and not caps.get("non_integer_stoichiometry"):
        return Refusal(ctx.stochastic_reason)
    for cap, what in needs:
        if not caps.get(cap, False):
            return Refusal(f"{backend.label} does not handle {what}; "
                           f"{_who_does(cap) or 'no backend does yet'}")
    return None


def _who_does(capability: str) -> str:
    names = [n for n in registered() if _REGISTRY[n].capabilities.get(capability)]
    return f"use {' or '.join(repr(n) for n in names)}" if names else ""

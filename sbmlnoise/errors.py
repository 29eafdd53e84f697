"""Exception hierarchy of sbmlnoise.

Every error raised on purpose derives from :class:`SbmlnoiseError` and also from the
matching builtin, so ``except ValueError`` keeps working for callers who do not know us.
Messages name the SBML element, the reason, and where possible the fix.
"""

from __future__ import annotations


class SbmlnoiseError(Exception):
    """Base class of all sbmlnoise errors."""


class ModelError(SbmlnoiseError, ValueError):
    """The model is malformed or inconsistent (bad XML, undefined identifier, ...)."""


class UnsupportedFeature(SbmlnoiseError, NotImplementedError):
    """Valid SBML that sbmlnoise (or one backend) cannot handle yet.

    ``element`` names the SBML element, ``feature`` the construct that is missing.
    """

    def __init__(self, message: str, *, element: str | None = None, feature: str | None = None):
        super().__init__(message)
        self.element = element
        self.feature = feature


class SimulationError(SbmlnoiseError, RuntimeError):
    """A numerical backend failed (negative propensity, runaway growth, no convergence).

    ``steps_exhausted_at``: the model time at which a stochastic run used up its event cap
    (``max_steps``), None for other failures -- callers may retry on a shorter window."""

    def __init__(self, message: str = "", *, steps_exhausted_at: float | None = None):
        super().__init__(message)
        self.steps_exhausted_at = steps_exhausted_at


class StateSpaceTooLarge(SimulationError):
    """The finite state projection would need more states than allowed."""


class NoSteadyState(SimulationError):
    """The rate equations have no stable steady state (or none was found).

    ``unstable`` is True when a steady state exists but is unstable (an oscillator: a
    stationary distribution may still exist); False when none was found at all (e.g.
    unbounded growth: there is no stationary distribution). ``eigenvalues`` holds the
    reduced Jacobian's eigenvalues at an unstable state.
    """

    def __init__(self, message: str, *, unstable: bool = False, eigenvalues=None):
        super().__init__(message)
        self.unstable = unstable
        self.eigenvalues = eigenvalues

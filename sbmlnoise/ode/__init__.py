"""The rate equations: time courses (with events) and steady states.
"""

from ._solve import (  # noqa: F401
    simulate_ode,
    steady_state,
    ode_trajectory,
)

__all__ = ['simulate_ode', 'steady_state', 'ode_trajectory']

"""Thermodynamics of a reaction network: detailed balance, cycle affinities and
fluxes, entropy production (Schnakenberg 1976), at network or CME level.
"""

from ._thermo import (  # noqa: F401
    thermodynamics,
    ThermoReport,
)

__all__ = ['thermodynamics', 'ThermoReport']

"""Reading models: SBML (Level 1-3, libsbml), Antimony, COMBINE archives and
libRoadRunner objects into one :class:`~sbmlnoise.network.ReactionNetwork`.
"""

from ._front import from_roadrunner, load  # noqa: F401
from ._sbml import SbmlnoiseWarning, antimony_to_sbml  # noqa: F401

__all__ = ['SbmlnoiseWarning', 'load', 'from_roadrunner', 'antimony_to_sbml']

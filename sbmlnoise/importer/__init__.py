"""Reading models: SBML (Level 1-3, libsbml), Antimony, COMBINE archives and
libRoadRunner objects into one :class:`~sbmlnoise.network.ReactionNetwork`.
"""

from ._sbml import (  # noqa: F401
    SbmlnoiseWarning,
    load,
    from_roadrunner,
    antimony_to_sbml,
)

__all__ = ['SbmlnoiseWarning', 'load', 'from_roadrunner', 'antimony_to_sbml']

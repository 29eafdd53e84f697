"""Studies beyond one model at one parameter set: parameter scans, exact
sensitivities of the noise, and extrinsic noise from parameter distributions.
"""

from ._scan import (  # noqa: F401
    scan,
    parse_range,
    SCAN_METHODS,
)
from ._sensitivity import (  # noqa: F401
    sensitivities,
    noise_control,
    lna_derivatives,
    fsp_derivatives,
)
from ._extrinsic import (  # noqa: F401
    extrinsic_noise,
    distributions_from_sbml,
    gauss_rule,
)

__all__ = ['scan', 'parse_range', 'SCAN_METHODS', 'sensitivities', 'noise_control', 'lna_derivatives', 'fsp_derivatives', 'extrinsic_noise', 'distributions_from_sbml', 'gauss_rule']

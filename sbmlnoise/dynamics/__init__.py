"""Noise of models that move: noise over time from the initial state, oscillations
(periods, coherence, quasi-cycle spectra) and multistability (fixed points, switching).
"""

from ._oscillation import (  # noqa: F401
    oscillation,
    deterministic_cycle,
    lna_spectrum_peak,
)
from ._multistability import (  # noqa: F401
    fixed_points,
    multistability,
)
from ._timecourse import (  # noqa: F401
    time_course_noise,
    TimeCourseNoise,
    default_time_window,
)
from ._dispatch import (  # noqa: F401
    noise_dynamics,
    NoiseDynamics,
)

__all__ = ['oscillation', 'deterministic_cycle', 'lna_spectrum_peak', 'fixed_points', 'multistability', 'time_course_noise', 'TimeCourseNoise', 'default_time_window', 'noise_dynamics', 'NoiseDynamics']

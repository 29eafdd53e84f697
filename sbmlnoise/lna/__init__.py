"""The linear noise approximation (van Kampen 1992; Elf & Ehrenberg 2003,
doi:10.1101/gr.1196503): stationary and time-dependent covariances, spectra, reporters.
"""

from ._lna import (  # noqa: F401
    lna,
    LNATimeCourse,
    noise_decomposition,
    find_reporter_pairs,
    noise_coefficients,
)

__all__ = ['lna', 'LNATimeCourse', 'noise_decomposition', 'find_reporter_pairs', 'noise_coefficients']

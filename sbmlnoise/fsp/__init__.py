"""The finite state projection of the chemical master equation (Munsky & Khammash
2006, doi:10.1063/1.2145882): stationary and transient laws with an error bound.
"""

from ._solver import (  # noqa: F401
    fsp,
    FSPResult,
)

__all__ = ['fsp', 'FSPResult']

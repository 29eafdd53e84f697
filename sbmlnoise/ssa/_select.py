"""The exact SSA variants by name (a leaf of the ssa package)."""

from __future__ import annotations

from .direct import Direct
from .sorting import SortingDirect

__all__ = ["METHODS", "select_method"]

#: the exact SSA variants by name
METHODS = {"direct": Direct, "sorting": SortingDirect}


def select_method(method, n_reactions: int):
    """Resolve ``method`` ("auto", a name in :data:`METHODS` or a variant class).

    ``"auto"``: :class:`~.direct.Direct` for at most
    :data:`~.direct.AUTO_MAX_REACTIONS` channels, else :class:`~.sorting.SortingDirect`.
    """
    if isinstance(method, type) and method in METHODS.values():
        return method
    if method == "auto":
        return Direct if Direct.suits(n_reactions) else SortingDirect
    try:
        return METHODS[method]
    except (KeyError, TypeError):
        raise ValueError(f"unknown SSA method {method!r}; choose 'auto' or one of "
                         f"{', '.join(METHODS)}") from None

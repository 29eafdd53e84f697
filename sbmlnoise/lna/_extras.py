"""Private: a ``dict`` of result extras whose costly values are built on first access.

The stationary LNA of a small network takes about 0.2 ms; building its nine pandas extras
(Jacobian, diffusion, concentration mean and covariance, EMRE means, noise coefficients)
took about as long again, though most callers read none of them. :class:`LazyExtras`
is a plain ``dict`` to every reader -- indexing, ``get``, ``in``, iteration, ``items``,
``values``, ``dict(extras)``, ``{**extras}``, ``==``, ``copy``, pickling (it pickles as a
plain ``dict`` with every value built) -- but a value registered with a builder is computed
the first time it is read, once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

_PENDING = object()


class LazyExtras(dict):
    """A ``dict`` with some values built on first access.

    Parameters
    ----------
    values : dict
        Entries known now.
    builders : dict of str to callable
        Entries built on first access by calling the builder (no arguments).
    """

    def __init__(self, values: dict | None = None,
                 builders: dict[str, Callable[[], Any]] | None = None) -> None:
        super().__init__(values or {})
        self._builders = dict(builders or {})
        for key in self._builders:
            dict.__setitem__(self, key, _PENDING)

    def lazy(self, key, builder: Callable[[], Any]) -> None:
        """Register (or replace) ``key``, built by ``builder()`` on first access."""
        self._builders[key] = builder
        dict.__setitem__(self, key, _PENDING)

    def _built(self, key, value):
        if value is _PENDING:
            value = self._builders.pop(key)()
            dict.__setitem__(self, key, value)
        return value

    def __getitem__(self, key):
        return self._built(key, dict.__getitem__(self, key))

    def get(self, key, default=None):
        if key in self:
            return self[key]
        return default

    def __iter__(self) -> Iterator:
        return dict.__iter__(self)  # overriding makes dict(x) / {**x} go through x[key]

    def items(self):  # type: ignore[override]
        return [(k, self[k]) for k in list(dict.keys(self))]

    def values(self):  # type: ignore[override]
        return [self[k] for k in list(dict.keys(self))]

    def pop(self, key, *default):
        if key in self:
            value = self[key]
            dict.pop(self, key)
            return value
        return dict.pop(self, key, *default)

    def popitem(self):
        key = next(reversed(list(dict.keys(self))))
        return key, self.pop(key)

    def setdefault(self, key, default=None):
        if key in self:
            return self[key]
        dict.__setitem__(self, key, default)
        return default

    def __setitem__(self, key, value) -> None:
        self._builders.pop(key, None)
        dict.__setitem__(self, key, value)

    def update(self, *args, **kwargs) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def copy(self) -> dict:  # type: ignore[override]
        return dict(self.items())

    def __eq__(self, other) -> bool:
        return dict(self.items()) == (dict(other.items()) if isinstance(other, dict) else other)

    def __ne__(self, other) -> bool:
        return not self == other

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(dict(self.items()))

    def __reduce__(self):
        return dict, (dict(self.items()),)

    def __or__(self, other):
        return dict(self.items()) | dict(other)

    def __ror__(self, other):
        return dict(other) | dict(self.items())

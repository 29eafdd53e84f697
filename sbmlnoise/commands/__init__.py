"""Sub-commands of the ``sbmlnoise`` CLI, one module each (see :mod:`sbmlnoise.cli`)."""

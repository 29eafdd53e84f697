"""Names of curation outputs (a leaf module of the curate package)."""

from __future__ import annotations

import re

__all__ = ["slug"]


def slug(name: str, content_hash: str) -> str:
    """File-system-safe folder name of a model's report: the name plus a hash prefix."""
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "model"
    return f"{base[:80]}-{content_hash[:10]}"

"""Read the YAML files the package is configured with (catalog, bands, rules, actions)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from .errors import KlaError


@lru_cache(maxsize=32)
def _parse(path: str, mtime: float) -> object:
    # mtime is part of the cache key: an edited rules file is read again.
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def read_yaml(path: str | Path, what: str = "file") -> object:
    """Parsed YAML at ``path`` (cached until the file changes); a ``KlaError`` naming ``what``
    if the file is missing or not valid YAML. Callers must not modify the result."""
    p = Path(path)
    try:
        return _parse(str(p), p.stat().st_mtime)
    except FileNotFoundError:
        raise KlaError(f"{what} not found: {p}") from None
    except yaml.YAMLError as err:
        raise KlaError(f"{p}: not valid YAML ({err})") from None

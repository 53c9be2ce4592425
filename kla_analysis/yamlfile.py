"""Read the YAML files the package is configured with (catalog, bands, rules, actions, strings).

Parsing uses libyaml's C loader when PyYAML was built with it (several times faster than the
pure-Python one; a report reads ~200 kB of YAML in a fresh kernel), else the Python loader.
Both are *safe* loaders: no Python objects are ever built from a file.

``read_yaml`` caches what it parsed, so it hands out read-only views: mappings are
``types.MappingProxyType`` and lists are tuples (``frozen``). A caller that changed the
catalog or the rules in place would otherwise change them for every later caller in the
process; now it gets a ``TypeError`` and must copy (``dict(doc)``, ``list(items)``).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

import yaml

from .errors import KlaError

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def loads(text: str) -> object:
    """Parse YAML text with the fastest safe loader (raises ``yaml.YAMLError``)."""
    return yaml.load(text, Loader=_LOADER)  # noqa: S506 -- a safe loader, C or Python


def frozen(value: object) -> object:
    """A read-only copy of parsed YAML: mappings become ``MappingProxyType``, lists tuples.

    >>> doc = frozen({"bands": [{"name": "Madya"}]})
    >>> doc["bands"][0]["name"], type(doc["bands"]).__name__
    ('Madya', 'tuple')
    """
    if isinstance(value, Mapping):
        return MappingProxyType({k: frozen(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(frozen(v) for v in value)
    return value


@lru_cache(maxsize=32)
def _parse(path: str, mtime: float) -> object:
    # mtime is part of the cache key: an edited rules file is read again.
    with open(path, encoding="utf-8") as fh:
        return frozen(loads(fh.read()))


def read_yaml(path: str | Path, what: str = "file") -> object:
    """Parsed YAML at ``path`` (cached until the file changes); a ``KlaError`` naming ``what``
    if the file is missing or not valid YAML. The result is read-only (``frozen``)."""
    p = Path(path)
    try:
        return _parse(str(p), p.stat().st_mtime)
    except FileNotFoundError:
        raise KlaError(f"{what} not found: {p}") from None
    except yaml.YAMLError as err:
        raise KlaError(f"{p}: not valid YAML ({err})") from None

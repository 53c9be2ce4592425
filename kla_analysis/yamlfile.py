"""Read the YAML files the package is configured with (catalog, bands, rules, actions, strings).

Parsing uses libyaml's C loader when PyYAML was built with it (several times faster than the
pure-Python one; a report reads ~200 kB of YAML in a fresh kernel), else the Python loader.
Both are *safe* loaders: no Python objects are ever built from a file.

``read_yaml`` caches what it parsed, so it hands out read-only views: mappings are
``types.MappingProxyType`` and lists are tuples (``frozen``). A caller that changed the
catalog or the rules in place would otherwise change them for every later caller in the
process; now it gets a ``TypeError`` and must copy (``dict(doc)``, ``list(items)``).

Limits. YAML anchors and aliases let a few hundred bytes stand for a billion values ("billion
laughs": each alias repeats a list that is itself made of aliases). The parsed objects share
those repeats, but ``frozen``, ``str(doc)`` or any walk over the document expands them, and a
process then hangs for minutes and grows past gigabytes. ``loads`` and ``read_yaml`` therefore
refuse, with a ``YAMLLimitError`` (a ``yaml.YAMLError``, so callers that turn YAML errors into a
message or a problem row keep doing so), a document that

- is longer than ``MAX_SIZE`` (1 MiB: characters of text, bytes of a file, checked before the
  file is read; the package's own files are at most ~30 kB);
- uses more than ``MAX_ALIASES`` aliases (100; the package's files use none);
- refers to itself (an alias inside its own anchor: an endless document);
- nests deeper than ``MAX_DEPTH`` levels (64; the package's files nest 8 at most, and
  ``frozen`` recurses once per level);
- expands to more than ``MAX_NODES`` values once every alias (and ``<<`` merge) is written
  out (100,000; the package's files hold ~1,200). Needed on top of the alias limit: 100
  aliases, two per level, still double the document 50 times.

The checks run on the composed node graph, before any Python object is built, with the same
(C) parser: one pass over each node, so parsing stays about as fast as before.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

import yaml

from .errors import KlaError

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_SIZE = 1024 * 1024
MAX_ALIASES = 100
MAX_DEPTH = 64
MAX_NODES = 100_000


class YAMLLimitError(yaml.YAMLError):
    """A YAML document over one of this module's limits (size, aliases, depth, expansion)."""


def _check_graph(root: yaml.Node, scalar_aliases: bool = True) -> None:
    """Raise ``YAMLLimitError`` if the node graph under ``root`` breaks a limit.

    Iterative post-order walk, each distinct collection expanded once: a node met again is
    an alias (counted, its expanded size reused); a node met again while it is still being
    expanded is a cycle. Scalars are handled in their parent's step (most nodes are one);
    ``scalar_aliases=False`` skips counting aliases of scalars (for a text without ``*``,
    which has no alias at all).
    """
    done: dict[int, tuple[int, int]] = {}  # id(collection) -> (expanded values, depth)
    scalars: set[int] = set()  # id of each scalar met (a second meeting is an alias)
    open_: set[int] = set()  # collections whose children are still being walked
    aliases = 0
    mapping, scalar = yaml.MappingNode, yaml.ScalarNode
    if isinstance(root, scalar):
        return
    stack: list[tuple[yaml.Node, list | None]] = [(root, None)]
    while stack:
        node, kids = stack.pop()
        key = id(node)
        if kids is not None:  # all children walked: sum them up
            size, depth = 1, 1
            for kid in kids:
                sub = done.get(id(kid))
                if sub is None:  # a scalar
                    size += 1
                else:
                    size += sub[0]
                    if sub[1] >= depth:
                        depth = sub[1] + 1
            if size > MAX_NODES:
                raise YAMLLimitError(f"document too large once its aliases are expanded: "
                                     f"more than {MAX_NODES} values (limit MAX_NODES)")
            if depth > MAX_DEPTH:
                raise YAMLLimitError(f"document nested too deep: more than {MAX_DEPTH} "
                                     f"levels (limit MAX_DEPTH)")
            done[key] = (size, depth)
            open_.discard(key)
            continue
        if key in done:
            aliases += 1
            if aliases > MAX_ALIASES:
                raise YAMLLimitError(f"too many aliases: more than {MAX_ALIASES} "
                                     "(limit MAX_ALIASES)")
            continue
        if key in open_:
            mark = node.start_mark
            raise YAMLLimitError(f"recursive alias: the value at line {mark.line + 1}, column "
                                 f"{mark.column + 1} contains an alias to itself (an endless "
                                 "document)")
        open_.add(key)
        kids = ([n for pair in node.value for n in pair] if type(node) is mapping
                else node.value)
        stack.append((node, kids))
        for kid in kids:
            if type(kid) is not scalar:
                stack.append((kid, None))
            elif scalar_aliases:
                kid_id = id(kid)
                if kid_id in scalars:
                    aliases += 1
                    if aliases > MAX_ALIASES:
                        raise YAMLLimitError(f"too many aliases: more than {MAX_ALIASES} "
                                             "(limit MAX_ALIASES)")
                else:
                    scalars.add(kid_id)


def _check_size(size: int, unit: str) -> None:
    if size > MAX_SIZE:
        raise YAMLLimitError(f"document too large: {size} {unit}, more than "
                             f"{MAX_SIZE} (1 MiB, limit MAX_SIZE)")


def loads(text: str) -> object:
    """Parse YAML text with the fastest safe loader, within this module's limits (raises
    ``yaml.YAMLError``; ``YAMLLimitError`` naming the limit for an over-limit document)."""
    _check_size(len(text), "characters")
    loader = _LOADER(text)  # what yaml.load does, with a check between composing and building
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_graph(node, scalar_aliases="*" in text)  # no "*": no alias anywhere
        return loader.construct_document(node)
    except RecursionError:  # the pure-Python parser recurses once per nesting level
        raise YAMLLimitError(f"document nested too deep: more than {MAX_DEPTH} levels "
                             "(limit MAX_DEPTH)") from None
    finally:
        loader.dispose()


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
        _check_size(os.fstat(fh.fileno()).st_size, "bytes")  # before reading it all
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

"""The area levels of the processed ``statistics`` and ``area_declarations`` tables.

One name per level whatever the region calls it (docs/data-contracts.md):

- ``kabupaten_kota`` (:data:`REGION`): the kabupaten or kota as a whole;
- ``kecamatan`` (:data:`KECAMATAN`);
- ``desa_kelurahan`` (:data:`VILLAGE`): a desa or a kelurahan (the gazetteer records which).

Every reader of ``area_level`` compares with these constants after :func:`canonical`, which
also reads the names earlier versions wrote (``kota``, ``kabupaten``, ``kelurahan``,
``desa``), so processed tables built before the rename keep working.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

REGION = "kabupaten_kota"
KECAMATAN = "kecamatan"
VILLAGE = "desa_kelurahan"
#: From the whole region down to its smallest areas.
LEVELS = (REGION, KECAMATAN, VILLAGE)
#: Levels below the region, coarsest first (what a region figure may be built from).
SUB_LEVELS = (KECAMATAN, VILLAGE)

#: Names of earlier versions (and spellings a hand-made table may use) -> level.
ALIASES = {"kota": REGION, "kabupaten": REGION, "kab_kota": REGION, "kabupaten/kota": REGION,
           "kelurahan": VILLAGE, "desa": VILLAGE, "desa/kelurahan": VILLAGE,
           "kelurahan/desa": VILLAGE, "kec": KECAMATAN}


def canonical(values: pd.Series) -> pd.Series:
    """``values`` (an ``area_level`` column) trimmed, lower-cased and mapped to
    :data:`LEVELS`; a value that is no level stays as written (lower case), blanks stay NA.

    >>> canonical(pd.Series(["kota", " Kelurahan", "kecamatan", "desa_kelurahan"])).tolist()
    ['kabupaten_kota', 'desa_kelurahan', 'kecamatan', 'desa_kelurahan']
    """
    text = values.astype("string").str.strip().str.casefold()
    return text.map(lambda v: ALIASES.get(v, v) if isinstance(v, str) else v).astype("string")


def canonical_array(values: pd.Series) -> np.ndarray:
    """:func:`canonical` as an object array (``None`` for blanks), for array code."""
    return canonical(values).to_numpy(dtype=object, na_value=None)

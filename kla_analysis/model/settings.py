"""Everything the model reads from configuration, loaded once where a run starts.

The catalog (indicators, clusters, data dukung items), the predicate bands, the scoring
rules with their sensitivity grid, and the planner's actions are YAML files shipped in the
package or given by the user (``--rules``, ``--actions``, a weights table). The CLI, the
report and the notebooks call ``load_settings`` once and pass the result in; no model
function reads a file because an argument was left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from ..catalog import (
    load_bands,
    load_catalog,
    load_clusters,
    load_evidence_requirements,
    load_national_predicates,
    weight_set_info,
)
from .actions import load_actions
from .priors import rules_document
from .rules import Rules, load_rules, sensitivity_grid, upgrade_rules


@dataclass(frozen=True)
class Settings:
    """The model's configuration for one run (treat the frames as read-only)."""

    #: One row per indicator (``catalog.load_catalog``), maximum points of the weight set.
    catalog: pd.DataFrame
    #: Clusters in report order (``catalog.load_clusters``).
    clusters: pd.DataFrame
    #: Required data dukung items per indicator (``catalog.load_evidence_requirements``).
    requirements: pd.DataFrame
    #: Predicate bands, lowest first (``catalog.load_bands``).
    bands: pd.DataFrame
    #: Headline rule values, flat (``rules.load_rules``).
    rules: Rules
    #: Alternative values per rule for the sensitivity range (``rules.sensitivity_grid``).
    grid: Mapping[str, list]
    #: The whole rules document: rationales, labels (``rules.rules_document``).
    rules_document: Mapping
    #: The planner's actions document (``actions.load_actions``).
    actions: Mapping
    #: The active weight set: name, status (probable / assumption), labels, source,
    #: provenance and the claims scale (``catalog.weight_set_info``).
    weight_set: Mapping
    #: Published national counts per predikat and round (``catalog.load_national_predicates``).
    national: Mapping | None = None

    def with_rules(self, **changes: object) -> Settings:
        """The same settings with some rule values replaced (e.g. one sensitivity setting);
        an old ``statistic.achievement`` choice is read as ``statistic.strictness``."""
        return replace(self, rules=upgrade_rules({**self.rules, **changes}))


def load_settings(rules_file: str | Path | None = None, actions_file: str | Path | None = None,
                  weights: str | Path | pd.DataFrame | None = None,
                  band_set: str | None = None,
                  claims: str | Path | pd.DataFrame | None = None,
                  opd: Mapping[str, str] | None = None) -> Settings:
    """Read and check every configuration file the model uses (packaged ones by default).

    ``weights``: a packaged weight set's name (``probable_2023``, ``equal``), a CSV path or
    a DataFrame (``catalog.load_weight_set``); ``claims``: the set the self-assessment
    points are written in (the data folder's, ``catalog.folder_weights``; default: the same
    as ``weights``); ``opd``: the region's office per catalog OPD role (``opd:`` of the
    data folder's ``raw/kla.yaml``), used in the catalog, the evidence items and the plan.

    Raises ``KlaError`` naming the file and every problem in it.
    """
    catalog = load_catalog(weights, claims, opd=opd)
    requirements = load_evidence_requirements(opd=opd)
    bands = load_bands(band_set)
    return Settings(
        catalog=catalog, clusters=load_clusters(), requirements=requirements,
        bands=bands, rules=load_rules(rules_file),
        grid=sensitivity_grid(rules_file), rules_document=rules_document(rules_file),
        actions=load_actions(actions_file, catalog, requirements),
        weight_set=weight_set_info(catalog), national=load_national_predicates(bands))

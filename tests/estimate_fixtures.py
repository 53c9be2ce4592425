"""Small hand-made processed tables (following docs/data-contracts.md) for the estimate,
calibration, plan and CLI tests. Numbers are chosen so results can be worked out by hand."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from kla_analysis.catalog import load_evidence_requirements
from kla_analysis.config import project_paths
from kla_analysis.tables import write_table

CITY = "Kota Contoh"
#: The package's former weights (42 points for indicators 1-16, 41 for 17-24) with block KD
#: at 0: the hand-worked numbers of the estimate, calibration and plan tests rest on them.
LEGACY_WEIGHTS = Path(__file__).parent / "fixtures" / "weights_legacy24.csv"


def fixture_settings(**kwargs):
    """``load_settings`` with the legacy test weights (claims on the same scale)."""
    from kla_analysis.model.settings import load_settings

    return load_settings(weights=LEGACY_WEIGHTS, **kwargs)


def self_assessment(claims: dict[int, float], year: int = 2023, city: str = CITY) -> pd.DataFrame:
    return pd.DataFrame({"city": city, "year": year, "indicator": list(claims),
                         "points_claimed": [float(v) for v in claims.values()],
                         "source_file": "self_assessment/x.csv", "source_sheet": "",
                         "source_row": range(2, 2 + len(claims))})


def evidence(rows: list[tuple[int, str, str]], year: int = 2023, city: str = CITY,
             opd: str | None = None) -> pd.DataFrame:
    """``rows`` = (indicator, item, status)."""
    return pd.DataFrame(
        [{"city": city, "year": year, "indicator": ind, "item": item, "title": f"Dokumen {item}",
          "status": status, "opd": opd, "document_date": None, "link": None,
          "source_file": "evidence/x.csv", "source_sheet": "", "source_row": i + 2}
         for i, (ind, item, status) in enumerate(rows)],
        columns=["city", "year", "indicator", "item", "title", "status", "opd",
                 "document_date", "link", "source_file", "source_sheet", "source_row"])


def statistic(indicator: int, measure: str, value: float, data_year: int = 2022,
              area_level: str = "kota", area: str = CITY, numerator=None, denominator=None,
              unit: str = "percent", city: str = CITY) -> dict:
    return {"city": city, "data_year": data_year, "indicator": indicator, "measure": measure,
            "area_level": area_level, "kecamatan": None if area_level == "kota" else area,
            "area": area, "value": value, "numerator": numerator, "denominator": denominator,
            "unit": unit, "source_file": "statistics/x.csv", "source_sheet": "",
            "source_row": 2}


STAT_COLUMNS = list(statistic(1, "m", 0).keys())


def statistics(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=STAT_COLUMNS)


def official(rows: list[tuple[int, str]], city: str = CITY) -> pd.DataFrame:
    return pd.DataFrame([{"city": city, "province": "Kalimantan Selatan", "year": y,
                          "predicate": p, "score": None, "status": "published",
                          "source_url": "https://example.org"} for y, p in rows],
                        columns=["city", "province", "year", "predicate", "score", "status",
                                 "source_url"])


def gazetteer(city: str = CITY) -> pd.DataFrame:
    return pd.DataFrame({"city": [city], "kecamatan": ["A"], "kelurahan": ["A1"]})


def small_tables() -> dict[str, pd.DataFrame]:
    """The hand-computed fixture of test_estimate (see its module docstring)."""
    ev = evidence([
        (1, "1.1", "ada"), (1, "1.2", "dalam_proses"),
        (2, "2.1", "ada"), (2, "2.2", "kedaluwarsa"), (2, "2.3", "tidak_ada"),
        (4, "4.1", "kedaluwarsa"), (4, "4.1", "ada"), (4, "4.2", "ada"),
        (5, "5.1", "tidak_ada"), (5, "5.2", "tidak_ada"),
        (12, "12.1", "ada"),
    ])
    st = statistics([
        statistic(4, "birth_certificate_coverage", 90.0),
        statistic(4, "birth_certificate_coverage", 50.0, data_year=2023),
        statistic(13, "stunting_prevalence", 20.0, area_level="kecamatan", area="A",
                  numerator=20, denominator=100),
        statistic(13, "stunting_prevalence", 10.0, area_level="kecamatan", area="B",
                  numerator=30, denominator=300),
    ])
    return {"self_assessment": self_assessment({1: 40, 2: 42, 4: 30, 5: 10, 12: 20, 13: 36}),
            "evidence": ev, "statistics": st, "official_results": official([(2023, "Madya")]),
            "gazetteer": gazetteer()}


def full_tables() -> dict[str, pd.DataFrame]:
    """24 indicators claimed at 40 (960); every item of indicators 1-16 'ada', none for 17-24.

    Estimate 16 x 40 = 640 (Madya) in 2023 and 2022; 2021 has a claim but no inventory;
    official: 2021 Pratama, 2022 Nindya, 2023 Madya, 2025 Madya (no self-assessment).
    """
    req = load_evidence_requirements()
    items = [(int(r.indicator), r.item, "ada") for r in req.itertuples() if r.indicator <= 16]
    claims = dict.fromkeys(range(1, 25), 40)
    sa = pd.concat([self_assessment(claims, y) for y in (2021, 2022, 2023)], ignore_index=True)
    ev = pd.concat([evidence(items, y) for y in (2022, 2023)], ignore_index=True)
    return {"self_assessment": sa, "evidence": ev, "statistics": statistics([]),
            "official_results": official([(2021, "Pratama"), (2022, "Nindya"),
                                          (2023, "Madya"), (2025, "Madya")]),
            "gazetteer": gazetteer()}


def write_processed(tables: dict[str, pd.DataFrame], data_dir: Path) -> Path:
    """Write ``tables`` as a processed folder under ``data_dir`` (for CLI tests)."""
    from kla_analysis.ingest.validate import COLUMNS, DTYPES, PROVENANCE
    from kla_analysis.tables import TABLES

    paths = project_paths(data_dir, data_dir / "reports")
    for name in TABLES:  # a table the fixture leaves out is written empty, as a build does
        empty = pd.DataFrame({c: pd.Series(dtype=DTYPES[name].get(c, "str"))
                              for c in [*COLUMNS[name], *PROVENANCE]})
        write_table(tables.get(name, empty), name, paths)
    # the folder's weight set: the legacy test weights the hand-worked numbers rest on
    paths.raw.mkdir(parents=True, exist_ok=True)
    (paths.raw / LEGACY_WEIGHTS.name).write_bytes(LEGACY_WEIGHTS.read_bytes())
    city = paths.raw / "city.yaml"
    if not city.exists():
        city.write_text(f"city: {CITY}\nweights: {LEGACY_WEIGHTS.name}\n", encoding="utf-8")
    return data_dir

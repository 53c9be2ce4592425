"""The seaborn views of the exploration notebooks (``kla_analysis.report.distributions``).

The tidy frames are checked against the processed statistics table of the bundled sample
(built into a tmp folder, as the notebook tests build it) and the catalog; the figures by
what they hold (axes, seaborn's artists, the target line at the catalog target, labels in
the chosen language). Thin inputs (desa instead of kelurahan, one kecamatan, one data year,
nothing at all) must give a figure with a note, never an exception.
"""

from __future__ import annotations

import matplotlib
import nbformat
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection, QuadMesh
from matplotlib.figure import Figure
from matplotlib.text import Text
from report_fixtures import build_data
from test_architecture import import_graph

from kla_analysis.catalog import load_catalog
from kla_analysis.config import NOTEBOOKS_DIR
from kla_analysis.errors import KlaError
from kla_analysis.report import distributions as dist
from kla_analysis.report import explore, sections
from kla_analysis.report.i18n import t
from kla_analysis.tables import load_processed

BIRTH, STUNTING, BREASTFEEDING = ("birth_certificate_coverage", "stunting_prevalence",
                                  "exclusive_breastfeeding")

CATALOG = load_catalog()


# --- fixtures -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tables(bundled_data):
    return load_processed(bundled_data)


@pytest.fixture(scope="module")
def rep(bundled_data):
    return explore.open_report(None, "", str(bundled_data.data_dir), "id")


@pytest.fixture(scope="module")
def long(rep):
    return dist.report_statistics(rep)


def catalog_row(measure: str) -> pd.Series:
    cat = load_catalog()
    return cat[cat["measure"] == measure].iloc[0]


def texts(fig: Figure) -> list[str]:
    """Every text of the figure, wrapped lines joined."""
    return [" ".join(x.get_text().split()) for x in fig.findobj(Text) if x.get_text()]


def target_lines(ax, axis: str) -> list[float]:
    """Positions of the lines labelled "Target ..." that are constant along ``axis``."""
    out = []
    for line in ax.get_lines():
        data = np.asarray(line.get_xdata() if axis == "x" else line.get_ydata(), dtype=float)
        if line.get_label().startswith("Target") and len(set(data)) == 1:
            out.append(float(data[0]))
    return out


def dots(ax) -> int:
    """Points drawn by seaborn's stripplot/scatterplot on ``ax``."""
    return sum(len(c.get_offsets()) for c in ax.collections if isinstance(c, PathCollection))


def thin_long(level: str = "desa", kecamatan: tuple = ("Kec. A", "Kec. B"),
              years: tuple = (2024,), n: int = 3, city: str = "Kabupaten Contoh") -> pd.DataFrame:
    """A statistics table built by hand (desa by default), through ``statistics_long``."""
    rows = []
    for year in years:
        for k, kec in enumerate(kecamatan):
            for i in range(n):
                for measure, base in ((BIRTH, 90.0), (STUNTING, 16.0)):
                    rows.append({"city": city, "data_year": year, "indicator": pd.NA,
                                 "measure": measure, "area_level": level, "kecamatan": kec,
                                 "area": f"Desa {k}{i}", "value": base + i + k + (year - 2024),
                                 "numerator": np.nan, "denominator": np.nan,
                                 "unit": "percent"})
    return dist.statistics_long({"statistics": pd.DataFrame(rows)}, CATALOG)


# --- tidy frames ----------------------------------------------------------------------------

def test_statistics_long_holds_every_statistic_row_of_the_city(tables):
    st = tables["statistics"]
    long = dist.statistics_long(tables, CATALOG)
    assert list(long.columns) == dist.LONG_COLUMNS
    assert len(long) == len(st) and long["city"].unique().tolist() == ["Kota Banjarbaru"]
    key = ["data_year", "measure", "area_level", "area"]
    assert sorted(map(tuple, long[key].astype(str).to_numpy())) == \
        sorted(map(tuple, st[key].astype(str).to_numpy()))
    assert sorted(long["data_year"].unique()) == sorted(st["data_year"].unique())
    assert set(long["area_level"]) == {"kabupaten_kota", "kecamatan", "desa_kelurahan"}
    kel = long[(long["measure"] == BIRTH) & (long["data_year"] == 2024)]
    assert set(kel["area"]) == set(tables["gazetteer"]["kelurahan"])
    assert set(kel["kecamatan"]) == set(tables["gazetteer"]["kecamatan"])
    # the catalog's meta on the catalog's measures, the i18n label elsewhere
    row = catalog_row(STUNTING)
    stunting = long[long["measure"] == STUNTING]
    assert (stunting["target"] == float(row["target"])).all()
    assert set(stunting["direction"]) == {"lower"} and set(stunting["label"]) == \
        {row["measure_id"]}
    other = long[long["measure"] == "immunisation_complete"]
    assert len(other) and other["target"].isna().all()
    assert set(other["label"]) == {"Persentase bayi dengan imunisasi dasar lengkap"}
    assert dist.statistics_long(tables, CATALOG, lang="en").loc[lambda d: d["measure"] == STUNTING,
                                                        "label"].iloc[0] == row["measure_en"]


def test_report_statistics_stops_at_the_report_data_year(bundled_data, long):
    assert int(long["data_year"].max()) == 2024  # evaluation 2025 reads data year 2024
    earlier = sections.load_report(2023, data_dir=str(bundled_data.data_dir), lang="en")
    older = dist.report_statistics(earlier)
    assert int(older["data_year"].max()) == 2022 and len(older) < len(long)
    assert older.loc[older["measure"] == BIRTH, "label"].iloc[0] == \
        catalog_row(BIRTH)["measure_en"]


def test_catalog_targets_are_the_catalog_statistics():
    cat = load_catalog().dropna(subset=["measure"])
    got = dist.catalog_targets(CATALOG, lang="en")
    assert list(got.columns) == ["indicator", "measure", "label", "unit", "direction", "target"]
    assert got["measure"].tolist() == cat["measure"].tolist()
    assert got["target"].tolist() == cat["target"].astype(float).tolist()
    assert got["label"].tolist() == cat["measure_en"].tolist()
    assert dist.catalog_targets(CATALOG).set_index("measure").at[STUNTING, "target"] == 14.0


def test_area_rows_take_the_latest_year_and_mark_the_areas_short_of_the_target(long):
    rows = dist.area_rows(long, BIRTH)
    assert len(rows) == 20 and set(rows["data_year"]) == {2024}
    target = float(catalog_row(BIRTH)["target"])
    assert rows["short_of_target"].tolist() == (rows["value"] < target).tolist()
    stunting = dist.area_rows(long, STUNTING, 2018)
    assert set(stunting["data_year"]) == {2018} and set(stunting["area_level"]) == {"desa_kelurahan"}
    assert stunting["short_of_target"].tolist() == (stunting["value"] > 14.0).tolist()
    assert dist.area_rows(long, "immunisation_complete")["short_of_target"].isna().all()
    assert dist.area_rows(long, BIRTH, 2019).empty  # no kelurahan rows that year
    measures = dist.area_measures(long)
    assert measures[0] == BIRTH and {"child_forum_members", STUNTING} <= set(measures)
    assert "safe_water_access" not in measures  # city level only


def test_paired_areas_and_standing_agree_with_the_explore_ranking(rep, long):
    pairs = dist.paired_areas(long, BREASTFEEDING, STUNTING)
    assert len(pairs) == 20 and set(pairs["data_year"]) == {2024}
    views = sections.kelurahan_views(rep)
    ref = explore.kelurahan_long(views).set_index(["measure", "kelurahan"])["standing"]
    for r in pairs.itertuples():
        assert r.standing_x == pytest.approx(ref[(BREASTFEEDING, r.area)])
        assert r.standing_y == pytest.approx(ref[(STUNTING, r.area)])
        assert r.lagging == (r.standing_x <= 0.25 + 1e-9) + (r.standing_y <= 0.25 + 1e-9)
    stand = dist.standing_long(long)
    assert set(stand["measure"]) == set(dist.area_measures(long))
    assert dist.paired_areas(long, BIRTH, BIRTH).empty
    assert dist.paired_areas(long, BIRTH, STUNTING, data_year=2019).empty


# --- figures --------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["id", "en"])
def test_distribution_figure_draws_every_kelurahan_by_kecamatan_with_the_target(long, lang,
                                                                                tables):
    fig = dist.distribution_figure(long, BIRTH, lang=lang)
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    ax = fig.axes[0]
    assert dots(ax) == 20  # one dot per kelurahan
    assert len(ax.patches) == 5  # one box per kecamatan
    assert target_lines(ax, "x") == [float(catalog_row(BIRTH)["target"])]
    assert ax.get_xlabel() == f"{t('label.value', lang)} (%)"
    assert ax.get_ylabel() == "Kecamatan"
    assert [x.get_text() for x in ax.get_yticklabels()] == \
        sorted(tables["gazetteer"]["kecamatan"].unique())
    words = " ".join(texts(fig))
    assert "desa/kelurahan" in words and catalog_row(BIRTH)[f"measure_{lang}"] in words
    assert ("Tahun data 2024" if lang == "id" else "Data year 2024") in words
    assert ("belum mencapai target" if lang == "id" else "short of the target") in words
    assert fig.canvas.get_supported_filetypes()  # drawable without pyplot
    assert dist.distribution_figure(long, lang=lang).axes[0].get_title(loc="left") == ax.get_title(loc="left")


def test_years_figure_shows_every_data_year_with_the_median_and_the_target(long):
    fig = dist.years_figure(long, STUNTING, lang="en")
    ax = fig.axes[0]
    years = sorted(dist._areas(long).loc[lambda d: d["measure"] == STUNTING, "data_year"]
                   .unique())
    assert [x.get_text() for x in ax.get_xticklabels()] == [str(y) for y in years]
    assert ax.get_xlabel() == "Data year" and ax.get_ylabel() == "Value (%)"
    assert target_lines(ax, "y") == [14.0]
    assert len(ax.lines) > len(years)  # pointplot: the joined medians and an interval each
    strip = long[(long["measure"] == STUNTING) & (long["area_level"] == "desa_kelurahan")]
    assert dots(ax) >= len(strip)  # every area, plus the city-level value of 2023
    assert "Median and interquartile range" in texts(fig)
    assert "Nilai tingkat kabupaten/kota" in texts(dist.years_figure(long, STUNTING))


def test_relationship_figure_plots_one_dot_per_area_and_both_targets(long):
    fig = dist.relationship_figure(long, BREASTFEEDING, STUNTING, lang="id")
    ax = fig.axes[0]
    assert len(fig.axes) == 1 and dots(ax) == 20
    assert target_lines(ax, "x") == [80.0] and target_lines(ax, "y") == [14.0]
    assert ax.get_xlabel().replace("\n", " ").startswith(catalog_row(BREASTFEEDING)["measure_id"])
    assert "Spearman" in ax.get_title(loc="left") and "(n = 20)" in ax.get_title(loc="left")
    pairs = dist.paired_areas(long, BREASTFEEDING, STUNTING)
    named = {x.get_text() for x in ax.texts}
    assert named == set(pairs.loc[pairs["lagging"] == 2, "area"])
    en = dist.relationship_figure(long, BREASTFEEDING, STUNTING, lang="en")
    assert en.axes[0].get_xlabel().replace("\n", " ").startswith(
        catalog_row(BREASTFEEDING)["measure_en"])


def test_standing_figure_is_a_heatmap_of_areas_by_directed_statistics(long):
    fig = dist.standing_figure(long, lang="en")
    assert len(fig.axes) == 2  # the heatmap and its colour bar
    ax = fig.axes[0]
    mesh = [c for c in ax.collections if isinstance(c, QuadMesh)]
    directed = [m for m in dist.area_measures(long)
                if dist.area_rows(long, m)["direction"].isin(["higher", "lower"]).all()]
    assert len(mesh) == 1 and mesh[0].get_array().size == 20 * len(directed)
    assert len(ax.get_yticklabels()) == 20 and len(ax.get_xticklabels()) == len(directed)
    assert fig.axes[1].get_ylabel() == "Standing (0 = worst, 1 = best)"
    assert "2 statistics without a direction left out" in ax.get_title(loc="left")


def test_figures_show_as_png_in_a_notebook_and_leave_no_pyplot_figure(long):
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    png = dist.distribution_figure(long)._repr_png_()
    assert png.startswith(b"\x89PNG") and plt.get_fignums() == before
    assert matplotlib.rcParams["text.parse_math"]  # the notebook's settings are left alone


# --- thin inputs ----------------------------------------------------------------------------

def test_a_kabupaten_with_desa_reads_like_a_kota_with_kelurahan():
    long = thin_long("desa", years=(2023, 2024))
    # a desa level as an earlier version wrote it reads as the lowest level
    assert set(long["area_level"]) == {"desa_kelurahan"} and long["city"].unique().tolist() == \
        ["Kabupaten Contoh"]
    assert dist.area_measures(long) == [BIRTH, STUNTING]
    fig = dist.distribution_figure(long, STUNTING, lang="en")
    assert dots(fig.axes[0]) == 6 and target_lines(fig.axes[0], "x") == [14.0]
    assert "6 desa/kelurahan" in " ".join(texts(fig))
    assert dots(dist.years_figure(long, BIRTH).axes[0]) == 12
    assert dots(dist.relationship_figure(long).axes[0]) == 6
    assert len(dist.standing_figure(long).axes) == 2


@pytest.mark.parametrize("lang", ["id", "en"])
def test_one_kecamatan_and_one_year_give_a_figure_with_a_note(lang):
    long = thin_long("kelurahan", kecamatan=("Kec. Satu",), years=(2024,))
    fig = dist.distribution_figure(long, BIRTH, lang=lang)
    assert len(fig.axes[0].patches) == 1 and dots(fig.axes[0]) == 3
    assert dist.text("one_kecamatan", lang) in fig.axes[0].get_title(loc="left")
    years = dist.years_figure(long, STUNTING, lang=lang)
    assert dist.text("one_year", lang) in years.axes[0].get_title(loc="left")
    assert [x.get_text() for x in years.axes[0].get_xticklabels()] == ["2024"]
    assert len(dist.standing_figure(long, lang=lang).axes) == 2
    one = thin_long("kelurahan", kecamatan=("Kec. Satu",), n=1)  # one area: no fitted line
    rel = dist.relationship_figure(one, BIRTH, STUNTING, lang=lang)
    assert dots(rel.axes[0]) == 1 and "Spearman" not in rel.axes[0].get_title(loc="left")


@pytest.mark.parametrize("make", [
    lambda: pd.DataFrame(columns=dist.LONG_COLUMNS),
    lambda: thin_long("kota"),                       # city level only: no area rows
    lambda: dist.statistics_long({}, CATALOG),                # no statistics table at all
], ids=["empty", "city-level-only", "no-table"])
def test_no_area_rows_give_a_note_figure(make):
    long = make()
    assert dist.area_measures(long) == []
    for fig in (dist.distribution_figure(long), dist.years_figure(long),
                dist.relationship_figure(long), dist.standing_figure(long, lang="en")):
        assert isinstance(fig, Figure) and len(fig.axes) == 1
        assert not fig.axes[0].axison and len(fig.axes[0].texts) == 1
        assert fig._repr_png_().startswith(b"\x89PNG")


def test_unknown_measure_or_year_gives_a_note_and_a_bad_language_an_error(long):
    fig = dist.distribution_figure(long, "no_such_measure")
    assert "Tidak ada data desa/kelurahan" in fig.axes[0].texts[0].get_text()
    fig = dist.distribution_figure(long, BIRTH, data_year=2019, lang="en")
    assert "No desa/kelurahan data" in fig.axes[0].texts[0].get_text()
    assert not dist.relationship_figure(long, BIRTH, "no_such_measure").axes[0].axison
    with pytest.raises(KlaError):
        dist.distribution_figure(long, BIRTH, lang="fr")


def test_the_small_fixture_city_with_one_area_statistic_gets_notes(tmp_path):
    paths = build_data(tmp_path / "data")  # Kota Contoh: one kelurahan statistic, 2 years
    long = dist.statistics_long(load_processed(paths), CATALOG)
    assert dist.area_measures(long) == [BIRTH]
    assert dots(dist.distribution_figure(long).axes[0]) == 4
    assert [x.get_text() for x in dist.years_figure(long).axes[0].get_xticklabels()] == \
        ["2021", "2022"]
    assert not dist.relationship_figure(long).axes[0].axison  # no second statistic


# --- where the module is used ---------------------------------------------------------------

def test_only_the_notebooks_use_the_module_not_the_rendered_reports():
    users = [m for m, deps in import_graph().items()
             if any(d == "kla_analysis.report.distributions" for d, _, _ in deps)]
    assert users == []


@pytest.mark.parametrize("name", ["01-explore-indicators.ipynb", "03-kelurahan-breakdown.ipynb"])
def test_the_notebooks_call_the_views_after_a_bilingual_note(name):
    nb = nbformat.read(NOTEBOOKS_DIR / name, as_version=4)
    calls = [i for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and "_figure(" in c.source and "distributions." in c.source]
    assert len(calls) >= 2
    for i in calls:
        assert len(nb.cells[i].source.splitlines()) <= 2
        before = next(c for c in reversed(nb.cells[:i]) if c.cell_type == "markdown")
        assert " / " in before.source.splitlines()[0], before.source  # "## id / en" heading

"""``kla evidence pack``: the offline HTML index the task force works from during the
2 × 24-hour verification window, written beside the data dukung documents.

Block -> indicator -> question, each with its required items, the files with RELATIVE links,
their status, size, pages and date (with where the date came from), what is still missing,
sorted by the points at stake (``report.evidence_files.points_at_stake``: the catalog's
question maxima split over their items, or any estimate passed in as ``at_stake``, e.g. the
chance of the target predikat from the posterior). Then the files that could not be placed
and every problem of the scan.

Same standards as the reports (``publish/index.py``): one file, the report stylesheet inline,
no script, a Content-Security-Policy that allows nothing to load, phone-readable (390 px) and
printable; every string from the folder (file names, PDF titles, decree numbers) escaped,
control, bidirectional and invisible characters shown as ``\\u202e``-style escapes, never
passed on. Bahasa Indonesia first, English alongside.

The scan comes in as an object with ``folder``, ``year``, ``city``, ``files``, ``items``,
``questions``, ``problems`` (``kla_analysis.ingest.evidence_scan.Scan``; publish does not
import ingest: the tables are the contract, docs/data-contracts.md).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from urllib.parse import quote

import pandas as pd
from markupsafe import Markup

from ..atomic import write_text
from ..catalog import load_catalog, load_clusters
from ..chars import BIDI, CONTROL, INVISIBLE
from ..config import package_file
from ..errors import KlaError
from ..report.evidence_files import item_points, points_at_stake
from ..yamlfile import read_yaml
from .index import _css

GENERATOR = "kla evidence pack"
_SHOWN_AS_ESCAPE = re.compile(f"[{CONTROL}{BIDI}{INVISIBLE}\r\n\t\u2028\u2029\ud800-\udfff]")
_BADGE = {"ada": "met", "dalam_proses": "partial", "kedaluwarsa": "not_met",
          "tidak_ada": "no_data"}
_STATUS = {"ada": ("ada", "present"), "dalam_proses": ("dalam proses", "in progress"),
           "kedaluwarsa": ("kedaluwarsa", "expired"), "tidak_ada": ("tidak ada", "missing")}
_MONTHS_ID = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
              "September", "Oktober", "November", "Desember"]
_EXTRA_CSS = """
.en { color: var(--muted); font-weight: normal; }
ul.files { list-style: none; padding: 0 0 0 0.8rem; margin: 0.2rem 0; }
ul.files li { border: 0; padding: 0.15rem 0; font-size: 0.9rem; }
ul.files .meta { font-size: 0.82rem; color: var(--muted); }
ul.files a, .path { overflow-wrap: anywhere; word-break: break-word; }
.flag { display: inline-block; font-size: 0.75rem; border: 1px solid var(--warn); color: var(--notmet-ink);
        border-radius: 3px; padding: 0 0.3rem; margin: 0 0.2rem 0.1rem 0; }
.missing { color: var(--notmet-ink); font-weight: 600; }
section.indicator { margin: 0 0 1.2rem; }
h4 { font-size: 0.95rem; margin: 0.8rem 0 0.2rem; }
"""


def shown(text: object) -> str:
    """``text`` with every character that must not reach a reader as itself written as an
    escape (``\\u202e``, ``\\x1b``); the result is still to be HTML-escaped.

    >>> shown("sk\\u202efdp.exe")
    'sk\\\\u202efdp.exe'
    """
    return _SHOWN_AS_ESCAPE.sub(lambda m: f"\\x{o:02x}" if (o := ord(m.group())) < 0x100
                                else f"\\u{o:04x}", str(text))


def href(target: Path, base: Path) -> str:
    """A relative link from the folder ``base`` to ``target``, every segment percent-encoded
    (``..`` segments only to climb out of ``base``; never a scheme or an absolute path).

    >>> href(Path("/d/Klaster II/7.1 <x>.pdf"), Path("/d"))
    'Klaster%20II/7.1%20%3Cx%3E.pdf'
    """
    rel = os.path.relpath(target, base)
    parts = Path(rel).parts
    return "/".join(".." if p == ".." else quote(os.fsencode(p), safe="") for p in parts)


def _strings() -> dict:
    return read_yaml(package_file("evidence_files.yaml"), "evidence file rules")["rules"]


def _bi(id_text: str, en_text: str) -> Markup:
    """Bahasa Indonesia, then English in muted text."""
    return Markup('{} <span class="en" lang="en">/ {}</span>').format(id_text, en_text)


def _size(n: object) -> str:
    if n is None or pd.isna(n):
        return "–"
    n = float(n)
    if n < 1024:
        return f"{int(n)} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n / 1048576:.1f} MB".replace(".", ",")


def _date(value: object) -> str:
    if not isinstance(value, str) or not value:
        return ""
    try:
        d = date.fromisoformat(value)
    except ValueError:
        return shown(value)
    return f"{d.day} {_MONTHS_ID[d.month - 1]} {d.year}"


def _points(x: float) -> str:
    return f"{x:.1f}".replace(".", ",")


def _status_badge(status: object) -> Markup:
    key = status if status in _STATUS else "tidak_ada"
    words = _STATUS[key]
    return Markup('<span class="badge {}">{}</span> <span class="en" lang="en">{}</span>').format(
        _BADGE[key], words[0], words[1])


_DATE_SOURCE = {"text_ditetapkan": ("teks: ditetapkan … tanggal", "text: enacted on"),
                "text_tanggal": ("teks: tanggal", "text: dated"),
                "metadata": ("metadata berkas", "file metadata")}


def _file_li(f: pd.Series, folder: Path, base: Path, labels: dict, real: dict) -> Markup:
    link = href(real.get(f["path"]) or folder / f["path"], base)
    bits = [f"{shown(f['type'])}", _size(f["size"])]
    if pd.notna(f["pages"]):
        bits.append(f"{int(f['pages'])} hlm / pages")
    if f["type"] == "pdf" and f["text_layer"] is False:
        bits.append("tanpa teks / no text layer")
    meta = [Markup(" · ").join(bits)]
    if isinstance(f["title"], str) and f["title"]:
        meta.insert(0, Markup("<em>{}</em>").format(shown(f["title"])))
    if isinstance(f["doc_date"], str) and f["doc_date"]:
        src = _DATE_SOURCE.get(f["date_source"], (shown(f["date_source"]), ""))
        meta.append(Markup("{} ({})").format(_date(f["doc_date"]), src[0]))
    if isinstance(f["decree"], str) and f["decree"]:
        meta.append(Markup("Nomor {}").format(shown(f["decree"])))
    flags = [x for x in str(f["flags"] or "").split("; ") if x and x in labels]
    tags = Markup("").join(Markup('<span class="flag" title="{}">{}</span>').format(
        labels[x]["label_en"], labels[x]["label_id"]) for x in flags)
    status = _status_badge(f["status"]) if isinstance(f["status"], str) else Markup("")
    return Markup('<li><a href="{}">{}</a> {}<div class="meta">{}</div>{}</li>').format(
        link, shown(f["path"]), status, Markup(" · ").join(meta), tags)


def pack_html(scan, *, out: str | Path | None = None,
              at_stake: pd.DataFrame | pd.Series | dict | None = None,
              stake_label: tuple[str, str] = ("poin", "points"),
              generated: datetime | None = None) -> str:
    """The pack page as a string. ``out``: where the page will live (links are relative to
    its folder; default ``<folder>/index.html``); ``at_stake``: value at stake per item
    (``points_at_stake``; default the catalog's points of every item not ``ada``);
    ``stake_label``: its unit, Bahasa Indonesia and English."""
    folder = Path(scan.folder)
    base = Path(out).parent if out is not None else folder
    real = dict(getattr(scan, "real_paths", None) or {})
    labels = _strings()
    items = scan.items.copy()
    files = scan.files
    qs = scan.questions.copy()
    qs["evidence"] = qs["evidence"].map(lambda v: v if isinstance(v, list | tuple)
                                        else [p.strip() for p in str(v).split(";")])
    full = item_points(qs).reindex(items["item"]).fillna(0.0).to_numpy()
    items["points"] = full
    items["stake"] = points_at_stake(items, qs, at_stake).to_numpy()
    stake_of = dict(zip(items["item"], items["stake"], strict=True))
    by_item = {i: g for i, g in files[files["item"].notna()].groupby("item")}
    clusters = load_clusters().set_index("cluster")
    cat = load_catalog()
    names = {int(r.indicator): (r.name_id, r.name_en) for r in cat.itertuples()}
    unit = stake_label

    counts = items["status"].value_counts()
    city = shown(scan.city or "")
    body = [Markup('<h1>{}</h1><p class="subtitle">{}</p>').format(
        _bi(f"Data dukung KLA {scan.year}", f"KLA supporting documents {scan.year}"),
        Markup(" · ").join(x for x in [city, Markup("folder <code>{}</code>").format(
            shown(folder.name))] if x))]
    body.append(Markup('<div class="notice"><strong>{}</strong>{}</div>').format(
        _bi("Indeks berkas untuk masa verifikasi 2 × 24 jam",
            "Index of the files for the 2 × 24-hour verification window"),
        _bi("Diurutkan menurut nilai yang dipertaruhkan (perkiraan, bukan nilai resmi: poin "
            "per pertanyaan adalah asumsi paket ini). Tautan menuju berkas di folder ini; "
            "halaman ini dapat dibuka tanpa internet dan dicetak.",
            "Sorted by the value at stake (an estimate, not an official score: the points per "
            "question are this package's assumptions). Links open the files in this folder; "
            "the page works offline and prints.")))
    cards = [("ada", "present"), ("dalam_proses", "in progress"), ("kedaluwarsa", "expired"),
             ("tidak_ada", "missing")]
    body.append(Markup('<div class="cards">{}</div>').format(Markup("").join(
        Markup('<div class="card"><div class="label">{}</div><div class="value">{}</div></div>'
               ).format(_bi(_STATUS[k][0], en), int(counts.get(k, 0))) for k, en in cards) +
        Markup('<div class="card"><div class="label">{}</div><div class="value">{}</div>'
               '</div>').format(_bi("berkas", "files"), len(files))))

    # --- the to-do list: everything not ada, most at stake first
    todo = items[items["status"] != "ada"].sort_values(["stake", "indicator", "item"],
                                                        ascending=[False, True, True],
                                                        kind="stable")
    body.append(Markup('<h2 id="kurang">{}</h2>').format(
        _bi("Yang masih kurang", "Still missing or not yet valid")))
    if todo.empty:
        body.append(Markup("<p>{}</p>").format(_bi("Semua data dukung sudah ada.",
                                                  "Every item has a valid file.")))
    else:
        body.append(Markup('<ul class="items">{}</ul>').format(Markup("").join(
            Markup('<li><span class="gain">{} {}</span><span class="what">{} {}</span> {}'
                   '<div class="meta">{} · OPD {}</div></li>').format(
                _points(r.stake), unit[0], r.item, shown(r.name_id), _status_badge(r.status),
                shown(r.name_en), shown(r.opd)) for r in todo.itertuples())))

    # --- block -> indicator -> question
    body.append(Markup('<h2 id="rincian">{}</h2>').format(
        _bi("Per klaster, indikator dan pertanyaan", "By block, indicator and question")))
    ind_stake = items.groupby("indicator")["stake"].sum()
    block_stake = items.groupby("cluster")["stake"].sum()
    order = clusters["order"].to_dict()
    for block in sorted(block_stake.index, key=lambda b: (-block_stake[b], order.get(b, 99))):
        name = clusters.loc[block] if block in clusters.index else None
        body.append(Markup('<h2>{} <small>({} {})</small></h2>').format(
            _bi(name["name_id"], name["name_en"]) if name is not None else block,
            _points(block_stake[block]), unit[0]))
        inds = sorted(items.loc[items["cluster"] == block, "indicator"].unique(),
                      key=lambda i: (-ind_stake[i], i))
        for ind in inds:
            body.append(_indicator(ind, items, qs, by_item, stake_of, folder, base, labels,
                                   unit, ind_stake[ind], names, real))

    # --- files that could not be placed
    unplaced = files[files["item"].isna()]
    body.append(Markup('<h2 id="tidak-ditempatkan">{}</h2>').format(
        _bi("Berkas yang tidak dapat ditempatkan", "Files that could not be placed")))
    if unplaced.empty:
        body.append(Markup("<p>{}</p>").format(_bi("Tidak ada.", "None.")))
    else:
        body.append(Markup("<p>{}</p>").format(_bi(
            "Nama folder atau berkas tidak menyebut kode yang jelas; ganti nama atau tambahkan "
            "ke berkas pemetaan (data_dukung.yaml).",
            "No clear code in the folder or file name; rename them or add them to the mapping "
            "file (data_dukung.yaml).")))
        body.append(Markup('<ul class="files">{}</ul>').format(Markup("").join(
            _file_li(f, folder, base, labels, real) for _, f in unplaced.iterrows())))

    # --- every problem
    probs = scan.problems[scan.problems["rule"] != "missing"]
    body.append(Markup('<h2 id="masalah">{}</h2>').format(_bi("Masalah", "Problems")))
    if probs.empty:
        body.append(Markup("<p>{}</p>").format(_bi("Tidak ada.", "None.")))
    else:
        rows = Markup("").join(Markup(
            '<tr><td class="path">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>').format(
            shown(p.file), _bi(labels.get(p.rule, {}).get("label_id", p.rule),
                              labels.get(p.rule, {}).get("label_en", p.rule)),
            shown(p.value), shown(p.hint.split(" / ")[0]))
            for p in probs.itertuples())
        body.append(Markup(
            '<div class="table-wrap"><table class="data"><thead><tr><th>{}</th><th>{}</th>'
            '<th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table></div>').format(
            _bi("berkas", "file"), _bi("masalah", "problem"), _bi("nilai", "value"),
            _bi("saran", "hint"), rows))
    when = (generated or datetime.now()).isoformat(timespec="minutes")
    body.append(Markup('<footer class="report-footer">{}</footer>').format(_bi(
        f"Dibuat oleh kla evidence pack, {when}. Status dan tanggal dibaca dari berkas; "
        "periksa sebelum diunggah.",
        f"Made by kla evidence pack, {when}. Statuses and dates are read from the files; check "
        "them before uploading.")))
    return str(Markup(
        '<!DOCTYPE html>\n<html lang="id"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'\">"
        '<meta name="referrer" content="no-referrer"><meta name="generator" content="{}">'
        '<title>{}</title><style>{}{}</style></head>'
        '<body><main class="report">{}</main></body></html>\n').format(
        GENERATOR, f"Data dukung KLA {scan.year}", Markup(_css()), Markup(_EXTRA_CSS),
        Markup("").join(body)))


def _indicator(ind: int, items: pd.DataFrame, qs: pd.DataFrame, by_item: dict,
               stake_of: dict, folder: Path, base: Path, labels: dict, unit: tuple,
               stake: float, names: dict, real: dict) -> Markup:
    its = items[items["indicator"] == ind]
    parts = [Markup('<h3 id="indikator-{}">{}. {} <small>({} {})</small></h3>').format(
        ind, ind, _bi(shown(names[ind][0]), shown(names[ind][1])), _points(stake), unit[0])]
    iq = qs[qs["indicator"] == ind].copy()
    iq["stake"] = iq["evidence"].map(lambda ev: sum(stake_of.get(e, 0.0) for e in ev))
    iq = iq.sort_values(["stake", "question"], ascending=[False, True], kind="stable")
    status_of = dict(zip(its["item"], its["status"], strict=True))
    for q in iq.itertuples():
        parts.append(Markup("<h4>{} {}.{}: {} <small>(maks. {} {})</small></h4>").format(
            "Pertanyaan", ind, q.question, shown(q.text_id), _points(q.max_points), unit[0]))
        lis = []
        for code in sorted(q.evidence, key=lambda c: -stake_of.get(c, 0.0)):
            row = its[its["item"] == code]
            if row.empty:
                continue
            r = row.iloc[0]
            fl = by_item.get(code)
            files = Markup("")
            if fl is not None and not fl.empty:
                order = {p: k for k, p in enumerate(r["files"])}
                fl = fl.assign(_o=fl["path"].map(order)).sort_values("_o")
                files = Markup('<ul class="files">{}</ul>').format(Markup("").join(
                    _file_li(f, folder, base, labels, real) for _, f in fl.iterrows()))
            missing = Markup("")
            if status_of.get(code) != "ada":
                missing = Markup('<div class="missing">{}</div>').format(_bi(
                    f"Masih kurang: {_STATUS[status_of.get(code, 'tidak_ada')][0]}",
                    f"still needed: {_STATUS[status_of.get(code, 'tidak_ada')][1]}"))
            lis.append(Markup(
                '<li><span class="gain">{} {}</span><span class="what">{} {}</span> {}'
                '<div class="meta">{} · OPD {}</div>{}{}</li>').format(
                _points(stake_of.get(code, 0.0)), unit[0], code, shown(r["name_id"]),
                _status_badge(r["status"]), shown(r["name_en"]), shown(r["opd"]), files,
                missing))
        parts.append(Markup('<ul class="items">{}</ul>').format(Markup("").join(lis)))
    return Markup('<section class="indicator">{}</section>').format(Markup("").join(parts))


def write_pack(scan, out: str | Path | None = None, *,
               at_stake: pd.DataFrame | pd.Series | dict | None = None,
               stake_label: tuple[str, str] = ("poin", "points"),
               refuse: Callable[[Path], object] | None = None) -> Path:
    """Write the pack (:func:`pack_html`) to ``out`` (default ``<folder>/index.html``)
    atomically. An existing file there that is not an earlier pack is never overwritten
    (``KlaError``); ``refuse(path)``, when given, raises for a path that must not be written
    (the CLI refuses ``raw/``)."""
    out = Path(out) if out is not None else Path(scan.folder) / "index.html"
    out = out.expanduser().resolve()
    if refuse is not None:
        refuse(out)
    if out.suffix.lower() not in (".html", ".htm"):
        raise KlaError(f"--out must name an .html file, got {out}")
    if out.is_dir():
        raise KlaError(f"{out} is a folder; give the page's file name (e.g. index.html)")
    if out.exists():
        try:
            head = out.read_bytes()[:4096].decode("utf-8", "replace")
        except OSError:
            head = ""
        if f'<meta name="generator" content="{GENERATOR}">' not in head:
            raise KlaError(f"{out} exists and was not written by kla evidence pack; it is "
                           "never overwritten: give another --out")
    return write_text(out, pack_html(scan, out=out, at_stake=at_stake,
                                     stake_label=stake_label))


__all__ = ["GENERATOR", "href", "pack_html", "shown", "write_pack"]

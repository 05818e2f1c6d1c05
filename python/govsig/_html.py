"""The pieces the HTML reports share: one self-contained page (inline CSS, SVG and a few
lines of JS, nothing fetched when it is opened), bar charts drawn as SVG, a searchable
table, the label catalogue in Vietnamese and English, and the escaping of untrusted text.

Every string that comes from a document, a certificate or a file name goes through
:func:`text`: HTML-escaped (so ``<script>`` in a subject or a path is shown, never run) after
control, bidi and separator characters are made visible (the same rule as the CLI's
``shown``), so a crafted name cannot reorder or hide what a reader sees. Charts are SVG
written here rather than by a charting library: a handful of bars needs ~50 lines, where a
library would embed megabytes of JS in every report and add a dependency to the package.
"""
from __future__ import annotations

import html
import os
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from typing import Optional

from govsig._cli_text import shown

LANGS = ("vi", "en")


def default_lang(environ: Optional[Mapping[str, str]] = None) -> str:
    """``"vi"`` when the user's locale is Vietnamese (``vi_VN.UTF-8``, ``vi``), else ``"en"``.

    Read as POSIX does for messages: the first of ``LC_ALL``, ``LC_MESSAGES``, ``LANG`` that
    is set and not empty decides; ``C``/``POSIX`` or nothing at all means English."""
    env = os.environ if environ is None else environ
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(var, "")
        if value:
            return "vi" if re.match(r"vi(?:[_.@-]|$)", value, re.IGNORECASE) else "en"
    return "en"


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}, not {lang!r}")
    return lang


def text(value: object) -> str:
    """Untrusted text, safe to place in HTML content or a quoted attribute."""
    return html.escape(shown("" if value is None else value), quote=True)


# One attribute: a type, "=", a value in which ",", "+" and "\\" appear only escaped; then the
# separator. Types are trimmed (", " separates RDNs); values keep their spaces, which the
# writer escaped where they mattered (RFC 4514 §2.4).
_ATTRIBUTE = re.compile(r"\s*((?:[^\\=,+]|\\.)+?)\s*=((?:[^\\,+]|\\.)*)(?:[,+]|\Z)", re.S)
# \XX octets (UTF-8, decoded together) or \c (the character itself), left to right.
_ESCAPE = re.compile(r"((?:\\[0-9A-Fa-f]{2})+)|\\(.)", re.S)


def _unescape(m: re.Match[str]) -> str:
    if m.group(1):
        return bytes.fromhex(m.group(1).replace("\\", "")).decode("utf-8", "replace")
    return m.group(2)


def split_dn(dn: str) -> list[tuple[str, str]]:
    """An RFC 4514 string (``CN=a\\, b, O=c``) as (type, value) pairs in the order written,
    escapes undone; multi-valued RDNs (``+``) give one pair per attribute. Used when a
    report line has the subject as text only; text that does not parse further ends the
    list there."""
    out: list[tuple[str, str]] = []
    pos, n = 0, len(dn)
    while pos < n:
        m = _ATTRIBUTE.match(dn, pos)
        if m is None or m.end() == pos:
            break
        value = m.group(2)
        out.append((m.group(1), _ESCAPE.sub(_unescape, value) if "\\" in value else value))
        pos = m.end()
    return out


def first(fields: Sequence[tuple[str, str]], attr: str) -> Optional[str]:
    for k, v in fields:
        if k.upper() == attr.upper():
            return v
    return None


# --- the page ------------------------------------------------------------------------------

_CSS = """
:root{--ok:#1b7f3b;--bad:#b3261e;--warn:#a15c00;--ink:#1d1d1f;--mute:#5f6368;--line:#dadce0;--bar:#1a73e8}
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",Arial,sans-serif;color:var(--ink);margin:0;background:#f6f7f9}
header{background:#0b3d91;color:#fff;padding:18px 28px}
header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;opacity:.85;font-size:13px}
main{padding:20px 28px;max-width:1280px}
section{background:#fff;border:1px solid var(--line);border-radius:8px;padding:16px 20px;margin:0 0 18px}
h2{font-size:17px;margin:0 0 12px}
.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{flex:1 1 150px;border:1px solid var(--line);border-radius:8px;padding:10px 14px;background:#fff}
.card .n{font-size:26px;font-weight:700}
.card .l{color:var(--mute);font-size:13px}
.card.ok .n{color:var(--ok)}.card.bad .n{color:var(--bad)}.card.warn .n{color:var(--warn)}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(440px,1fr));gap:18px}
figure{margin:0}
svg.chart{width:100%;height:auto;font-size:13px}
svg.chart text{fill:var(--ink)}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border-bottom:1px solid var(--line);padding:6px 8px;text-align:left;vertical-align:top}
th{background:#f1f3f4;position:sticky;top:0}
td.path,td.wrap{word-break:break-all}
.code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}
.search{padding:7px 10px;width:min(480px,100%);font-size:14px;border:1px solid var(--line);border-radius:6px}
.note{color:var(--mute);font-size:13px;margin:8px 0}
.due{color:var(--warn);font-weight:600}.expired,.revoked{color:var(--bad);font-weight:600}
"""

# Filtering keeps working offline and on a million-row page capped to N rows. Matching
# ignores case and Vietnamese diacritics ("nguyen" finds "Nguyễn"); "#q=..." in the address
# pre-fills the box, so a filtered view can be linked to or bookmarked.
_JS = """
(function(){
  function fold(s){return s.normalize('NFD').replace(/[\\u0300-\\u036f]/g,'').replace(/\\u0111/g,'d').replace(/\\u0110/g,'D').toLowerCase();}
  document.querySelectorAll('input.search').forEach(function(box){
    var table=document.getElementById(box.dataset.table), count=document.getElementById(box.dataset.count);
    var rows=Array.prototype.slice.call(table.tBodies[0].rows);
    var keys=rows.map(function(r){return fold(r.textContent);});
    function apply(){
      var q=fold(box.value.trim()), shown=0;
      rows.forEach(function(r,i){var hit=!q||keys[i].indexOf(q)>=0; r.hidden=!hit; if(hit){shown++;}});
      count.textContent=String(shown);
      table.dataset.visible=String(shown);
    }
    box.addEventListener('input',apply);
    var m=/[#&]q=([^&]*)/.exec(location.hash);
    if(m){box.value=decodeURIComponent(m[1].replace(/\\+/g,' '));}
    apply();
  });
})();
"""


def page(title: str, subtitle: str, lang: str, body: str) -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        # Nothing may be loaded from anywhere: the report is read offline and archived.
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n"
        f"<title>{text(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f"<header><h1>{text(title)}</h1><p>{text(subtitle)}</p></header>\n<main>\n{body}\n</main>\n"
        f"<script>{_JS}</script>\n</body>\n</html>\n"
    )


def cards(items: Iterable[tuple[str, str, int, str]]) -> str:
    """Number cards: (id, label, number, style ok|bad|warn|'')."""
    out = ['<div class="cards">']
    for ident, label, number, style in items:
        out.append(f'<div class="card {style}" id="{ident}"><div class="n">{number:,}</div>'
                   f'<div class="l">{text(label)}</div></div>')
    out.append("</div>")
    return "".join(out)


def bar_chart(ident: str, title: str, items: Sequence[tuple[str, int]], *, limit: int = 12,
              others: str = "Others", colors: Optional[Mapping[str, str]] = None) -> str:
    """A horizontal bar chart as inline SVG: the ``limit`` largest items, the rest summed
    into ``others``. Each bar carries its label and number as text, so the chart reads
    without colour and survives copy-paste."""
    ranked = sorted(items, key=lambda kv: (-kv[1], kv[0]))
    if len(ranked) > limit:
        rest = sum(v for _, v in ranked[limit - 1:])
        ranked = ranked[:limit - 1] + [(others, rest)]
    width, label_w, row_h = 600, 250, 26
    height = max(1, len(ranked)) * row_h + 10
    top = max([v for _, v in ranked] + [1])
    parts = [f'<figure><figcaption><h2>{text(title)}</h2></figcaption>'
             f'<svg class="chart" id="{ident}" role="img" aria-label="{text(title)}" '
             f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">']
    for i, (label, value) in enumerate(ranked):
        y = 5 + i * row_h
        w = 0 if top == 0 else max(2.0, (width - label_w - 70) * value / top)
        color = (colors or {}).get(label, "#1a73e8")
        short = label if len(label) <= 30 else label[:29] + "…"
        parts.append(
            f'<g class="bar"><title>{text(label)}: {value:,}</title>'
            f'<text x="{label_w - 8}" y="{y + 17}" text-anchor="end">{text(short)}</text>'
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row_h - 8}" rx="3" fill="{color}"/>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 17}" class="v">{value:,}</text></g>'
        )
    if not ranked:
        parts.append('<text x="10" y="20">—</text>')
    parts.append("</svg></figure>")
    return "".join(parts)


def column_chart(ident: str, title: str, items: Sequence[tuple[str, int]]) -> str:
    """Vertical bars in the given order (months), as inline SVG."""
    n = max(1, len(items))
    col = max(18, min(60, 540 // n))
    width = max(600, n * col + 60)
    height = 250
    top = max([v for _, v in items] + [1])
    parts = [f'<figure><figcaption><h2>{text(title)}</h2></figcaption>'
             f'<svg class="chart" id="{ident}" role="img" aria-label="{text(title)}" '
             f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
             f'<line x1="40" y1="190" x2="{width - 10}" y2="190" stroke="#dadce0"/>']
    for i, (label, value) in enumerate(items):
        h = 160 * value / top
        x = 50 + i * col
        parts.append(
            f'<g class="bar"><title>{text(label)}: {value:,}</title>'
            f'<rect x="{x}" y="{190 - h:.1f}" width="{col - 6}" height="{h:.1f}" rx="2" fill="#1a73e8"/>'
            f'<text x="{x + (col - 6) / 2:.1f}" y="{185 - h:.1f}" text-anchor="middle">{value:,}</text>'
            f'<text x="{x + (col - 6) / 2:.1f}" y="206" text-anchor="end" '
            f'transform="rotate(-40 {x + (col - 6) / 2:.1f} 206)">{text(label)}</text></g>'
        )
    if not items:
        parts.append('<text x="50" y="120">—</text>')
    parts.append("</svg></figure>")
    return "".join(parts)


def search_table(ident: str, title: str, headers: Sequence[str], rows: Iterable[Sequence[str]],
                 *, shown_n: int, total: int, placeholder: str, shown_label: str, matching: str,
                 classes: Optional[Sequence[str]] = None) -> str:
    """A table with a filter box; ``rows`` hold cells already escaped (use :func:`text`).
    ``shown_label`` is a format with ``{n}`` and ``{m}``: how many rows of how many the page
    holds (a capped page says so)."""
    cls = list(classes or [""] * len(headers))
    head = "".join(f"<th>{text(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f'<td class="{cls[i]}">{c}</td>' for i, c in enumerate(r)) + "</tr>" for r in rows
    )
    held = shown_label.format(n=f"{shown_n:,}", m=f"{total:,}")
    return (
        f'<section id="{ident}-section"><h2>{text(title)}</h2>'
        f'<input class="search" type="search" id="{ident}-search" data-table="{ident}" '
        f'data-count="{ident}-count" placeholder="{text(placeholder)}" aria-label="{text(placeholder)}"> '
        f'<span class="note">{text(matching)}: <span id="{ident}-count">{shown_n}</span> · <span id="{ident}-held">{held}</span></span>'
        f'<div style="overflow:auto;max-height:70vh"><table id="{ident}" data-visible="{shown_n}">'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div></section>"
    )


def write_page(path: str | os.PathLike[str], page_text: str) -> None:
    """Write beside the target, then rename: a half-written page never replaces a good one."""
    write_text_atomically(path, page_text)


def write_text_atomically(path: str | os.PathLike[str], text: str, *, encoding: str = "utf-8",
                          newline: Optional[str] = None) -> None:
    """``text`` into ``path`` through a temporary file only this process created (mkstemp:
    O_EXCL, a random name) in the same folder, then a rename. A predictable temporary name
    (``report.html.tmp<pid>``) lets whoever can write the folder plant a symbolic link there
    and have the report written onto a file of their choosing. The file gets the mode a
    plain open() would give it (0666 less the umask), not mkstemp's 0600."""
    target = os.fspath(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(target)}.", suffix=".tmp",
                               dir=os.path.dirname(target) or ".")
    try:
        with open(fd, "w", encoding=encoding, newline=newline) as f:
            f.write(text)
            mask = os.umask(0o077)
            os.umask(mask)
            os.fchmod(f.fileno(), 0o666 & ~mask)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise

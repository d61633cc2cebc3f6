"""Jinja2 templates to HTML, HTML to PDF with WeasyPrint, byte for byte reproducibly.

The same document for the same as-of date must give the same bytes, so that its SHA-256 proves
what it said. WeasyPrint 70 is deterministic once three inputs are fixed:

* the PDF dates: taken from ``<meta name="dcterms.created">`` (and ``modified``) in the HTML,
  which the templates fill with the document's as-of moment, never the time of rendering;
* the file identifier (``/ID``): ``pdf_identifier`` is set to the document's digest;
* the fonts: fontTools stamps the subset fonts' ``head.modified`` with the current time unless
  ``SOURCE_DATE_EPOCH`` is set, so it is set (to the as-of moment) while a PDF is written.
  Environment variables are process-wide, hence the lock: one PDF at a time per process, which
  is also what Pango is happiest with.

Fonts come from the system (fontconfig): DejaVu Serif Condensed for text and DejaVu Sans
(Condensed) for headings, tables and figures, which every Debian machine with fontconfig has.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import logging
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from django.conf import settings
from markupsafe import Markup, escape

TEMPLATE_DIR = Path(settings.BASE_DIR) / "templates" / "modelcards"
_pdf_lock = threading.Lock()
# fontTools reports every table it subsets at INFO; the documents need none of it.
logging.getLogger("fontTools").setLevel(logging.WARNING)
logging.getLogger("weasyprint").setLevel(logging.ERROR)


def css_string(value: Any) -> Markup:
    """A CSS string literal (for the running footer), safe whatever the model's name holds."""
    text = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3c ")
    text = re.sub(r"[\x00-\x09\x0b-\x1f\x7f]", " ", text).replace("\n", "\\A ")
    return Markup(f'"{text}"')


def number(value: Any, digits: int = 3) -> str:
    """A figure as a document prints it: thousands separated, ``n/a`` for none."""
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def percent(value: Any, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value * 100:.{digits}f}%"


def paragraphs(text: str) -> Markup:
    """Plain text with blank lines as paragraphs (escaped: narrative fields are user input)."""
    parts = [p.strip() for p in re.split(r"\n\s*\n", text or "") if p.strip()]
    return Markup("".join(f"<p>{escape(p)}</p>" for p in parts))


def utc(value: str | None) -> str:
    """A moment as tables print it, under a "(UTC)" header: without the zone's name."""
    return "—" if not value else str(value).removesuffix(" UTC")


def short_hash(value: str | None, length: int = 16) -> str:
    return "" if not value else f"{value[:length]}…"


@functools.cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        css_string=css_string,
        number=number,
        percent=percent,
        paragraphs=paragraphs,
        short_hash=short_hash,
        utc=utc,
    )
    return env


def font_subsetter() -> str:
    """Which library subsets the embedded fonts: HarfBuzz when ``libharfbuzz-subset`` is
    installed (``make install`` brings it; about a second faster per long document), else
    fontTools. They write different bytes, so the fingerprint names the one in use."""
    import ctypes
    import ctypes.util

    import fontTools
    from weasyprint.text.ffi import harfbuzz, harfbuzz_subset

    if not (harfbuzz_subset and harfbuzz.hb_version_atleast(4, 1, 0)):
        return f"fonttools {fontTools.version}"
    try:  # WeasyPrint's bindings leave out hb_version_string
        library = ctypes.CDLL(ctypes.util.find_library("harfbuzz") or "libharfbuzz.so.0")
        library.hb_version_string.restype = ctypes.c_char_p
        return f"harfbuzz-subset {library.hb_version_string().decode()}"
    except (OSError, AttributeError):
        return "harfbuzz-subset"


@functools.cache
def renderer_fingerprint() -> str:
    """SHA-256 of everything besides the data that decides a PDF's bytes: the templates, the
    WeasyPrint version and the font subsetter. Part of each document's digest, so a new template
    gives a new reference.
    """
    import weasyprint

    digest = hashlib.sha256(f"weasyprint {weasyprint.__version__}\n{font_subsetter()}\n".encode())
    for path in sorted(TEMPLATE_DIR.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(TEMPLATE_DIR).as_posix().encode() + b"\n")
            digest.update(path.read_bytes())
    return digest.hexdigest()


HEADING = re.compile(r'<h([23]) id="([^"]+)"[^>]*>(.*?)</h\1>', re.S)
TAG = re.compile(r"<[^>]+>")


def table_of_contents(html: str) -> Markup:
    """Entries for every numbered ``<h2 id>``/``<h3 id>``; WeasyPrint fills in the page numbers
    (``target-counter`` in the stylesheet)."""
    entries = []
    for level, anchor, inner in HEADING.findall(html):
        number = re.search(r'<span class="num">(.*?)</span>', inner)
        title = TAG.sub("", inner.replace(number.group(0), "") if number else inner).strip()
        entries.append(
            f'<li class="toc-{level}"><a href="#{anchor}">'
            f'<span class="toc-num">{number.group(1) if number else ""}</span>'
            f'<span class="toc-title">{title}</span></a></li>'
        )
    return Markup(f'<ol class="toc">{"".join(entries)}</ol>')


def render_html(template: str, context: dict[str, Any]) -> str:
    """Every document prints the log key's fingerprint (``macros.log_key``): the auditor compares
    it with the one obtained from the operator apart (``show_log_key``) before trusting a proof."""
    from audit.signing import key_id

    html = environment().get_template(template).render(log_key_fingerprint=key_id(), **context)
    return html.replace("<!--TOC-->", table_of_contents(html), 1)


@dataclass(frozen=True)
class RenderedPDF:
    content: bytes
    pages: int
    sha256: str


def pdf_moment(day: dt.date) -> dt.datetime:
    """The moment a document dated ``day`` is stamped with: midnight UTC at the start of it."""
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def write_pdf(html: str, *, identifier: str, moment: dt.datetime) -> RenderedPDF:
    """HTML to PDF bytes; the same ``html``, ``identifier`` and ``moment`` give the same bytes."""
    from weasyprint import HTML

    epoch = str(int(moment.timestamp()))
    with _pdf_lock:
        previous = os.environ.get("SOURCE_DATE_EPOCH")
        os.environ["SOURCE_DATE_EPOCH"] = epoch
        try:
            document = HTML(string=html, base_url=str(TEMPLATE_DIR)).render()
            content = document.write_pdf(pdf_identifier=identifier.encode("ascii"))
        finally:
            if previous is None:
                os.environ.pop("SOURCE_DATE_EPOCH", None)
            else:
                os.environ["SOURCE_DATE_EPOCH"] = previous
    return RenderedPDF(content, len(document.pages), hashlib.sha256(content).hexdigest())

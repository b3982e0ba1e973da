"""The certificate's fonts, read once per process rather than once per PDF.

Left to itself, fpdf2 parses a TrueType file each time a font is added to a document (its
character map, widths and glyph names: some 6,000 glyphs in each DejaVu face) and, when the
document is written, cuts that parsed font down to the glyphs used, in place. A certificate
uses six faces; doing both six times per PDF was most of its ~170 ms of CPU.

Here each face is parsed once (`Face`, kept for the life of the process). A document gets
font objects of its own that share the face's read-only tables (character map, widths) and
hold only what the document changes: which glyphs it used and its font descriptor. Just
before the document is written (`attach_outlines`), each font is given the outlines to cut
its subset from: a *template* — the face already cut to the characters certificates are
written in (Latin scripts, punctuation, ™), glyph names kept — which holds a twentieth of the
glyphs and so parses in a twentieth of the time. Cutting a subset from the template gives the
same bytes as cutting it from the whole face (tests/server/test_certificate_fonts.py compares
whole PDFs); a document that uses a glyph the template lacks (a name in Greek, say) is cut
from the whole face, as fpdf2 would. The subset embedded in each PDF is unchanged.

Threads: faces are prepared once under a lock; afterwards they are only read (fpdf2 may add a
default width to the shared widths table for a character the face lacks: the same value
whichever thread adds it), so PDFs may be rendered on several threads at once.
"""

from __future__ import annotations

import copy
import io
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from fontTools import subset as ftsubset
from fontTools import ttLib
from fpdf import FPDF
from fpdf.fonts import SubsetMap, TTFFont

# DejaVu (Debian's fonts-dejavu-core, which fontconfig pulls in) has serif, sans, bold and
# italic, and covers names in most scripts. Elsewhere one Unicode font serves every style;
# failing that, the PDF core fonts, which hold Latin-1 only (other characters transliterated).
_DEJAVU_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu", "/usr/share/fonts/TTF")
_DEJAVU = {("serif", ""): "DejaVuSerif.ttf", ("serif", "B"): "DejaVuSerif-Bold.ttf",
           ("serif", "I"): "DejaVuSerif-Italic.ttf", ("sans", ""): "DejaVuSans.ttf",
           ("sans", "B"): "DejaVuSans-Bold.ttf", ("sans", "I"): "DejaVuSans-Oblique.ttf"}
_SINGLE_FONTS = ("/Library/Fonts/Arial Unicode.ttf", "C:/Windows/Fonts/arial.ttf")


@lru_cache(maxsize=1)
def font_files() -> dict[tuple[str, str], str]:
    """(family, style) -> font file; empty: use the core fonts."""
    for folder in _DEJAVU_DIRS:
        files = {key: str(Path(folder) / name) for key, name in _DEJAVU.items()}
        if all(Path(f).is_file() for f in files.values()):
            return files
    for single in _SINGLE_FONTS:
        if Path(single).is_file():
            return {key: single for key in _DEJAVU}
    return {}


_LATIN1_SWAPS = {"\u2122": "(TM)", "\u2013": "-", "\u2014": "-", "\u2018": "'", "\u2019": "'",
                 "\u201c": '"', "\u201d": '"', "\u2026": "...", "\u00a0": " ", "\u0141": "L", "\u0142": "l",
                 "\u0110": "D", "\u0111": "d", "\u0152": "OE", "\u0153": "oe", "\u0131": "i"}


def latin1(text: str) -> str:
    out = []
    for ch in text:
        ch = _LATIN1_SWAPS.get(ch, ch)
        try:
            ch.encode("latin-1")
            out.append(ch)
        except UnicodeEncodeError:
            base = unicodedata.normalize("NFKD", ch).encode("latin-1", "ignore").decode("latin-1")
            out.append(base or "?")
    return "".join(out)


# ---------------------------------------------------------------- faces parsed once

# The characters the template keeps: ASCII, Latin-1, Latin Extended-A (most European names),
# the Romanian comma-below letters, general punctuation (dashes, quotes, the middle dot the
# certificate uses as a separator), the euro and ™.
TEMPLATE_CHARACTERS = frozenset(
    [*range(0x20, 0x7F), *range(0xA0, 0x180), *range(0x218, 0x21C), *range(0x2010, 0x203B), 0x20AC, 0x2122])

# fpdf2's own subsetting options (fpdf/output.py, `_add_fonts`): the template must keep every
# table the final cut keeps, or the two cuts would differ. Its glyph names are kept so the
# final cut, which finds glyphs by name, finds the same ones.
_FPDF_DROPPED_TABLES = ["FFTM", "GDEF", "GPOS", "GSUB", "MATH", "hdmx", "meta", "sbix", "CBDT", "CBLC",
                        "EBDT", "EBLC", "EBSC", "SVG ", "CPAL", "COLR"]


@dataclass(frozen=True)
class Face:
    """One font file in one style, parsed: `metrics` is fpdf2's font object, never written
    out itself (a document gets a copy); `template` the face cut to TEMPLATE_CHARACTERS;
    `in_template` the names of the glyphs it was cut to, every character that maps to one of
    them kept (so a final cut from the template maps the same characters as one from the file)."""

    path: str
    metrics: TTFFont
    template: bytes
    in_template: frozenset[str]


def _prepare(path: str, family: str, style: str) -> Face:
    metrics = TTFFont(FPDF(), Path(path), f"{family}{style}", style)
    # The outlines are read again per document; metrics keeps only the maps and widths.
    # (The fonts used here all have a .notdef glyph, which fpdf2 would otherwise draw into
    # this parsed copy only.)
    metrics.ttfont.close()
    metrics.ttfont = None
    names = {metrics.cmap[c] for c in TEMPLATE_CHARACTERS if c in metrics.cmap} | {".notdef"}
    face = ttLib.TTFont(path, recalcTimestamp=False, lazy=True)
    options = ftsubset.Options(notdef_outline=True, recommended_glyphs=True, glyph_names=True)
    options.drop_tables += _FPDF_DROPPED_TABLES
    cutter = ftsubset.Subsetter(options)
    cutter.populate(glyphs=sorted(names))
    cutter.subset(face)
    out = io.BytesIO()
    face.save(out)
    face.close()
    return Face(path, metrics, out.getvalue(), frozenset(names))


_preparing = threading.Lock()
_faces: dict[tuple[str, str], Face] = {}


def add_fonts(pdf: FPDF) -> dict[str, Face]:
    """Add the certificate's fonts to `pdf` as families "serif" and "sans" (styles "", "B",
    "I"); returns their faces by fpdf2's font key, for `attach_outlines` (empty when no
    Unicode font is installed: the caller uses the core fonts)."""
    files = font_files()
    with _preparing:
        for (family, style), path in files.items():
            if (family, style) not in _faces:
                _faces[family, style] = _prepare(path, family, style)
        faces = {_faces[key].metrics.fontkey: _faces[key] for key in files}
    for face in faces.values():
        font = copy.copy(face.metrics)  # shares the character map and widths, read only
        font.i = len(pdf.fonts) + 1
        font.desc = copy.copy(face.metrics.desc)  # fpdf2 names and numbers it when writing
        font.subset = SubsetMap(font)
        font.missing_glyphs = []
        font.biggest_size_pt = 0
        pdf.fonts[font.fontkey] = font
    return faces


def attach_outlines(pdf: FPDF, faces: dict[str, Face]) -> None:
    """Just before `pdf.output()`: give each font `add_fonts` added the outlines fpdf2 cuts
    its subset from (and then closes): the face's template when it holds every glyph the
    document used, else the font file."""
    for key, face in faces.items():
        font = pdf.fonts[key]
        used = set(font.subset.get_all_glyph_names())
        source = io.BytesIO(face.template) if used <= face.in_template else face.path
        font.ttfont = ttLib.TTFont(source, recalcTimestamp=False, lazy=True)

"""Key clinical summaries as safe HTML fragments for offline display (QTextBrowser).

Summaries arrive as Markdown or HTML from the credit server (or a content pack someone
copied in), so they are untrusted. Markdown is rendered with markdown-it-py; then every
summary, Markdown-born or not, goes through nh3 with an explicit allow-list:

- kept: headings, paragraphs, lists, tables, b/i/em/strong, sup/sub, code/pre,
  blockquote, br, hr, and links whose href is http, https or mailto (relative links and
  `javascript:` are dropped; links get rel="noopener noreferrer");
- dropped with their content: script, style, iframe, object, embed, svg, math, forms;
- dropped entirely: **img** — a remote src would reach the network (and tell a tracker the
  learner opened it), and a `file:` src reads local files. Summaries are text; a data:
  URI allow-list would be possible but is not worth the extra surface today;
- no attributes at all except href on links and colspan/rowspan/start for tables and
  lists: so no style, class, id or event handlers (onerror=, onclick=…).

A summary usually opens with its own title (`# Key clinical summary: …`), which is also
the title the catalog gives it. The Summaries tab heads each summary with one title, so
`split_title` takes that opening heading out of the sanitised HTML: the learner (and a
screen reader's list of headings) meets every title once. The summary's own words win
over the catalog's (they may say more, e.g. "(fictional)"); only a summary with no
opening title of its own is headed with the catalog's.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

import nh3
from markdown_it import MarkdownIt

from desktop.errors import SummaryError

MARKDOWN_TYPES = frozenset({"text/markdown", "text/x-markdown"})
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
PLAIN_TYPES = frozenset({"text/plain"})

ALLOWED_TAGS = frozenset({
    "h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "hr", "blockquote",
    "ul", "ol", "li", "dl", "dt", "dd",
    "table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td",
    "b", "i", "em", "strong", "sup", "sub", "code", "pre", "a",
})
ALLOWED_ATTRIBUTES = {
    "a": {"href"},
    "th": {"colspan", "rowspan"},
    "td": {"colspan", "rowspan"},
    "ol": {"start"},
}
ALLOWED_LINK_SCHEMES = frozenset({"http", "https", "mailto"})
# Removed together with everything inside them (the rest are unwrapped, text kept).
DROPPED_WITH_CONTENT = frozenset({
    "script", "style", "iframe", "object", "embed", "svg", "math", "template",
    "noscript", "form", "textarea", "select", "button",
})


def render_summary(data: bytes, media_type: str) -> str:
    """An HTML fragment safe to hand to QTextBrowser.setHtml."""
    kind = media_type.split(";", 1)[0].strip().lower()
    # Summaries are shown, not validated: a stray bad byte becomes U+FFFD, not an error.
    text = data.decode("utf-8-sig", errors="replace")
    if kind in MARKDOWN_TYPES:
        raw_html = markdown_to_html(text)
    elif kind in HTML_TYPES:
        raw_html = text
    elif kind in PLAIN_TYPES:
        raw_html = _plain_to_html(text)
    else:
        raise SummaryError(f"cannot display a summary of type {media_type!r}")
    return sanitise_html(raw_html)


def markdown_to_html(text: str) -> str:
    # CommonMark plus tables (summaries are full of them). Inline HTML is allowed here
    # because the sanitiser below, not the Markdown renderer, is the security boundary.
    md = MarkdownIt("commonmark", {"html": True}).enable("table")
    return md.render(text)


def sanitise_html(fragment: str) -> str:
    return nh3.clean(
        fragment,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        attribute_filter=_filter_attribute,
        url_schemes=set(ALLOWED_LINK_SCHEMES),
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


# The sanitiser's output: a heading has no attributes and cannot hold another heading.
_OPENING_TITLE = re.compile(r"\A\s*<h1>(.*?)</h1>\s*", re.DOTALL)
_TAG = re.compile(r"<[^>]*>")


def split_title(fragment: str) -> tuple[str | None, str]:
    """(its own title as plain text, the rest) for a sanitised summary that opens with its one
    level-1 heading; (None, the fragment untouched) for one that does not. A summary with
    several level-1 headings uses them for its sections, so none of them is its title."""
    opening = _OPENING_TITLE.match(fragment)
    if opening is None or "<h1>" in fragment[opening.end():]:
        return None, fragment
    title = " ".join(html.unescape(_TAG.sub("", opening.group(1))).split())
    return (title, fragment[opening.end():]) if title else (None, fragment)


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "href":
        # Only absolute http(s)/mailto: a relative link would make QTextBrowser try to
        # open a local file; javascript:/data:/file: have no business in a summary.
        scheme = urlsplit(value.strip()).scheme.lower()
        return value if scheme in ALLOWED_LINK_SCHEMES else None
    if attribute in {"colspan", "rowspan", "start"}:
        return value if value.strip().isdigit() else None
    return value


def _plain_to_html(text: str) -> str:
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    return "".join(
        "<p>" + html.escape(p).replace("\n", "<br>") + "</p>" for p in paragraphs
    )

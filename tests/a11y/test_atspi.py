"""The app read as a Linux screen reader reads it: through AT-SPI, not through Qt.

A private D-Bus session (dbus-daemon) with the accessibility bus (at-spi-bus-launcher, which
starts at-spi2-registryd on demand), Xvfb, and the demo app on the xcb platform with Qt's
AT-SPI bridge on (tests/a11y/driver.py). For each page the driver shows, Debian's python3 +
pyatspi dumps the app's accessible tree (tests/a11y/atspi_dump.py), and the tree must have:
a name on every focusable node, each label's visible text readable, headings, the playing
transcript cue selected, the locked tabs not enabled, at most one node focused. Besides
the pages: the search popup with results, the sign-in and welcome dialogs, and status
changes (a claim delivered, the server gone) heard as announcements (atspi_events.py).

Needs the Debian packages at-spi2-core, python3-pyatspi, dbus-daemon and xvfb
(packaging/system-packages test installs them).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.session_bus import read_line, session_bus, stop
from tests.support.xserver import xvfb

pytestmark = pytest.mark.gui
ROOT = Path(__file__).resolve().parents[2]
BUS_LAUNCHER = "/usr/libexec/at-spi-bus-launcher"
SYSTEM_PYTHON = "/usr/bin/python3"
PAGES = ("library", "downloads", "overview", "watch", "summaries", "watch-audio", "assessment", "credits", "settings",
         "search", "sign-in", "welcome", "video-quality", "delivered", "offline")
READY_S = 120  # the demo's server start, sign-in, sync and download come first
DUMP_S = 60


def _missing_tools() -> list[str]:
    missing = [tool for tool in ("dbus-daemon", "Xvfb") if shutil.which(tool) is None]
    if not Path(BUS_LAUNCHER).exists():
        missing.append(BUS_LAUNCHER)
    if subprocess.run([SYSTEM_PYTHON, "-c", "import pyatspi"], capture_output=True).returncode != 0:
        missing.append("python3-pyatspi")
    return missing


def _wait_for(condition, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not so within {timeout_s} s")
        time.sleep(0.1)  # another process (the AT-SPI listener), not Qt: nothing to pump


@pytest.fixture(scope="module")
def trees(tmp_path_factory) -> dict[str, dict]:
    """Every page's accessible tree, as pyatspi reads it from the running app."""
    missing = _missing_tools()
    if missing:
        raise AssertionError(f"missing {missing}: run packaging/system-packages test")
    tmp = tmp_path_factory.mktemp("atspi")
    out = ROOT / "build" / "a11y"  # each page's tree and label texts, kept to look at after a failure
    out.mkdir(parents=True, exist_ok=True)
    launcher = app = listener = None
    dumped: dict[str, dict] = {}
    heard_path = tmp / "events.jsonl"  # a file, not a pipe: a full pipe would stall the listener
    with (xvfb() as display, session_bus() as address, open(tmp / "app.log", "w") as app_log,
          open(heard_path, "w") as heard_file):
        try:
            env = {**os.environ, "DISPLAY": display, "DBUS_SESSION_BUS_ADDRESS": address,
                   "XDG_RUNTIME_DIR": str(tmp), "NO_AT_BRIDGE": "0"}
            launcher = subprocess.Popen([BUS_LAUNCHER, "--launch-immediately"], env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            app_env = {**env, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "xcb", "QT_ACCESSIBILITY": "1",
                       "QT_LINUX_ACCESSIBILITY_ALWAYS_ON": "1", "HOME": str(tmp), "A11Y_OUT": str(out),
                       "CME_OFFLINE_VLC_ARGS": "--vout=dummy --aout=dummy"}
            app = subprocess.Popen([sys.executable, "-m", "tests.a11y.driver"], cwd=ROOT, env=app_env,
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=app_log, text=True)
            for page in PAGES:
                line = read_line(app, READY_S)
                assert line == f"ready {page}", (line, (tmp / "app.log").read_text()[-3000:])
                if listener is None:  # the app is on the bus: hear its events from now on
                    listener = subprocess.Popen([SYSTEM_PYTHON, str(ROOT / "tests/a11y/atspi_events.py")], env=env,
                                                stdout=heard_file, stderr=subprocess.DEVNULL)
                    _wait_for(lambda: "listening" in heard_path.read_text(), DUMP_S)
                done = subprocess.run([SYSTEM_PYTHON, str(ROOT / "tests/a11y/atspi_dump.py"), str(app.pid)],
                                      env=env, capture_output=True, text=True, timeout=DUMP_S)
                tree = json.loads(done.stdout or "{}")
                assert "error" not in tree and tree, (page, done.stdout[-500:], done.stderr[-2000:])
                tree["labels_shown"] = json.loads((out / f"{page}.labels.json").read_text())
                dumped[page] = tree
                (out / f"{page}.json").write_text(json.dumps(tree, indent=1))
                app.stdin.write("next\n")
                app.stdin.flush()
            assert read_line(app, READY_S) == "done"
            app.stdin.write("quit\n")
            app.stdin.flush()
            app.wait(timeout=30)
        finally:
            stop(listener)
            heard = [json.loads(line) for line in heard_path.read_text().splitlines() if line.strip()]
            dumped["events"] = heard
            (out / "events.json").write_text(json.dumps(heard, indent=1))
            stop(app)
            stop(launcher)
    return dumped


def walk(node: dict, showing_only: bool = True):
    """Every node on screen (a hidden node's subtree is not read by a screen reader either)."""
    if showing_only and "showing" not in node.get("states", ()) and node.get("role") != "application":
        return
    yield node
    for child in node.get("children", ()):
        yield from walk(child, showing_only)


def describe(node: dict) -> str:
    return f"{node['role']} name={node['name']!r} desc={node['description']!r} text={node.get('text')!r}"


@pytest.mark.parametrize("page", PAGES)
def test_every_focusable_node_has_a_name(trees, page):
    nameless = [describe(n) for n in walk(trees[page]) if "focusable" in n["states"] and not n["name"].strip()]
    assert not nameless, nameless


def _words(text: str) -> str:
    """The text's words; a relative time ("last synced just now" / "1 min ago") is masked, as
    the clock may tick over between the page's labels being listed and its tree being read."""
    return re.sub(r"last synced [^·]*", "last synced …", " ".join(text.split()))


@pytest.mark.parametrize("page", PAGES)
def test_every_label_is_read_by_its_text(trees, page):
    """What each label on screen shows (as Qt has it) is what AT-SPI reads: a node's name or
    text, not only its purpose ("Description" instead of the description)."""
    readable = [_words(n["name"]) + "\n" + _words(n.get("text", "")) for n in walk(trees[page])]
    shown = trees[page]["labels_shown"]["labels"]
    assert shown, "no label text on the page"
    unread = [text for text in shown if not any(_words(text) in r for r in readable)]
    assert not unread, unread


BUTTON_ROLES = ("push button", "toggle button", "check box", "radio button", "page tab", "combo box")


@pytest.mark.parametrize("page", PAGES)
def test_every_button_is_named_with_its_visible_text(trees, page):
    """A screen reader user hears the words on the button (e.g. not "Learners on this computer"
    for "Switch learner"), so they can say them to voice control and to a colleague."""
    names = [_spoken(n["name"]) for n in walk(trees[page]) if n["role"] in BUTTON_ROLES]
    shown = [text for text in trees[page]["labels_shown"]["buttons"] if _spoken(text)]  # "‹", "⟳": icons
    unnamed = [text for text in shown if not any(_spoken(text) in name for name in names)]
    assert not unnamed, (unnamed, names)


def _spoken(text: str) -> str:
    """The words of a text, as a speech engine says them (symbols and punctuation dropped)."""
    return " ".join(re.findall(r"\w+", text.lower()))


@pytest.mark.parametrize("page", PAGES)
def test_no_label_on_screen_reads_as_nothing(trees, page):
    silent = [describe(n) for n in walk(trees[page])
              if n["role"] in ("label", "heading") and not (n["name"].strip() or n.get("text", "").strip())]
    assert not silent, silent


@pytest.mark.parametrize("page", PAGES)
def test_one_node_has_the_focus(trees, page):
    """The window is active (the driver focuses it): exactly one node says it has the focus."""
    focused = [describe(n) for n in walk(trees[page]) if "focused" in n["states"]]
    assert len(focused) == 1, focused


@pytest.mark.parametrize("page", ("downloads", "overview", "watch", "assessment", "credits", "settings"))
def test_pages_have_headings(trees, page):
    headings = [n["name"] for n in walk(trees[page]) if n["role"] == "heading"]
    assert headings and all(h.strip() for h in headings), headings


def test_the_overview_section_titles_are_headings(trees):
    headings = {n["name"] for n in walk(trees["overview"]) if n["role"] == "heading"}
    titles = {"Highlights", "Faculty", "Accreditation", "Commercial support", "Learning objectives",
              "Disclosures", "Files"}
    assert titles <= headings, titles - headings
    labels = {n["name"] for n in walk(trees["overview"]) if n["role"] == "label"}
    assert not titles & labels, titles & labels


def test_each_summary_title_is_read_once(trees):
    # The tab's one text (its summaries, rich text) read through AT-SPI: each summary's own
    # "# Title" heads it, so no title is heard twice.
    texts = [n["text"] for n in walk(trees["summaries"]) if n["name"] == "Key clinical summaries" and n.get("text")]
    assert len(texts) == 1, texts
    titles = ("Key clinical summary: measuring blood pressure at home",
              "Key clinical summary: what the (fictional) PATINA trial illustrates")
    assert [texts[0].count(title) for title in titles] == [1, 1], texts[0][:400]


def test_the_locked_tabs_are_not_enabled(trees):
    tabs = [n for n in walk(trees["overview"]) if n["role"] == "page tab"]
    names = [t["name"] for t in tabs]
    assert "Overview" in names and len(tabs) >= 4, names
    for tab in tabs:
        enabled = "enabled" in tab["states"] or "sensitive" in tab["states"]
        assert enabled == (tab["name"] == "Overview"), describe(tab) + str(tab["states"])


def test_the_playing_cue_is_the_selected_item(trees):
    lists = [n for n in walk(trees["watch"]) if n["role"] in ("list", "list box")
             and any("now playing" in c["name"] or "now playing" in c["description"] for c in n["children"])]
    assert lists, "no list whose item says it is now playing"
    cues = lists[0]["children"]
    playing = [c for c in cues if "now playing" in c["name"] or "now playing" in c["description"]]
    selected = [c for c in cues if "selected" in c["states"]]
    assert len(playing) == 1 and selected == playing, ([describe(c) for c in playing],
                                                       [describe(c) for c in selected])


def test_the_cue_now_playing_is_heard_as_selected(trees):
    """As the video plays, each new current cue is announced as selected (not only renamed)."""
    selected = [e for e in trees["events"] if e["type"] == "object:state-changed:selected" and e["detail1"] == 1
                and e["role"] == "list item" and "now playing" in e["name"]]
    assert selected, [e for e in trees["events"] if "selected" in e["type"] or "selection" in e["type"]][:20]


def test_unlocking_the_post_test_is_announced(trees):
    said = [e["data"] for e in trees["events"] if e["type"] == "object:announcement"]
    assert any("post-test is unlocked" in text for text in said), said


def _announced(trees) -> list[str]:
    return [e["data"] for e in trees["events"] if e["type"] == "object:announcement"]


@pytest.mark.parametrize(("page", "title"), [("sign-in", "Sign in"), ("welcome", "Welcome"),
                                             ("video-quality", "Change video quality")])
def test_the_dialogs_are_named_and_hold_the_focus(trees, page, title):
    """A dialog is read by its name when it opens, and the keyboard is in it (not in the
    window behind, whose library table must not claim the focus too)."""
    dialogs = [n for n in walk(trees[page]) if n["role"] == "dialog"]
    assert [d["name"] for d in dialogs] == [title], [describe(d) for d in dialogs]
    focused = [n for n in walk(dialogs[0]) if "focused" in n["states"]]
    assert len(focused) == 1 and "focusable" in focused[0]["states"], [describe(n) for n in focused]


def test_the_search_results_are_read_while_the_cursor_stays_in_the_field(trees):
    nodes = list(walk(trees["search"]))
    focused = [n for n in nodes if "focused" in n["states"]]
    assert [(n["role"], n["name"]) for n in focused] == [("text", "Search")], [describe(n) for n in focused]
    results = [n for n in nodes if n["name"] == "Search results" and n["children"]]
    assert results, "no results list on the AT-SPI tree"
    items = [n for n in walk(results[-1]) if n["role"] in ("table cell", "list item", "tree item")]
    assert items and all(i["name"].strip() for i in items), [describe(i) for i in items]
    assert any("PATINA Trial" in i["name"] for i in items)  # the activity's whole title, not "…"
    highlighted = [i for i in items if "selected" in i["states"]]
    assert len(highlighted) == 1 and "blood" in highlighted[0]["name"].lower(), [describe(i) for i in highlighted]
    # The popup never takes the focus: its count is spoken, and the result Down moves to.
    said = _announced(trees)
    assert any(re.fullmatch(r"\d+ results? in 1 activity", text) for text in said), said
    # Title hits come first and are highlighted; Down moves to the next one (the summary): it is said.
    assert any(text.startswith("Summary: Key clinical summary") for text in said), said


def test_a_delivered_claim_is_announced(trees):
    said = _announced(trees)
    assert "1 claim accepted; the certificate is in My credits." in said, said
    status = [n["name"] for n in walk(trees["delivered"]) if n["role"] == "label" and n["name"].startswith("● Online")]
    assert status and "waiting" not in status[0], status


def test_going_offline_is_announced_and_read_in_the_status_bar(trees):
    said = _announced(trees)
    assert any("not reachable" in text.lower() for text in said), said
    bar = [n for n in walk(trees["offline"]) if n["role"] == "status bar"]
    texts = [n["name"] for n in walk(bar[0]) if n["role"] == "label"]
    assert any(t.startswith("○ Offline") for t in texts) and any("not reachable" in t.lower() for t in texts), texts

"""Fuzzing machine policy: the TOML file, the macOS managed-preferences plist, and the CA
bundle a policy names. Whatever they hold, `load_policy` returns (never raises), logs at
most one line, keeps only values its own model accepts, and a client can be built with the
CA bundle it kept (issue 11, item 5)."""

from __future__ import annotations

import functools

import logging
import plistlib
from datetime import datetime

from hypothesis import given
from hypothesis import strategies as st

from desktop.policy import KEYS, _model, load_policy
from desktop.policy_sources import MACOS_BUNDLE_ID
from desktop.sync.http import tls_context
from tests.fuzz.settings import FUZZ
from tests.support.certificates import ca_pem

_names = st.sampled_from(KEYS) | st.text(min_size=1, max_size=12)
_atoms = (st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40)
          | st.sampled_from(["https://cme.example.org", "http://cme.example.org", "http://127.0.0.1:1",
                             "https://u:p@h.example", "socks5://p:1", "19:00-07:00", "25:00-1", "~/x", "\x00",
                             "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "/nonexistent/ca.pem"]))
_values = st.recursive(_atoms, lambda inner: st.lists(inner, max_size=3)
                       | st.dictionaries(st.text(min_size=1, max_size=5), inner, max_size=3), max_leaves=12)


def _toml_value(value) -> str:
    """`value` written as TOML (None becomes an empty array, as TOML has no null)."""
    if value is None:
        return "[]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return "nan" if value != value else repr(value)
    if isinstance(value, str):
        return '"' + "".join(c if c.isprintable() and c not in '"\\' else f"\\u{ord(c):04x}" for c in value) + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{_toml_value(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"


@st.composite
def policy_files(draw) -> bytes:
    kind = draw(st.sampled_from(["toml", "toml", "mutated", "bytes", "nested"]))
    if kind == "bytes":
        return draw(st.binary(max_size=2000))
    if kind == "nested":
        depth = draw(st.integers(1, 3000))
        return f"{draw(st.sampled_from(KEYS))} = {'[' * depth}{']' * depth}\n".encode()
    entries = draw(st.dictionaries(_names, _values, max_size=6))
    text = "".join(f"{_toml_value(k)} = {_toml_value(v)}\n" for k, v in entries.items())
    data = text.encode("utf-8")
    if kind == "mutated" and data:
        i = draw(st.integers(0, len(data) - 1))
        data = data[:i] + draw(st.binary(min_size=1, max_size=4)) + data[i + 1:]
    return data


class _PolicyLines(logging.Handler):
    """The desktop.policy log lines (warning and up) while loading (caplog is per test, not per example)."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _load(*args, **kwargs):
    handler = _PolicyLines()
    logger = logging.getLogger("desktop.policy")
    logger.addHandler(handler)
    try:
        return load_policy(*args, **kwargs), handler.records
    finally:
        logger.removeHandler(handler)


def _check(policy, lines) -> None:
    assert len(lines) <= 1
    assert bool(lines) == bool(policy.problems)
    assert all(isinstance(p, str) for p in policy.problems)
    assert not any("the machine policy could not be read" in p for p in policy.problems), policy.problems  # no net needed
    assert set(policy.values) <= set(KEYS) and set(policy.values) == set(policy.sources)
    _model().model_validate(policy.values)  # every value kept is one the model accepts
    if policy.get("extra_ca_bundle"):
        tls_context(policy.get("extra_ca_bundle"))
    policy.storage_dir(), policy.download_window()


@FUZZ
@given(data=policy_files())
def test_any_policy_file_is_read_without_raising(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "policy.toml"
    path.write_bytes(data)
    _check(*_load(path, registry={}, managed_preferences=path.parent))


_plist_atoms = (st.booleans() | st.integers(-2**63, 2**63 - 1) | st.floats(allow_nan=False) | st.text(max_size=30)
                | st.binary(max_size=8) | st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1)))
_plist_values = st.recursive(_plist_atoms, lambda inner: st.lists(inner, max_size=3)
                             | st.dictionaries(st.text(min_size=1, max_size=5), inner, max_size=3), max_leaves=10)


@st.composite
def managed_preferences(draw) -> bytes:
    kind = draw(st.sampled_from(["xml", "binary", "bytes", "mutated"]))
    if kind == "bytes":
        return draw(st.binary(max_size=2000))
    doc = draw(st.dictionaries(_names.map(lambda k: k.title().replace("_", "") if draw(st.booleans()) else k),
                               _plist_values, max_size=6))
    try:
        data = plistlib.dumps(doc, fmt=plistlib.FMT_BINARY if kind == "binary" else plistlib.FMT_XML)
    except ValueError:  # XML cannot hold control characters: the binary form can
        data = plistlib.dumps(doc, fmt=plistlib.FMT_BINARY)
    if kind == "mutated":
        i = draw(st.integers(0, len(data) - 1))
        data = data[:i] + draw(st.binary(min_size=1, max_size=4)) + data[i + 1:]
    return data


@FUZZ
@given(data=managed_preferences())
def test_any_managed_preferences_plist_is_read_without_raising(tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("managed")
    (folder / f"{MACOS_BUNDLE_ID}.plist").write_bytes(data)
    _check(*_load(folder / "absent.toml", registry={}, managed_preferences=folder))


@functools.cache
def _one_ca_pem() -> bytes:
    return ca_pem()


@st.composite
def ca_bundles(draw) -> bytes:
    good = _one_ca_pem()  # the same certificate every time: hypothesis replays its draws
    kind = draw(st.sampled_from(["bytes", "mutated", "cut", "two", "text"]))
    if kind == "bytes":
        return draw(st.binary(max_size=3000))
    if kind == "text":
        return draw(st.text(max_size=500)).encode("utf-8", "surrogatepass")
    if kind == "two":
        return good + draw(st.binary(max_size=50)) + good
    i = draw(st.integers(0, len(good) - 1))
    if kind == "cut":
        return good[:i]
    return good[:i] + draw(st.binary(min_size=1, max_size=3)) + good[i + 1:]


@FUZZ
@given(data=ca_bundles())
def test_any_ca_bundle_the_policy_names_is_used_or_reported(tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("ca")
    (folder / "ca.pem").write_bytes(data)
    (folder / "policy.toml").write_text(f'extra_ca_bundle = "{folder / "ca.pem"}"\n')
    policy, lines = _load(folder / "policy.toml", registry={}, managed_preferences=folder)
    _check(policy, lines)
    assert policy.is_set("extra_ca_bundle") != bool(policy.problems)

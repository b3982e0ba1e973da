"""Fuzzing the credit server's every endpoint over loopback: arbitrary JSON, strings (lone
surrogates, thousands of digits), dates out of range and numbers out of any column's
range, in bodies, paths, query strings and headers (Range, If-Range, If-None-Match).

Whatever comes in, the server answers with a status below 500: a refusal names what was
wrong, and nothing makes it fail. Sign-in attempts are throttled on the way, so some
answers are 429; that is an answer too."""

from __future__ import annotations

import copy
import json
from urllib.parse import quote

import httpx
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.settings import FUZZ
from tests.server.conftest import CREDIT_ACTIVITY, bearer, client_for, credit_test_folder, sign_in
from tests.server.credit_support import completion

NASTY_TEXT = ["", "\ud800", "a\udfffb", "9" * 5000, "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00",
              "NaN", "-1", "1e400", "../../etc/passwd", "\x00", "ｄｅｍｏ", "demo ", "0" * 64, "bytes=0-"]
texts = st.text(max_size=40) | st.sampled_from(NASTY_TEXT) | st.text(st.characters(min_codepoint=0xD7F0, max_codepoint=0xE010), max_size=5)
numbers = (st.integers(-2**80, 2**80) | st.floats(allow_nan=True, allow_infinity=True)
           | st.sampled_from([0, -1, 2**63, 2**64, 10**300]))
dates = st.datetimes().map(lambda d: d.isoformat()) | st.sampled_from(
    ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "2026-02-30T00:00:00Z", "2026-01-01"])
scalars = st.none() | st.booleans() | numbers | texts | dates
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4), max_leaves=12
)
header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=60) | st.sampled_from(
    ["bytes=" + "9" * 5000 + "-", "bytes=-" + "9" * 5000, "bytes=0-" + "9" * 5000, "bytes=5-1", "bytes=0-1,2-3",
     "bytes=--", "items=0-1", "bytes=" + "1" * 19 + "-"])


def _q(value, safe: str = "") -> str:
    """Percent-encoded, lone surrogates included (as the invalid UTF-8 they would be)."""
    return quote(str(value).encode("utf-8", "surrogatepass"), safe=safe)


def _body(value) -> bytes:
    return json.dumps(value, allow_nan=True).encode()


@st.composite
def completions_bodies(draw) -> bytes:
    """A batch: arbitrary JSON, or valid items with one place set to junk."""
    if draw(st.booleans()):
        return _body(draw(json_values) if draw(st.booleans()) else {"completions": draw(json_values)})
    items = [completion(CREDIT_ACTIVITY) for _ in range(draw(st.integers(1, 3)))]
    for item in items:
        if draw(st.booleans()):  # one place inside the claim or the first attempt
            where = item["claim"] if draw(st.booleans()) else item["attempts"][0]
            where[draw(st.sampled_from(sorted(where)))] = draw(scalars)
        if draw(st.booleans()):  # one top-level field
            item[draw(st.sampled_from(sorted(item)))] = draw(json_values)
    return _body({"completions": copy.deepcopy(items)})


@st.composite
def requests(draw, media_path: str) -> tuple[str, str, dict, bytes | None, bool]:
    """(method, path, headers, body, signed in)."""
    kind = draw(st.sampled_from(["token", "token", "refresh", "revoke", "catalog", "signed", "media", "media",
                                 "completions", "completions", "certificate", "me", "path"]))
    signed = draw(st.booleans()) if kind not in ("media", "completions") else draw(st.sampled_from([True, True, False]))
    if kind == "token":
        doc = draw(json_values) if draw(st.booleans()) else {
            "username": draw(texts), "password": draw(texts), "device_name": draw(texts | numbers)}
        return "POST", "/auth/token", {}, _body(doc), False
    if kind in ("refresh", "revoke"):
        doc = draw(json_values) if draw(st.booleans()) else {"refresh_token": draw(texts | numbers)}
        return "POST", f"/auth/{kind}", {}, _body(doc), False
    if kind == "catalog":
        query = "?since=" + _q(draw(texts | numbers)) if draw(st.booleans()) else ""
        return "GET", "/catalog" + query, {"If-None-Match": draw(header_text)}, None, signed
    if kind == "signed":
        return "GET", f"/activities/{_q(draw(texts), '') or 'x'}/signed", {}, None, signed
    if kind == "media":
        path = media_path if draw(st.booleans()) else "/media/" + (_q(draw(texts), "") or "x")
        headers = {"Range": draw(header_text)}
        if draw(st.booleans()):
            headers["If-Range"] = draw(header_text)
        return draw(st.sampled_from(["GET", "HEAD"])), path, headers, None, signed
    if kind == "completions":
        return "POST", "/completions", {}, draw(completions_bodies()), signed
    if kind == "certificate":
        cid = _q(draw(texts), "") or "x"
        suffix = draw(st.sampled_from(["", ".json", "?format=" + _q(draw(texts))]))
        return "GET", f"/certificates/{cid}{suffix}", {}, None, signed
    if kind == "me":
        return "GET", draw(st.sampled_from(["/me", "/me/completions", "/keys", "/info"])), {}, None, signed
    method = draw(st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]))
    return method, "/" + _q(draw(texts), "/"), {}, _body(draw(json_values)), signed


def test_no_input_to_any_endpoint_gives_a_server_error(start_server, tmp_path):
    server = start_server()
    server.publish(credit_test_folder(tmp_path / "credit"), videos_as_is=True)
    with client_for(server) as api:
        auth = bearer(sign_in(api))
        [activity] = [a for a in api.get("/catalog", headers=auth).json()["activities"] if a["id"] != CREDIT_ACTIVITY]
        media_path = activity["assets"][0]["url"].removeprefix("/api/v1")
        seen: dict[int, int] = {}

        @FUZZ
        @given(request=requests(media_path))
        def check(request) -> None:
            method, path, headers, body, signed = request
            if body is not None:
                headers = {**headers, "Content-Type": "application/json"}
            if signed:
                headers = {**headers, **auth}
            try:
                r = api.request(method, path, headers=headers, content=body)
            except httpx.LocalProtocolError:  # httpx refused to send it: nothing reached the server
                return
            seen[r.status_code] = seen.get(r.status_code, 0) + 1
            assert r.status_code < 500, (method, path[:200], r.status_code, r.text[:500])

        check()
    assert any(code == 200 for code in seen) and any(400 <= code < 500 for code in seen), seen

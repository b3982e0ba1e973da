"""Fuzzing the catalog a client receives: the real server's catalog, changed in valid and
invalid ways (a field set to junk, deleted or added, an activity copied or renamed, bytes
flipped or cut) and arbitrary JSON or bytes, served over loopback in place of the real one
and taken through the whole client path (`Services.sync` → `CreditServerApi.catalog`
parsing and checks → the one-transaction apply).

Every reply is either applied whole (the cache then holds exactly that catalog) or refused
with a CmeError whose message is one plain sentence, and the cache is then unchanged.
Nothing else may come out."""

from __future__ import annotations

import copy
import json

import httpx
from hypothesis import given
from hypothesis import strategies as st

from desktop.errors import CmeError
from tests.faults.checks import cached_versions, catalog_snapshot
from tests.fuzz.settings import FUZZ
from tests.support.media_publish import publish_activity

json_scalars = (st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False)
                | st.text(max_size=30) | st.sampled_from(["", "2026-01-15", "video", "0" * 64, "../x", "¡"]))
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=10,
)


def paths(doc, prefix=()):
    """Every location in a JSON document (as a tuple of keys/indexes)."""
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from paths(v, prefix + (i,))


def at(doc, path):
    for p in path:
        doc = doc[p]
    return doc


@st.composite
def catalogs(draw, base: dict) -> bytes:
    kind = draw(st.sampled_from(["valid", "valid", "set", "set", "delete", "add", "copy", "bytes",
                                 "cut", "json", "binary"]))
    if kind == "json":
        return json.dumps(draw(json_values)).encode()
    if kind == "binary":
        return draw(st.binary(max_size=300))
    doc = copy.deepcopy(base)
    if kind == "valid":  # changes the protocol allows: they must be applied
        for a in doc["activities"]:
            a["version"] = a["version"] + draw(st.integers(0, 3))
            if draw(st.booleans()):
                a["title"] = draw(st.text(min_size=1, max_size=60).filter(str.strip))
        doc["full"] = draw(st.booleans())
        doc["cursor"] = draw(st.integers(0, 10**6))
        if draw(st.booleans()) and doc["activities"]:
            doc["activities"] = doc["activities"][: draw(st.integers(0, len(doc["activities"])))]
        return json.dumps(doc).encode()
    if kind == "copy" and doc["activities"]:
        twin = copy.deepcopy(draw(st.sampled_from(doc["activities"])))
        twin["id"] = draw(st.sampled_from([twin["id"], "fuzz-copy", "x" * 81, "", "a/b"]))
        doc["activities"].append(twin)
        return json.dumps(doc).encode()
    where = draw(st.sampled_from([p for p in paths(doc) if p]))
    parent, key = at(doc, where[:-1]), where[-1]
    if kind == "set":
        parent[key] = draw(json_values)
    elif kind == "delete":
        del parent[key]
    elif kind == "add":
        target = at(doc, where)
        if isinstance(target, dict):
            target[draw(st.text(max_size=12))] = draw(json_values)
        elif isinstance(target, list):
            target.append(draw(json_values))
        else:
            parent[key] = [target, draw(json_values)]
    body = json.dumps(doc, allow_nan=True).encode()
    if kind == "bytes":
        i = draw(st.integers(0, len(body) - 1))
        body = body[:i] + bytes([body[i] ^ draw(st.integers(1, 255))]) + body[i + 1:]
    elif kind == "cut":
        body = body[: draw(st.integers(0, len(body) - 1))]
    return body


def test_any_catalog_reply_is_applied_whole_or_refused_plainly(server, proxy, make_services, tmp_path):
    publish_activity(server, tmp_path / "a", "talk-a", video_size=1000)
    services = make_services(proxy.url)
    services.sign_in("demo", "demo")
    services.sync()
    with httpx.Client(base_url=server.api_url) as api:
        token = api.post("/auth/token", json={"username": "demo", "password": "demo", "device_name": "f"}).json()
        base = api.get("/catalog", headers={"Authorization": f"Bearer {token['access_token']}"}).json()
    outcomes = {"applied": 0, "refused": 0}

    @FUZZ
    @given(body=catalogs(base))
    def check(body: bytes) -> None:
        proxy.clear()
        proxy.add(path_prefix="/api/v1/catalog", times=None,
                  answer=(200, {"Content-Type": "application/json", "ETag": '"catalog-fuzz"'}, body))
        before = catalog_snapshot(services.db.path)
        try:
            services.sync()
        except CmeError as exc:
            message = str(exc)
            assert message.strip() and "\n" not in message and len(message) < 1000, repr(message)
            assert "Traceback" not in message
            assert catalog_snapshot(services.db.path) == before
            outcomes["refused"] += 1
            return
        sent = json.loads(body)
        versions = {a["id"]: a["version"] for a in sent["activities"]}
        cached = cached_versions(services.db.path)
        if sent["full"]:
            assert cached == versions
        else:
            assert {k: cached.get(k) for k in versions} == versions
        outcomes["applied"] += 1

    check()
    assert outcomes["applied"] and outcomes["refused"], outcomes

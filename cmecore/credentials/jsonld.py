"""JSON-LD for credentials, offline: the pinned contexts, RDF canonicalisation, and the
check that every field of a credential is defined by its contexts.

An RDF proof (eddsa-rdfc-2022) signs the document's RDF statements, not its JSON: a key
that no context defines is dropped by JSON-LD expansion and so is not signed at all. The
document loader answers only the contexts vendored in `contexts/` (SOURCES.md says where
each came from), so verifying never reaches the network and a context cannot change under
a signature; any other URL raises UnknownContext, and a caller says "not verified" with
the URL. `undefined_terms` finds what expansion would drop, so the issuer refuses to sign
such a document and the verifier refuses to vouch for one.
"""

from __future__ import annotations

import json
import threading
from functools import cache
from importlib import resources
from typing import Any

from frozendict import frozendict
from pyld import jsonld

CREDENTIALS_V2 = "https://www.w3.org/ns/credentials/v2"
OB_V3P0 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"

_FILES = {
    CREDENTIALS_V2: "credentials-v2.jsonld",
    OB_V3P0: "ob-context-3.0.3.json",
}


class UnknownContext(Exception):
    """A document names a context this package does not carry."""

    def __init__(self, url: str):
        super().__init__(f"unknown JSON-LD context {url!r}")
        self.url = url


@cache
def _context_text(url: str) -> str:
    return resources.files(__package__).joinpath("contexts", _FILES[url]).read_text("utf-8")


def context_document(url: str) -> dict[str, Any]:
    """The pinned context for `url` (a fresh copy: pyld may keep references); UnknownContext if none."""
    if url not in _FILES:
        raise UnknownContext(url)
    return json.loads(_context_text(url))


def known_contexts() -> tuple[str, ...]:
    return tuple(_FILES)


class Loader:
    """A pyld document loader over the pinned contexts, plus `extra` ones a caller adds
    (tests add the W3C examples context for the published test vectors)."""

    def __init__(self, extra: dict[str, dict[str, Any]] | None = None):
        self.extra = dict(extra or {})
        if pinned := set(self.extra) & set(_FILES):
            raise ValueError(f"a pinned context cannot be replaced: {sorted(pinned)}")

    def __call__(self, url: str, options: Any = None) -> dict[str, Any]:
        if url in self.extra:  # not cached by pyld: another loader must not find it
            return {"contextUrl": None, "documentUrl": url, "document": json.loads(json.dumps(self.extra[url]))}
        document = context_document(url)  # raises UnknownContext: never the network
        _note_pinned(document)
        # "static": pyld keeps the processed context in its process-wide cache (a pinned context
        # is the same for every loader); untagged, it loads and processes both contexts again
        # for every document, a quarter of a proof's CPU.
        return {"contextUrl": None, "documentUrl": url, "document": document, "tag": "static"}


# The pinned context documents handed to pyld, and the ids of the objects in them: the scoped
# contexts _Processor may keep (a context written inside a document is not one of them). The
# documents are kept so that no id is reused; pyld caches them, so there are few (bounded).
_PINNED_DOCUMENTS: list[Any] = []
_PINNED_OBJECTS: set[int] = set()
_PINNED_DOCUMENTS_MAX = 32


def _note_pinned(document: Any) -> None:
    with _PYLD_STATE:
        if len(_PINNED_DOCUMENTS) >= _PINNED_DOCUMENTS_MAX:
            _PINNED_DOCUMENTS.clear()
            _PINNED_OBJECTS.clear()
            _SCOPED.clear()
        _PINNED_DOCUMENTS.append(document)
        stack = [document]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                _PINNED_OBJECTS.add(id(node))
                stack.extend(node.values())
            elif isinstance(node, list):
                stack.extend(node)


PINNED = Loader()


def _unwrap(exc: BaseException) -> UnknownContext | None:
    """pyld wraps a loader's exception (often twice); find ours inside."""
    seen: set[int] = set()
    stack: list[Any] = [exc]
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, UnknownContext):
            return e
        stack += [getattr(e, "cause", None), e.__cause__, e.__context__]
        details = getattr(e, "details", None)
        if isinstance(details, dict):
            stack.append(details.get("cause"))
    return None


# pyld keeps its processed contexts in one process-wide cache (cachetools' LRUCache), which
# is not thread-safe: two threads canonicalising at once corrupted it (KeyError, a 500 for
# 1-4 of 2,500 completions in bench_server_load). pyld is pure Python, so under the GIL
# taking turns costs no throughput.
_PYLD = threading.Lock()
_PYLD_STATE = threading.Lock()  # the loader may be called outside _PYLD too (it is public)


def _run(call: Any) -> Any:
    try:
        with _PYLD:
            return call()
    except jsonld.JsonLdError as exc:
        unknown = _unwrap(exc)
        if unknown is not None:
            raise unknown from None
        raise


class _Processor(jsonld.JsonLdProcessor):
    """pyld's processor, keeping the scoped contexts it processes for the pinned contexts.

    The OB 3.0 and credentials contexts give most types a context of their own, applied to
    each node of that type (`propagate: false`). pyld processes it against a fresh copy of
    the active context every time, so it never finds its own cached result: two thirds of a
    credential's canonicalisation went to processing the same ~80 term definitions again.
    Processing a context is a function of the active context (frozen, and named by its
    `_uuid`), the local context (here an object inside a frozen, cached term definition: the
    same object every time, kept alive by the entry) and the options; the result is frozen.
    So the result is kept under those, for the pinned loader only, and only when the active
    context is frozen (pyld also processes scoped contexts against a context still being
    built, to validate them), and only for a local context from a pinned context document.
    The tests compare with plain pyld byte for byte (tests/credentials/test_canonical_cache.py)."""

    def _process_context(self, active_ctx, local_ctx, options, override_protected=False, propagate=True,
                         validate_scoped=True, cycles=None):
        cacheable = (isinstance(active_ctx, frozendict) and "_uuid" in active_ctx and not cycles
                     and options.get("documentLoader") is PINNED and id(local_ctx) in _PINNED_OBJECTS)
        if not cacheable:
            return super()._process_context(active_ctx, local_ctx, options, override_protected, propagate,
                                            validate_scoped, cycles)
        key = (active_ctx["_uuid"], id(local_ctx), options.get("base", ""), options.get("processingMode"),
               override_protected, propagate, validate_scoped)
        kept = _SCOPED.get(key)
        if kept is not None and kept[0] is local_ctx:
            return kept[1]
        processed = super()._process_context(active_ctx, local_ctx, options, override_protected, propagate,
                                             validate_scoped, cycles)
        if isinstance(processed, frozendict):
            if len(_SCOPED) >= _SCOPED_MAX:
                _SCOPED.clear()
            _SCOPED[key] = (local_ctx, processed)
        return processed


_SCOPED: dict[tuple[Any, ...], tuple[Any, Any]] = {}  # _Processor's results; used under _PYLD
_SCOPED_MAX = 4096


def canonize(doc: dict[str, Any], loader: Loader = PINNED) -> str:
    """RDF Dataset Canonicalization (RDFC-1.0, pyld's "URDNA2015") of `doc` as N-Quads."""
    options = {"algorithm": "URDNA2015", "format": "application/n-quads", "documentLoader": loader}
    return _run(lambda: _Processor().normalize(doc, options))


def undefined_terms(doc: dict[str, Any], loader: Loader = PINNED) -> list[str]:
    """The keys no context defines, and the `id`/`type` values that are not absolute IRIs:
    what expansion (and so an RDF proof) would drop. Empty when every field is signed."""
    dropped: list[str] = []
    expanded = _run(lambda: jsonld.expand(doc, {"documentLoader": loader},
                                          on_property_dropped=lambda p: dropped.append(str(p))))
    _relative_iris(expanded, dropped)
    return sorted(set(dropped))


def _relative_iris(node: Any, out: list[str]) -> None:
    if isinstance(node, list):
        for item in node:
            _relative_iris(item, out)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key in ("@id", "@type") and key != "@value":
                for iri in value if isinstance(value, list) else [value]:
                    if isinstance(iri, str) and not iri.startswith("_:") and ":" not in iri:
                        out.append(iri)
            elif key != "@value":
                _relative_iris(value, out)

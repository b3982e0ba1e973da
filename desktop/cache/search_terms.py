"""What a learner typed, as FTS5 MATCH expressions: exact forms, and near spellings apart.

Every word is quoted (so FTS5 operators typed by a user are just words) and all must match
one row. Porter stemming already joins inflections ("Pertains" meets "PERTAIN"). Two
widenings come from the vocabulary (`search_words`):

- The last word is a prefix while the user types (from MIN_PREFIX_CHARS letters). Three- and
  four-letter prefixes use FTS5's prefix index; a longer prefix makes FTS5 merge every term
  that starts with it (40-60 ms for a common one), so when more than COMPLETIONS words
  start with it, the COMPLETIONS most frequent stand in for it.
- Words of NEAR_MIN_CHARS letters or more also match vocabulary words at edit distance
  ≤ NEAR_DISTANCE (a machine transcript's "tristuzumab" for "trastuzumab"; "randomized" for
  "randomised"). Such near spellings are ranked below exact hits (see `search`).
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein
from sqlalchemy import text
from sqlalchemy.orm import Session

from desktop.cache.search_index import words_of

# A query longer than this is almost certainly pasted text, not a search; cap its cost.
MAX_QUERY_WORDS = 12
# The last word is searched as a prefix only from this length on: a one- or two-letter
# prefix expands to thousands of terms and costs seconds on a large cache.
MIN_PREFIX_CHARS = 3
COMPLETIONS = 12
NEAR_MIN_CHARS = 8
NEAR_DISTANCE = 2
NEAR_SPELLINGS = 8  # at most this many near spellings of one word, the closest first

_COMPLETIONS_SQL = text(
    "SELECT word FROM search_words WHERE word >= :p AND word < :hi ORDER BY rows DESC, word LIMIT :n"
)
_SAME_LENGTH_SQL = text("SELECT word, rows FROM search_words WHERE length BETWEEN :lo AND :hi")


@dataclass(frozen=True)
class Term:
    """One typed word and the vocabulary words that stand for it."""

    word: str  # folded
    prefix: bool = False  # matches words starting with it (the word being typed)
    completions: tuple[str, ...] = ()  # stand-ins for a prefix with too many completions
    near: tuple[str, ...] = ()  # near spellings (edit distance ≤ NEAR_DISTANCE)

    def exact_group(self) -> str:
        if self.completions:
            return "(" + " OR ".join(_quote(w) for w in (self.word, *self.completions)) + ")"
        return _quote(self.word) + ("*" if self.prefix else "")

    def full_group(self) -> str:
        if not self.near:
            return self.exact_group()
        return "(" + " OR ".join([self.exact_group(), *(_quote(w) for w in self.near)]) + ")"


@dataclass(frozen=True)
class Query:
    terms: tuple[Term, ...]

    @property
    def exact(self) -> str:
        """Rows holding every word (or a form porter joins with it)."""
        return " AND ".join(term.exact_group() for term in self.terms)

    @property
    def full(self) -> str:
        """`exact`, or with near spellings where a word has them."""
        return " AND ".join(term.full_group() for term in self.terms)

    @property
    def has_near(self) -> bool:
        return any(term.near for term in self.terms)

    @property
    def near_words(self) -> frozenset[str]:
        return frozenset(w for term in self.terms for w in term.near)


def typed_words(user_text: str) -> list[str]:
    return words_of(user_text)[:MAX_QUERY_WORDS]


def fts_query(user_text: str) -> str | None:
    """A safe FTS5 MATCH expression for what a user typed, or None if it has no words.

    Every word is quoted and all must match; the last gets a prefix `*` (from
    MIN_PREFIX_CHARS letters on) so results appear while the user is still typing.
    """
    words = typed_words(user_text)
    if not words:
        return None
    return Query(tuple(Term(w, prefix=_is_prefix(w, i, words)) for i, w in enumerate(words))).exact


def build_query(session: Session, user_text: str) -> Query | None:
    """`fts_query` widened from the vocabulary: completions and near spellings."""
    words = typed_words(user_text)
    if not words:
        return None
    terms = []
    for i, word in enumerate(words):
        prefix = _is_prefix(word, i, words)
        terms.append(Term(
            word,
            prefix=prefix,
            completions=_completions(session, word) if prefix and len(word) > 4 else (),
            near=_near_spellings(session, word) if len(word) >= NEAR_MIN_CHARS else (),
        ))
    return Query(tuple(terms))


def _is_prefix(word: str, index: int, words: list[str]) -> bool:
    return index == len(words) - 1 and len(word) >= MIN_PREFIX_CHARS


def _completions(session: Session, prefix: str) -> tuple[str, ...]:
    """() when FTS5 can expand the prefix cheaply, else its COMPLETIONS most frequent words."""
    found = session.scalars(_COMPLETIONS_SQL, {"p": prefix, "hi": prefix + "\U0010ffff", "n": COMPLETIONS + 1}).all()
    return tuple(found[:COMPLETIONS]) if len(found) > COMPLETIONS else ()


def _near_spellings(session: Session, word: str) -> tuple[str, ...]:
    rows = session.execute(_SAME_LENGTH_SQL, {"lo": len(word) - NEAR_DISTANCE, "hi": len(word) + NEAR_DISTANCE}).all()
    if not rows:
        return ()
    choices = [w for w, _ in rows]
    found = process.extract(word, choices, scorer=Levenshtein.distance, score_cutoff=NEAR_DISTANCE, limit=None)
    # Closest first, then the more frequent (a common misspelling is likelier meant).
    near = sorted((distance, -rows[index][1], choice) for choice, distance, index in found if distance > 0)
    return tuple(choice for _, _, choice in near[:NEAR_SPELLINGS])


def _quote(word: str) -> str:
    return f'"{word}"'  # \w+ never contains a double quote

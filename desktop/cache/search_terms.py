"""What a learner typed, as FTS5 MATCH expressions: exact forms, and near spellings apart.

Every word is quoted (so FTS5 operators typed by a user are just words) and all must match
one row. Porter stemming already joins inflections ("Pertains" meets "PERTAIN"). Two
widenings come from the vocabulary (`search_words`):

- The last word is a prefix while the user types (from MIN_PREFIX_CHARS letters). Three- and
  four-letter prefixes use FTS5's prefix index. For a longer prefix FTS5 would merge the
  whole row lists of every term starting with it before returning one row (40 ms for three
  common words), so its COMPLETIONS most frequent vocabulary words are OR-ed instead, which
  FTS5 reads lazily.
- Words of NEAR_MIN_CHARS letters or more also match vocabulary words at edit distance
  ≤ NEAR_DISTANCE (a machine transcript's "tristuzumab" for "trastuzumab"; "randomized" for
  "randomised"). Such near spellings are ranked below exact hits (see `search`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from desktop.cache.search_index import words_of

# A query longer than this is almost certainly pasted text, not a search; cap its cost.
MAX_QUERY_WORDS = 12
# The last word is searched as a prefix only from this length on: a one- or two-letter
# prefix expands to thousands of terms and costs seconds on a large cache.
MIN_PREFIX_CHARS = 3
PREFIX_INDEX_CHARS = 4  # migration 0004: prefix = '3 4'
COMPLETIONS = 12
NEAR_MIN_CHARS = 8
NEAR_DISTANCE = 2
NEAR_SPELLINGS = 8  # at most this many near spellings of one word, the closest first

_COMPLETIONS_SQL = text(
    "SELECT word FROM search_words WHERE word >= :p AND word < :hi ORDER BY rows DESC, word LIMIT :n"
)
_LONG_WORDS_SQL = text("SELECT word, length, rows FROM search_words WHERE length >= :min")
_VERSION_SQL = text("SELECT version FROM search_vocabulary")
# Per cache file: (vocabulary version, {length: (words, row counts)}).
_vocabulary: dict[str, tuple[int, dict[int, tuple[list[str], list[int]]]]] = {}


@dataclass(frozen=True)
class Term:
    """One typed word and the vocabulary words that stand for it."""

    word: str  # folded
    prefix: bool = False  # matches words starting with it (the word being typed)
    completions: tuple[str, ...] = ()  # vocabulary words a long prefix stands for
    near: tuple[str, ...] = ()  # near spellings (edit distance ≤ NEAR_DISTANCE)

    def exact_group(self) -> str:
        if self.prefix and len(self.word) > PREFIX_INDEX_CHARS:
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
            completions=_completions(session, word) if prefix and len(word) > PREFIX_INDEX_CHARS else (),
            near=_near_spellings(session, word) if len(word) >= NEAR_MIN_CHARS else (),
        ))
    return Query(tuple(terms))


def _is_prefix(word: str, index: int, words: list[str]) -> bool:
    return index == len(words) - 1 and len(word) >= MIN_PREFIX_CHARS


def _completions(session: Session, prefix: str) -> tuple[str, ...]:
    """The COMPLETIONS most frequent vocabulary words starting with `prefix` (itself aside)."""
    found = session.scalars(_COMPLETIONS_SQL, {"p": prefix, "hi": prefix + "\U0010ffff", "n": COMPLETIONS + 1}).all()
    return tuple(w for w in found if w != prefix)[:COMPLETIONS]


def _near_spellings(session: Session, word: str) -> tuple[str, ...]:
    choices, rows = _long_words(session, len(word))
    if not choices:
        return ()
    from rapidfuzz import process  # memory: loaded at the first fuzzy search, not with the cache
    from rapidfuzz.distance import Levenshtein  # memory: as above

    found = process.extract(word, choices, scorer=Levenshtein.distance, score_cutoff=NEAR_DISTANCE, limit=None)
    # Closest first, then the more frequent (a common misspelling is likelier meant).
    near = sorted((distance, -rows[index], choice) for choice, distance, index in found if distance > 0)
    return tuple(choice for _, _, choice in near[:NEAR_SPELLINGS])


def _long_words(session: Session, length: int) -> tuple[list[str], list[int]]:
    """Vocabulary words within NEAR_DISTANCE of `length` letters, and their row counts.

    Read from the database only when the vocabulary changed since the last search (its
    version is bumped by every index write): loading ~10,000 words costs ~10 ms, a search
    should not pay that each time.
    """
    key = str(session.get_bind().url)
    version = session.execute(_VERSION_SQL).scalar()
    cached = _vocabulary.get(key)
    if cached is None or cached[0] != version:
        by_length: dict[int, tuple[list[str], list[int]]] = {}
        for word, size, rows in session.execute(_LONG_WORDS_SQL, {"min": NEAR_MIN_CHARS - NEAR_DISTANCE}):
            words, counts = by_length.setdefault(size, ([], []))
            words.append(word)
            counts.append(rows)
        cached = _vocabulary[key] = (version, by_length)
    choices: list[str] = []
    counts: list[int] = []
    for size in range(length - NEAR_DISTANCE, length + NEAR_DISTANCE + 1):
        words, rows = cached[1].get(size, ((), ()))
        choices += words
        counts += rows
    return choices, counts


def _quote(word: str) -> str:
    return f'"{word}"'  # \w+ never contains a double quote

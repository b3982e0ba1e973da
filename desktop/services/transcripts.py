"""One timing for a transcript cue everywhere: the panel, search and the player's seek.

A WebVTT or SRT transcript carries its own times. A plain-text one has none: its cues are
spread over a media length, and every reader must use the same length, or a search hit
jumps to another minute than the panel shows. `transcript_timing` is that one choice: the
catalog's video length (the server read it at publish), else the length a player on this
computer found (watch progress), else the nominal pace (cmecore.transcripts.estimate).
`read_transcript` reads through it for the panel (ContentService.transcript) and for the
search index (`index_activity_transcript`), so both hold the same cues.

The index records the timing it was built with (cache/transcript_timing.py). When a
better length becomes known, `refresh_transcript_index` rebuilds that transcript's rows
once: on the writer thread when the player reports the length (ContentService.
media_length_found), when a video arrives, and after each catalog sync (which also
rebuilds transcripts indexed before the record existed). Plain functions: the content,
downloads and syncing services share them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from cmecore.transcripts.cues import Transcript
from desktop.cache.blobstore import BlobStore
from desktop.cache.db import Database
from desktop.cache.transcript_timing import IndexedTiming, TranscriptFacts, replace_transcript_index, transcript_facts
from desktop.errors import TranscriptError
from desktop.media.transcript import PLAIN_TYPES, parse_transcript

log = logging.getLogger(__name__)

BASIS_FILE = "file"  # WebVTT/SRT: the file's own times
BASIS_CATALOG = "catalog"  # spread over the catalog's video length
BASIS_PLAYED = "played"  # over the length a player here found
BASIS_NOMINAL = "nominal"  # at the nominal pace (no length known)


@dataclass(frozen=True)
class TimedTranscript:
    transcript: Transcript
    timing: IndexedTiming  # which file, timed by what


def transcript_timing(facts: TranscriptFacts) -> IndexedTiming:
    """How this transcript file's cues are timed, from what is known now."""
    if facts.media_type.split(";", 1)[0].strip().lower() not in PLAIN_TYPES:
        return IndexedTiming(facts.sha256, BASIS_FILE, None)
    if facts.catalog_length_ms:
        return IndexedTiming(facts.sha256, BASIS_CATALOG, facts.catalog_length_ms)
    if facts.played_length_ms:
        return IndexedTiming(facts.sha256, BASIS_PLAYED, facts.played_length_ms)
    return IndexedTiming(facts.sha256, BASIS_NOMINAL, None)


def read_transcript(db: Database, blobs: BlobStore, activity_id: str) -> TimedTranscript | None:
    """The activity's transcript as the panel shows it and search indexes it: the first
    downloaded transcript in catalog order, timed by `transcript_timing` (`from_audio` when
    the server timed it from the speech). None when none is downloaded; raises
    TranscriptError for a file that cannot be read."""
    facts = _shown(blobs, transcript_facts(db, activity_id)).get(activity_id)
    if facts is None:
        return None
    timing = transcript_timing(facts)
    data = blobs.path_for(facts.sha256).read_bytes()
    transcript = parse_transcript(data, facts.media_type, timing.length_ms)
    return TimedTranscript(replace(transcript, from_audio=facts.timing == "audio"), timing)


def index_activity_transcript(db: Database, blobs: BlobStore, activity_id: str) -> bool:
    """Make the activity's transcript searchable as `read_transcript` gives it (rows and
    timing record in one transaction). False when none is downloaded, or the file cannot
    be read (logged; nothing is indexed)."""
    try:
        found = read_transcript(db, blobs, activity_id)
    except TranscriptError as exc:
        log.warning("transcript of %s not indexed: %s", activity_id, exc)
        return False
    if found is None:
        return False
    if found.transcript.skipped:  # what could be read is indexed; the reader says which lines not
        log.warning("the transcript of %s is searchable without %d lines that could not be read",
                    activity_id, len(found.transcript.skipped))
    replace_transcript_index(db, activity_id, found.timing, found.transcript.cues)
    return True


def refresh_transcript_index(db: Database, blobs: BlobStore, activity_id: str | None = None) -> list[str]:
    """Rebuild the search rows of each downloaded untimed transcript (of one activity, or
    all) whose timing is not the one its rows were built with (or was never recorded).
    Returns the activity ids rebuilt. A WebVTT/SRT file's times never change: skipped."""
    rebuilt = []
    for shown_id, facts in _shown(blobs, transcript_facts(db, activity_id)).items():
        timing = transcript_timing(facts)
        if timing.basis != BASIS_FILE and facts.indexed != timing and index_activity_transcript(db, blobs, shown_id):
            rebuilt.append(shown_id)
    return rebuilt


def _shown(blobs: BlobStore, facts: list[TranscriptFacts]) -> dict[str, TranscriptFacts]:
    """Per activity, its first transcript (catalog order) whose file is here."""
    out: dict[str, TranscriptFacts] = {}
    for f in facts:
        if f.activity_id not in out and blobs.path_for(f.sha256).is_file():
            out[f.activity_id] = f
    return out

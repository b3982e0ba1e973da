"""Rule 3 (availability) on the server-corrected clock. Pure: no SQL, no Qt, no HTTP.

No starting and no claiming after the termination date; not before the release date;
enduring material no more than 3 years past its release or last review. Dates are judged
by the UTC date of the server-corrected clock (the device clock plus the offset learnt
from the server's `Date` header), as the credit server judges `completed_at_corrected`
(creditserver/completions/judging.py: `judge`). A completion finished in time but synced later
is the server's business (its grace); the client only refuses to *start* or *claim* late.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

ENDURING_LIMIT_YEARS = 3  # enduring material: 3 years past release or last review (rule 3)


def utcnow() -> datetime:
    """Aware UTC now on the device clock."""
    return datetime.now(UTC)


def corrected_now(clock_offset_ms: int | None, now: datetime | None = None) -> datetime:
    """The server-corrected time (aware UTC): device clock + the last known server offset.

    `now` (aware, or naive UTC) stands in for the device clock in tests. With no offset
    known yet the device clock is used as it is.
    """
    base = now if now is not None else utcnow()
    if base.tzinfo is None:
        base = base.replace(tzinfo=UTC)
    return base.astimezone(UTC) + timedelta(milliseconds=clock_offset_ms or 0)


def add_years(d: date, years: int) -> date:
    """`d` plus whole years; 29 February becomes 28 February (as the server does)."""
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return d.replace(year=d.year + years, day=28)


def enduring_limit(release_date: date, review_date: date | None) -> date:
    """The last day enduring material may run: 3 years past release or last review."""
    base = max(release_date, review_date or release_date)
    return add_years(base, ENDURING_LIMIT_YEARS)


def last_day(release_date: date, review_date: date | None, termination_date: date) -> date:
    """The last day the activity can be started or claimed: termination or the 3-year limit."""
    return min(termination_date, enduring_limit(release_date, review_date))


@dataclass(frozen=True)
class Availability:
    available: bool  # may be started and claimed today (corrected clock)
    reason: str  # plain words when not available; "" when available
    state: str  # "not-released" | "available" | "terminated" | "expired" (3-year limit)
    last_day: date  # termination date or the 3-year limit, whichever is earlier

    @property
    def over(self) -> bool:
        """Ended for good (terminated or past the 3-year limit), unlike not released yet."""
        return self.state in ("terminated", "expired")


def availability(
    release_date: date, review_date: date | None, termination_date: date, now_corrected: datetime
) -> Availability:
    """Rule 3: whether the activity may be started or claimed at `now_corrected` (aware).

    The check is by UTC date, day-inclusive, the same comparisons as the server's:
    a day before release is refused, the termination day itself is still allowed.
    """
    today = now_corrected.astimezone(UTC).date() if now_corrected.tzinfo else now_corrected.date()
    limit = enduring_limit(release_date, review_date)
    end = min(termination_date, limit)
    if today < release_date:
        return Availability(
            False, f"This activity is released on {release_date:%d %B %Y}; it cannot be started before then.",
            "not-released", end,
        )
    if today > termination_date:
        return Availability(
            False,
            f"This activity ended on {termination_date:%d %B %Y} (its termination date). "
            "You can still read it, but it can no longer be started or claimed for credit.",
            "terminated", end,
        )
    if today > limit:
        base = max(release_date, review_date or release_date)
        return Availability(
            False,
            f"This enduring material was released or last reviewed on {base:%d %B %Y}; it may not run more than "
            f"{ENDURING_LIMIT_YEARS} years, so it can no longer be started or claimed for credit.",
            "expired", end,
        )
    return Availability(True, "", "available", end)

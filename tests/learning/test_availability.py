"""DOMAIN rule 3 (availability): no starting or claiming outside release..termination and
the 3-year limit for enduring material, judged on the server-corrected clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from cmecore.rules.availability import add_years, availability, corrected_now, enduring_limit


def at(d: date, hour: int = 12) -> datetime:
    return datetime(d.year, d.month, d.day, hour, tzinfo=UTC)


def test_rule3_not_before_release_and_not_after_termination_day_inclusive():
    release, termination = date(2026, 1, 15), date(2027, 12, 31)
    assert availability(release, None, termination, at(date(2026, 1, 14))).state == "not-released"
    assert availability(release, None, termination, at(date(2026, 1, 15), 0)).available
    assert availability(release, None, termination, at(date(2027, 12, 31), 23)).available
    after = availability(release, None, termination, at(date(2028, 1, 1), 0))
    assert not after.available and after.state == "terminated" and "31 December 2027" in after.reason
    assert "can still read" in after.reason  # reviewed, not started


def test_rule3_enduring_material_at_most_three_years_past_release_or_last_review():
    release, review, termination = date(2020, 3, 1), date(2021, 6, 1), date(2030, 1, 1)
    assert enduring_limit(release, review) == date(2024, 6, 1)
    assert availability(release, review, termination, at(date(2024, 6, 1))).available
    late = availability(release, review, termination, at(date(2024, 6, 2)))
    assert not late.available and late.state == "expired" and "3 years" in late.reason
    assert late.last_day == date(2024, 6, 1)
    assert enduring_limit(release, None) == date(2023, 3, 1)  # no review: from release
    assert add_years(date(2024, 2, 29), 3) == date(2027, 2, 28)  # as the server does


def test_rule3_dates_are_judged_on_the_server_corrected_clock():
    device = datetime(2027, 12, 31, 23, 0, tzinfo=UTC)  # the device thinks it is still the last day
    fast_server = corrected_now(2 * 3600 * 1000, device)  # the server is two hours ahead
    assert fast_server == datetime(2028, 1, 1, 1, 0, tzinfo=UTC)
    assert availability(date(2026, 1, 15), None, date(2027, 12, 31), device).available
    assert not availability(date(2026, 1, 15), None, date(2027, 12, 31), fast_server).available
    naive = corrected_now(None, datetime(2026, 5, 1, 8, 0))  # naive means UTC, no offset known
    assert naive == datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
    assert corrected_now(-1500, naive) == naive - timedelta(milliseconds=1500)


def test_rule3_matches_the_server_day_by_day():
    """The server's own check (creditserver.completions.judge) and ours agree around every boundary."""
    from creditserver.completions import CompletionSettings, Rejected, judge
    from cmecore import protocol
    from tests.server.credit_support import completion
    from tests.support.activities import activity_doc

    release, review, termination = date(2022, 1, 10), date(2023, 2, 1), date(2026, 1, 5)
    doc = activity_doc(release=release, review=review, termination=termination, version=1)
    act = protocol.Activity.model_validate(doc)
    learner = protocol.LearnerProfile(id="l1", username="u", display_name="U", profession="physician")
    for day in [release - timedelta(days=1), release, date(2026, 1, 1), date(2026, 1, 2), termination,
                termination + timedelta(days=1)]:
        done = at(day)
        item = protocol.CompletionIn.model_validate(completion(act.id, completed=done))
        try:
            judge(item, act, learner, done + timedelta(hours=1), CompletionSettings(grace_days=30))
            server_ok = True
        except Rejected as r:
            assert r.code.value in ("not-released", "terminated")
            server_ok = False
        assert availability(release, review, termination, done).available == server_ok, day

"""Decisions about failures are made on the error's type (and `code`), never on its wording:
a message can be reworded without changing what the app does."""

from __future__ import annotations

from datetime import datetime

import pytest

from cmecore import protocol
from desktop.cache.learners import save_signed_in
from desktop.cache.learning_store import add_completion
from desktop.config import normalise_server_url
from desktop.errors import BadServerAddress, ConfigError, ContentLocked, RuleError, ServerUnreachable
from desktop.sync.outbox import deliver
from desktop.views.learning_text import LOCKED, locked_text
from desktop.views.text import UNEXPECTED, error_text, short_error

SERVER = "http://127.0.0.1:9"  # never contacted: the account below says the server is unreachable
NOW = datetime(2026, 3, 1, 12)


class UnreachableAccount:
    """An Account whose server cannot be reached, saying so in words unlike the app's own."""

    def access_token(self, learner_id=None) -> str:
        raise ServerUnreachable("No route to host (ECONNREFUSED).")

    def authorized(self, call, learner_id=None):
        raise ServerUnreachable("No route to host (ECONNREFUSED).")


def a_waiting_claim(db) -> None:
    profile = protocol.LearnerProfile(id="l1", username="dr.a", display_name="Dr A", profession="physician")
    save_signed_in(db, profile, SERVER, NOW)
    payload = {"id": "00000000-0000-4000-8000-000000000001", "activity_id": "act-1", "activity_version": 1}
    add_completion(db, learner_id="l1", payload=payload, title="Act 1", created_at=NOW, completed_at_corrected=NOW,
                   credit_type="AMA PRA Category 1 Credit", credits=0.5)


def test_a_server_address_that_is_not_http_is_a_config_error_the_cli_and_views_can_tell_apart():
    with pytest.raises(BadServerAddress) as caught:
        normalise_server_url("cme.example.org")
    assert isinstance(caught.value, ConfigError) and caught.value.code == "bad-server-address"
    assert "not valid" in error_text(caught.value) and "'cme.example.org'" in error_text(caught.value)
    # Any other ValueError is not taken for a bad address any more.
    assert error_text(ValueError("math domain error")) == UNEXPECTED


def test_locked_content_is_recognised_by_its_type():
    assert locked_text(ContentLocked()) == LOCKED
    assert locked_text(ContentLocked("Reworded: read the disclosures.")) == LOCKED
    assert locked_text(RuleError("Not now.", "availability")) == "Not now."


def test_delivery_reports_the_server_unreachable_by_type_whatever_the_words(make_services):
    services = make_services(SERVER)
    a_waiting_claim(services.db)
    report = deliver(services.db, services.connection.api(), UnreachableAccount(), SERVER)
    assert report.unreachable and report.errors == ["No route to host (ECONNREFUSED)."]
    assert report.remaining == 1  # kept for the next sync


def test_the_status_says_offline_after_a_delivery_that_could_not_reach_the_server(make_services, monkeypatch):
    services = make_services(SERVER)
    a_waiting_claim(services.db)
    monkeypatch.setattr(services.connection, "account", UnreachableAccount)
    report = services.syncing.deliver_completions()
    assert report.unreachable and report.remaining == 1
    assert services.syncing.status().online is False


def test_the_short_status_for_an_unreachable_server_comes_from_its_code_whatever_the_words(make_services, monkeypatch):
    services = make_services(SERVER)
    monkeypatch.setattr(services.connection, "account", UnreachableAccount)
    with pytest.raises(ServerUnreachable):
        services.sync()
    status = services.status()
    assert status.last_error == "No route to host (ECONNREFUSED)."  # the words, kept for the tooltip
    assert status.last_error_code == "unreachable"
    assert short_error(status.last_error, code=status.last_error_code) == "Server not reachable"


def test_a_short_status_is_chosen_by_code_for_subclasses_too_and_never_by_wording():
    # AccessExpired is a SignInRequired: its stored code gets its ancestor's short form.
    assert short_error("Token refused.", code="access-expired") == "Sign-in required"
    assert short_error("Whatever the server said.", exc=ServerUnreachable("Whatever the server said.")) \
        == "Server not reachable"
    # The standard wording alone, with no code (a row stored before codes), is shown as written.
    assert short_error(ServerUnreachable.message[:50]) == ServerUnreachable.message[:50]
    assert short_error("Something new went wrong.", code="no-such-code") == "Something new went wrong."

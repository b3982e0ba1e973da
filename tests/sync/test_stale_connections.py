"""A kept-open connection that the server closes just as the desktop reuses it costs the
learner nothing: a request that is safe to repeat (a GET, the completions POST, which the
server keeps once per id) goes once more on a new connection and succeeds. One that is not
safe (sign-in), or whose reply had begun when the connection broke, is not sent again: the
caller hears of it (the outbox sends the batch again later). Against the real server,
through a proxy that keeps connections open and closes one at the chosen moment."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from creditserver.models import Completion
from creditserver.serving import KEEP_ALIVE_S
from desktop.errors import ReplyBrokenOff, ServerUnreachable
from desktop.sync.api import CreditServerApi
from desktop.sync.http import KEEPALIVE_EXPIRY_S, build_client
from tests.server.credit_support import completion
from tests.support.activities import DEMO_ID
from tests.support.keepalive_proxy import KeepAliveProxy


@pytest.fixture
def keepalive(server) -> Iterator[KeepAliveProxy]:
    p = KeepAliveProxy(server.url)
    yield p
    p.stop()


@pytest.fixture
def desktop_api(keepalive) -> Iterator[CreditServerApi]:
    with build_client(keepalive.url) as client:
        yield CreditServerApi(client)


def stored_completions(server) -> int:
    with server.app.state.db.session() as s:
        return s.execute(select(func.count()).select_from(Completion)).scalar_one()


def sent(keepalive: KeepAliveProxy, path: str) -> int:
    return sum(1 for _method, p in keepalive.forwarded if p == "/api/v1" + path)


def test_a_get_on_a_connection_the_server_closed_is_sent_again_on_a_new_one(desktop_api, keepalive):
    desktop_api.info()
    keepalive.add("/api/v1/info", "close")

    assert desktop_api.info().name  # no error reaches the caller
    assert keepalive.connections == 2 and sent(keepalive, "/info") == 2


@pytest.mark.parametrize("moment", ["close", "lose_reply"])
def test_completions_are_sent_again_when_the_connection_closes_before_the_reply_and_kept_once(
        server, desktop_api, keepalive, moment):
    """`lose_reply`: the server stored the batch, the reply never came; sent again, the
    server answers `duplicate` with the same certificate."""
    token = desktop_api.token("demo", "demo", "retry test").access_token
    keepalive.add("/api/v1/completions", moment)

    result = desktop_api.post_completions(token, [completion(DEMO_ID)]).results[0]

    assert result.status in ("accepted", "duplicate") and result.certificate_id
    assert sent(keepalive, "/completions") == (2 if moment == "lose_reply" else 1)
    assert stored_completions(server) == 1


def test_sign_in_is_not_sent_twice_when_its_connection_closes(desktop_api, keepalive):
    desktop_api.info()
    keepalive.add("/api/v1/auth/token", "lose_reply")

    with pytest.raises(ServerUnreachable):
        desktop_api.token("demo", "demo", "retry test")
    assert sent(keepalive, "/auth/token") == 1


def test_a_reply_that_breaks_midway_is_not_sent_again(server, desktop_api, keepalive):
    token = desktop_api.token("demo", "demo", "retry test").access_token
    keepalive.add("/api/v1/completions", "cut_reply", cut_after=20)

    with pytest.raises(ReplyBrokenOff):  # the server answered (then the reply broke): not "unreachable"
        desktop_api.post_completions(token, [item := completion(DEMO_ID)])
    assert sent(keepalive, "/completions") == 1

    again = desktop_api.post_completions(token, [item]).results[0]  # as the outbox does later
    assert again.status == "duplicate" and again.certificate_id
    assert stored_completions(server) == 1


def test_the_desktop_gives_up_idle_connections_before_the_server_closes_them():
    """Whoever closes an idle connection first must be the client, which then never sends on it."""
    assert KEEPALIVE_EXPIRY_S < KEEP_ALIVE_S

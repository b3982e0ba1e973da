"""The demo's in-memory keyring must never be picked by keyring's auto-detection.

Found by the installed-package test: with no OS keyring (and no keyrings.alt), a positive
priority made `_MemoryKeyring` the default backend, so `cme-offline login` printed
"Signed in" and the refresh token vanished at exit.
"""

import keyring.backend
from keyring.backends import fail

from desktop.sync.credentials import _MemoryKeyring


def test_memory_keyring_ranks_below_the_fail_backend():
    assert keyring.backend.by_priority(_MemoryKeyring) < keyring.backend.by_priority(fail.Keyring)


def test_without_real_backends_detection_picks_the_fail_backend():
    candidates = [_MemoryKeyring(), fail.Keyring()]
    assert isinstance(max(candidates, key=keyring.backend.by_priority), fail.Keyring)

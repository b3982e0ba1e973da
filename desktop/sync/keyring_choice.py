"""Which OS password store holds the tokens, chosen without keyring's discovery.

keyring's own choice (`keyring.core.init_backend`) imports every installed backend to
compare their priorities: it reads every installed distribution's metadata for
`keyring.backends` entry points and loads each (Secret Service, KWallet, libsecret,
Windows, macOS, and any plugin's), which stays resident in the GUI process for the rest of
the session (bench_rss). Which store each OS has is known beforehand, so we follow
keyring's order with keyring's own functions and load only what we use:

1. `PYTHON_KEYRING_BACKEND` (`keyring.core.load_env`), as keyring does;
2. keyring's config file, `keyringrc.cfg` in `keyring.util.platform_.config_root()`
   (`[backend] default-keyring=…`, `keyring-path`), as keyring does;
3. this OS's store: Windows Credential Manager, the macOS Keychain; elsewhere the Secret
   Service (GNOME Keyring, KeePassXC, KWallet 5.97+) or KWallet over D-Bus, whichever
   answers with the higher priority (keyring's own ranking, KWallet first on KDE);
4. only when none of those answers (a headless Linux, or a third-party backend installed
   but not named in 1 or 2) keyring's discovery, exactly as before.

Tokens written by an earlier version stay readable where 3 answers and no third-party
backend was installed: keyring's discovery chose the same store (its chainer, when two
stores answer, writes to the highest-ranked). A token that an earlier version put in a
third-party store ranked above the OS's own is not read: that learner signs in once more
(and until then cannot be switched to offline).
"""

from __future__ import annotations

import functools
import logging
import sys

import keyring
import keyring.core
from keyring.backend import KeyringBackend

log = logging.getLogger(__name__)

# keyring's class names for each OS's own store, as `load_keyring` takes them.
WINDOWS_STORE = "keyring.backends.Windows.WinVaultKeyring"
MACOS_STORE = "keyring.backends.macOS.Keyring"
SECRET_SERVICE = "keyring.backends.SecretService.Keyring"
KWALLET = "keyring.backends.kwallet.DBusKeyring"


def os_stores(platform: str = sys.platform) -> tuple[str, ...]:
    """The stores this OS has, for `load_keyring`."""
    if platform == "win32":
        return (WINDOWS_STORE,)
    if platform == "darwin":
        return (MACOS_STORE,)
    return (SECRET_SERVICE, KWALLET)


def choose_backend() -> KeyringBackend:
    """The backend keyring would choose here, loading only the candidates (see the module)."""
    chosen = keyring.core.load_env() or keyring.core.load_config()
    if chosen is not None:
        return chosen
    answering = []
    for name in os_stores():
        try:
            # load_keyring asks the class's priority, which raises where that store is not
            # running or its library is missing (RuntimeError, ImportError, D-Bus errors).
            answering.append(keyring.core.load_keyring(name))
        except Exception as exc:  # noqa: BLE001 - any failure means this store is not here
            log.debug("keyring store %s not available: %s", name, exc)
    if len(answering) > 1:  # each priority is a D-Bus round trip: asked again only to rank two
        return max(answering, key=lambda backend: backend.priority)
    if answering:
        return answering[0]
    log.info("no OS keyring answered; keyring looks for any other backend")
    keyring.core.init_backend()  # keyring's own discovery
    return keyring.get_keyring()


@functools.cache
def use_os_keyring() -> KeyringBackend:
    """Choose the backend once per process and make it keyring's (`keyring.set_keyring`);
    later calls change nothing, so a backend set afterwards (the demo's fallback) stays."""
    backend = choose_backend()
    keyring.set_keyring(backend)
    log.info("keyring backend: %s.%s", type(backend).__module__, type(backend).__qualname__)
    return backend

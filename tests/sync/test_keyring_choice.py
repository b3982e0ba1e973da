"""Which password store keeps a learner's tokens: the one PYTHON_KEYRING_BACKEND names, else
the one keyring's own config file names, else this OS's store (the Secret Service on
Linux) — chosen without loading every installed keyring backend (desktop/sync/keyring_choice.py).

Each sign-in runs `cme-offline login` in a fresh process, as a user would, since the
choice is made once per process.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from keyring.backend import KeyringBackend

from desktop.sync.keyring_choice import os_stores
from tests.support import secret_service

ROOT = Path(__file__).parents[2]
TOKEN_SERVICE = "CME Offline refresh token @ {}"
# A store only a test names: a JSON file beside its module. Its priority is below keyring's
# fail backend, so keyring's own discovery would never pick it.
TEST_STORE = '''
import json, pathlib
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

class JsonKeyring(KeyringBackend):
    priority = -2
    file = pathlib.Path(__file__).with_name("secrets.json")

    def _all(self):
        return json.loads(self.file.read_text()) if self.file.exists() else {}

    def get_password(self, service, username):
        return self._all().get(f"{service}|{username}")

    def set_password(self, service, username, password):
        kept = self._all()
        kept[f"{service}|{username}"] = password
        self.file.write_text(json.dumps(kept))

    def delete_password(self, service, username):
        kept = self._all()
        if kept.pop(f"{service}|{username}", None) is None:
            raise PasswordDeleteError(username)
        self.file.write_text(json.dumps(kept))
'''


def store_folder(folder: Path) -> Path:
    """A folder holding the test's store as module `test_store_module` (class JsonKeyring)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "test_store_module.py").write_text(TEST_STORE)
    return folder


def user_environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A user's environment: no PYTHON_KEYRING_BACKEND, a config folder of their own."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHON_KEYRING_BACKEND"}
    env.update(XDG_CONFIG_HOME=str(tmp_path / "config"), PYTHONPATH=str(ROOT), **extra)
    return env


def sign_in(server, tmp_path: Path, env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "desktop.app", "login", "--data-dir", str(tmp_path / "data"), "--server", server.url,
         "--username", "demo", "--password-stdin"],
        input="demo\n", capture_output=True, text=True, env=env, timeout=120,
    )
    assert done.returncode == 0, done.stderr


def kept_tokens(store: Path) -> dict[str, str]:
    path = store / "secrets.json"
    return json.loads(path.read_text()) if path.exists() else {}


def test_a_sign_in_keeps_its_token_in_the_store_PYTHON_KEYRING_BACKEND_names(server, tmp_path):
    store = store_folder(tmp_path / "store")
    env = user_environment(tmp_path, PYTHON_KEYRING_BACKEND="test_store_module.JsonKeyring")
    env["PYTHONPATH"] = os.pathsep.join([str(store), str(ROOT)])
    sign_in(server, tmp_path, env)
    assert f"{TOKEN_SERVICE.format(server.url)}|demo" in kept_tokens(store)


def test_a_sign_in_keeps_its_token_in_the_store_keyrings_config_file_names(server, tmp_path):
    store = store_folder(tmp_path / "store")
    config = tmp_path / "config" / "python_keyring"
    config.mkdir(parents=True)
    (config / "keyringrc.cfg").write_text(
        f"[backend]\ndefault-keyring = test_store_module.JsonKeyring\nkeyring-path = {store}\n")
    sign_in(server, tmp_path, user_environment(tmp_path))
    assert f"{TOKEN_SERVICE.format(server.url)}|demo" in kept_tokens(store)


@pytest.mark.skipif(sys.platform != "linux" or secret_service.available() is not None,
                    reason=f"Linux with a Secret Service to start ({secret_service.available()})")
def test_on_linux_a_sign_in_keeps_its_token_in_the_secret_service(server, tmp_path, monkeypatch):
    with secret_service.secret_service(tmp_path / "home") as service_env:
        sign_in(server, tmp_path, user_environment(tmp_path, **service_env))
        for name, value in service_env.items():
            monkeypatch.setenv(name, value)
        from keyring.backends.SecretService import Keyring

        assert Keyring().get_password(TOKEN_SERVICE.format(server.url), "demo")


CHOICE_AND_MODULES = (
    "import sys; from desktop.sync.keyring_choice import use_os_keyring; b = use_os_keyring(); "
    "print(type(b).__module__ + '.' + type(b).__name__); "
    "print(' '.join(m for m in sys.modules if m.startswith(('keyring.backends.', 'keyrings.'))))"
)


def chosen_and_loaded(env: dict[str, str]) -> tuple[str, set[str]]:
    """In a fresh process: the backend chosen, and every keyring backend module loaded."""
    done = subprocess.run([sys.executable, "-c", CHOICE_AND_MODULES], capture_output=True, text=True,
                          env=env, timeout=60, check=True)
    chosen, loaded = (done.stdout.splitlines() + ["", ""])[:2]
    return chosen, set(loaded.split())


def test_choosing_the_named_store_loads_no_other_backend(tmp_path):
    env = {**user_environment(tmp_path), "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring"}
    chosen, loaded = chosen_and_loaded(env)
    assert chosen == "keyrings.alt.file.PlaintextKeyring"
    assert loaded <= {"keyrings.alt", "keyrings.alt.file", "keyrings.alt.file_base", "keyrings.alt.escape",
                      "keyring.backends.fail"}  # keyring.core imports its fail backend itself


@pytest.mark.skipif(sys.platform != "linux" or secret_service.available() is not None,
                    reason=f"Linux with a Secret Service to start ({secret_service.available()})")
def test_choosing_the_secret_service_loads_only_the_linux_stores(tmp_path):
    with secret_service.secret_service(tmp_path / "home") as service_env:
        chosen, loaded = chosen_and_loaded(user_environment(tmp_path, **service_env))
    assert chosen == "keyring.backends.SecretService.Keyring"
    assert loaded <= {"keyring.backends.SecretService", "keyring.backends.kwallet", "keyring.backends.fail"}


@pytest.mark.parametrize("platform", ["win32", "darwin", "linux", "freebsd14"])
def test_each_os_store_is_a_keyring_backend(platform):
    for name in os_stores(platform):
        module, _, cls = name.rpartition(".")
        assert issubclass(getattr(importlib.import_module(module), cls), KeyringBackend)

"""The server's Ed25519 credential-signing key, and `GET /keys`.

The key pair is made on first start and kept as `DATA_DIR/signing-key.pem` (PKCS#8 PEM,
unencrypted, file mode 0600). It is created with O_EXCL, so several processes starting
together on one data dir end up with the same key. Back it up with the database: a
certificate's signed JSON can only be checked against the key that signed it.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import APIRouter, Request

from cmecore.credentials import multikey
from cmecore.signatures import key_id_for
from cmecore.protocol import SigningKey, SigningKeys

KEY_FILE = "signing-key.pem"


@dataclass(frozen=True)
class ServerKey:
    private_key: Ed25519PrivateKey
    key_id: str
    public_key_b64: str

    @property
    def info(self) -> SigningKey:
        return SigningKey(key_id=self.key_id, public_key=self.public_key_b64)

    @property
    def did(self) -> str:
        """The key as a did:key: the issuer id of the credentials it signs (cmecore.credentials)."""
        return multikey.did_key(base64.b64decode(self.public_key_b64))

    @property
    def verification_method(self) -> str:
        return multikey.verification_method(base64.b64decode(self.public_key_b64))


def _from_private(private_key: Ed25519PrivateKey) -> ServerKey:
    raw = private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return ServerKey(private_key, key_id_for(raw), base64.b64encode(raw).decode("ascii"))


def load_or_create_key(data_dir: Path) -> ServerKey:
    path = Path(data_dir) / KEY_FILE
    if not path.exists():
        private_key = Ed25519PrivateKey.generate()
        pem = private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        tmp = path.with_name(f".{KEY_FILE}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, pem)
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)  # atomic, and fails if another process made the key first
        except FileExistsError:
            pass
        except OSError:  # no hard links on this filesystem
            if not path.exists():
                os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    if os.name == "posix":
        os.chmod(path, 0o600)
    private_key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(private_key, Ed25519PrivateKey):
        raise ValueError(f"{path}: not an Ed25519 private key")
    return _from_private(private_key)


router = APIRouter(tags=["certificates"])


@router.get("/keys", response_model=SigningKeys)
def get_keys(request: Request) -> SigningKeys:
    """The key(s) that sign certificate credentials; no sign-in needed."""
    key: ServerKey = request.app.state.signing_key
    return SigningKeys(keys=[key.info])

"""Local HTTPS for the fakes: a CA made on this machine and a server certificate for the loopback names.

Apps that insist on https trust the CA: `NODE_EXTRA_CA_CERTS=ca.pem`, or the bundle (the usual public
roots plus the local CA) as `SSL_CERT_FILE` / `REQUESTS_CA_BUNDLE`, or the OS trust store. The CA is
kept in its folder and reused, so trust set up once survives restarts; the server certificate is
issued afresh at every start.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import certifi

CA_CERT = "ca.pem"
CA_KEY = "ca-key.pem"
CA_BUNDLE = "ca-bundle.pem"
SERVER_CERT = "server.pem"
SERVER_KEY = "server-key.pem"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class TlsFiles:
    """The PEM files of one local CA and the server certificate it issued."""

    ca_cert: Path
    ca_bundle: Path
    server_cert: Path
    server_key: Path

    @property
    def server_pair(self) -> tuple[str, str]:
        """(certificate chain, private key), as `ServerThread(tls=...)` takes them."""
        return str(self.server_cert), str(self.server_key)

    def describe(self) -> dict[str, str]:
        return {
            "ca_cert": str(self.ca_cert),
            "ca_bundle": str(self.ca_bundle),
            "server_cert": str(self.server_cert),
            "server_key": str(self.server_key),
        }


def trust_context(ca_file: str | Path) -> ssl.SSLContext:
    """A client context that verifies public hosts as usual and the local fakes through the swoosh CA."""
    context = ssl.create_default_context(cafile=certifi.where())
    context.load_verify_locations(cafile=str(ca_file))
    return context


def ensure_tls_files(folder: Path, names: tuple[str, ...] = LOOPBACK_NAMES) -> TlsFiles:
    """Reuse (or create) the CA in `folder` and issue a server certificate for `names` with it."""
    # trustme pulls in `cryptography`; only starting a TLS stack pays for that import.
    import trustme

    folder.mkdir(parents=True, exist_ok=True)
    files = TlsFiles(folder / CA_CERT, folder / CA_BUNDLE, folder / SERVER_CERT, folder / SERVER_KEY)
    with _locked(folder):
        ca_key = folder / CA_KEY
        if files.ca_cert.exists() and ca_key.exists():
            ca = trustme.CA.from_pem(files.ca_cert.read_bytes(), ca_key.read_bytes())
        else:
            ca = trustme.CA(organization_name="swoosh", organization_unit_name="swoosh local CA")
            _write(ca_key, ca.private_key_pem.bytes(), private=True)
            _write(files.ca_cert, ca.cert_pem.bytes())
        _write(files.ca_bundle, Path(certifi.where()).read_bytes().rstrip(b"\n") + b"\n" + files.ca_cert.read_bytes())
        leaf = ca.issue_cert(*names, common_name="swoosh")
        _write(files.server_key, leaf.private_key_pem.bytes(), private=True)
        _write(files.server_cert, b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
    return files


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Two stacks starting at once in the same folder must agree on one CA."""
    with open(folder / ".tls.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _write(path: Path, data: bytes, private: bool = False) -> None:
    """Atomically, so a reader never sees half a PEM; private keys readable by their owner only."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    tmp.replace(path)

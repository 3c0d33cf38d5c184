"""Shared helpers of the client tests.

The tests run against a real Veil server started by the Node driver (test/python-client.test.ts),
which passes where it listens and one token per demo user in the environment:

    VEIL_HOST, VEIL_PORT                      the server
    VEIL_TEST_TOKEN_ALICE, ..._BOB, ...        a JWT per demo user (alice, bob, carol, dave, erin)
    VEIL_TEST_TRIAL_CSV                        the raw trial file behind drug_xyz.trial_july2020

Expected values come from the server's own JSON answer (fetched here with urllib, not through the
client) and from the raw file, so the client is checked against something it did not produce.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import unittest
import urllib.error
import urllib.request
from typing import Any, Callable, Dict, List, Optional, Tuple

import veil

TRIAL = "drug_xyz.trial_july2020"
EVENTS = "drug_xyz.adverse_events"
APPLICATION = "veil-tests"
_CLIENT_VARIABLES = ("VEIL_TOKEN", "VEIL_TOKEN_FILE", "DOMINO_TOKEN_FILE")


def _required(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"{name} is not set: run these tests through test/python-client.test.ts (npm test), which starts a Veil server and sets it")
    return value


def host() -> str:
    return _required("VEIL_HOST")


def port() -> int:
    return int(_required("VEIL_PORT"))


def token(user: str) -> str:
    return _required(f"VEIL_TEST_TOKEN_{user.upper()}")


def connect(user: str, **options: Any) -> veil.Connection:
    """A connection authenticated as a demo user (token given explicitly, environment ignored)."""
    return veil.context(APPLICATION).enable_token_auth(token_str=token(user)).connect(host(), port(), **options)


def server_query(user: str, sql: str) -> Dict[str, Any]:
    """The server's own JSON answer to a query, without the client."""
    request = urllib.request.Request(
        f"http://{host()}:{port()}/v1/query",
        data=json.dumps({"sql": sql}).encode(),
        headers={"Authorization": f"Bearer {token(user)}", "Content-Type": "application/json", "Accept": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def server_rows(user: str, sql: str) -> List[Dict[str, Any]]:
    body = server_query(user, sql)
    names = [c["name"] for c in body["columns"]]
    return [dict(zip(names, row)) for row in body["rows"]]


def raw_trial() -> List[Dict[str, str]]:
    """The raw trial file as dicts of strings."""
    with open(_required("VEIL_TEST_TRIAL_CSV"), newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def arrow_available() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


def result_paths() -> List[str]:
    """The result formats to test: Parquet (the default) and typed CSV always, Arrow too when
    pyarrow is importable."""
    return ["parquet", "csv", "arrow"] if arrow_available() else ["parquet", "csv"]


class IsolatedEnvironment(unittest.TestCase):
    """Each test gets a private HOME and no token variables, restored afterwards, so that token
    discovery sees only what the test sets up (and never a developer's real ~/.veil/token)."""

    def setUp(self) -> None:
        super().setUp()
        self._saved = {name: os.environ.get(name) for name in (*_CLIENT_VARIABLES, "HOME")}
        for name in _CLIENT_VARIABLES:
            os.environ.pop(name, None)
        self.home = tempfile.mkdtemp(prefix="veil-py-home-")
        os.environ["HOME"] = self.home

    def tearDown(self) -> None:
        for name, value in self._saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        shutil.rmtree(self.home, ignore_errors=True)
        super().tearDown()

    def write_file(self, relative: str, content: str) -> str:
        path = os.path.join(self.home, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(content)
        return path


def replace_file(path: str, content: str) -> None:
    """Rewrites a token file the way a refresher does (write aside, rename over), and moves its
    modification time on so that the change is visible even within one timestamp tick."""
    before = os.stat(path).st_mtime_ns if os.path.exists(path) else 0
    aside = f"{path}.new"
    with open(aside, "w", encoding="utf-8") as handle:
        handle.write(content)
    os.replace(aside, path)
    os.utime(path, ns=(before + 2_000_000_000, before + 2_000_000_000))


def free_port() -> int:
    """A loopback port nothing listens on (connections to it are refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


Action = Callable[[socket.socket, bytes], None]


class StubServer:
    """A tiny HTTP server on loopback whose every connection gets the next scripted action (the
    last one repeats). It records each request's head, to check what the client sent."""

    def __init__(self, actions: List[Action], tls: Optional[ssl.SSLContext] = None):
        self._actions = list(actions)
        self._tls = tls
        self.requests: List[Tuple[str, Dict[str, str]]] = []
        self.connections = 0
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(8)
        self._socket.settimeout(0.2)
        self.port = self._socket.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._socket.accept()
            except OSError:
                continue
            if self._tls is not None:
                try:
                    client.settimeout(5)
                    client = self._tls.wrap_socket(client, server_side=True)
                except (OSError, ssl.SSLError):
                    client.close()
                    self.connections += 1
                    continue
            with client:
                client.settimeout(5)
                head = self._read_request(client)
                action = self._actions[min(self.connections, len(self._actions) - 1)]
                self.connections += 1
                try:
                    action(client, head)
                except OSError:
                    pass

    def _read_request(self, client: socket.socket) -> bytes:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = client.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        while len(rest) < length:
            chunk = client.recv(65536)
            if not chunk:
                break
            rest += chunk
        self.requests.append((lines[0] if lines else "", headers))
        return head

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._socket.close()

    def __enter__(self) -> "StubServer":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()


def hang_up(client: socket.socket, head: bytes) -> None:
    """Closes the connection after reading the request, without any response."""


def respond(status: int, body: bytes, content_type: str = "application/json", extra: Optional[Dict[str, str]] = None) -> Action:
    def action(client: socket.socket, head: bytes) -> None:
        headers = {"Content-Type": content_type, "Content-Length": str(len(body)), "X-Request-Id": "stub-request", "Connection": "close", **(extra or {})}
        lines = [f"HTTP/1.1 {status} Stub"] + [f"{k}: {v}" for k, v in headers.items()]
        client.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    return action


def respond_truncated(first_chunk: bytes, extra: Dict[str, str]) -> Action:
    """A 200 chunked response that stops after one chunk, without the final empty chunk: what a
    client sees when the server aborts a stream it cannot finish."""
    def action(client: socket.socket, head: bytes) -> None:
        headers = {"Content-Type": "text/csv", "Transfer-Encoding": "chunked", "X-Request-Id": "stub-request", **extra}
        lines = ["HTTP/1.1 200 OK"] + [f"{k}: {v}" for k, v in headers.items()]
        client.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + f"{len(first_chunk):x}\r\n".encode() + first_chunk + b"\r\n")
    return action


def self_signed_certificate(directory: str) -> Tuple[str, str]:
    """A throwaway certificate for 127.0.0.1 and localhost (with the openssl CLI): (cert, key)."""
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True,
    )
    return cert, key

"""HTTP with the standard library only: one ``http.client`` connection per request, responses
streamed to the caller, bounded retries on connection failures.

A request is retried only when it never reached the server's application: the connection was
refused, or reset/closed before any response byte. Once a response status has been received
nothing is retried (every HTTP error is final), and a timeout is not retried either (the query may
still be running on the server).
"""

from __future__ import annotations

import http.client
import io
import ipaddress
import json
import socket
import ssl
import time
import warnings
from typing import Any, Dict, Mapping, Optional, Union
from urllib.parse import quote, urlencode

from .auth import TokenSource
from .errors import VeilConnectionError, VeilError, VeilServerError, error_for_status

__all__ = ["Transport", "ResponseStream", "is_loopback_host"]


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` names this machine without touching a network: ``localhost`` or a loopback
    address (127.0.0.0/8, ::1). Any other name counts as remote, even if it resolves to 127.0.0.1."""
    name = host.strip().strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False

# Failures that happen before the server has answered, where trying again is safe: every Veil
# data request is a read (a query, a scan, a listing).
_RETRYABLE = (ConnectionRefusedError, ConnectionResetError, ConnectionAbortedError, BrokenPipeError, http.client.RemoteDisconnected)
_MAX_ERROR_BODY = 1 << 20


class ResponseStream(io.RawIOBase):
    """A successful HTTP response as a raw binary file, for ``pandas.read_csv`` or
    ``pyarrow.ipc.open_stream``: bytes are read from the socket as the consumer asks for them,
    never buffered whole. A body that breaks off (the server aborts a stream it cannot finish) is
    raised as :class:`VeilConnectionError` ``RESPONSE_INTERRUPTED``, never seen as a short result.
    Closing it closes the connection."""

    def __init__(self, connection: http.client.HTTPConnection, response: http.client.HTTPResponse):
        super().__init__()
        self._connection = connection
        self._response = response
        self.request_id: Optional[str] = response.getheader("X-Request-Id")
        self.headers = response.headers

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        try:
            return self._response.readinto(buffer)
        except (http.client.IncompleteRead, OSError, http.client.HTTPException) as error:
            if isinstance(error, (socket.timeout, TimeoutError)):
                raise VeilConnectionError("the server stopped sending the result (timeout)", code="TIMEOUT", status=self._response.status, request_id=self.request_id) from None
            raise VeilConnectionError(
                "the result stream broke off before its end (the server aborted it); the partial result was discarded",
                code="RESPONSE_INTERRUPTED", status=self._response.status, request_id=self.request_id,
            ) from None

    def close(self) -> None:
        if not self.closed:
            try:
                self._response.close()
            finally:
                self._connection.close()
        super().close()


class Transport:
    """Sends requests to one Veil server with a bearer token from ``token_source``."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        timeout: Optional[float],
        tls: Union[bool, ssl.SSLContext, None],
        token_source: TokenSource,
        client_header: str,
        retries: int = 3,
        backoff: float = 0.2,
    ):
        if retries < 1:
            raise ValueError("retries must be at least 1 (the first attempt counts)")
        self.host = host
        self.port = int(port)
        self.timeout = timeout
        self.token_source = token_source
        self.client_header = client_header
        self.retries = retries
        self.backoff = backoff
        if tls is None:
            # The bearer token travels with every request: in clear text only on this machine.
            tls = not is_loopback_host(host)
        elif tls is False and not is_loopback_host(host):
            warnings.warn(
                f"connecting to {host} without TLS: the bearer token and the data travel in clear text",
                stacklevel=3,
            )
        if isinstance(tls, ssl.SSLContext):
            self._ssl_context: Optional[ssl.SSLContext] = tls
        elif tls:
            self._ssl_context = ssl.create_default_context()
        else:
            self._ssl_context = None

    @property
    def base_url(self) -> str:
        scheme = "https" if self._ssl_context is not None else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"

    def _new_connection(self) -> http.client.HTTPConnection:
        if self._ssl_context is not None:
            return http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout, context=self._ssl_context)
        return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)

    def open(self, method: str, path: str, *, body: Any = None, accept: str = "application/json", headers: Optional[Mapping[str, str]] = None) -> ResponseStream:
        """Sends one request and returns the successful response as a stream (the caller closes it).
        HTTP errors are raised as the matching :class:`~veil.errors.VeilError` subclass."""
        payload = None if body is None else json.dumps(body).encode("utf-8")
        # The token is looked up per request (before any connection), so refreshed tokens are used.
        all_headers: Dict[str, str] = {
            "Authorization": f"Bearer {self.token_source.token()}",
            "Accept": accept,
            "X-Veil-Client": self.client_header,
        }
        if payload is not None:
            all_headers["Content-Type"] = "application/json"
        if headers:
            all_headers.update(headers)
        attempt = 0
        while True:
            attempt += 1
            connection = self._new_connection()
            try:
                connection.request(method, path, body=payload, headers=all_headers)
                response = connection.getresponse()
            except _RETRYABLE as error:
                connection.close()
                if attempt < self.retries:
                    time.sleep(self.backoff * (2 ** (attempt - 1)))
                    continue
                raise VeilConnectionError(
                    f"cannot reach Veil at {self.base_url} after {attempt} attempt{'s' if attempt > 1 else ''} ({_describe(error)})",
                    code="CONNECTION_FAILED", attempts=attempt,
                ) from None
            except (socket.timeout, TimeoutError):
                connection.close()
                raise VeilConnectionError(f"Veil at {self.base_url} did not answer within {self.timeout} s", code="TIMEOUT", attempts=attempt) from None
            except ssl.SSLError as error:
                connection.close()
                hint = "" if not isinstance(error, ssl.SSLError) or "WRONG_VERSION_NUMBER" not in str(error) else (
                    "; the server seems to speak plain HTTP: pass tls=False if that is intended"
                )
                raise VeilConnectionError(f"TLS with {self.base_url} failed ({_describe(error)}){hint}", code="TLS_ERROR", attempts=attempt) from None
            except OSError as error:  # name resolution, unreachable network: not transient
                connection.close()
                raise VeilConnectionError(f"cannot reach Veil at {self.base_url} ({_describe(error)})", code="CONNECTION_FAILED", attempts=attempt) from None
            except http.client.HTTPException as error:  # not an HTTP answer at all
                connection.close()
                raise VeilServerError(f"the answer from {self.base_url} is not valid HTTP ({type(error).__name__})", code="INVALID_RESPONSE") from None
            if not 200 <= response.status < 300:
                try:
                    raise _http_error(response)
                finally:
                    connection.close()
            return ResponseStream(connection, response)

    def json(self, method: str, path: str, *, body: Any = None, query: Optional[Mapping[str, str]] = None) -> Any:
        """A request whose answer is one JSON document."""
        if query:
            path = f"{path}?{urlencode(query)}"
        with self.open(method, path, body=body) as stream:
            raw = stream.read()
            try:
                return json.loads(raw)
            except ValueError:
                raise VeilServerError("the server's answer is not valid JSON", code="INVALID_RESPONSE", status=200, request_id=stream.request_id) from None


def quote_segment(value: str) -> str:
    """One URL path segment (a dataset name)."""
    return quote(value, safe="")


def _describe(error: BaseException) -> str:
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _http_error(response: http.client.HTTPResponse) -> VeilError:
    request_id = response.getheader("X-Request-Id")
    try:
        raw = response.read(_MAX_ERROR_BODY)
    except (OSError, http.client.HTTPException):
        raw = b""
    code = f"HTTP_{response.status}"
    message = (response.reason or "error").strip()
    try:
        document = json.loads(raw)
        error = document.get("error") if isinstance(document, dict) else None
        if isinstance(error, dict):
            code = str(error.get("code") or code)
            message = str(error.get("message") or message)
    except ValueError:
        text = raw.decode("utf-8", "replace").strip()
        if text:
            message = text[:500]
    if response.status < 400:  # a redirect or an informational answer: not Veil's API
        return VeilServerError(f"unexpected HTTP {response.status} ({message})", code=code, status=response.status, request_id=request_id)
    return error_for_status(response.status, code, message, request_id)

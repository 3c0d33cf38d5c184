"""The entry point: a context holds the identity (how the token is found) and makes connections."""

from __future__ import annotations

import re
import ssl
from typing import Callable, Optional, Union

from ._version import __version__
from .auth import DefaultTokenDiscovery, StaticToken, TokenFile, TokenFunction, TokenSource
from .connection import Connection
from .transport import Transport

__all__ = ["Context", "context", "client_header"]

DEFAULT_PORT = 7070
DEFAULT_TIMEOUT = 300.0
_UNSAFE = re.compile(r"[^\x21-\x7e]+")


def client_header(application_name: Optional[str] = None) -> str:
    """The ``X-Veil-Client`` value: ``python-veil/<version> pandas/<version>`` plus
    ``app/<application_name>``. The server records it in the audit trail (the ``python-veil``
    prefix makes the door ``python``)."""
    parts = [f"python-veil/{__version__}"]
    try:
        import pandas

        parts.append(f"pandas/{pandas.__version__}")
    except ImportError:
        pass
    if application_name:
        parts.append(f"app/{_UNSAFE.sub('_', application_name.strip())[:100]}")
    return " ".join(parts)


class Context:
    """Identity and settings shared by the connections it makes.

    The token is found, for every request, from the first of: what :meth:`enable_token_auth` set;
    the ``VEIL_TOKEN`` environment variable; the file named by ``VEIL_TOKEN_FILE``; ``~/.veil/token``.
    Token files are re-read when they change.
    """

    def __init__(self, application_name: Optional[str] = None, token_source: Optional[TokenSource] = None):
        self.application_name = application_name
        self._token_source: TokenSource = token_source if token_source is not None else DefaultTokenDiscovery()

    def enable_token_auth(self, token_str: Optional[str] = None, token_file: Optional[str] = None, token_func: Optional[Callable[[], str]] = None) -> "Context":
        """Uses this token for every connection of the context, instead of the environment: a
        token string, a token file (re-read whenever it changes) or a callable (called for every
        request). Exactly one of the three. Returns the context."""
        given = [v is not None for v in (token_str, token_file, token_func)]
        if sum(given) != 1:
            raise ValueError("enable_token_auth takes exactly one of token_str, token_file, token_func")
        if token_str is not None:
            self._token_source = StaticToken(token_str)
        elif token_file is not None:
            self._token_source = TokenFile(token_file, "enable_token_auth(token_file=...)")
        else:
            self._token_source = TokenFunction(token_func)  # type: ignore[arg-type]
        return self

    @property
    def token_source(self) -> TokenSource:
        """Where tokens come from (its repr names the place, never the token)."""
        return self._token_source

    def connect(
        self,
        host: str = "localhost",
        port: int = DEFAULT_PORT,
        timeout: Optional[float] = DEFAULT_TIMEOUT,
        tls: Union[bool, ssl.SSLContext, None] = None,
        *,
        result_format: Optional[str] = None,
        use_arrow: Optional[bool] = None,
        retries: int = 3,
        backoff: float = 0.2,
    ) -> Connection:
        """A connection to the Veil server at ``host:port``.

        Args:
            host, port: where Veil listens.
            timeout: seconds to wait for the server on any one socket operation (connecting, the
                first result bytes, each following read); ``None`` waits forever.
            tls: ``None`` (the default): HTTPS with the system's certificate checks, except on
                this machine (``localhost``, 127.0.0.0/8, ``::1``) where plain HTTP is used.
                ``True`` forces HTTPS, an :class:`ssl.SSLContext` brings your own checks, and
                ``False`` asks for plain HTTP: to another machine only when explicitly asked,
                with a warning, since the bearer token then travels in clear text.
            result_format: how DataFrames travel: ``"parquet"`` (the default: written by the
                server's DuckDB, read by pyarrow when installed, else by this package with numpy),
                ``"arrow"`` (an Arrow IPC stream; needs pyarrow) or ``"csv"`` (typed by the result
                schema). All give the same dtypes; see :mod:`veil.results`.
            use_arrow: older spelling: ``True`` is ``result_format="arrow"``, ``False`` is ``"csv"``.
            retries: attempts per request when the connection is refused or reset before any
                response (exponential backoff from ``backoff`` seconds). HTTP errors are never retried.
        """
        transport = Transport(
            host, port, timeout=timeout, tls=tls, token_source=self._token_source,
            client_header=client_header(self.application_name), retries=retries, backoff=backoff,
        )
        if use_arrow is not None:
            if result_format is not None:
                raise TypeError("give result_format or use_arrow, not both")
            result_format = "arrow" if use_arrow else "csv"
        return Connection(transport, result_format=result_format)

    def __repr__(self) -> str:
        app = f" application={self.application_name!r}" if self.application_name else ""
        return f"<veil.Context{app} token from {self._token_source.description}>"


def context(application_name: Optional[str] = None) -> Context:
    """A new :class:`Context`. ``application_name`` is sent along (``X-Veil-Client``) and shows in
    the audit trail."""
    return Context(application_name)

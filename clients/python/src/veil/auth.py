"""Where the client gets its bearer token.

The token is looked up for every request rather than once, so that short-lived tokens can be
rotated underneath a long-lived context (a notebook kernel) without reconnecting. Token files are
read again only when their identity, size or modification time changes.

Nothing here ever puts a token into an exception message or a repr.
"""

from __future__ import annotations

import os
import re
import threading
from typing import Callable, Optional, Tuple

from .errors import VeilAuthError

__all__ = ["TokenSource", "StaticToken", "TokenFile", "TokenFunction", "DefaultTokenDiscovery"]

_VISIBLE_ASCII = re.compile(r"^[\x21-\x7e]+$")
_BEARER_PREFIX = re.compile(r"^bearer\s+", re.IGNORECASE)


def checked_token(value: str, description: str) -> str:
    """Trims the token (files and shell variables end in newlines) and drops a pasted ``Bearer ``
    prefix. Anything that is not one run of visible ASCII is refused: it cannot be a JWT, and
    ``http.client`` would otherwise reject the header with an error that quotes it."""
    token = _BEARER_PREFIX.sub("", value.strip())
    if token == "":
        raise VeilAuthError(f"the Veil token from {description} is empty", code="TOKEN_MISSING")
    if not _VISIBLE_ASCII.match(token):
        raise VeilAuthError(f"the Veil token from {description} contains spaces or non-ASCII characters", code="TOKEN_INVALID_FORMAT")
    return token


class TokenSource:
    """Something that yields a bearer token for each request."""

    #: Where the token comes from, for messages; never the token itself.
    description = "a token source"

    def token(self) -> str:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} from {self.description}>"


class StaticToken(TokenSource):
    """A fixed token string."""

    def __init__(self, value: str, description: str = "the token_str argument"):
        self.description = description
        self._token = checked_token(value, description)

    def token(self) -> str:
        return self._token


class TokenFunction(TokenSource):
    """A callable returning a token (a credential helper, a secret manager), called per request."""

    def __init__(self, func: Callable[[], str]):
        if not callable(func):
            raise TypeError("token_func must be callable")
        self.description = "the token_func callable"
        self._func = func

    def token(self) -> str:
        try:
            value = self._func()
        except Exception as error:  # the provider's own failure; its message may not name the token
            raise VeilAuthError(f"the token_func callable failed ({type(error).__name__})", code="TOKEN_PROVIDER_FAILED") from error
        if not isinstance(value, str):
            raise VeilAuthError("the token_func callable did not return a string", code="TOKEN_PROVIDER_FAILED")
        return checked_token(value, self.description)


class TokenFile(TokenSource):
    """A token file (a notebook platform's identity file, a mounted secret, a file a sidecar
    refreshes). It is re-read whenever its device/inode, size or modification time changes, so a
    refreshed token is used on the next request without reading the file on every request.
    ``os.stat`` follows symlinks, which covers the atomic symlink swap Kubernetes uses for secrets.
    """

    def __init__(self, path: str, named_by: Optional[str] = None):
        self.path = os.path.expanduser(path)
        self.named_by = named_by
        self.description = f"the file {self.path}" + (f" named by {named_by}" if named_by else "")
        self._lock = threading.Lock()
        self._cached: Optional[Tuple[Tuple[int, int, int, int], str]] = None

    def token(self) -> str:
        with self._lock:
            try:
                info = os.stat(self.path)
                version = (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)
                if self._cached is not None and self._cached[0] == version:
                    return self._cached[1]
                with open(self.path, "r", encoding="utf-8") as handle:
                    text = handle.read()
            except (OSError, UnicodeDecodeError) as error:
                reason = type(error).__name__ if not isinstance(error, OSError) else (os.strerror(error.errno) if error.errno else type(error).__name__)
                raise VeilAuthError(f"cannot read the token file {self.path}" + (f" named by {self.named_by}" if self.named_by else "") + f" ({reason})", code="TOKEN_UNREADABLE") from None
            token = checked_token(text, self.description)
            self._cached = (version, token)
            return token


def default_token_file() -> str:
    """``~/.veil/token`` (resolved per call, so it follows ``HOME``)."""
    return os.path.join(os.path.expanduser("~"), ".veil", "token")


class DefaultTokenDiscovery(TokenSource):
    """The default search, evaluated per request: ``VEIL_TOKEN``, then the file named by
    ``VEIL_TOKEN_FILE``, then ``~/.veil/token``. (An explicit ``enable_token_auth`` comes first and
    replaces this search altogether.)"""

    description = "the VEIL_TOKEN environment variable, the file named by VEIL_TOKEN_FILE, or ~/.veil/token"

    def __init__(self) -> None:
        self._files: dict = {}
        self._lock = threading.Lock()

    def _file(self, path: str, named_by: Optional[str]) -> TokenFile:
        key = (os.path.expanduser(path), named_by)
        with self._lock:
            source = self._files.get(key)
            if source is None:
                source = self._files[key] = TokenFile(path, named_by)
            return source

    def token(self) -> str:
        from_env = os.environ.get("VEIL_TOKEN", "")
        if from_env.strip():
            return checked_token(from_env, "the VEIL_TOKEN environment variable")
        file_name = os.environ.get("VEIL_TOKEN_FILE", "")
        if file_name.strip():
            return self._file(file_name.strip(), "VEIL_TOKEN_FILE").token()
        home_file = default_token_file()
        if os.path.exists(home_file):
            return self._file(home_file, None).token()
        raise VeilAuthError(
            "no Veil token found; looked in: ctx.enable_token_auth(token_str=..., token_file=... or token_func=...), "
            f"the VEIL_TOKEN environment variable, a file named by the VEIL_TOKEN_FILE environment variable, and {home_file}",
            code="TOKEN_MISSING",
        )

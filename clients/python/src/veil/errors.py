"""Exceptions raised by the Veil client.

One class per thing a caller reacts to differently: re-authenticate (:class:`VeilAuthError`), ask
for access (:class:`VeilPermissionError`), fix the name (:class:`VeilNotFoundError`), fix the query
(:class:`VeilQueryError`), retry later (:class:`VeilServerError`) or check the network
(:class:`VeilConnectionError`). Each carries the server's stable string ``code`` (``INVALID_SQL``,
``DATASET_NOT_FOUND``, ...) or the client's own (``TOKEN_MISSING``, ``CONNECTION_FAILED``, ...), the
HTTP ``status`` and the ``request_id`` (the server's ``X-Request-Id``, the key of the request in
``veil_system.audit_log``). Messages are the server's own, which never echo credentials, or written
here without the token.
"""

from __future__ import annotations

from typing import Optional

__all__ = [
    "VeilError",
    "VeilAuthError",
    "VeilPermissionError",
    "VeilNotFoundError",
    "VeilQueryError",
    "VeilServerError",
    "VeilConnectionError",
    "error_for_status",
]


class VeilError(Exception):
    """Base class of every error this client raises.

    Attributes:
        code: stable string code (the server's, or the client's own such as ``TOKEN_MISSING``).
        message: human-readable explanation.
        status: HTTP status of the response, or ``None`` when there was no response.
        request_id: the server's ``X-Request-Id``, or ``None`` when there was no response.
    """

    def __init__(self, message: str, code: str = "ERROR", status: Optional[int] = None, request_id: Optional[str] = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.request_id = request_id

    def __str__(self) -> str:
        details = []
        if self.status is not None:
            details.append(f"HTTP {self.status}")
        if self.request_id:
            details.append(f"request {self.request_id}")
        suffix = f" ({', '.join(details)})" if details else ""
        return f"{self.code}: {self.message}{suffix}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, status={self.status!r}, request_id={self.request_id!r}, message={self.message!r})"


class VeilAuthError(VeilError):
    """HTTP 401 (``UNAUTHENTICATED``, ``INVALID_TOKEN``), or no usable token on this side
    (``TOKEN_MISSING``, ``TOKEN_UNREADABLE``, ``TOKEN_INVALID_FORMAT``, ``TOKEN_PROVIDER_FAILED``)."""


class VeilPermissionError(VeilError):
    """HTTP 403: the caller is known but a policy refuses the dataset (``ACCESS_DENIED``) or a named
    column (``COLUMN_ACCESS_DENIED``)."""


class VeilNotFoundError(VeilError):
    """HTTP 404: the dataset does not exist *or the caller may not know that it exists*. Veil answers
    both alike on purpose, so the client cannot tell them apart either."""


class VeilQueryError(VeilError):
    """Any other 4xx: invalid or disallowed SQL, a bad request, a timeout (408), a result too large
    (413), an unacceptable format (406)."""


class VeilServerError(VeilError):
    """HTTP 5xx, or a success response whose body is not what the API promises."""


class VeilConnectionError(VeilError, ConnectionError):
    """No usable response: the connection was refused or reset before any response
    (``CONNECTION_FAILED``, after the bounded retries), the server did not answer in time
    (``TIMEOUT``), or a streamed result broke off midway (``RESPONSE_INTERRUPTED``; the server
    aborts a stream it cannot finish, so a partial result is never returned as complete).

    Also a :class:`ConnectionError`, so generic network handlers catch it.

    Attributes:
        attempts: how many times the request was tried.
    """

    def __init__(self, message: str, code: str = "CONNECTION_FAILED", status: Optional[int] = None, request_id: Optional[str] = None, attempts: int = 1):
        VeilError.__init__(self, message, code, status, request_id)
        self.attempts = attempts

    def __str__(self) -> str:
        return VeilError.__str__(self)


_BY_STATUS = {401: VeilAuthError, 403: VeilPermissionError, 404: VeilNotFoundError}


def error_for_status(status: int, code: str, message: str, request_id: Optional[str]) -> VeilError:
    """The exception for an HTTP error response (the one place where statuses become classes)."""
    cls = _BY_STATUS.get(status)
    if cls is None:
        cls = VeilServerError if status >= 500 else VeilQueryError
    return cls(message, code=code, status=status, request_id=request_id)

"""Domino Data Lab: the user's identity token, propagated into the notebook.

Domino writes the JWT of the user running a workspace or job into a file and names that file in
the ``DOMINO_TOKEN_FILE`` environment variable, refreshing the file before the token expires. A
context from :func:`context` sends that token unchanged with every request (Veil validates it
against the identity provider's keys), and re-reads the file whenever it changes.

Usage::

    import os
    from veil.integration import domino

    ctx = domino.context()
    with ctx.connect(host=os.environ["VEIL_HOST"], port=int(os.environ["VEIL_PORT"])) as conn:
        df = conn.scan_as_pandas("drug_xyz.trial_july2020")
"""

from __future__ import annotations

import os
from typing import Optional

from ..auth import TokenFile, TokenSource
from ..context import Context
from ..errors import VeilAuthError

__all__ = ["context", "TOKEN_FILE_VARIABLE"]

#: The environment variable naming Domino's token file.
TOKEN_FILE_VARIABLE = "DOMINO_TOKEN_FILE"


class DominoTokenFile(TokenSource):
    """The file named by ``DOMINO_TOKEN_FILE`` (looked up per request), re-read when it changes."""

    description = f"the file named by {TOKEN_FILE_VARIABLE}"

    def __init__(self) -> None:
        self._file: Optional[TokenFile] = None

    def token(self) -> str:
        path = os.environ.get(TOKEN_FILE_VARIABLE, "").strip()
        if not path:
            raise VeilAuthError(
                f"the {TOKEN_FILE_VARIABLE} environment variable is not set: it names the file holding your Domino identity token "
                "(run inside a Domino workspace or job, or use veil.context() with a Veil token)",
                code="TOKEN_MISSING",
            )
        if self._file is None or self._file.path != os.path.expanduser(path):
            self._file = TokenFile(path, TOKEN_FILE_VARIABLE)
        if not os.path.exists(self._file.path):
            raise VeilAuthError(f"the token file {self._file.path} named by {TOKEN_FILE_VARIABLE} does not exist", code="TOKEN_UNREADABLE")
        return self._file.token()


def context(application_name: Optional[str] = None) -> Context:
    """A :class:`veil.Context` that authenticates as the Domino user, with the token from the file
    named by ``DOMINO_TOKEN_FILE``.

    Raises:
        VeilAuthError: ``DOMINO_TOKEN_FILE`` is not set, or its file is missing or empty (checked
            here, and again on every request).
    """
    source = DominoTokenFile()
    source.token()  # fail now, with a clear message, rather than on the first query
    return Context(application_name, token_source=source)

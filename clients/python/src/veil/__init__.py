"""Veil client: read governed datasets into pandas, exactly as your policies allow.

Quick start::

    import veil

    ctx = veil.context()                      # token from VEIL_TOKEN, VEIL_TOKEN_FILE or ~/.veil/token
    with ctx.connect(host="localhost", port=7070) as conn:
        df = conn.scan_as_pandas("drug_xyz.trial_july2020")
        counts = conn.execute("SELECT country, count(*) AS n FROM drug_xyz.trial_july2020 GROUP BY ALL")

In a notebook platform that provides the user's identity as a token file, use
:func:`veil.integration.domino.context` instead.
"""

from ._version import __version__
from .connection import Connection
from .context import Context, context
from .errors import (
    VeilAuthError,
    VeilConnectionError,
    VeilError,
    VeilNotFoundError,
    VeilPermissionError,
    VeilQueryError,
    VeilServerError,
)
from . import integration  # so that veil.integration.domino works after a plain "import veil"

__all__ = [
    "__version__",
    "context",
    "Context",
    "Connection",
    "VeilError",
    "VeilAuthError",
    "VeilPermissionError",
    "VeilNotFoundError",
    "VeilQueryError",
    "VeilServerError",
    "VeilConnectionError",
    "integration",
]

"""A connection to one Veil server: queries, scans and the catalog."""

from __future__ import annotations

import re
import struct
import warnings
from typing import Any, Dict, List, Optional, Sequence

from .errors import VeilError, VeilServerError
from .parquet import UnsupportedParquet, read_parquet_frame
from .results import SCHEMA_HEADER, arrow_table_to_frame, unique_names, decode_schema_header, parquet_can_carry, read_arrow, read_csv_typed
from .transport import ResponseStream, Transport, quote_segment

__all__ = ["Connection", "looks_like_sql"]

ARROW = "application/vnd.apache.arrow.stream"
CSV = "text/csv"
PARQUET = "application/vnd.apache.parquet"
RESULT_FORMATS = {"parquet": PARQUET, "arrow": ARROW, "csv": CSV}
_READ_BUFFER = 1 << 20

_SQL_START = re.compile(r"^\s*(?:(?:select|with|from|values)\b|\()", re.IGNORECASE)


def looks_like_sql(text: str) -> bool:
    """True for SQL (starts with SELECT, WITH, FROM, VALUES or "(", or contains whitespace), False
    for a dataset name such as ``drug_xyz.trial_july2020``."""
    return bool(_SQL_START.match(text)) or any(ch.isspace() for ch in text.strip())


def _pyarrow_available() -> bool:
    try:
        import pyarrow  # noqa: F401
        import pyarrow.ipc  # noqa: F401
    except ImportError:
        return False
    return True


def _quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Connection:
    """A connection to a Veil server, made by :meth:`veil.Context.connect`.

    Every call is one HTTP request carrying the context's current token, so a refreshed token (or a
    token file that now holds another user's token) takes effect on the next call. Use it as a
    context manager (``with ctx.connect(...) as conn:``) or call :meth:`close`.

    DataFrames travel as Parquet by default: the server's DuckDB writes it natively (as fast as
    its CSV and half the bytes), and it is read by pyarrow when installed, else by
    :mod:`veil.parquet` with numpy. Results with types that module does not decode (unsigned or
    128-bit integers, lists, structs, intervals...) come as CSV typed by the result schema
    instead. ``result_format="arrow"`` (pyarrow) or ``"csv"`` choose a path; all give the same
    dtypes (see :mod:`veil.results`).
    """

    def __init__(self, transport: Transport, result_format: Optional[str] = None):
        self._transport = transport
        self._closed = False
        result_format = _check_format(result_format or "parquet")
        if result_format == "arrow" and not _pyarrow_available():
            raise ImportError('result_format="arrow" needs pyarrow, which cannot be imported')
        #: How DataFrames travel: "parquet", "arrow" or "csv".
        self.result_format = result_format

    @property
    def use_arrow(self) -> bool:
        """True when results travel as an Arrow IPC stream."""
        return self.result_format == "arrow"

    # -- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        """Closes the connection; further calls raise :class:`VeilError`. (Requests do not share
        sockets, so there is nothing held open between calls.)"""
        self._closed = True

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> "Connection":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<veil.Connection {self._transport.base_url} ({state}, {self.result_format})>"

    def _live(self) -> Transport:
        if self._closed:
            raise VeilError("the connection is closed", code="CONNECTION_CLOSED")
        return self._transport

    # -- data --------------------------------------------------------------------------------

    def scan_as_pandas(
        self, dataset_or_sql: str, max_records: Optional[int] = None, columns: Optional[Sequence[str]] = None, result_format: Optional[str] = None
    ) -> Any:
        """Reads a dataset (``"db.name"``) or the result of a SQL query into a pandas DataFrame,
        exactly as the caller's policies allow (rows filtered, columns masked or absent).

        Args:
            dataset_or_sql: a dataset name, or a SELECT statement (anything that starts with
                SELECT, WITH, FROM, VALUES or "(" or contains whitespace is taken as SQL).
            max_records: at most this many rows.
            columns: only these columns, in this order.
            result_format: this call's transport ("parquet", "arrow" or "csv"); default the
                connection's.

        Raises:
            VeilPermissionError: a policy refuses the dataset or a named column.
            VeilNotFoundError: no such dataset, or one the caller may not know of.
            VeilQueryError: invalid or disallowed SQL.
        """
        route, body = self._data_request(dataset_or_sql, max_records, columns)
        return self._fetch_frame(route, body, _check_format(result_format or self.result_format))

    def execute(self, sql: str, max_records: Optional[int] = None) -> Any:
        """Runs one SELECT statement and returns its result as a pandas DataFrame."""
        body: Dict[str, Any] = {"sql": sql}
        if max_records is not None:
            body["max_rows"] = _non_negative(max_records)
        return self._fetch_frame("/v1/query", body, self.result_format)

    def scan_as_json(self, dataset_or_sql: str, max_records: Optional[int] = None, columns: Optional[Sequence[str]] = None) -> List[Dict[str, Any]]:
        """Like :meth:`scan_as_pandas`, as a list of dicts (one per row, JSON values: dates as
        ISO strings, NULL as ``None``). With duplicate column names the last one wins."""
        route, body = self._data_request(dataset_or_sql, max_records, columns)
        document = self._live().json("POST", route, body=body)
        try:
            names = [c["name"] for c in document["columns"]]
            return [dict(zip(names, row)) for row in document["rows"]]
        except (KeyError, TypeError):
            raise VeilServerError("the result is not in the documented JSON shape", code="INVALID_RESPONSE", status=200) from None

    def _data_request(self, dataset_or_sql: str, max_records: Optional[int], columns: Optional[Sequence[str]]):
        if not isinstance(dataset_or_sql, str) or dataset_or_sql.strip() == "":
            raise ValueError("a dataset name or a SQL statement is required")
        if columns is not None:
            if isinstance(columns, str) or not all(isinstance(c, str) for c in columns):
                raise TypeError("columns must be a list of column names")
            columns = list(columns)
        body: Dict[str, Any] = {}
        if looks_like_sql(dataset_or_sql):
            sql = dataset_or_sql
            if columns is not None:
                inner = dataset_or_sql.strip().rstrip(";")
                sql = f"SELECT {', '.join(_quote_identifier(c) for c in columns)} FROM ({inner}) AS veil_columns"
            route = "/v1/query"
            body["sql"] = sql
        else:
            route = "/v1/scan"
            body["dataset"] = dataset_or_sql.strip()
            if columns is not None:
                body["columns"] = columns
        if max_records is not None:
            body["max_rows"] = _non_negative(max_records)
        return route, body

    def _fetch_frame(self, route: str, body: Dict[str, Any], result_format: str) -> Any:
        if result_format == "arrow" and not _pyarrow_available():
            raise ImportError('result_format="arrow" needs pyarrow, which cannot be imported')
        transport = self._live()
        stream = transport.open("POST", route, body=body, accept=RESULT_FORMATS[result_format], headers={SCHEMA_HEADER: "include"})
        with stream:
            schema = _schema_of(stream)
            if result_format == "parquet":
                if schema is not None and not parquet_can_carry(schema):
                    # Closing the response stops the server's query; CSV carries every type.
                    stream.close()
                    return self._fetch_frame(route, body, "csv")
                data = _read_all(stream)
                if _pyarrow_available():
                    import io

                    import pyarrow.parquet

                    return arrow_table_to_frame(pyarrow.parquet.read_table(io.BytesIO(data)), schema)
                try:
                    frame = read_parquet_frame(data)
                except UnsupportedParquet:
                    return self._fetch_frame(route, body, "csv")
                except (IndexError, KeyError, ValueError, TypeError, struct.error) as error:
                    # A file this decoder misreads must not become a wrong frame: CSV carries every type.
                    warnings.warn(f"veil: the Parquet result could not be decoded ({type(error).__name__}: {error}); fetching it as CSV", RuntimeWarning, stacklevel=3)
                    return self._fetch_frame(route, body, "csv")
                if schema is not None:
                    if len(schema) != len(frame.columns):
                        raise VeilServerError("the Parquet result does not have the columns its schema header lists", code="INVALID_RESPONSE", status=200, request_id=stream.request_id)
                    frame.columns = unique_names([c["name"] for c in schema])
                return frame
            buffered = _buffered(stream)
            if result_format == "arrow":
                return read_arrow(buffered, schema)
            if schema is None:
                raise VeilServerError(
                    f"the server sent CSV without the {SCHEMA_HEADER} header this client needs to type the columns; "
                    "upgrade the server or install pyarrow",
                    code="MISSING_RESULT_SCHEMA", status=200, request_id=stream.request_id,
                )
            return read_csv_typed(buffered, schema)

    # -- catalog -----------------------------------------------------------------------------

    def list_databases(self) -> List[str]:
        """Names of the databases that hold at least one dataset the caller can see."""
        return sorted({d["database"] for d in self.list_datasets()})

    def list_datasets(self, database: Optional[str] = None) -> List[Dict[str, Any]]:
        """The datasets the caller can see (``name``, ``database``, ``description``, ``owner``,
        ``tags``, ``access``: ``read`` or ``metadata``), optionally of one database."""
        query = {"database": database} if database is not None else None
        return list(self._live().json("GET", "/v1/datasets", query=query)["datasets"])

    def list_dataset_names(self, database: Optional[str] = None) -> List[str]:
        """Just the names (``db.name``) of :meth:`list_datasets`."""
        return [d["name"] for d in self.list_datasets(database)]

    def describe(self, dataset: str) -> Dict[str, Any]:
        """Schema, tags and description of a dataset, with the caller's own access per column
        (``clear``, ``masked`` or ``hidden``) and the policies behind it."""
        return self._live().json("GET", f"/v1/datasets/{quote_segment(dataset)}")

    def explain(self, sql: str) -> Dict[str, Any]:
        """What a query would see, per dataset: visible columns, the transform of each, row
        filters, the policies behind them and the rewritten SQL. Nothing is read."""
        return self._live().json("POST", "/v1/explain", body={"sql": sql})

    def whoami(self) -> Dict[str, Any]:
        """The caller as the server knows them: ``user``, ``groups``, ``attributes``."""
        return self._live().json("GET", "/v1/me")


def _check_format(result_format: str) -> str:
    if result_format not in RESULT_FORMATS:
        raise ValueError(f"result_format must be one of {', '.join(RESULT_FORMATS)} (got {result_format!r})")
    return result_format


def _non_negative(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("max_records must be a non-negative integer")
    return value


def _schema_of(stream: ResponseStream) -> Optional[List[Dict[str, str]]]:
    header = stream.headers.get(SCHEMA_HEADER)
    if not header:
        return None
    try:
        return decode_schema_header(header)
    except ValueError as error:
        raise VeilServerError(str(error), code="INVALID_RESPONSE", status=200, request_id=stream.request_id) from None


def _read_all(stream: ResponseStream) -> bytes:
    """The whole body (Parquet needs its footer before anything can be decoded), read in large
    pieces rather than io's small default ones."""
    chunks = []
    while True:
        chunk = bytearray(_READ_BUFFER * 4)
        n = stream.readinto(chunk)
        if not n:
            return b"".join(chunks)
        del chunk[n:]
        chunks.append(chunk)


def _buffered(stream: ResponseStream):
    import io

    return io.BufferedReader(stream, buffer_size=_READ_BUFFER)

"""Results as typed pandas DataFrames, from an Arrow IPC stream or from CSV plus the result schema.

Both paths give the same dtypes for the same DuckDB types:

==========================================  =================================================
DuckDB type                                 pandas dtype
==========================================  =================================================
TINYINT, SMALLINT, INTEGER, BIGINT          ``int64``; ``Int64`` when the column has NULLs
UTINYINT, USMALLINT, UINTEGER, UBIGINT      ``uint64``; ``UInt64`` when the column has NULLs
HUGEINT, UHUGEINT                           as BIGINT when every value fits 64 bits, else
                                            ``object`` holding Python ints
FLOAT, DOUBLE, DECIMAL(p,s)                 ``float64``
BOOLEAN                                     ``bool``; ``boolean`` when the column has NULLs
DATE, TIMESTAMP (any precision)             ``datetime64[ns]``
TIMESTAMP WITH TIME ZONE                    ``datetime64[ns, UTC]``
VARCHAR and everything else                 ``object`` (strings, exactly as sent: '00123' and
                                            'NA' stay strings)
==========================================  =================================================

The CSV path never lets pandas guess: strings are read as strings, and only the empty unquoted
field (DuckDB's NULL) is missing, only where the column's type gives it that meaning. It does no
per-row Python work on the common types: integers and booleans are left to pandas' C parser
(exact for 64-bit integers) and only columns with NULLs are converted afterwards, with numpy
array operations; dates and timestamps go through ``pandas.to_datetime`` with an explicit format.

Known differences of the CSV path: CSV cannot tell an empty string from NULL in pandas, so empty
VARCHAR values come back missing; dates and timestamps outside pandas' nanosecond range (before
1677, after 2262, +-infinity) come back as ``NaT``.
"""

from __future__ import annotations

import base64
import binascii
import json
import warnings
from typing import Any, BinaryIO, Dict, List, Optional, Sequence

__all__ = ["ResultColumn", "decode_schema_header", "column_kind", "parquet_can_carry", "read_csv_typed", "read_arrow", "arrow_table_to_frame", "unique_names"]

#: The request and response header of the typed CSV contract.
SCHEMA_HEADER = "X-Veil-Result-Schema"

ResultColumn = Dict[str, str]

_SIGNED = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "INT1", "INT2", "INT4", "INT8", "INT", "SHORT", "LONG", "SIGNED"}
_UNSIGNED = {"UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"}
_WIDE = {"HUGEINT", "UHUGEINT", "INT128", "UINT128"}
_FLOAT = {"FLOAT", "REAL", "FLOAT4", "DOUBLE", "FLOAT8"}
_TIMESTAMP = {"TIMESTAMP", "DATETIME", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_US", "TIMESTAMP_NS", "TIMESTAMP WITHOUT TIME ZONE"}
_TIMESTAMP_TZ = {"TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"}


def column_kind(duckdb_type: str) -> str:
    """How a DuckDB type (its text, as DuckDB prints it) is represented in pandas: one of ``int``,
    ``uint``, ``wideint``, ``float``, ``bool``, ``date``, ``timestamp``, ``timestamptz``, ``string``."""
    t = " ".join(str(duckdb_type).strip().upper().split())
    if t.endswith("]"):  # LIST and ARRAY types, whatever their element type
        return "string"
    if t in _SIGNED:
        return "int"
    if t in _UNSIGNED:
        return "uint"
    if t in _WIDE:
        return "wideint"
    if t in _FLOAT or t.startswith("DECIMAL") or t.startswith("NUMERIC"):
        return "float"
    if t in ("BOOLEAN", "BOOL", "LOGICAL"):
        return "bool"
    if t == "DATE":
        return "date"
    if t in _TIMESTAMP:
        return "timestamp"
    if t in _TIMESTAMP_TZ:
        return "timestamptz"
    return "string"


#: DuckDB types whose Parquet form :mod:`veil.parquet` decodes to the dtypes above.
_PARQUET_TYPES = {
    "VARCHAR", "BOOLEAN", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "FLOAT", "DOUBLE", "DATE",
    "TIMESTAMP", "TIMESTAMP WITH TIME ZONE",
}


def parquet_can_carry(columns: Sequence[ResultColumn]) -> bool:
    """Whether every column of a result decodes from Parquet to the same dtype as from CSV (else
    the client asks for CSV). DECIMAL up to 18 digits travels as scaled integers."""
    for column in columns:
        t = " ".join(str(column["type"]).strip().upper().split())
        if t in _PARQUET_TYPES:
            continue
        if t.startswith("DECIMAL(") and t.endswith(")"):
            try:
                if int(t[len("DECIMAL("):-1].split(",")[0]) <= 18:
                    continue
            except ValueError:
                pass
        return False
    return True


def decode_schema_header(value: str) -> List[ResultColumn]:
    """Decodes ``X-Veil-Result-Schema``: base64url (unpadded) of UTF-8 JSON
    ``[{"name": ..., "type": ...}, ...]``."""
    try:
        text = base64.urlsafe_b64decode((value.strip() + "=" * (-len(value.strip()) % 4)).encode("ascii")).decode("utf-8")
        columns = json.loads(text)
    except (ValueError, binascii.Error, UnicodeError) as error:
        raise ValueError(f"the {SCHEMA_HEADER} header cannot be decoded ({type(error).__name__})") from None
    if not isinstance(columns, list) or not all(isinstance(c, dict) and isinstance(c.get("name"), str) and isinstance(c.get("type"), str) for c in columns):
        raise ValueError(f"the {SCHEMA_HEADER} header is not a list of {{name, type}} objects")
    return [{"name": c["name"], "type": c["type"]} for c in columns]


def unique_names(names: Sequence[str]) -> List[str]:
    """Column names made unique the way the server names Arrow fields (``a``, ``a_1``, ...), since
    pandas needs unique names to type columns (DuckDB allows ``SELECT a, a``)."""
    result: List[str] = []
    seen = set()
    for index, name in enumerate(names):
        earlier = sum(1 for n in names[:index] if n == name)
        candidate = name if earlier == 0 else f"{name}_{earlier}"
        while candidate in seen:
            candidate = f"{candidate}_1"
        seen.add(candidate)
        result.append(candidate)
    return result


# ---------------------------------------------------------------------------------------------
# CSV


def _datetime_formats(pd: Any) -> Dict[str, str]:
    # pandas 2 matches an explicit strptime format strictly ("%S" would refuse ".123"); it has
    # "ISO8601" for DuckDB's variable fraction instead. pandas 1.x takes an ISO-looking format as
    # a hint for its fast ISO 8601 parser, which accepts the optional fraction and the offset.
    if int(pd.__version__.split(".")[0]) >= 2:
        return {"date": "%Y-%m-%d", "timestamp": "ISO8601", "timestamptz": "ISO8601"}
    return {"date": "%Y-%m-%d", "timestamp": "%Y-%m-%d %H:%M:%S", "timestamptz": "%Y-%m-%d %H:%M:%S%z"}


def read_csv_typed(source: BinaryIO, columns: Sequence[ResultColumn]) -> Any:
    """Reads DuckDB's CSV (a header line; NULL as an empty unquoted field) from a binary file-like
    ``source`` into a DataFrame typed from ``columns`` (the decoded schema header). The source is
    consumed as pandas reads it, never buffered whole."""
    import pandas as pd

    names = unique_names([c["name"] for c in columns])
    kinds = [column_kind(c["type"]) for c in columns]
    dtype: Dict[str, Any] = {}
    na_values: Dict[str, List[str]] = {}
    for name, kind in zip(names, kinds):
        if kind == "float":
            dtype[name] = "float64"
            na_values[name] = ["", "nan", "-nan", "NaN"]
        elif kind in ("int", "uint", "bool"):
            # Left to the C parser: exact int64/uint64/bool when the column has no NULL. A NULL
            # (no na_values here) makes it keep the strings, converted exactly below.
            pass
        elif kind == "wideint":
            dtype[name] = object
        else:
            dtype[name] = object
            na_values[name] = [""]
    # skip_blank_lines=False: a one-column row holding NULL is an empty line, not one to drop.
    with warnings.catch_warnings():
        # pandas parses in blocks: a block with a NULL gives strings, others ints ("mixed types").
        warnings.simplefilter("ignore", pd.errors.DtypeWarning)
        try:
            frame = pd.read_csv(
                source, header=0, names=names, index_col=False, dtype=dtype, na_values=na_values,
                keep_default_na=False, skip_blank_lines=False, engine="c", encoding="utf-8",
            )
        except pd.errors.EmptyDataError:  # no header line at all
            frame = pd.DataFrame({name: pd.Series([], dtype=object) for name in names})
    if len(frame) == 0:
        frame.index = pd.RangeIndex(0)  # as a non-empty result has (read_csv gives an object Index)
    formats = _datetime_formats(pd)
    for name, kind in zip(names, kinds):
        column = frame[name]
        if kind in ("int", "uint", "wideint"):
            converted = _exact_integers(pd, column, unsigned=kind == "uint")
        elif kind == "bool":
            converted = _booleans(pd, column)
        elif kind in formats:
            converted = _datetimes(pd, column, formats[kind], utc=kind == "timestamptz")
        else:
            continue
        if converted is not column:  # replacing a column splits pandas' blocks: only when needed
            frame[name] = converted
    return frame


def _exact_integers(pd: Any, series: Any, unsigned: bool) -> Any:
    """Integer column from the parser (ints, or strings with '' for NULL) to int64/uint64, or the
    nullable Int64/UInt64 when there are NULLs, without going through float."""
    import numpy as np

    target = np.uint64 if unsigned else np.int64
    kind = series.dtype.kind
    if series.dtype == target:
        return series
    if kind in "iu":
        return series.astype(target, copy=False)
    if kind == "f":  # not produced by the parser for DuckDB's integer text; kept for safety
        return series.astype("UInt64" if unsigned else "Int64")
    values = series.to_numpy(dtype=object)
    missing = (values == "") | pd.isna(values)
    has_missing = bool(missing.any())
    if has_missing:
        values = values.copy()
        values[missing] = 0
    try:
        numbers = values.astype(target)
    except (OverflowError, ValueError):
        # Beyond 64 bits (HUGEINT): Python ints, exact. Per value, but only for such columns.
        return pd.Series([None if m else int(v) for v, m in zip(values, missing)], index=series.index, dtype=object)
    if has_missing:
        return pd.Series(pd.arrays.IntegerArray(numbers, missing), index=series.index)
    return pd.Series(numbers, index=series.index)


def _booleans(pd: Any, series: Any) -> Any:
    """Boolean column from the parser (bools, or strings with '' for NULL) to bool, or the nullable
    boolean when there are NULLs."""
    if series.dtype.kind == "b":
        return series
    values = series.to_numpy(dtype=object)
    missing = (values == "") | pd.isna(values)
    truth = (values == True) | (values == "true")  # noqa: E712 (element-wise on an object array)
    if missing.any():
        return pd.Series(pd.arrays.BooleanArray(truth.astype(bool), missing.astype(bool)), index=series.index)
    return pd.Series(truth.astype(bool), index=series.index)


def _datetimes(pd: Any, series: Any, fmt: str, utc: bool) -> Any:
    try:
        result = pd.to_datetime(series, format=fmt, utc=utc)
    except (ValueError, OverflowError):
        # +-infinity and values outside pandas' nanosecond range (1677-2262) become NaT.
        result = pd.to_datetime(series, format=fmt, utc=utc, errors="coerce")
    return _as_ns(result, utc)


def _as_ns(series: Any, utc: bool) -> Any:
    target = "datetime64[ns, UTC]" if utc else "datetime64[ns]"
    return series if str(series.dtype) == target else series.astype(target)


# ---------------------------------------------------------------------------------------------
# Arrow


def read_arrow(source: BinaryIO, columns: Optional[Sequence[ResultColumn]] = None) -> Any:
    """Reads an Arrow IPC stream from a binary file-like ``source`` with pyarrow and converts it to
    the same dtypes as the CSV path. ``columns`` (the schema header, when the server sent one)
    tells which text columns are really wide integers."""
    import pyarrow.ipc

    return arrow_table_to_frame(pyarrow.ipc.open_stream(source).read_all(), columns)


def arrow_table_to_frame(table: Any, columns: Optional[Sequence[ResultColumn]] = None) -> Any:
    """A pyarrow Table (from an Arrow stream or a Parquet result) as a DataFrame with the dtypes
    of the table above."""
    import pandas as pd
    import pyarrow as pa

    kinds = [column_kind(c["type"]) for c in columns] if columns is not None and len(columns) == table.num_columns else None
    converted = [_arrow_column(pa, pd, table.column(index), kinds[index] if kinds else None) for index in range(table.num_columns)]
    return frame_of([field.name for field in table.schema], converted, table.num_rows)


# pandas' datetime64[ns] covers 1677-09-21 to 2262-04-11; per unit, the representable counts.
_NS_PER_UNIT = {"D": 86_400_000_000_000, "s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}
_NS_LIMIT = 2**63 - 1


def datetimes_from_counts(counts: Any, unit: str, mask: Any, rows: int, utc: bool) -> Any:
    """DATE/TIMESTAMP counts (days, ms, us or ns since the epoch) as datetime64[ns]. Values pandas
    cannot represent (before 1677, after 2262, +-infinity) become NaT, as on the CSV path, rather
    than wrapping around."""
    import numpy as np
    import pandas as pd

    limit = _NS_LIMIT // _NS_PER_UNIT[unit]
    outside = (counts > limit) | (counts < -limit)
    if outside.any():
        counts = np.where(outside, 0, counts)
    stamps = counts.astype("datetime64[%s]" % unit).astype("datetime64[ns]")
    if outside.any():
        stamps[outside] = np.datetime64("NaT")
    full = np.full(rows, np.datetime64("NaT"), dtype="datetime64[ns]")
    full[~mask] = stamps
    series = pd.Series(full)
    return series.dt.tz_localize("UTC") if utc else series


def float32_as_text_rounds(values: Any) -> Any:
    """float32 values as the doubles of their shortest text (0.1, not 0.10000000149011612), which
    is what the CSV path parses; numpy prints float32 in its shortest round-trip form."""
    import numpy as np

    return values.astype(str).astype(np.float64)


def frame_of(names: Sequence[str], columns: Sequence[Any], rows: int) -> Any:
    """A DataFrame of decoded columns (numpy arrays, pandas arrays or Series), built the way pandas
    ends up storing it.

    ``pd.DataFrame(dict)`` consolidates all object columns into one 2D block by stacking them,
    which for a million rows of strings costs more than decoding them did. Filling that block
    directly (one copy of the pointers) and inserting the other columns beside it gives the same
    frame several times faster, through public API only.
    """
    import numpy as np
    import pandas as pd

    values = [c.to_numpy() if isinstance(c, pd.Series) and c.dtype == object else c.array if isinstance(c, pd.Series) else c for c in columns]
    strings = [i for i, v in enumerate(values) if isinstance(v, np.ndarray) and v.dtype == object]
    block = np.empty((len(strings), rows), dtype=object)
    for row, index in enumerate(strings):
        block[row] = values[index]
    frame = pd.DataFrame(block.T, columns=[names[i] for i in strings], index=pd.RangeIndex(rows), copy=False)
    placed = set(strings)
    for index, column in enumerate(values):
        if index not in placed:
            frame.insert(index, names[index], column, allow_duplicates=True)
    return frame


def _arrow_column(pa: Any, pd: Any, column: Any, kind: Optional[str]) -> Any:
    import numpy as np

    types = pa.types
    arrow_type = column.type
    has_nulls = column.null_count > 0
    if types.is_integer(arrow_type):
        target = np.uint64 if types.is_unsigned_integer(arrow_type) else np.int64
        if not has_nulls:
            return np.asarray(column.to_numpy()).astype(target, copy=False)
        values = np.asarray(column.fill_null(0).to_numpy()).astype(target, copy=False)
        return pd.arrays.IntegerArray(values, np.asarray(column.is_null().to_numpy(), dtype=bool))
    if types.is_boolean(arrow_type):
        if not has_nulls:
            return np.asarray(column.to_numpy(), dtype=bool)
        values = np.asarray(column.fill_null(False).to_numpy(), dtype=bool)
        return pd.arrays.BooleanArray(values, np.asarray(column.is_null().to_numpy(), dtype=bool))
    if types.is_date(arrow_type) or types.is_timestamp(arrow_type):
        # Through the raw counts, so values outside datetime64[ns] become NaT as on the other paths.
        nulls = np.asarray(column.is_null().to_numpy(), dtype=bool)
        raw = column.cast(pa.int32() if types.is_date32(arrow_type) else pa.int64()).fill_null(0).to_numpy()
        counts = np.asarray(raw, dtype=np.int64)[~nulls]
        unit = "D" if types.is_date32(arrow_type) else ("ms" if types.is_date64(arrow_type) else arrow_type.unit)
        utc = types.is_timestamp(arrow_type) and arrow_type.tz is not None
        return datetimes_from_counts(counts, unit, nulls, len(column), utc).array
    if types.is_float32(arrow_type):
        values = float32_as_text_rounds(np.asarray(column.fill_null(0).to_numpy(), dtype=np.float32))
        values[np.asarray(column.is_null().to_numpy(), dtype=bool)] = np.nan
        return values
    if types.is_floating(arrow_type):
        return column.to_pandas().astype("float64", copy=False).to_numpy()
    if types.is_decimal(arrow_type):
        # Parquet keeps DECIMAL; the other paths give float64. Through the decimal text, so the
        # float is the correctly rounded one (pyarrow's direct cast can be off in the last digit).
        return column.cast(pa.string()).to_pandas().astype("float64").to_numpy()
    series = column.to_pandas()
    if kind in ("int", "uint", "wideint") and series.dtype == object:
        # The server sends 128-bit integers as text in Arrow.
        return _exact_integers(pd, series.where(series.notna(), ""), unsigned=kind == "uint")
    if has_nulls and series.dtype == object:
        # Missing values as NaN, as pandas.read_csv (the CSV path) gives them, rather than None.
        values = series.to_numpy(dtype=object)
        values[np.asarray(column.is_null().to_numpy(), dtype=bool)] = np.nan
        return values
    return series

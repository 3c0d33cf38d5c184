"""A small Parquet reader for flat result sets, in pure Python with numpy (used without pyarrow).

Veil's server writes query results with DuckDB's Parquet writer (uncompressed, data page v1).
Without pyarrow, this module turns those bytes into pandas columns with numpy doing the work per
page instead of Python per value: fixed-width values are read in place, dictionary indices and
definition levels are unpacked with vectorised bit operations, and strings are built once per
distinct value (dictionary pages) or in one pass per page.

Only what flat results need is supported: the physical types BOOLEAN, INT32, INT64, FLOAT,
DOUBLE, BYTE_ARRAY and FIXED_LEN_BYTE_ARRAY, encodings PLAIN, PLAIN_DICTIONARY/RLE_DICTIONARY and
RLE levels, no compression. Anything else raises ``UnsupportedParquet`` and the caller falls back
to the typed CSV path. See https://parquet.apache.org/docs/file-format/ for the layout.
"""

import struct

import numpy as np
import pandas as pd

from .results import datetimes_from_counts, float32_as_text_rounds, frame_of

__all__ = ["UnsupportedParquet", "read_parquet_frame"]


class UnsupportedParquet(Exception):
    """The file uses a feature this reader does not implement (the caller falls back to CSV)."""


# --- Thrift compact protocol (the encoding of Parquet's metadata) ------------------------------

_STOP, _TRUE, _FALSE, _BYTE, _I16, _I32, _I64, _DOUBLE, _BINARY, _LIST, _SET, _MAP, _STRUCT = range(13)


class _Thrift:
    __slots__ = ("buf", "pos")

    def __init__(self, buf, pos):
        self.buf = buf
        self.pos = pos

    def varint(self):
        result = 0
        shift = 0
        buf = self.buf
        while True:
            b = buf[self.pos]
            self.pos += 1
            result |= (b & 0x7F) << shift
            if b < 0x80:
                return result
            shift += 7

    def zigzag(self):
        n = self.varint()
        return (n >> 1) ^ -(n & 1)

    def value(self, kind):
        if kind == _TRUE:
            return True
        if kind == _FALSE:
            return False
        if kind == _BYTE:
            b = self.buf[self.pos]
            self.pos += 1
            return b - 256 if b > 127 else b
        if kind in (_I16, _I32, _I64):
            return self.zigzag()
        if kind == _DOUBLE:
            v = struct.unpack_from("<d", self.buf, self.pos)[0]
            self.pos += 8
            return v
        if kind == _BINARY:
            n = self.varint()
            v = bytes(self.buf[self.pos:self.pos + n])
            self.pos += n
            return v
        if kind in (_LIST, _SET):
            header = self.buf[self.pos]
            self.pos += 1
            size = header >> 4
            element = header & 0x0F
            if size == 15:
                size = self.varint()
            if element in (_TRUE, _FALSE):
                out = []
                for _ in range(size):
                    out.append(self.buf[self.pos] == 1)
                    self.pos += 1
                return out
            return [self.value(element) for _ in range(size)]
        if kind == _MAP:
            size = self.varint()
            if size == 0:
                return {}
            types = self.buf[self.pos]
            self.pos += 1
            return {self.value(types >> 4): self.value(types & 0x0F) for _ in range(size)}
        if kind == _STRUCT:
            return self.struct()
        raise UnsupportedParquet("unknown thrift type %d" % kind)

    def struct(self):
        fields = {}
        last = 0
        while True:
            header = self.buf[self.pos]
            self.pos += 1
            kind = header & 0x0F
            if kind == _STOP:
                return fields
            delta = header >> 4
            field = last + delta if delta else self.zigzag()
            last = field
            fields[field] = self.value(kind)


# --- Parquet constants -------------------------------------------------------------------------

_BOOLEAN, _INT32, _INT64, _INT96, _FLOAT, _DOUBLE_T, _BYTE_ARRAY, _FIXED = range(8)
_PLAIN, _PLAIN_DICTIONARY, _RLE, _RLE_DICTIONARY = 0, 2, 3, 8
_DATA_PAGE, _DICTIONARY_PAGE, _DATA_PAGE_V2 = 0, 2, 3
_FIXED_DTYPES = {_INT32: "<i4", _INT64: "<i8", _FLOAT: "<f4", _DOUBLE_T: "<f8"}


def _varint(buf, pos):
    result = 0
    shift = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7


def _unpack_bits(buf, pos, width, count):
    """`count` little-endian bit-packed values of `width` bits starting at byte `pos`."""
    nbytes = (count * width + 7) // 8
    bits = np.unpackbits(np.frombuffer(buf, dtype=np.uint8, count=nbytes, offset=pos), bitorder="little")
    bits = bits[: count * width].reshape(count, width)
    weights = (np.int64(1) << np.arange(width, dtype=np.int64))
    return bits @ weights


def _rle_hybrid(buf, pos, end, width, count):
    """Decodes the RLE/bit-packing hybrid (levels, dictionary indices) into an int64 array.

    Runs are walked in Python (headers only); all bit-packed runs are unpacked together in one
    numpy call, since each run is a whole number of bytes and their concatenation is one bit stream.
    """
    value_bytes = (width + 7) // 8
    segments = []  # (is_packed, start index, length, value or byte offset)
    packed = []
    filled = 0
    while filled < count and pos < end:
        header, pos = _varint(buf, pos)
        if header & 1:
            groups = header >> 1
            n = groups * 8
            packed.append(buf[pos:pos + groups * width])
            segments.append((True, filled, min(n, count - filled), n))
            pos += groups * width
        else:
            n = header >> 1
            value = int.from_bytes(buf[pos:pos + value_bytes], "little") if value_bytes else 0
            pos += value_bytes
            segments.append((False, filled, min(n, count - filled), value))
            n = min(n, count - filled)
        filled += min(n, count - filled)
    if filled < count:
        raise UnsupportedParquet("truncated RLE data")
    if len(segments) == 1 and not segments[0][0]:
        return np.full(count, segments[0][3], dtype=np.int64)
    out = np.empty(count, dtype=np.int64)
    unpacked = None
    if packed:
        stream = b"".join(packed)
        total = len(stream) * 8 // width if width else sum(seg[3] for seg in segments if seg[0])
        unpacked = _unpack_bits(stream, 0, width, total) if width else np.zeros(total, dtype=np.int64)
    offset = 0
    for is_packed, start, length, extra in segments:
        if is_packed:
            out[start:start + length] = unpacked[offset:offset + length]
            offset += extra
        else:
            out[start:start + length] = extra
    return out


def _plain_strings(buf, pos, count):
    """PLAIN BYTE_ARRAY values (4-byte length + bytes each) as a list of str."""
    if count == 0:
        return [], pos
    first = int.from_bytes(buf[pos:pos + 4], "little")
    if first == 0 and count == 1:
        return [""], pos + 4
    stride = first + 4
    end = pos + count * stride
    # Ids, tokens and codes usually share one length: slice them from one decoded block.
    if end <= len(buf):
        block = np.frombuffer(buf, dtype=np.uint8, count=count * stride, offset=pos).reshape(count, stride)
        lengths = block[:, :4].copy().view("<u4").ravel()
        if (lengths == first).all():
            if first == 0:
                return [""] * count, end
            if first < 128:
                # Short ASCII values: the length prefixes are ASCII too, so one decode of the
                # whole region and slicing around them avoids copying the values out first.
                try:
                    text = str(buf[pos:end], "ascii")
                    return [text[i + 4:i + stride] for i in range(0, count * stride, stride)], end
                except UnicodeDecodeError:
                    pass
            raw = block[:, 4:].tobytes()
            try:
                text = raw.decode("ascii")
                return [text[i:i + first] for i in range(0, count * first, first)], end
            except UnicodeDecodeError:
                return [raw[i:i + first].decode("utf-8") for i in range(0, count * first, first)], end
    out = [None] * count
    unpack = struct.unpack_from
    data = buf
    for i in range(count):
        n = unpack("<I", data, pos)[0]
        pos += 4
        out[i] = str(data[pos:pos + n], "utf-8")
        pos += n
    return out, pos


def _plain_values(buf, pos, physical, count, type_length):
    if physical in _FIXED_DTYPES:
        dtype = np.dtype(_FIXED_DTYPES[physical])
        return np.frombuffer(buf, dtype=dtype, count=count, offset=pos), pos + count * dtype.itemsize
    if physical == _BOOLEAN:
        return _unpack_bits(buf, pos, 1, count).astype(bool), pos + (count + 7) // 8
    if physical == _BYTE_ARRAY:
        values, pos = _plain_strings(buf, pos, count)
        arr = np.empty(count, dtype=object)
        arr[:] = values
        return arr, pos
    if physical == _FIXED:
        raw = np.frombuffer(buf, dtype="S%d" % type_length, count=count, offset=pos)
        return raw, pos + count * type_length
    raise UnsupportedParquet("physical type %d" % physical)


class _Column:
    """One result column: its schema element and the decoded pages of every row group."""

    def __init__(self, element):
        self.name = element[4].decode("utf-8")
        self.physical = element.get(1)
        self.type_length = element.get(2, 0)
        self.optional = element.get(3, 0) == 1
        self.converted = element.get(6)
        self.scale = element.get(7, 0)
        self.logical = element.get(10, {})
        self.values = []  # numpy arrays of non-null values, in order
        self.masks = []  # boolean arrays: True where the row is null
        self.dictionary = None


def _read_chunk(buf, column, meta):
    if meta.get(4, 0) != 0:
        raise UnsupportedParquet("compressed column chunk")
    start = meta.get(11) or meta[9]
    if meta.get(11) is not None and meta[9] < start:
        start = meta[9]
    end = start + meta[7]
    remaining = meta[5]
    pos = start
    while pos < end and remaining > 0:
        reader = _Thrift(buf, pos)
        header = reader.struct()
        pos = reader.pos
        page_type = header[1]
        size = header[3]
        page_end = pos + size
        if page_type == _DICTIONARY_PAGE:
            count = header[7][1]
            column.dictionary, _ = _plain_values(buf, pos, column.physical, count, column.type_length)
        elif page_type in (_DATA_PAGE, _DATA_PAGE_V2):
            remaining -= _read_data_page(buf, pos, page_end, header, column)
        pos = page_end


def _read_data_page(buf, pos, end, header, column):
    if header[1] == _DATA_PAGE:
        info = header[5]
        count = info[1]
        encoding = info[2]
        nulls = None
        if column.optional:
            length = int.from_bytes(buf[pos:pos + 4], "little")
            pos += 4
            levels = _rle_hybrid(buf, pos, pos + length, 1, count)
            pos += length
            nulls = levels == 0
    else:
        info = header[8]
        count = info[1]
        encoding = info[4]
        if info.get(7, True) and info.get(6, 0):
            raise UnsupportedParquet("repeated column")
        def_length = info.get(5, 0)
        nulls = None
        if column.optional and def_length:
            nulls = _rle_hybrid(buf, pos, pos + def_length, 1, count) == 0
        pos += def_length + info.get(6, 0)
    present = count if nulls is None else int(count - nulls.sum())
    if encoding == _PLAIN:
        values, _ = _plain_values(buf, pos, column.physical, present, column.type_length)
    elif encoding in (_PLAIN_DICTIONARY, _RLE_DICTIONARY):
        if column.dictionary is None:
            raise UnsupportedParquet("dictionary page missing")
        width = buf[pos]
        indices = _rle_hybrid(buf, pos + 1, end, width, present)
        values = column.dictionary[indices]
    else:
        raise UnsupportedParquet("encoding %d" % encoding)
    column.values.append(values)
    column.masks.append(nulls if nulls is not None else np.zeros(count, dtype=bool))
    return count


def _scaled(unscaled, scale):
    """DECIMAL values from their unscaled integers, correctly rounded like the decimal text the CSV
    path parses (one float division is exact only while the integer fits 53 bits)."""
    floats = unscaled.astype(np.float64) / (10 ** scale)
    wide = np.abs(unscaled.astype(np.int64)) > (1 << 53)
    if wide.any():
        floats[wide] = [float("%de-%d" % (v, scale)) for v in unscaled[wide].tolist()]
    return floats


def _series(column, rows):
    physical = column.physical
    if column.values:
        values = np.concatenate(column.values)
        mask = np.concatenate(column.masks)
    else:
        values = np.array([], dtype=object if physical == _BYTE_ARRAY else _FIXED_DTYPES.get(physical, "<i8"))
        mask = np.zeros(0, dtype=bool)
    has_nulls = bool(mask.any())
    logical = column.logical
    converted = column.converted

    def spread(present, fill, dtype):
        """Non-null values placed into a full-length array with `fill` at null rows."""
        if not has_nulls:
            return present
        full = np.full(rows, fill, dtype=dtype)
        full[~mask] = present
        return full

    if physical == _BYTE_ARRAY:
        # Logical STRING (1), ENUM (4), JSON (12); converted UTF8 (0), ENUM (4), JSON (19).
        if 1 in logical or 4 in logical or 12 in logical or converted in (0, 4, 19):
            # Missing strings as NaN, as pandas.read_csv (and the other paths) give them.
            return pd.Series(spread(values, np.nan, object), dtype=object)
        raise UnsupportedParquet("binary column")
    if 5 in logical or converted == 5:  # DECIMAL as scaled integers
        if physical not in (_INT32, _INT64):
            raise UnsupportedParquet("wide decimal")
        return pd.Series(spread(_scaled(values, column.scale), np.nan, np.float64))
    if 6 in logical or converted == 6:  # DATE: days since the epoch
        return datetimes_from_counts(values.astype(np.int64), "D", mask, rows, utc=False)
    if 8 in logical or converted in (9, 10):  # TIMESTAMP
        utc = False
        unit = "ms" if converted == 9 else "us"
        if 8 in logical:
            spec = logical[8]
            utc = bool(spec.get(1, False))
            unit_struct = spec.get(2, {})
            unit = "ms" if 1 in unit_struct else "us" if 2 in unit_struct else "ns"
        return datetimes_from_counts(values.astype(np.int64), unit, mask, rows, utc=utc)
    if physical == _FLOAT:
        # Through the shortest text of each float32, as the CSV path reads it (0.1, not
        # 0.10000000149011612).
        return pd.Series(spread(float32_as_text_rounds(values), np.nan, np.float64))
    if logical and 10 not in logical:
        raise UnsupportedParquet("logical type %r" % (logical,))
    if converted is not None and converted not in (15, 16, 17, 18):  # INT_8..INT_64
        raise UnsupportedParquet("converted type %r" % converted)
    if physical == _BOOLEAN:
        if has_nulls:
            return pd.Series(pd.arrays.BooleanArray(spread(values.astype(bool), False, bool), mask.copy()))
        return pd.Series(values.astype(bool))
    if physical in (_INT32, _INT64):
        if 10 in logical and not logical[10].get(2, True):
            raise UnsupportedParquet("unsigned integer")
        ints = values.astype(np.int64)
        if has_nulls:
            return pd.Series(pd.arrays.IntegerArray(spread(ints, 0, np.int64), mask.copy()))
        return pd.Series(ints)
    if physical in (_FLOAT, _DOUBLE_T):
        return pd.Series(spread(values.astype(np.float64), np.nan, np.float64))
    raise UnsupportedParquet("physical type %d" % physical)


def read_parquet_frame(data):
    """Decodes a whole Parquet file (bytes) into a DataFrame with pandas dtypes."""
    buf = memoryview(data)
    if len(buf) < 12 or bytes(buf[:4]) != b"PAR1" or bytes(buf[-4:]) != b"PAR1":
        raise UnsupportedParquet("not a Parquet file")
    footer_length = struct.unpack_from("<I", buf, len(buf) - 8)[0]
    metadata = _Thrift(buf, len(buf) - 8 - footer_length).struct()
    schema = metadata[2]
    root = schema[0]
    elements = schema[1:]
    if root.get(5, 0) != len(elements) or any(e.get(5) for e in elements) or any(e.get(3, 0) == 2 for e in elements):
        raise UnsupportedParquet("nested columns")
    columns = [_Column(e) for e in elements]
    rows = metadata[3]
    for group in metadata.get(4, []):
        for column, chunk in zip(columns, group[1]):
            _read_chunk(buf, column, chunk[3])
    return frame_of([c.name for c in columns], [_series(c, rows) for c in columns], rows)

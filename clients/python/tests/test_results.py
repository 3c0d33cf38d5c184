"""The typed CSV reader on crafted DuckDB CSV (no server): every type, NULLs, quoting, parser
blocks of mixed kinds, and what cannot be told apart in CSV."""

import base64
import io
import json
import unittest

import numpy as np
import pandas as pd

from veil.connection import looks_like_sql
from veil.results import column_kind, decode_schema_header, read_csv_typed, unique_names


def read(text: str, types):
    columns = [{"name": n, "type": t} for n, t in types]
    return read_csv_typed(io.BufferedReader(io.BytesIO(text.encode("utf-8"))), columns)


class ColumnKindTest(unittest.TestCase):
    def test_kinds(self):
        cases = {
            "BIGINT": "int", "INTEGER": "int", "SMALLINT": "int", "TINYINT": "int",
            "UBIGINT": "uint", "UTINYINT": "uint", "HUGEINT": "wideint", "UHUGEINT": "wideint",
            "DOUBLE": "float", "FLOAT": "float", "DECIMAL(10,2)": "float", "DECIMAL(38, 4)": "float",
            "BOOLEAN": "bool", "DATE": "date", "TIMESTAMP": "timestamp", "TIMESTAMP_NS": "timestamp", "TIMESTAMP_S": "timestamp",
            "TIMESTAMP WITH TIME ZONE": "timestamptz", "VARCHAR": "string", "INTEGER[]": "string", "DECIMAL(10,2)[]": "string",
            "STRUCT(a INTEGER)": "string", "MAP(VARCHAR, INTEGER)": "string", "TIME": "string", "INTERVAL": "string",
            "UUID": "string", "BLOB": "string", "ENUM('a', 'b')": "string", "JSON": "string",
        }
        for duckdb_type, kind in cases.items():
            self.assertEqual(column_kind(duckdb_type), kind, duckdb_type)

    def test_schema_header(self):
        columns = [{"name": "naïve \"col\", ✓", "type": "DECIMAL(10,2)"}]
        encoded = base64.urlsafe_b64encode(json.dumps(columns).encode()).decode().rstrip("=")
        self.assertEqual(decode_schema_header(encoded), columns)
        with self.assertRaises(ValueError):
            decode_schema_header("!!!")
        with self.assertRaises(ValueError):
            decode_schema_header(base64.urlsafe_b64encode(b'{"name": "x"}').decode())

    def test_unique_names(self):
        self.assertEqual(unique_names(["a", "b", "a", "a"]), ["a", "b", "a_1", "a_2"])
        self.assertEqual(unique_names(["a", "a", "a_1"]), ["a", "a_1", "a_1_1"])

    def test_sql_or_dataset_name(self):
        for sql in ("SELECT 1", "select * from x", "WITH a AS (SELECT 1) SELECT * FROM a", "FROM db.t", "(SELECT 1)", "  SELECT\n1", "db.t LIMIT 1"):
            self.assertTrue(looks_like_sql(sql), sql)
        for name in ("drug_xyz.trial_july2020", "db.t", "selection.items", "withdrawals.q1", "fromage.t"):
            self.assertFalse(looks_like_sql(name), name)


class ReadCsvTest(unittest.TestCase):
    def test_every_kind_with_and_without_nulls(self):
        df = read(
            "i,ni,u,f,b,nb,d,ts,tz,s,h\n"
            '1,,18446744073709551615,1.5,true,,2020-01-02,2020-01-02 03:04:05.123456,2020-01-02 01:04:05+00,00123,170141183460469231731687303715884105727\n'
            '-2,3,0,nan,false,false,,2020-01-02 03:04:05,2020-06-01 12:00:00.5+02,NA,\n'
            '9223372036854775807,,1,inf,true,true,1999-12-31,,,"a,""b""\nc",-5\n',
            [("i", "BIGINT"), ("ni", "INTEGER"), ("u", "UBIGINT"), ("f", "DOUBLE"), ("b", "BOOLEAN"), ("nb", "BOOLEAN"), ("d", "DATE"),
             ("ts", "TIMESTAMP"), ("tz", "TIMESTAMP WITH TIME ZONE"), ("s", "VARCHAR"), ("h", "HUGEINT")],
        )
        self.assertEqual(
            {k: str(v) for k, v in df.dtypes.items()},
            {"i": "int64", "ni": "Int64", "u": "uint64", "f": "float64", "b": "bool", "nb": "boolean", "d": "datetime64[ns]",
             "ts": "datetime64[ns]", "tz": "datetime64[ns, UTC]", "s": "object", "h": "object"},
        )
        self.assertEqual(df["i"].tolist(), [1, -2, 9223372036854775807])
        self.assertEqual(df["ni"].tolist(), [pd.NA, 3, pd.NA])
        self.assertEqual(df["u"].tolist(), [18446744073709551615, 0, 1])
        self.assertTrue(np.isnan(df["f"].iloc[1]) and np.isinf(df["f"].iloc[2]))
        self.assertEqual(df["nb"].tolist(), [pd.NA, False, True])
        self.assertEqual(df["ts"].iloc[0], pd.Timestamp("2020-01-02 03:04:05.123456"))
        self.assertEqual(df["tz"].iloc[1], pd.Timestamp("2020-06-01 10:00:00.5", tz="UTC"))
        self.assertEqual(df["s"].tolist(), ["00123", "NA", 'a,"b"\nc'])
        self.assertEqual(df["h"].tolist(), [170141183460469231731687303715884105727, None, -5])

    def test_wide_integers_that_fit(self):
        df = read("h\n1\n\n-3\n", [("h", "HUGEINT")])
        self.assertEqual(str(df["h"].dtype), "Int64")
        self.assertEqual(df["h"].tolist(), [1, pd.NA, -3])

    def test_empty_string_and_null_are_both_missing_in_csv(self):
        df = read('s\n""\n\nx\n', [("s", "VARCHAR")])
        self.assertTrue(df["s"].iloc[:2].isna().all())
        self.assertEqual(df["s"].iloc[2], "x")

    def test_null_after_the_first_parser_block(self):
        # pandas parses in blocks of ~256 KiB; a NULL only in a later block gives mixed blocks.
        n = 200_000
        body = "".join(f"{i},{'true' if i % 2 else 'false'},{i}\n" for i in range(n))
        df = read("i,b,j\n" + body + ",,\n", [("i", "BIGINT"), ("b", "BOOLEAN"), ("j", "BIGINT")])
        self.assertEqual(str(df["i"].dtype), "Int64")
        self.assertEqual(str(df["b"].dtype), "boolean")
        self.assertEqual(len(df), n + 1)
        self.assertEqual(int(df["i"].iloc[n - 1]), n - 1)
        self.assertTrue(pd.isna(df["i"].iloc[n]) and pd.isna(df["b"].iloc[n]))
        self.assertEqual(int(df["i"].sum()), n * (n - 1) // 2)
        self.assertEqual(int(df["b"].sum()), n // 2)

    def test_out_of_range_timestamps_become_nat(self):
        df = read("t,d\ninfinity,0044-03-15\n2020-01-01 00:00:00,2020-01-01\n", [("t", "TIMESTAMP"), ("d", "DATE")])
        self.assertTrue(pd.isna(df["t"].iloc[0]) and pd.isna(df["d"].iloc[0]))
        self.assertEqual(df["t"].iloc[1], pd.Timestamp("2020-01-01"))

    def test_header_only_and_no_body_at_all(self):
        types = [("i", "BIGINT"), ("b", "BOOLEAN"), ("d", "DATE"), ("s", "VARCHAR"), ("f", "DOUBLE")]
        for text in ("i,b,d,s,f\n", ""):
            df = read(text, types)
            self.assertEqual(list(df.columns), ["i", "b", "d", "s", "f"])
            self.assertEqual([str(t) for t in df.dtypes], ["int64", "bool", "datetime64[ns]", "object", "float64"])
            self.assertIsInstance(df.index, pd.RangeIndex)

    def test_reads_from_a_stream_without_seeking(self):
        class OneWay(io.RawIOBase):
            def __init__(self, data):
                self._data = io.BytesIO(data)

            def readable(self):
                return True

            def readinto(self, buffer):
                chunk = self._data.read(min(len(buffer), 7))
                buffer[: len(chunk)] = chunk
                return len(chunk)

        stream = io.BufferedReader(OneWay(b"a,b\n1,x\n2,y\n"), buffer_size=16)
        df = read_csv_typed(stream, [{"name": "a", "type": "INTEGER"}, {"name": "b", "type": "VARCHAR"}])
        self.assertEqual(df.to_dict("list"), {"a": [1, 2], "b": ["x", "y"]})


if __name__ == "__main__":
    unittest.main()

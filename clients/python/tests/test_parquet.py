"""The default Parquet path, decoded by veil.parquet (numpy, no pyarrow): it must give exactly the
frame the typed CSV path gives, for every type it claims, with NULLs, across many row groups,
dictionary and plain pages; and types it does not decode must fall back to CSV, not fail."""

import unittest
from unittest import mock

import pandas as pd

import veil
import veil.connection
from support import TRIAL, arrow_available, connect, server_query

# Every type the Parquet path decodes, with NULLs in each column (second row) and edge values.
TYPED_SQL = """
SELECT * FROM (VALUES
  (1::TINYINT, -2::SMALLINT, 3::INTEGER, 9007199254740993::BIGINT, 1.5::FLOAT, -2.25::DOUBLE, 12.34::DECIMAL(10,2),
   123456789012.3456::DECIMAL(18,4), true, 'héllo ✓', 'NA', DATE '2020-02-29', TIMESTAMP '2020-07-01 10:11:12.123456',
   TIMESTAMPTZ '2020-07-15 10:11:12+02'),
  (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  ((-128)::TINYINT, 32767::SMALLINT, (-2147483648)::INTEGER, (-9223372036854775808)::BIGINT, 0::FLOAT, 1e300::DOUBLE, -0.01::DECIMAL(10,2),
   0::DECIMAL(18,4), false, '00123', 'null', DATE '1970-01-01', TIMESTAMP '1999-12-31 23:59:59', TIMESTAMPTZ '2000-01-01 00:00:00+00')
) t(ti, si, i, bi, f, d, dec, wide_dec, b, s, na_text, dt, ts, tstz)
"""


class CountingDecoder:
    """Wraps veil.parquet's decoder to prove the Parquet path really ran (not a silent fallback)."""

    def __init__(self):
        self.calls = 0
        self._real = veil.connection.read_parquet_frame

    def __call__(self, data):
        self.calls += 1
        return self._real(data)


def frames(user, sql_or_dataset, **kwargs):
    """The Parquet frame decoded by veil.parquet (pyarrow hidden even when installed), the typed
    CSV frame, and how often veil.parquet ran. With pyarrow installed, its Parquet frame must
    equal veil.parquet's too."""
    decoder = CountingDecoder()
    with connect(user) as conn:
        with mock.patch.object(veil.connection, "read_parquet_frame", decoder), mock.patch.object(veil.connection, "_pyarrow_available", lambda: False):
            parquet = conn.scan_as_pandas(sql_or_dataset, **kwargs)
        csv = conn.scan_as_pandas(sql_or_dataset, result_format="csv", **kwargs)
        if arrow_available():
            pd.testing.assert_frame_equal(conn.scan_as_pandas(sql_or_dataset, **kwargs), parquet, check_exact=True)
    return parquet, csv, decoder.calls


class ParquetPathTest(unittest.TestCase):
    def test_default_format_is_parquet(self):
        with connect("erin") as conn:
            self.assertEqual(conn.result_format, "parquet")

    def test_every_supported_type_matches_the_csv_path(self):
        parquet, csv, calls = frames("erin", TYPED_SQL)
        self.assertEqual(calls, 1, "decoded from Parquet")
        pd.testing.assert_frame_equal(parquet, csv, check_exact=True)
        self.assertEqual(
            {k: str(v) for k, v in parquet.dtypes.items()},
            {
                "ti": "Int64", "si": "Int64", "i": "Int64", "bi": "Int64", "f": "float64", "d": "float64", "dec": "float64",
                "wide_dec": "float64", "b": "boolean", "s": "object", "na_text": "object", "dt": "datetime64[ns]",
                "ts": "datetime64[ns]", "tstz": "datetime64[ns, UTC]",
            },
        )
        self.assertEqual(parquet["bi"].tolist(), [9007199254740993, pd.NA, -9223372036854775808])
        self.assertEqual(parquet["s"].tolist()[0], "héllo ✓")
        self.assertEqual(parquet["na_text"].tolist()[0::2], ["NA", "null"])
        self.assertTrue(pd.isna(parquet["na_text"].iloc[1]))
        self.assertEqual(parquet["ts"].iloc[0], pd.Timestamp("2020-07-01 10:11:12.123456"))
        self.assertEqual(parquet["tstz"].iloc[0], pd.Timestamp("2020-07-15 08:11:12", tz="UTC"))

    def test_values_pandas_cannot_hold_and_float_rounding_match_the_csv_path(self):
        # Dates outside datetime64[ns] (and infinities) are NaT on every path, never wrapped
        # around; FLOAT and 18-digit DECIMAL values are the correctly rounded doubles of their text.
        sql = """SELECT DATE '9999-12-31' AS far, DATE '1500-01-01' AS early, 'infinity'::DATE AS inf_date,
                        'infinity'::TIMESTAMP AS inf_ts, '-infinity'::TIMESTAMP AS neg_inf_ts, TIMESTAMP '3000-01-01' AS far_ts,
                        0.1::FLOAT AS f, 12345678901234.5678::DECIMAL(18,4) AS big_dec,
                        (-987654321098765432)::DECIMAL(18,0) AS big_neg_dec"""
        parquet, csv, calls = frames("erin", sql)
        self.assertEqual(calls, 1)
        pd.testing.assert_frame_equal(parquet, csv, check_exact=True)
        for column in ("far", "early", "inf_date", "inf_ts", "neg_inf_ts", "far_ts"):
            self.assertTrue(pd.isna(parquet[column].iloc[0]), column)
        self.assertEqual(parquet["f"].iloc[0], 0.1)

    def test_parquet_keeps_empty_strings_apart_from_null(self):
        parquet, _, calls = frames("erin", "SELECT * FROM (VALUES ('', 1), (NULL, 2)) t(s, n)")
        self.assertEqual(calls, 1)
        self.assertEqual(parquet["s"].iloc[0], "")
        self.assertTrue(pd.isna(parquet["s"].iloc[1]))

    def test_a_whole_dataset_over_many_row_groups_matches_the_csv_path(self):
        # erin sees the whole trial unmasked: plain pages (unique ids, names), dictionary pages
        # (countries, arms), dates, timestamps, booleans, floats.
        parquet, csv, calls = frames("erin", TRIAL)
        self.assertEqual(calls, 1)
        self.assertEqual(len(parquet), server_query("erin", f"SELECT count(*) FROM {TRIAL}")["rows"][0][0])
        pd.testing.assert_frame_equal(parquet, csv, check_exact=True)

    def test_masked_and_filtered_view_matches_the_csv_path(self):
        parquet, csv, calls = frames("alice", TRIAL)
        self.assertEqual(calls, 1)
        pd.testing.assert_frame_equal(parquet, csv, check_exact=True)
        self.assertTrue(parquet["full_name"].isna().all())
        self.assertTrue((parquet["country"] == "US").all())

    def test_many_rows_with_nulls_and_repeats_span_row_groups_and_pages(self):
        # 300,000 rows (DuckDB writes row groups of 122,880): runs of NULLs, repeated and unique
        # values of varying length, so RLE and bit-packed runs, dictionary and plain pages all occur.
        sql = f"""SELECT n, CASE WHEN n % 7 = 0 THEN NULL ELSE n % 5 END AS small_int,
                         CASE WHEN n % 3 = 0 THEN NULL ELSE 'v' || (n % 4) END AS rep,
                         CASE WHEN n % 11 = 0 THEN NULL ELSE n % 2 = 0 END AS flag,
                         md5(n::VARCHAR) || repeat('x', (n % 9)::INTEGER) AS varlen,
                         CASE WHEN n < 1000 THEN NULL ELSE n * 1.5::DOUBLE END AS late
                  FROM (SELECT row_number() OVER () AS n FROM {TRIAL} a, {TRIAL} b LIMIT 300000)"""
        parquet, csv, calls = frames("erin", sql)
        self.assertEqual(calls, 1)
        self.assertEqual(len(parquet), 300000)
        pd.testing.assert_frame_equal(parquet, csv, check_exact=True)

    def test_unsupported_types_fall_back_to_csv(self):
        sql = "SELECT 42::UBIGINT AS u, [1, 2] AS l, 1::HUGEINT AS h, 'a' AS s"
        decoder = CountingDecoder()
        with connect("erin") as conn, mock.patch.object(veil.connection, "read_parquet_frame", decoder), mock.patch.object(veil.connection, "_pyarrow_available", lambda: False):
            frame = conn.scan_as_pandas(sql)
        self.assertEqual(decoder.calls, 0, "decided from the schema header, before decoding")
        self.assertEqual({k: str(v) for k, v in frame.dtypes.items()}, {"u": "uint64", "l": "object", "h": "int64", "s": "object"})

    def test_empty_result_keeps_columns_and_dtypes(self):
        parquet, csv, calls = frames("alice", f"SELECT ssn, dose_mg, date_of_birth, consent_research FROM {TRIAL} WHERE country = 'nowhere'")
        self.assertEqual(list(parquet.columns), ["ssn", "dose_mg", "date_of_birth", "consent_research"])
        self.assertEqual(len(parquet), 0)
        self.assertEqual({k: str(v) for k, v in parquet.dtypes.items()}, {"ssn": "object", "dose_mg": "float64", "date_of_birth": "datetime64[ns]", "consent_research": "bool"})


if __name__ == "__main__":
    unittest.main()

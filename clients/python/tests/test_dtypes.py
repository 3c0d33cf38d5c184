"""DataFrame dtypes and values through the server, on the typed CSV path (and the Arrow path too
when pyarrow is importable): both must give the same frame."""

import unittest

import pandas as pd

from support import TRIAL, connect, result_paths, server_query

TYPED_SQL = """
SELECT 1::BIGINT AS big, 7::INTEGER AS small, NULL::BIGINT AS nullable_int, 2.5::DOUBLE AS dbl, 1.25::DECIMAL(10,2) AS dec,
       true AS flag, NULL::BOOLEAN AS nullable_flag, DATE '2020-07-15' AS day, TIMESTAMP '2020-07-15 10:11:12.5' AS ts,
       TIMESTAMPTZ '2020-07-15 10:11:12+02' AS tstz, '00123' AS code, 'NA' AS na_text, 'null' AS null_text, 'nan' AS nan_text,
       42::UBIGINT AS unsigned, [1, 2]::INTEGER[] AS list
UNION ALL
SELECT 9007199254740993, -3, 5, NULL, NULL, false, true, NULL, TIMESTAMP '2021-01-02 03:04:05', NULL, NULL, 'x', 'y', 'z', 18446744073709551615::UBIGINT, NULL
"""

EXPECTED_DTYPES = {
    "big": "int64",
    "small": "int64",
    "nullable_int": "Int64",
    "dbl": "float64",
    "dec": "float64",
    "flag": "bool",
    "nullable_flag": "boolean",
    "day": "datetime64[ns]",
    "ts": "datetime64[ns]",
    "tstz": "datetime64[ns, UTC]",
    "code": "object",
    "na_text": "object",
    "null_text": "object",
    "nan_text": "object",
    "unsigned": "uint64",
    "list": "object",
}


class DtypesTest(unittest.TestCase):
    def frames(self, sql, **kwargs):
        frames = []
        for result_format in result_paths():
            with connect("erin", result_format=result_format) as conn:
                frames.append(conn.scan_as_pandas(sql, **kwargs))
        for other in frames[1:]:
            # LIST values are text either way, but DuckDB's (CSV) and JSON's (Arrow) spelling differ.
            same = [c for c in other.columns if c != "list"]
            pd.testing.assert_frame_equal(frames[0][same], other[same], check_exact=True)
        return frames

    def test_types_of_a_query(self):
        for df in self.frames(TYPED_SQL):
            self.assertEqual({k: str(v) for k, v in df.dtypes.items()}, EXPECTED_DTYPES)
            self.assertEqual(df["big"].tolist(), [1, 9007199254740993])  # beyond 2^53: exact
            self.assertEqual(df["nullable_int"].tolist(), [pd.NA, 5])
            self.assertEqual(df["unsigned"].tolist(), [42, 18446744073709551615])
            self.assertEqual(df["dbl"].iloc[0], 2.5)
            self.assertTrue(pd.isna(df["dbl"].iloc[1]))
            self.assertEqual(df["flag"].tolist(), [True, False])
            self.assertEqual(df["nullable_flag"].tolist(), [pd.NA, True])
            self.assertEqual(df["day"].iloc[0], pd.Timestamp("2020-07-15"))
            self.assertTrue(pd.isna(df["day"].iloc[1]))
            self.assertEqual(df["ts"].tolist(), [pd.Timestamp("2020-07-15 10:11:12.5"), pd.Timestamp("2021-01-02 03:04:05")])
            self.assertEqual(df["tstz"].iloc[0], pd.Timestamp("2020-07-15 08:11:12", tz="UTC"))
            self.assertEqual(df["code"].iloc[0], "00123")
            self.assertEqual(df["na_text"].tolist(), ["NA", "x"])
            self.assertEqual(df["null_text"].tolist(), ["null", "y"])
            self.assertEqual(df["nan_text"].tolist(), ["nan", "z"])
            self.assertTrue(pd.isna(df["code"].iloc[1]))

    def test_demo_dataset_types_and_leading_zeros(self):
        for df in self.frames(TRIAL):
            self.assertEqual(str(df["date_of_birth"].dtype), "datetime64[ns]")
            self.assertEqual(str(df["enrolled_at"].dtype), "datetime64[ns]")
            self.assertEqual(str(df["dose_mg"].dtype), "float64")
            self.assertEqual(str(df["consent_research"].dtype), "bool")
            self.assertEqual(str(df["zip"].dtype), "object")
            self.assertTrue(df["zip"].str.startswith("0").any(), "zips with a leading zero stay strings")
            self.assertTrue(df["zip"].str.fullmatch(r"\d{5}").all())

    def test_nullable_integers_from_a_query_over_the_dataset(self):
        sql = f"SELECT CASE WHEN arm = 'placebo' THEN NULL ELSE CAST(dose_mg * 100 AS BIGINT) END AS dose_cents, arm FROM {TRIAL}"
        expected = server_query("erin", sql)["rows"]
        for df in self.frames(sql):
            self.assertEqual(str(df["dose_cents"].dtype), "Int64")
            self.assertEqual(len(df), len(expected))
            self.assertTrue(df.loc[df["arm"] == "placebo", "dose_cents"].isna().all())
            self.assertEqual(sorted(int(v) for v in df["dose_cents"].dropna()), sorted(r[0] for r in expected if r[0] is not None))

    def test_empty_result_keeps_columns_and_types(self):
        for df in self.frames(f"SELECT * FROM ({TYPED_SQL}) WHERE false"):
            self.assertEqual(len(df), 0)
            expected = dict(EXPECTED_DTYPES, nullable_int="int64", nullable_flag="bool")
            self.assertEqual({k: str(v) for k, v in df.dtypes.items()}, expected)
        for df in self.frames(TRIAL, max_records=0):
            self.assertEqual(len(df), 0)
            self.assertEqual(str(df["enrolled_at"].dtype), "datetime64[ns]")
            self.assertEqual(len(df.columns), 14)

    def test_max_records_and_columns(self):
        for df in self.frames(TRIAL, max_records=5, columns=["ssn", "country"]):
            self.assertEqual(list(df.columns), ["ssn", "country"])
            self.assertEqual(len(df), 5)
        for df in self.frames(f"SELECT * FROM {TRIAL}", max_records=3, columns=["arm", "zip"]):
            self.assertEqual(list(df.columns), ["arm", "zip"])
            self.assertEqual(len(df), 3)
        with connect("erin") as conn:
            self.assertEqual(len(conn.scan_as_json(TRIAL, max_records=4, columns=["zip"])), 4)
            self.assertEqual(set(conn.scan_as_json(TRIAL, max_records=4, columns=["zip"])[0]), {"zip"})
            self.assertEqual(len(conn.execute(f"SELECT * FROM {TRIAL}", max_records=2)), 2)
            with self.assertRaises(ValueError):
                conn.scan_as_pandas(TRIAL, max_records=-1)

    def test_duplicate_column_names(self):
        for df in self.frames("SELECT 1 AS a, 2 AS a"):
            self.assertEqual(list(df.columns), ["a", "a_1"])
            self.assertEqual(df.iloc[0].tolist(), [1, 2])


if __name__ == "__main__":
    unittest.main()

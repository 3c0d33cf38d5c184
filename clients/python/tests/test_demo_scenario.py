"""The demo scenario through the Python client: what alice, bob, carol and dave get of the trial,
value by value, against the server's own JSON answer and the raw file."""

import re
import unittest
from datetime import date

import veil
from support import TRIAL, EVENTS, connect, raw_trial, result_paths, server_query, server_rows

REFERENCE_YEAR = date.today().year
RESTRICTED_ZIP3 = {"036", "059", "063", "102", "203", "205", "369", "556", "692", "790", "821", "823", "830", "831", "878", "879", "884", "890", "893"}
PII = ["participant_id", "full_name", "email", "ssn"]


def shown_birth_year(raw_dob: str) -> int:
    year = int(raw_dob[:4])
    return REFERENCE_YEAR - 90 if REFERENCE_YEAR - year > 89 else year


class AliceTest(unittest.TestCase):
    """alice (data_science, region=US): US rows only, direct identifiers masked."""

    @classmethod
    def setUpClass(cls):
        cls.raw = raw_trial()
        cls.raw_us = [r for r in cls.raw if r["country"] == "US"]

    def test_scan_matches_the_servers_answer_and_the_masks(self):
        expected_count = server_query("alice", f"SELECT * FROM {TRIAL}")["row_count"]
        self.assertTrue(0 < len(self.raw_us) < len(self.raw))
        self.assertEqual(expected_count, len(self.raw_us))
        for result_format in result_paths():
            with self.subTest(result_format=result_format), connect("alice", result_format=result_format) as conn:
                df = conn.scan_as_pandas(TRIAL)
                self.assertEqual(len(df), expected_count)
                self.assertEqual(list(df.columns), list(self.raw[0].keys()))
                self.assertEqual(set(df["country"]), {"US"})
                self.assertTrue(df["participant_id"].str.fullmatch(r"tok_[0-9a-f]{24}").all())
                self.assertTrue(df["full_name"].isna().all())
                # Masked values, compared as a multiset with what the policy makes of the raw rows.
                expected = sorted(
                    (
                        f"XXX-XX-{r['ssn'][-4:]}",
                        "XXXXX@" + r["email"].split("@")[1],
                        "000" if r["zip"][:3] in RESTRICTED_ZIP3 else r["zip"][:3],
                        f"{shown_birth_year(r['date_of_birth'])}-01-01",
                        float(r["dose_mg"]),
                    )
                    for r in self.raw_us
                )
                actual = sorted(zip(df["ssn"], df["email"], df["zip"], df["date_of_birth"].dt.strftime("%Y-%m-%d"), df["dose_mg"]))
                self.assertEqual(actual, expected)
                self.assertIn("000", set(df["zip"]), "restricted zip prefixes are in the data")

    def test_same_values_as_the_json_answer(self):
        rows = server_rows("alice", f"SELECT participant_id, ssn, email, zip, consent_research, outcome_score FROM {TRIAL}")
        with connect("alice") as conn:
            df = conn.execute(f"SELECT participant_id, ssn, email, zip, consent_research, outcome_score FROM {TRIAL}")
            records = conn.scan_as_json(f"SELECT participant_id, ssn, email, zip, consent_research, outcome_score FROM {TRIAL}")
        key = lambda r: r["participant_id"]  # noqa: E731
        self.assertEqual(sorted(records, key=key), sorted(rows, key=key))
        from_frame = [
            {"participant_id": p, "ssn": s, "email": e, "zip": z, "consent_research": bool(c), "outcome_score": float(o)}
            for p, s, e, z, c, o in zip(df.participant_id, df.ssn, df.email, df.zip, df.consent_research, df.outcome_score)
        ]
        self.assertEqual(sorted(from_frame, key=key), sorted(rows, key=key))

    def test_adverse_events_tokenized(self):
        with connect("alice") as conn:
            df = conn.scan_as_pandas(EVENTS, columns=["participant_id", "reporter_email"])
        self.assertEqual(len(df), server_query("alice", f"SELECT count(*) FROM {EVENTS}")["rows"][0][0])
        self.assertTrue(df["participant_id"].str.startswith("tok_").all())
        self.assertTrue(df["reporter_email"].str.startswith("XXXXX@").all())


class BobTest(unittest.TestCase):
    """bob (research): every row, no pii column, outcomes only with consent."""

    def test_scan_hides_pii_columns(self):
        raw = raw_trial()
        for result_format in result_paths():
            with self.subTest(result_format=result_format), connect("bob", result_format=result_format) as conn:
                df = conn.scan_as_pandas(TRIAL)
                self.assertEqual(list(df.columns), ["date_of_birth", "zip", "country", "site_id", "arm", "dose_mg", "outcome_score", "consent_research", "adverse_event", "enrolled_at"])
                self.assertEqual(len(df), len(raw))
                self.assertEqual(len(df), server_query("bob", f"SELECT count(*) FROM {TRIAL}")["rows"][0][0])
                self.assertTrue((df["date_of_birth"].dt.month == 1).all() and (df["date_of_birth"].dt.day == 1).all())
                self.assertTrue((df["zip"].str.len() == 3).all())
                self.assertTrue(df.loc[~df["consent_research"], "outcome_score"].isna().all())
                self.assertFalse(df.loc[df["consent_research"], "outcome_score"].isna().any())
                self.assertEqual(sorted(df["country"]), sorted(r["country"] for r in raw))

    def test_naming_a_hidden_column_is_refused(self):
        with connect("bob") as conn:
            for attempt in (lambda: conn.scan_as_pandas(TRIAL, columns=["ssn"]), lambda: conn.execute(f"SELECT email FROM {TRIAL}")):
                with self.assertRaises(veil.VeilPermissionError) as caught:
                    attempt()
                self.assertEqual(caught.exception.code, "COLUMN_ACCESS_DENIED")
                self.assertEqual(caught.exception.status, 403)
                self.assertTrue(caught.exception.request_id)

    def test_describe_and_explain_show_his_access(self):
        with connect("bob") as conn:
            described = conn.describe(TRIAL)
            explained = conn.explain(f"SELECT * FROM {TRIAL}")
            self.assertEqual(conn.list_databases(), ["drug_xyz"])
            self.assertEqual(conn.list_dataset_names("drug_xyz"), [EVENTS, TRIAL])
        access = {c["name"]: c["access"] for c in described["columns"]}
        self.assertEqual(access["email"], "hidden")
        self.assertEqual(access["date_of_birth"], "masked")
        self.assertEqual(access["country"], "clear")
        self.assertEqual([d["dataset"] for d in explained["datasets"]], [TRIAL])
        explained_access = {c["name"]: (c["access"], c["transform"]) for c in explained["datasets"][0]["columns"]}
        self.assertEqual(explained_access["ssn"], ("hidden", None))
        self.assertEqual(explained_access["zip"], ("masked", "zip3"))


class CarolTest(unittest.TestCase):
    """carol (compliance): knows the trial exists, may not read it."""

    def test_read_is_refused_but_the_dataset_is_listed(self):
        with connect("carol") as conn:
            with self.assertRaises(veil.VeilPermissionError) as caught:
                conn.scan_as_pandas(TRIAL)
            self.assertEqual(caught.exception.code, "ACCESS_DENIED")
            self.assertEqual([(d["name"], d["access"]) for d in conn.list_datasets("drug_xyz")], [(EVENTS, "metadata"), (TRIAL, "metadata")])


class DaveTest(unittest.TestCase):
    """dave (no groups): denied; the server answers 404 exactly as for a dataset that does not
    exist, so that the denial does not reveal the dataset."""

    def test_denied_like_a_missing_dataset(self):
        with connect("dave") as conn:
            for target in (TRIAL, f"SELECT * FROM {TRIAL}"):
                with self.assertRaises(veil.VeilNotFoundError) as caught:
                    conn.scan_as_pandas(target)
                self.assertEqual(caught.exception.code, "DATASET_NOT_FOUND")
                self.assertEqual(caught.exception.status, 404)
            with self.assertRaises(veil.VeilNotFoundError) as missing:
                conn.scan_as_pandas("drug_xyz.trial_july2021")
            self.assertEqual(re.sub("trial_july20(20|21)", "X", str(caught.exception.message)), re.sub("trial_july20(20|21)", "X", str(missing.exception.message)))
            self.assertEqual(conn.list_datasets(), [])
            self.assertEqual(conn.list_databases(), [])


class ErinTest(unittest.TestCase):
    def test_sees_everything_unmasked(self):
        raw = raw_trial()
        with connect("erin") as conn:
            df = conn.scan_as_pandas(TRIAL, columns=["participant_id", "full_name", "ssn", "zip"])
        self.assertEqual(sorted(zip(df.participant_id, df.full_name, df.ssn, df.zip)), sorted((r["participant_id"], r["full_name"], r["ssn"], r["zip"]) for r in raw))


if __name__ == "__main__":
    unittest.main()

"""Errors carry the server's code, status and request id; connection failures are retried (bounded,
with backoff), HTTP errors never; a result stream that breaks off is an error, not a short frame."""

import base64
import json
import shutil
import ssl
import tempfile
import time
import unittest

import veil
from support import TRIAL, StubServer, connect, free_port, hang_up, host, port, respond, respond_truncated, self_signed_certificate, token


def error_body(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message}}).encode()


class ServerErrorsTest(unittest.TestCase):
    def test_bad_sql(self):
        with connect("alice") as conn:
            with self.assertRaises(veil.VeilQueryError) as caught:
                conn.execute("SELEC nonsense FROM")
        error = caught.exception
        self.assertEqual((error.code, error.status), ("INVALID_SQL", 400))
        self.assertRegex(error.request_id or "", r"^[0-9a-f-]{36}$")
        self.assertIn("INVALID_SQL", str(error))
        self.assertIn(error.request_id, str(error))

    def test_statement_that_is_not_a_query(self):
        with connect("erin") as conn:
            with self.assertRaises(veil.VeilQueryError) as caught:
                conn.execute(f"DELETE FROM {TRIAL}")
        self.assertEqual(caught.exception.code, "SQL_NOT_ALLOWED")

    def test_unknown_dataset(self):
        with connect("alice") as conn:
            for attempt in (lambda: conn.scan_as_pandas("drug_xyz.no_such_dataset"), lambda: conn.describe("drug_xyz.no_such_dataset")):
                with self.assertRaises(veil.VeilNotFoundError) as caught:
                    attempt()
                self.assertEqual((caught.exception.code, caught.exception.status), ("DATASET_NOT_FOUND", 404))

    def test_bad_token(self):
        with veil.context().enable_token_auth(token_str="not.a.jwt").connect(host(), port()) as conn:
            with self.assertRaises(veil.VeilAuthError) as caught:
                conn.scan_as_pandas(TRIAL)
        self.assertEqual((caught.exception.code, caught.exception.status), ("INVALID_TOKEN", 401))

    def test_closed_connection(self):
        conn = connect("alice")
        conn.close()
        with self.assertRaises(veil.VeilError) as caught:
            conn.whoami()
        self.assertEqual(caught.exception.code, "CONNECTION_CLOSED")

    def test_hierarchy(self):
        for cls in (veil.VeilAuthError, veil.VeilPermissionError, veil.VeilNotFoundError, veil.VeilQueryError, veil.VeilServerError, veil.VeilConnectionError):
            self.assertTrue(issubclass(cls, veil.VeilError))
        self.assertTrue(issubclass(veil.VeilConnectionError, ConnectionError))


class RetryTest(unittest.TestCase):
    def test_refused_connection_is_retried_then_raised(self):
        dead = free_port()
        ctx = veil.context().enable_token_auth(token_str=token("alice"))
        started = time.monotonic()
        with ctx.connect("127.0.0.1", dead, retries=3, backoff=0.05) as conn:
            with self.assertRaises(veil.VeilConnectionError) as caught:
                conn.scan_as_pandas(TRIAL)
        elapsed = time.monotonic() - started
        self.assertEqual(caught.exception.code, "CONNECTION_FAILED")
        self.assertEqual(caught.exception.attempts, 3)
        self.assertIsNone(caught.exception.status)
        self.assertIn(str(dead), str(caught.exception))
        self.assertGreaterEqual(elapsed, 0.05 + 0.1)  # backoff 0.05 s, then 0.1 s
        self.assertLess(elapsed, 5)

    def test_reset_before_a_response_is_retried(self):
        with StubServer([hang_up, respond(200, b'{"user": "alice", "groups": [], "attributes": {}}')]) as stub:
            with veil.context().enable_token_auth(token_str="x.y.z").connect("127.0.0.1", stub.port, backoff=0.01) as conn:
                self.assertEqual(conn.whoami()["user"], "alice")
        self.assertEqual(stub.connections, 2)

    def test_gives_up_after_the_bounded_attempts(self):
        with StubServer([hang_up]) as stub:
            with veil.context().enable_token_auth(token_str="x.y.z").connect("127.0.0.1", stub.port, retries=3, backoff=0.01) as conn:
                with self.assertRaises(veil.VeilConnectionError) as caught:
                    conn.whoami()
        self.assertEqual(caught.exception.attempts, 3)
        self.assertEqual(stub.connections, 3)

    def test_http_errors_are_never_retried(self):
        cases = (
            (500, "INTERNAL", veil.VeilServerError),
            (503, "UNAVAILABLE", veil.VeilServerError),
            (408, "QUERY_TIMEOUT", veil.VeilQueryError),
            (413, "RESULT_TOO_LARGE", veil.VeilQueryError),
            (302, "HTTP_302", veil.VeilServerError),
        )
        for status, code, cls in cases:
            with StubServer([respond(status, error_body(code, "stub says no"))]) as stub:
                with veil.context().enable_token_auth(token_str="x.y.z").connect("127.0.0.1", stub.port, backoff=0.01) as conn:
                    with self.assertRaises(cls) as caught:
                        conn.scan_as_pandas(TRIAL)
            self.assertEqual((caught.exception.status, caught.exception.code, caught.exception.request_id), (status, code, "stub-request"))
            self.assertEqual(stub.connections, 1)

    def test_a_non_json_error_body(self):
        with StubServer([respond(502, b"<html>bad gateway</html>", "text/html")]) as stub:
            with veil.context().enable_token_auth(token_str="x.y.z").connect("127.0.0.1", stub.port) as conn:
                with self.assertRaises(veil.VeilServerError) as caught:
                    conn.list_datasets()
        self.assertEqual((caught.exception.status, caught.exception.code), (502, "HTTP_502"))


class InterruptedStreamTest(unittest.TestCase):
    def test_a_result_that_breaks_off_is_an_error(self):
        schema = base64.urlsafe_b64encode(json.dumps([{"name": "n", "type": "BIGINT"}]).encode()).decode().rstrip("=")
        rows = b"n\n" + b"".join(b"%d\n" % i for i in range(1000))
        with StubServer([respond_truncated(rows, {"X-Veil-Result-Schema": schema})]) as stub:
            with veil.context().enable_token_auth(token_str="x.y.z").connect("127.0.0.1", stub.port, use_arrow=False) as conn:
                with self.assertRaises(veil.VeilConnectionError) as caught:
                    conn.scan_as_pandas(TRIAL)
        self.assertEqual(caught.exception.code, "RESPONSE_INTERRUPTED")
        self.assertEqual(stub.connections, 1)

    def test_csv_without_the_schema_header_is_refused(self):
        with StubServer([respond(200, b"n\n1\n", "text/csv")]) as stub:
            with veil.context().enable_token_auth(token_str="x.y.z").connect("127.0.0.1", stub.port, use_arrow=False) as conn:
                with self.assertRaises(veil.VeilServerError) as caught:
                    conn.scan_as_pandas(TRIAL)
        self.assertEqual(caught.exception.code, "MISSING_RESULT_SCHEMA")

    def test_the_request_asks_for_typed_csv(self):
        schema = base64.urlsafe_b64encode(json.dumps([{"name": "n", "type": "BIGINT"}]).encode()).decode().rstrip("=")
        with StubServer([respond(200, b"n\n1\n2\n", "text/csv", {"X-Veil-Result-Schema": schema})]) as stub:
            with veil.context("app one").enable_token_auth(token_str="x.y.z").connect("127.0.0.1", stub.port, use_arrow=False) as conn:
                df = conn.scan_as_pandas("db.table", max_records=2, columns=["n"])
        self.assertEqual(df["n"].tolist(), [1, 2])
        self.assertEqual(str(df["n"].dtype), "int64")
        request_line, headers = stub.requests[0]
        self.assertEqual(request_line, "POST /v1/scan HTTP/1.1")
        self.assertEqual(headers["accept"], "text/csv")
        self.assertEqual(headers["x-veil-result-schema"], "include")
        self.assertEqual(headers["authorization"], "Bearer x.y.z")
        self.assertRegex(headers["x-veil-client"], r"^python-veil/\d+\.\d+\.\d+ pandas/\S+ app/app_one$")


class TlsTest(unittest.TestCase):
    def test_https_with_a_custom_context_and_certificate_checks(self):
        directory = tempfile.mkdtemp(prefix="veil-py-tls-")
        self.addCleanup(shutil.rmtree, directory, ignore_errors=True)
        if shutil.which("openssl") is None:
            self.skipTest("the openssl command is needed to make a test certificate")
        cert, key = self_signed_certificate(directory)
        server_side = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server_side.load_cert_chain(cert, key)
        me = respond(200, b'{"user": "alice", "groups": [], "attributes": {}}')
        with StubServer([me], tls=server_side) as stub:
            trusted = ssl.create_default_context(cafile=cert)
            with veil.context().enable_token_auth(token_str="x.y.z").connect("127.0.0.1", stub.port, tls=trusted) as conn:
                self.assertEqual(conn.whoami()["user"], "alice")
                self.assertTrue(repr(conn).startswith("<veil.Connection https://127.0.0.1:"))
            # tls=True checks certificates against the system's authorities: this one is refused.
            with veil.context().enable_token_auth(token_str="x.y.z").connect("127.0.0.1", stub.port, tls=True) as conn:
                with self.assertRaises(veil.VeilConnectionError) as caught:
                    conn.whoami()
            self.assertEqual(caught.exception.code, "TLS_ERROR")
            self.assertEqual(caught.exception.attempts, 1)

    def test_tls_to_a_plain_http_server(self):
        with veil.context().enable_token_auth(token_str=token("alice")).connect(host(), port(), tls=True) as conn:
            with self.assertRaises(veil.VeilConnectionError) as caught:
                conn.whoami()
        self.assertEqual(caught.exception.code, "TLS_ERROR")
        self.assertIn("tls=False", str(caught.exception))

    def test_the_token_leaves_this_machine_only_over_tls_unless_asked(self):
        ctx = veil.context().enable_token_auth(token_str="x.y.z")
        for local in ("localhost", "127.0.0.1", "127.0.0.2", "::1", "[::1]"):
            with ctx.connect(local, 7070) as conn:
                self.assertTrue(repr(conn).startswith("<veil.Connection http://"), (local, repr(conn)))
        for remote in ("veil.example.com", "10.0.0.5", "2001:db8::1", "localhost.example.com"):
            with ctx.connect(remote, 443) as conn:
                self.assertTrue(repr(conn).startswith("<veil.Connection https://"), (remote, repr(conn)))
        with self.assertWarnsRegex(UserWarning, "clear text"):
            conn = ctx.connect("veil.example.com", 80, tls=False)
        conn.close()
        self.assertTrue(repr(conn).startswith("<veil.Connection http://veil.example.com:80"))


if __name__ == "__main__":
    unittest.main()

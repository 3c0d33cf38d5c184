"""Where the token comes from: explicit settings, the environment, ~/.veil/token, and the notebook
platform's identity file (DOMINO_TOKEN_FILE), re-read when it changes. The token never shows in
an error or a repr."""

import json
import os

import veil
from support import TRIAL, IsolatedEnvironment, StubServer, host, port, replace_file, respond, token
from veil.integration import domino


def whoami(ctx: veil.Context) -> str:
    with ctx.connect(host(), port()) as conn:
        return conn.whoami()["user"]


class TokenDiscoveryTest(IsolatedEnvironment):
    def test_order_enable_token_auth_then_env_then_env_file_then_home_file(self):
        bob_file = self.write_file("tokens/bob", token("bob") + "\n")
        self.write_file(".veil/token", token("dave") + "\n")
        os.environ["VEIL_TOKEN"] = token("alice")
        os.environ["VEIL_TOKEN_FILE"] = bob_file
        ctx = veil.context()
        self.assertEqual(whoami(veil.context().enable_token_auth(token_str=token("erin"))), "erin")
        self.assertEqual(whoami(ctx), "alice")
        del os.environ["VEIL_TOKEN"]
        self.assertEqual(whoami(ctx), "bob")
        del os.environ["VEIL_TOKEN_FILE"]
        self.assertEqual(whoami(ctx), "dave")
        os.remove(os.path.join(self.home, ".veil", "token"))
        with self.assertRaises(veil.VeilAuthError) as caught:
            whoami(ctx)
        message = str(caught.exception)
        self.assertEqual(caught.exception.code, "TOKEN_MISSING")
        for place in ("enable_token_auth", "VEIL_TOKEN environment variable", "VEIL_TOKEN_FILE", os.path.join(self.home, ".veil", "token")):
            self.assertIn(place, message)

    def test_token_file_is_reread_when_it_changes(self):
        path = self.write_file("token", token("alice"))
        ctx = veil.context().enable_token_auth(token_file=path)
        with ctx.connect(host(), port()) as conn:
            self.assertEqual(conn.whoami()["user"], "alice")
            replace_file(path, token("bob") + "\n")
            self.assertEqual(conn.whoami()["user"], "bob")

    def test_token_func_is_called_per_request(self):
        calls = []

        def provide():
            calls.append(1)
            return token("alice") if len(calls) == 1 else token("erin")

        with veil.context().enable_token_auth(token_func=provide).connect(host(), port()) as conn:
            self.assertEqual(conn.whoami()["user"], "alice")
            self.assertEqual(conn.whoami()["user"], "erin")
        self.assertEqual(len(calls), 2)

    def test_enable_token_auth_takes_exactly_one_source(self):
        with self.assertRaises(ValueError):
            veil.context().enable_token_auth()
        with self.assertRaises(ValueError):
            veil.context().enable_token_auth(token_str="a", token_file="b")

    def test_the_token_never_shows_in_errors_or_reprs(self):
        secret = token("alice")
        ctx = veil.context("leak-check").enable_token_auth(token_str=secret)
        conn = ctx.connect(host(), port())
        for text in (repr(ctx), str(ctx), repr(conn), repr(ctx.token_source)):
            self.assertNotIn(secret, text)
            self.assertNotIn(secret[-20:], text)
        forged = secret[:-6] + ("AAAAAA" if not secret.endswith("AAAAAA") else "BBBBBB")
        with self.assertRaises(veil.VeilAuthError) as caught:
            veil.context().enable_token_auth(token_str=forged).connect(host(), port()).scan_as_pandas(TRIAL)
        self.assertEqual(caught.exception.status, 401)
        self.assertEqual(caught.exception.code, "INVALID_TOKEN")
        for text in (str(caught.exception), repr(caught.exception)):
            self.assertNotIn(forged[-20:], text)
        with self.assertRaises(veil.VeilAuthError) as spaced:
            veil.context().enable_token_auth(token_str="abc def-secret-part")
        self.assertEqual(spaced.exception.code, "TOKEN_INVALID_FORMAT")
        self.assertNotIn("secret-part", str(spaced.exception))

    def test_no_token_at_all_is_a_401_from_the_server_when_forced(self):
        with StubServer([respond(401, json.dumps({"error": {"code": "UNAUTHENTICATED", "message": "no token"}}).encode())]) as stub:
            with veil.context().enable_token_auth(token_str="x.y.z").connect("127.0.0.1", stub.port) as conn:
                with self.assertRaises(veil.VeilAuthError) as caught:
                    conn.whoami()
        self.assertEqual((caught.exception.code, caught.exception.status, caught.exception.request_id), ("UNAUTHENTICATED", 401, "stub-request"))


class DominoTest(IsolatedEnvironment):
    def test_identity_follows_the_token_file_without_a_new_context(self):
        path = self.write_file("domino/token", token("alice"))
        os.environ["DOMINO_TOKEN_FILE"] = path
        ctx = domino.context()
        with ctx.connect(host=os.environ["VEIL_HOST"], port=int(os.environ["VEIL_PORT"])) as conn:
            as_alice = conn.scan_as_pandas(TRIAL)
            self.assertEqual(set(as_alice["country"]), {"US"})
            self.assertIn("ssn", as_alice.columns)
            replace_file(path, token("bob"))
            as_bob = conn.scan_as_pandas(TRIAL)
            self.assertNotIn("ssn", as_bob.columns)
            self.assertGreater(len(as_bob), len(as_alice))
            self.assertGreater(len(set(as_bob["country"])), 1)
            self.assertEqual(conn.whoami()["user"], "bob")

    def test_identity_provider_tokens_from_the_platform_file(self):
        # Tokens signed by the notebook platform's OIDC provider (ES256), not by Veil: the client
        # passes them on untouched and Veil maps their claims to users, groups and attributes.
        path = self.write_file("domino/token", os.environ["VEIL_TEST_OIDC_TOKEN_ALICE"])
        os.environ["DOMINO_TOKEN_FILE"] = path
        ctx = domino.context()
        with ctx.connect(host=os.environ["VEIL_HOST"], port=int(os.environ["VEIL_PORT"])) as conn:
            me = conn.whoami()
            self.assertEqual((me["user"], me["authenticated_by"]), ("alice", {"method": "oidc", "via": "notebooks"}))
            as_alice = conn.scan_as_pandas(TRIAL)
            self.assertEqual(set(as_alice["country"]), {"US"})
            self.assertTrue(as_alice["full_name"].isna().all())
            replace_file(path, os.environ["VEIL_TEST_OIDC_TOKEN_NORA"])
            as_nora = conn.scan_as_pandas(TRIAL)
            self.assertEqual(set(as_nora["country"]), {"DE"}, "region from the token's claim")
            self.assertTrue(as_nora["participant_id"].str.startswith("tok_").all(), "masked like any data scientist")

    def test_sends_the_token_unchanged(self):
        path = self.write_file("domino/token", "  eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl\n")
        os.environ["DOMINO_TOKEN_FILE"] = path
        with StubServer([respond(200, b'{"user": "alice", "groups": [], "attributes": {}}')]) as stub:
            with domino.context("nb").connect("127.0.0.1", stub.port) as conn:
                conn.whoami()
        headers = stub.requests[0][1]
        self.assertEqual(headers["authorization"], "Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl")
        self.assertTrue(headers["x-veil-client"].startswith(f"python-veil/{veil.__version__} pandas/"))
        self.assertTrue(headers["x-veil-client"].endswith(" app/nb"))

    def test_missing_variable(self):
        with self.assertRaises(veil.VeilAuthError) as caught:
            domino.context()
        self.assertIn("DOMINO_TOKEN_FILE", str(caught.exception))

    def test_missing_or_empty_file(self):
        os.environ["DOMINO_TOKEN_FILE"] = os.path.join(self.home, "nowhere", "token")
        with self.assertRaises(veil.VeilAuthError) as missing:
            domino.context()
        self.assertIn("DOMINO_TOKEN_FILE", str(missing.exception))
        os.environ["DOMINO_TOKEN_FILE"] = self.write_file("empty-token", "\n")
        with self.assertRaises(veil.VeilAuthError) as empty:
            domino.context()
        self.assertIn("DOMINO_TOKEN_FILE", str(empty.exception))
        self.assertIn("empty", str(empty.exception))

    def test_file_removed_after_the_context_was_made(self):
        path = self.write_file("domino/token", token("alice"))
        os.environ["DOMINO_TOKEN_FILE"] = path
        with domino.context().connect(host(), port()) as conn:
            self.assertEqual(conn.whoami()["user"], "alice")
            os.remove(path)
            with self.assertRaises(veil.VeilAuthError) as caught:
                conn.whoami()
        self.assertIn("DOMINO_TOKEN_FILE", str(caught.exception))

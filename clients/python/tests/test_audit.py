"""The audit trail records requests of this client as coming through the HTTP door (the server
decides the door), with the client application, and a failed request exactly once (HTTP errors are
never retried)."""

import unittest
import uuid

import veil
from support import APPLICATION, connect


class AuditTest(unittest.TestCase):
    def test_door_http_and_client_application(self):
        marker = f"marker_{uuid.uuid4().hex}"
        with connect("alice") as conn:
            conn.execute(f"SELECT 1 AS {marker}")
            with self.assertRaises(veil.VeilQueryError):
                conn.execute(f"SELECT 1 AS {marker}_bad FROM")
            audit = conn.execute(
                'SELECT "user", door, client_application, decision, error_code FROM veil_system.audit_log '
                f"WHERE statement LIKE 'SELECT 1 AS {marker}%' ORDER BY event_time"
            )
        self.assertEqual(len(audit), 2, "one record per request: the failed one was not retried")
        self.assertEqual(audit["user"].tolist(), ["alice", "alice"])
        self.assertEqual(audit["door"].tolist(), ["http", "http"])
        for client in audit["client_application"]:
            self.assertTrue(client.startswith(f"python-veil/{veil.__version__} pandas/"), client)
            self.assertTrue(client.endswith(f" app/{APPLICATION}"), client)
        self.assertEqual(audit["decision"].tolist(), ["allowed", "error"])
        self.assertEqual(audit["error_code"].iloc[1], "INVALID_SQL")


if __name__ == "__main__":
    unittest.main()

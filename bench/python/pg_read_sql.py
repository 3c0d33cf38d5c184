"""Part (g) of `npm run bench`: pandas.read_sql through psycopg2, Veil's pg door next to PostgreSQL.

Run by bench/pg-door.ts with Debian's /usr/bin/python3 (pandas + psycopg2). Reads its configuration
as one JSON line on stdin: the SQL, the number of runs, the order of the two systems in each run and
the connection parameters of each ("veil", "postgres").

Per measurement: connect (not timed), print "@begin {...}" on stdout and wait for a line on stdin
(the bench reads the servers' CPU counters), time pandas.read_sql(sql, connection), close the
connection, print "@end {...}" and wait again. Prints one JSON object at the end; progress goes to
stderr.
"""

import json
import statistics
import sys
import time
import warnings

import pandas as pd
import psycopg2


def handshake(tag, payload):
    print("@%s %s" % (tag, json.dumps(payload)), flush=True)
    if sys.stdin.readline() == "":
        raise SystemExit("the bench went away")


def connect(target):
    return psycopg2.connect(**target)


def main():
    config = json.loads(sys.stdin.readline())
    sql = config["sql"]
    targets = config["targets"]
    runs = config["runs"]
    samples = {name: [] for name in targets}
    shapes = {}
    # pandas 1.5 accepts a DBAPI connection; newer versions warn that only SQLAlchemy is tested.
    warnings.simplefilter("ignore", UserWarning)

    # Warm-up: imports, type adapters, connection paths.
    for name, target in targets.items():
        with connect(target) as conn:
            pd.read_sql(sql + " LIMIT 1000", conn)
        conn.close()

    for run in range(1, runs + 1):
        for name in config["order"][run - 1]:
            conn = connect(targets[name])
            handshake("begin", {"system": name, "run": run})
            cpu = time.process_time()
            started = time.perf_counter()
            frame = pd.read_sql(sql, conn)
            seconds = time.perf_counter() - started
            cpu = time.process_time() - cpu
            conn.close()
            samples[name].append(seconds)
            shapes[name] = {
                "rows": int(len(frame)),
                "columns": int(len(frame.columns)),
                "dtypes": {c: str(t) for c, t in frame.dtypes.items()},
            }
            print("[pg pandas run %d/%d] %-8s %.2f s, %d rows" % (run, runs, name, seconds, len(frame)), file=sys.stderr, flush=True)
            rows = int(len(frame))
            del frame
            handshake("end", {"system": name, "run": run, "seconds": seconds, "rows": rows, "cpu_seconds": cpu})

    print(json.dumps({
        "python": sys.version.split()[0],
        "pandas": pd.__version__,
        "psycopg2": psycopg2.__version__.split()[0],
        "samples_s": samples,
        "median_s": {name: statistics.median(values) for name, values in samples.items() if values},
        "shapes": shapes,
    }), flush=True)


if __name__ == "__main__":
    main()

"""Part (c) of `npm run bench`: alice's scan_as_pandas next to plain pandas on the raw file.

Run by bench/pandas.ts with Debian's /usr/bin/python3. Interleaves, per run:
  raw   pandas.read_csv(<raw trial file>) followed by the same row filter alice's policy applies
        (country == her region): what people do without Veil;
  veil  conn.scan_as_pandas('drug_xyz.trial_july2020') as alice, through the real client and server;
  and, as a diagnostic, the client's CSV path (what it uses when a result cannot travel as Parquet).
Prints one JSON object on stdout; progress goes to stderr.
"""

import json
import statistics
import sys
import time

import pandas as pd

import veil


def _pyarrow_version():
    try:
        import pyarrow
    except ImportError:
        return None
    return pyarrow.__version__


def main():
    config = json.loads(sys.argv[1])
    ctx = veil.context(application_name="veil-bench")
    ctx.enable_token_auth(token_str=config["token"])
    runs = config["runs"]
    samples = {"raw": [], "veil": [], "veil_csv": []}
    shapes = {}
    with ctx.connect(host=config["host"], port=config["port"], timeout=600) as conn:
        def raw():
            frame = pd.read_csv(config["raw_file"])
            return frame[frame["country"] == config["region"]]

        def via_veil():
            return conn.scan_as_pandas(config["dataset"])

        def via_veil_csv():
            return conn.scan_as_pandas(config["dataset"], result_format="csv")

        measured = [("raw", raw), ("veil", via_veil), ("veil_csv", via_veil_csv)]
        # Warm-up: page cache, imports, server caches.
        conn.scan_as_pandas(config["dataset"], max_records=1000)
        for run in range(1, runs + 1):
            for name, work in measured:
                started = time.perf_counter()
                frame = work()
                seconds = time.perf_counter() - started
                samples[name].append(seconds)
                shapes[name] = {"rows": int(len(frame)), "columns": int(len(frame.columns)), "dtypes": {c: str(t) for c, t in frame.dtypes.items()}}
                print("[pandas run %d/%d] %-8s %.2f s, %d rows" % (run, runs, name, seconds, len(frame)), file=sys.stderr, flush=True)
                del frame
    medians = {name: statistics.median(values) for name, values in samples.items()}
    print(json.dumps({
        "python": sys.version.split()[0],
        "pandas": pd.__version__,
        "client": veil.__version__,
        "pyarrow": _pyarrow_version(),
        "samples_s": samples,
        "median_s": medians,
        "ratio_veil_to_raw": medians["veil"] / medians["raw"],
        "ratio_veil_csv_to_raw": medians["veil_csv"] / medians["raw"],
        "shapes": shapes,
    }))


if __name__ == "__main__":
    main()

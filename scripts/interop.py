#!/usr/bin/env python3
"""Read surge Parquet with the tools data engineers use and report what they see.

usage: interop.py FILE.parquet DATASET_DIR

Prints one JSON object: for pyarrow and DuckDB, over the single file and the
hive-partitioned directory, the row count, the column types, and a few values
(first time, first header name, distinct hive partitions) so the Go test can
compare them with what surge wrote.
"""
import json
import sys

import duckdb
import pyarrow.dataset as ds
import pyarrow.parquet as pq


def arrow_facts(table):
    return {
        "rows": table.num_rows,
        "types": {f.name: str(f.type) for f in table.schema},
        "first_time": table.column("time")[0].as_py().isoformat() if table.num_rows else None,
    }


def duck_facts(con, source):
    rows = con.execute(f"SELECT count(*) FROM {source}").fetchone()[0]
    types = {r[0]: r[1] for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
    first = con.execute(
        f"SELECT strftime(min(time) AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%f') FROM {source}").fetchone()[0]
    facts = {"rows": rows, "types": types, "first_time": first}
    if "headers" in types:
        facts["first_header"] = con.execute(
            f"SELECT headers[1].name FROM {source} WHERE len(headers) > 0 ORDER BY time LIMIT 1").fetchone()[0]
    if "hour" in types:
        facts["partitions"] = con.execute(
            f"SELECT count(DISTINCT (dt, hour)) FROM {source}").fetchone()[0]
    return facts


def main():
    path, directory = sys.argv[1], sys.argv[2]
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    out = {
        "pyarrow_file": arrow_facts(pq.read_table(path)),
        "pyarrow_dir": arrow_facts(ds.dataset(directory, format="parquet", partitioning="hive").to_table()),
        "duckdb_file": duck_facts(con, f"read_parquet('{path}')"),
        "duckdb_dir": duck_facts(con, f"read_parquet('{directory}/**/*.parquet', hive_partitioning = true)"),
    }
    json.dump(out, sys.stdout, indent=1)


if __name__ == "__main__":
    main()

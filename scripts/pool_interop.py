#!/usr/bin/env python3
"""Read an account pool (surge accounts build) with pyarrow and DuckDB.

usage: pool_interop.py POOL_DIR VIEWS.parquet

Prints one JSON object: the pool's rows and column types as pyarrow and
DuckDB see them, and DuckDB's check that every account's history equals its
recorded user's history computed from the source viewing events alone
(per user, session and content: the first time shifted by pool.json's
shift_ns, the furthest position, the first event's device; ordered by time,
content, session).
"""
import json
import os
import sys

import duckdb
import pyarrow.parquet as pq


def main():
    pool, views = sys.argv[1], sys.argv[2]
    accounts = os.path.join(pool, "accounts.parquet")
    with open(os.path.join(pool, "pool.json")) as f:
        meta = json.load(f)
    table = pq.read_table(accounts)
    out = {
        "pyarrow": {"rows": table.num_rows, "types": {f.name: str(f.type) for f in table.schema}},
    }
    con = duckdb.connect()
    types = {r[0]: r[1] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{accounts}')").fetchall()}
    shift_us = meta["shift_ns"] // 1000
    row = con.execute(f"""
        WITH viewings AS (
            SELECT "user", session, content,
                   min(time) + to_microseconds({shift_us}) AS t,
                   max(position_ms) AS position_ms,
                   arg_min(device, time) AS device
            FROM read_parquet('{views}')
            WHERE "user" <> ''
            GROUP BY "user", session, content
        ), expected AS (
            SELECT "user",
                   list({{'content': content, 'time': t, 'position_ms': position_ms, 'device': device}}
                        ORDER BY t, content, session) AS history
            FROM viewings GROUP BY "user"
        ), pool AS (SELECT * FROM read_parquet('{accounts}'))
        SELECT count(*) AS accounts,
               count(DISTINCT p."user") AS users,
               count(*) FILTER (WHERE e.history IS NULL) AS unknown_users,
               count(*) FILTER (WHERE e.history IS DISTINCT FROM p.history) AS differing,
               (SELECT count(*) FROM expected) AS source_users,
               sum(len(p.history)) AS viewings
        FROM pool p LEFT JOIN expected e USING ("user")
    """).fetchone()
    names = ["accounts", "users", "unknown_users", "differing", "source_users", "viewings"]
    out["duckdb"] = {"types": types, **dict(zip(names, row))}
    print(json.dumps(out))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""sqlite_rows.py - what pane's segments would take as SQLite rows instead of files.

Reads every segment of a pane store (the s_DAY index rows and the blobs in
chunks/dDAY.seg) and stores the same blobs as rows of one SQLite table per
day (WAL mode, default 4 KiB pages, VACUUMed), then prints both sizes.
usage: sqlite_rows.py STORE_DIR OUT_DB
"""
import os
import sqlite3
import sys

store, out = sys.argv[1], sys.argv[2]
src = sqlite3.connect(os.path.join(store, "metrics.db"))
if os.path.exists(out):
    os.remove(out)
dst = sqlite3.connect(out)
dst.execute("PRAGMA journal_mode=WAL")
files = 0
for (name,) in src.execute("SELECT name FROM sqlite_master WHERE type='table' AND name LIKE 's\\_%' ESCAPE '\\'"):
    day = name[2:]
    path = os.path.join(store, "chunks", "d%s.seg" % day)
    files += os.path.getsize(path)
    data = open(path, "rb").read()
    # the same layout as the files: value blobs per segment, shared timestamp blobs once
    dst.execute('CREATE TABLE "c_%s"(sid INTEGER, mint INTEGER, maxt INTEGER, n INTEGER, toff INTEGER, v BLOB, '
                'PRIMARY KEY(sid, mint))' % day)
    dst.execute('CREATE TABLE "t_%s"(toff INTEGER PRIMARY KEY, ts BLOB)' % day)
    rows = src.execute('SELECT sid, mint, maxt, n, toff, tlen, off, len FROM "%s"' % name).fetchall()
    dst.executemany('INSERT OR REPLACE INTO "c_%s" VALUES (?,?,?,?,?,?)' % day,
                    [(r[0], r[1], r[2], r[3], r[4], data[r[6]:r[6] + r[7]]) for r in rows])
    dst.executemany('INSERT OR IGNORE INTO "t_%s" VALUES (?,?)' % day,
                    [(r[4], data[r[4]:r[4] + r[5]]) for r in rows if r[5]])  # tlen 0: no column
dst.commit()
dst.execute("VACUUM")
dst.execute("PRAGMA wal_checkpoint(TRUNCATE)")
dst.close()
print("segment files: %d bytes; the same blobs as SQLite rows: %d bytes" % (files, os.path.getsize(out)))

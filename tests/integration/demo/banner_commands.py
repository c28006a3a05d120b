#!/usr/bin/env python3
"""banner_commands.py - runs every command the `pane demo` banner prints, as
typed, and fails if one errors or answers nothing.

    python3 banner_commands.py BANNER_FILE PANE_BIN WORKDIR

A command is a banner line whose text (after the 16-column label) starts with
`curl `, `echo ` or the pane binary, joined with its continuation lines (a
trailing backslash); a trailing "   (comment)" is not part of it. Each runs with
bash in WORKDIR (where `make demo` ran). "ID" in a command is the job id the
previous enqueue (POST /v1/queues/Q/jobs) answered. A command is retried with bounded polling until it
exits 0 and answers something: output that is not empty, not "(no series)" and
not an empty JSON result nor an error (StatsD's push is the one command that prints nothing;
the query after it waits for StatsD's flush). `--follow` commands are stopped
after a few seconds and must have printed something by then.

Prints one line per command; exit 0 when all passed, 1 otherwise.
"""
import json
import os
import re
import signal
import subprocess
import sys
import time


def commands(text, pane):
    lines = text.split("\n")
    start = next((i for i, l in enumerate(lines) if "pane is running" in l), 0)
    out, cur = [], None
    for line in lines[start:]:
        if "Press Ctrl-C" in line:
            break
        body = line[16:] if len(line) > 16 else ""
        if cur is not None:
            cur += " " + body.strip()
        elif body.startswith(("curl ", "echo ", pane + " ")):
            cur = body.rstrip()
        else:
            continue
        if cur.endswith("\\"):
            cur = cur[:-1].rstrip()
            continue
        out.append(re.sub(r"\s{3,}\(.*$", "", cur).strip())
        cur = None
    return out


def empty_answer(text):
    t = text.strip()
    if not t or "(no series)" in t or t == "[]":
        return True
    try:
        doc = json.loads(t)
    except ValueError:
        return False
    if isinstance(doc, dict) and (doc.get("status") == "error" or "error" in doc):
        return True
    data = doc.get("data") if isinstance(doc, dict) else None
    if isinstance(data, dict):
        for k in ("result", "events", "logs"):
            if k in data and not data[k]:
                return True
    return False


def run_one(cmd, workdir, limit):
    """(exit status or None when stopped at the time limit, stdout, stderr); the
    whole process group goes at the limit, so a pipeline's children do too."""
    p = subprocess.Popen(["bash", "-c", cmd], cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, start_new_session=True)
    try:
        out, err = p.communicate(timeout=limit)
        return p.returncode, out, err
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        return None, out, err


def main():
    banner, pane, workdir = sys.argv[1], sys.argv[2], sys.argv[3]
    cmds = commands(open(banner).read(), pane)
    if len(cmds) < 10:
        print("FAIL: only %d commands found in the banner" % len(cmds))
        return 1
    failed = 0
    job_id = None
    for cmd in cmds:
        run = cmd.replace("/ID/", "/%s/" % job_id) if job_id else cmd
        follow = "--follow" in cmd
        quiet_ok = cmd.startswith("echo ")
        last = ""
        passed = False
        for _ in range(120):  # bounded polling: up to about a minute per command
            rc, out, err = run_one(run, workdir, 5 if follow else 60)
            if rc is None:  # stopped at the time limit: fine for --follow only
                rc = 0 if follow else -1
                err = "timed out"
            last = "exit %d: %s %s" % (rc, out.strip()[:200], err.strip()[:200])
            if rc == 0 and (quiet_ok or not empty_answer(out)):
                passed = True
                if "/v1/queues/" in cmd and "/jobs" in cmd:  # the enqueue: {"id": N, ...}
                    job_id = json.loads(out)["id"]
                break
            time.sleep(0.5)
        print("%s: %s%s" % ("ok" if passed else "FAIL", run, "" if passed else "\n    " + last), flush=True)
        failed += not passed
    print("%d commands, %d failed" % (len(cmds), failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

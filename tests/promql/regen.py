#!/usr/bin/env python3
"""regen.py - asks Debian's real Prometheus for the corpus' expected answers.

Loads data.om into a TSDB with promtool, starts prometheus on a free
loopback port over it, runs every line of queries.txt as a range query
(T0+300 .. T0+3900, step 30 s; and T0+317.25 .. T0+3699, step 47.5 s)
and as an instant query (T0+1830), and
writes expected.jsonl: one JSON object per query and kind with Prometheus'
status and data or errorType. Run through regen.sh.
"""
import json, os, shutil, socket, subprocess, sys, tempfile, time, urllib.parse, urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
T0 = 1700000000
RANGE = (T0 + 300, T0 + 3900, 30)
ODD = (T0 + 317.25, T0 + 3699, 47.5)  # a start and step that align with nothing
INSTANT = T0 + 1830


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as e:
        return json.loads(e.read())


def main():
    tmp = tempfile.mkdtemp(prefix="pane-promql-")
    proc = None
    try:
        data = os.path.join(tmp, "data")
        subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics",
                        os.path.join(HERE, "data.om"), data], check=True, stdout=subprocess.DEVNULL)
        cfg = os.path.join(tmp, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 15s\n")
        port = free_port()
        proc = subprocess.Popen(["prometheus", "--config.file=" + cfg, "--storage.tsdb.path=" + data,
                                 "--storage.tsdb.retention.time=100y",
                                 "--web.listen-address=127.0.0.1:%d" % port],
                                stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "log"), "w"))
        base = "http://127.0.0.1:%d" % port
        for _ in range(300):
            try:
                urllib.request.urlopen(base + "/-/ready", timeout=1)
                break
            except Exception:
                time.sleep(0.1)
        queries = [l.rstrip("\n") for l in open(os.path.join(HERE, "queries.txt"))
                   if l.strip() and not l.startswith("#")]
        out = []
        for q in queries:
            r = get(base + "/api/v1/query_range?" + urllib.parse.urlencode(
                {"query": q, "start": RANGE[0], "end": RANGE[1], "step": RANGE[2]}))
            out.append({"query": q, "kind": "range", "response": r})
            r = get(base + "/api/v1/query_range?" + urllib.parse.urlencode(
                {"query": q, "start": ODD[0], "end": ODD[1], "step": ODD[2]}))
            out.append({"query": q, "kind": "range_odd", "response": r})
            r = get(base + "/api/v1/query?" + urllib.parse.urlencode({"query": q, "time": INSTANT}))
            out.append({"query": q, "kind": "instant", "response": r})
        with open(os.path.join(HERE, "expected.jsonl"), "w") as f:
            for o in out:
                f.write(json.dumps(o, sort_keys=True) + "\n")
        ver = get(base + "/api/v1/status/buildinfo")["data"]["version"]
        print("regen.py: %d answers from Prometheus %s" % (len(out), ver))
    finally:
        if proc:
            proc.terminate()
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

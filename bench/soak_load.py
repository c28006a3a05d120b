#!/usr/bin/env python3
"""soak_load.py - the mixed, rate-bounded load of bench/run-soak.sh.

Idea: one loop, one tick per second, drives every write and read path of
`pane serve` from loopback at a fixed, modest rate (the machine is shared):
Prometheus text pushes over a bounded set of series, StatsD over UDP, JSON
lines and Loki log pushes, PromQL instant and range queries, job enqueues (a
`pane worker` started by the caller drains them) and small uploads. Every
SAMPLE seconds it records the serve process's RSS (VmRSS) and open file
descriptors (and the worker's), and at the end prints the series and a
verdict: the median of the last third against the median of the second third
(the first third is warm-up). Figures only; there is no threshold.

  soak_load.py --port P --statsd-port S --pid PANE_PID [--worker-pid W]
               [--duration SECONDS] [--sample SECONDS]
"""
import argparse
import http.client
import json
import os
import random
import socket
import statistics
import sys
import time
import urllib.parse


def proc_rss_kib(pid, field="VmRSS"):
    """VmRSS (all resident memory) or RssAnon (the heap and stacks: what a
    leak grows; the rest is mapped files and libraries) in KiB."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def proc_fds(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


class Client:
    """One keep-alive HTTP connection, reopened after an error."""

    def __init__(self, port):
        self.port = port
        self.conn = None

    def req(self, method, path, body=None, headers=None):
        for attempt in range(2):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                self.conn.request(method, path, body=body, headers=headers or {})
                r = self.conn.getresponse()
                data = r.read()
                return r.status, data
            except (OSError, http.client.HTTPException):
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
                if attempt == 1:
                    return 0, b""
        return 0, b""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--statsd-port", type=int, required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--worker-pid", type=int, default=0)
    ap.add_argument("--duration", type=float, default=1800)
    ap.add_argument("--sample", type=float, default=30)
    ap.add_argument("--series", type=int, default=200)
    a = ap.parse_args()

    c = Client(a.port)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    upload_body = os.urandom(64 << 10)
    counts = {}  # kind -> [ok, failed]
    last_fail = {}

    def note(kind, status, ok_set):
        e = counts.setdefault(kind, [0, 0])
        if status in ok_set:
            e[0] += 1
        else:
            e[1] += 1
            last_fail[kind] = status

    samples = []  # (t, rss_kib, fds, worker_rss_kib, worker_fds, anon_kib)

    def sample(t):
        samples.append((t, proc_rss_kib(a.pid), proc_fds(a.pid),
                        proc_rss_kib(a.worker_pid) if a.worker_pid else None,
                        proc_fds(a.worker_pid) if a.worker_pid else None,
                        proc_rss_kib(a.pid, "RssAnon")))
        s = samples[-1]
        print(f"sample t={s[0]:.0f}s rss_kib={s[1]} anon_kib={s[5]} fds={s[2]} "
              f"worker_rss_kib={s[3]} worker_fds={s[4]}", flush=True)

    start = time.monotonic()
    next_sample = start
    tick = 0
    rnd = random.Random(1)
    while True:
        now = time.monotonic()
        if now >= next_sample:
            sample(now - start)
            next_sample += a.sample
        if now - start >= a.duration:
            break
        tick += 1
        ms = int(time.time() * 1000)

        # 1. Prometheus text push: a bounded set of series, new values each tick
        lines = []
        for i in range(a.series):
            lines.append(f'soak_requests_total{{svc="s{i % 10}",route="/r{i}"}} {tick * (i + 1)} {ms}')
        lines.append(f"soak_queue_depth {rnd.randint(0, 100)} {ms}")
        st, _ = c.req("POST", "/api/v1/import/prometheus", "\n".join(lines) + "\n",
                      {"Content-Type": "text/plain; version=0.0.4"})
        note("import", st, {200, 204})

        # 2. StatsD: counters, gauges, timers over a bounded key set
        for i in range(20):
            msg = (f"soak.hits.k{i}:1|c\nsoak.temp.k{i}:{rnd.randint(0, 50)}|g\n"
                   f"soak.lat.k{i}:{rnd.uniform(1, 200):.1f}|ms").encode()
            udp.sendto(msg, ("127.0.0.1", a.statsd_port))
        counts.setdefault("statsd_packets", [0, 0])[0] += 20

        # 3. JSON lines logs
        jl = "".join(json.dumps({"ts": ms, "level": rnd.choice(["info", "warn", "error"]),
                                 "msg": f"request {tick}-{i} done in {rnd.randint(1, 900)}ms",
                                 "route": f"/r{i % 7}"}) + "\n" for i in range(20))
        st, _ = c.req("POST", "/api/v1/push/jsonlines?service=soak&environment=bench&source=app", jl,
                      {"Content-Type": "application/x-ndjson"})
        note("jsonlines", st, {200, 204})

        # 4. Loki push
        ns = str(ms * 1000000)
        loki = {"streams": [{"stream": {"service": "soak-loki", "level": "info"},
                             "values": [[ns, f"loki line {tick}-{i}"] for i in range(20)]}]}
        st, _ = c.req("POST", "/loki/api/v1/push", json.dumps(loki), {"Content-Type": "application/json"})
        note("loki", st, {200, 204})

        # 5. PromQL: an instant query every tick, a range query every 5th
        q = urllib.parse.quote('sum by (svc) (rate(soak_requests_total[1m]))')
        st, _ = c.req("GET", f"/api/v1/query?query={q}")
        note("query", st, {200})
        if tick % 5 == 0:
            end = time.time()
            q = urllib.parse.quote('sum(rate(soak_requests_total[1m]))')
            st, _ = c.req("GET", f"/api/v1/query_range?query={q}&start={end - 600:.3f}&end={end:.3f}&step=15")
            note("query_range", st, {200})
            st, _ = c.req("GET", "/api/v1/logs?query=" + urllib.parse.quote('{service="soak"}') + "&limit=100")
            note("logs_read", st, {200})

        # 6. jobs: two enqueues per tick, drained by the worker
        for _ in range(2):
            st, _ = c.req("POST", "/v1/queues/soak/jobs", json.dumps({"payload": {"tick": tick}}),
                          {"Content-Type": "application/json"})
            note("enqueue", st, {201})

        # 7. an upload (64 KiB) every 5th tick, to the same queue
        if tick % 5 == 0:
            st, _ = c.req("POST", "/v1/uploads/soak", upload_body, {"Content-Type": "application/octet-stream"})
            note("upload", st, {202})

        # bounded rate: the rest of this second is idle
        left = start + tick - time.monotonic()
        if left > 0:
            time.sleep(left)

    print("requests by kind (ok/failed, last failing status):")
    for k in sorted(counts):
        ok, bad = counts[k]
        print(f"  {k}: {ok}/{bad}" + (f" (last {last_fail[k]})" if k in last_fail else ""))

    def verdict(name, idx, unit):
        vals = [s[idx] for s in samples if s[idx] is not None]
        if len(vals) < 3:
            print(f"{name}: too few samples ({len(vals)})")
            return
        n = len(vals)
        second = vals[n // 3:2 * n // 3]
        last = vals[2 * n // 3:]
        m2, m3 = statistics.median(second), statistics.median(last)
        growth = (m3 - m2) / m2 * 100 if m2 else 0.0
        print(f"{name}: start={vals[0]}{unit} warm(median 2nd third)={m2}{unit} "
              f"end(median last third)={m3}{unit} last={vals[-1]}{unit} max={max(vals)}{unit} "
              f"growth_last_vs_warm={growth:+.1f}%")

    print(f"verdict over {len(samples)} samples, {a.duration:.0f}s, {tick} ticks:")
    verdict("pane serve RSS", 1, "KiB")
    verdict("pane serve RssAnon", 5, "KiB")
    verdict("pane serve fds", 2, "")
    if a.worker_pid:
        verdict("pane worker RSS", 3, "KiB")
        verdict("pane worker fds", 4, "")
    failed = sum(v[1] for v in counts.values())
    return 1 if failed and failed * 100 > sum(v[0] for v in counts.values()) else 0


if __name__ == "__main__":
    sys.exit(main())

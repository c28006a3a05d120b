#!/usr/bin/env python3
"""gen.py - a realistic day of metrics for the store benchmark.

~1,000 series scraped every 15 s for 24 h (5,760 samples each), shaped like
node_exporter (per-CPU mode counters, memory/filesystem gauges, network and
disk byte counters), postgres_exporter (transaction and tuple counters,
connection gauges) and an HTTP service (request counters by method/path/code,
latency histograms with _bucket/_sum/_count). Scrape timestamps carry a few
milliseconds of jitter like real scrapes. Deterministic (seeded).

Writes two files with the same samples:
  OUT.prom  Prometheus text, millisecond timestamps (pane import, VictoriaMetrics)
  OUT.om    OpenMetrics, second timestamps, families grouped, # EOF (promtool)

usage: gen.py OUT [--series-scale F] [--hours H]
"""
import math
import random
import sys

STEP = 15000
START = 1700006400000  # 2023-11-15 00:00:00 UTC (a day boundary, like a daily partition)


def main():
    out = sys.argv[1]
    hours = 24.0
    scale = 1.0
    args = sys.argv[2:]
    while args:
        a = args.pop(0)
        if a == "--hours":
            hours = float(args.pop(0))
        elif a == "--series-scale":
            scale = float(args.pop(0))
    n = int(hours * 3600 * 1000 / STEP)
    rnd = random.Random(42)
    fams = {}  # name -> (type, [(labels, values)])

    def add(name, typ, labels, vals, q=None):
        # q: the value grid (10^-decimals, 4096 for page-rounded bytes, 1 for integers)
        if q is None:
            q = 1.0 if all(float(v).is_integer() for v in vals[:50]) else 0.01
        fams.setdefault(name, (typ, []))[1].append((labels, vals, q))

    def counter(rate, noise, decimals, start=None):
        v = start if start is not None else rnd.uniform(1e3, 1e7)
        out = []
        for i in range(n):
            day = 0.6 + 0.4 * math.sin(2 * math.pi * i / (n if n > 0 else 1))
            v += max(0.0, rate * day * (1 + rnd.gauss(0, noise)))
            out.append(round(v, decimals))
        return out

    def gauge(base, amp, noise, decimals, lo=0.0):
        out = []
        drift = 0.0
        for i in range(n):
            drift += rnd.gauss(0, noise)
            drift *= 0.995
            v = base + amp * math.sin(2 * math.pi * i / (n if n > 0 else 1)) + drift * base
            out.append(round(max(lo, v), decimals))
        return out

    hosts = max(1, int(8 * scale))
    for h in range(hosts):
        inst = "node-%d:9100" % h
        for cpu in range(4):
            for mode, rate in (("idle", 12.0), ("user", 2.1), ("system", 0.9), ("iowait", 0.2),
                               ("irq", 0.01), ("softirq", 0.05), ("steal", 0.0), ("nice", 0.0)):
                add("node_cpu_seconds_total", "counter",
                    {"instance": inst, "job": "node", "cpu": str(cpu), "mode": mode},
                    counter(rate, 0.15, 2), q=0.01)
        for name, base in (("node_memory_MemAvailable_bytes", 6e9), ("node_memory_Cached_bytes", 2e9),
                           ("node_memory_Buffers_bytes", 3e8), ("node_memory_MemFree_bytes", 1e9)):
            add(name, "gauge", {"instance": inst, "job": "node"},
                [int(x) // 4096 * 4096 for x in gauge(base, base * 0.1, 0.002, 0)], q=4096.0)
        add("node_load1", "gauge", {"instance": inst, "job": "node"}, gauge(1.5, 0.8, 0.05, 2), q=0.01)
        add("node_load5", "gauge", {"instance": inst, "job": "node"}, gauge(1.5, 0.7, 0.02, 2), q=0.01)
        for dev in ("eth0", "lo"):
            add("node_network_receive_bytes_total", "counter", {"instance": inst, "job": "node", "device": dev},
                counter(2e5 if dev == "eth0" else 3e4, 0.5, 0))
            add("node_network_transmit_bytes_total", "counter", {"instance": inst, "job": "node", "device": dev},
                counter(1.5e5 if dev == "eth0" else 3e4, 0.5, 0))
        for mp in ("/", "/var"):
            add("node_filesystem_avail_bytes", "gauge", {"instance": inst, "job": "node", "mountpoint": mp, "fstype": "ext4"},
                [int(x) // 4096 * 4096 for x in gauge(5e10, 1e8, 0.0005, 0)], q=4096.0)
        add("node_disk_written_bytes_total", "counter", {"instance": inst, "job": "node", "device": "sda"}, counter(5e5, 0.8, 0))
        add("node_disk_io_time_seconds_total", "counter", {"instance": inst, "job": "node", "device": "sda"},
            counter(0.3, 0.5, 3), q=0.001)
    dbs = max(1, int(6 * scale))
    for d in range(dbs):
        lab = {"instance": "pg-%d:9187" % (d // 3), "job": "postgres", "datname": "app%d" % d}
        for name, rate in (("pg_stat_database_xact_commit", 400.0), ("pg_stat_database_xact_rollback", 2.0),
                           ("pg_stat_database_tup_fetched", 2e4), ("pg_stat_database_tup_inserted", 300.0),
                           ("pg_stat_database_tup_updated", 150.0), ("pg_stat_database_tup_deleted", 20.0),
                           ("pg_stat_database_blks_hit", 5e4), ("pg_stat_database_blks_read", 200.0),
                           ("pg_stat_database_deadlocks", 0.0)):
            add(name, "counter", lab, counter(rate, 0.3, 0, start=float(rnd.randint(0, 10**9))))
        add("pg_stat_database_numbackends", "gauge", lab, [int(x) for x in gauge(20, 8, 0.05, 0)])
        for st in ("active", "idle", "idle in transaction"):
            add("pg_stat_activity_count", "gauge", dict(lab, state=st), [int(x) for x in gauge(5, 3, 0.1, 0)])
    svcs = max(1, int(3 * scale))
    buckets = ("0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf")
    for s in range(svcs):
        for inst in range(2):
            base = {"instance": "api-%d-%d:8080" % (s, inst), "job": "api%d" % s}
            for path in ("/", "/login", "/api/items", "/api/orders", "/health"):
                for method, code, share in (("GET", "200", 1.0), ("GET", "404", 0.02), ("POST", "200", 0.3),
                                            ("POST", "500", 0.005)):
                    add("http_requests_total", "counter", dict(base, path=path, method=method, code=code),
                        counter(8.0 * share, 0.4, 0))
                # latency histogram
                reqs = counter(8.0, 0.4, 0, start=0.0)
                frac = [0.05, 0.15, 0.35, 0.6, 0.8, 0.92, 0.97, 0.99, 0.997, 0.999, 1.0, 1.0]
                for le, f in zip(buckets, frac):
                    vals = [math.floor(r * f) for r in reqs]
                    add("http_request_duration_seconds_bucket", "histogram", dict(base, path=path, le=le), vals)
                add("http_request_duration_seconds_count", "histogram", dict(base, path=path), reqs)
                ssum = 0.0
                sums = []
                prev = 0.0
                for r in reqs:
                    ssum += (r - prev) * rnd.uniform(0.03, 0.09)
                    prev = r
                    sums.append(round(ssum, 6))
                add("http_request_duration_seconds_sum", "histogram", dict(base, path=path), sums, q=1e-6)
    # each scrape target has its own scrape times (a few ms of jitter); all series
    # of one target share them, as in real scrapes
    ts_of = {}

    def times(instance):
        if instance not in ts_of:
            off = rnd.randint(0, STEP - 1)
            ts_of[instance] = [START + off + i * STEP + rnd.randint(-4, 4) for i in range(n)]
        return ts_of[instance]

    def labstr(l, name=None):
        return ",".join('%s="%s"' % (k, l[k]) for k in sorted(l))

    def fmt(v):
        if isinstance(v, int) or (isinstance(v, float) and v.is_integer() and abs(v) < 1e15):
            return str(int(v))
        return repr(v)

    # An estimate of the floor the data's randomness sets, for compressors that
    # code each series on its own and share timestamps per scrape target: per
    # series, the entropy of a Gaussian with the spread of the de-trended first
    # differences, discretised to the value grid; per target, log2(9) bits of
    # scrape jitter per scrape. (Gaussian is the maximum-entropy shape for a
    # given spread, so where the noise is not Gaussian this overstates it.)
    def hq(x):
        if x < 1e-9:
            return 0.0
        if x > 4:
            return 0.5 * math.log2(2 * math.pi * math.e * x * x)
        h = 0.0
        lim = int(10 * x) + 6
        cdf = lambda z: 0.5 * (1 + math.erf(z / math.sqrt(2)))
        for k in range(-lim, lim + 1):
            pk = cdf((k + 0.5) / x) - cdf((k - 0.5) / x)
            if pk > 0:
                h -= pk * math.log2(pk)
        return h

    def series_bits(vals, q):
        d = [vals[i] - vals[i - 1] for i in range(1, len(vals))]
        if len(d) < 3:
            return 0.0
        w = 20
        pre = [0.0]
        for x in d:
            pre.append(pre[-1] + x)
        r2 = 0.0
        for i in range(len(d)):
            a, b = max(0, i - w), min(len(d), i + w + 1)
            m = (pre[b] - pre[a]) / (b - a)
            r2 += (d[i] - m) ** 2
        sigma = math.sqrt(r2 / len(d))
        return hq(sigma / q) * len(d)

    floor_bits = 0.0
    for name in fams:
        for labels, vals, q in fams[name][1]:
            floor_bits += series_bits(vals, q)

    nser = 0
    with open(out + ".prom", "w") as p, open(out + ".om", "w") as om:
        for name in sorted(fams):
            typ, series = fams[name]
            fam = name
            for suf in ("_bucket", "_count", "_sum"):
                if typ == "histogram" and name.endswith(suf):
                    fam = name[: -len(suf)]
            om.write("# TYPE %s %s\n" % (name, "gauge" if typ == "gauge" else "unknown"))
            for labels, vals, _q in series:
                ts = times(labels["instance"])
                nser += 1
                sel = "%s{%s}" % (name, labstr(labels))
                p.write("".join("%s %s %d\n" % (sel, fmt(v), t) for v, t in zip(vals, ts)))
                om.write("".join("%s %s %.3f\n" % (sel, fmt(v), t / 1000.0) for v, t in zip(vals, ts)))
        om.write("# EOF\n")
    floor_bits += len(ts_of) * n * math.log2(9)
    sys.stderr.write("gen.py: %d series x %d samples = %d samples\n" % (nser, n, nser * n))
    sys.stderr.write("gen.py: estimated entropy floor %.3f bytes/sample\n" % (floor_bits / 8 / (nser * n)))


if __name__ == "__main__":
    main()

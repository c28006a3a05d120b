#!/usr/bin/env python3
"""shapes.py - one generated day per shape of data, for the store benchmark.

gen.py makes one realistic mix (jittered scrape times, Gaussian increments on
decimal grids). The shapes here isolate what that mix lacks, each 24 h at
15 s, seeded:

  grid       counters with Gaussian increments on a 0.01 grid, timestamps
             exactly on the 15 s grid (timestamps should cost ~0 bits)
  uniform    integer counters with increments uniform in [0, R], R from 1 to 10^6
  heavy      integer counters with heavy-tailed (Pareto, alpha 1.5) increments
  floats     gauges as unrounded doubles (a random walk: no decimal form)
  resets     counters that restart from 0 now and then (process restarts)
  sparse     series that appear and disappear (30 min - 4 h alive, then gone)
  histogram  30-bucket histograms where most buckets stay empty
  history2   580 series shaped like a small fleet: timestamps on the grid,
             counters with uniformly varying increments (two-decimal CPU
             seconds, byte and request counters, histogram buckets), memory
             gauges in 4 KiB steps, small integer gauges and constants

Writes, per shape, OUT/SHAPE.prom (Prometheus text, ms timestamps) and
OUT/SHAPE.om (OpenMetrics, second timestamps, for promtool), and prints one
line per shape to stdout:  SHAPE SERIES SAMPLES FLOOR_BITS

The floor is the entropy of what the generator drew, for a compressor that
codes each series on its own and shares timestamps between series scraped
together: per series, the exact entropy of the distribution the increments
were drawn from (uniform: log2 of the range; Gaussian and Pareto: the
distribution discretised to the value grid, summed numerically; floats: a
Gaussian discretised to the double grid at the value's magnitude), plus the
events (a reset: its probability's information; a series appearing or
leaving: log2 of the number of places it could) and 0 bits for timestamps on
the grid. It is an estimate, not a bound: it ignores correlations between
series (histogram buckets share requests), which a per-series coder cannot
use either.

usage: shapes.py OUT [--hours H] [--only SHAPE,...]
"""
import math
import os
import random
import sys

STEP = 15000
START = 1700006400000  # 2023-11-15 00:00:00 UTC


def h_uniform(r):
    """Entropy of a uniform integer in [0, r]."""
    return math.log2(r + 1)


def h_gauss(sigma):
    """Entropy of N(0, sigma^2) rounded to integers."""
    if sigma < 1e-9:
        return 0.0
    if sigma > 4:
        return 0.5 * math.log2(2 * math.pi * math.e * sigma * sigma)
    cdf = lambda z: 0.5 * (1 + math.erf(z / math.sqrt(2)))
    h = 0.0
    lim = int(10 * sigma) + 6
    for k in range(-lim, lim + 1):
        p = cdf((k + 0.5) / sigma) - cdf((k - 0.5) / sigma)
        if p > 0:
            h -= p * math.log2(p)
    return h


def h_pareto_floor(xm, alpha):
    """Entropy of floor(X), X ~ Pareto(xm, alpha): P(X > x) = (xm/x)^alpha."""
    sf = lambda x: 1.0 if x <= xm else (xm / x) ** alpha
    h = 0.0
    k = int(math.floor(xm))
    # exact terms while they are many per octave, then octave-wise
    # (the pmf is smooth there: density times width)
    while k < xm * 1e4:
        p = sf(k) - sf(k + 1)
        if p > 0:
            h -= p * math.log2(p)
        k += 1
    x = float(k)
    while x < 1e18:
        x2 = x * 1.01
        p = sf(x) - sf(x2)  # spread evenly over x2 - x integers
        if p > 0:
            h -= p * math.log2(p / (x2 - x))
        x = x2
    return h


def h_bernoulli(p):
    if p <= 0 or p >= 1:
        return 0.0
    return -(p * math.log2(p) + (1 - p) * math.log2(1 - p))


class Shape:
    def __init__(self, name, n):
        self.name = name
        self.n = n
        self.series = []  # (name, labels, [(ts, value)])
        self.bits = 0.0

    def add(self, metric, labels, ts, vals, bits):
        self.series.append((metric, labels, list(zip(ts, vals))))
        self.bits += bits


def grid_times(n):
    return [START + i * STEP for i in range(n)]


def fmt(v):
    if isinstance(v, int):
        return str(v)
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(v)


def shape_grid(rnd, n):
    s = Shape("grid", n)
    ts = grid_times(n)
    for i in range(100):
        rate, noise = rnd.uniform(0.5, 20), rnd.uniform(0.05, 0.3)
        v = rnd.uniform(1e3, 1e6)
        vals = []
        for _ in range(n):
            v += max(0.0, rate * (1 + rnd.gauss(0, noise)))
            vals.append(round(v, 2))
        s.add("grid_cpu_seconds_total", {"instance": "h%d" % (i // 10), "cpu": str(i % 10)}, ts, vals,
              (n - 1) * h_gauss(rate * noise / 0.01))
    return s


def shape_uniform(rnd, n):
    s = Shape("uniform", n)
    ts = grid_times(n)
    for i in range(100):
        r = int(10 ** rnd.uniform(0, 6))
        v = rnd.randint(0, 10**9)
        vals = []
        for _ in range(n):
            v += rnd.randint(0, r)
            vals.append(v)
        s.add("uniform_events_total", {"instance": "h%d" % (i // 10), "id": str(i)}, ts, vals, (n - 1) * h_uniform(r))
    return s


def shape_heavy(rnd, n):
    s = Shape("heavy", n)
    ts = grid_times(n)
    hs = {}
    for i in range(100):
        xm = rnd.choice((1.0, 10.0, 100.0, 1000.0))
        if xm not in hs:
            hs[xm] = h_pareto_floor(xm, 1.5)
        v = rnd.randint(0, 10**6)
        vals = []
        for _ in range(n):
            v += min(int(xm * rnd.paretovariate(1.5)), 10**12)
            vals.append(v)
        s.add("heavy_bytes_total", {"instance": "h%d" % (i // 10), "id": str(i)}, ts, vals, (n - 1) * hs[xm])
    return s


def shape_floats(rnd, n):
    s = Shape("floats", n)
    ts = grid_times(n)
    for i in range(100):
        base, sigma = 10 ** rnd.uniform(-2, 4), rnd.uniform(0.001, 0.05)
        v = base
        vals, bits = [], 0.0
        for _ in range(n):
            v = abs(v + rnd.gauss(0, sigma * base))
            vals.append(v)
            ulp = math.ulp(v) if v > 0 else 5e-324
            bits += h_gauss(sigma * base / ulp)
        s.add("floats_ratio", {"instance": "h%d" % (i // 10), "id": str(i)}, ts, vals, bits)
    return s


def shape_resets(rnd, n):
    s = Shape("resets", n)
    ts = grid_times(n)
    p = 1.0 / 720  # a restart every ~3 h
    for i in range(100):
        r = int(10 ** rnd.uniform(1, 4))
        v = rnd.randint(0, 10**6)
        vals = []
        for _ in range(n):
            if rnd.random() < p:
                v = 0
            v += rnd.randint(0, r)
            vals.append(v)
        s.add("resets_requests_total", {"instance": "h%d" % (i // 10), "id": str(i)}, ts, vals,
              (n - 1) * (h_uniform(r) + h_bernoulli(p)))
    return s


def shape_sparse(rnd, n):
    s = Shape("sparse", n)
    allts = grid_times(n)
    for i in range(400):
        a = rnd.randrange(n)
        life = rnd.randint(120, 960)  # 30 min - 4 h of scrapes
        b = min(n, a + life)
        ts = allts[a:b]
        v = rnd.randint(0, 50)
        vals = []
        for _ in ts:
            v = max(0, v + rnd.randint(-2, 2))
            vals.append(v)
        # the walk's steps (clipping at 0 only lowers it), plus where it starts and stops
        s.add("sparse_queue_depth", {"instance": "h%d" % (i // 20), "job_id": str(i)}, ts, vals,
              (len(ts) - 1) * h_uniform(4) + 2 * math.log2(n))
    return s


def shape_histogram(rnd, n):
    s = Shape("histogram", n)
    ts = grid_times(n)
    bounds = [0.0005 * 1.5**k for k in range(29)] + [float("inf")]
    for h in range(6):
        lam = rnd.uniform(5, 60)  # requests per scrape
        # latencies cluster: all requests land in 4 neighbouring buckets
        lo = rnd.randint(8, 20)
        share = [0.0] * 30
        w = [0.2, 0.5, 0.25, 0.05]
        for j, x in enumerate(w):
            share[lo + j] = x
        counts = [0] * 30
        rows = [[] for _ in range(30)]
        for _ in range(n):
            k = max(0, int(round(rnd.gauss(lam, math.sqrt(lam)))))
            for j in rnd.choices(range(lo, lo + 4), weights=w, k=k):
                counts[j] += 1
            c = 0
            for j in range(30):
                c += counts[j]
                rows[j].append(c)
        for j in range(30):
            f = sum(share[: j + 1])
            le = "+Inf" if j == 29 else "%g" % bounds[j]
            bits = (n - 1) * h_gauss(math.sqrt(lam * f)) if f > 0 else 0.0
            s.add("histogram_latency_seconds_bucket", {"instance": "h%d" % h, "le": le}, ts, rows[j], bits)
    return s


def shape_history2(rnd, n):
    s = Shape("history2", n)
    ts = grid_times(n)
    for host in range(10):
        inst = "node-%d:9100" % host
        for cpu in range(4):  # 4 x 8 = 32 CPU-second counters, two decimals
            for mode, lo, hi in (("idle", 11.0, 14.9), ("user", 0.3, 2.9), ("system", 0.1, 1.2), ("iowait", 0.0, 0.4),
                                 ("irq", 0.0, 0.03), ("softirq", 0.0, 0.12), ("steal", 0.0, 0.0), ("nice", 0.0, 0.02)):
                a, b = int(round(lo * 100)), int(round(hi * 100))
                m = rnd.randint(10**6, 10**8)
                vals = []
                for _ in range(n):
                    m += rnd.randint(a, b)
                    vals.append(round(m / 100, 2))
                s.add("node_cpu_seconds_total", {"instance": inst, "cpu": str(cpu), "mode": mode}, ts, vals,
                      (n - 1) * h_uniform(b - a))
        for dev, r in (("eth0", 400000), ("lo", 40000), ("sda", 900000)):  # byte counters
            for dirn in ("rx", "tx"):
                v = rnd.randint(0, 10**12)
                vals = []
                for _ in range(n):
                    v += rnd.randint(0, r)
                    vals.append(v)
                s.add("node_bytes_total", {"instance": inst, "device": dev, "dir": dirn}, ts, vals,
                      (n - 1) * h_uniform(r))
        for name, base in (("MemAvailable", 6 << 30), ("Cached", 2 << 30), ("MemFree", 1 << 30)):
            pages = base // 4096
            vals = []
            for _ in range(n):
                pages += rnd.randint(-300, 300)
                vals.append(pages * 4096)
            s.add("node_memory_%s_bytes" % name, {"instance": inst}, ts, vals, (n - 1) * h_uniform(600))
        for g, hi in (("procs_running", 6), ("procs_blocked", 2), ("load_bucket", 10)):
            vals = [rnd.randint(0, hi) for _ in range(n)]
            s.add("node_%s" % g, {"instance": inst}, ts, vals, (n - 1) * h_uniform(hi))
        for c, val in (("cpus", 4), ("memory_total_bytes", 8 << 30), ("boot_time_seconds", 1699000000 + host)):
            s.add("node_%s" % c, {"instance": inst}, ts, [val] * n, 0.0)
    for svc in range(3):  # request counters and histogram buckets
        inst = "api-%d:8080" % svc
        if svc < 2:
            s.add("api_build_info", {"instance": inst, "version": "1.%d" % svc}, ts, [1] * n, 0.0)
        for path in range(4):
            reqs = 0
            req_rows = []
            buckets = [[] for _ in range(8)]
            cum = [0] * 8
            for _ in range(n):
                k = rnd.randint(0, 60)
                reqs += k
                req_rows.append(reqs)
                # each bucket takes a uniform share of what is left; cumulative:
                # bucket j counts the requests at or below it
                tot = 0
                rest = k
                for j in range(8):
                    take = rest if j == 7 else rnd.randint(0, rest)
                    rest -= take
                    tot += take
                    cum[j] += tot
                    buckets[j].append(cum[j])
            s.add("http_requests_total", {"instance": inst, "path": "/p%d" % path}, ts, req_rows,
                  (n - 1) * h_uniform(60))
            for j in range(8):
                # per-bucket increment entropy, estimated from the draws (plug-in)
                d = [buckets[j][i] - buckets[j][i - 1] for i in range(1, n)]
                cnt = {}
                for x in d:
                    cnt[x] = cnt.get(x, 0) + 1
                h = -sum(c / len(d) * math.log2(c / len(d)) for c in cnt.values())
                s.add("http_request_duration_seconds_bucket",
                      {"instance": inst, "path": "/p%d" % path, "le": "+Inf" if j == 7 else str(0.01 * 2**j)}, ts,
                      buckets[j], (n - 1) * h)
    return s


SHAPES = {"grid": shape_grid, "uniform": shape_uniform, "heavy": shape_heavy, "floats": shape_floats,
          "resets": shape_resets, "sparse": shape_sparse, "histogram": shape_histogram, "history2": shape_history2}


def write(s, out):
    def labstr(l):
        return ",".join('%s="%s"' % (k, l[k]) for k in sorted(l))

    with open(os.path.join(out, s.name + ".prom"), "w") as p, open(os.path.join(out, s.name + ".om"), "w") as om:
        by_name = {}
        for metric, labels, pts in s.series:
            by_name.setdefault(metric, []).append((labels, pts))
        for metric in sorted(by_name):
            om.write("# TYPE %s %s\n" % (metric, "unknown"))
            for labels, pts in by_name[metric]:
                sel = "%s{%s}" % (metric, labstr(labels))
                p.write("".join("%s %s %d\n" % (sel, fmt(v), t) for t, v in pts))
                om.write("".join("%s %s %.3f\n" % (sel, fmt(v), t / 1000.0) for t, v in pts))
        om.write("# EOF\n")


def main():
    out = sys.argv[1]
    hours, only = 24.0, None
    args = sys.argv[2:]
    while args:
        a = args.pop(0)
        if a == "--hours":
            hours = float(args.pop(0))
        elif a == "--only":
            only = args.pop(0).split(",")
    n = int(hours * 3600 * 1000 / STEP)
    os.makedirs(out, exist_ok=True)
    for name, fn in SHAPES.items():
        if only and name not in only:
            continue
        rnd = random.Random("pane-" + name)
        s = fn(rnd, n)
        write(s, out)
        samples = sum(len(p) for _m, _l, p in s.series)
        print("%s %d %d %.0f" % (name, len(s.series), samples, s.bits), flush=True)


if __name__ == "__main__":
    main()

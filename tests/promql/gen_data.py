#!/usr/bin/env python3
"""gen_data.py - writes data.om, the corpus data set (deterministic).

One hour of 15 s samples from T0 = 1700000000 (2023-11-14T22:13:20Z):
counters with resets, gauges crossing zero, classic histograms (one without
+Inf), NaN/+Inf/-Inf values, a series with gaps longer than the 5 m lookback,
irregular timestamps, info metrics for group_left, and series that collide
after label_replace. OpenMetrics text, so `promtool tsdb
create-blocks-from openmetrics` loads the very same file into Prometheus.
"""
import math, sys

T0 = 1700000000
STEP = 15
N = 241  # T0 .. T0+3600
out = []

def fmt(v):
    if isinstance(v, str):
        return v
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    r = repr(float(v))
    return r

def series(name, labels, points):
    ls = ",".join('%s="%s"' % (k, v) for k, v in labels)
    sel = name + ("{" + ls + "}" if ls else "")
    for t, v in points:
        out.append("%s %s %s" % (sel, fmt(v), t))

def ts(i):
    return T0 + i * STEP

# counters
k = 0
for inst in ["a:80", "b:80"]:
    for method in ["get", "post"]:
        for code in ["200", "500"]:
            k += 1
            v = 0.0
            pts = []
            for i in range(N):
                v += ((i * 7 + k * 3) % 13) * (1 if code == "200" else 0.25) + k
                if k == 3 and i == 120:
                    v = 5.0  # counter reset
                if k == 6 and i in (60, 61):
                    v = v / 10 if i == 60 else v
                pts.append((ts(i), v))
            series("http_requests_total", [("code", code), ("instance", inst), ("job", "api"), ("method", method)], pts)

# gauges
for room, off, amp in [("attic", -3.0, 6.0), ("garage", 8.0, 2.5), ("kitchen", 21.0, 1.5)]:
    pts = [(ts(i), round(off + amp * math.sin(i / 9.0 + off), 4)) for i in range(N)]
    series("temperature_celsius", [("building", "main"), ("room", room)], pts)

# histograms
bounds = ["0.1", "0.5", "1", "5", "+Inf"]
for job, fr in [("api", [0.2, 0.5, 0.2, 0.08, 0.02]), ("web", [0.6, 0.2, 0.1, 0.05, 0.05])]:
    counts = [0.0] * 5
    total = 0.0
    bucket_pts = [[] for _ in bounds]
    sum_pts, count_pts = [], []
    for i in range(N):
        n = 10 + (i * 11) % 17
        for b in range(5):
            counts[b] += n * fr[b]
        cum = 0.0
        for b in range(5):
            cum += counts[b]
            bucket_pts[b].append((ts(i), round(cum, 3)))
        total += n * 0.37
        sum_pts.append((ts(i), round(total, 3)))
        count_pts.append((ts(i), round(cum, 3)))
    for b, le in enumerate(bounds):
        series("request_duration_seconds_bucket", [("job", job), ("le", le)], bucket_pts[b])
    series("request_duration_seconds_sum", [("job", job)], sum_pts)
    series("request_duration_seconds_count", [("job", job)], count_pts)
# a histogram without the +Inf bucket, and one with a non-monotonic bucket
for le, f in [("1", 1.0), ("10", 2.0)]:
    series("broken_histogram_bucket", [("job", "noinf"), ("le", le)], [(ts(i), i * f) for i in range(N)])
for le, f in [("1", 3.0), ("10", 2.0), ("+Inf", 4.0)]:
    series("broken_histogram_bucket", [("job", "nonmono"), ("le", le)], [(ts(i), i * f) for i in range(N)])
series("broken_histogram_bucket", [("job", "nole")], [(ts(i), i) for i in range(N)])

# special values
series("special_values", [("kind", "nan")], [(ts(i), float("nan")) for i in range(N)])
series("special_values", [("kind", "inf")], [(ts(i), float("inf")) for i in range(N)])
series("special_values", [("kind", "neginf")], [(ts(i), float("-inf")) for i in range(N)])
cycle = [1.0, float("nan"), float("inf"), 0.0, float("-inf"), -2.5]
series("special_values", [("kind", "mixed")], [(ts(i), cycle[i % len(cycle)]) for i in range(N)])
series("special_values", [("kind", "zero")], [(ts(i), 0.0) for i in range(N)])

# gaps longer than the lookback
for job, ranges in [("x", [(0, 40), (80, 120), (200, 241)]), ("y", [(30, 100)])]:
    pts = []
    for a, b in ranges:
        pts += [(ts(i), float(i % 7)) for i in range(a, b)]
    series("intermittent", [("job", job)], pts)

# irregular timestamps
pts = []
t = T0
v = 0.0
i = 0
while t <= T0 + 3600:
    pts.append((t, v))
    i += 1
    t += [7, 23, 41, 13, 60, 5, 90][i % 7]
    v += [1, 4, 0, 2, 9, 3, 1][i % 7]
series("irregular_total", [("job", "irr")], pts)

# info metrics
series("build_info", [("instance", "a:80"), ("job", "api"), ("version", "1.2.0")], [(ts(i), 1.0) for i in range(N)])
series("build_info", [("instance", "b:80"), ("job", "api"), ("version", "1.3.0")], [(ts(i), 1.0) for i in range(N)])

# collide after label_replace / dropping the name
series("dup_source", [("a", "1"), ("b", "x")], [(ts(i), float(i)) for i in range(N)])
series("dup_source", [("a", "2"), ("b", "x")], [(ts(i), float(i) * 2) for i in range(N)])
series("dup_other", [("a", "1"), ("b", "x")], [(ts(i), float(i) * 3) for i in range(N)])

# dates: values are Unix times
dates = {"leap": 1709208000, "newyear": 1704067199, "dec31": 1703980800, "epoch": 0}
for which, d in sorted(dates.items()):
    series("date_values", [("which", which)], [(ts(i), float(d + i * 3600)) for i in range(N)])

# more tied series than Go's insertion-sort cut-off (12) and its ninther
# cut-off (50): topk/bottomk/sort tie order follows Go's pdqsort there
tie_cycle = [float("nan"), float("-inf"), 0.0, 1.0, float("inf"), 1.0, 0.0]
for s in range(60):
    series("tie_values", [("n", "%02d" % ((s * 7) % 60))], [(ts(i), tie_cycle[(i + s * 3 + s // 9) % 7]) for i in range(N)])

series("constant_value", [], [(ts(i), 5.0) for i in range(N)])
series("starts_late", [("job", "late")], [(ts(i), float(i)) for i in range(200, N)])

sys.stdout.write("\n".join(out) + "\n# EOF\n")

#!/usr/bin/env python3
"""rules_data.py OUTDIR NOW - the rules benchmark's data and rules.

data.txt: 10,000 counters bench_requests_total{job (50), instance (100), code
(200|500)} every 15 s from NOW-40m to NOW+20m, in Prometheus text with
millisecond timestamps (pane import, VictoriaMetrics import) and data.om in
OpenMetrics with second timestamps (promtool tsdb create-blocks-from).
rules.yml: 10 groups, 500 recording rules (10 shapes x 50 jobs) and 500
alerting rules (rate above a threshold for 1m; about a fifth of the series
fire), annotations with templates."""
import os
import sys

out, now = sys.argv[1], int(sys.argv[2])
start, end = now - 40 * 60, now + 20 * 60
jobs, insts = 50, 100
with open(os.path.join(out, "data.txt"), "w") as txt, open(os.path.join(out, "data.om"), "w") as om:
    om.write("# TYPE bench_requests counter\n")
    for j in range(jobs):
        for i in range(insts):
            for c in ("200", "500"):
                lab = 'job="j%d",instance="i%d",code="%s"' % (j, i, c)
                inc = (i % 10) + (1 if c == "200" else 0)
                v = 0
                t = start
                while t <= end:
                    v += inc
                    txt.write("bench_requests_total{%s} %d %d\n" % (lab, v, t * 1000))
                    om.write("bench_requests_total{%s} %d %d\n" % (lab, v, t))
                    t += 15
    om.write("# EOF\n")

shapes = [
    'sum by (job) (rate(bench_requests_total{job="%s"}[5m]))',
    'sum by (job, code) (rate(bench_requests_total{job="%s"}[5m]))',
    'avg by (job) (bench_requests_total{job="%s"})',
    'max by (job, instance) (rate(bench_requests_total{job="%s"}[5m]))',
    'sum by (job) (rate(bench_requests_total{job="%s",code="500"}[5m])) / sum by (job) (rate(bench_requests_total{job="%s"}[5m]))',
    'count by (job) (bench_requests_total{job="%s"} > 100)',
    'quantile by (job) (0.9, rate(bench_requests_total{job="%s"}[5m]))',
    'topk(3, rate(bench_requests_total{job="%s"}[5m]))',
    'sum by (job) (increase(bench_requests_total{job="%s"}[10m]))',
    'min by (job) (bench_requests_total{job="%s"})',
]
with open(os.path.join(out, "rules.yml"), "w") as f:
    f.write("groups:\n")
    for g in range(10):
        f.write("  - name: bench%d\n    rules:\n" % g)
        for k in range(g * 50, g * 50 + 50):
            job = "j%d" % (k % jobs)
            expr = shapes[k // jobs]
            expr = expr % ((job,) * expr.count("%s"))
            f.write("      - record: bench:r%d\n        expr: '%s'\n" % (k, expr))
        for k in range(g * 50, g * 50 + 50):
            job = "j%d" % (k % jobs)
            f.write("      - alert: BenchHigh%d\n" % k)
            f.write("        expr: 'rate(bench_requests_total{job=\"%s\",code=\"500\"}[5m]) > 0.5'\n" % job)
            f.write("        for: 1m\n        labels:\n          severity: page\n")
            f.write("        annotations:\n")
            f.write("          summary: '{{ $labels.instance }} of {{ $labels.job }} at {{ humanize $value }}/s'\n")

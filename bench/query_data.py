#!/usr/bin/env python3
"""query_data.py SERIES HOURS - a benchmark data set in OpenMetrics text (15 s samples):
SERIES counters http_requests_total{instance, method, code} and as many gauges."""
import sys
n, hours = int(sys.argv[1]), float(sys.argv[2])
T0 = 1700000000
steps = int(hours * 3600 / 15)
out = sys.stdout
for k in range(n):
    lab = 'instance="i%d:80",method="%s",code="%s",job="bench"' % (k // 8, ["get", "post"][k % 2], ["200", "500", "404", "302"][(k // 2) % 4])
    v = 0
    for i in range(steps):
        v += (i * 7 + k) % 11
        out.write("http_requests_total{%s} %d %d\n" % (lab, v, T0 + i * 15))
for k in range(n):
    lab = 'instance="i%d:80",room="r%d"' % (k // 8, k % 8)
    for i in range(steps):
        out.write("temperature_celsius{%s} %.3f %d\n" % (lab, 20 + ((i * 13 + k * 7) % 50) / 10.0, T0 + i * 15))
out.write("# EOF\n")

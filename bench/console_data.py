#!/usr/bin/env python3
"""console_data.py NOW_MS - Prometheus text for bench/run-console.sh (pane import).

50 services shaped like Render's metrics over 6 h at 60 s (the Overview's
load), and bench_points{series="0".."49"} over 24 h at 15 s: 288,000
points for the one-chart budget. Seeded, so every run is the same.
"""
import math
import random
import sys

now = int(sys.argv[1]) // 60000 * 60000
rnd = random.Random(17)
out = sys.stdout
for s in range(50):
    base = f'environment="prod",provider="render",service="svc-{s:02d}"'
    lvl = rnd.uniform(5, 80)
    for i in range(360):
        t = now - (359 - i) * 60000
        w = 1 + 0.3 * math.sin(i / 40 + s)
        out.write(f'render_http_requests{{{base},status_code="200"}} {lvl * w:.0f} {t}\n')
        out.write(f'render_http_requests{{{base},status_code="500"}} {lvl * w * rnd.uniform(0, .03):.0f} {t}\n')
        out.write(f'render_http_latency_seconds{{{base},quantile="0.95"}} {0.08 + 0.05 * w + rnd.uniform(0, .02):.3f} {t}\n')
        out.write(f'render_cpu_usage_cores{{{base}}} {0.2 * w + rnd.uniform(0, .05):.3f} {t}\n')
        out.write(f'render_cpu_limit_cores{{{base}}} 1 {t}\n')
        out.write(f'render_memory_usage_bytes{{{base}}} {int(2e8 * w + rnd.uniform(0, 1e7))} {t}\n')
        out.write(f'render_memory_limit_bytes{{{base}}} 536870912 {t}\n')
start = now - 24 * 3600 * 1000
for s in range(50):
    v = 0.0
    for i in range(5760):
        v += rnd.gauss(0, 1)
        out.write(f'bench_points{{series="{s}"}} {v:.2f} {start + i * 15000}\n')

#!/usr/bin/env bash
# run-console.sh - the web console's budgets, measured in Chromium (web/test/bench.mjs):
#   everything shipped to the browser <= 150 KB gzipped; the Overview with 50
#   services drawn <= 1 s after navigation in <= 6 requests; a chart of
#   288,000 points drawn <= 100 ms; 100,000 log lines scroll smoothly.
# Data: bench/console_data.py (pane import) and 100,000 JSON log lines pushed
# to /api/v1/push/jsonlines. ~2 minutes.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${PANE_BIN:-$root/build/pane}
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
now=$(($(date +%s) * 1000))
python3 "$root/bench/console_data.py" "$now" >"$tmp/data.prom"
"$bin" import --format prometheus "$tmp/data.prom" --data-dir "$tmp/data" >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
env -u DATABASE_URL "$bin" serve --listen "127.0.0.1:$port" --data-dir "$tmp/data" >"$tmp/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 200); do curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.05; done
# 100,000 log lines over the last 12 h, 10,000 per request
python3 - "$now" "$tmp" <<'PY'
import json, random, sys
now, tmp = int(sys.argv[1]), sys.argv[2]
rnd = random.Random(5)
lv = ['debug', 'info', 'info', 'info', 'warn', 'error']
for part in range(10):
    with open(f'{tmp}/logs{part}.jsonl', 'w') as f:
        for i in range(10000):
            k = part * 10000 + i
            f.write(json.dumps({'ts': now - 12 * 3600 * 1000 + k * 432, 'level': rnd.choice(lv),
                                'msg': f'GET /api/items/{rnd.randint(1, 9999)} {rnd.choice([200, 200, 200, 404, 500])} {rnd.randint(1, 400)}ms'}) + '\n')
PY
for part in $(seq 0 9); do
  curl -fsS -X POST --data-binary @"$tmp/logs$part.jsonl" -H 'Content-Type: application/x-ndjson' \
    "http://127.0.0.1:$port/api/v1/push/jsonlines?service=bench&provider=bench" >/dev/null
done
cd "$root/web"
PANE_URL="http://127.0.0.1:$port" PANE_TMP="$tmp" node test/bench.mjs

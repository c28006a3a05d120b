#!/usr/bin/env bash
# test_backend.sh - `query: backend:` against a real VictoriaMetrics (Debian's
# victoria-metrics): the PromQL corpus (tests/promql) answers the same through
# pane over VictoriaMetrics as through pane over its embedded store holding
# the same data (except tests/promql/vm_differences.txt); label names and
# values come from the backend; a rule fires from data only the backend
# holds; the console's overview answers; /readyz names the backend; bad
# query: keys are refused with file:line.
. "${PANE_SOURCE_ROOT:?run through meson test}/tests/support/checks.sh"
unset DATABASE_URL
root=$PANE_SOURCE_ROOT
command -v victoria-metrics >/dev/null || { echo "victoria-metrics is missing: scripts/install-deps.sh"; exit 1; }
vm_pid= local_pid=
trap 'rm -rf "$tmp"; for p in $pid $vm_pid $local_pid; do kill "$p" 2>/dev/null; done' EXIT

# config errors first: file:line and the key
printf 'query:\n  backend: ftp://x\n' >"$tmp/bad1.yaml"
expect_status 1 "$bin" serve --config "$tmp/bad1.yaml" --data-dir "$tmp/d0"
expect_in "$tmp/err" "bad1.yaml:2: query.backend"
expect_in "$tmp/err" "not an http:// or https:// URL"
printf 'query:\n  backend: http://127.0.0.1:1\n  bearer_tokn: x\n' >"$tmp/bad2.yaml"
expect_status 1 "$bin" serve --config "$tmp/bad2.yaml" --data-dir "$tmp/d0"
expect_in "$tmp/err" "bad2.yaml:3: query.bearer_tokn"
printf 'query:\n  headers:\n    X-Scope-OrgID: t1\n' >"$tmp/bad3.yaml"
expect_status 1 "$bin" serve --config "$tmp/bad3.yaml" --data-dir "$tmp/d0"
expect_in "$tmp/err" "bad3.yaml:2: query.headers: only used with query.backend"
printf 'query:\n  backend: http://127.0.0.1:1\n  bearer_token: plain\n' >"$tmp/bad4.yaml"
expect_status 1 "$bin" serve --config "$tmp/bad4.yaml" --data-dir "$tmp/d0"
expect_in "$tmp/err" "bad4.yaml:3: query.bearer_token"
printf 'query:\n  backend: http://127.0.0.1:1\n  headers:\n    Authorization: Bearer x\n' >"$tmp/bad5.yaml"
expect_status 1 "$bin" serve --config "$tmp/bad5.yaml" --data-dir "$tmp/d0"
expect_in "$tmp/err" "bad5.yaml:4: query.headers.Authorization"
printf 'query:\n  backend: http://127.0.0.1:1\n  authorization:\n    type: Basic\n    credentials_file: /nonexistent\n' >"$tmp/bad6.yaml"
expect_status 1 "$bin" serve --config "$tmp/bad6.yaml" --data-dir "$tmp/d0"
expect_in "$tmp/err" "bad6.yaml:4: query.authorization.type: 'Basic' is not an Authorization scheme"
printf 'query:\n  backend: http://127.0.0.1:1\n  authorization:\n    credentials_file: %s/none\n' "$tmp" >"$tmp/bad7.yaml"
expect_status 1 "$bin" serve --config "$tmp/bad7.yaml" --data-dir "$tmp/d0"
expect_in "$tmp/err" "bad7.yaml:4: query.authorization.credentials_file: cannot read"
printf 'query:\n  backend: http://127.0.0.1:1\n  bearer_token_file: /x\n  basic_auth:\n    username: u\n    password_file: /y\n' >"$tmp/bad8.yaml"
expect_status 1 "$bin" serve --config "$tmp/bad8.yaml" --data-dir "$tmp/d0"
expect_in "$tmp/err" "bad8.yaml:4: query.basic_auth: give one of bearer_token, authorization and basic_auth"

# VictoriaMetrics with the corpus data (Prometheus text wants ms timestamps)
awk '!/^#/ {print $1, $2, $3 "000"}' "$root/tests/promql/data.om" >"$tmp/data.prom"
vm_port=$(free_port)
vm="http://127.0.0.1:$vm_port"
# with HTTP basic auth, which pane's basic_auth: must pass
victoria-metrics -httpListenAddr="127.0.0.1:$vm_port" -storageDataPath="$tmp/vm" -retentionPeriod=100y \
  -search.latencyOffset=0s -search.disableCache -loggerLevel=ERROR \
  -httpAuth.username=pane -httpAuth.password=vm-secret-42 >"$tmp/vm.log" 2>&1 &
vm_pid=$!
for _ in $(seq 1 400); do curl -fsS -u pane:vm-secret-42 "$vm/health" >/dev/null 2>&1 && break; sleep 0.05; done
curl -fsS -u pane:vm-secret-42 "$vm/health" >/dev/null && ok || bad "victoria-metrics did not start: $(cat "$tmp/vm.log")"
now=$(date +%s)
code=$(curl -sS -o /dev/null -w '%{http_code}' -u pane:vm-secret-42 --data-binary @"$tmp/data.prom" "$vm/api/v1/import/prometheus")
[ "$code" = 204 ] && ok || bad "import into victoria-metrics answered $code"
printf 'backend_probe{job="probe"} 7 %s000\nescape_probe{path="a\\"q\\\\d+"} 3 %s000\n' "$now" "$now" |
  curl -sS -o /dev/null -u pane:vm-secret-42 --data-binary @- "$vm/api/v1/import/prometheus"
curl -fsS -u pane:vm-secret-42 "$vm/internal/force_flush" >/dev/null
want=$(grep -v '^#' "$tmp/data.prom" | sed 's/[ {].*//' | sort -u | wc -l)
got=0
for _ in $(seq 1 200); do  # searchable once VictoriaMetrics has indexed everything
  got=$(curl -fsS -u pane:vm-secret-42 "$vm/api/v1/label/__name__/values?start=1699990000" |
    python3 -c 'import json,sys; print(len([n for n in json.load(sys.stdin)["data"] if n != "backend_probe"]))')
  [ "$got" -ge "$want" ] && break
  sleep 0.05
done
[ "$got" -ge "$want" ] && ok || bad "victoria-metrics holds $got metric names, want $want"

# pane over its embedded store with the same data
expect_status 0 "$bin" import --format prometheus "$tmp/data.prom" --data-dir "$tmp/local"
printf 'receivers:\n  statsd:\n    enabled: false\n' >"$tmp/local.yaml"
serve_start "$tmp/local.log" /readyz --config "$tmp/local.yaml" --data-dir "$tmp/local" && ok ||
  bad "embedded pane not ready: $(cat "$tmp/local.log")"
local_pid=$pid local_u=$u

# pane over VictoriaMetrics, with a rule on data only VictoriaMetrics holds
mkdir -p "$tmp/rules"
cat >"$tmp/rules/probe.yml" <<'YAML'
groups:
  - name: probe
    interval: 1s
    rules:
      - alert: ProbeHigh
        expr: backend_probe > 5
        labels: {severity: page}
        annotations: {summary: "probe at {{ $value }}"}
YAML
cat >"$tmp/remote.yaml" <<YAML
query:
  backend: $vm/
  remote_timeout: 20s
  max_response_size: 32MiB
  headers:
    X-Scope-OrgID: tenant-1
  basic_auth:
    username: pane
    password: \${VM_PASSWORD}
rules:
  files: [$tmp/rules/*.yml]
receivers:
  statsd:
    enabled: false
YAML
export VM_PASSWORD=vm-secret-42
serve_start "$tmp/remote.log" /readyz --config "$tmp/remote.yaml" --data-dir "$tmp/remote" && ok ||
  bad "pane over victoria-metrics not ready: $(cat "$tmp/remote.log")"
curl -sS "$u/readyz" >"$tmp/readyz"
expect_in "$tmp/readyz" "\"query_backend\":{\"url\":\"$vm\""

# the corpus: pane over VictoriaMetrics == pane over the embedded store
python3 "$root/tests/integration/remote/corpus_compare.py" "$local_u" "$u" \
  "$root/tests/promql/vm_differences.txt" >"$tmp/corpus.out" 2>&1 && ok ||
  bad "corpus through the backend: $(grep -A1 MISMATCH "$tmp/corpus.out" | head -20; tail -3 "$tmp/corpus.out")"
tail -1 "$tmp/corpus.out"

# data only the backend holds: the embedded store of this pane is empty
curl -sS "$u/api/v1/query" --data-urlencode 'query=backend_probe' >"$tmp/q"
expect_in "$tmp/q" '"job":"probe"'
expect_in "$tmp/q" ",\"7\"]"
# a quote and a backslash survive the selector pane builds, in = and =~
curl -sS "$u/api/v1/query" --data-urlencode 'query=escape_probe{path="a\"q\\d+"}' >"$tmp/e1"
expect_in "$tmp/e1" ',"3"]'
curl -sS "$u/api/v1/query" --data-urlencode 'query=escape_probe{path=~"a\"q\\\\d\\+"}' >"$tmp/e2"
expect_in "$tmp/e2" ',"3"]'
curl -sS "$u/api/v1/labels" --data-urlencode 'match[]=backend_probe' \
  --data-urlencode "start=$((now - 60))" --data-urlencode "end=$((now + 60))" >"$tmp/l"
expect_in "$tmp/l" '"data":["__name__","job"]'
curl -sS "$u/api/v1/label/job/values?start=$((now - 60))&end=$((now + 60))" >"$tmp/v"
expect_in "$tmp/v" '"probe"'
curl -sS "$u/api/v1/series" --data-urlencode 'match[]=http_requests_total{method="get",code="200"}' \
  --data-urlencode start=1700000000 --data-urlencode end=1700003600 >"$tmp/s"
expect_in "$tmp/s" '"instance":"a:80"'
expect_in "$tmp/s" '"instance":"b:80"'

curl -sS "$u/api/v1/metadata" >"$tmp/md"
expect_in "$tmp/md" '"status":"success"'

# the rule fires from the backend's data
fired=no
for _ in $(seq 1 300); do
  curl -sS "$u/api/v1/alerts" >"$tmp/alerts"
  grep -q '"state":"firing"' "$tmp/alerts" && { fired=yes; break; }
  sleep 0.1
done
[ "$fired" = yes ] && ok || bad "ProbeHigh did not fire from backend data: $(cat "$tmp/alerts")"
expect_in "$tmp/alerts" '"alertname":"ProbeHigh"'
expect_in "$tmp/alerts" 'probe at 7'

# the console's overview over the backend (the corpus data's hour)
code=$(curl -sS -o "$tmp/ov" -w '%{http_code}' \
  "$u/api/v1/console/overview?start=1700000000&end=1700003600&step=60")
[ "$code" = 200 ] && ok || bad "console overview answered $code: $(head -c 300 "$tmp/ov")"
expect_in "$tmp/ov" '"status":"success"'

kill "$local_pid" && wait "$local_pid" 2>/dev/null
local_pid=
serve_stop && ok || bad "pane over victoria-metrics did not stop cleanly"
finish

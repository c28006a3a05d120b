#!/usr/bin/env python3
"""supabase_fake.py - a loopback fake of the Supabase Management API (logs,
health, usage) and of a project's privileged metrics endpoint, for pane's
source tests. Standard library only.

    python3 tests/fakes/supabase_fake.py PORT [--ref REF] [--token TOKEN] [--service-key KEY]
        [--rate-limit N] [--rate-window SECONDS] [--live SECONDS]

--live SECONDS (demo only, off by default): ten minutes of log lines at start, then
a few new ones every SECONDS, so `make demo` has Supabase logs to show.

It serves the DOCUMENTED contract (shared/reference/providers.md section 3
and the Management API OpenAPI file), not what pane happens to send:

  GET /v1/projects/{ref}/analytics/endpoints/logs.all   legacy, BigQuery-style SQL over
        per-source tables (edge_logs, postgres_logs, ...); `timestamp` in rows is integer
        microseconds; answers 410 {"message": ...} once "legacy" is set to "gone"
  GET /v1/projects/{ref}/analytics/endpoints/logs       unified, ClickHouse-style SQL over
        one `logs` table with a `source` column; `timestamp` is an ISO string without zone;
        old table names fail with `Table "edge_logs" does not exist.`
        Both: params sql, iso_timestamp_start, iso_timestamp_end; no timestamps = the last
        minute; the range is rounded to the nearest minute and must be <= 24 h; at most 1000
        rows; SQL errors come back as HTTP 200 with "error" set.
  GET /v1/projects/{ref}/analytics/endpoints/usage.api-counts?interval=...
  GET /v1/projects/{ref}/analytics/endpoints/usage.api-requests-count
  GET /v1/projects/{ref}/health?services=auth&services=db...
  GET /v1/projects/{ref}/advisors/performance, .../advisors/security   {"lints": [...]}
  GET /v1/projects/{ref}/functions          [{id, slug, name, status, version, created_at, updated_at, ...}]
  GET /v1/projects/{ref}/analytics/endpoints/functions.combined-stats?interval=&function_id=
        (both required, 400 otherwise) {"result": [rows], "error": null}; the spec leaves the row
        unspecified: here {"timestamp", "success_count", "error_count", "avg_execution_time"} per hour
  GET /v1/projects/{ref}/config/disk/util   {"timestamp", "metrics": {fs_size_bytes, fs_avail_bytes,
        fs_used_bytes}}
  GET /customer/v1/privileged/metrics                   Prometheus text, HTTP basic auth
        user service_role, password = the service key

  Auth: Authorization: Bearer TOKEN on /v1 (401 otherwise). Rate limit on the analytics
  endpoints: N requests per window per endpoint (documented: 30/min), X-RateLimit-Limit,
  -Remaining and -Reset (seconds until the window resets) on every response, 429 past it.

The SQL understood is the small subset a log tail needs (select ... from T [where
source in (...)] [and timestamp >= '...'] order by timestamp [asc][, id asc] limit N
[offset K]); anything else is answered as a SQL error, like the real service would
for SQL it cannot run.

Test control (not part of the contract), JSON over POST:
  /__fake/logs      {"rows": [{"id", "ts_us", "source", "severity", "message", "attributes"}]}
  /__fake/config    {"legacy": "ok"|"gone", "unified": "ok"|"absent",
                     "ignore_window": true (a provider that answers every row it has,
                                    ignoring iso_timestamp_* and the SQL timestamp condition),
                     "faults": [{"path": substring, "status": 503, "count": 2,
                                 "body": optional text, "headers": optional {name: value},
                                 "delay_ms": optional}],
                     "slow_ms": {"substring": ms}, "health": [...], "metrics": "text",
                     "lints": {"performance": [...], "security": [...]}, "disk": {...} or null,
                     "rate_limit": N, "rate_window": seconds}
  /__fake/reset     forget logs, faults, requests and rate windows
  GET /__fake/requests  the requests seen: [{"method","path","query","status"}]
  GET /__fake/ping
"""
import base64
import datetime as dt
import json
import re
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LEGACY_TABLES = {"edge_logs", "postgres_logs", "function_edge_logs", "function_logs", "auth_logs",
                 "storage_logs", "realtime_logs", "postgrest_logs", "pgbouncer_logs", "workflow_run_logs"}
def lint(name, level, category, title, schema, entity, key):
    return {"name": name, "title": title, "level": level, "facing": "EXTERNAL", "categories": [category],
            "description": "Detects " + title.lower(), "detail": "%s.%s: %s" % (schema, entity, title),
            "remediation": "https://supabase.com/docs/guides/database/database-linter?lint=" + name,
            "metadata": {"schema": schema, "name": entity, "type": "table", "fkey_name": None},
            "cache_key": key, "xFakeExtra": None}


DEFAULT_LINTS = {
    "performance": [lint("unindexed_foreign_keys", "INFO", "PERFORMANCE", "Unindexed foreign keys", "public",
                         "orders", "unindexed_foreign_keys_public_orders_orders_customer_id_fkey"),
                    lint("auth_rls_initplan", "WARN", "PERFORMANCE", "Auth RLS Initialization Plan", "public",
                         "profiles", "auth_rls_init_plan_public_profiles_select_own")],
    "security": [lint("rls_disabled_in_public", "ERROR", "SECURITY", "RLS Disabled in Public", "public",
                      "audit_log", "rls_disabled_in_public_public_audit_log")],
}

FUNCTIONS = [{"id": "3c078cce-ad70-4148-9f37-4da362789053", "slug": "checkout", "name": "checkout",
              "status": "ACTIVE", "version": 12, "created_at": 1735689600000, "updated_at": 1764633600000,
              "verify_jwt": True, "import_map": False, "entrypoint_path": "index.ts", "import_map_path": None,
              "ezbr_sha256": None},
             {"id": "9a1f0d7e-2b3c-4d5e-8f90-1a2b3c4d5e6f", "slug": "send-email", "name": "send-email",
              "status": "ACTIVE", "version": 3, "created_at": 1735689600000, "updated_at": 1764633600000,
              "verify_jwt": False, "import_map": False, "entrypoint_path": "index.ts", "import_map_path": None,
              "ezbr_sha256": None}]

HEALTH_SERVICES = {"auth", "db", "db_postgres_user", "pooler", "realtime", "rest", "storage", "pg_bouncer"}
USAGE_INTERVALS = {"15min", "30min", "1hr", "3hr", "1day", "3day", "7day"}
ROW_CAP = 1000

DEFAULT_METRICS = """# HELP node_load5 5m load average.
# TYPE node_load5 gauge
node_load5{supabase_project_ref="REF",service_type="db"} 0.25
# HELP pg_stat_database_xact_commit_total Transactions committed.
# TYPE pg_stat_database_xact_commit_total counter
pg_stat_database_xact_commit_total{supabase_project_ref="REF",service_type="db",datname="postgres"} 1027
# HELP gotrue_running Whether GoTrue is running.
# TYPE gotrue_running gauge
gotrue_running{supabase_project_ref="REF",service_type="gotrue"} 1
# TYPE http_server_duration_milliseconds histogram
http_server_duration_milliseconds_bucket{supabase_project_ref="REF",service_type="gotrue",le="100"} 3
http_server_duration_milliseconds_bucket{supabase_project_ref="REF",service_type="gotrue",le="+Inf"} 4
http_server_duration_milliseconds_sum{supabase_project_ref="REF",service_type="gotrue"} 250.5
http_server_duration_milliseconds_count{supabase_project_ref="REF",service_type="gotrue"} 4
"""


class State:
    def __init__(self, args):
        self.lock = threading.RLock()
        self.ref = args["ref"]
        self.token = args["token"]
        self.service_key = args["service_key"]
        self.default_rate = (args["rate_limit"], args["rate_window"])
        self.reset()

    def reset(self):
        self.logs = []  # dicts: id, ts_us, source, severity, message, attributes
        self.legacy = "ok"
        self.unified = "ok"
        self.ignore_window = False
        self.faults = []
        self.slow = {}
        self.requests = []
        self.windows = {}  # endpoint -> [window_start, count]
        self.rate_limit, self.rate_window = self.default_rate
        self.health = None
        self.metrics = DEFAULT_METRICS.replace("REF", self.ref)
        self.lints = json.loads(json.dumps(DEFAULT_LINTS))
        self.disk = {"fs_size_bytes": 8589934592, "fs_avail_bytes": 6039797760, "fs_used_bytes": 2550136832}


STATE = None

LIVE_LINES = [("edge_logs", "INFO", "GET | 200 | /rest/v1/orders?select=* | 12ms"),
              ("postgres_logs", "LOG", "connection authorized: user=authenticator database=postgres"),
              ("auth_logs", "INFO", "request completed: POST /token?grant_type=password 200"),
              ("edge_logs", "WARNING", "POST | 429 | /functions/v1/checkout | rate limited"),
              ("postgres_logs", "ERROR", "duplicate key value violates unique constraint \"orders_pkey\""),
              ("function_logs", "INFO", "checkout: charged order in 231ms")]


def live(every_s):
    """--live: backfill ten minutes, then three lines every every_s seconds."""
    def line(k, ts_us):
        src, sev, msg = LIVE_LINES[k % len(LIVE_LINES)]
        return {"id": "live-%06d" % k, "ts_us": ts_us, "source": src, "severity": sev, "message": msg,
                "attributes": {"demo": "true", "n": k}}

    def run():
        now = int(time.time() * 1000000)
        k = 0
        with STATE.lock:
            for k in range(40):
                STATE.logs.append(line(k, now - (40 - k) * 15 * 1000000))
        while True:
            time.sleep(every_s)
            now = int(time.time() * 1000000)
            with STATE.lock:
                for j in range(3):
                    k += 1
                    STATE.logs.append(line(k, now + j))

    threading.Thread(target=run, daemon=True).start()


def iso_unified(ts_us):
    d = dt.datetime.fromtimestamp(ts_us / 1e6, dt.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + "%06d" % (ts_us % 1000000)


def parse_time(s):
    """ISO 8601 (with or without zone, 'T' or ' ') -> microseconds."""
    s = s.strip().replace(" ", "T")
    if s.endswith("Z"):
        s = s[:-1] + "+00:00"
    m = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?([+-]\d\d:\d\d)?$", s)
    if not m:
        raise ValueError("bad timestamp %r" % s)
    base = dt.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=dt.timezone.utc)
    us = int(base.timestamp()) * 1000000
    if m.group(2):
        us += int((m.group(2)[1:] + "000000")[:6])
    if m.group(3):
        sign = 1 if m.group(3)[0] == "+" else -1
        hh, mm = int(m.group(3)[1:3]), int(m.group(3)[4:6])
        us -= sign * (hh * 3600 + mm * 60) * 1000000
    return us


def round_minute(us):
    minute = 60 * 1000000
    return ((us + minute // 2) // minute) * minute


class SqlError(Exception):
    pass


def run_sql(sql, unified, lo_us, hi_us):
    q = " ".join(sql.split())
    m = re.match(r"^select (.+?) from (\w+)( where (.+?))? order by (.+?) limit (\d+)( offset (\d+))?$", q, re.I)
    if not m:
        raise SqlError("Syntax error: cannot parse query")
    cols = [c.strip() for c in m.group(1).split(",")]
    table = m.group(2)
    where = m.group(4) or ""
    order = m.group(5).lower().replace(" asc", "")
    limit = min(int(m.group(6)), ROW_CAP)
    offset = int(m.group(8) or 0)
    if unified and table != "logs":
        raise SqlError('Table "%s" does not exist.' % table)
    if not unified and table not in LEGACY_TABLES:
        raise SqlError("Not found: Table %s was not found" % table)
    if order not in ("timestamp", "timestamp, id"):
        raise SqlError("unsupported ORDER BY in this fake: %s" % order)
    sources = None
    since = None
    for cond in [c.strip() for c in re.split(r"\band\b", where, flags=re.I) if c.strip()]:
        sm = re.match(r"^source in \((.*)\)$", cond, re.I)
        tm = re.match(r"^timestamp >= '([^']+)'$", cond, re.I)
        if sm and unified:
            sources = set(x.strip().strip("'") for x in sm.group(1).split(","))
        elif tm:
            try:
                since = parse_time(tm.group(1))
            except ValueError as e:
                raise SqlError(str(e))
        else:
            raise SqlError("Unrecognized name or condition: %s" % cond)
    known = {"id", "timestamp", "source", "severity_text", "event_message", "log_attributes", "metadata", "project"}
    for c in cols:
        if c != "*" and c not in known:
            raise SqlError("Unrecognized name: %s" % c)
        if c == "source" and not unified:
            raise SqlError("Unrecognized name: source")
        if c in ("log_attributes", "severity_text") and not unified:
            raise SqlError("Unrecognized name: %s" % c)
    with STATE.lock:
        ignore = STATE.ignore_window
        rows = [r for r in STATE.logs
                if (r["source"] in sources if unified and sources is not None else True)
                and (unified or r["source"] == table)
                and (ignore or since is None or r["ts_us"] >= since)
                and (ignore or lo_us <= r["ts_us"] < hi_us)]
    rows.sort(key=lambda r: (r["ts_us"], r["id"]))
    rows = rows[offset:offset + limit]
    out = []
    for r in rows:
        row = {}
        for c in (["id", "timestamp", "event_message"] if cols == ["*"] else cols):
            if c == "id":
                row["id"] = r["id"]
            elif c == "timestamp":
                row["timestamp"] = iso_unified(r["ts_us"]) if unified else r["ts_us"]
            elif c == "source":
                row["source"] = r["source"]
            elif c == "severity_text":
                row["severity_text"] = r.get("severity", "INFO")
            elif c == "event_message":
                row["event_message"] = r["message"]
            elif c == "log_attributes":
                row["log_attributes"] = {k: str(v) for k, v in (r.get("attributes") or {}).items()}
            elif c == "metadata":
                row["metadata"] = [r.get("attributes") or {}]
            elif c == "project":
                row["project"] = STATE.ref
        out.append(row)
    return out


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "supabase-fake/1"

    def log_message(self, fmt, *args):
        pass

    def send(self, status, body, ctype="application/json", headers=None):
        data = body.encode() if isinstance(body, str) else body
        # record before answering, so a client that got the answer sees it in /__fake/requests
        with STATE.lock:
            if not self.path.startswith("/__fake"):
                u = urllib.parse.urlsplit(self.path)
                STATE.requests.append({"method": self.command, "path": u.path,
                                       "query": urllib.parse.parse_qs(u.query), "status": status})
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def sendj(self, status, obj, headers=None):
        self.send(status, json.dumps(obj), headers=headers)

    def body_json(self):
        n = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(n) or b"{}")

    # ---- control ----
    def do_POST(self):
        u = urllib.parse.urlsplit(self.path)
        if u.path == "/__fake/logs":
            rows = self.body_json().get("rows", [])
            with STATE.lock:
                STATE.logs.extend(rows)
            return self.sendj(200, {"added": len(rows)})
        if u.path == "/__fake/config":
            cfg = self.body_json()
            with STATE.lock:
                STATE.legacy = cfg.get("legacy", STATE.legacy)
                STATE.unified = cfg.get("unified", STATE.unified)
                STATE.ignore_window = bool(cfg.get("ignore_window", STATE.ignore_window))
                if "faults" in cfg:
                    STATE.faults = [dict(f) for f in cfg["faults"]]
                if "slow_ms" in cfg:
                    STATE.slow = cfg["slow_ms"]
                if "health" in cfg:
                    STATE.health = cfg["health"]
                if "metrics" in cfg:
                    STATE.metrics = cfg["metrics"]
                if "lints" in cfg:
                    STATE.lints.update(cfg["lints"])
                if "disk" in cfg:
                    STATE.disk = cfg["disk"]
                STATE.rate_limit = cfg.get("rate_limit", STATE.rate_limit)
                STATE.rate_window = cfg.get("rate_window", STATE.rate_window)
            return self.sendj(200, {"ok": True})
        if u.path == "/__fake/reset":
            with STATE.lock:
                STATE.reset()
            return self.sendj(200, {"ok": True})
        return self.sendj(404, {"message": "Cannot POST %s" % u.path})

    # ---- the contract ----
    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(u.query, keep_blank_values=True)
        if u.path == "/__fake/ping":
            return self.sendj(200, {"ok": True})
        if u.path == "/__fake/requests":
            with STATE.lock:
                seen = list(STATE.requests)
            return self.sendj(200, seen)

        delay = 0
        fault = None
        with STATE.lock:
            for sub, ms in STATE.slow.items():
                if sub in u.path:
                    delay = max(delay, ms)
            for f in STATE.faults:
                if f["path"] in u.path and f.get("count", 1) > 0:
                    f["count"] = f.get("count", 1) - 1
                    fault = f
                    break
        if fault and fault.get("delay_ms"):
            delay = max(delay, fault["delay_ms"])
        if delay:
            time.sleep(delay / 1000.0)

        if u.path.startswith("/customer/v1/privileged/metrics"):
            return self.metrics(fault)
        m = re.match(r"^/v1/projects/([^/]+)/(.+)$", u.path)
        if not m:
            return self.sendj(404, {"message": "Cannot GET %s" % u.path})
        if self.headers.get("Authorization") != "Bearer " + STATE.token:
            return self.sendj(401, {"message": "Unauthorized"})
        ref, rest = m.group(1), m.group(2)
        if not re.match(r"^[a-z]{20}$", ref):
            return self.sendj(400, {"message": "Invalid project ref format"})
        if ref != STATE.ref:
            return self.sendj(404, {"message": "Project not found"})

        analytics = rest.startswith("analytics/endpoints/")
        rl = {}
        if analytics:
            endpoint = rest.split("/")[-1]
            now = time.time()
            with STATE.lock:
                w = STATE.windows.get(endpoint)
                if not w or now - w[0] >= STATE.rate_window:
                    w = [now, 0]
                    STATE.windows[endpoint] = w
                w[1] += 1
                used, limit = w[1], STATE.rate_limit
                reset = max(0, int(round(w[0] + STATE.rate_window - now)))
            rl = {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(max(0, limit - used)),
                  "X-RateLimit-Reset": str(reset)}
            if used > limit:
                return self.sendj(429, {"message": "ThrottlerException: Too Many Requests"}, rl)
        if fault:
            hdrs = dict(rl)
            hdrs.update(fault.get("headers") or {})
            if fault.get("body") is not None:
                return self.send(fault.get("status", 200), fault["body"], headers=hdrs)
            st = fault.get("status", 500)
            msg = "ThrottlerException: Too Many Requests" if st == 429 else "Internal server error"
            return self.sendj(st, {"message": msg}, hdrs)

        if rest == "health":
            return self.health(q)
        if rest in ("advisors/performance", "advisors/security"):
            with STATE.lock:
                lints = json.loads(json.dumps(STATE.lints.get(rest.split("/")[1], [])))
            return self.sendj(200, {"lints": lints})
        if rest == "functions":
            return self.sendj(200, [dict(f) for f in FUNCTIONS])
        if rest == "analytics/endpoints/functions.combined-stats":
            interval = (q.get("interval") or [""])[0]
            fid = (q.get("function_id") or [""])[0]
            if interval not in ("15min", "1hr", "3hr", "1day") or not fid:
                return self.sendj(400, {"message": "interval and function_id are required"}, rl)
            k = next((i for i, f in enumerate(FUNCTIONS) if f["id"] == fid), None)
            if k is None:
                return self.sendj(200, {"result": [], "error": None}, rl)
            now = int(time.time()) // 3600 * 3600
            rows = [{"timestamp": dt.datetime.fromtimestamp(now - 3600 * h, dt.timezone.utc)
                     .strftime("%Y-%m-%dT%H:%M:%S"), "success_count": 40 + h + k, "error_count": k * 2 + h,
                     "avg_execution_time": 120.5 + k, "xFakeExtra": None} for h in (1, 0)]
            return self.sendj(200, {"result": rows, "error": None}, rl)
        if rest == "config/disk/util":
            with STATE.lock:
                disk = STATE.disk
            if disk is None:
                return self.sendj(404, {"message": "Cannot GET %s" % u.path})
            return self.sendj(200, {"timestamp": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                                    "metrics": disk})
        if rest == "analytics/endpoints/logs.all":
            if STATE.legacy == "gone":
                return self.sendj(410, {"message": "The logs.all endpoint has been removed. Use GET "
                                        "/v1/projects/{ref}/analytics/endpoints/logs instead. See https://supabase.com/"
                                        "changelog/48235-migration-of-supabase-management-api-logs-all-analytics-"
                                        "endpoint-to-logs-endpoint"}, rl)
            return self.logs(q, False, rl)
        if rest == "analytics/endpoints/logs":
            if STATE.unified == "absent":
                return self.sendj(404, {"message": "Cannot GET %s" % u.path}, rl)
            return self.logs(q, True, rl)
        if rest == "analytics/endpoints/usage.api-counts":
            interval = (q.get("interval") or ["1day"])[0]
            if interval not in USAGE_INTERVALS:
                return self.sendj(400, {"message": "interval must be one of " + ", ".join(sorted(USAGE_INTERVALS))}, rl)
            now = int(time.time()) // 3600 * 3600
            res = [{"timestamp": dt.datetime.fromtimestamp(now - 3600 * i, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "total_auth_requests": 10 + i, "total_realtime_requests": 20 + i,
                    "total_rest_requests": 30 + i, "total_storage_requests": 40 + i} for i in (2, 1, 0)]
            return self.sendj(200, {"result": res, "error": None}, rl)
        if rest == "analytics/endpoints/usage.api-requests-count":
            return self.sendj(200, {"result": [{"count": 4242}], "error": None}, rl)
        return self.sendj(404, {"message": "Cannot GET %s" % u.path})

    def logs(self, q, unified, rl):
        now = int(time.time() * 1e6)
        start = (q.get("iso_timestamp_start") or [None])[0]
        end = (q.get("iso_timestamp_end") or [None])[0]
        try:
            if start is None and end is None:
                lo, hi = now - 60 * 1000000, now + 1
            else:
                lo = round_minute(parse_time(start)) if start else now - 60 * 1000000
                hi = round_minute(parse_time(end)) if end else now
                if hi - lo > 24 * 3600 * 1000000:
                    return self.sendj(400, {"message": "The timestamp range must be no more than 24 hours"}, rl)
        except ValueError:
            return self.sendj(400, {"message": "iso_timestamp_start must be a valid ISO 8601 date string"}, rl)
        sql = (q.get("sql") or [None])[0]
        if sql is None:
            sql = "select id, timestamp, event_message from %s order by timestamp limit 100" % (
                "logs" if unified else "edge_logs")
        try:
            rows = run_sql(sql, unified, lo, hi)
        except SqlError as e:
            if unified:
                err = str(e)
            else:
                err = {"code": 400, "errors": [{"domain": "global", "location": "q", "locationType": "parameter",
                                                "message": str(e), "reason": "invalidQuery"}],
                       "message": str(e), "status": "INVALID_ARGUMENT"}
            return self.sendj(200, {"result": [], "error": err}, rl)
        return self.sendj(200, {"result": rows, "error": None}, rl)

    def health(self, q):
        services = q.get("services")
        if not services:
            return self.sendj(400, {"message": "services must be an array of " + ", ".join(sorted(HEALTH_SERVICES))})
        flat = []
        for s in services:
            flat.extend(x for x in s.split(",") if x)
        bad = [s for s in flat if s not in HEALTH_SERVICES]
        if bad:
            return self.sendj(400, {"message": "each value in services must be one of the following values: "
                                    + ", ".join(sorted(HEALTH_SERVICES))})
        with STATE.lock:
            configured = STATE.health
        out = []
        for s in flat:
            item = None
            for h in configured or []:
                if h.get("name") == s:
                    item = dict(h)
            if item is None:
                item = {"name": s, "healthy": True, "status": "ACTIVE_HEALTHY"}
                if s == "auth":
                    item["info"] = {"name": "GoTrue", "version": "2.170.0", "description": "GoTrue is a user registration and authentication API"}
                if s == "realtime":
                    item["info"] = {"healthy": True, "db_connected": True, "replication_connected": True, "connected_cluster": 1}
            out.append(item)
        return self.sendj(200, out)

    def metrics(self, fault):
        auth = self.headers.get("Authorization") or ""
        ok = False
        if auth.startswith("Basic "):
            try:
                user, _, pw = base64.b64decode(auth[6:]).decode().partition(":")
                ok = user == "service_role" and pw == STATE.service_key
            except Exception:
                ok = False
        if not ok:
            return self.send(401, "Unauthorized\n", "text/plain", {"WWW-Authenticate": 'Basic realm="metrics"'})
        if fault:
            if fault.get("body") is not None:
                return self.send(fault.get("status", 200), fault["body"], "text/plain; version=0.0.4")
            return self.send(fault.get("status", 500), "upstream error\n", "text/plain")
        with STATE.lock:
            text = STATE.metrics
        return self.send(200, text, "text/plain; version=0.0.4; charset=utf-8")


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0 if len(argv) >= 2 else 2
    args = {"ref": "abcdefghijklmnopqrst", "token": "sbp_test_token", "service_key": "sb_secret_test",
            "rate_limit": 30, "rate_window": 60, "live": 0}
    port = int(argv[1])
    i = 2
    while i < len(argv):
        k = argv[i].lstrip("-").replace("-", "_")
        v = argv[i + 1]
        args[k] = int(v) if k in ("rate_limit", "rate_window") else float(v) if k == "live" else v
        i += 2
    global STATE
    STATE = State(args)
    if args["live"] > 0:
        live(args["live"])
    srv = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    srv.daemon_threads = True
    print("supabase fake listening on 127.0.0.1:%d" % port, flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

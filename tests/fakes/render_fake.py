#!/usr/bin/env python3
"""render_fake.py - a loopback fake of Render's public REST API v1 for pane's
source tests. Standard library only.

    python3 tests/fakes/render_fake.py PORT [--key rnd_test] [--services 7] [--logs 250]
        [--live SECONDS]   (demo only: a few log lines and a deploy step every SECONDS)

It serves the DOCUMENTED contract (shared/reference/providers.md section 2 and
Render's OpenAPI file render-public-api.json), not what pane happens to send:

  GET /v1/services                       bare array of {"cursor", "service"}; limit 1..100
        (default 20, else 400); array filters comma-separated (repeated also accepted):
        name, type, region, suspended, ownerId, environmentId; includePreviews
  GET /v1/services/{id}                  the service object; 404 once deleted
  GET /v1/services/{id}/deploys          bare array of {"cursor", "deploy"}, newest first;
        status[], createdAfter/Before, updatedAfter/Before, finishedAfter/Before; 404 once deleted
  GET /v1/services/{id}/events            bare array of {"cursor", "event": {id, timestamp,
        serviceId, type, details}}, newest first; type (repeated or comma-separated),
        startTime/endTime, cursor, limit 1..100 (default 20); 404 once deleted
  GET /v1/postgres, GET /v1/key-value      bare arrays of {"cursor", "postgres"|"keyValue"} (cursor
        paging like services): two Postgres instances (a primary and its read replica) and one
        Key Value instance; their metrics (cpu, memory, disk-usage, disk-capacity,
        active-connections, replication-lag for the replica) under /v1/metrics/*
  GET /v1/logs                           ownerId and resource (repeated) required (400);
        startTime/endTime RFC 3339 (defaults now-1h / now), direction backward (default)
        or forward, limit 1..100 (default 20), filters instance/level/type/host/method/path/
        statusCode/text (repeated); {"hasMore","nextStartTime","nextEndTime","logs"}
  GET /v1/metrics/{cpu,cpu-limit,cpu-target,memory,memory-limit,memory-target,http-requests,
        http-latency,bandwidth,instance-count,disk-usage,disk-capacity,active-connections,
        replication-lag,task-runs-queued,task-runs-completed}
        startTime/endTime, resolutionSeconds (min 30, default 60), resource (or the deprecated
        service; repeated = ORed), instance, aggregationMethod, aggregateBy, quantile, host, path;
        a bare array of {"labels":[{"field","value"}],"unit","values":[{"timestamp","value"}]}
  GET /v1/metrics/bandwidth-sources       {"data":[{"labels":{resource,trafficSource},"values":
        [{"timestamp": epoch seconds, "value"}]}]}

  Spec allowances the fake exercises by default: `limit` is a maximum, not a promise - a
  list page holds at most --page-cap items (default 3) whatever the limit, and only an empty
  page ends the list; /metrics/http-latency labels its series with the resource only (the
  quantile asked for is not echoed); every service has --deploys deploys (default 4).

  Auth: Authorization: Bearer KEY, else 401 {"id","message"}. Every response carries
  Ratelimit-Limit / -Remaining / -Reset (seconds until the window resets) when a limit is
  configured; past it 429 {"id","message"} without Retry-After. Objects carry every optional
  field the schema lists and unknown extra fields ("xFakeExtra").

Test control (see fakebase.py for faults; "loop" makes /v1/services repeat its cursor and
/v1/logs answer hasMore with the same window forever):
  POST /__fake/config  {"deleted": [service ids], "skew_s": seconds added to every timestamp,
                        "page_cap": items per list page at most (0 = as many as limit),
                        "ignore_window": true (a provider whose /v1/logs ignores startTime/endTime),
                        "rate_limit": N, "rate_window": seconds, "faults": [...]}
  POST /__fake/deploy  {"service": id, "action": "new"|"advance"|"fail"|"cancel",
                        "at": RFC 3339 (default now), "commit": {"id","message"}}
                       -> the deploy after the change
  POST /__fake/event   {"service": id, "type": "server_failed", "details": {...}, "at": RFC 3339}
                       -> the event
  POST /__fake/logs    {"n": 10, "resource": id (default: round robin), "same_ts": 2,
                        "at": RFC 3339 start (default now)} -> {"ids": [...]}
  GET  /__fake/state   {"services": [...ids...], "owner": id}
  POST /__fake/reset   back to the generated data
"""
import base64
import json
import math
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree clean
import fakebase as fb  # noqa: E402
import story  # noqa: E402

OWNER = "tea-cu1vurggph6c73els2bg"
TYPES = ["web_service", "background_worker", "private_service", "cron_job", "static_site", "web_service"]
REGIONS = ["oregon", "frankfurt", "ohio", "singapore", "virginia"]
PLANS = ["starter", "standard", "pro", "starter_plus", "free"]
METRICS = {"cpu", "cpu-limit", "cpu-target", "memory", "memory-limit", "memory-target", "http-requests",
           "http-latency", "bandwidth", "instance-count", "disk-usage", "disk-capacity", "active-connections",
           "replication-lag", "task-runs-queued", "task-runs-completed"}
LEVELS = ["info", "info", "warning", "error", "debug"]


def sid(i):
    return "srv-d%019d" % i


def enc_cursor(i):
    return base64.urlsafe_b64encode(("idx:%d" % i).encode()).decode().rstrip("=")


def dec_cursor(c):
    try:
        s = base64.urlsafe_b64decode(c + "=" * (-len(c) % 4)).decode()
        if not s.startswith("idx:"):
            raise ValueError
        return int(s[4:])
    except Exception:
        raise fb.Reply(400, json.dumps({"id": "invalid-cursor", "message": "invalid cursor"}))


def err(status, msg):
    ids = {400: "bad-request", 401: "unauthorized", 403: "forbidden", 404: "not-found", 429: "rate-limited"}
    return json.dumps({"id": ids.get(status, "internal-error"), "message": msg})


class Render:
    def __init__(self, state, opts):
        self.st = state
        self.opts = opts
        self.reset()

    # ---- data ----
    def reset(self):
        self.t0 = fb.now_us()
        self.deleted = set()
        self.page_cap = self.opts["page_cap"]
        self.ignore_window = False
        self.services = []
        self.deploys = {}
        self.logs = []
        self.seq = 0
        for i in range(self.opts["services"]):
            self.services.append(self.make_service(i))
        self.events = {}
        self.evseq = 0
        pg = {"ipAllowList": [], "createdAt": self.t0 - 40 * 86400 * 1000000, "updatedAt": self.t0 - 86400 * 1000000,
              "expiresAt": None, "databaseName": "shop", "databaseUser": "shop", "environmentId": None,
              "highAvailabilityEnabled": False, "owner": {"id": OWNER, "name": "Acme", "email": "ops@acme.test",
                                                          "ipAllowList": None, "twoFactorAuthEnabled": True,
                                                          "type": "team"},
              "plan": "basic_1gb", "diskSizeGB": 15, "region": "oregon", "readReplicas": [], "suspended": "not_suspended",
              "suspenders": [], "status": "available", "version": "16", "diskAutoscalingEnabled": False,
              "dashboardUrl": "https://dashboard.render.com/d/dpg-d00000000000000000a0-a", "xFakeExtra": None}
        self.postgres = [dict(pg, id="dpg-d00000000000000000a0-a", name="shop-db", role="primary"),
                         dict(pg, id="dpg-d00000000000000000b0-a", name="shop-db-replica", role="replica",
                              primaryPostgresID="dpg-d00000000000000000a0-a")]
        self.postgres[0]["readReplicas"] = [{"id": self.postgres[1]["id"], "name": self.postgres[1]["name"]}]
        self.keyvalue = [{"id": "red-d00000000000000000c0", "createdAt": self.t0 - 20 * 86400 * 1000000,
                          "updatedAt": self.t0 - 86400 * 1000000, "status": "available", "region": "frankfurt",
                          "plan": "starter", "name": "sessions-kv", "owner": pg["owner"],
                          "options": {"maxmemoryPolicy": "allkeys_lru"}, "ipAllowList": [], "environmentId": None,
                          "version": "7.2", "dashboardUrl": "https://dashboard.render.com/r/red-d00000000000000000c0",
                          "xFakeExtra": {}}]
        for s in self.services:
            self.deploys[s["id"]] = self.make_history(s)
            self.events[s["id"]] = []
            if s["type"] != "static_site":
                self.make_events(s)
        n = self.opts["logs"]
        web = [s for s in self.services if s["type"] != "static_site"]
        for k in range(n):
            # spread over the last 50 minutes, oldest first; every 10th pair shares a timestamp
            ts = self.t0 - 50 * 60 * 1000000 + (k * 50 * 60 * 1000000) // max(1, n)
            if k % 10 == 1:
                ts = self.logs[-1]["ts_us"]
            self.add_log(web[k % len(web)]["id"], ts)

    def make_service(self, i):
        t = TYPES[i % len(TYPES)]
        created = self.t0 - (90 - i) * 86400 * 1000000
        s = {"id": sid(i), "name": "svc-%d" % i, "slug": "svc-%d-ab%02d" % (i, i), "type": t, "ownerId": OWNER,
             "repo": "https://github.com/acme/svc-%d" % i, "branch": "main", "autoDeploy": "yes",
             "autoDeployTrigger": "commit", "rootDir": "", "createdAt": created, "updatedAt": created + 3600000000,
             "dashboardUrl": "https://dashboard.render.com/web/%s" % sid(i), "notifyOnFail": "default",
             "suspended": "suspended" if i == 5 else "not_suspended",
             "suspenders": ["user"] if i == 5 else [], "environmentId": "evm-%019d" % (i % 2),
             "imagePath": None if i % 2 else "docker.io/acme/svc:%d" % i,
             "registryCredential": {"id": "rgc-1", "name": "hub"} if i % 2 == 0 else None,
             "buildFilter": {"paths": ["src/**"], "ignoredPaths": []},
             "xFakeExtra": {"unknown": [1, 2, {"deep": None}]}}
        if t == "static_site":
            s["serviceDetails"] = {"buildCommand": "make", "publishPath": "public", "url": "https://svc-%d.onrender.com" % i,
                                   "buildPlan": "starter", "pullRequestPreviewsEnabled": "no",
                                   "previews": {"generation": "off"}, "ipAllowList": [], "parentServer": None,
                                   "renderSubdomainPolicy": "enabled"}
        else:
            d = {"env": "docker", "runtime": "docker", "plan": PLANS[i % len(PLANS)], "region": REGIONS[i % len(REGIONS)],
                 "numInstances": 2 if t == "web_service" else 1, "buildPlan": "starter",
                 "envSpecificDetails": {"dockerCommand": "", "dockerContext": ".", "dockerfilePath": "Dockerfile",
                                        "preDeployCommand": None, "registryCredential": None},
                 "healthCheckPath": "/health" if t == "web_service" else "", "openPorts": [{"port": 10000, "protocol": "TCP"}],
                 "url": "https://svc-%d.onrender.com" % i if t == "web_service" else None,
                 "autoscaling": {"enabled": False, "min": 1, "max": 3,
                                 "criteria": {"cpu": {"enabled": True, "percentage": 70},
                                              "memory": {"enabled": False, "percentage": 80}}},
                 "disk": None, "maxShutdownDelaySeconds": 30, "previews": {"generation": "off"},
                 "pullRequestPreviewsEnabled": "no", "sshAddress": "%s@ssh.oregon.render.com" % sid(i),
                 "cache": {"profile": "no-cache"}, "renderSubdomainPolicy": "enabled"}
            if t == "cron_job":
                d["schedule"] = "*/5 * * * *"
                d["lastSuccessfulRunAt"] = self.t0 - 300000000
                for k in ("numInstances", "healthCheckPath", "openPorts", "url", "autoscaling"):
                    d.pop(k, None)
            s["serviceDetails"] = d
        return s

    def make_history(self, s):
        out = []
        n = self.opts["deploys"]
        for k in range(n):
            created = self.t0 - (n - k) * 86400 * 1000000
            status = "live" if k == n - 1 else "deactivated"
            out.append(self.make_deploy(s["id"], created, status, k))
        return out

    def add_event(self, service_id, etype, details, at):
        self.evseq += 1
        ev = {"id": "evt-d%019d" % self.evseq, "timestamp": at, "serviceId": service_id, "type": etype,
              "details": details, "xFakeExtra": None}
        self.events[service_id].append(ev)
        return ev

    def make_events(self, s):
        """The last live deploy's start and end, an instance count change and, for
        the first service, a failed server: four events per service, 40 minutes back."""
        live = self.deploys[s["id"]][-1]
        base = self.t0 - 40 * 60 * 1000000
        self.add_event(s["id"], "deploy_started", {"deployId": live["id"], "trigger": {"manual": False,
                                                                                        "newCommit": "abc"}},
                       base)
        self.add_event(s["id"], "deploy_ended", {"deployId": live["id"], "reason": {"newDeploy": None},
                                                 "deployStatus": "succeeded", "status": 2}, base + 60000000)
        self.add_event(s["id"], "instance_count_changed", {"fromInstances": 1, "toInstances": 2}, base + 120000000)
        if s["id"] == sid(0):
            self.add_event(s["id"], "server_failed", {"instanceID": s["id"] + "-7d9fx",
                                                      "reason": {"nonZeroExit": 137, "oomKilled": {"memoryLimit": "512Mi"},
                                                                 "timedOutSeconds": None, "unhealthy": None,
                                                                 "evicted": None}},
                           base + 180000000)
        else:
            self.add_event(s["id"], "server_restarted", {"triggeredByUser": None}, base + 180000000)

    def make_deploy(self, service_id, created, status, k):
        self.seq += 1
        d = {"id": "dep-d%019d" % self.seq, "status": status, "trigger": "new_commit",
             "commit": {"id": "%040x" % (self.seq * 7919), "message": "change %d of %s\n\nlonger body" % (k, service_id),
                        "createdAt": created - 10000000},
             "image": None, "artifactId": None, "createdAt": created, "startedAt": None,
             "updatedAt": created, "finishedAt": None, "xFakeExtra": True}
        if status != "created":
            d["startedAt"] = created + 1000000
            d["finishedAt"] = created + 180000000
            d["updatedAt"] = d["finishedAt"] + (3600000000 if status == "deactivated" else 0)
        return d

    def add_log(self, resource, ts_us, level=None):
        self.seq += 1
        k = self.seq
        inst = "%s-%s" % (resource, "7d9fx" if k % 2 else "k2p4q")
        req = k % 3 == 0
        labels = [{"name": "resource", "value": resource}, {"name": "instance", "value": inst},
                  {"name": "host", "value": "svc.onrender.com"},
                  {"name": "level", "value": level or LEVELS[k % len(LEVELS)]},
                  {"name": "type", "value": "request" if req else ("build" if k % 7 == 0 else "app")}]
        if req:
            labels += [{"name": "method", "value": "GET"}, {"name": "path", "value": "/api/items/%d" % k},
                       {"name": "statusCode", "value": "200" if k % 5 else "502"}]
        log = {"id": "log-%08d-%s" % (k, resource[-4:]), "ts_us": ts_us,
               "message": ("GET /api/items/%d %s 3ms" % (k, "200" if k % 5 else "502")) if req
               else "worker tick %d: \"quoted\" \\ tab\t unicode \u00e9" % k,
               "labels": labels}
        self.logs.append(log)
        return log

    # ---- control ----
    def configure(self, p):
        if "deleted" in p:
            self.deleted = set(p["deleted"])
        if "page_cap" in p:
            self.page_cap = int(p["page_cap"])
        if "ignore_window" in p:
            self.ignore_window = bool(p["ignore_window"])

    def control(self, path, p):
        if path == "/__fake/state":
            return {"services": [s["id"] for s in self.services], "owner": OWNER,
                    "types": {s["id"]: s["type"] for s in self.services}}
        if path == "/__fake/event":
            at = fb.parse_time(p["at"]) if "at" in p else fb.now_us()
            return self.event_public(self.add_event(p["service"], p["type"], p.get("details", {}), at))
        if path == "/__fake/logs":
            at = fb.parse_time(p["at"]) if "at" in p else fb.now_us()
            web = [s["id"] for s in self.services if s["type"] != "static_site"]
            ids = []
            same = max(1, int(p.get("same_ts", 1)))
            for k in range(int(p.get("n", 1))):
                ts = at + (k // same) * 1000
                res = p.get("resource") or web[k % len(web)]
                ids.append(self.add_log(res, ts, p.get("level"))["id"])
            return {"ids": ids}
        if path == "/__fake/deploy":
            svc = p["service"]
            hist = self.deploys[svc]
            at = fb.parse_time(p["at"]) if "at" in p else fb.now_us()
            act = p.get("action", "new")
            if act == "new":
                d = self.make_deploy(svc, at, "created", len(hist))
                if "commit" in p:
                    d["commit"].update(p["commit"])
                d["trigger"] = p.get("trigger", "manual")
                hist.append(d)
                return self.public(d, "deploy")
            cur = next((d for d in reversed(hist) if d["status"] in
                        ("created", "queued", "build_in_progress", "update_in_progress", "pre_deploy_in_progress")), None)
            if cur is None:
                raise fb.Reply(409, '{"error":"no deploy in progress"}')
            nxt = {"created": "build_in_progress", "queued": "build_in_progress",
                   "build_in_progress": "update_in_progress", "pre_deploy_in_progress": "update_in_progress",
                   "update_in_progress": "live"}[cur["status"]]
            if act == "fail":
                nxt = "update_failed" if cur["status"] == "update_in_progress" else "build_failed"
            if act == "cancel":
                nxt = "canceled"
            cur["status"] = nxt
            cur["updatedAt"] = at
            if nxt == "build_in_progress":
                cur["startedAt"] = at
            if nxt in ("live", "build_failed", "update_failed", "canceled"):
                cur["finishedAt"] = at
            if nxt == "live":
                for d in hist:
                    if d is not cur and d["status"] == "live":
                        d["status"] = "deactivated"
                        d["updatedAt"] = at
            return self.public(cur, "deploy")
        return None

    def live_tick(self, k):
        """--live: new log lines, and the first web service keeps deploying
        (created -> build -> update -> live, every fifth one fails)."""
        self.control("/__fake/logs", {"n": 3})
        svc = self.services[0]["id"]
        busy = any(d["status"] in ("created", "build_in_progress", "update_in_progress") for d in self.deploys[svc])
        if not busy:
            self.control("/__fake/deploy", {"service": svc, "action": "new", "trigger": "new_commit",
                                            "commit": {"message": "demo change %d" % k}})
        else:
            fail = k % 20 == 18
            self.control("/__fake/deploy", {"service": svc, "action": "fail" if fail else "advance"})

    # ---- serialisation ----
    def ts(self, us):
        return None if us is None else fb.iso_us(us + self.st.skew_s * 1000000)

    def public(self, obj, kind):
        o = json.loads(json.dumps(obj))
        for k in ("createdAt", "updatedAt", "startedAt", "finishedAt", "lastSuccessfulRunAt"):
            if k in o:
                o[k] = self.ts(o[k])
        if kind == "deploy" and o.get("commit"):
            o["commit"]["createdAt"] = self.ts(o["commit"]["createdAt"])
        if kind == "service" and "lastSuccessfulRunAt" in o.get("serviceDetails", {}):
            o["serviceDetails"]["lastSuccessfulRunAt"] = self.ts(o["serviceDetails"]["lastSuccessfulRunAt"])
        return o

    # ---- API ----
    def authorized(self, headers):
        return headers.get("Authorization", "") == "Bearer " + self.opts["key"]

    def error_body(self, status, msg):
        return err(status, msg)

    def rate_headers(self, info):
        limit, remaining, reset, _ = info
        return {"Ratelimit-Limit": limit, "Ratelimit-Remaining": remaining, "Ratelimit-Reset": reset}

    def rate_body(self, info):
        return err(429, "rate limit exceeded, retry in %d seconds" % info[2])

    def page_n(self, q):
        """Items in one list page: at most limit, and at most page_cap (the spec's
        limit is a maximum; a short page does not mean the end)."""
        n = self.limit(q)
        return min(n, self.page_cap) if self.page_cap > 0 else n

    def limit(self, q):
        v = q.get("limit", ["20"])[-1]
        try:
            n = int(v)
        except ValueError:
            raise fb.Reply(400, err(400, "invalid limit"))
        if n < 1 or n > 100:
            raise fb.Reply(400, err(400, "limit must be between 1 and 100"))
        return n

    @staticmethod
    def multi(q, name, comma):
        out = []
        for v in q.get(name, []) + q.get(name + "[]", []):
            out += v.split(",") if comma else [v]
        return [x for x in out if x]

    def times(self, q, name, default):
        v = q.get(name, [None])[-1]
        if v is None or v == "":
            return default
        try:
            return fb.parse_time(v) - self.st.skew_s * 1000000
        except ValueError:
            raise fb.Reply(400, err(400, "invalid %s" % name))

    def route(self, method, path, q, fault):
        if path == "/v1/services":
            return self.list_services(q, fault)
        if path.startswith("/v1/services/"):
            parts = path.split("/")[3:]
            svc = next((s for s in self.services if s["id"] == parts[0]), None)
            if svc is None or svc["id"] in self.deleted:
                raise fb.Reply(404, err(404, "service not found"))
            if len(parts) == 1:
                return 200, json.dumps(self.public(svc, "service")), {}
            if len(parts) == 2 and parts[1] == "deploys":
                return self.list_deploys(svc, q)
            if len(parts) == 2 and parts[1] == "events":
                return self.list_events(svc, q)
            raise fb.Reply(404, err(404, "not found"))
        if path == "/v1/logs":
            return self.list_logs(q, fault)
        if path in ("/v1/postgres", "/v1/key-value"):
            items, key = (self.postgres, "postgres") if path == "/v1/postgres" else (self.keyvalue, "keyValue")
            n = self.page_n(q)
            start = dec_cursor(q["cursor"][-1]) + 1 if "cursor" in q else 0
            out = [{"cursor": enc_cursor(start + k), key: self.public(x, "store")}
                   for k, x in enumerate(items[start:start + n])]
            return 200, json.dumps(out), {}
        if path.startswith("/v1/metrics/"):
            return self.metrics(path[len("/v1/metrics/"):], q)
        raise fb.Reply(404, err(404, "not found"))

    def list_services(self, q, fault):
        n = self.page_n(q)
        sel = list(self.services)
        for name, key in (("name", lambda s: s["name"]), ("type", lambda s: s["type"]),
                          ("region", lambda s: s["serviceDetails"].get("region", "")),
                          ("suspended", lambda s: s["suspended"]), ("ownerId", lambda s: s["ownerId"]),
                          ("environmentId", lambda s: s["environmentId"])):
            want = self.multi(q, name, True)
            if want:
                sel = [s for s in sel if key(s) in want]
        start = 0
        if "cursor" in q and not (fault and fault.get("kind") == "loop"):
            start = dec_cursor(q["cursor"][-1]) + 1
        page = sel[start:start + n]
        out = [{"cursor": enc_cursor(start + k), "service": self.public(s, "service")} for k, s in enumerate(page)]
        return 200, json.dumps(out), {}

    def list_deploys(self, svc, q):
        n = self.page_n(q)
        sel = sorted(self.deploys[svc["id"]], key=lambda d: d["createdAt"], reverse=True)
        statuses = self.multi(q, "status", True)
        if statuses:
            sel = [d for d in sel if d["status"] in statuses]
        for name, field, after in (("createdAfter", "createdAt", True), ("createdBefore", "createdAt", False),
                                   ("updatedAfter", "updatedAt", True), ("updatedBefore", "updatedAt", False),
                                   ("finishedAfter", "finishedAt", True), ("finishedBefore", "finishedAt", False)):
            t = self.times(q, name, None)
            if t is not None:
                sel = [d for d in sel if d[field] is not None and (d[field] >= t if after else d[field] <= t)]
        start = dec_cursor(q["cursor"][-1]) + 1 if "cursor" in q else 0
        page = sel[start:start + n]
        out = [{"cursor": enc_cursor(start + k), "deploy": self.public(d, "deploy")} for k, d in enumerate(page)]
        return 200, json.dumps(out), {}

    def event_public(self, e):
        o = json.loads(json.dumps(e))
        o["timestamp"] = self.ts(o["timestamp"])
        return o

    def list_events(self, svc, q):
        n = self.page_n(q)
        sel = sorted(self.events[svc["id"]], key=lambda e: (e["timestamp"], e["id"]), reverse=True)
        types = self.multi(q, "type", True)
        if types:
            sel = [e for e in sel if e["type"] in types]
        t0 = self.times(q, "startTime", None)
        t1 = self.times(q, "endTime", None)
        sel = [e for e in sel if (t0 is None or e["timestamp"] >= t0) and (t1 is None or e["timestamp"] <= t1)]
        start = dec_cursor(q["cursor"][-1]) + 1 if "cursor" in q else 0
        page = sel[start:start + n]
        out = [{"cursor": enc_cursor(start + k), "event": self.event_public(e)} for k, e in enumerate(page)]
        return 200, json.dumps(out), {}

    def list_logs(self, q, fault):
        if not q.get("ownerId", [""])[-1]:
            raise fb.Reply(400, err(400, "ownerId is required"))
        if q["ownerId"][-1] != OWNER:
            raise fb.Reply(403, err(403, "not a member of this workspace"))
        res = self.multi(q, "resource", False)
        if not res:
            raise fb.Reply(400, err(400, "at least one resource is required"))
        n = self.limit(q)
        now = fb.now_us()
        end = self.times(q, "endTime", now)
        start = self.times(q, "startTime", end - 3600 * 1000000)
        direction = q.get("direction", ["backward"])[-1]
        if direction not in ("backward", "forward"):
            raise fb.Reply(400, err(400, "invalid direction"))
        filters = {name: self.multi(q, name, False) for name in
                   ("instance", "host", "statusCode", "method", "path", "level", "type")}
        sel = []
        for log in self.logs:
            if not self.ignore_window and not (start <= log["ts_us"] <= end):
                continue
            labels = {l["name"]: l["value"] for l in log["labels"]}
            if labels["resource"] not in res:
                continue
            if any(want and labels.get(name) not in want for name, want in filters.items()):
                continue
            text = self.multi(q, "text", False)
            if text and not any(t in log["message"] for t in text):
                continue
            sel.append(log)
        if fault and fault.get("kind") == "loop":
            # a provider bug: hasMore forever, the same window every time
            return 200, json.dumps({"hasMore": True, "nextStartTime": self.ts(start), "nextEndTime": self.ts(end),
                                    "logs": [self.log_public(l) for l in sel[:n]]}), {}
        sel.sort(key=lambda l: (l["ts_us"], l["id"]), reverse=(direction == "backward"))
        page = sel[:n]
        more = len(sel) > n
        if direction == "forward":
            nst, net = (sel[n]["ts_us"] if more else end), end
        else:
            nst, net = start, (sel[n]["ts_us"] if more else start)
        return 200, json.dumps({"hasMore": more, "nextStartTime": self.ts(nst), "nextEndTime": self.ts(net),
                                "logs": [self.log_public(l) for l in page], "xFakeExtra": None}), {}

    def log_public(self, l):
        return {"id": l["id"], "message": l["message"], "timestamp": self.ts(l["ts_us"]), "labels": l["labels"],
                "xFakeExtra": {"n": 1}}

    def metrics(self, name, q):
        now = fb.now_us()
        end = self.times(q, "endTime", now)
        start = self.times(q, "startTime", end - 3600 * 1000000)
        if name == "bandwidth-sources":
            return self.bandwidth_sources(q, start, end)
        if name not in METRICS:
            raise fb.Reply(404, err(404, "not found"))
        try:
            res_s = float(q.get("resolutionSeconds", ["60"])[-1])
        except ValueError:
            raise fb.Reply(400, err(400, "invalid resolutionSeconds"))
        if res_s < 30:
            raise fb.Reply(400, err(400, "resolutionSeconds must be at least 30"))
        if end < start or end - start > 30 * 86400 * 1000000:
            raise fb.Reply(400, err(400, "invalid time range"))
        step = int(res_s * 1000000)
        resources = self.multi(q, "resource", False) or self.multi(q, "service", False)
        if not resources:
            raise fb.Reply(400, err(400, "resource is required"))
        series = []
        t_first = ((start + step - 1) // step) * step
        stamps = list(range(t_first, end + 1, step))[-2000:]
        for r in resources:
            store = next((x for x in self.postgres + self.keyvalue if x["id"] == r), None)
            if store is not None:
                series += self.store_metrics(name, store, stamps)
                continue
            svc = next((s for s in self.services if s["id"] == r), None)
            if svc is None or r in self.deleted or svc["suspended"] == "suspended":
                continue
            t = svc["type"]
            if name.startswith("http") and t not in ("web_service",):
                continue
            if name == "bandwidth" and t not in ("web_service", "static_site"):
                continue
            if t == "static_site" and name not in ("bandwidth",):
                continue
            if name in ("disk-usage", "disk-capacity", "active-connections", "replication-lag",
                        "task-runs-queued", "task-runs-completed"):
                continue  # services in this fake have no disk; the rest are Postgres/Key Value/workflows
            insts = ["%s-7d9fx" % r, "%s-k2p4q" % r][:svc["serviceDetails"].get("numInstances", 1)]
            per_instance = name in ("cpu", "cpu-limit", "cpu-target", "memory", "memory-limit", "memory-target")
            want_inst = q.get("instance", [None])[-1]
            groups = []
            if per_instance:
                groups = [[("instance", i)] for i in insts if not want_inst or i == want_inst]
            elif name == "http-requests" and q.get("aggregateBy", [""])[-1] == "statusCode":
                groups = [[("statusCode", c)] for c in ("200", "404", "502")]
            elif name == "http-requests" and q.get("aggregateBy", [""])[-1] == "host":
                groups = [[("host", "svc.onrender.com")]]
            else:  # http-latency too: the quantile asked for is not echoed as a label
                groups = [[]]
            unit = {"cpu": "cpu", "cpu-limit": "cpu", "cpu-target": "cpu", "memory": "bytes",
                    "memory-limit": "bytes", "memory-target": "bytes", "http-requests": "count",
                    "http-latency": "ms", "bandwidth": "bytes", "instance-count": "count"}[name]
            for gi, g in enumerate(groups):
                vals = []
                for ts in stamps:
                    x = (ts // 1000000) % 3600
                    v = {"cpu": 0.05 + 0.01 * (x % 7), "cpu-limit": 0.5, "cpu-target": 0.35,
                         "memory": 200e6 + 1e5 * (x % 13), "memory-limit": 512e6, "memory-target": 400e6,
                         "http-requests": float(10 + (x % 5) + gi), "http-latency": 20.0 + (x % 9),
                         "bandwidth": 1.5e6 + 1e3 * (x % 11), "instance-count": float(len(insts))}[name]
                    vals.append({"timestamp": self.ts(ts), "value": v, "unit": unit})
                series.append({"labels": [{"field": "resource", "value": r}] +
                               [{"field": k, "value": v} for k, v in g], "unit": unit, "values": vals,
                               "xFakeExtra": []})
        return 200, json.dumps(series), {}

    def store_metrics(self, name, store, stamps):
        pgs = store["id"].startswith("dpg-")
        vals = {"cpu": 0.02, "memory": 150e6, "disk-usage": 1.2e9, "disk-capacity": 15e9,
                "active-connections": 7.0, "replication-lag": 0.25}
        if name not in vals or (name.startswith("disk") and not pgs) or \
                (name == "replication-lag" and store.get("role") != "replica"):
            return []
        unit = {"cpu": "cpu", "memory": "bytes", "disk-usage": "bytes", "disk-capacity": "bytes",
                "active-connections": "count", "replication-lag": "seconds"}[name]
        return [{"labels": [{"field": "resource", "value": store["id"]}], "unit": unit,
                 "values": [{"timestamp": self.ts(ts), "value": vals[name], "unit": unit} for ts in stamps]}]

    def bandwidth_sources(self, q, start, end):
        out = []
        for r in self.multi(q, "resource", False):
            vals = [{"timestamp": ts // 1000000 + self.st.skew_s, "value": 1000.0}
                    for ts in range(((start // 3600000000) + 1) * 3600000000, end + 1, 3600000000)]
            for src in ("total", "http"):
                out.append({"labels": {"resource": r, "trafficSource": src}, "values": vals})
        return 200, json.dumps({"data": out}), {}


def main():
    port, opts = fb.main_args(sys.argv, {"key": "rnd_test", "services": 7, "logs": 250, "live": 0.0,
                                          "page_cap": 3, "deploys": 4})
    state = fb.FakeState()
    render = Render(state, opts)
    fb.start_live(state, opts["live"], render.live_tick)
    story.attach_render(state, render)  # `make demo` only: PANE_DEMO_STORY_T0 (tests/fakes/story.py)
    fb.serve(port, state, render)


if __name__ == "__main__":
    main()

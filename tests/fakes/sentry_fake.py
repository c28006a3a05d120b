#!/usr/bin/env python3
"""sentry_fake.py - a loopback fake of Sentry's public REST API (organization
issues, stats_v2, events-timeseries, releases) for pane's source tests.
Standard library only.

    python3 tests/fakes/sentry_fake.py PORT [--token sntrys_test] [--org acme] [--issues 230]
        [--self-hosted 0|1] [--live SECONDS]   (demo only: issue activity every SECONDS)

It serves the DOCUMENTED contract (shared/reference/providers.md section 1 and Sentry's
OpenAPI file sentry-openapi-derefed.json), not what pane happens to send:

  GET /api/0/organizations/{org}/issues/           query (default "is:unresolved"; "" = all;
        "is:resolved"), project/environment repeated, statsPeriod/start/end, sort, limit
        (default 100, max 100, else 400), cursor "value:offset:is_prev"; pagination by
        Link: previous first, results="true|false", cursor in the URL and as an attribute;
        X-Hits. Issue objects carry every field of the schema: count is a STRING,
        userCount an integer, nulls where allowed, unknown extra fields.
  GET /api/0/organizations/{org}/issues/{id}/       details (firstRelease, lastRelease, ...); 404
  GET /api/0/organizations/{org}/stats_v2/          groupBy (repeated, required), field (required),
        statsPeriod or start+end, interval (1h default .. 1d), project, category, outcome:
        {"start","end","intervals":[...],"groups":[{"by","totals","series"}]}
  GET /api/0/organizations/{org}/events-timeseries/ dataset (required), yAxis (count(), epm(),
        eps(), pNN(span.duration), avg(span.duration)), interval (seconds), groupBy +
        topEvents + sort, query, project, statsPeriod/start/end:
        {"timeSeries":[{"yAxis","groupBy":[{"key","value"}],"meta":{"valueType","valueUnit",
        "interval"},"values":[{"timestamp" ms,"value","incomplete"}]}],"meta":{...}}
        "performance": "forbidden" answers 403, "absent" 404 (plans without it).
  GET /api/0/organizations/{org}/releases/          per_page, cursor (Link pagination), newest first
  GET /api/0/organizations/{org}/projects/          per_page, cursor (Link pagination)
  GET /api/0/organizations/{org}/monitors/          cron monitors (Link pagination, 10 a page)
  GET /api/0/organizations/{org}/monitors/{slug}/checkins/   newest first, 25 a page (Link
        pagination; there is no per_page: a page is as long as the server makes it)
  GET /api/0/organizations/{org}/sessions/          field (sum(session), count_unique(user),
        crash_free_rate(session|user)), groupBy (project, release, session.status,
        environment), statsPeriod, interval, includeSeries: {"start","end","intervals",
        "groups":[{"by","totals","series"}],"query"}

  Auth: Authorization: Bearer TOKEN, else 401 {"detail": ...}. Errors are {"detail": "..."};
  500 is {"detail": "Internal Error", "errorId": ...}. SaaS rate limiting: every response
  carries X-Sentry-Rate-Limit-Limit/-Remaining/-Reset (epoch SECONDS) and
  -ConcurrentLimit/-ConcurrentRemaining; past the limit HTTP 429 whose body is a bare JSON
  string and which has NO Retry-After. --self-hosted 1: no rate-limit headers and no 429.

Test control (see fakebase.py for faults; "loop" makes the issues Link say results="true"
with the same cursor forever):
  POST /__fake/config  {"performance": "ok"|"forbidden"|"absent", "self_hosted": bool,
                        "skew_s", "rate_limit", "rate_window", "faults"}
  POST /__fake/issue   {"action": "new"|"resolve"|"regress"|"delete"|"event", "id", "at",
                        "project", "level", "title"} -> the issue
  POST /__fake/release {"version", "at", "project"} -> the release
  POST /__fake/checkin {"monitor": slug, "status": "ok"|"error"|"missed"|"timeout", "at"}
  GET  /__fake/state   {"unresolved": N, "projects": [...]}
"""
import json
import sys
import time
import urllib.parse

sys.dont_write_bytecode = True  # keep the source tree clean
import fakebase as fb  # noqa: E402
import story  # noqa: E402

PROJECTS = [{"id": "2", "name": "Pump Station", "slug": "pump-station", "platform": "python"},
            {"id": "3", "name": "Web Shop", "slug": "web-shop", "platform": "javascript"},
            {"id": "5", "name": "Billing", "slug": "billing", "platform": None}]
LEVELS = ["error", "error", "warning", "fatal", "info"]
SUBSTATUS = ["ongoing", "new", "ongoing", "escalating", "regressed"]
TRANSACTIONS = ["GET /api/orders", "POST /api/checkout", "GET /health"]


def err(status, msg):
    if status == 500:
        return json.dumps({"detail": "Internal Error", "errorId": "c0ffee00c0ffee00c0ffee00c0ffee00"})
    return json.dumps({"detail": msg})


def period_us(s):
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    try:
        return int(s[:-1]) * units[s[-1]] * 1000000
    except (KeyError, ValueError, IndexError):
        raise fb.Reply(400, err(400, "Invalid stats_period. Valid choices are '', '24h', and '14d'"))


class Sentry:
    def __init__(self, state, opts, port):
        self.st = state
        self.opts = opts
        self.base = "http://127.0.0.1:%d" % port
        self.self_hosted = bool(opts["self_hosted"])
        self.reset()

    def reset(self):
        self.t0 = fb.now_us()
        self.performance = "ok"
        self.issues = []
        self.releases = []
        self.seq = 1000
        for i in range(self.opts["issues"]):
            self.new_issue(self.t0 - (self.opts["issues"] - i) * 60 * 1000000, i)
        for k in range(12):
            self.new_release("1.%d.0" % k, self.t0 - (12 - k) * 3600 * 1000000, PROJECTS[k % 3])
        self.monitors = [{"slug": "nightly-backup", "name": "Nightly backup", "project": PROJECTS[0]},
                         {"slug": "invoice-run", "name": "Invoice run", "project": PROJECTS[2]}]
        self.checkins = {m["slug"]: [] for m in self.monitors}
        self.ckseq = 0
        # 30 hourly check-ins each (more than a page), three of them failed
        for m in self.monitors:
            for h in range(30):
                st = "ok"
                if m["slug"] == "nightly-backup" and h in (20, 27):
                    st = "missed" if h == 20 else "error"
                if m["slug"] == "invoice-run" and h == 25:
                    st = "timeout"
                self.new_checkin(m["slug"], st, self.t0 - (30 - h) * 3600 * 1000000)

    def new_checkin(self, slug, status, at):
        self.ckseq += 1
        c = {"id": "%08x-0000-4000-8000-%012x" % (self.ckseq, self.ckseq), "environment": "production",
             "status": status, "duration": None if status == "missed" else 1200 + self.ckseq,
             "dateCreated": at, "dateAdded": at, "dateUpdated": at, "dateInProgress": None, "dateClock": at,
             "expectedTime": at, "groups": [],
             "monitorConfig": {"schedule_type": "crontab", "schedule": "0 * * * *", "checkin_margin": 5,
                               "max_runtime": 30, "timezone": None, "failure_issue_threshold": None,
                               "recovery_threshold": None, "alert_rule_id": None}, "xFakeExtra": None}
        self.checkins[slug].append(c)
        return c

    def new_issue(self, at, i=None, project=None, level=None, title=None):
        self.seq += 1
        i = self.seq if i is None else i
        p = project or PROJECTS[i % 3]
        resolved = i % 11 == 10
        iss = {"id": str(self.seq), "shareId": None, "shortId": "%s-%X" % (p["slug"].upper(), self.seq),
               "title": title or "ValueError: bad value %d" % i, "culprit": None if i % 4 == 0 else "app.views in handler_%d" % i,
               "permalink": "https://acme.sentry.io/issues/%d/" % self.seq, "logger": None,
               "level": level or LEVELS[i % len(LEVELS)], "status": "resolved" if resolved else "unresolved",
               "statusDetails": {}, "substatus": None if resolved else SUBSTATUS[i % len(SUBSTATUS)],
               "isPublic": False, "platform": p["platform"], "priority": ["low", "medium", "high", None][i % 4],
               "priorityLockedAt": None, "project": dict(p), "type": "error", "issueType": "error",
               "issueCategory": "error", "metadata": {"type": "ValueError", "value": "bad value"},
               "numComments": 0, "assignedTo": None if i % 3 else {"type": "team", "id": "7", "name": "backend",
                                                                    "email": None},
               "isBookmarked": False, "isSubscribed": True, "subscriptionDetails": None, "hasSeen": False,
               "annotations": [], "isUnhandled": i % 2 == 0, "count": str(100 + i * 7), "userCount": i % 17,
               "firstSeen": at, "lastSeen": at + 60000000,
               "stats": {"24h": [[at // 1000000 - 3600, 3], [at // 1000000, 4]]},
               "lifetime": {"count": str(100 + i * 7), "userCount": i % 17, "firstSeen": at, "lastSeen": at + 60000000},
               "filtered": None, "sessionCount": 0, "inbox": None, "seerFixabilityScore": None,
               "xFakeExtra": {"nested": [None]}}
        self.issues.append(iss)
        return iss

    def new_release(self, version, at, p):
        self.seq += 1
        r = {"id": self.seq, "version": version, "shortVersion": version, "status": "open", "ref": None,
             "url": None, "dateReleased": at + 60000000, "dateCreated": at, "dateStarted": None, "owner": None,
             "lastCommit": {"id": "%040x" % self.seq, "message": "release %s" % version},
             "lastDeploy": None, "firstEvent": None, "lastEvent": None, "currentProjectMeta": {},
             "userAgent": None, "adoptionStages": None, "newGroups": self.seq % 4,
             "versionInfo": {"package": None, "version": {"raw": version}, "buildHash": None},
             "data": {}, "commitCount": 3, "deployCount": 1, "authors": [],
             "projects": [{"id": int(p["id"]), "slug": p["slug"], "name": p["name"], "platform": p["platform"],
                           "platforms": [p["platform"]] if p["platform"] else None, "hasHealthData": False,
                           "newGroups": 1, "healthData": None, "dateReleased": None, "dateCreated": None,
                           "dateStarted": None}],
             "xFakeExtra": 1}
        self.releases.append(r)
        return r

    # ---- control ----
    def configure(self, p):
        if "performance" in p:
            self.performance = p["performance"]
        if "self_hosted" in p:
            self.self_hosted = bool(p["self_hosted"])

    def control(self, path, p):
        if path == "/__fake/state":
            return {"unresolved": sum(1 for i in self.issues if i["status"] == "unresolved"),
                    "projects": [x["slug"] for x in PROJECTS]}
        at = fb.parse_time(p["at"]) if "at" in p else fb.now_us()
        if path == "/__fake/issue":
            act = p.get("action", "new")
            if act == "new":
                proj = next((x for x in PROJECTS if x["slug"] == p.get("project")), None)
                iss = self.new_issue(at, None, proj, p.get("level"), p.get("title"))
                iss["status"], iss["substatus"], iss["lastSeen"] = "unresolved", "new", at
                return self.public(iss)
            iss = next((i for i in self.issues if i["id"] == str(p.get("id"))), None)
            if iss is None:
                raise fb.Reply(404, '{"error":"no such issue"}')
            if act == "resolve":
                iss["status"], iss["substatus"] = "resolved", None
                iss["statusDetails"] = {"inRelease": None}
            elif act == "regress":
                iss["status"], iss["substatus"], iss["lastSeen"] = "unresolved", "regressed", at
            elif act == "event":
                iss["count"] = str(int(iss["count"]) + 1)
                iss["lastSeen"] = at
            elif act == "delete":
                self.issues.remove(iss)
            return self.public(iss)
        if path == "/__fake/checkin":
            c = self.new_checkin(p["monitor"], p.get("status", "ok"), at)
            return self.public_checkin(c)
        if path == "/__fake/release":
            proj = next((x for x in PROJECTS if x["slug"] == p.get("project")), PROJECTS[0])
            return self.public_release(self.new_release(p["version"], at, proj))
        return None

    def live_tick(self, k):
        """--live: an event on an open issue each tick, a new issue every third
        tick, the oldest open issue resolved every fifth."""
        open_ = [i for i in self.issues if i["status"] == "unresolved"]
        if open_:
            self.control("/__fake/issue", {"action": "event", "id": open_[-1 - k % len(open_)]["id"]})
        if k % 3 == 1:
            self.control("/__fake/issue", {"action": "new", "project": PROJECTS[k % 3]["slug"],
                                           "title": "TimeoutError: demo request %d took too long" % k})
        if k % 5 == 4 and open_:
            self.control("/__fake/issue", {"action": "resolve", "id": open_[0]["id"]})

    # ---- serialisation ----
    def ts(self, us):
        return None if us is None else fb.iso_s(us + self.st.skew_s * 1000000)

    def public(self, iss):
        o = json.loads(json.dumps(iss))
        for k in ("firstSeen", "lastSeen"):
            o[k] = self.ts(o[k])
            o["lifetime"][k] = self.ts(o["lifetime"][k])
        return o

    def public_release(self, r):
        o = json.loads(json.dumps(r))
        for k in ("dateReleased", "dateCreated"):
            o[k] = self.ts(o[k])
        return o

    # ---- API ----
    def authorized(self, headers):
        return headers.get("Authorization", "") == "Bearer " + self.opts["token"]

    def error_body(self, status, msg):
        return err(status, msg)

    def has_rate_limits(self):
        return not self.self_hosted

    def rate_headers(self, info):
        if self.self_hosted:
            return {}
        limit, remaining, reset, _ = info
        return {"X-Sentry-Rate-Limit-Limit": limit, "X-Sentry-Rate-Limit-Remaining": remaining,
                "X-Sentry-Rate-Limit-Reset": int(time.time()) + reset,
                "X-Sentry-Rate-Limit-ConcurrentLimit": 25, "X-Sentry-Rate-Limit-ConcurrentRemaining": 24}

    def rate_body(self, info):
        if self.self_hosted:
            raise AssertionError("self-hosted has no rate limiter")
        return json.dumps("You are attempting to use this endpoint too frequently. Limit is %d requests in %d seconds"
                          % (info[0], self.st.rate_window))

    def link(self, path, q, offset, limit, total, loop=False):
        other = [(k, v) for k, vs in q.items() if k != "cursor" for v in vs]
        base = "%s%s?%s&cursor=" % (self.base, path, urllib.parse.urlencode(other))
        prev_c = "0:%d:1" % max(0, offset - limit)
        next_c = "0:%d:0" % (offset if loop else offset + limit)
        has_next = loop or offset + limit < total
        return ('<%s%s>; rel="previous"; results="%s"; cursor="%s", <%s%s>; rel="next"; results="%s"; cursor="%s"'
                % (base, prev_c, "true" if offset > 0 else "false", prev_c, base, next_c,
                   "true" if has_next else "false", next_c))

    @staticmethod
    def offset(q):
        c = q.get("cursor", [""])[-1]
        if not c:
            return 0
        parts = c.split(":")
        try:
            if len(parts) != 3:
                raise ValueError
            return int(parts[1])
        except ValueError:
            raise fb.Reply(400, err(400, "Invalid cursor parameter."))

    def route(self, method, path, q, fault):
        org = self.opts["org"]
        pre = "/api/0/organizations/%s/" % org
        if not path.startswith("/api/0/organizations/"):
            raise fb.Reply(404, err(404, "The requested resource does not exist"))
        if not path.startswith(pre):
            raise fb.Reply(404, err(404, "The requested resource does not exist"))
        rest = path[len(pre):]
        if rest == "issues/":
            return self.list_issues(path, q, fault)
        if rest.startswith("issues/") and rest.count("/") == 2:
            iid = rest.split("/")[1]
            iss = next((i for i in self.issues if i["id"] == iid), None)
            if iss is None:
                raise fb.Reply(404, err(404, "The requested resource does not exist"))
            o = self.public(iss)
            o.update({"firstRelease": None, "lastRelease": None, "activity": [], "seenBy": [], "participants": [],
                      "userReportCount": 0, "tags": []})
            return 200, json.dumps(o), {}
        if rest == "stats_v2/":
            return self.stats(q)
        if rest == "events-timeseries/":
            return self.timeseries(q)
        if rest == "releases/":
            return self.list_releases(path, q)
        if rest == "projects/":
            return self.list_projects(path, q)
        if rest == "monitors/":
            return self.list_monitors(path, q)
        if rest.startswith("monitors/") and rest.endswith("/checkins/") and rest.count("/") == 3:
            slug = rest.split("/")[1]
            if slug not in self.checkins:
                raise fb.Reply(404, err(404, "The requested resource does not exist"))
            return self.list_checkins(path, q, slug)
        if rest == "sessions/":
            return self.sessions(q)
        raise fb.Reply(404, err(404, "The requested resource does not exist"))

    def list_issues(self, path, q, fault):
        try:
            limit = int(q.get("limit", ["100"])[-1])
        except ValueError:
            raise fb.Reply(400, err(400, "Invalid limit"))
        if limit < 1 or limit > 100:
            raise fb.Reply(400, err(400, "limit must be between 1 and 100"))
        query = q.get("query", ["is:unresolved"])[-1]
        sel = list(self.issues)
        for term in query.split():
            if term == "is:unresolved":
                sel = [i for i in sel if i["status"] == "unresolved"]
            elif term == "is:resolved":
                sel = [i for i in sel if i["status"] == "resolved"]
            elif term.startswith("level:"):
                sel = [i for i in sel if i["level"] == term[6:]]
            else:
                raise fb.Reply(400, err(400, "Invalid search query: %s" % term))
        projects = [p for p in q.get("project", []) if p != "-1"]
        if projects:
            sel = [i for i in sel if i["project"]["id"] in projects or i["project"]["slug"] in projects]
        if "statsPeriod" in q and q["statsPeriod"][-1]:
            lo = fb.now_us() - period_us(q["statsPeriod"][-1])
            sel = [i for i in sel if i["lastSeen"] >= lo]
        sort = q.get("sort", ["date"])[-1]
        if sort not in ("date", "freq", "inbox", "new", "recommended", "trends", "user"):
            raise fb.Reply(400, err(400, "Invalid sort"))
        sel.sort(key=lambda i: (i["lastSeen"] if sort == "date" else i["firstSeen"], i["id"]), reverse=True)
        off = self.offset(q)
        loop = bool(fault and fault.get("kind") == "loop")
        page = sel[off:off + limit]
        h = {"Link": self.link(path, q, off, limit, len(sel), loop), "X-Hits": len(sel), "X-Max-Hits": 1000}
        return 200, json.dumps([self.public(i) for i in page]), h

    def public_checkin(self, c):
        o = json.loads(json.dumps(c))
        for k in ("dateCreated", "dateAdded", "dateUpdated", "dateClock", "expectedTime"):
            o[k] = self.ts(o[k])
        return o

    def list_monitors(self, path, q):
        off = self.offset(q)
        out = []
        for m in self.monitors[off:off + 10]:
            last = self.checkins[m["slug"]][-1]
            env_status = {"ok": "ok", "error": "error", "missed": "missed_checkin", "timeout": "timeout"}[last["status"]]
            out.append({"id": "mon-%s" % m["slug"], "slug": m["slug"], "name": m["name"], "status": "active",
                        "isMuted": False, "isUpserting": False, "dateCreated": self.ts(self.t0 - 86400 * 30 * 1000000),
                        "config": dict(last["monitorConfig"]), "alertRule": None, "owner": None,
                        "project": dict(m["project"]),
                        "environments": [{"name": "production", "status": env_status, "isMuted": False,
                                          "dateCreated": self.ts(self.t0), "lastCheckIn": self.ts(last["dateAdded"]),
                                          "nextCheckIn": self.ts(last["dateAdded"] + 3600 * 1000000),
                                          "nextCheckInLatest": self.ts(last["dateAdded"] + 3900 * 1000000),
                                          "activeIncident": None}],
                        "xFakeExtra": None})
        return 200, json.dumps(out), {"Link": self.link(path, q, off, 10, len(self.monitors))}

    def list_checkins(self, path, q, slug):
        sel = sorted(self.checkins[slug], key=lambda c: (c["dateAdded"], c["id"]), reverse=True)
        off = self.offset(q)
        return (200, json.dumps([self.public_checkin(c) for c in sel[off:off + 25]]),
                {"Link": self.link(path, q, off, 25, len(sel))})

    def sessions(self, q):
        fields = q.get("field", [])
        if not fields:
            raise fb.Reply(400, err(400, "Request is missing a \"field\""))
        group = q.get("groupBy", [])
        for g in group:
            if g not in ("project", "release", "environment", "session.status"):
                raise fb.Reply(400, err(400, "Invalid groupBy: %s" % g))
        # two releases of pump-station with sessions; 1.11.0 crashes more
        rows = [(2, "1.10.0", 1000, 10, 200, 4), (2, "1.11.0", 500, 50, 120, 12)]
        groups = []
        for proj, rel, total, crashed, users, cusers in rows:
            by = {}
            if "project" in group:
                by["project"] = proj
            if "release" in group:
                by["release"] = rel
            totals = {}
            for f in fields:
                totals[f] = {"sum(session)": total, "count_unique(user)": users,
                             "crash_free_rate(session)": 1 - crashed / total,
                             "crash_free_rate(user)": 1 - cusers / users,
                             "crash_rate(session)": crashed / total}.get(f)
            groups.append({"by": by, "totals": totals, "series": {}})
        groups.append({"by": {"project": 3, "release": "1.9.0"} if group else {},
                       "totals": {f: None for f in fields}, "series": {}})  # no data: nulls
        now = fb.now_us()
        return 200, json.dumps({"start": self.ts(now - 86400 * 1000000), "end": self.ts(now), "intervals": [],
                                "groups": groups, "query": q.get("query", [""])[-1]}), {}

    def list_releases(self, path, q):
        try:
            limit = int(q.get("per_page", ["25"])[-1])
        except ValueError:
            raise fb.Reply(400, err(400, "Invalid per_page"))
        limit = max(1, min(100, limit))
        sel = sorted(self.releases, key=lambda r: r["dateCreated"], reverse=True)
        off = self.offset(q)
        page = sel[off:off + limit]
        return 200, json.dumps([self.public_release(r) for r in page]), {"Link": self.link(path, q, off, limit, len(sel))}

    def list_projects(self, path, q):
        try:
            limit = max(1, min(100, int(q.get("per_page", ["100"])[-1])))
        except ValueError:
            raise fb.Reply(400, err(400, "Invalid per_page"))
        off = self.offset(q)
        page = [dict(p, dateCreated="2024-01-02T03:04:05.000000Z", isBookmarked=False, isMember=True,
                     hasAccess=True, features=["performance-view"], firstEvent=None,
                     firstTransactionEvent=None, latestDeploys=None, options={}, xFakeExtra=[1])
                for p in PROJECTS[off:off + limit]]
        return 200, json.dumps(page), {"Link": self.link(path, q, off, limit, len(PROJECTS))}

    def window(self, q, default):
        now = fb.now_us()
        sp = q.get("statsPeriod", [""])[-1]
        if sp:
            return now - period_us(sp), now
        if "start" in q and "end" in q:
            try:
                return fb.parse_time(q["start"][-1]) - self.st.skew_s * 1000000, \
                    fb.parse_time(q["end"][-1]) - self.st.skew_s * 1000000
            except ValueError:
                raise fb.Reply(400, err(400, "Invalid date range"))
        return now - default, now

    def stats(self, q):
        group_by = q.get("groupBy", [])
        field = q.get("field", [""])[-1]
        if not group_by or any(g not in ("outcome", "category", "reason", "project") for g in group_by):
            raise fb.Reply(400, err(400, "At least one groupBy is required"))
        if field not in ("sum(quantity)", "sum(times_seen)"):
            raise fb.Reply(400, err(400, "Invalid field"))
        iv = q.get("interval", ["1h"])[-1]
        iv_us = {"1h": 3600, "2h": 7200, "3h": 10800, "4h": 14400, "6h": 21600, "12h": 43200, "1d": 86400}.get(iv)
        if iv_us is None:
            raise fb.Reply(400, err(400, "The interval has to be a multiple of the minimum interval of one hour."))
        iv_us *= 1000000
        lo, hi = self.window(q, 86400 * 1000000)
        lo = (lo // iv_us) * iv_us
        buckets = list(range(lo, hi, iv_us))
        cats = [q["category"][-1]] if "category" in q else ["error", "transaction", "attachment"]
        outs = [q["outcome"][-1]] if "outcome" in q else ["accepted", "filtered", "rate_limited"]
        projs = [p for p in PROJECTS if not q.get("project") or p["id"] in q["project"] or "-1" in q["project"]]
        groups = {}
        for p in projs:
            for c in cats:
                for o in outs:
                    key = []
                    if "project" in group_by:
                        key.append(("project", int(p["id"])))
                    if "category" in group_by:
                        key.append(("category", c))
                    if "outcome" in group_by:
                        key.append(("outcome", o))
                    if "reason" in group_by:
                        key.append(("reason", "none"))
                    g = groups.setdefault(tuple(key), [0] * len(buckets))
                    for k, b in enumerate(buckets):
                        h = (b // 3600000000)
                        base = {"error": 5, "transaction": 40, "attachment": 1000}[c]
                        mult = {"accepted": 1, "filtered": 0, "rate_limited": 0}[o] if o != "accepted" or True else 1
                        if o == "filtered":
                            mult = 0.1
                        if o == "rate_limited":
                            mult = 0.0 if h % 5 else 0.5
                        g[k] += int((base + (h + int(p["id"])) % 7) * mult)
        out = {"start": self.ts(lo), "end": self.ts(hi),
               "intervals": [self.ts(b) for b in buckets],
               "groups": [{"by": dict(k), "totals": {field: sum(v)}, "series": {field: v}}
                          for k, v in sorted(groups.items())]}
        return 200, json.dumps(out), {}

    def timeseries(self, q):
        if self.performance == "forbidden":
            raise fb.Reply(403, err(403, "You do not have access to this feature on your plan."))
        if self.performance == "absent":
            raise fb.Reply(404, err(404, "The requested resource does not exist"))
        ds = q.get("dataset", [""])[-1]
        if ds not in ("errors", "logs", "profile_functions", "spans", "tracemetrics", "uptime_results"):
            raise fb.Reply(400, err(400, "dataset is required"))
        y = q.get("yAxis", ["count()"])[-1]
        if y not in ("count()", "epm()", "eps()", "p50(span.duration)", "p75(span.duration)", "p95(span.duration)",
                     "p99(span.duration)", "avg(span.duration)"):
            raise fb.Reply(400, err(400, "Invalid yAxis: %s" % y))
        try:
            iv = int(q.get("interval", ["3600"])[-1])
        except ValueError:
            iv = 3600
        iv_us = max(60, iv) * 1000000
        lo, hi = self.window(q, 86400 * 1000000)
        lo = (lo // iv_us) * iv_us
        top = q.get("topEvents", [""])[-1]
        gb = q.get("groupBy", [])
        if top and (not gb or "sort" not in q):
            raise fb.Reply(400, err(400, "topEvents needs groupBy and sort"))
        groups = [[{"key": "transaction", "value": t}] for t in TRANSACTIONS[:int(top or 3)]] \
            if "transaction" in gb else [[]]
        now = fb.now_us()
        series = []
        for gi, g in enumerate(groups):
            vals = []
            for b in range(lo, hi, iv_us):
                h = (b // iv_us) % 10
                v = {"count()": 100.0 + h, "epm()": (100.0 + h) / (iv_us / 60e6), "eps()": (100.0 + h) / (iv_us / 1e6),
                     "p50(span.duration)": 40.0 + gi * 10 + h, "p75(span.duration)": 60.0 + gi * 10 + h,
                     "p95(span.duration)": 120.0 + gi * 10 + h, "p99(span.duration)": 300.0 + h,
                     "avg(span.duration)": 55.0 + h}[y]
                vals.append({"timestamp": (b + self.st.skew_s * 1000000) // 1000, "value": v,
                             "incomplete": b + iv_us > now, "sampleCount": 100, "sampleRate": None,
                             "confidence": None})
            dur = y.startswith("p") or y.startswith("avg")
            series.append({"yAxis": y, "groupBy": g, "values": vals,
                           "meta": {"valueType": "duration" if dur else "rate" if "pm" in y or "ps" in y else "integer",
                                    "valueUnit": "millisecond" if dur else None, "interval": iv, "order": gi,
                                    "isOther": False, "dataScanned": "full"}})
        return 200, json.dumps({"timeSeries": series, "meta": {"dataset": ds, "start": lo // 1000, "end": hi // 1000}}), {}


def main():
    port, opts = fb.main_args(sys.argv, {"token": "sntrys_test", "org": "acme", "issues": 230, "self_hosted": 0,
                                         "live": 0.0})
    state = fb.FakeState()
    sentry = Sentry(state, opts, port)
    fb.start_live(state, opts["live"], sentry.live_tick)
    story.attach_sentry(state, sentry, PROJECTS)  # `make demo` only: PANE_DEMO_STORY_T0 (tests/fakes/story.py)
    fb.serve(port, state, sentry)


if __name__ == "__main__":
    main()

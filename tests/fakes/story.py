"""story.py - the incident `make demo` tells, on one clock that the simulated
Render and Sentry and the demo app (examples/demo-app/app.py) all read.
Standard library only; demo only, never used by the source tests.

The clock: PANE_DEMO_STORY_T0 (epoch seconds, set once by scripts/demo.sh) and
PANE_DEMO_SPEED (default 1; 10 = ten times faster). With PANE_DEMO_STORY_T0
unset the fakes behave exactly as without this file. Every CYCLE seconds
(divided by the speed) the same incident repeats, cycle n:

   40 s  Render: a new deploy of service `api` (version 1.5.n) starts building
   70 s  ... updating
   90 s  ... live. The app now answers ~30 % of requests with 500 and slowly
         (phase "bad"); Render's logs for `api` show the errors; Sentry gets
         the release api@1.5.n
  110 s  Sentry: a new issue in project `api`, first seen in that release;
         it gets events while the phase is bad
  330 s  Render: a rollback deploy of `api` (back to 1.4.0) starts
  360 s  ... live: the app is healthy again (phase "calm")
  420 s  Sentry: the issue is resolved

Hooks (one line each in the fakes' main()):
  story.attach_render(state, render)   renames the first service to `api`, adds
        GET /__fake/story -> {"phase","cycle","version","speed","t0","next_s"}
        (the demo app polls it to learn how to behave), and runs the timeline
  story.attach_sentry(state, sentry, PROJECTS)   adds project `api`, runs the timeline
"""
import hashlib
import os
import threading
import time

CYCLE = 600.0
DEPLOY_START, DEPLOY_UPDATE, DEPLOY_LIVE = 40.0, 70.0, 90.0
SENTRY_ISSUE = 110.0
ROLLBACK_START, ROLLBACK_LIVE = 330.0, 360.0
SENTRY_RESOLVE = 420.0
GOOD_VERSION = "1.4.0"
API_PROJECT = {"id": "7", "name": "API", "slug": "api", "platform": "python"}


class Clock:
    def __init__(self, t0, speed):
        self.t0 = float(t0)
        self.speed = max(0.01, float(speed))

    @staticmethod
    def from_env():
        t0 = os.environ.get("PANE_DEMO_STORY_T0", "")
        if not t0:
            return None
        return Clock(t0, os.environ.get("PANE_DEMO_SPEED", "1") or "1")

    def at(self, now=None):
        """(cycle, seconds into the cycle at speed 1) for wall time now."""
        story_s = max(0.0, ((time.time() if now is None else now) - self.t0) * self.speed)
        return int(story_s // CYCLE), story_s % CYCLE

    def when(self, cycle, offset):
        """Wall time of offset (speed-1 seconds) into cycle."""
        return self.t0 + (cycle * CYCLE + offset) / self.speed


def sha(text):
    """A commit id as git shows them (40 hex digits), the same for the same text."""
    return hashlib.sha1(text.encode()).hexdigest()


def bad_version(cycle):
    return "1.5.%d" % cycle


def phase(clock, now=None):
    """What the demo app should do now: calm before the deploy is live and
    after the rollback is, bad in between."""
    cycle, off = clock.at(now)
    if DEPLOY_LIVE <= off < ROLLBACK_LIVE:
        name, version = "bad", bad_version(cycle)
    elif DEPLOY_START <= off < DEPLOY_LIVE:
        name, version = "deploying", GOOD_VERSION
    elif ROLLBACK_START <= off < ROLLBACK_LIVE:
        name, version = "rolling_back", bad_version(cycle)
    else:
        name, version = "calm", GOOD_VERSION
    nxt = min([o for o in (DEPLOY_START, DEPLOY_LIVE, ROLLBACK_START, ROLLBACK_LIVE, CYCLE) if o > off])
    return {"phase": name, "cycle": cycle, "version": version, "speed": clock.speed, "t0": clock.t0,
            "offset_s": round(off, 1), "next_s": round((nxt - off) / clock.speed, 1)}


def run_timeline(state, clock, steps, background, every=1.0):
    """Calls steps[offset](cycle) once when the story clock passes each offset,
    and background(phase) every `every` wall seconds, under state.lock, on a
    daemon thread. Offsets already passed when this starts are not replayed."""

    def loop():
        last = time.time()
        next_bg = last
        while True:
            now = time.time()
            c0, _ = clock.at(last)
            c1, _ = clock.at(now)
            due = []
            for c in range(c0, c1 + 1):
                for off, fn in steps:
                    t = clock.when(c, off)
                    if last < t <= now:
                        due.append((t, c, fn))
            due.sort(key=lambda x: x[0])
            with state.lock:
                for _, c, fn in due:
                    try:
                        fn(c)
                    except Exception as e:  # a demo nicety must never stop the fake
                        print("story step failed: %r" % (e,), flush=True)
                if now >= next_bg:
                    try:
                        background(phase(clock, now))
                    except Exception as e:
                        print("story background failed: %r" % (e,), flush=True)
                    next_bg = now + every
            last = now
            time.sleep(0.1)

    threading.Thread(target=loop, daemon=True).start()


# ---------------------------------------------------------------- Render

def attach_render(state, render):
    clock = Clock.from_env()
    if clock is None:
        return
    svc = render.services[0]
    api = svc["id"]

    def rename():
        svc["name"], svc["slug"] = "api", "api-x7k2"
        svc["repo"] = "https://github.com/acme/api"
        if svc.get("serviceDetails", {}).get("url"):
            svc["serviceDetails"]["url"] = "https://api-x7k2.onrender.com"
        live = [d for d in render.deploys[api] if d["status"] == "live"]
        if live:
            live[-1]["commit"]["message"] = "release %s" % GOOD_VERSION

    with state.lock:
        rename()
    orig_reset, orig_control = render.reset, render.control

    def reset():
        orig_reset()
        rename()

    def control(path, p):
        if path == "/__fake/story":
            return phase(clock)
        return orig_control(path, p)

    render.reset, render.control = reset, control

    def service_event(etype, details):
        # Render's service events (GET /v1/events), where the fake has them
        if hasattr(render, "add_event") and hasattr(render, "events"):
            render.add_event(api, etype, details, int(time.time() * 1000000))

    def deploy(message, trigger, sha):
        d = render.control("/__fake/deploy", {"service": api, "action": "new", "trigger": trigger,
                                              "commit": {"id": sha, "message": message}})
        render.control("/__fake/deploy", {"service": api, "action": "advance"})
        service_event("deploy_started", {"deployId": d["id"], "trigger": {"manual": False, "newCommit": sha,
                                                                          "rollback": trigger == "rollback"}})

    def advance(_c):
        d = render.control("/__fake/deploy", {"service": api, "action": "advance"})
        if d.get("status") == "live":
            service_event("deploy_ended", {"deployId": d["id"], "reason": {"newDeploy": None},
                                           "deployStatus": "succeeded", "status": 2})

    def deploy_bad(c):
        deploy("checkout: new discount engine (%s)" % bad_version(c), "new_commit", sha("release %s" % bad_version(c)))

    def rollback(c):
        deploy("Rollback to %s" % GOOD_VERSION, "rollback", sha("release %s" % GOOD_VERSION))

    steps = [(DEPLOY_START, deploy_bad), (DEPLOY_UPDATE, advance), (DEPLOY_LIVE, advance),
             (ROLLBACK_START, rollback), (ROLLBACK_LIVE - 15.0, advance), (ROLLBACK_LIVE, advance)]
    k = [0]

    def log(level, message, typ="app", status=None, path=None):
        entry = render.add_log(api, int(time.time() * 1000000), level)
        entry["message"] = message
        labels = [l for l in entry["labels"] if l["name"] in ("resource", "instance", "host", "level")]
        labels.append({"name": "type", "value": typ})
        if status:
            labels += [{"name": "method", "value": "POST" if "checkout" in path else "GET"},
                       {"name": "path", "value": path}, {"name": "statusCode", "value": status}]
        entry["labels"] = labels

    def background(ph):
        k[0] += 1
        render.control("/__fake/logs", {"n": 1})  # the other services keep talking
        if len(render.logs) > 20000:  # a demo left running for days stays small
            del render.logs[:10000]
        if ph["phase"] == "bad":
            log("error", "ZeroDivisionError: division by zero in apply_discount (release %s)" % ph["version"])
            log("error", "POST /api/checkout 500 %dms" % (900 + 37 * (k[0] % 9)), "request", "500", "/api/checkout")
        else:
            path = ["/api/orders", "/api/checkout", "/api/items"][k[0] % 3]
            log("info", "%s %s 200 %dms" % ("POST" if "checkout" in path else "GET", path, 12 + k[0] % 7),
                "request", "200", path)

    run_timeline(state, clock, steps, background)


# ---------------------------------------------------------------- Sentry

def attach_sentry(state, sentry, projects):
    clock = Clock.from_env()
    if clock is None:
        return
    if not any(p["slug"] == API_PROJECT["slug"] for p in projects):
        projects.append(dict(API_PROJECT))
    current = {}

    def release(c):
        sentry.control("/__fake/release", {"version": "api@%s" % bad_version(c), "project": "api"})

    def issue(c):
        iss = sentry.control("/__fake/issue", {"action": "new", "project": "api", "level": "error",
                                               "title": "ZeroDivisionError: division by zero"})
        raw = next(i for i in sentry.issues if i["id"] == iss["id"])
        raw["culprit"] = "app.checkout in apply_discount (api@%s)" % bad_version(c)
        raw["metadata"] = {"type": "ZeroDivisionError", "value": "division by zero"}
        current["id"] = iss["id"]

    def resolve(_c):
        if current.get("id"):
            sentry.control("/__fake/issue", {"action": "resolve", "id": current.pop("id")})

    def background(ph):
        if ph["phase"] == "bad" and current.get("id"):
            sentry.control("/__fake/issue", {"action": "event", "id": current["id"]})

    run_timeline(state, clock, [(DEPLOY_LIVE, release), (SENTRY_ISSUE, issue), (SENTRY_RESOLVE, resolve)],
                 background)

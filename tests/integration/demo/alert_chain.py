#!/usr/bin/env python3
"""alert_chain.py - the demo's incident as its alerting tells it (test_demo.sh).

    alert_chain.py PANE_URL SLACK_URL PAGERDUTY_URL

SLACK_URL and PAGERDUTY_URL are the simulated Slack's and PagerDuty's
addresses as the banner prints them (their GET /_received lists what they
accepted). Watches pane's /api/v1/alerts until one whole incident of
ServiceErrorRatioHigh{service="api"} has been seen: pending, then firing (and
then in /api/v2/alerts too), then gone. A story cycle whose pending state was
not seen (the test came late) does not count; the story repeats. Then checks
what the fakes received:
  - Slack: per group, FIRING and RESOLVED messages alternate (exactly one
    message per group and incident), ServiceErrorRatioHigh's incident fired
    and was resolved;
  - PagerDuty: per dedup_key, trigger and resolve alternate, the page's
    trigger and its resolve share the dedup_key, the ticket
    (ServiceLatencyHigh) never pages;
  - PagerDuty change events: the bad deploy (once per deploy, only when it
    went live) before the incident's trigger, and the rollback.
Waits by polling with generous bounds. Prints "ok: ..." lines, and
"FAIL: ..." lines with exit status 1.
"""
import datetime
import json
import re
import sys
import time
import urllib.parse
import urllib.request

ALERT = "ServiceErrorRatioHigh"


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return json.load(r)
    except (OSError, ValueError):
        return None


def main():
    pane, slack, pd = (a.rstrip("/") for a in sys.argv[1:4])
    fails = []

    def check(cond, what):
        print(("ok: " if cond else "FAIL: ") + what, flush=True)
        if not cond:
            fails.append(what)
        return cond

    # ---- pane's view: pending -> firing (v1 and v2) -> gone ----
    seen = []  # states of the current cycle, in order
    v2_active = False
    firing_alert = None
    done = False
    for _ in range(1200):  # 0.25 s apart: a generous bound (several story cycles at speed 10)
        a = get(pane + "/api/v1/alerts")
        alerts = (a or {}).get("data", {}).get("alerts", []) if a else None
        if alerts is not None:
            mine = [x for x in alerts if x["labels"].get("alertname") == ALERT and x["labels"].get("service") == "api"]
            state = mine[0]["state"] if mine else "inactive"
            if not seen or seen[-1] != state:
                seen.append(state)
            if state == "firing":
                firing_alert = firing_alert or mine[0]
                if not v2_active:
                    q = urllib.parse.urlencode({"filter": 'alertname="%s"' % ALERT})
                    v2 = get(pane + "/api/v2/alerts?" + q)
                    v2_active = bool(v2) and any(x["labels"].get("service") == "api" and
                                                 x.get("status", {}).get("state") == "active" for x in v2)
            if state == "inactive" and "firing" in seen:
                if "pending" in seen[:seen.index("firing")] and v2_active:
                    done = True
                    break
                seen, v2_active, firing_alert = ["inactive"], False, None  # a partial cycle: wait for the next
        time.sleep(0.25)
    check(done, "pane: %s for api went pending, firing (in /api/v2/alerts too), then resolved (states %s)"
          % (ALERT, seen))
    if firing_alert:
        check("api (demo) answers" in firing_alert.get("annotations", {}).get("summary", ""),
              "the firing alert's summary: %r" % firing_alert.get("annotations", {}).get("summary"))
    if not done:
        return 1

    # ---- what the simulated Slack and PagerDuty received ----
    def slack_msgs():
        out = []
        for r in get(slack + "/_received") or []:
            m = re.match(r"\[(FIRING):\d+\] (.*)|\[(RESOLVED)\] (.*)", (r["body"] or {}).get("text", ""))
            if m:
                out.append((r["t"], m.group(1) or m.group(3), m.group(2) or m.group(4)))
        return out

    def pd_recv():
        return get(pd + "/_received") or []

    def deploy_events():
        q = urllib.parse.urlencode({"kind": "deploy", "start": "0"})
        evs = ((get(pane + "/api/v1/events?" + q) or {}).get("data") or {})
        evs = evs.get("events", evs) if isinstance(evs, dict) else evs
        return [(e.get("ts"), e.get("title")) for e in evs or [] if isinstance(e, dict)]

    def complete():
        s = [m for m in slack_msgs() if m[2].startswith(ALERT + " api")]
        recv = pd_recv()
        p = [r for r in recv if r["path"] == "/v2/enqueue"]
        rollback = [r for r in recv if r["path"] == "/v2/change/enqueue" and
                    "Rollback to 1.4.0" in r["body"]["payload"]["summary"]]
        return (any(k == "RESOLVED" for _, k, _ in s) and rollback and
                any(r["body"].get("event_action") == "resolve" for r in p))

    # the resolve notifications follow within a group_interval, the rollback's
    # change event after the Render source's next collection
    for _ in range(240):
        if complete():
            break
        time.sleep(0.5)
    msgs = slack_msgs()
    groups = {}
    for t, kind, group in msgs:
        groups.setdefault(group, []).append(kind)
    for group, kinds in sorted(groups.items()):
        alternate = all(k == ("FIRING" if i % 2 == 0 else "RESOLVED") for i, k in enumerate(kinds))
        check(alternate, "slack: group %r got one message per change of state: %s" % (group, kinds))
    page = [k for g, k in ((g, k) for g, ks in groups.items() if g.startswith(ALERT + " api") for k in ks)]
    check(page[:2] == ["FIRING", "RESOLVED"], "slack: %s api fired once, then [RESOLVED]: %s" % (ALERT, page))

    recv = pd_recv()
    events = [r for r in recv if r["path"] == "/v2/enqueue"]
    keys = {}
    for r in events:
        keys.setdefault(r["body"].get("dedup_key"), []).append(r["body"].get("event_action"))
    for k, acts in keys.items():
        alternate = all(a == ("trigger" if i % 2 == 0 else "resolve") for i, a in enumerate(acts))
        check(alternate, "pagerduty: dedup_key %s... got one trigger per incident, then its resolve: %s"
              % (str(k)[:12], acts))
    triggers = [r for r in events if r["body"].get("event_action") == "trigger"]
    page_triggers = [r for r in triggers if ALERT in r["body"]["payload"]["summary"]]
    check(bool(page_triggers), "pagerduty: a trigger for %s" % ALERT)
    check(not [r for r in triggers if "ServiceLatencyHigh" in r["body"]["payload"]["summary"]],
          "pagerduty: the ticket (ServiceLatencyHigh) does not page")
    if page_triggers:
        key = page_triggers[0]["body"]["dedup_key"]
        check(keys.get(key, [])[:2] == ["trigger", "resolve"],
              "pagerduty: the page's resolve has its trigger's dedup_key: %s" % keys.get(key))

    changes = [r for r in recv if r["path"] == "/v2/change/enqueue"]
    bad = [r for r in changes if "discount engine" in r["body"]["payload"]["summary"]]
    check(bool(bad), "pagerduty: the bad deploy arrived as a change event (change events: %s; pane's deploy events: %s)"
          % ([r["body"]["payload"]["summary"] for r in changes], deploy_events()))
    check(all(" live " in r["body"]["payload"]["summary"] for r in changes),
          "pagerduty: change events only for deploys that went live: %s"
          % [r["body"]["payload"]["summary"] for r in changes if " live " not in r["body"]["payload"]["summary"]][:3])
    ids = [r["body"]["payload"]["custom_details"].get("deploy_id") for r in changes]
    check(len(ids) == len(set(ids)), "pagerduty: one change event per deploy (%d events, %d deploys)"
          % (len(ids), len(set(ids))))
    if bad and page_triggers:
        # by the times they carry (the Render source may deliver the deploy
        # after the alert fired: it collects every few seconds)
        def ts(r):
            return datetime.datetime.fromisoformat(r["body"]["payload"]["timestamp"].replace("Z", "+00:00"))

        trig = page_triggers[-1]
        before = [r for r in bad if ts(r) <= ts(trig)]
        check(bool(before), "pagerduty: the bad deploy went live (%s) before the page's alert (%s)"
              % ([r["body"]["payload"]["timestamp"] for r in bad], trig["body"]["payload"]["timestamp"]))
    check(any("Rollback to 1.4.0" in r["body"]["payload"]["summary"] for r in changes),
          "pagerduty: the rollback arrived as a change event")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())

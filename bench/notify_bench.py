#!/usr/bin/env python3
"""notify_bench.py - drives one Alertmanager-compatible target (pane or
Alertmanager) whose only receiver is a Slack fake, and prints JSON figures.

  notify_bench.py latency TARGET_URL SLACK_URL N
      N times: POST one new alert (its route has group_wait 0s) and poll the
      fake until the message is there; milliseconds from the POST to the fake
      having it (the fake's own receive timestamp).
  notify_bench.py fanout TARGET_URL SLACK_URL ALERTS GROUPS
      POST ALERTS alerts spread over GROUPS groups (label g) in batches of 1000;
      seconds until GROUPS messages arrived, and how many arrived in all.
"""
import json
import statistics
import sys
import time
import urllib.request


def post(url, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=60).read()


def received(slack):
    return json.loads(urllib.request.urlopen(slack + "/_received", timeout=10).read())


def wait_count(slack, n, timeout):
    end = time.time() + timeout
    while time.time() < end:
        r = received(slack)
        if len(r) >= n:
            return r
        time.sleep(0.002)
    return received(slack)


def latency(target, slack, n):
    out = []
    for i in range(n):
        have = len(received(slack))
        t0 = time.time()
        post(target + "/api/v2/alerts", [{"labels": {"alertname": "Lat%d" % i, "bench": "latency"}}])
        r = wait_count(slack, have + 1, 30)
        if len(r) <= have:
            out.append(None)
            continue
        out.append((r[-1]["t"] - t0) * 1000)
    ok = [x for x in out if x is not None]
    return {"n": n, "delivered": len(ok), "median_ms": round(statistics.median(ok), 2) if ok else None,
            "p90_ms": round(sorted(ok)[int(len(ok) * 0.9) - 1], 2) if ok else None}


def fanout(target, slack, alerts, groups):
    have = len(received(slack))
    t0 = time.time()
    batch = []
    for i in range(alerts):
        batch.append({"labels": {"alertname": "Fan", "g": "g%d" % (i % groups), "i": str(i)},
                      "annotations": {"summary": "alert %d" % i}})
        if len(batch) == 1000:
            post(target + "/api/v2/alerts", batch)
            batch = []
    if batch:
        post(target + "/api/v2/alerts", batch)
    t_posted = time.time() - t0
    r = wait_count(slack, have + groups, 120)
    t_all = time.time() - t0
    time.sleep(1.0)  # anything beyond one message per group would show up now
    extra = len(received(slack)) - have
    return {"alerts": alerts, "groups": groups, "post_s": round(t_posted, 3), "all_messages_s": round(t_all, 3),
            "messages": extra}


if __name__ == "__main__":
    if sys.argv[1] == "latency":
        print(json.dumps(latency(sys.argv[2], sys.argv[3], int(sys.argv[4]))))
    else:
        print(json.dumps(fanout(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))))

#!/usr/bin/env python3
"""pagerduty_fake.py - PagerDuty's Events API v2 on loopback (tests and the demo).

  python3 tests/fakes/pagerduty_fake.py PORT [--fault 429:2] [--fault 500:1] [--fault hang:1]

Contract checked (PagerDuty Events API v2 OpenAPI, shared/reference/specs/
pagerduty-events-v2.json): POST /v2/enqueue with routing_key (32 characters),
event_action trigger|acknowledge|resolve, dedup_key (required unless trigger,
at most 255 characters); a trigger needs payload {summary (at most 1024),
source, severity critical|error|warning|info} with optional timestamp
(date-time), component, group, class, custom_details (object); links
[{href, text?}], images [{src, href?, alt?}]. POST /v2/change/enqueue with
routing_key and payload {summary, timestamp?, source?, custom_details?}.
Answers 202 {"status":"success","message":"Event processed","dedup_key":...},
400 {"status":"invalid event","message":"Event object is invalid","errors":[...]}.
Control and faults: see hookfake.py (GET /_received, POST /_faults, POST /_reset).
"""
import json
import os
import re
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hookfake  # noqa: E402
from hookfake import Invalid  # noqa: E402

DATE_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)$")


def bad(*errors):
    return Invalid(400, json.dumps({"status": "invalid event", "message": "Event object is invalid",
                                    "errors": list(errors)}))


def check_links(body):
    for k, need in (("links", "href"), ("images", "src")):
        v = body.get(k)
        if v is None:
            continue
        if not isinstance(v, list) or not all(isinstance(x, dict) and isinstance(x.get(need), str) for x in v):
            raise bad("'%s' must be a list of objects with %s" % (k, need))


def check_common_payload(p, required):
    if not isinstance(p, dict):
        raise bad("'payload' is missing or not an object")
    for k in required:
        if not isinstance(p.get(k), str) or not p[k]:
            raise bad("'payload.%s' is missing or blank" % k)
    for k in ("summary", "source", "component", "group", "class"):
        if k in p and not isinstance(p[k], str):
            raise bad("'payload.%s' must be a string" % k)
    if len(p.get("summary", "")) > 1024:
        raise bad("'payload.summary' is longer than 1024 characters")
    if "timestamp" in p and (not isinstance(p["timestamp"], str) or not DATE_TIME.match(p["timestamp"])):
        raise bad("'payload.timestamp' is not a date-time")
    if "custom_details" in p and not isinstance(p["custom_details"], dict):
        raise bad("'payload.custom_details' must be an object")


class PagerDuty:
    ctype = "application/json"

    def method_error(self):
        return json.dumps({"status": "invalid request", "message": "method not allowed"})

    def fault_body(self, status):
        return json.dumps({"status": "throttle event" if status == 429 else "error", "message": "fault"})

    def invalid_body(self, why):
        return json.dumps({"status": "invalid event", "message": "Event object is invalid", "errors": [why]})

    def check(self, path, body):
        if not isinstance(body, dict):
            raise bad("body must be an object")
        rk = body.get("routing_key")
        if not isinstance(rk, str) or len(rk) != 32:
            raise bad("'routing_key' is invalid (32 characters)")
        check_links(body)
        if path == "/v2/change/enqueue":
            check_common_payload(body.get("payload"), ("summary",))
            return 202, json.dumps({"status": "success", "message": "Change event processed"}), \
                "change " + body["payload"]["summary"]
        if path != "/v2/enqueue":
            raise Invalid(404, json.dumps({"status": "not found", "message": "no such endpoint"}))
        act = body.get("event_action")
        if act not in ("trigger", "acknowledge", "resolve"):
            raise bad("'event_action' must be trigger, acknowledge or resolve")
        dk = body.get("dedup_key")
        if dk is not None and (not isinstance(dk, str) or len(dk) > 255):
            raise bad("'dedup_key' must be a string of at most 255 characters")
        if act != "trigger" and not dk:
            raise bad("'dedup_key' is required for %s" % act)
        for k in ("client", "client_url"):
            if k in body and not isinstance(body[k], str):
                raise bad("'%s' must be a string" % k)
        summary = act
        if act == "trigger":
            p = body.get("payload")
            check_common_payload(p, ("summary", "source", "severity"))
            if p["severity"] not in ("critical", "error", "warning", "info"):
                raise bad("'payload.severity' must be critical, error, warning or info")
            summary = "trigger %s %s" % (p["severity"], p["summary"])
        dk = dk or uuid.uuid4().hex
        return 202, json.dumps({"status": "success", "message": "Event processed", "dedup_key": dk}), \
            "%s dedup_key=%s" % (summary, dk)


if __name__ == "__main__":
    hookfake.main(PagerDuty(), sys.argv)

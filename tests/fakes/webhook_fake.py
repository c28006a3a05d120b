#!/usr/bin/env python3
"""webhook_fake.py - a receiver of Alertmanager's webhook JSON (version 4) on loopback.

  python3 tests/fakes/webhook_fake.py PORT [--fault 500:1] ...

Checks every POST against Alertmanager 0.25's webhook message (notify/webhook
and template.Data): version "4", groupKey, truncatedAlerts (number), status
firing|resolved, receiver, groupLabels/commonLabels/commonAnnotations (string
maps), externalURL, alerts [{status, labels, annotations, startsAt, endsAt,
generatorURL, fingerprint}]. Answers 200. Control: see hookfake.py.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hookfake  # noqa: E402
from hookfake import Invalid  # noqa: E402


def strmap(v):
    return isinstance(v, dict) and all(isinstance(k, str) and isinstance(x, str) for k, x in v.items())


class Webhook:
    ctype = "text/plain"

    def method_error(self):
        return "method not allowed"

    def fault_body(self, status):
        return "fault"

    def invalid_body(self, why):
        return why

    def check(self, path, b):
        def need(cond, why):
            if not cond:
                raise Invalid(400, why)
        need(isinstance(b, dict), "not an object")
        need(b.get("version") == "4", "version must be \"4\"")
        for k in ("groupKey", "receiver", "externalURL"):
            need(isinstance(b.get(k), str), "%s must be a string" % k)
        need(isinstance(b.get("truncatedAlerts"), int), "truncatedAlerts must be a number")
        need(b.get("status") in ("firing", "resolved"), "status must be firing or resolved")
        for k in ("groupLabels", "commonLabels", "commonAnnotations"):
            need(strmap(b.get(k)), "%s must be a map of strings" % k)
        need(isinstance(b.get("alerts"), list) and b["alerts"], "alerts must be a non-empty list")
        for a in b["alerts"]:
            need(a.get("status") in ("firing", "resolved"), "alert status")
            need(strmap(a.get("labels")) and strmap(a.get("annotations")), "alert labels/annotations")
            for k in ("startsAt", "endsAt", "generatorURL", "fingerprint"):
                need(isinstance(a.get(k), str), "alert %s must be a string" % k)
        return 200, "", "%s %d alerts" % (b["status"], len(b["alerts"]))


if __name__ == "__main__":
    hookfake.main(Webhook(), sys.argv)

#!/usr/bin/env python3
"""slack_fake.py - a Slack incoming webhook on loopback (tests and the demo).

  python3 tests/fakes/slack_fake.py PORT [--fault 429:2] [--fault 500:1] [--fault hang:1]

Contract checked (api.slack.com/messaging/webhooks, reference/messaging/attachments):
POST /services/T.../B.../SECRET with Content-Type application/json; a JSON object
with a non-empty "text", or "blocks", or "attachments" (objects, each with a
"fallback" or "text"); channel, username, icon_emoji, icon_url strings when set;
attachment fields title, title_link, text, fallback, color, pretext strings and
mrkdwn_in a list of those field names. Answers as Slack does: 200 "ok";
400 "invalid_payload" / "no_text"; 404 "no_service"; 429 with Retry-After.
Control and faults: see hookfake.py (GET /_received, POST /_faults, POST /_reset).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hookfake  # noqa: E402
from hookfake import Invalid  # noqa: E402

STR_FIELDS = ("channel", "username", "icon_emoji", "icon_url", "text")
ATT_STR = ("title", "title_link", "text", "fallback", "color", "pretext", "footer", "author_name")
MRKDWN = {"pretext", "text", "fields", "fallback"}


class Slack:
    ctype = "text/plain"

    def method_error(self):
        return "invalid_method"

    def fault_body(self, status):
        return "rate_limited" if status == 429 else "internal_error"

    def invalid_body(self, why):
        return "invalid_payload"

    def check(self, path, body):
        parts = path.split("/")
        if len(parts) != 5 or parts[1] != "services" or not all(parts[2:]):
            raise Invalid(404, "no_service")
        if not isinstance(body, dict):
            raise Invalid(400, "invalid_payload")
        for k in STR_FIELDS:
            if k in body and not isinstance(body[k], str):
                raise Invalid(400, "invalid_payload")
        atts = body.get("attachments")
        if atts is not None:
            if not isinstance(atts, list):
                raise Invalid(400, "invalid_payload")
            for a in atts:
                if not isinstance(a, dict) or not (a.get("fallback") or a.get("text")):
                    raise Invalid(400, "invalid_attachments")
                for k in ATT_STR:
                    if k in a and not isinstance(a[k], str):
                        raise Invalid(400, "invalid_attachments")
                m = a.get("mrkdwn_in", [])
                if not isinstance(m, list) or not set(m) <= MRKDWN:
                    raise Invalid(400, "invalid_attachments")
        if not body.get("text") and not body.get("blocks") and not atts:
            raise Invalid(400, "no_text")
        title = body.get("text") or (atts[0].get("title") if atts else "")
        return 200, "ok", title


if __name__ == "__main__":
    hookfake.main(Slack(), sys.argv)

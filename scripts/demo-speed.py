#!/usr/bin/env python3
"""demo-speed.py - the alerting's clocks for a sped-up story (scripts/demo.sh).

With PANE_DEMO_SPEED=N the story (tests/fakes/story.py) runs N times faster;
the rules' windows and `for:` and the routes' waits must shrink by as much, or
the incident is over before its alert could fire.

  demo-speed.py duration 15s N      prints 15s / N in milliseconds ("1500ms")
  demo-speed.py rules FILE.yml N    prints FILE.yml with every range [5m] and
                                    every `for: 1m` divided by N
At N = 1 both print their input unchanged.
"""
import re
import sys

UNIT = {"ms": 1, "s": 1000, "m": 60000, "h": 3600000, "d": 86400000}
DUR = r"(?:\d+(?:ms|s|m|h|d))+"


def scaled(d, speed):
    if speed == 1:
        return d
    ms = sum(int(n) * UNIT[u] for n, u in re.findall(r"(\d+)(ms|s|m|h|d)", d))
    return "%dms" % max(100, round(ms / speed))


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("duration", "rules"):
        sys.exit("usage: demo-speed.py duration DUR SPEED | rules FILE SPEED")
    speed = float(sys.argv[3])
    if speed <= 0:
        sys.exit("demo-speed.py: the speed must be positive")
    if sys.argv[1] == "duration":
        print(scaled(sys.argv[2], speed))
        return
    src = sys.argv[2]
    if speed != 1:
        print("# %s with its ranges and for: divided by PANE_DEMO_SPEED=%g (scripts/demo.sh)" % (src, speed))
    for line in open(src):
        if speed != 1:
            line = re.sub(r"\[(%s)\]" % DUR, lambda m: "[%s]" % scaled(m.group(1), speed), line)
            line = re.sub(r"^(\s*for:\s*)(%s)(\s*)$" % DUR, lambda m: m.group(1) + scaled(m.group(2), speed) + m.group(3),
                          line)
        sys.stdout.write(line)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""layers.py - the house's wiring stays one-way (docs/ARCHITECTURE.md).

Fails when a part includes serve/ (serve is the composition root; only
src/serve and src/demo, which runs it, may), or when the folders of src/
include each other in a cycle (a -> b -> ... -> a, counting every
#include "folder/..." between different folders). Prints each offending
include with file:line.
"""
import os
import re
import sys

root = os.environ.get("PANE_SOURCE_ROOT") or os.path.join(os.path.dirname(__file__), "..", "..")
src = os.path.join(root, "src")
MAY_INCLUDE_SERVE = {"serve", "demo"}
inc = re.compile(r'\s*#\s*include\s+"([a-z_]+)/')

edges = {}  # folder -> {folder: [file:line, ...]}
bad = 0
for d in sorted(os.listdir(src)):
    p = os.path.join(src, d)
    if not os.path.isdir(p):
        continue
    for f in sorted(os.listdir(p)):
        if not f.endswith((".c", ".h")):
            continue
        with open(os.path.join(p, f), errors="replace") as fh:
            for n, line in enumerate(fh, 1):
                m = inc.match(line)
                if not m or m.group(1) == d:
                    continue
                to = m.group(1)
                edges.setdefault(d, {}).setdefault(to, []).append(f"src/{d}/{f}:{n}")
                if to == "serve" and d not in MAY_INCLUDE_SERVE:
                    print(f"src/{d}/{f}:{n}: a part includes serve/ (take a struct pane_host, host/host.h)")
                    bad = 1

# strongly connected components (Tarjan): any with two or more folders is a cycle
index, low, stack, on, sccs = {}, {}, [], set(), []


def visit(v):
    index[v] = low[v] = len(index)
    stack.append(v)
    on.add(v)
    for w in edges.get(v, {}):
        if w not in index:
            visit(w)
            low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop()
            on.discard(w)
            comp.append(w)
            if w == v:
                break
        if len(comp) > 1:
            sccs.append(sorted(comp))


for v in sorted(edges):
    if v not in index:
        visit(v)
for comp in sccs:
    print("include cycle between folders: " + ", ".join(comp))
    for a in comp:
        for b in comp:
            for w in edges.get(a, {}).get(b, [])[:3]:
                print(f"  {w}: {a} -> {b}")
    bad = 1
if bad:
    sys.exit(1)
print(f"{len(edges)} folders, no include of serve/ from a part, no include cycle")

#!/usr/bin/env python3
"""check_render.py - lints render.yaml against the fields Render's Blueprint
YAML reference (render.com/docs/blueprint-spec) documents, and against the
rest of the repository: the Dockerfile it names exists, a service with a disk
runs one instance, the disk is mounted where pane keeps its data, every
fromGroup names a group of the file, every env var has exactly one source,
and each dockerCommand runs a pane command that exists.
  check_render.py ROOT PANE_BIN
Prints every problem; exit 1 when there is one.
"""
import os, shlex, subprocess, sys
import yaml

ROOT, PANE = sys.argv[1], sys.argv[2]
SERVICE_KEYS = {"type", "name", "runtime", "plan", "region", "repo", "branch", "rootDir", "numInstances",
                "scaling", "buildCommand", "startCommand", "preDeployCommand", "dockerCommand",
                "dockerfilePath", "dockerContext", "registryCredential", "image", "healthCheckPath",
                "disk", "envVars", "autoDeploy", "buildFilter", "domains", "maxShutdownDelaySeconds",
                "previews", "ipAllowList", "schedule", "staticPublishPath", "headers", "routes",
                "pullRequestPreviewsEnabled", "initialDeployHook"}
SERVICE_TYPES = {"web", "worker", "pserv", "cron", "keyvalue", "redis"}
RUNTIMES = {"docker", "image", "node", "python", "ruby", "go", "rust", "elixir", "static"}
ROOT_KEYS = {"services", "databases", "envVarGroups", "projects", "ungrouped", "previews", "version"}
ENV_SOURCES = {"value", "generateValue", "sync", "fromDatabase", "fromService", "fromGroup"}
problems = []


def bad(msg):
    problems.append(msg)


doc = yaml.safe_load(open(os.path.join(ROOT, "render.yaml")))
if not isinstance(doc, dict):
    sys.exit("render.yaml is not a map")
for k in doc:
    if k not in ROOT_KEYS:
        bad("unknown root key %r" % k)
groups = {}
for g in doc.get("envVarGroups", []):
    if set(g) - {"name", "envVars"}:
        bad("envVarGroup %r: unknown keys %s" % (g.get("name"), set(g) - {"name", "envVars"}))
    groups[g["name"]] = g


def check_env(owner, envs, in_group):
    for e in envs:
        if "fromGroup" in e:
            if in_group:
                bad("%s: fromGroup inside a group" % owner)
            elif e["fromGroup"] not in groups:
                bad("%s: fromGroup %r is not a group of the file" % (owner, e["fromGroup"]))
            continue
        if "key" not in e:
            bad("%s: env var without key: %r" % (owner, e))
        srcs = set(e) & ENV_SOURCES
        if set(e) - ENV_SOURCES - {"key"}:
            bad("%s: %s: unknown keys %s" % (owner, e.get("key"), set(e) - ENV_SOURCES - {"key"}))
        if len(srcs) != 1:
            bad("%s: %s needs exactly one of %s" % (owner, e.get("key"), sorted(ENV_SOURCES)))
        if "sync" in e and e["sync"] is not False:
            bad("%s: %s: sync may only be false" % (owner, e.get("key")))
        if "value" in e and not isinstance(e["value"], str):
            bad("%s: %s: value must be a string (quote numbers)" % (owner, e.get("key")))


for name, g in groups.items():
    check_env("group " + name, g.get("envVars", []), True)

web = 0
for s in doc.get("services", []):
    n = s.get("name", "?")
    for k in s:
        if k not in SERVICE_KEYS:
            bad("service %s: unknown key %r" % (n, k))
    if s.get("type") not in SERVICE_TYPES:
        bad("service %s: type %r" % (n, s.get("type")))
    if s.get("runtime") not in RUNTIMES:
        bad("service %s: runtime %r" % (n, s.get("runtime")))
    if s.get("runtime") == "docker":
        df = os.path.join(ROOT, s.get("dockerContext", "."), s.get("dockerfilePath", "./Dockerfile"))
        if not os.path.isfile(os.path.normpath(os.path.join(ROOT, s.get("dockerfilePath", "./Dockerfile")))):
            bad("service %s: no Dockerfile at %s" % (n, df))
    cmd = s.get("dockerCommand") or s.get("startCommand") or ""
    argv = shlex.split(cmd)
    if argv == ["pane-worker-env"]:  # deploy/pane-worker-env, copied into the image
        if "COPY deploy/pane-worker-env /usr/local/bin/pane-worker-env" not in open(os.path.join(ROOT, "Dockerfile")).read():
            bad("service %s: the Dockerfile does not install pane-worker-env" % n)
        envs = {e.get("key") for g in groups.values() for e in g.get("envVars", [])}
        for k in ("PANE_QUEUES", "PANE_WORKER_URL"):
            if k not in envs:
                bad("service %s: pane-worker-env needs %s in the env group" % (n, k))
        argv = ["pane", "worker"] + shlex.split(next((e.get("value", "") for g in groups.values()
                                                       for e in g.get("envVars", [])
                                                       if e.get("key") == "PANE_WORKER_ARGS"), ""))
    if not argv or argv[0] != "pane":
        bad("service %s: command %r does not run pane" % (n, cmd))
    else:  # the subcommand exists and knows every option used
        sub = argv[1]
        out = subprocess.run([PANE, sub, "--help"], capture_output=True, text=True)
        if out.returncode != 0:
            bad("service %s: `pane %s --help` fails" % (n, sub))
        for a in argv[2:]:
            if a.startswith("--") and a.split("=")[0] not in out.stdout:
                bad("service %s: pane %s has no option %s" % (n, sub, a))
    pre = s.get("preDeployCommand")
    if pre and subprocess.run([PANE] + shlex.split(pre)[1:] + ["--help"], capture_output=True).returncode:
        bad("service %s: preDeployCommand %r is not a pane command" % (n, pre))
    if "disk" in s:
        d = s["disk"]
        if set(d) != {"name", "mountPath", "sizeGB"}:
            bad("service %s: disk needs name, mountPath, sizeGB: %r" % (n, d))
        if s.get("numInstances", 1) != 1 or "scaling" in s:
            bad("service %s: a service with a disk cannot run more than one instance" % n)
        if s.get("plan") == "free":
            bad("service %s: a disk needs a paid plan" % n)
        envs = {e.get("key"): e.get("value") for e in s.get("envVars", []) if "key" in e}
        if envs.get("PANE_DATA_DIR") != d.get("mountPath"):
            bad("service %s: PANE_DATA_DIR %r is not the disk's mountPath %r" % (n, envs.get("PANE_DATA_DIR"),
                                                                               d.get("mountPath")))
    if s.get("type") == "web":
        web += 1
        if s.get("healthCheckPath") != "/healthz":
            bad("service %s: healthCheckPath should be /healthz" % n)
    check_env("service " + n, s.get("envVars", []), False)
if web != 1:
    bad("want one web service, found %d" % web)
if not any(s.get("type") == "worker" for s in doc.get("services", [])):
    bad("no worker service")
keys = {e.get("key") for g in groups.values() for e in g.get("envVars", [])}
for k in ("DATABASE_URL", "PANE_TOKEN_ADMIN"):
    if k not in keys:
        bad("the env group does not define %s" % k)
for g in groups.values():
    for e in g.get("envVars", []):
        if e.get("key") in ("DATABASE_URL", "PANE_TOKEN_ADMIN") and "value" in e:
            bad("%s is a secret: sync: false or generateValue, never a value in the file" % e["key"])
for p in problems:
    print("render.yaml:", p)
print("render.yaml: %d services, %d env groups, %d problems" % (len(doc.get("services", [])), len(groups),
                                                              len(problems)))
sys.exit(1 if problems else 0)

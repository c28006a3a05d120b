"""outputs_bench.py - driven by bench/run-outputs.sh; see there.

For each forwarder (pane serve with a remote_write output; vmagent with a
disk-backed queue), against a fresh VictoriaMetrics:
  1. throughput: REQS requests x 2000 samples pushed as fast as one client
     goes; CPU seconds of the forwarder from the first request until its
     queue is empty, per million samples; peak RSS (VmHWM).
  2. outage: VictoriaMetrics stopped; RATE requests/s pushed for OUTAGE_S
     seconds; VictoriaMetrics restarted; seconds until the forwarder's queue
     is empty (drain time). Loss: samples VictoriaMetrics counted as inserted
     (vm_rows_inserted_total{type="promremotewrite"}) against samples pushed.
pane also runs once without outputs (its store alone) so the output's share
of its CPU can be told apart: pane stores every sample, vmagent stores none.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

PANE = os.environ["PANE_BIN"]
RW = os.environ["RW_BIN"]
REQS = int(os.environ["REQS"])
OUTAGE = float(os.environ["OUTAGE_S"])
RATE = int(os.environ["RATE"])
HZ = os.sysconf("SC_CLK_TCK")
tmp = tempfile.mkdtemp(prefix="pane-bench-out-")
procs = []


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def start(argv, name):
    p = subprocess.Popen(argv, stdout=open(os.path.join(tmp, name + ".log"), "a"), stderr=subprocess.STDOUT)
    procs.append(p)
    return p


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.read().decode()
    except Exception:
        return ""


def wait(fn, timeout=600, step=0.05):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if fn():
            return time.time() - t0
        time.sleep(step)
    raise SystemExit("timed out")


def cpu(pid):
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / HZ


def hwm_mb(pid):
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0


def metric_sum(text, name, must=""):
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and (line[len(name)] in " {") and must in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


class VM:
    def __init__(self):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(dir=tmp)
        self.inserted_before = 0.0
        self.start()

    def start(self):
        self.p = start(["victoria-metrics", "-httpListenAddr=127.0.0.1:%d" % self.port,
                        "-storageDataPath=" + self.dir, "-retentionPeriod=100y", "-loggerLevel=ERROR"], "vm")
        wait(lambda: get("http://127.0.0.1:%d/health" % self.port) == "OK")

    def inserted(self):
        m = get("http://127.0.0.1:%d/metrics" % self.port)
        return self.inserted_before + metric_sum(m, "vm_rows_inserted_total", 'type="promremotewrite"')

    def stop(self):
        self.inserted_before = self.inserted()
        self.p.send_signal(signal.SIGTERM)
        self.p.wait()

    def url(self):
        return "http://127.0.0.1:%d/api/v1/write" % self.port


def push(url, n):
    out = subprocess.run([RW, "rw", url, str(n)], capture_output=True, text=True).stdout
    bad = int(re.search(r"(\d+) failed", out).group(1))
    if bad:
        raise SystemExit("pushes failed: " + out)
    return n * 2000


def run(kind):
    vm = VM()
    port = free_port()
    data = tempfile.mkdtemp(dir=tmp)
    if kind.startswith("pane"):
        cfg = os.path.join(data, "pane.yaml")
        with open(cfg, "w") as f:
            f.write("store:\n  self_metrics_interval: 0\nreceivers:\n  statsd:\n    listen: 127.0.0.1:%d\n" % free_port())
            if kind == "pane":
                f.write("outputs:\n  remote_write:\n    - url: %s\n      name: vm\n"
                        "      queue_config: {max_shards: 8, batch_send_deadline: 1s}\n" % vm.url())
        p = start([PANE, "serve", "--config", cfg, "--data-dir", data, "--listen", "127.0.0.1:%d" % port], kind)
        mets = "http://127.0.0.1:%d/metrics" % port
        wait(lambda: get("http://127.0.0.1:%d/readyz" % port) != "")
        pending = lambda: metric_sum(get(mets), "pane_output_pending_samples")
    else:
        p = start(["vmagent", "-httpListenAddr=127.0.0.1:%d" % port, "-remoteWrite.url=" + vm.url(),
                   "-remoteWrite.tmpDataPath=" + data, "-loggerLevel=ERROR"], kind)
        mets = "http://127.0.0.1:%d/metrics" % port
        wait(lambda: get("http://127.0.0.1:%d/health" % port) == "OK")

        def pending():
            m = get(mets)
            return metric_sum(m, "vmagent_remotewrite_pending_data_bytes") + \
                metric_sum(m, "vm_persistentqueue_bytes_pending")
    url = "http://127.0.0.1:%d/api/v1/write" % port
    res = {}
    c0 = cpu(p.pid)
    t0 = time.time()
    pushed = push(url, REQS)
    if kind != "pane-store-only":
        wait(lambda: pending() == 0 and vm.inserted() >= pushed)
    res["wall"] = time.time() - t0
    res["cpu"] = cpu(p.pid) - c0
    res["samples"] = pushed
    if kind != "pane-store-only":
        # outage
        vm.stop()
        t_end = time.time() + OUTAGE
        while time.time() < t_end:
            t1 = time.time()
            pushed += push(url, RATE)
            time.sleep(max(0.0, 1.0 - (time.time() - t1)))
        backlog = pending()
        vm.start()
        res["drain"] = wait(lambda: pending() == 0 and vm.inserted() >= pushed, step=0.1)
        res["backlog"] = backlog
        time.sleep(1)
        res["lost"] = pushed - vm.inserted()
        res["outage_samples"] = pushed - res["samples"]
    res["rss"] = hwm_mb(p.pid)
    p.send_signal(signal.SIGTERM)
    p.wait()
    vm.stop()
    return res


try:
    rows = [(k, run(k)) for k in ("pane-store-only", "pane", "vmagent")]
    base = rows[0][1]
    print("%-26s %12s %10s %14s %9s %12s %10s %7s" % ("forwarder", "samples", "CPU-s", "CPU-s per 1M",
                                                       "RSS MB", "outage smp", "drain s", "lost"))
    for k, r in rows:
        per = r["cpu"] / r["samples"] * 1e6
        print("%-26s %12d %10.2f %14.2f %9.0f %12s %10s %7s" % (
            k, r["samples"], r["cpu"], per, r["rss"], r.get("outage_samples", "-"),
            "%.1f" % r["drain"] if "drain" in r else "-", "%d" % r["lost"] if "lost" in r else "-"))
    pane, vma = rows[1][1], rows[2][1]
    fwd = (pane["cpu"] - base["cpu"]) / pane["samples"] * 1e6
    print("pane's output share (pane - pane-store-only): %.2f CPU-s per 1M; vmagent: %.2f; ratio %.2fx" % (
        fwd, vma["cpu"] / vma["samples"] * 1e6, fwd / (vma["cpu"] / vma["samples"] * 1e6)))
finally:
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    shutil.rmtree(tmp, ignore_errors=True)

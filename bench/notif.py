#!/usr/bin/env python3
"""Notification benchmark: what config-change subscribers cost occd.

Two measurements, both over NETCONF/SSH on 127.0.0.1 against an occd the
script starts itself (fresh temp data dir, the harness's `bench` module,
SIGTERM at the end, also on errors):

1. edit-10k -- the wall time of one edit-config to running that creates
   ENTRIES new `item`s (name, counter, descr), from sending the RPC to
   receiving its `<ok/>` reply. Rounds alternate between no subscriber at
   all and one subscriber session (RFC 5277 create-subscription, no filter)
   that a background thread keeps reading. Each round uses its own names
   (`r<round>-<n>`) and is followed by an untimed edit that removes them,
   so the datastore stays at two seed items. The subscriber must receive,
   per round, the config-change of the create with ENTRIES `<edit>`s (all
   `create`) and of the removal (all `delete`); the script checks that and
   reports the median latency from sending the create to the subscriber
   having read its whole notification. One untimed warm-up round runs
   first. Reported: median create time per mode and the ratio with/without
   (the issue's target: <= 2).

2. delivery -- SUBSCRIBERS sessions subscribe with a subtree filter that
   keeps only netconf-config-change (--no-filter: none), then one editor
   session makes COMMITS sequential edit-configs, each merging a new
   counter value into one item (one `replace` edit per notification).
   Elapsed time runs from the first edit sent until every subscriber has
   read all COMMITS config-changes (capped by --cap seconds). Reported:
   editor commits/s, notifications delivered/s (SUBSCRIBERS*COMMITS /
   elapsed), per-notification latency (k-th edit sent -> k-th notification
   read, when nothing was missed) and missed/extra notifications.

The client announces only base:1.0, so every message ends with ]]>]]>.
Subscribers are raw paramiko channels that split on the delimiter and
count messages containing netconf-config-change. Client and server share
the machine: client CPU (paramiko, the GIL) is part of every number.

Usage (build first: cargo build --release):

  .venv/bin/python bench/notif.py [--occd target/release/occd]
      [--port 18931] [--entries 10000] [--rounds 5] [--subscribers 10]
      [--commits 500] [--cap 120] [--settle 0.5] [--no-filter]
      [--remove-op remove|delete] [--out results.jsonl] [--keep]
      [--external [--user bench] [--password bench] [--key PATH]] [--label occd]

--external measures a server that is already running on 127.0.0.1:--port
(nothing is started or stopped; e.g. Debian's netconfd behind its sshd,
/work/shared/bench/peer-netconfd.sh, port 18830). --key uses publickey
auth with that private key instead of the password. --label names the
server in the summary and in every JSON line. The removal between rounds
uses nc:operation="remove" by default and "delete" with --external
(yuma123 netconfd refuses "remove" from a base:1.0 session); the removal
is untimed, so either works for the comparison.

Per-round checks: against occd (the default mode) the script insists on
exactly one config-change per edit, with ENTRIES `create` edits (one
`replace` per delivery commit) and reports anything else as a PROBLEM.
With --external it is tolerant: it counts what the server really sends
(config-change notifications, netconf-config-change or yuma's
sysConfigChange, their edit records and operations) and reports that
shape; only a missing notification, a transport error or a missed/extra
count is a PROBLEM. Figures come only from notifications that arrived.

Prints a summary, and one JSON object per measurement (label, test, mode,
n, median_ms, ratio, ...) on stdout, or into --out when given.
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

try:
    import paramiko
except ImportError:
    sys.exit("paramiko is missing: run with /work/main/.venv/bin/python")

HOST = "127.0.0.1"
USER = "bench"
PASSWORD = "bench"
KEY = None          # a paramiko PKey (--key): publickey auth instead of PASSWORD
EOM = b"]]>]]>"
BASE_NS = "urn:ietf:params:xml:ns:netconf:base:1.0"
NOTIF_NS = "urn:ietf:params:xml:ns:netconf:notification:1.0"
NCN_NS = "urn:ietf:params:xml:ns:yang:ietf-netconf-notifications"
BENCH_NS = "urn:example:bench"
HELLO = (f'<?xml version="1.0" encoding="UTF-8"?><hello xmlns="{BASE_NS}"><capabilities>'
         f'<capability>urn:ietf:params:netconf:base:1.0</capability></capabilities></hello>')
CONFIG_FILTER = (f'<filter type="subtree"><netconf-config-change xmlns="{NCN_NS}"/></filter>')
SEED = "seed"   # keeps the bench container in place, so each item is its own edit
HOT = "hot"     # the item the delivery test keeps changing


class NcError(Exception):
    pass


class Session:
    """One NETCONF session over its own SSH connection, base:1.0 framing."""

    def __init__(self, port, timeout=30.0):
        self.sock = socket.create_connection((HOST, port), timeout=timeout)
        self.transport = paramiko.Transport(self.sock)
        self.transport.start_client(timeout=timeout)
        if KEY is not None:
            self.transport.auth_publickey(USER, KEY)
        else:
            self.transport.auth_password(USER, PASSWORD)
        self.chan = self.transport.open_session(timeout=timeout)
        self.chan.invoke_subsystem("netconf")
        self.buf = bytearray()
        self.scan = 0          # where the delimiter search resumes in buf
        self.next_id = 0
        hello = self.read_msg(time.monotonic() + timeout)
        if "<hello" not in hello:
            raise NcError(f"no hello from the server: {hello[:200]!r}")
        m = re.search(r"<session-id>(\d+)</session-id>", hello)
        self.session_id = int(m.group(1)) if m else None
        self.send(HELLO)

    def send(self, text):
        self.chan.sendall(text.encode() + EOM)

    def read_msg(self, deadline):
        """The next complete message, or socket.timeout at the deadline."""
        while True:
            i = self.buf.find(EOM, self.scan)
            if i >= 0:
                msg = bytes(self.buf[:i])
                del self.buf[:i + len(EOM)]
                self.scan = 0
                return msg.decode("utf-8", "replace")
            self.scan = max(0, len(self.buf) - len(EOM) + 1)
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("no complete message before the deadline")
            self.chan.settimeout(min(left, 1.0))
            try:
                data = self.chan.recv(1 << 20)
            except socket.timeout:
                continue
            if not data:
                raise EOFError("the server closed the channel")
            self.buf += data

    def rpc(self, body, timeout=300.0):
        """Sends an RPC; returns (reply text, time sent, time reply read)."""
        self.next_id += 1
        mid = str(self.next_id)
        text = f'<rpc message-id="{mid}" xmlns="{BASE_NS}">{body}</rpc>'.encode() + EOM
        t0 = time.perf_counter()
        self.chan.sendall(text)
        deadline = time.monotonic() + timeout
        while True:
            msg = self.read_msg(deadline)
            if "<rpc-reply" in msg and f'message-id="{mid}"' in msg:
                return msg, t0, time.perf_counter()
            # anything else (a notification on an editor session) is ignored

    def rpc_ok(self, body, timeout=300.0):
        reply, t0, t1 = self.rpc(body, timeout)
        if "rpc-error" in reply or "<ok" not in reply:
            raise NcError(f"RPC failed: {reply[:2000]}")
        return t0, t1

    def close(self):
        for f in (self.chan.close, self.transport.close):
            try:
                f()
            except Exception:
                pass


CONFIG_CHANGE_NAMES = ("netconf-config-change", "sysConfigChange")  # RFC 6470, yuma-system


class Notif:
    __slots__ = ("t", "kind", "edits", "creates", "deletes", "replaces", "ops", "first_name", "size")

    def __init__(self, t, text, kind="netconf-config-change"):
        self.t = t
        self.kind = kind
        self.size = len(text)
        self.edits = text.count("<edit>") + text.count("<edit ")
        self.creates = text.count(">create</")
        self.deletes = text.count(">delete</")
        self.replaces = text.count(">replace</")
        self.ops = {}           # operation -> number of edit records carrying it
        for op in re.findall(r"<(?:\w+:)?operation>\s*([\w-]+)\s*</", text):
            self.ops[op] = self.ops.get(op, 0) + 1
        m = re.search(r"name=(?:'|\"|&apos;|&quot;)([^'\"&]+)", text)
        self.first_name = m.group(1) if m else None


class Subscriber:
    """A session that subscribed and a thread that reads its notifications."""

    def __init__(self, port, label, use_filter):
        self.label = label
        self.session = Session(port)
        body = f'<create-subscription xmlns="{NOTIF_NS}">{CONFIG_FILTER if use_filter else ""}</create-subscription>'
        self.session.rpc_ok(body, timeout=30.0)
        self.changes = []       # Notif per config-change read
        self.other = []         # the element names of the other notifications
        self.unexpected = []    # messages that are no notification
        self.error = None
        self.stop = threading.Event()
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._run, name=f"sub-{label}", daemon=True)
        self.thread.start()

    def _run(self):
        try:
            while not self.stop.is_set():
                try:
                    msg = self.session.read_msg(time.monotonic() + 0.5)
                except socket.timeout:
                    continue
                t = time.perf_counter()
                if "<notification" not in msg:
                    self.unexpected.append(msg[:500])
                    continue
                kind = next((k for k in CONFIG_CHANGE_NAMES if k in msg), None)
                if kind:
                    n = Notif(t, msg, kind)
                    with self.cond:
                        self.changes.append(n)
                        self.cond.notify_all()
                else:
                    m = re.search(r"<eventTime>[^<]*</eventTime>\s*<([\w:-]+)", msg)
                    self.other.append(m.group(1) if m else msg[:200])
        except Exception as e:  # EOF, a transport error: recorded, reported
            if not self.stop.is_set():
                self.error = f"{type(e).__name__}: {e}"
        finally:
            with self.cond:
                self.cond.notify_all()

    def wait_for(self, pred, deadline, start=0):
        """The index of the first config-change (from start) pred accepts, or None at the deadline."""
        with self.cond:
            i = start
            while True:
                while i < len(self.changes):
                    if pred(self.changes[i]):
                        return i
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0 or self.error or not self.thread.is_alive():
                    return None
                self.cond.wait(min(left, 0.5))

    def wait_edits(self, start, count, deadline):
        """Waits until the config-changes from start carry count edit records (or the deadline)."""
        with self.cond:
            while sum(n.edits for n in self.changes[start:]) < count:
                left = deadline - time.monotonic()
                if left <= 0 or self.error or not self.thread.is_alive():
                    break
                self.cond.wait(min(left, 0.5))

    def wait_count(self, count, deadline):
        with self.cond:
            while len(self.changes) < count:
                left = deadline - time.monotonic()
                if left <= 0 or self.error or not self.thread.is_alive():
                    break
                self.cond.wait(min(left, 0.5))
            return len(self.changes)

    def close(self):
        self.stop.set()
        self.thread.join(timeout=5)
        self.session.close()


# --- occd -------------------------------------------------------------------

def write_config(tmp, port):
    data = os.path.join(tmp, "data")
    path = os.path.join(tmp, "occd.toml")
    with open(path, "w") as f:
        f.write(f"""data-dir = "{data}"
[log]
level = "warn"
[schema]
search-dirs = ["/work/shared/bench/yang"]
modules = [{{ name = "bench" }}]
[netconf]
listen = "{HOST}:{port}"
idle-timeout-secs = 0
[restconf]
enabled = false
[notifications]
subscriber-queue = 4096
[[users]]
name = "{USER}"
password-hash = "$0${PASSWORD}"
""")
    return path


class Server:
    def __init__(self, binary, cfg, tmp):
        self.stderr_path = os.path.join(tmp, "occd.stderr")
        self.stderr = open(self.stderr_path, "w")
        self.proc = subprocess.Popen([binary, "serve", "-c", cfg], stdout=subprocess.PIPE,
                                     stderr=self.stderr, text=True)
        self.ready = threading.Event()
        self.stdout = []
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self):
        for line in self.proc.stdout:
            self.stdout.append(line.rstrip("\n"))
            if "NETCONF listening on" in line:
                self.ready.set()

    def wait_ready(self, timeout=60.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ready.wait(0.2):
                return
            if self.proc.poll() is not None:
                break
        raise RuntimeError(f"occd did not get ready (exit {self.proc.poll()}):\n{self.log_tail()}")

    def log_tail(self, n=40):
        if not self.stderr.closed:
            self.stderr.flush()
        try:
            with open(self.stderr_path) as f:
                lines = f.read().splitlines()
        except OSError:
            lines = []
        return "\n".join(self.stdout[-n:] + lines[-n:])

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        """SIGTERM, then SIGKILL after 15 s; returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
                return "killed after SIGTERM timed out"
        self.stderr.close()
        return self.proc.returncode


# --- edits --------------------------------------------------------------------

def edit(config_body, extra_ns=""):
    return (f"<edit-config><target><running/></target><config{extra_ns}>"
            f'<bench xmlns="{BENCH_NS}">{config_body}</bench></config></edit-config>')


def create_items(prefix, n):
    return edit("".join(f"<item><name>{prefix}{i}</name><counter>{i}</counter>"
                        f"<descr>entry {i} of {prefix}</descr></item>" for i in range(n)))


def remove_items(prefix, n, op="remove"):
    return edit("".join(f'<item nc:operation="{op}"><name>{prefix}{i}</name></item>' for i in range(n)),
                f' xmlns:nc="{BASE_NS}"')


def set_counter(name, value):
    return edit(f"<item><name>{name}</name><counter>{value}</counter></item>")


def ms(x):
    return round(x * 1000.0, 3)


def pct(vals, p):
    s = sorted(vals)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


# --- test 1 -------------------------------------------------------------------

def shape(notifs):
    """What a run of config-changes looked like: count, kinds, edit records, operations."""
    ops, kinds = {}, {}
    for n in notifs:
        kinds[n.kind] = kinds.get(n.kind, 0) + 1
        for op, c in n.ops.items():
            ops[op] = ops.get(op, 0) + c
    return {"notifications": len(notifs), "kinds": kinds, "edit_records": sum(n.edits for n in notifs),
            "ops": ops, "bytes": sum(n.size for n in notifs)}


def describe(sh):
    if not sh["notifications"]:
        return "no config-change notification received"
    ops = ", ".join(f"{k}={v}" for k, v in sorted(sh["ops"].items())) or "no operation"
    kinds = "/".join(sorted(sh["kinds"]))
    return (f"{sh['notifications']} {kinds} notification{'s' if sh['notifications'] != 1 else ''} with "
            f"{sh['edit_records']} edit records ({ops}, {sh['bytes']} bytes)")


def bench_edit(a, problems):
    strict = not a.external
    editor = Session(a.port)
    shapes = []     # per "with" round: what the subscriber read for the create and the removal
    try:
        editor.rpc_ok(edit(f"<item><name>{SEED}</name><counter>0</counter></item>"
                           f"<item><name>{HOT}</name><counter>0</counter></item>"))
        times = {"without": [], "with": []}
        latency, after_reply = [], []
        rounds = [("warm-up", -1)] + [("without" if i % 2 == 0 else "with", i) for i in range(2 * a.rounds)]
        for mode, i in rounds:
            prefix = f"r{i}-" if i >= 0 else "warm-"
            want = f"{prefix}0"
            sub = Subscriber(a.port, f"edit-{i}", use_filter=False) if mode == "with" else None
            try:
                time.sleep(a.settle)
                body = create_items(prefix, a.entries)
                t0, t1 = editor.rpc_ok(body)
                if mode in times:
                    times[mode].append(t1 - t0)
                line = f"  round {i:>2} {mode:<8} create {ms(t1 - t0):10.1f} ms"
                ci = None
                if sub:
                    # the create's config-change: the first one naming the round's first entry that
                    # deletes nothing (occd: create edits; netconfd: merge edits)
                    ci = sub.wait_for(lambda x: x.first_name == want and x.deletes == 0,
                                      time.monotonic() + a.cap)
                    if ci is None:
                        problems.append(f"edit-10k round {i}: no config-change for the create within "
                                        f"{a.cap}s (subscriber error: {sub.error}, "
                                        f"config-changes read: {len(sub.changes)})")
                editor.rpc_ok(remove_items(prefix, a.entries, a.remove_op))
                if sub:
                    ri = sub.wait_for(lambda x: x.first_name == want and x.deletes > 0,
                                      time.monotonic() + a.cap, 0 if ci is None else ci + 1)
                    if ri is None:
                        problems.append(f"edit-10k round {i}: no config-change for the removal within {a.cap}s")
                    elif not strict:
                        # a server may split a change set over several notifications: bounded wait
                        sub.wait_edits(ri, a.entries, time.monotonic() + min(a.cap, 5.0))
                    with sub.cond:
                        changes = list(sub.changes)
                    created = [] if ci is None else changes[ci:ri if ri is not None else len(changes)]
                    removed = [] if ri is None else changes[ri:]
                    sh = {"round": i, "create": shape(created), "remove": shape(removed),
                          "config_changes_read": len(changes), "other": sorted(set(sub.other))}
                    shapes.append(sh)
                    if created:
                        # the subscriber has read the whole change set with its last piece
                        t_n = max(n.t for n in created)
                        latency.append(t_n - t0)
                        after_reply.append(t_n - t1)
                        line += f"  notified {ms(t_n - t0):10.1f} ms"
                    line += f"  [create: {describe(sh['create'])}; removal: {describe(sh['remove'])}]"
                    if strict:
                        n = created[0] if created else None
                        d = removed[0] if removed else None
                        if n is not None and (n.edits != a.entries or n.creates != a.entries):
                            problems.append(f"edit-10k round {i}: the create's config-change has {n.edits} "
                                            f"<edit>s, {n.creates} create (want {a.entries})")
                        if d is not None and (d.edits != a.entries or d.deletes != a.entries):
                            problems.append(f"edit-10k round {i}: the removal's config-change has {d.edits} "
                                            f"<edit>s, {d.deletes} delete (want {a.entries})")
                        if len(changes) != 2:
                            problems.append(f"edit-10k round {i}: subscriber read {len(changes)} "
                                            f"config-changes, want 2")
                    elif created and sh["create"]["edit_records"] != a.entries:
                        # reported, not a problem: the edit list's shape is the server's choice
                        line += f"  (note: {sh['create']['edit_records']} edit records for {a.entries} entries)"
                    if sub.unexpected:
                        problems.append(f"edit-10k round {i}: non-notification messages: {sub.unexpected[:2]}")
                    if sub.error:
                        problems.append(f"edit-10k round {i}: subscriber: {sub.error}")
                print(line, flush=True)
            finally:
                if sub:
                    sub.close()
    finally:
        editor.close()

    res = []
    med = {}
    for mode in ("without", "with"):
        v = times[mode]
        med[mode] = statistics.median(v)
        res.append({"test": "edit-10k", "mode": mode, "n": a.entries, "rounds": len(v),
                    "median_ms": ms(med[mode]), "min_ms": ms(min(v)), "max_ms": ms(max(v)),
                    "samples_ms": [ms(x) for x in v]})
    ratio = med["with"] / med["without"]
    res.append({"test": "edit-10k", "mode": "ratio", "n": a.entries, "ratio": round(ratio, 3),
                "target": 2.0, "pass": ratio <= 2.0})
    r = {"test": "edit-10k-notify", "mode": "with", "n": a.entries, "rounds": len(latency),
         "with_rounds": len(shapes)}
    if latency:
        r.update({"median_ms": ms(statistics.median(latency)), "max_ms": ms(max(latency)),
                  "after_reply_median_ms": ms(statistics.median(after_reply)),
                  "samples_ms": [ms(x) for x in latency]})
    r["shapes"] = shapes
    res.append(r)
    return res


# --- test 2 -------------------------------------------------------------------

def bench_delivery(a, problems):
    subs = []
    editor = None
    try:
        for k in range(a.subscribers):
            subs.append(Subscriber(a.port, f"d{k}", use_filter=not a.no_filter))
        editor = Session(a.port)
        time.sleep(a.settle)
        # the subscribers' own session-starts reach each other; only config-changes count
        for s in subs:
            with s.cond:
                s.changes.clear()
        base = int(time.time()) % 1000000 * 1000  # counter values no earlier run left in place
        sent = []
        t_first = time.perf_counter()
        deadline = time.monotonic() + a.cap
        for k in range(a.commits):
            if time.monotonic() > deadline:
                problems.append(f"delivery: only {k} of {a.commits} commits within {a.cap}s")
                break
            t0, _ = editor.rpc_ok(set_counter(HOT, base + k + 1), timeout=60.0)
            sent.append(t0)
        t_edits = time.perf_counter()
        want = len(sent)
        counts = [s.wait_count(want, deadline) for s in subs]
        t_last = []
        for s in subs:
            if len(s.changes) >= want:
                t_last.append(s.changes[want - 1].t)
        complete = len(t_last) == len(subs)
        elapsed = (max(t_last) if complete else time.perf_counter()) - t_first
        missed = sum(max(0, want - c) for c in counts)
        extra = sum(max(0, c - want) for c in counts)
        lat = []
        bad_content = 0
        per_notif = {}      # edit records per notification -> how many notifications
        for s in subs:
            for k, n in enumerate(s.changes[:want]):
                if n.edits != 1 or n.replaces != 1:
                    bad_content += 1
                per_notif[n.edits] = per_notif.get(n.edits, 0) + 1
                if len(s.changes) >= want:
                    lat.append(n.t - sent[k])
        sh = shape([n for s in subs for n in s.changes])
        for s in subs:
            if s.error:
                problems.append(f"delivery: subscriber {s.label}: {s.error}")
            if s.unexpected:
                problems.append(f"delivery: subscriber {s.label}: non-notification messages: {s.unexpected[:2]}")
            if s.other and not a.no_filter:
                problems.append(f"delivery: subscriber {s.label} read {len(s.other)} notifications the "
                                f"filter should have dropped: {sorted(set(s.other))}")
        if missed or extra:
            problems.append(f"delivery: per-subscriber config-change counts {counts}, want {want} each")
        if bad_content and not a.external:
            problems.append(f"delivery: {bad_content} config-changes without exactly one replace edit")
        r = {"test": "delivery", "mode": "filter" if not a.no_filter else "no-filter",
             "subscribers": len(subs), "n": want,
             "edit_ms": ms(t_edits - t_first), "commits_per_s": round(want / (t_edits - t_first), 1),
             "elapsed_ms": ms(elapsed), "complete": complete,
             "notifications_per_s": round(sum(min(c, want) for c in counts) / elapsed, 1),
             "missed": missed, "extra": extra, "counts": counts,
             "shape": sh, "edit_records_per_notification": {str(k): v for k, v in sorted(per_notif.items())},
             "without_one_replace": bad_content}
        if lat:
            r.update({"latency_median_ms": ms(statistics.median(lat)), "latency_p99_ms": ms(pct(lat, 99)),
                      "latency_max_ms": ms(max(lat))})
        return [r]
    finally:
        if editor:
            editor.close()
        for s in subs:
            s.close()


# --- main -----------------------------------------------------------------------

def summary(results):
    out = []
    for r in results:
        if r["test"] == "edit-10k" and r["mode"] != "ratio":
            out.append(f"edit {r['n']} entries, {r['mode']:<7} subscriber: median {r['median_ms']:9.1f} ms "
                       f"(min {r['min_ms']:.1f}, max {r['max_ms']:.1f}, {r['rounds']} rounds)")
        elif r["test"] == "edit-10k":
            out.append(f"ratio with/without: {r['ratio']:.3f} (target <= 2: {'PASS' if r['pass'] else 'FAIL'})")
        elif r["test"] == "edit-10k-notify":
            if "median_ms" in r:
                out.append(f"edit sent -> subscriber read its config-change: median {r['median_ms']:.1f} ms, "
                           f"max {r['max_ms']:.1f} ms ({r['after_reply_median_ms']:.1f} ms after the reply; "
                           f"{r['rounds']} of {r['with_rounds']} rounds notified)")
            else:
                out.append(f"edit sent -> subscriber read its config-change: no config-change received "
                           f"in any of {r['with_rounds']} rounds")
            seen = {}
            for sh in r.get("shapes", []):
                k = (describe(sh["create"]), describe(sh["remove"]))
                seen[k] = seen.get(k, 0) + 1
            for (c, d), cnt in seen.items():
                out.append(f"  subscriber read, {cnt} of {r['with_rounds']} rounds: per create {c}; "
                           f"per removal {d}")
        elif r["test"] == "delivery":
            s = (f"delivery, {r['subscribers']} subscribers ({r['mode']}), {r['n']} commits: "
                 f"editor {r['commits_per_s']:.1f} commits/s ({r['edit_ms'] / 1000:.2f} s); all delivered after "
                 f"{r['elapsed_ms'] / 1000:.2f} s -> {r['notifications_per_s']:.1f} notifications/s; "
                 f"missed {r['missed']}, extra {r['extra']}")
            if "latency_median_ms" in r:
                s += (f"; latency median {r['latency_median_ms']:.1f} ms, p99 {r['latency_p99_ms']:.1f} ms, "
                      f"max {r['latency_max_ms']:.1f} ms")
            out.append(s)
            if "shape" in r:
                per = ", ".join(f"{v} with {k}" for k, v in r["edit_records_per_notification"].items())
                out.append(f"  subscribers read in all: {describe(r['shape'])}; edit records per "
                           f"notification: {per or 'none'}")
    return "\n".join(out)


def main():
    global USER, PASSWORD, KEY
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--occd", default="/work/main/target/release/occd")
    ap.add_argument("--port", type=int, default=18931)
    ap.add_argument("--entries", type=int, default=10000)
    ap.add_argument("--rounds", type=int, default=5, help="rounds per mode")
    ap.add_argument("--subscribers", type=int, default=10)
    ap.add_argument("--commits", type=int, default=500)
    ap.add_argument("--cap", type=float, default=120.0, help="seconds to wait for notifications")
    ap.add_argument("--settle", type=float, default=0.5, help="pause before each timed step, seconds")
    ap.add_argument("--no-filter", action="store_true", help="delivery subscribers without a filter")
    ap.add_argument("--out", help="write the JSON lines here instead of stdout")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (config, data, occd log)")
    ap.add_argument("--external", action="store_true",
                    help=f"do not start occd: measure the server already listening on {HOST}:--port")
    ap.add_argument("--user", default=USER, help="SSH/NETCONF user (default %(default)s)")
    ap.add_argument("--password", default=PASSWORD, help="password (default %(default)s)")
    ap.add_argument("--key", help="private key file: publickey auth instead of the password (--external only)")
    ap.add_argument("--label", default="occd", help="server name in the summary and JSON lines")
    ap.add_argument("--remove-op", choices=("remove", "delete"),
                    help="operation of the untimed removal between rounds (default: remove, "
                         "delete with --external)")
    a = ap.parse_args()
    if a.entries < 1 or a.rounds < 1 or a.subscribers < 1 or a.commits < 1:
        ap.error("--entries, --rounds, --subscribers and --commits must be positive")
    if a.key and not a.external:
        ap.error("--key needs --external (the occd this script starts only knows the password)")
    if a.remove_op is None:
        a.remove_op = "delete" if a.external else "remove"
    USER, PASSWORD = a.user, a.password
    if a.key:
        try:
            KEY = paramiko.PKey.from_path(a.key)
        except Exception as e:
            sys.exit(f"{a.key}: cannot load the private key: {type(e).__name__}: {e}")
    if not a.external and not os.access(a.occd, os.X_OK):
        sys.exit(f"{a.occd}: not executable (cargo build --release)")

    tmp = None if a.external else tempfile.mkdtemp(prefix="occd-notif-bench-")
    server = None
    problems = []
    results = []
    status = 0
    try:
        if a.external:
            try:
                socket.create_connection((HOST, a.port), timeout=5.0).close()
            except OSError as e:
                raise RuntimeError(f"nothing accepts connections on {HOST}:{a.port}: {e}")
            print(f"{a.label}: external server on {HOST}:{a.port} (user {USER}, "
                  f"{'key ' + a.key if a.key else 'password'}), removal op {a.remove_op}", flush=True)
        else:
            server = Server(a.occd, write_config(tmp, a.port), tmp)
            server.wait_ready()
            print(f"{a.label}: occd {a.occd} on {HOST}:{a.port}, data in {tmp}", flush=True)
        print(f"edit-10k: {a.entries} entries, {a.rounds} rounds per mode (+1 warm-up)", flush=True)
        results += bench_edit(a, problems)
        print(f"delivery: {a.subscribers} subscribers, {a.commits} commits", flush=True)
        results += bench_delivery(a, problems)
        if server and not server.alive():
            problems.append(f"occd exited during the run: {server.proc.returncode}")
    except Exception as e:
        status = 1
        problems.append(f"aborted: {type(e).__name__}: {e}")
    finally:
        if server:
            rc = server.stop()
            if rc not in (0, -signal.SIGTERM):
                problems.append(f"occd exit status after SIGTERM: {rc}")
            log = server.log_tail()
            if log.strip() and (problems or status):
                print("--- occd output (tail) ---\n" + log, file=sys.stderr)
        if tmp and a.keep:
            print(f"kept {tmp}")
        elif tmp:
            shutil.rmtree(tmp, ignore_errors=True)

    results = [{"label": a.label, **r} for r in results]
    print(f"\n== summary: {a.label} ({a.entries} entries, {a.rounds} rounds per mode, "
          f"{a.subscribers} subscribers, {a.commits} commits) ==")
    print(summary(results))
    for p in problems:
        print(f"PROBLEM: {p}")
    lines = [json.dumps(r) for r in results]
    if a.out:
        with open(a.out, "w") as f:
            f.write("\n".join(lines) + ("\n" if lines else ""))
    else:
        print("\n".join(lines))
    return 1 if status or problems else 0


if __name__ == "__main__":
    sys.exit(main())

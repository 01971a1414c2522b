#!/usr/bin/env python3
"""YANG Patch (RFC 8072) and fields= latency against a RESTCONF server holding
N entries of the harness's bench module (/bench:bench/item=NAME), over one
keep-alive connection, plain HTTP or HTTPS (certificate not verified: the
server's self-signed one).

  bench/rcpatch.py BASE_URL [--n 100000] [--count 1000] [--load] [--user U:P]

--load replaces the bench container with N entries first (one PUT).
Prints JSON lines: test, count, p50/p99/max in ms, bad replies.
"""
import argparse
import base64
import http.client
import json
import ssl
import statistics
import sys
import time
import urllib.parse


def item(name, i):
    return {"name": name, "counter": i, "enabled": i % 2 == 1, "mode": ["fast", "slow", "auto"][i % 3],
            "ratio": f"{i % 1000}.{(i * 7) % 1000:03d}", "descr": f"description of item {i}",
            "tag": [f"t{i % 7}", f"g{i % 11}"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("--n", type=int, default=100000)
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--load", action="store_true")
    ap.add_argument("--user", default="")
    ap.add_argument("--label", default="occd")
    a = ap.parse_args()
    u = urllib.parse.urlsplit(a.base)
    if u.hostname not in ("127.0.0.1", "localhost", "::1"):
        sys.exit("loopback targets only")
    if u.scheme == "https":
        conn = http.client.HTTPSConnection(u.hostname, u.port or 443, timeout=120,
                                           context=ssl._create_unverified_context())
    else:
        conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=120)
    base = u.path.rstrip("/")
    auth = {}
    if a.user:
        auth["Authorization"] = "Basic " + base64.b64encode(a.user.encode()).decode()

    def req(method, path, body=None, ctype="application/yang-data+json"):
        h = dict(auth)
        h["Accept"] = "application/yang-data+json"
        if body is not None:
            h["Content-Type"] = ctype
        t = time.perf_counter()
        conn.request(method, base + path, body=body, headers=h)
        r = conn.getresponse()
        data = r.read()
        return r.status, time.perf_counter() - t, data

    name = lambda i: f"i{i:07d}"
    if a.load:
        doc = {"bench:bench": {"item": [item(name(i), i) for i in range(1, a.n + 1)]}}
        s, t, d = req("PUT", "/data/bench:bench", json.dumps(doc))
        if s not in (201, 204):
            sys.exit(f"load failed: {s} {d[:300]!r}")
        print(json.dumps({"label": a.label, "test": "load", "n": a.n, "s": round(t, 3)}))

    def run(test, make, want):
        times, bad = [], 0
        for k in range(a.count):
            method, path, body, ctype = make(k)
            s, t, d = req(method, path, body, ctype)
            if s != want:
                bad += 1
                if bad == 1:
                    print(f"{test}: {s} {d[:300]!r}", file=sys.stderr)
            times.append(t * 1000)
        times.sort()
        print(json.dumps({"label": a.label, "test": test, "n": a.n, "count": len(times),
                          "p50_ms": round(statistics.median(times), 3),
                          "p99_ms": round(times[int(len(times) * 0.99) - 1], 3),
                          "max_ms": round(times[-1], 3), "bad": bad}))

    yp = "application/yang-patch+json"
    step = max(1, a.n // a.count)

    def one_merge(k):
        i = 1 + (k * step) % a.n
        body = {"ietf-yang-patch:yang-patch": {"patch-id": f"m{k}", "edit": [
            {"edit-id": "1", "operation": "merge", "target": f"/item={name(i)}/counter",
             "value": {"bench:counter": k}}]}}
        return "PATCH", "/data/bench:bench", json.dumps(body), yp

    def three_edits(k):
        new = f"p{k:07d}"
        edits = [{"edit-id": "create", "operation": "create", "target": f"/item={new}",
                  "value": {"bench:item": [item(new, k)]}},
                 {"edit-id": "merge", "operation": "merge", "target": f"/item={new}/descr",
                  "value": {"bench:descr": "patched"}}]
        if k > 0:
            edits.append({"edit-id": "delete", "operation": "delete", "target": f"/item=p{k - 1:07d}"})
        body = {"ietf-yang-patch:yang-patch": {"patch-id": f"c{k}", "edit": edits}}
        return "PATCH", "/data/bench:bench", json.dumps(body), yp

    def fields_get(k):
        i = 1 + (k * step) % a.n
        return "GET", f"/data/bench:bench/item={name(i)}?fields=counter;tag", None, None

    run("yang-patch-1-merge", one_merge, 200)
    run("yang-patch-3-edits", three_edits, 200)
    run("get-one-fields", fields_get, 200)
    req("DELETE", f"/data/bench:bench/item=p{a.count - 1:07d}")


if __name__ == "__main__":
    main()

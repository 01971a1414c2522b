#!/usr/bin/env python3
"""Generate a large, valid OCC configuration document for scale tests.

Usage: gen-scale.py N [--format json|xml]

Prints to stdout a configuration (conventional datastore content) with
exactly N cSCTPs.  Every group of four cSCTPs forms one point-to-point
cSC between a cSU's headquarters cSUI and its data-centre cSUI, split
into a carrier segment and a provider segment that meet at a cSI; each
cSC is sold as one cloud service (alternately NaaS E-Line and IaaS with
the 'gold' SLA profile).  When N is not a multiple of four the remaining
cSCTPs are created unassigned.

Fixed population (independent of N): 5 cSP+cC carriers, 5 cloud
providers, 150 cloud service users, 300 cSUIs and 50 cSIs
(350 interfaces).  Valid for N up to about 250000 (VLAN space of the
cSUIs); checked at 1000, 10000 and 100000.

Standard library only.
"""

import argparse
import json
import sys

CARRIERS = 5
PROVIDERS = 5
CUSTOMERS = 150
CSIS_PER_PAIR = 10

NS = "urn:occd:params:xml:ns:yang:"
GBIT = 1000000000


def carrier(k):
    return "carrier-%d" % k


def provider(q):
    return "provider-%d" % q


def customer(c):
    return "cust-%03d" % c


def hq_if(c):
    return "csui-%03d-hq" % c


def dc_if(c):
    return "csui-%03d-dc" % c


def csi_if(k, j):
    return "csi-%d-%d" % (k, j)


class Builder:
    """Collects the data as plain Python structures (RFC 7951 shaped)."""

    def __init__(self, n):
        self.n = n
        self.groups = n // 4
        self.rest = n % 4
        self.interfaces = {}
        self.order = []
        self.vlan_next = {}

    def interface(self, name, kind, side_a, side_b, speed, max_frame):
        entry = {
            "name": name,
            "kind": "occ-types:" + kind,
            "realization": "occ-types:physical",
            "side-a": {"actor": side_a},
            "side-b": {"actor": side_b},
            "speed": str(speed),
            "max-frame-size": max_frame,
            "max-csctps": 4094,
            "protocol-layer": [
                {"protocol": "occ-types:ethernet-phy"},
                {"protocol": "occ-types:ethernet-mac",
                 "tag-mode": "s-tag" if kind == "csi" else "c-tag"},
            ],
            "csctps": {"csctp": [], "ce-vlan-map": []},
        }
        self.interfaces[name] = entry
        self.order.append(name)
        self.vlan_next[name] = 1

    def csctp(self, ifname, tp_id, csc_id, cir):
        vlan = self.vlan_next[ifname]
        self.vlan_next[ifname] = vlan + 1
        tp = {
            "csctp-id": tp_id,
            "layer": "occ-types:ethernet-mac",
            "ce-vlan": [vlan],
        }
        if csc_id is not None:
            tp["csc"] = csc_id
        if cir is not None:
            tp["ingress-bwp"] = {"cir": str(cir), "cbs": 12000}
        block = self.interfaces[ifname]["csctps"]
        block["csctp"].append(tp)
        block["ce-vlan-map"].append({"vlan-id": vlan, "csctp": tp_id})

    def build(self):
        actors = []
        relationships = []
        for k in range(CARRIERS):
            actors.append({
                "actor-id": carrier(k), "name": "Carrier %d" % k,
                "role": ["occ-types:cloud-service-provider",
                         "occ-types:cloud-carrier"],
                "kind": "operator"})
        for q in range(PROVIDERS):
            actors.append({
                "actor-id": provider(q), "name": "Provider %d" % q,
                "role": ["occ-types:cloud-provider"], "kind": "operator"})
            relationships.append({
                "relationship-id": "host-%d" % q, "supplier": provider(q),
                "customer": carrier(q % CARRIERS), "kind": "hosting"})
        for c in range(CUSTOMERS):
            actors.append({
                "actor-id": customer(c), "name": "Customer %d" % c,
                "role": ["occ-types:cloud-service-user"]})
            relationships.append({
                "relationship-id": "sub-%03d" % c,
                "supplier": carrier(c % CARRIERS), "customer": customer(c),
                "kind": "subscription"})

        for c in range(CUSTOMERS):
            k = c % CARRIERS
            q = c % PROVIDERS
            self.interface(hq_if(c), "csui", customer(c), carrier(k),
                           10 * GBIT, 1522)
            self.interface(dc_if(c), "csui", customer(c), provider(q),
                           10 * GBIT, 1522)
        for k in range(CARRIERS):
            for j in range(CSIS_PER_PAIR):
                self.interface(csi_if(k, j), "csi", carrier(k),
                               provider(k % PROVIDERS), 100 * GBIT, 9216)

        cscs = []
        services = []
        for g in range(self.groups):
            c = g % CUSTOMERS
            k = c % CARRIERS
            q = c % PROVIDERS
            csi = csi_if(k, (g // CUSTOMERS) % CSIS_PER_PAIR)
            csc_id = "csc-%d" % g
            tp = ["tp-%d-a" % g, "tp-%d-x" % g, "tp-%d-y" % g, "tp-%d-b" % g]
            self.csctp(hq_if(c), tp[0], csc_id, 10000000)
            self.csctp(csi, tp[1], csc_id, None)
            self.csctp(csi, tp[2], csc_id, None)
            self.csctp(dc_if(c), tp[3], csc_id, 10000000)
            cscs.append({
                "csc-id": csc_id,
                "csc-type": "occ-types:point-to-point",
                "csp": carrier(k),
                "endpoint": [
                    {"interface": hq_if(c), "csctp": tp[0]},
                    {"interface": dc_if(c), "csctp": tp[3]},
                ],
                "segment": [
                    {"segment-id": "seg-%d-c" % g, "operator": carrier(k),
                     "a-end": {"interface": hq_if(c), "csctp": tp[0]},
                     "z-end": {"interface": csi, "csctp": tp[1]}},
                    {"segment-id": "seg-%d-p" % g, "operator": provider(q),
                     "a-end": {"interface": csi, "csctp": tp[2]},
                     "z-end": {"interface": dc_if(c), "csctp": tp[3]}},
                ],
            })
            svc = {
                "service-id": "svc-%d" % g,
                "csu": customer(c),
                "csp": carrier(k),
                "csc": [csc_id],
            }
            if g % 2 == 0:
                svc["category"] = "occ-types:e-line"
                svc["naas"] = {"committed-rate": "10000000"}
            else:
                svc["category"] = "occ-types:iaas"
                svc["sla-profile"] = "gold"
            services.append(svc)
        for r in range(self.rest):
            self.csctp(hq_if(0), "tp-spare-%d" % r, None, None)

        return {
            "occ-actors:actors": {"actor": actors,
                                  "relationship": relationships},
            "occ-interfaces:interfaces": {
                "interface": [self.interfaces[n] for n in self.order]},
            "occ-connections:connections": {"csc": cscs},
            "occ-services:cloud-services": {
                "sla-profiles": {"sla-profile": [{
                    "name": "gold",
                    "objective": [
                        {"cos": "m", "metric": "occ-types:one-way-frame-delay",
                         "percentile": "99.9", "delay": "10"},
                        {"cos": "m", "metric": "occ-types:frame-loss-ratio",
                         "ratio": "0.001"},
                    ]}]},
                "service": services},
        }


def emit_json(doc, out):
    """RFC 7951: the csctps container belongs to occ-connections."""
    for entry in doc["occ-interfaces:interfaces"]["interface"]:
        block = entry.pop("csctps")
        if block["csctp"]:
            entry["occ-connections:csctps"] = block
    json.dump(doc, out, indent=1)
    out.write("\n")


def esc(value):
    return (str(value).replace("&", "&amp;").replace("<", "&lt;")
            .replace(">", "&gt;"))


def xml_value(key, value, w):
    if isinstance(value, str) and value.startswith("occ-types:"):
        w('<%s xmlns:occt="%socc-types">occt:%s</%s>'
          % (key, NS, value[len("occ-types:"):], key))
    else:
        w("<%s>%s</%s>" % (key, esc(value), key))


def xml_node(key, value, w, ns=None):
    attr = ' xmlns="%s%s"' % (NS, ns) if ns else ""
    if isinstance(value, dict):
        w("<%s%s>" % (key, attr))
        for k, v in value.items():
            if ":" in k:
                mod, name = k.split(":", 1)
                xml_node(name, v, w, mod)
            else:
                xml_node(k, v, w)
        w("</%s>" % key)
    elif isinstance(value, list):
        for item in value:
            xml_node(key, item, w, ns)
    elif attr:
        w("<%s%s>%s</%s>" % (key, attr, esc(value), key))
    else:
        xml_value(key, value, w)


def emit_xml(doc, out):
    w = out.write
    for entry in doc["occ-interfaces:interfaces"]["interface"]:
        block = entry.pop("csctps")
        if block["csctp"]:
            entry["occ-connections:csctps"] = block
    for top, value in doc.items():
        mod, name = top.split(":", 1)
        xml_node(name, value, w, mod)
        w("\n")


def main():
    parser = argparse.ArgumentParser(
        description="Generate a valid OCC configuration with N cSCTPs.")
    parser.add_argument("n", type=int, help="number of cSCTPs")
    parser.add_argument("--format", choices=["json", "xml"], default="json",
                        help="output encoding (default json)")
    args = parser.parse_args()
    if args.n < 0:
        parser.error("N must not be negative")
    if args.n // 4 > CUSTOMERS * 4000 or args.n // 4 > CARRIERS * CSIS_PER_PAIR * 2000:
        parser.error("N too large for the fixed interface population")
    doc = Builder(args.n).build()
    if args.format == "json":
        emit_json(doc, sys.stdout)
    else:
        emit_xml(doc, sys.stdout)


if __name__ == "__main__":
    main()

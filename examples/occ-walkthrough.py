"""The OCC reference scenario through its life over NETCONF, with ncclient:
configure, activate, loop back, take an interface down, read the state,
compute an SLA report, bring it back, suspend, terminate.

    .venv/bin/python examples/occ-walkthrough.py [HOST [PORT [PASSWORD]]]

against `occd serve -c examples/occ-demo.toml` (defaults 127.0.0.1 8830
demo). Each step prints what the server answered; the script stops with an
error at the first unexpected answer."""
import sys
import time

from lxml import etree
from ncclient import manager
from ncclient.operations import RPCError
from ncclient.xml_ import to_ele

host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
port = int(sys.argv[2]) if len(sys.argv) > 2 else 8830
password = sys.argv[3] if len(sys.argv) > 3 else "demo"
root = __file__.rsplit("/examples/", 1)[0] if "/examples/" in __file__ else "."

NS = {
    "s": "urn:occd:params:xml:ns:yang:occ-services",
    "c": "urn:occd:params:xml:ns:yang:occ-connections",
    "i": "urn:occd:params:xml:ns:yang:occ-interfaces",
    "o": "urn:occd:params:xml:ns:yang:occ-oam",
}


def connect():
    return manager.connect(host=host, port=port, username="admin", password=password,
                           hostkey_verify=False, look_for_keys=False, allow_agent=False,
                           timeout=60, device_params={"name": "default"})


def text(reply, xpath):
    found = etree.fromstring(reply.xml.encode()).xpath(xpath, namespaces=NS)
    return ", ".join(f.text or "" for f in found)


def state(m, xpath):
    return text(m.get(), "//" + xpath)


def wait_notification(listener, name):
    for _ in range(50):
        n = listener.take_notification(timeout=10)
        if n is None:
            break
        if "<%s " % name in n.notification_xml or "<%s>" % name in n.notification_xml:
            print("  notification:", name)
            return n.notification_xml
    raise SystemExit("no %s notification" % name)


def action(m, xml):
    return m.dispatch(to_ele('<action xmlns="urn:ietf:params:xml:ns:yang:1">%s</action>' % xml))


m = connect()
listener = connect()
listener.create_subscription()

print("1. configure the reference scenario (yang/occ/examples/scenario.xml)")
with open(root + "/yang/occ/examples/scenario.xml") as f:
    m.edit_config(target="running", config='<config xmlns="urn:ietf:params:xml:ns:netconf:base:1.0">%s</config>' % f.read())
# The scenario's SLM session starts on 2026-12-01; start it now.
m.edit_config(target="running", config="""
<config xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><oam xmlns="urn:occd:params:xml:ns:yang:occ-oam">
 <pm-session><session-id>pm-slm-1-2</session-id>
  <schedule xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0" nc:operation="replace"><start-now/><run-forever/></schedule>
 </pm-session></oam></config>""")
print("  svc-iaas-01:", state(m, "s:service[s:service-id='svc-iaas-01']/s:state/s:lifecycle-state"))

print("2. activate svc-iaas-01")
r = m.dispatch(to_ele('<activate-cloud-service xmlns="%s"><service-id>svc-iaas-01</service-id></activate-cloud-service>' % NS["s"]))
print("  lifecycle-state:", text(r, "//s:lifecycle-state"))
wait_notification(listener, "service-state-change")
print("  csc-001 oper-status:", state(m, "c:csc[c:csc-id='csc-001']/c:state/c:oper-status"))

print("3. loopback from MEP 1 to MEP 2")
r = action(m, '<oam xmlns="%s"><meg><meg-id>meg-csc-001</meg-id><mep><mep-id>1</mep-id>'
              '<loopback><remote-mep-id>2</remote-mep-id><count>10</count></loopback></mep></meg></oam>' % NS["o"])
print("  sent", text(r, "//o:sent"), "received", text(r, "//o:received"), "rtt-avg-us", text(r, "//o:rtt-avg-us"))

print("4. take csui-acme-vm17 down (admin-state locked)")
m.edit_config(target="running", config="""
<config xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><interfaces xmlns="urn:occd:params:xml:ns:yang:occ-interfaces">
 <interface><name>csui-acme-vm17</name><admin-state>locked</admin-state></interface></interfaces></config>""")
wait_notification(listener, "interface-oper-status-change")
wait_notification(listener, "csc-oper-status-change")

print("5. read the state")
print("  csc-001 oper-status:", state(m, "c:csc[c:csc-id='csc-001']/c:state/c:oper-status"),
      "operational-endpoints:", state(m, "c:csc[c:csc-id='csc-001']/c:state/c:operational-endpoints"))
print("  svc-iaas-01 oper-status:", state(m, "s:service[s:service-id='svc-iaas-01']/s:state/s:oper-status"))
r = action(m, '<oam xmlns="%s"><meg><meg-id>meg-csc-001</meg-id><mep><mep-id>1</mep-id>'
              '<loopback><remote-mep-id>2</remote-mep-id><count>5</count></loopback></mep></meg></oam>' % NS["o"])
print("  loopback now: sent", text(r, "//o:sent"), "received", text(r, "//o:received"))

print("6. wait for a PM interval with the cSC down, then the SLA report")
wait_notification(listener, "sla-violation")
r = m.dispatch(to_ele('<compute-sla-report xmlns="%s"><service-id>svc-iaas-01</service-id>'
                      '<from>2020-01-01T00:00:00Z</from><to>2100-01-01T00:00:00Z</to></compute-sla-report>' % NS["o"]))
print("  compliant:", text(r, "//o:compliant"))
for res in etree.fromstring(r.xml.encode()).xpath("//o:result", namespaces=NS):
    get = lambda n: res.findtext("{%s}%s" % (NS["o"], n))
    print("  %-28s objective %-8s achieved %-12s met %s" % (get("metric").split(":")[-1], get("objective"), get("achieved"), get("met")))
try:
    m.dispatch(to_ele('<compute-sla-report xmlns="%s"><service-id>svc-iaas-01</service-id>'
                      '<from>2020-01-01T00:00:00Z</from><to>2020-01-02T00:00:00Z</to></compute-sla-report>' % NS["o"]))
    raise SystemExit("a report over an empty window succeeded")
except RPCError as e:
    print("  empty window refused:", e.tag, e.app_tag)

print("7. bring csui-acme-vm17 back, suspend, terminate")
m.edit_config(target="running", config="""
<config xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><interfaces xmlns="urn:occd:params:xml:ns:yang:occ-interfaces">
 <interface><name>csui-acme-vm17</name><admin-state>unlocked</admin-state></interface></interfaces></config>""")
wait_notification(listener, "interface-oper-status-change")
for mode in ["suspend", "terminate"]:
    r = m.dispatch(to_ele('<deactivate-cloud-service xmlns="%s"><service-id>svc-iaas-01</service-id><mode>%s</mode></deactivate-cloud-service>' % (NS["s"], mode)))
    print("  %s: lifecycle-state %s" % (mode, text(r, "//s:lifecycle-state")))

print("8. activating a terminated service is refused")
try:
    m.dispatch(to_ele('<activate-cloud-service xmlns="%s"><service-id>svc-iaas-01</service-id></activate-cloud-service>' % NS["s"]))
    raise SystemExit("a terminated service was activated")
except RPCError as e:
    print("  refused:", e.tag, e.app_tag, "-", e.message)
print("done")
m.close_session()
listener.close_session()

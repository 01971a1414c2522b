"""ncclient against a running occd: every operation ncclient offers, the
filters, with-defaults and the error attributes it reports. Run by
tests/interop.rs with: HOST PORT PASSWORD KEYFILE SCENARIO_XML."""
import sys

from ncclient import manager
from ncclient.operations import RPCError
from ncclient.xml_ import to_ele

host, port, password, keyfile, scenario_path = sys.argv[1:6]
port = int(port)
ACTORS = "urn:occd:params:xml:ns:yang:occ-actors"
MON = "urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring"


def step(name):
    print("OK", name, flush=True)


def connect(**kw):
    return manager.connect(host=host, port=port, username="admin", hostkey_verify=False,
                           look_for_keys=False, allow_agent=False, timeout=60,
                           device_params={"name": "default"}, **kw)


m = connect(password=password)
assert m.session_id, "no session id"
caps = m.server_capabilities
for c in [":candidate", ":validate", ":xpath", ":with-defaults", ":confirmed-commit",
          ":rollback-on-error", ":startup", ":writable-running"]:
    assert c in caps, c
step("connect and capabilities")

with open(scenario_path) as f:
    scenario = f.read()
config = '<config xmlns="urn:ietf:params:xml:ns:netconf:base:1.0">%s</config>' % scenario

with m.locked("candidate"):
    m.edit_config(target="candidate", config=config, default_operation="merge")
    m.validate(source="candidate")
    m.commit()
step("lock, edit-config candidate, validate, commit, unlock")

r = m.get_config(source="running", filter=("subtree", '<actors xmlns="%s"/>' % ACTORS))
assert "<actor-id>acme</actor-id>" in r.data_xml, r.data_xml
step("get-config subtree filter")

r = m.get_config(source="running", filter=("xpath", ({"a": ACTORS}, "/a:actors/a:actor[a:actor-id='acme']/a:name")))
assert "ACME Corporation" in r.data_xml and "nimbus" not in r.data_xml, r.data_xml
r = m.get_config(source="running", filter=("xpath", "/actors/actor[actor-id='nimbus']"))
assert "nimbus" in r.data_xml and "acme" not in r.data_xml, r.data_xml
step("get-config xpath filter, prefixed and not")

explicit = m.get_config(source="running").data_xml
full = m.get_config(source="running", with_defaults="report-all").data_xml
tagged = m.get_config(source="running", with_defaults="report-all-tagged").data_xml
assert len(full) >= len(explicit), "report-all shorter than explicit"
m.get_config(source="running", with_defaults="trim")
step("with-defaults explicit, report-all, report-all-tagged, trim (%d/%d/%d bytes)" % (len(explicit), len(full), len(tagged)))

dup = ('<config xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><actors xmlns="%s">'
       '<actor xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0" nc:operation="create">'
       '<actor-id>acme</actor-id></actor></actors></config>' % ACTORS)
try:
    m.edit_config(target="running", config=dup)
    raise AssertionError("create of an existing actor must fail")
except RPCError as e:
    assert e.tag == "data-exists", e.tag
    assert e.type == "application", e.type
    assert e.severity == "error", e.severity
    assert "acme" in (e.path or ""), e.path
    assert e.message, "no error-message"
step("error attributes: data-exists, application, error, path, message")

m.raise_mode = 0
r = m.edit_config(target="running", config=dup, error_option="rollback-on-error")
assert not r.ok and r.errors[0].tag == "data-exists"
m.raise_mode = 1
step("rollback-on-error")

m.edit_config(target="running", config=config, test_option="test-only")
step("test-only")

small = ('<config xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><actors xmlns="%s"><actor>'
         '<actor-id>acme</actor-id><name>ACME Renamed</name></actor></actors></config>' % ACTORS)
m.edit_config(target="candidate", config=small)
m.commit(confirmed=True, timeout="120")
assert "ACME Renamed" in m.get_config(source="running").data_xml
m.cancel_commit()
assert "ACME Renamed" not in m.get_config(source="running").data_xml
m.edit_config(target="candidate", config=small)
m.discard_changes()
assert "ACME Renamed" not in m.get_config(source="candidate").data_xml
step("confirmed commit, cancel-commit, discard-changes")

kind = ('<config xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><actors xmlns="%s"><actor>'
        '<actor-id>acme</actor-id><kind xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0" nc:operation="%%s"/>'
        '</actor></actors></config>' % ACTORS)
acme = ("subtree", '<actors xmlns="%s"><actor><actor-id>acme</actor-id></actor></actors>' % ACTORS)
assert "<kind>enterprise</kind>" in m.get_config(source="running", filter=acme).data_xml
m.edit_config(target="running", config=kind % "delete")
assert "<kind>" not in m.get_config(source="running", filter=acme).data_xml
m.edit_config(target="running", config=kind % "remove")
try:
    m.edit_config(target="running", config=kind % "delete")
    raise AssertionError("delete of a missing leaf must fail")
except RPCError as e:
    assert e.tag == "data-missing" and "kind" in (e.path or ""), (e.tag, e.path)
m.edit_config(target="running", config=small.replace("<name>ACME Renamed</name>", "<kind>enterprise</kind>"))
assert "<kind>enterprise</kind>" in m.get_config(source="running", filter=acme).data_xml
step("delete / remove of an enumeration leaf named by an empty element")

m.copy_config(source="running", target="startup")
assert "acme" in m.get_config(source="startup").data_xml
m.delete_config(target="startup")
assert "acme" not in m.get_config(source="startup").data_xml
step("copy-config, delete-config")

r = m.get(filter=("subtree", '<netconf-state xmlns="%s"><schemas/></netconf-state>' % MON))
schemas = r.data_ele.findall(".//{%s}schema" % MON)
fetched = 0
for s in schemas:
    ident = s.find("{%s}identifier" % MON).text
    version = s.find("{%s}version" % MON).text or ""
    fmt = s.find("{%s}format" % MON).text
    if not fmt.endswith("yang"):
        continue
    reply = m.dispatch(to_ele('<get-schema xmlns="%s"><identifier>%s</identifier><version>%s</version></get-schema>'
                              % (MON, ident, version)))
    assert ident in reply.xml, ident
    fetched += 1
assert fetched > 20, fetched
step("get-schema of all %d listed schemas" % fetched)

r = m.get(filter=("subtree", '<modules-state xmlns="urn:ietf:params:xml:ns:yang:ietf-yang-library"/>'))
assert "occ-actors" in r.data_xml
step("modules-state (RFC 7895) for older clients")

NCN = "urn:ietf:params:xml:ns:yang:ietf-netconf-notifications"
assert ":notification" in caps and ":interleave" in caps
before = m.get(filter=("subtree", '<netconf xmlns="urn:ietf:params:xml:ns:netmod:notification"/>')).data_xml
assert "<name>NETCONF</name>" in before and "<replaySupport>true</replaySupport>" in before, before
sub = connect(password=password)
sub.create_subscription(filter=("subtree", '<netconf-config-change xmlns="%s"/>' % NCN))
renamed = small.replace("ACME Renamed", "ACME Notified")
m.edit_config(target="running", config=renamed)
n = sub.take_notification(timeout=20)
assert n is not None, "no config-change notification within 20 s"
x = n.notification_xml
assert "netconf-config-change" in x and "<datastore>running</datastore>" in x, x
assert "<session-id>%s</session-id>" % m.session_id in x, x
assert "actor-id='acme']/" in x and ":name</target><operation>replace</operation>" in x, x
assert sub.get_config(source="running").ok
m.edit_config(target="running", config=small.replace("ACME Renamed", "ACME Corporation"))
step("create_subscription (subtree filter): config-change of the edit, RPCs interleaved")

import datetime
stop = datetime.datetime.now(datetime.timezone.utc).isoformat()
sub2 = connect(password=password)
sub2.create_subscription(stream_name="ietf-netconf-notifications", start_time="2020-01-01T00:00:00Z", stop_time=stop)
seen = []
for _ in range(500):
    n = sub2.take_notification(timeout=20)
    assert n is not None, "replay stalled after %s" % seen[-3:]
    seen.append(n.notification_xml)
    if "notificationComplete" in seen[-1]:
        break
assert any("netconf-config-change" in s and "actor-id='acme']" in s for s in seen), seen[-5:]
assert any("netconf-confirmed-commit" in s and "<confirm-event>cancel</confirm-event>" in s for s in seen), len(seen)
assert "replayComplete" in seen[-2], seen[-2]
step("create_subscription replay window: %d events, replayComplete, notificationComplete" % (len(seen) - 2))
sub.close_session()
sub2.close_session()

m.close_session()
step("close-session")

try:
    connect(password="wrong-" + password)
    raise AssertionError("a wrong password must be refused")
except Exception as e:  # ncclient raises AuthenticationError
    assert "uthentication" in type(e).__name__ + str(e), repr(e)
step("wrong password refused")

k = connect(key_filename=keyfile)
assert "acme" in k.get_config(source="running").data_xml
k.close_session()
step("public-key authentication")

//! The OCC domain layer (`occd::occ`) over both protocols: the reference
//! scenario's service activated, read, looped back, terminated, and the
//! refusals of occ-domain.md §8.2's last paragraph.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use common::nc::Client;
use occd::netconf::Server;
use occd::occ::backend::{Backend as _, Simulator};

const SVC: &str = "urn:occd:params:xml:ns:yang:occ-services";
const OAM: &str = "urn:occd:params:xml:ns:yang:occ-oam";

struct Env {
    server: Arc<Server>,
    sim: Arc<Simulator>,
    port: u16,
    _dir: tempfile::TempDir,
}

/// A server (NACM off) with the OCC domain on a simulator and RESTCONF on a
/// free port, running holding the reference scenario.
async fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let server = common::open_server_in(dir.path());
    let sim = Arc::new(Simulator::new(1));
    occd::occ::install(&server, sim.clone());
    let port = common::restconf_on_free_port(&server, &["admin"]).await;
    let env = Env { server, sim, port, _dir: dir };
    let scenario = std::fs::read_to_string(common::root().join("yang/occ/examples/scenario.xml")).unwrap();
    env.nc()
        .await
        .ok(&format!("<edit-config><target><running/></target><config>{scenario}</config></edit-config>"))
        .await;
    env
}

impl Env {
    async fn nc(&self) -> Client {
        Client::connect_as(&self.server, "admin").await
    }

    async fn http(&self, method: &str, path: &str, body: &str) -> (u16, serde_json::Value) {
        let accept = [("Accept", "application/yang-data+json")];
        let (status, _, body) = common::http_as(self.port, "admin", method, path, &accept, body).await;
        (status, serde_json::from_str(&body).unwrap_or_default())
    }
}

fn activate(id: &str) -> String {
    format!("<activate-cloud-service xmlns=\"{SVC}\"><service-id>{id}</service-id></activate-cloud-service>")
}

fn deactivate(id: &str, mode: &str) -> String {
    format!(
        "<deactivate-cloud-service xmlns=\"{SVC}\"><service-id>{id}</service-id><mode>{mode}</mode></deactivate-cloud-service>"
    )
}

const SERVICE_STATE: &str =
    "<get><filter type=\"subtree\"><cloud-services xmlns=\"urn:occd:params:xml:ns:yang:occ-services\">\
     <service><service-id>svc-iaas-01</service-id><state/></service></cloud-services></filter></get>";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_life_over_netconf() {
    let e = env().await;
    let mut watcher = e.nc().await;
    watcher.ok("<create-subscription xmlns=\"urn:ietf:params:xml:ns:netconf:notification:1.0\"/>").await;
    let mut c = e.nc().await;
    // Configured, not yet active.
    let r = c.rpc(SERVICE_STATE).await;
    assert!(
        r.contains("<lifecycle-state>designed</lifecycle-state>")
            && r.contains("<oper-status>down</oper-status>"),
        "{r}"
    );
    // A dry run changes nothing.
    let dry =
        activate("svc-iaas-01").replace("</activate-cloud-service>", "<dry-run/></activate-cloud-service>");
    let r = c.rpc(&dry).await;
    assert!(r.contains(&format!("<lifecycle-state xmlns=\"{SVC}\">designed</lifecycle-state>")), "{r}");
    // Activate: the reply, the notification, the state.
    let r = c.rpc(&activate("svc-iaas-01")).await;
    assert!(r.contains(&format!("<lifecycle-state xmlns=\"{SVC}\">active</lifecycle-state>")), "{r}");
    let n = watcher.next_containing("service-state-change").await;
    assert!(
        n.contains("<service-id>svc-iaas-01</service-id>")
            && n.contains("<from>designed</from>")
            && n.contains("<to>active</to>")
            && n.contains("<cause>operator-request</cause>"),
        "{n}"
    );
    let r = c.rpc(SERVICE_STATE).await;
    assert!(
        r.contains("<lifecycle-state>active</lifecycle-state>")
            && r.contains("<oper-status>up</oper-status>"),
        "{r}"
    );
    assert!(r.contains("<activated-at>") && r.contains("<history>"), "{r}");
    // Activating an active service changes nothing and announces nothing.
    let r = c.rpc(&activate("svc-iaas-01")).await;
    assert!(r.contains(">active</lifecycle-state>"), "{r}");
    // Loopback from MEP 1 of the cSC's MEG: an action below its list entries.
    let lb = format!(
        "<action xmlns=\"urn:ietf:params:xml:ns:yang:1\"><oam xmlns=\"{OAM}\"><meg><meg-id>meg-csc-001</meg-id>\
         <mep><mep-id>1</mep-id><loopback><remote-mep-id>2</remote-mep-id><count>5</count></loopback></mep></meg></oam></action>"
    );
    let r = c.rpc(&lb).await;
    assert!(r.contains(&format!("<sent xmlns=\"{OAM}\">5</sent>")) && r.contains("<received"), "{r}");
    // On a MEP that does not exist: data-missing, from the server.
    let r = c.err(&lb.replace("<mep-id>1</mep-id>", "<mep-id>9</mep-id>"), "data-missing").await;
    assert!(r.contains("mep"), "{r}");
    // Terminate; then activation is refused with the module's app tag.
    let r = c.rpc(&deactivate("svc-iaas-01", "terminate")).await;
    assert!(r.contains(">terminated</lifecycle-state>"), "{r}");
    let n = watcher.next_containing("service-state-change").await;
    assert!(n.contains("<from>active</from>") && n.contains("<to>terminated</to>"), "{n}");
    let r = c.err(&activate("svc-iaas-01"), "operation-failed").await;
    assert!(r.contains("<error-app-tag>invalid-state-transition</error-app-tag>"), "{r}");
    assert!(r.contains("<error-path") && r.contains("svc-iaas-01"), "{r}");
    let r = c.err(&deactivate("svc-iaas-01", "suspend"), "operation-failed").await;
    assert!(r.contains("invalid-state-transition"), "{r}");
    let r = c.rpc(SERVICE_STATE).await;
    assert!(
        r.contains("<lifecycle-state>terminated</lifecycle-state>")
            && r.contains("<oper-status>down</oper-status>"),
        "{r}"
    );
    // A service that does not exist: the input's leafref, checked by libyang.
    c.err(&activate("svc-nope"), "data-missing").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_life_over_restconf() {
    let e = env().await;
    let op = "/restconf/operations/occ-services:activate-cloud-service";
    let body = r#"{"occ-services:input": {"service-id": "svc-iaas-01"}}"#;
    // The network cannot carry csc-001 while an interface of it is down.
    e.sim.set_interface_down("csui-acme-hq", true);
    let (status, v) = e.http("POST", op, body).await;
    assert_eq!(status, 500, "{v}");
    assert_eq!(v["ietf-restconf:errors"]["error"][0]["error-app-tag"], "csc-not-operational", "{v}");
    e.sim.set_interface_down("csui-acme-hq", false);
    let (status, v) = e.http("POST", op, body).await;
    assert_eq!(
        (status, &v),
        (200, &serde_json::json!({"occ-services:output": {"lifecycle-state": "active"}}))
    );
    let state = "/restconf/data/occ-services:cloud-services/service=svc-iaas-01/state";
    let (status, v) = e.http("GET", state, "").await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["occ-services:state"]["lifecycle-state"], "active", "{v}");
    assert_eq!(v["occ-services:state"]["oper-status"], "up", "{v}");
    let lb = "/restconf/data/occ-oam:oam/meg=meg-csc-001/mep=2/loopback";
    let (status, v) = e.http("POST", lb, r#"{"occ-oam:input": {"remote-mep-id": 1}}"#).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["occ-oam:output"]["sent"], 3, "the default count: {v}");
    let op = "/restconf/operations/occ-services:deactivate-cloud-service";
    let (status, v) = e.http("POST", op, r#"{"occ-services:input": {"service-id": "svc-iaas-01"}}"#).await;
    assert_eq!(
        (status, &v),
        (200, &serde_json::json!({"occ-services:output": {"lifecycle-state": "inactive"}}))
    );
    let (_, v) = e.http("GET", state, "").await;
    assert_eq!(v["occ-services:state"]["oper-status"], "down", "{v}");
    assert_eq!(v["occ-services:state"]["history"].as_array().map(Vec::len), Some(2), "{v}");
}

/// A service's lifecycle is kept beside the datastores: after a restart an
/// active service is active again, its cSC set up again in the backend.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = std::fs::read_to_string(common::root().join("yang/occ/examples/scenario.xml")).unwrap();
    {
        let server = common::open_server_in(dir.path());
        occd::occ::install(&server, Arc::new(Simulator::new(1)));
        let mut c = Client::connect_as(&server, "admin").await;
        c.ok(&format!("<edit-config><target><running/></target><config>{scenario}</config></edit-config>"))
            .await;
        let r = c.rpc(&activate("svc-iaas-01")).await;
        assert!(r.contains(">active</lifecycle-state>"), "{r}");
    }
    assert!(dir.path().join("occ-services-state.json").exists());
    let server = common::open_server_in(dir.path());
    let sim = Arc::new(Simulator::new(1));
    occd::occ::install(&server, sim.clone());
    assert!(sim.csc_set_up("csc-001"), "the active service's cSC is set up again");
    let mut c = Client::connect_as(&server, "admin").await;
    let r = c.rpc(SERVICE_STATE).await;
    assert!(
        r.contains("<lifecycle-state>active</lifecycle-state>")
            && r.contains("<oper-status>up</oper-status>")
            && r.contains("<to>active</to>"),
        "{r}"
    );
    // A damaged file is reported and ignored: services start designed.
    drop(c);
    drop(server);
    std::fs::write(dir.path().join("occ-services-state.json"), "{not json").unwrap();
    let server = common::open_server_in(dir.path());
    occd::occ::install(&server, Arc::new(Simulator::new(1)));
    let r = Client::connect_as(&server, "admin").await.rpc(SERVICE_STATE).await;
    assert!(r.contains("<lifecycle-state>designed</lifecycle-state>"), "{r}");
}

//! The generated types against libyang: every valid example document goes
//! JSON → generated types → JSON, and libyang's canonical print of the
//! result equals its print of the original. Property tests round-trip
//! random values of every module's types through the JSON encoding.

use std::path::{Path, PathBuf};
use std::process::Command;

use proptest::prelude::*;
use yang3::context::Context;
use yang3::data::{Data as _, DataFormat, DataParserFlags, DataPrinterFlags, DataTree, DataValidationFlags};

use super::rt::{Arb, Document, Gen, Json, Operation as _, Value as _};
use super::*;
use crate::schema::{LoadOptions, ModuleSpec, Schema};

/// The server's default module set, as `occd serve` loads it.
fn schema() -> Schema {
    match Schema::load(&crate::config::Config::default().load_options(&[], &[])) {
        Ok(s) => s,
        Err(e) => panic!("schema: {e}"),
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn print(tree: &DataTree<'_>) -> String {
    match tree.print_string(DataFormat::JSON, DataPrinterFlags::WITH_SIBLINGS) {
        Ok(s) => s,
        Err(e) => panic!("print: {e}"),
    }
}

fn try_parse<'a>(ctx: &'a Context, text: &str, format: DataFormat) -> Result<DataTree<'a>, yang3::Error> {
    DataTree::parse_string(
        ctx,
        text,
        format,
        DataParserFlags::STRICT | DataParserFlags::NO_VALIDATION,
        DataValidationFlags::empty(),
    )
}

fn parse<'a>(ctx: &'a Context, text: &str, format: DataFormat, what: &str) -> DataTree<'a> {
    match try_parse(ctx, text, format) {
        Ok(t) => t,
        Err(e) => panic!("{what}: libyang does not parse it: {e}"),
    }
}

/// libyang's canonical JSON of `text`, then through the generated types
/// and back: both prints must be equal.
fn round_trip(ctx: &Context, text: &str, format: DataFormat, what: &str) -> AllData {
    let canonical = print(&parse(ctx, text, format, what));
    let v: Json = match serde_json::from_str(&canonical) {
        Ok(v) => v,
        Err(e) => panic!("{what}: {e}"),
    };
    let doc = match AllData::from_json(&v) {
        Ok(d) => d,
        Err(e) => panic!("{what}: generated types refuse libyang's print: {e}"),
    };
    let again = doc.to_json().to_string();
    let reprinted = print(&parse(ctx, &again, DataFormat::JSON, what));
    assert_eq!(canonical, reprinted, "{what}: round trip through the generated types changed the data");
    // Through a tree as well.
    let tree = match doc.to_tree(ctx) {
        Ok(t) => t,
        Err(e) => panic!("{what}: to_tree: {e}"),
    };
    match AllData::from_tree(&tree) {
        Ok(d) => assert_eq!(d.to_json(), doc.to_json(), "{what}: from_tree"),
        Err(e) => panic!("{what}: from_tree: {e}"),
    }
    doc
}

fn read(p: &Path) -> String {
    match std::fs::read_to_string(p) {
        Ok(s) => s,
        Err(e) => panic!("{}: {e}", p.display()),
    }
}

#[test]
fn occ_examples_round_trip() {
    let s = schema();
    let ctx = s.context();
    let ex = root().join("yang/occ/examples");
    let mut seen = 0;
    for name in ["scenario.xml", "scenario.json", "scenario-operational.xml"] {
        let format = if name.ends_with(".json") { DataFormat::JSON } else { DataFormat::XML };
        let doc = round_trip(ctx, &read(&ex.join(name)), format, name);
        assert!(!doc.occ_connections.connections.csc.is_empty(), "{name}: no cSC read");
        seen += 1;
    }
    // The invalid examples that break rules rather than types round-trip
    // too (libyang's parser refuses the others before any type of ours).
    let mut invalid: Vec<PathBuf> = std::fs::read_dir(ex.join("invalid"))
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    invalid.retain(|p| p.extension().is_some_and(|x| x == "xml" || x == "json"));
    invalid.sort();
    assert!(invalid.len() > 20, "invalid examples not found");
    for p in &invalid {
        let format =
            if p.extension().is_some_and(|x| x == "json") { DataFormat::JSON } else { DataFormat::XML };
        let text = read(p);
        if try_parse(ctx, &text, format).is_ok() {
            round_trip(ctx, &text, format, &p.display().to_string());
            seen += 1;
        }
    }
    // A scale fixture, made by the script.
    let out =
        Command::new("python3").arg(ex.join("gen-scale.py")).args(["1000", "--format", "json"]).output();
    match out {
        Ok(o) if o.status.success() => {
            let doc = round_trip(ctx, &String::from_utf8_lossy(&o.stdout), DataFormat::JSON, "scale 1000");
            let csctps: usize = doc
                .occ_interfaces
                .interfaces
                .interface
                .values()
                .map(|i| i.occ_connections_csctps.csctp.len())
                .sum();
            assert_eq!(csctps, 1000);
        }
        other => panic!("gen-scale.py: {other:?}"),
    }
    assert!(seen > 20);
}

#[test]
fn standard_examples_round_trip() {
    let s = schema();
    let ctx = s.context();
    let nacm = read(&root().join("src/nacm/default-rules.xml"));
    let doc = round_trip(ctx, &nacm, DataFormat::XML, "nacm default rules");
    assert_eq!(doc.ietf_netconf_acm.nacm.groups.group.len(), 2);
    // libyang's own yang-library data of the server's context.
    let raw = match crate::schema::ffi::yanglib_data(ctx, "1") {
        Ok(r) => r,
        Err(e) => panic!("yanglib: {e}"),
    };
    // SAFETY: `raw` is the tree just made, freed once here.
    let text = unsafe {
        let t = crate::schema::ffi::print_mem(raw, true, yang3::data::DataPrinterFlags::WITH_SIBLINGS.bits());
        crate::schema::ffi::free_siblings(raw);
        t
    };
    let text = match text {
        Ok(t) => t,
        Err(e) => panic!("yanglib print: {e}"),
    };
    let doc = round_trip(ctx, &text, DataFormat::JSON, "yang-library");
    assert!(doc
        .ietf_yang_library
        .yang_library
        .module_set
        .values()
        .any(|m| m.module.contains_key(&typedefs::YangIdentifier::from("occ-connections"))));
}

#[test]
fn valid_and_invalid_documents() {
    let s = schema();
    let ctx = s.context();
    let ex = root().join("yang/occ/examples");
    let v: Json = match serde_json::from_str(&read(&ex.join("scenario.json"))) {
        Ok(v) => v,
        Err(e) => panic!("{e}"),
    };
    let mut doc = match AllData::from_json(&v) {
        Ok(d) => d,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(doc.validate(ctx), Ok(()));
    // A cSC whose endpoint names a missing cSCTP: libyang's error, with
    // the rule's app tag, comes back structured.
    let Some(csc) = doc.occ_connections.connections.csc.values_mut().next() else { panic!("no cSC") };
    let ep = occ_connections::connections::csc::Endpoint::new("no-such-interface", "tp-x");
    csc.endpoint.insert(ep.key(), ep);
    let errs = match doc.validate(ctx) {
        Err(e) => e,
        Ok(()) => panic!("an endpoint on a missing cSCTP validated"),
    };
    assert!(errs.iter().all(|e| e.path.starts_with('/')), "{errs:?}");
    assert!(errs.iter().any(|e| e.path.contains("occ-connections:connections/csc")), "{errs:?}");
    // A value the types refuse never reaches libyang.
    let bad = serde_json::json!({"occ-connections:connections": {"csc": [{"csc-id": 5}]}});
    let e = AllData::from_json(&bad).err();
    assert!(e.is_some_and(|e| e.path.contains("csc-id")));
    let unknown = serde_json::json!({"occ-connections:connections": {"nope": 1}});
    assert!(AllData::from_json(&unknown).is_err());
}

#[test]
fn path_builders_and_constants() {
    let p = occ_connections::connections().csc("csc-001").endpoint("if-hq", "tp-1");
    assert_eq!(
        p.0,
        "/occ-connections:connections/csc[csc-id='csc-001']/endpoint[interface='if-hq'][csctp='tp-1']"
    );
    assert_eq!(occ_connections::connections::Csc::SCHEMA_PATH, "/occ-connections:connections/csc");
    let ep = occ_interfaces::interfaces().interface("if-1").occ_connections_csctps().csctp("tp'1");
    assert_eq!(
        ep.0,
        "/occ-interfaces:interfaces/interface[name='if-1']/occ-connections:csctps/csctp[csctp-id=\"tp'1\"]"
    );
    // A path the builder makes is one libyang resolves.
    let s = schema();
    let ctx = s.context();
    let text = read(&root().join("yang/occ/examples/scenario.json"));
    let tree = parse(ctx, &text, DataFormat::JSON, "scenario");
    let Some((id, _)) = AllData::from_tree(&tree)
        .ok()
        .and_then(|d| d.occ_connections.connections.csc.first().map(|(k, v)| (k.clone(), v.clone())))
    else {
        panic!("no cSC")
    };
    let path = occ_connections::connections().csc(id.clone()).0;
    assert!(tree.find_path(&path).is_ok(), "{path} not found");
}

#[test]
fn defaults_and_values() {
    use occ_connections::connections::Csc;
    assert_eq!(Csc::DEFAULT_COS_LABEL, ["m"]);
    let mut c = Csc::new("csc-9");
    c.apply_defaults();
    assert_eq!(c.cos_label.iter().map(|l| l.to_text()).collect::<Vec<_>>(), ["m"]);
    let mut c = occ_connections::connections::Csc::new("csc-9");
    assert!(c.admin_state.is_none());
    c.apply_defaults();
    assert_eq!(
        c.admin_state.map(|v| v.to_text()).as_deref(),
        Some(occ_connections::connections::Csc::DEFAULT_ADMIN_STATE)
    );
}

/// Every module's top level, random values: JSON → types → JSON is stable.
macro_rules! arb_round_trip {
    ($($m:ident),*) => {
        proptest! {
            #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
            $(
                #[test]
                fn $m(seed in any::<u64>()) {
                    let mut g = Gen::new(seed);
                    let v: $m::Data = Arb::arb(&mut g);
                    let j = Document::to_json(&v);
                    let back = match <$m::Data as Document>::from_json(&j) {
                        Ok(b) => b,
                        Err(e) => return Err(TestCaseError::fail(format!("{e}: {j}"))),
                    };
                    prop_assert_eq!(Document::to_json(&back), j);
                }
            )*
        }
    };
}

mod arb {
    use super::*;
    arb_round_trip!(
        occ_types,
        occ_actors,
        occ_interfaces,
        occ_connections,
        occ_services,
        occ_nfv,
        occ_lso,
        occ_oam,
        ietf_netconf_acm,
        ietf_yang_library
    );

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
        #[test]
        fn rpc_input(seed in any::<u64>()) {
            let mut g = Gen::new(seed);
            let v: occ_services::activate_cloud_service::Input = Arb::arb(&mut g);
            let j = v.to_json();
            let back = occ_services::activate_cloud_service::Input::from_json(&j);
            prop_assert!(back.is_ok(), "{:?}", back);
            prop_assert_eq!(back.map(|b| b.to_json()).ok(), Some(j));
        }
    }
}

/// The golden module (every construct): its example document round-trips,
/// validates, and the values read are the typed ones.
#[test]
#[allow(deprecated)]
fn golden_example_round_trip() {
    use example::cg_example;
    let dir = root().join("codegen/tests/fixtures");
    let modules = ["cg-example".to_string(), "cg-augment".to_string()];
    let opts = LoadOptions {
        search_dirs: vec![dir.clone()],
        embedded: false,
        protocol_modules: false,
        modules: modules
            .iter()
            .map(|m| ModuleSpec { name: m.clone(), revision: None, features: vec!["*".into()] })
            .collect(),
    };
    let schema = match Schema::load(&opts) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    let ctx = schema.context();
    let text = read(&dir.join("cg-example.json"));
    let canonical = print(&parse(ctx, &text, DataFormat::JSON, "cg-example"));
    let v: Json = match serde_json::from_str(&canonical) {
        Ok(v) => v,
        Err(e) => panic!("{e}"),
    };
    let doc = match example::AllData::from_json(&v) {
        Ok(d) => d,
        Err(e) => panic!("{e}"),
    };
    let again = print(&parse(ctx, &doc.to_json().to_string(), DataFormat::JSON, "again"));
    assert_eq!(canonical, again);
    assert_eq!(doc.validate(ctx), Ok(()));
    let s = &doc.cg_example.settings;
    assert_eq!(s.r#type, Some(cg_example::settings::Type::V10G));
    assert_eq!(s.foo_bar, Some(-9_000_000_000));
    assert_eq!(s.foo_bar2, Some(18_000_000_000_000_000_000));
    assert_eq!(s.ratio, Some(example::typedefs::Percent(rt::Decimal64(9905))));
    assert!(s.flags.is_some_and(|f| f.up && f.down));
    assert_eq!(s.blob, Some(rt::Binary(vec![1, 2, 3])));
    assert_eq!(s.enabled, Some(rt::Empty));
    assert_eq!(s.transport, Some(example::identities::Transport::Radio));
    assert_eq!(s.id, Some(example::typedefs::NameOrNumber::Uint32(42)));
    assert_eq!(s.tags, ["b", "a", "c"]);
    assert_eq!(s.self_.as_deref(), Some("me"));
    assert_eq!(s.cg_augment_self.as_deref(), Some("them"));
    assert!(s.debug.is_some());
    let keys: Vec<_> = doc.cg_example.link.keys().map(|k| (k.a_end.as_str(), k.z_end.as_str())).collect();
    assert_eq!(keys, [("x", "y"), ("y", "x"), ("a", "b")], "user order kept");
    let l = &doc.cg_example.link[1];
    assert!(matches!(&l.medium, Some(cg_example::link::Medium::Copper(c)) if c.pairs == Some(4)));
    // Defaults: leaves, leaf-lists, and the default case when no case is
    // chosen (RFC 7950 §7.9.3); a chosen case stays.
    let mut d = doc.clone();
    d.cg_example.settings.r#type = None;
    d.cg_example.settings.ratio = None;
    d.apply_defaults();
    assert_eq!(d.cg_example.settings.r#type, Some(cg_example::settings::Type::Safe));
    assert_eq!(d.cg_example.settings.ratio, Some(example::typedefs::Percent(rt::Decimal64(1250))));
    assert_eq!(d.cg_example.settings.codes, ["a", "b"]);
    let Some(third) = d.cg_example.link.get_index(2).map(|(_, v)| v) else { panic!("no third link") };
    assert!(
        matches!(&third.medium, Some(cg_example::link::Medium::Fibre(f)) if f.wavelength == Some(1550)),
        "{:?}",
        third.medium
    );
    assert!(matches!(&d.cg_example.link[1].medium, Some(cg_example::link::Medium::Copper(_))));
    // libyang agrees: the defaults it adds when validating are the ones set.
    let mut plain = doc.clone();
    plain.cg_example.settings.r#type = None;
    plain.cg_example.settings.ratio = None;
    let mut with = plain.clone();
    with.apply_defaults();
    assert_eq!(with.validate(ctx), Ok(()));
    // serde: the same RFC 7951 JSON.
    let text = match serde_json::to_string(&doc) {
        Ok(t) => t,
        Err(e) => panic!("{e}"),
    };
    let back: example::AllData = match serde_json::from_str(&text) {
        Ok(b) => b,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(back, doc);
    assert!(serde_json::from_str::<example::AllData>(r#"{"cg-example:settings": {"ratio": 5}}"#).is_err());
    // Operations.
    let input = cg_example::ping::Input { target: Some("x".into()) };
    assert_eq!(input.to_json(), serde_json::json!({"cg-example:ping": {"target": "x"}}));
    let tree = match rt::Operation::to_tree(&input, ctx) {
        Ok(t) => t,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(<cg_example::ping::Input as rt::Operation>::from_tree(&tree), Ok(input.clone()));
    assert_eq!(serde_json::to_value(&input).ok(), Some(input.to_json()));
    let alarm = cg_example::Alarm { severity: Some(cg_example::alarm::Severity::Major) };
    assert!(rt::Operation::to_tree(&alarm, ctx).is_ok());
    // An action on a two-key list entry: parents, input and reply.
    let at = cg_example::link("x", "y");
    let reset = cg_example::link::reset::Input { hard: Some(true) };
    let tree = match rt::Operation::to_tree_at(&reset, ctx, &at.0) {
        Ok(t) => t,
        Err(e) => panic!("{e}"),
    };
    let parents = cg_example::link::reset::Parents::from_tree(&tree).map(|p| p.link);
    assert_eq!(parents, Ok(cg_example::LinkKey { a_end: "x".into(), z_end: "y".into() }));
    assert_eq!(<cg_example::link::reset::Input as rt::Operation>::from_tree(&tree), Ok(reset));
    let done = cg_example::link::reset::Output { done: Some(true) };
    let reply = rt::Operation::reply_xml(&done, ctx, &tree, None);
    assert_eq!(reply.as_deref(), Ok("<done xmlns=\"urn:occd:params:xml:ns:yang:cg-example\">true</done>"));
    let flapped = cg_example::link::Flapped { count: Some(2) };
    let tree = match rt::Operation::to_tree_at(&flapped, ctx, &at.0) {
        Ok(t) => t,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(<cg_example::link::Flapped as rt::Operation>::from_tree(&tree), Ok(flapped));
    assert_eq!(cg_example::link::FlappedParents::from_tree(&tree).map(|p| p.link.z_end), Ok("y".into()));
    assert_eq!(cg_example::link("x", "y").0, "/cg-example:link[a-end='x'][z-end='y']");
    assert_eq!(cg_example::settings().cg_augment_self(), "/cg-example:settings/cg-augment:self");
    // Random values of the golden types round-trip through JSON.
    for seed in 0..200 {
        let mut g = Gen::new(seed);
        let v: cg_example::Data = Arb::arb(&mut g);
        let j = Document::to_json(&v);
        match <cg_example::Data as Document>::from_json(&j) {
            Ok(b) => assert_eq!(Document::to_json(&b), j),
            Err(e) => panic!("seed {seed}: {e}: {j}"),
        }
    }
}

fn op_tree<'a>(ctx: &'a Context, xml: &str, op: yang3::data::DataOperation) -> DataTree<'a> {
    match DataTree::parse_op_string(ctx, xml, DataFormat::XML, op) {
        Ok(t) => t,
        Err(e) => panic!("libyang does not parse {xml}: {e}"),
    }
}

/// An action as a handler is given it (input below its parents): typed
/// input and parents read from the tree, the input rebuilt below the same
/// parents prints as libyang printed the original, and the typed output
/// becomes reply XML that libyang parses back into the same output.
#[test]
fn action_input_parents_and_reply() {
    use occ_oam::oam::meg::mep::loopback::{input::Target, Input, Output, Parents};
    use yang3::data::DataOperation;
    let s = schema();
    let ctx = s.context();
    let xml = "<oam xmlns=\"urn:occd:params:xml:ns:yang:occ-oam\"><meg><meg-id>meg-1</meg-id><mep><mep-id>7</mep-id>\
               <loopback><remote-mep-id>2</remote-mep-id><count>5</count></loopback></mep></meg></oam>";
    let tree = op_tree(ctx, xml, DataOperation::RpcYang);
    let input = match Input::from_tree(&tree) {
        Ok(i) => i,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(input.count, Some(5));
    assert!(
        matches!(&input.target, Some(Target::RemoteMep(r)) if r.remote_mep_id.as_ref().map(|m| m.to_text()).as_deref() == Some("2"))
    );
    let parents = match Parents::from_tree(&tree) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    };
    assert_eq!((parents.meg.to_text(), parents.mep.to_text()), ("meg-1".to_string(), "7".to_string()));
    // Rebuilt below the parents named by the path builders.
    let at = occ_oam::oam().meg(parents.meg.clone()).mep(parents.mep.clone());
    let rebuilt = match input.to_tree_at(ctx, &at.0) {
        Ok(t) => t,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(print(&rebuilt), print(&tree));
    // The reply, as the handler returns it.
    let out = Output {
        sent: Some(5),
        received: Some(4),
        rtt_avg_us: rt::Value::from_text("12.5").ok(),
        ..Default::default()
    };
    let reply = match out.reply_xml(ctx, &tree, None) {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    };
    assert!(reply.contains("<sent xmlns=\"urn:occd:params:xml:ns:yang:occ-oam\">5</sent>"), "{reply}");
    let wrapped = format!(
        "<oam xmlns=\"urn:occd:params:xml:ns:yang:occ-oam\"><meg><meg-id>meg-1</meg-id><mep><mep-id>7</mep-id>\
         <loopback>{reply}</loopback></mep></meg></oam>"
    );
    let back = Output::from_tree(&op_tree(ctx, &wrapped, DataOperation::ReplyYang));
    assert_eq!(back, Ok(out.clone()));
    // Output that libyang refuses (a mandatory leaf missing) is an error,
    // not a reply.
    let bad = Output { sent: None, ..out };
    assert!(bad.reply_xml(ctx, &tree, None).is_err());
}

/// A top-level RPC's reply, and a nested notification built below its
/// parents and read back with them.
#[test]
fn rpc_reply_and_nested_notification() {
    use occ_interfaces::interfaces::interface::physical::{LagMemberDown, LagMemberDownParents};
    use yang3::data::DataOperation;
    let s = schema();
    let ctx = s.context();
    let input = op_tree(
        ctx,
        "<cancel-service-order xmlns=\"urn:occd:params:xml:ns:yang:occ-lso\"><order-id>o-1</order-id></cancel-service-order>",
        DataOperation::RpcYang,
    );
    let parsed =
        occ_lso::cancel_service_order::Input::from_tree(&input).map(|i| i.order_id.map(|o| o.to_text()));
    assert_eq!(parsed, Ok(Some("o-1".into())));
    let out = occ_lso::cancel_service_order::Output { state: rt::Value::from_text("cancelled").ok() };
    assert_eq!(
        out.reply_xml(ctx, &input, None),
        Ok("<state xmlns=\"urn:occd:params:xml:ns:yang:occ-lso\">cancelled</state>".to_string())
    );
    // Its mandatory leaf missing: libyang's error, not a reply.
    let bad = occ_lso::cancel_service_order::Output::default().reply_xml(ctx, &input, None);
    assert!(bad.is_err_and(|e| e.message.contains("Mandatory node")));

    let n = LagMemberDown { port_id: Some("p-3".into()) };
    let at = occ_interfaces::interfaces().interface("if-hq").physical();
    let xml = match n.to_xml(ctx, &at.0) {
        Ok(x) => x,
        Err(e) => panic!("{e}"),
    };
    assert!(xml.contains("<name>if-hq</name>") && xml.contains("<port-id>p-3</port-id>"), "{xml}");
    let tree = op_tree(ctx, &xml, DataOperation::NotificationYang);
    assert_eq!(LagMemberDown::from_tree(&tree), Ok(n));
    assert_eq!(
        LagMemberDownParents::from_tree(&tree).map(|p| p.interface.to_text()),
        Ok("if-hq".to_string())
    );
    // Parents a tree does not have: an error naming the operation.
    assert!(occ_oam::oam::meg::mep::loopback::Parents::from_tree(&tree).is_err());
}

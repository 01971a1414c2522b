//! The error tables of `occd::error`: every RFC 6241 tag with its types and
//! RFC 8040 status; every RFC 7950 §15 mapping from real libyang output (the
//! OCC invalid examples and a small test module); golden renderings of
//! `<rpc-error>` and RESTCONF errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::root;
use occd::check::{DocFormat, DocKind};
use occd::error::{check_text, Error, ErrorInfo, ErrorTag, ErrorType, Errors, Severity};
use occd::schema::Schema;

// --- Tables --------------------------------------------------------------------

#[test]
fn every_tag_has_its_name_types_and_status() {
    use ErrorType::{Application as A, Protocol as P, Rpc as R, Transport as T};
    // RFC 6241 Appendix A; RFC 8040 §7.
    #[rustfmt::skip]
    let table: &[(ErrorTag, &str, &[ErrorType], &[u16])] = &[
        (ErrorTag::InUse, "in-use", &[P, A], &[409]),
        (ErrorTag::InvalidValue, "invalid-value", &[P, A], &[400, 404, 406, 415]),
        (ErrorTag::TooBig, "too-big", &[T, R, P, A], &[413, 400]),
        (ErrorTag::MissingAttribute, "missing-attribute", &[R, P, A], &[400]),
        (ErrorTag::BadAttribute, "bad-attribute", &[R, P, A], &[400]),
        (ErrorTag::UnknownAttribute, "unknown-attribute", &[R, P, A], &[400]),
        (ErrorTag::MissingElement, "missing-element", &[P, A], &[400]),
        (ErrorTag::BadElement, "bad-element", &[P, A], &[400]),
        (ErrorTag::UnknownElement, "unknown-element", &[P, A], &[400]),
        (ErrorTag::UnknownNamespace, "unknown-namespace", &[P, A], &[400]),
        (ErrorTag::AccessDenied, "access-denied", &[P, A], &[403, 401]),
        (ErrorTag::LockDenied, "lock-denied", &[P], &[409]),
        (ErrorTag::ResourceDenied, "resource-denied", &[T, R, P, A], &[409]),
        (ErrorTag::RollbackFailed, "rollback-failed", &[P, A], &[500]),
        (ErrorTag::DataExists, "data-exists", &[A], &[409]),
        // 404: RFC 8072 erratum 5131 (a YANG Patch delete/move of missing data).
        (ErrorTag::DataMissing, "data-missing", &[A], &[409, 404]),
        (ErrorTag::OperationNotSupported, "operation-not-supported", &[P, A], &[501, 405]),
        (ErrorTag::OperationFailed, "operation-failed", &[R, P, A], &[500, 412]),
        (ErrorTag::PartialOperation, "partial-operation", &[A], &[500]),
        (ErrorTag::MalformedMessage, "malformed-message", &[R], &[400]),
    ];
    assert_eq!(table.len(), ErrorTag::ALL.len());
    for (tag, name, types, statuses) in table {
        assert_eq!(tag.as_str(), *name);
        assert_eq!(ErrorTag::from_name(name), Some(*tag));
        assert_eq!(tag.allowed_types(), *types, "{name}");
        assert_eq!(tag.http_statuses(), *statuses, "{name}");
        assert_eq!(tag.http_status(), statuses[0], "{name}");
    }
    let names: Vec<&str> = ErrorType::ALL.iter().map(|t| t.as_str()).collect();
    assert_eq!(names, ["transport", "rpc", "protocol", "application"]);
    assert_eq!(Severity::Warning.as_str(), "warning");
}

#[test]
fn types_and_statuses_stay_within_the_rfc() {
    // A type RFC 6241 does not allow with the tag falls back to an allowed one.
    assert_eq!(Error::new(ErrorType::Transport, ErrorTag::DataMissing).error_type, ErrorType::Application);
    assert_eq!(Error::new(ErrorType::Application, ErrorTag::LockDenied).error_type, ErrorType::Protocol);
    assert_eq!(Error::malformed_message("x").with_type(ErrorType::Protocol).error_type, ErrorType::Rpc);
    assert_eq!(Error::new(ErrorType::Protocol, ErrorTag::InUse).error_type, ErrorType::Protocol);
    // Only the RFC 8040 alternatives of the tag are taken.
    assert_eq!(Error::operation_not_supported("x").http_status(), 501);
    assert_eq!(Error::operation_not_supported("x").with_http_status(405).http_status(), 405);
    assert_eq!(Error::operation_failed("x").with_http_status(412).http_status(), 412);
    assert_eq!(Error::operation_failed("x").with_http_status(404).http_status(), 500);
    assert_eq!(Error::access_denied("/m:x").with_http_status(401).http_status(), 401);
    assert_eq!(Error::data_missing("/m:x").http_status(), 409);
    assert_eq!(Error::too_big("x").http_status(), 413);
}

#[test]
fn constructors_fill_the_rfc_fields() {
    let e = Error::lock_denied(7);
    assert_eq!((e.error_type, e.tag), (ErrorType::Protocol, ErrorTag::LockDenied));
    assert_eq!(e.info, vec![ErrorInfo::SessionId(7)]);
    let e = Error::missing_attribute("message-id", "rpc");
    assert_eq!(e.error_type, ErrorType::Rpc);
    assert_eq!(
        e.info,
        vec![ErrorInfo::BadAttribute("message-id".into()), ErrorInfo::BadElement("rpc".into())]
    );
    let e = Error::data_exists("/m:x");
    assert_eq!((e.tag, e.path.as_deref()), (ErrorTag::DataExists, Some("/m:x")));
    assert_eq!(Error::unknown_element("foo").info, vec![ErrorInfo::BadElement("foo".into())]);
    assert_eq!(e.to_string(), "data-exists: data already exists at /m:x");
    let all: Errors =
        vec![Error::malformed_message("bad"), Error::in_use("busy").warning()].into_iter().collect();
    assert!(all.has_errors());
    assert_eq!(all.to_string(), "malformed-message: bad; in-use: busy");
    assert_eq!(all.http_status(), 400);
}

// --- From libyang: the OCC invalid examples -----------------------------------------

fn occ_example(schema: &Schema, name: &str) -> Errors {
    let path = root().join("yang/occ/examples/invalid").join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    check_text(schema, &text, DocKind::Config, DocFormat::Xml)
}

fn find<'a>(errors: &'a Errors, app_tag: &str) -> &'a Error {
    errors
        .iter()
        .find(|e| e.app_tag.as_deref() == Some(app_tag))
        .unwrap_or_else(|| panic!("no error with app tag {app_tag}: {errors:#?}"))
}

#[test]
fn occ_unique_examples_give_data_not_unique_with_non_unique_leaves() {
    let schema = common::default_schema();
    let errors = occ_example(&schema, "occ-r-74-service-twice-in-order.xml");
    let e = find(&errors, "data-not-unique");
    assert_eq!((e.error_type, e.tag), (ErrorType::Application, ErrorTag::OperationFailed));
    assert_eq!(
        e.path.as_deref(),
        Some("/occ-lso:lso/service-order[order-id='ord-1']/order-item[item-id='item-2']")
    );
    assert_eq!(
        e.info,
        vec![
            ErrorInfo::NonUnique(
                "/occ-lso:lso/service-order[order-id='ord-1']/order-item[item-id='item-1']/service-id".into()
            ),
            ErrorInfo::NonUnique(
                "/occ-lso:lso/service-order[order-id='ord-1']/order-item[item-id='item-2']/service-id".into()
            ),
        ]
    );

    let errors = occ_example(&schema, "occ-r-81-two-meps-on-one-csctp.xml");
    let e = find(&errors, "data-not-unique");
    assert_eq!(e.tag, ErrorTag::OperationFailed);
    let m3 = "/occ-oam:oam/meg[meg-id='meg-csc-001']/mep[mep-id='3']";
    let m1 = "/occ-oam:oam/meg[meg-id='meg-csc-001']/mep[mep-id='1']";
    let expected: Vec<ErrorInfo> =
        [format!("{m3}/interface"), format!("{m3}/csctp"), format!("{m1}/interface"), format!("{m1}/csctp")]
            .into_iter()
            .map(ErrorInfo::NonUnique)
            .collect();
    assert_eq!(e.info, expected);
}

#[test]
fn occ_must_gives_operation_failed_with_its_app_tag_and_message() {
    let schema = common::default_schema();
    let errors = occ_example(&schema, "occ-r-1-self-relationship.xml");
    assert_eq!(errors.len(), 1, "{errors:#?}");
    let e = find(&errors, "self-relationship");
    assert_eq!((e.error_type, e.tag), (ErrorType::Application, ErrorTag::OperationFailed));
    assert_eq!(
        e.message.as_deref(),
        Some("supplier and customer of a relationship must be different actors")
    );
    assert_eq!(
        e.path.as_deref(),
        Some("/occ-actors:actors/relationship[relationship-id='rel-nimbus-hosting']/customer")
    );
    assert_eq!(e.http_status(), 500);
}

#[test]
fn occ_min_elements_mandatory_when_and_pattern() {
    let schema = common::default_schema();
    let e = find(&occ_example(&schema, "occ-r-39-single-endpoint.xml"), "too-few-elements").clone();
    assert_eq!(e.tag, ErrorTag::OperationFailed);

    let errors = occ_example(&schema, "occ-r-46-vxlan-without-vni.xml");
    let e = &errors.0[0];
    assert_eq!((e.tag, e.app_tag.as_deref()), (ErrorTag::DataMissing, None));
    assert_eq!(e.path.as_deref(), Some("/occ-connections:connections/csc[csc-id='csc-001']/transport"));

    let errors = occ_example(&schema, "occ-r-57-iaas-details-on-saas.xml");
    let e = &errors.0[0];
    assert_eq!(e.tag, ErrorTag::UnknownElement);
    assert_eq!(e.info, vec![ErrorInfo::BadElement("iaas".into())]);

    // A pattern with its own app tag and message, found while parsing.
    let errors = occ_example(&schema, "occ-r-7-id-double-hyphen.xml");
    let e = find(&errors, "occ-id-double-hyphen");
    assert_eq!((e.error_type, e.tag), (ErrorType::Application, ErrorTag::InvalidValue));
    assert_eq!(e.message.as_deref(), Some("an identifier must not contain '--'"));
}

#[test]
fn every_occ_invalid_example_maps_to_its_app_tag_and_path() {
    let schema = common::default_schema();
    let dir = root().join("yang/occ/examples/invalid");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "xml") {
            continue;
        }
        let expect = std::fs::read_to_string(path.with_extension("expect")).unwrap();
        let value = |key: &str| -> String {
            let line = expect.lines().find(|l| l.starts_with(key)).unwrap();
            line.split_once('=').unwrap().1.trim().trim_matches('"').to_string()
        };
        let (app_tag, error_path) = (value("error-app-tag"), value("error-path"));
        let errors = occ_example(&schema, path.file_name().unwrap().to_str().unwrap());
        assert!(errors.has_errors(), "{}", path.display());
        let hit = errors.iter().find(|e| {
            e.app_tag.as_deref().unwrap_or("") == app_tag && e.path.as_deref() == Some(error_path.as_str())
        });
        let e = hit.unwrap_or_else(|| panic!("{}: {errors:#?}", path.display()));
        // Every mapped error is an RFC-conformant combination.
        assert!(e.tag.allowed_types().contains(&e.error_type));
        let expected_tag = match app_tag.as_str() {
            "" => e.tag, // mandatory (data-missing) or when (unknown-element), checked above
            "occ-id-double-hyphen" => ErrorTag::InvalidValue,
            _ => ErrorTag::OperationFailed,
        };
        assert_eq!(e.tag, expected_tag, "{}", path.display());
        seen += 1;
    }
    assert!(seen >= 60, "{seen}");
}

// --- From libyang: a test module for the other cases ------------------------------

const TEST_MODULE: &str = r#"module err-test {
  yang-version 1.1;
  namespace "urn:example:err-test";
  prefix et;
  identity base-id;
  identity one { base base-id; }
  container top {
    leaf name { type string; mandatory true; }
    leaf small {
      type int8 {
        range "1..10" {
          error-app-tag "small-range";
          error-message "small must be 1 to 10";
        }
      }
    }
    leaf plain { type uint8 { range "1..10"; } }
    leaf word { type string { pattern '[a-z]+'; length "1..5"; } }
    leaf ref { type leafref { path "../item/id"; } }
    leaf kind { type string; }
    leaf extra { when "../kind = 'x'"; type string; }
    leaf state { config false; type string; }
    choice pick {
      mandatory true;
      leaf a { type string; }
      leaf b { type string; }
    }
    list item {
      key id;
      max-elements 2;
      unique "label";
      leaf id { type string; }
      leaf label { type string; }
      must "not(label = 'bad')" {
        error-message "label must not be <bad> & \"so on\"";
        error-app-tag "bad-label";
      }
      must "not(label = 'worse')";
    }
    list by-id {
      key kind;
      leaf kind { type identityref { base base-id; } }
    }
  }
}
"#;

const AUG_MODULE: &str = r#"module err-aug {
  yang-version 1.1;
  namespace "urn:example:err-aug";
  prefix ea;
  import err-test { prefix et; }
  augment "/et:top/et:item" {
    leaf tag { type uint8 { range "1..3"; } }
  }
}
"#;

fn test_schema() -> (Schema, tempfile::TempDir) {
    common::schema_with(&[("err-test", TEST_MODULE), ("err-aug", AUG_MODULE)], false)
}

fn xml(schema: &Schema, body: &str) -> Errors {
    let text = format!("<top xmlns=\"urn:example:err-test\">{body}</top>");
    check_text(schema, &text, DocKind::Config, DocFormat::Xml)
}

fn one(errors: Errors) -> Error {
    assert_eq!(errors.len(), 1, "{errors:#?}");
    errors.0.into_iter().next().unwrap()
}

const OK: &str = "<name>n</name><a>x</a>";

#[test]
fn valid_document_has_no_errors() {
    let (schema, _dir) = test_schema();
    assert!(xml(&schema, OK).is_empty());
}

#[test]
fn mandatory_and_choice_give_data_missing() {
    let (schema, _dir) = test_schema();
    let e = one(xml(&schema, "<a>x</a>"));
    assert_eq!(
        (e.error_type, e.tag, e.app_tag.as_deref()),
        (ErrorType::Application, ErrorTag::DataMissing, None)
    );
    assert_eq!(e.path.as_deref(), Some("/err-test:top"));
    assert!(e.info.is_empty());

    let e = one(xml(&schema, "<name>n</name>"));
    assert_eq!((e.tag, e.app_tag.as_deref()), (ErrorTag::DataMissing, Some("missing-choice")));
    assert_eq!(e.path.as_deref(), Some("/err-test:top"));
    assert_eq!(e.info, vec![ErrorInfo::MissingChoice("pick".into())]);
    assert_eq!(e.http_status(), 409);
}

#[test]
fn type_restrictions_give_invalid_value() {
    let (schema, _dir) = test_schema();
    let e = one(xml(&schema, &format!("{OK}<small>20</small>")));
    assert_eq!((e.error_type, e.tag), (ErrorType::Application, ErrorTag::InvalidValue));
    assert_eq!(e.app_tag.as_deref(), Some("small-range"));
    assert_eq!(e.message.as_deref(), Some("small must be 1 to 10"));
    assert_eq!(e.path.as_deref(), Some("/err-test:top/small"));
    assert_eq!(e.http_status(), 400);

    for body in ["<plain>20</plain>", "<plain>abc</plain>", "<word>ABC</word>", "<word>abcdefgh</word>"] {
        let e = one(xml(&schema, &format!("{OK}{body}")));
        assert_eq!((e.tag, e.app_tag.as_deref()), (ErrorTag::InvalidValue, None), "{body}");
    }
    // JSON too, and in an augmenting module.
    let text = r#"{"err-test:top": {"name": "n", "a": "x", "small": 20}}"#;
    let e = one(check_text(&schema, text, DocKind::Config, DocFormat::Json));
    assert_eq!((e.tag, e.app_tag.as_deref()), (ErrorTag::InvalidValue, Some("small-range")));
    let e =
        one(xml(&schema, &format!("{OK}<item><id>1</id><tag xmlns=\"urn:example:err-aug\">9</tag></item>")));
    assert_eq!(e.tag, ErrorTag::InvalidValue);
    assert_eq!(e.path.as_deref(), Some("/err-test:top/item[id='1']/err-aug:tag"));
}

#[test]
fn list_constraints_musts_and_leafrefs() {
    let (schema, _dir) = test_schema();
    let items = "<item><id>1</id><label>L</label></item><item><id>2</id><label>L</label></item><item><id>3</id></item>";
    let errors = xml(&schema, &format!("{OK}{items}"));
    let e = find(&errors, "too-many-elements");
    assert_eq!(e.tag, ErrorTag::OperationFailed);
    assert_eq!(e.path.as_deref(), Some("/err-test:top/item[id='3']"));
    let e = find(&errors, "data-not-unique");
    assert_eq!(
        e.info,
        vec![
            ErrorInfo::NonUnique("/err-test:top/item[id='2']/label".into()),
            ErrorInfo::NonUnique("/err-test:top/item[id='1']/label".into()),
        ]
    );

    let errors = xml(
        &schema,
        &format!("{OK}<item><id>1</id><label>bad</label></item><item><id>2</id><label>worse</label></item>"),
    );
    let e = find(&errors, "bad-label");
    assert_eq!(e.tag, ErrorTag::OperationFailed);
    assert_eq!(e.message.as_deref(), Some("label must not be <bad> & \"so on\""));
    assert_eq!(e.path.as_deref(), Some("/err-test:top/item[id='1']"));
    let e = find(&errors, "must-violation");
    assert_eq!(e.tag, ErrorTag::OperationFailed);
    assert_eq!(e.path.as_deref(), Some("/err-test:top/item[id='2']"));

    let e = one(xml(&schema, &format!("{OK}<ref>zz</ref>")));
    assert_eq!((e.tag, e.app_tag.as_deref()), (ErrorTag::DataMissing, Some("instance-required")));
    assert_eq!(e.path.as_deref(), Some("/err-test:top/ref"));

    // libyang reports a duplicate list entry once per copy.
    let errors = xml(&schema, &format!("{OK}<item><id>1</id></item><item><id>1</id></item>"));
    assert!(!errors.is_empty() && errors.iter().all(|e| e.tag == ErrorTag::DataExists), "{errors:#?}");
}

#[test]
fn rfc7950_8_3_1_payload_errors() {
    let (schema, _dir) = test_schema();
    // when false
    let e = one(xml(&schema, &format!("{OK}<extra>zz</extra>")));
    assert_eq!(e.tag, ErrorTag::UnknownElement);
    assert_eq!(e.info, vec![ErrorInfo::BadElement("extra".into())]);
    // two cases of one choice
    let e = one(xml(&schema, "<name>n</name><a>x</a><b>y</b>"));
    assert_eq!(e.tag, ErrorTag::BadElement);
    assert_eq!(e.info, vec![ErrorInfo::BadElement("b".into())]);
    // a list entry without its key
    let e = one(xml(&schema, &format!("{OK}<item><label>x</label></item>")));
    assert_eq!(e.tag, ErrorTag::MissingElement);
    assert_eq!(e.info, vec![ErrorInfo::BadElement("id".into())]);
    // state data in a configuration
    let e = one(xml(&schema, &format!("{OK}<state>s</state>")));
    assert_eq!(e.tag, ErrorTag::UnknownElement);
    assert_eq!(e.info, vec![ErrorInfo::BadElement("state".into())]);
}

#[test]
fn unknown_elements_and_namespaces() {
    let (schema, _dir) = test_schema();
    let e = one(xml(&schema, &format!("{OK}<bogus>zz</bogus>")));
    assert_eq!((e.error_type, e.tag), (ErrorType::Application, ErrorTag::UnknownElement));
    assert_eq!(e.info, vec![ErrorInfo::BadElement("bogus".into())]);
    assert_eq!(e.path.as_deref(), Some("/err-test:top"));

    let e = one(xml(&schema, &format!("{OK}<bogus xmlns=\"urn:nowhere\">zz</bogus>")));
    assert_eq!(e.tag, ErrorTag::UnknownNamespace);
    assert_eq!(e.info, vec![ErrorInfo::BadNamespace("urn:nowhere".into())]);

    let text = r#"{"nomod:top": {}}"#;
    let e = one(check_text(&schema, text, DocKind::Config, DocFormat::Json));
    assert_eq!(e.tag, ErrorTag::UnknownNamespace);
    assert_eq!(e.info, vec![ErrorInfo::BadNamespace("nomod".into())]);

    let text = r#"{"err-test:top": {"name": "n", "a": "x", "bogus": 1}}"#;
    let e = one(check_text(&schema, text, DocKind::Config, DocFormat::Json));
    assert_eq!(e.tag, ErrorTag::UnknownElement);
}

#[test]
fn syntax_errors_give_malformed_message() {
    let (schema, _dir) = test_schema();
    for (text, format) in [
        ("<top xmlns=\"urn:example:err-test\"><name>n</name><a>x</top>", DocFormat::Xml),
        ("<top xmlns=\"urn:example:err-test\"><name>n</name><a>x</a></top><oops", DocFormat::Xml),
        ("{\"err-test:top\": {\"name\": \"n\", ", DocFormat::Json),
        ("<top>\0</top>", DocFormat::Xml),
    ] {
        let e = one(check_text(&schema, text, DocKind::Config, format));
        assert_eq!((e.error_type, e.tag), (ErrorType::Rpc, ErrorTag::MalformedMessage), "{text}");
        assert_eq!(e.path, None);
        assert_eq!(e.http_status(), 400);
    }
}

// --- Rendering -----------------------------------------------------------------------

fn namespaces(module: &str) -> Option<String> {
    match module {
        "occ-interfaces" => Some("urn:occd:params:xml:ns:yang:occ-interfaces".into()),
        "occ-connections" => Some("urn:occd:params:xml:ns:yang:occ-connections".into()),
        "occ-types" => Some("urn:occd:params:xml:ns:yang:occ-types".into()),
        "m" => Some("urn:m?a=1&b=\"2\"".into()),
        _ => None,
    }
}

#[test]
fn rpc_error_golden_multi_module_path() {
    let e = Error::operation_failed("the layer must be in the <stack> & \"so\"")
        .with_app_tag("layer-not-in-stack")
        .with_path(
            "/occ-interfaces:interfaces/interface[name='csui-acme-hq']/occ-connections:csctps/csctp[csctp-id='tp-hq']/layer",
        );
    let expected = concat!(
        r#"<rpc-error xmlns="urn:ietf:params:xml:ns:netconf:base:1.0">"#,
        "<error-type>application</error-type>",
        "<error-tag>operation-failed</error-tag>",
        "<error-severity>error</error-severity>",
        "<error-app-tag>layer-not-in-stack</error-app-tag>",
        r#"<error-path xmlns:occ-interfaces="urn:occd:params:xml:ns:yang:occ-interfaces""#,
        r#" xmlns:occ-connections="urn:occd:params:xml:ns:yang:occ-connections">"#,
        "/occ-interfaces:interfaces/occ-interfaces:interface[occ-interfaces:name='csui-acme-hq']",
        "/occ-connections:csctps/occ-connections:csctp[occ-connections:csctp-id='tp-hq']/occ-connections:layer",
        "</error-path>",
        r#"<error-message xml:lang="en">the layer must be in the &lt;stack&gt; &amp; "so"</error-message>"#,
        "</rpc-error>",
    );
    assert_eq!(e.to_rpc_error_xml(&namespaces), expected);
}

#[test]
fn rpc_error_golden_identity_values_info_and_escaping() {
    let e = Error::new(ErrorType::Application, ErrorTag::OperationFailed)
        .with_app_tag("data-not-unique")
        .with_path("/occ-interfaces:interfaces/interface[name='a<&>\"b']/protocol-layer[protocol='occ-types:layer-3']")
        .with_message("ctl\u{1}char\r\n")
        .with_info(ErrorInfo::NonUnique("/m:l[k=\"it's\"]/v".into()))
        .with_info(ErrorInfo::BadElement("v".into()))
        .warning();
    let expected = concat!(
        r#"<rpc-error xmlns="urn:ietf:params:xml:ns:netconf:base:1.0">"#,
        "<error-type>application</error-type>",
        "<error-tag>operation-failed</error-tag>",
        "<error-severity>warning</error-severity>",
        "<error-app-tag>data-not-unique</error-app-tag>",
        r#"<error-path xmlns:occ-interfaces="urn:occd:params:xml:ns:yang:occ-interfaces""#,
        r#" xmlns:occ-types="urn:occd:params:xml:ns:yang:occ-types">"#,
        "/occ-interfaces:interfaces/occ-interfaces:interface[occ-interfaces:name='a&lt;&amp;&gt;\"b']",
        "/occ-interfaces:protocol-layer[occ-interfaces:protocol='occ-types:layer-3']",
        "</error-path>",
        "<error-message xml:lang=\"en\">ctl\u{fffd}char&#xD;\n</error-message>",
        "<error-info>",
        r#"<non-unique xmlns="urn:ietf:params:xml:ns:yang:1" xmlns:m="urn:m?a=1&amp;b=&quot;2&quot;">"#,
        "/m:l[m:k=\"it's\"]/m:v</non-unique>",
        "<bad-element>v</bad-element>",
        "</error-info>",
        "</rpc-error>",
    );
    assert_eq!(e.to_rpc_error_xml(&namespaces), expected);
}

#[test]
fn rpc_error_leaves_out_paths_it_cannot_declare() {
    let e = Error::data_missing("/unknown-module:x");
    let xml = e.to_rpc_error_xml(&namespaces);
    assert!(!xml.contains("error-path"), "{xml}");
    assert!(xml.contains("<error-tag>data-missing</error-tag>"));
    let e = Error::data_missing("not a path");
    assert!(!e.to_rpc_error_xml(&namespaces).contains("error-path"));
}

#[test]
fn lock_denied_golden() {
    let expected = concat!(
        r#"<rpc-error xmlns="urn:ietf:params:xml:ns:netconf:base:1.0">"#,
        "<error-type>protocol</error-type>",
        "<error-tag>lock-denied</error-tag>",
        "<error-severity>error</error-severity>",
        r#"<error-message xml:lang="en">lock is already held by session 4</error-message>"#,
        "<error-info><session-id>4</session-id></error-info>",
        "</rpc-error>",
    );
    assert_eq!(Error::lock_denied(4).to_rpc_error_xml(&namespaces), expected);
}

#[test]
fn restconf_json_golden() {
    let errors: Errors = vec![
        Error::operation_failed("a \"quoted\" <message>\n")
            .with_app_tag("data-not-unique")
            .with_path("/occ-interfaces:interfaces/interface[name='x']")
            .with_info(ErrorInfo::NonUnique("/m:l[k='1']/v".into()))
            .with_info(ErrorInfo::NonUnique("/m:l[k='2']/v".into())),
        Error::in_use("skipped").warning(),
        Error::lock_denied(0),
    ]
    .into_iter()
    .collect();
    let expected = concat!(
        r#"{"ietf-restconf:errors":{"error":["#,
        r#"{"error-app-tag":"data-not-unique","error-info":{"non-unique":["/m:l[k='1']/v","/m:l[k='2']/v"]},"#,
        r#""error-message":"a \"quoted\" <message>\n","error-path":"/occ-interfaces:interfaces/interface[name='x']","#,
        r#""error-tag":"operation-failed","error-type":"application"},"#,
        r#"{"error-info":{"session-id":0},"error-message":"lock is already held by session 0","#,
        r#""error-tag":"lock-denied","error-type":"protocol"}"#,
        r#"]}}"#,
    );
    assert_eq!(errors.to_restconf_json(), expected);
    assert_eq!(errors.http_status(), 500);
    let v: serde_json::Value = serde_json::from_str(&errors.to_restconf_json()).unwrap();
    assert!(v["ietf-restconf:errors"]["error"].is_array());
    assert_eq!(
        Error::malformed_message("x").to_restconf_json(),
        r#"{"ietf-restconf:errors":{"error":[{"error-message":"x","error-tag":"malformed-message","error-type":"rpc"}]}}"#
    );
}

#[test]
fn restconf_xml_golden() {
    let e = Error::unknown_namespace("bogus", "urn:x&y")
        .with_path("/occ-connections:connections/csc[csc-id='c1']")
        .with_info(ErrorInfo::MissingChoice("mode".into()));
    let expected = concat!(
        r#"<errors xmlns="urn:ietf:params:xml:ns:yang:ietf-restconf"><error>"#,
        "<error-type>protocol</error-type>",
        "<error-tag>unknown-namespace</error-tag>",
        r#"<error-path xmlns:occ-connections="urn:occd:params:xml:ns:yang:occ-connections">"#,
        "/occ-connections:connections/occ-connections:csc[occ-connections:csc-id='c1']</error-path>",
        r#"<error-message xml:lang="en">unknown namespace "urn:x&amp;y" of element "bogus"</error-message>"#,
        "<error-info>",
        r#"<bad-element xmlns="urn:ietf:params:xml:ns:netconf:base:1.0">bogus</bad-element>"#,
        r#"<bad-namespace xmlns="urn:ietf:params:xml:ns:netconf:base:1.0">urn:x&amp;y</bad-namespace>"#,
        r#"<missing-choice xmlns="urn:ietf:params:xml:ns:yang:1">mode</missing-choice>"#,
        "</error-info>",
        "</error></errors>",
    );
    assert_eq!(e.to_restconf_xml(&namespaces), expected);
}

#[test]
fn renders_libyang_errors_with_context_namespaces() {
    let (schema, _dir) = test_schema();
    let errors =
        xml(&schema, &format!("{OK}<item><id>1</id><tag xmlns=\"urn:example:err-aug\">9</tag></item>"));
    let ctx = schema.context();
    let x = errors.to_rpc_errors_xml(ctx);
    assert!(
        x.contains(concat!(
            r#"<error-path xmlns:err-test="urn:example:err-test" xmlns:err-aug="urn:example:err-aug">"#,
            "/err-test:top/err-test:item[err-test:id='1']/err-aug:tag</error-path>"
        )),
        "{x}"
    );
    // Schema works as the namespace source too.
    assert_eq!(errors.to_rpc_errors_xml(&schema), x);
}

#[test]
fn json_error_paths_qualify_only_where_the_module_changes() {
    use occd::error::json_instance_path as j;
    assert_eq!(
        j("/occ-actors:actors/occ-actors:actor[actor-id='a/b:c']/occ-actors:kind"),
        "/occ-actors:actors/actor[actor-id='a/b:c']/kind"
    );
    assert_eq!(j("/a:x/a:y/b:z/b:w[k=\"q]/a:v\"]/a:u"), "/a:x/y/b:z/w[k=\"q]/a:v\"]/a:u");
    assert_eq!(j("/a:x/y[k='1']/z"), "/a:x/y[k='1']/z");
    assert_eq!(j(""), "");
}

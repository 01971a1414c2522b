//! IR → Rust tokens. Every module becomes one Rust module; a node's struct
//! lives in its parent's Rust module and the types of its children in a
//! child module named after it (`connections::Csc`, `connections::csc::…`),
//! so names never need a global registry. Typedefs and identity sets are
//! shared by all modules (`typedefs`, `identities`).
//!
//! The emitted code calls a small runtime (`Options::rt`, `src/model/rt.rs`
//! in occd) for the RFC 7951 encoding of members, so the per-node code stays
//! a list of one-line calls.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use crate::ir::{IdentitySet, Kind, Module, ModuleSet, Node, Ty, Typedef};
use crate::names::{camel, ident, shout, snake, Scope};
use crate::raw::Item;

/// Where the generated code finds the runtime and itself.
#[derive(Debug, Clone)]
pub struct Options {
    /// Path of the Rust module the generated set is included in.
    pub root: String,
    /// Path of the runtime module.
    pub rt: String,
    /// Emit `Arb` implementations (random values for property tests) under
    /// `#[cfg(test)]`.
    pub arbitrary: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options { root: "crate::model".into(), rt: "crate::model::rt".into(), arbitrary: true }
    }
}

/// The generated sources, each a formatted Rust file.
#[derive(Debug)]
pub struct Generated {
    /// (YANG module, Rust module name, source).
    pub modules: Vec<(String, String, String)>,
    /// `typedefs` and `identities`.
    pub shared: String,
    /// `AllData`: every module's top level in one document.
    pub set: String,
}

fn path_tokens(p: &str) -> TokenStream {
    let segs = p.split("::").map(|s| format_ident!("{}", s));
    quote!(#(#segs)::*)
}

fn doc(text: Option<&str>) -> TokenStream {
    match text {
        // Fenced as text: YANG prose is not Markdown.
        Some(t) => {
            let body = format!("```text\n{}\n```", t.trim_end());
            quote!(#[doc = #body])
        }
        None => quote!(),
    }
}

fn deprecated(d: bool) -> TokenStream {
    if d {
        quote!(#[deprecated])
    } else {
        quote!()
    }
}

fn lit(s: &str) -> Literal {
    Literal::string(s)
}

pub fn generate(set: &ModuleSet, opts: &Options) -> Result<Generated, String> {
    let em = Em { set, rt: path_tokens(&opts.rt), root: path_tokens(&opts.root), arb: opts.arbitrary };
    let mut mod_scope = Scope::with(&["rt", "typedefs", "identities"]);
    let mut modules = Vec::new();
    for m in &set.modules {
        let rust = mod_scope.claim(snake(&m.name));
        let tokens = em.module(m, &rust);
        modules.push((m.name.clone(), rust, format(tokens)?));
    }
    let shared = format(em.shared())?;
    let set = format(em.all(&modules))?;
    Ok(Generated { modules, shared, set })
}

fn format(tokens: TokenStream) -> Result<String, String> {
    let text = tokens.to_string();
    let file: syn::File = syn::parse_str(&text).map_err(|e| {
        let at = e.span().start();
        let line = text.lines().nth(at.line.saturating_sub(1)).unwrap_or_default();
        let from = at.column.saturating_sub(200);
        let snippet: String = line.chars().skip(from).take(400).collect();
        format!("generated code does not parse: {e} at {}:{}: …{snippet}…", at.line, at.column)
    })?;
    Ok(prettyplease::unparse(&file))
}

struct Em<'a> {
    set: &'a ModuleSet,
    rt: TokenStream,
    root: TokenStream,
    arb: bool,
}

/// What a struct is emitted for.
#[derive(Clone, Copy, PartialEq)]
enum Shape {
    /// The module's top level: members always module-qualified.
    Root,
    Container,
    /// A list entry, with its keys.
    Entry,
    /// A case of a choice: members belong to the enclosing data node.
    Case,
    /// RPC/action input or output, notification.
    Op,
}

impl Em<'_> {
    fn arb_attr(&self) -> TokenStream {
        quote!(#[cfg(test)])
    }

    /// `Arb` for an enum-like type: one of `arms` (`n => value`), picked
    /// at random; `fallback` for the last index.
    fn arb_pick(
        &self,
        id: &proc_macro2::Ident,
        arms: &[TokenStream],
        count: usize,
        fallback: TokenStream,
    ) -> TokenStream {
        if !self.arb {
            return quote!();
        }
        let rt = &self.rt;
        let attr = self.arb_attr();
        let count = Literal::usize_unsuffixed(count);
        quote! {
            #attr
            #[allow(deprecated)]
            impl #rt::Arb for #id {
                fn arb(g: &mut #rt::Gen) -> Self {
                    match g.below(#count) {
                        #(#arms,)*
                        _ => #fallback,
                    }
                }
            }
        }
    }

    fn module(&self, m: &Module, rust: &str) -> TokenStream {
        let mut items = Vec::new();
        let mut types = Scope::types();
        let _ = types.claim("Data".into());
        let name = lit(&m.name);
        let ns = lit(&m.namespace);
        let rev = match &m.revision {
            Some(r) => {
                let r = lit(r);
                quote!(Some(#r))
            }
            None => quote!(None),
        };
        items.push(quote! {
            /// The YANG module name.
            pub const MODULE: &str = #name;
            /// The module's XML namespace.
            pub const NAMESPACE: &str = #ns;
            /// The module's revision.
            pub const REVISION: Option<&str> = #rev;
        });
        let module_doc = format!("Data of module `{}` at the top level of a datastore.", m.name);
        self.structure(
            &StructSpec {
                name: "Data".into(),
                path_name: String::new(),
                key_name: String::new(),
                node: None,
                doc: Some(module_doc),
                module: &m.name,
                children: &m.data,
                ops: &m.ops,
                shape: Shape::Root,
                child_mod: None,
                schema_path: String::new(),
                keys: &[],
                abs: {
                    let root = &self.root;
                    let r = ident(rust);
                    quote!(#root::#r)
                },
                parents: Vec::new(),
            },
            &mut types,
            &mut items,
        );
        quote!(#(#items)*)
    }

    /// `AllData`: one field per module's `Data`.
    fn all(&self, modules: &[(String, String, String)]) -> TokenStream {
        let rt = &self.rt;
        let fields: Vec<_> = modules.iter().map(|(_, r, _)| ident(r)).collect();
        let docs = modules.iter().map(|(y, _, _)| lit(&format!("Top-level data of `{y}`.")));
        quote! {
            /// Data of every generated module: a whole datastore's worth.
            #[derive(Debug, Clone, PartialEq, Default)]
            pub struct AllData {
                #(#[doc = #docs] pub #fields: #fields::Data,)*
            }
            impl AllData {
                /// Sets every unset leaf that has a default to it.
                pub fn apply_defaults(&mut self) {
                    #(self.#fields.apply_defaults();)*
                }
            }
            impl #rt::Document for AllData {
                fn to_json(&self) -> #rt::Json {
                    let mut obj = #rt::Object::new();
                    #(#rt::Node::write(&self.#fields, &mut obj, "");)*
                    #rt::Json::Object(obj)
                }
                fn from_json(v: &#rt::Json) -> Result<Self, #rt::Error> {
                    let obj = #rt::object(v, "")?;
                    #rt::check_known(obj, &[#(#fields::MODULE),*])?;
                    Ok(AllData { #(#fields: #rt::Node::read(obj, "", "")?,)* })
                }
            }
            impl ::serde::Serialize for AllData {
                fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                    #rt::serialize_json(&#rt::Document::to_json(self), s)
                }
            }
            impl<'de> ::serde::Deserialize<'de> for AllData {
                fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                    #rt::deserialize_document(d)
                }
            }
        }
    }

    /// Shared typedefs and identities.
    fn shared(&self) -> TokenStream {
        let mut tscope = Scope::types();
        let mut titems = Vec::new();
        for (i, t) in self.set.typedefs.iter().enumerate() {
            let name = typedef_name(self.set, i);
            let _ = tscope.claim(name.clone());
            self.typedef(t, &name, &mut tscope, &mut titems);
        }
        let mut iitems = Vec::new();
        for i in 0..self.set.identities.len() {
            iitems.push(self.identity(&self.set.identities[i], &identity_name(self.set, i)));
        }
        quote! {
            /// Types of the typedefs the modules use, shared by every user.
            pub mod typedefs {
                #(#titems)*
            }
            /// Identityref value sets: the identities derived from a base.
            pub mod identities {
                #(#iitems)*
            }
        }
    }

    fn typedef(&self, t: &Typedef, name: &str, scope: &mut Scope, out: &mut Vec<TokenStream>) {
        let rt = &self.rt;
        let id = format_ident!("{}", name);
        match &t.ty {
            Ty::Enum(items) => out.push(self.enumeration(name, items)),
            Ty::Bits(items) => out.push(self.bits(name, items)),
            Ty::Union(members) => {
                let _ = self.union(name, members, scope, out, &quote!());
            }
            other => {
                let inner = self.ty(other, name, scope, out, &quote!());
                let d = lit(&format!("The `{}` typedef.", t.name));
                let from_str = if matches!(other, Ty::String) {
                    quote! {
                        impl From<&str> for #id {
                            fn from(s: &str) -> Self { #id(s.to_string()) }
                        }
                    }
                } else {
                    quote!()
                };
                let arb = self.arb_attr();
                let arb = if self.arb {
                    quote! {
                        #arb
                        impl #rt::Arb for #id {
                            fn arb(g: &mut #rt::Gen) -> Self { #id(#rt::Arb::arb(g)) }
                        }
                    }
                } else {
                    quote!()
                };
                out.push(quote! {
                    #[doc = #d]
                    #[derive(Debug, Clone, PartialEq, Eq, Hash)]
                    pub struct #id(pub #inner);
                    impl #rt::Value for #id {
                        fn to_json(&self) -> #rt::Json { self.0.to_json() }
                        fn from_json(v: &#rt::Json) -> Result<Self, String> { <#inner as #rt::Value>::from_json(v).map(#id) }
                        fn to_text(&self) -> String { self.0.to_text() }
                        fn from_text(s: &str) -> Result<Self, String> { <#inner as #rt::Value>::from_text(s).map(#id) }
                    }
                    impl From<#inner> for #id {
                        fn from(v: #inner) -> Self { #id(v) }
                    }
                    #from_str
                    #arb
                })
            }
        }
    }

    fn identity(&self, set: &IdentitySet, name: &str) -> TokenStream {
        let rt = &self.rt;
        let id = format_ident!("{}", name);
        let mut scope = Scope::with(&["Other"]);
        let mut variants = Vec::new();
        let mut to = Vec::new();
        let mut from = Vec::new();
        let mut arbs = Vec::new();
        // Bare names are accepted when unique (an unqualified value of the
        // leaf's own module).
        for (i, val) in set.values.iter().enumerate() {
            let (ident_, dsc, dep) = (&val.ident, &val.description, &val.deprecated);
            let unique = set.values.iter().filter(|o| o.ident.name == ident_.name).count() == 1;
            let v = if unique {
                camel(&ident_.name)
            } else {
                camel(&format!("{}-{}", ident_.module, ident_.name))
            };
            let v = format_ident!("{}", scope.claim(v));
            let d = doc(dsc.as_deref());
            let dep = deprecated(*dep);
            variants.push(quote!(#d #dep #v));
            let q = lit(&format!("{}:{}", ident_.module, ident_.name));
            to.push(quote!(#id::#v => #q.to_string()));
            from.push(quote!(#q => #id::#v));
            if unique {
                let bare = lit(&ident_.name);
                from.push(quote!(#bare => #id::#v));
            }
            let n = Literal::usize_unsuffixed(i);
            arbs.push(quote!(#n => #id::#v));
        }
        let bases: Vec<String> = set.bases.iter().map(|b| format!("`{}:{}`", b.module, b.name)).collect();
        let d = lit(&format!(
            "Identities derived from {}; `Other` holds any other identity, module-qualified.",
            bases.join(", ")
        ));
        let arb = self.arb_pick(
            &id,
            &arbs,
            set.values.len() + 1,
            quote!(#id::Other("x-unknown:other".to_string())),
        );
        quote! {
            #[doc = #d]
            #[derive(Debug, Clone, PartialEq, Eq, Hash)]
            pub enum #id {
                #(#variants,)*
                /// An identity not known when the code was generated.
                Other(String),
            }
            #[allow(deprecated)]
            impl #rt::Value for #id {
                fn to_text(&self) -> String {
                    match self {
                        #(#to,)*
                        #id::Other(s) => s.clone(),
                    }
                }
                fn from_text(s: &str) -> Result<Self, String> {
                    Ok(match s {
                        #(#from,)*
                        _ => #id::Other(s.to_string()),
                    })
                }
            }
            #arb
        }
    }

    fn enumeration(&self, name: &str, items: &[Item]) -> TokenStream {
        let rt = &self.rt;
        let id = format_ident!("{}", name);
        let mut scope = Scope::default();
        let mut variants = Vec::new();
        let mut to = Vec::new();
        let mut from = Vec::new();
        let mut arbs = Vec::new();
        for (i, it) in items.iter().enumerate() {
            let v = format_ident!("{}", scope.claim(camel(&it.name)));
            let d = doc(it.description.as_deref());
            let dep = deprecated(it.deprecated);
            variants.push(quote!(#d #dep #v));
            let s = lit(&it.name);
            to.push(quote!(#id::#v => #s));
            from.push(quote!(#s => #id::#v));
            let n = Literal::usize_unsuffixed(i);
            arbs.push(quote!(#n => #id::#v));
        }
        let what = lit(name);
        let arb = self.arb_pick(&id, &arbs, items.len(), quote!(unreachable!()));
        quote! {
            #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
            pub enum #id {
                #(#variants,)*
            }
            #[allow(deprecated)]
            impl #rt::Value for #id {
                fn to_text(&self) -> String {
                    match self {
                        #(#to,)*
                    }.to_string()
                }
                fn from_text(s: &str) -> Result<Self, String> {
                    Ok(match s {
                        #(#from,)*
                        _ => return Err(#rt::bad_value(s, #what)),
                    })
                }
            }
            #arb
        }
    }

    fn bits(&self, name: &str, items: &[Item]) -> TokenStream {
        let rt = &self.rt;
        let id = format_ident!("{}", name);
        let mut scope = Scope::default();
        let mut fields = Vec::new();
        let mut to = Vec::new();
        let mut from = Vec::new();
        let mut arbs = Vec::new();
        for it in items {
            let f = ident(&scope.claim(snake(&it.name)));
            let d = doc(it.description.as_deref());
            let dep = deprecated(it.deprecated);
            fields.push(quote!(#d #dep pub #f: bool));
            let s = lit(&it.name);
            to.push(quote!(if self.#f { out.push(#s) }));
            from.push(quote!(#s => v.#f = true));
            arbs.push(quote!(#f: g.flip()));
        }
        let what = lit(name);
        let arb = if self.arb {
            let attr = self.arb_attr();
            quote! {
                #attr
                #[allow(deprecated)]
                impl #rt::Arb for #id {
                    fn arb(g: &mut #rt::Gen) -> Self { #id { #(#arbs,)* } }
                }
            }
        } else {
            quote!()
        };
        quote! {
            /// A bits value: one flag per bit, printed in position order.
            #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
            pub struct #id {
                #(#fields,)*
            }
            #[allow(deprecated)]
            impl #rt::Value for #id {
                fn to_text(&self) -> String {
                    let mut out: Vec<&str> = Vec::new();
                    #(#to)*
                    out.join(" ")
                }
                fn from_text(s: &str) -> Result<Self, String> {
                    let mut v = #id::default();
                    for bit in s.split_ascii_whitespace() {
                        match bit {
                            #(#from,)*
                            _ => return Err(#rt::bad_value(bit, #what)),
                        }
                    }
                    Ok(v)
                }
            }
            #arb
        }
    }

    /// A union: an enum tried in member order (RFC 7950 §9.12).
    fn union(
        &self,
        name: &str,
        members: &[Ty],
        scope: &mut Scope,
        out: &mut Vec<TokenStream>,
        prefix: &TokenStream,
    ) -> TokenStream {
        let rt = &self.rt;
        let id = format_ident!("{}", name);
        let mut vscope = Scope::default();
        let mut variants = Vec::new();
        let mut to_json = Vec::new();
        let mut to_text = Vec::new();
        let mut from_json = Vec::new();
        let mut from_text = Vec::new();
        let mut arbs = Vec::new();
        for (i, m) in members.iter().enumerate() {
            let v = format_ident!("{}", vscope.claim(self.variant_name(m)));
            let hint = format!("{name}{v}");
            let t = self.ty(m, &hint, scope, out, prefix);
            variants.push(quote!(#v(#t)));
            to_json.push(quote!(#id::#v(x) => x.to_json()));
            to_text.push(quote!(#id::#v(x) => x.to_text()));
            from_json
                .push(quote!(if let Ok(x) = <#t as #rt::Value>::from_json(v) { return Ok(#id::#v(x)); }));
            from_text
                .push(quote!(if let Ok(x) = <#t as #rt::Value>::from_text(s) { return Ok(#id::#v(x)); }));
            let n = Literal::usize_unsuffixed(i);
            arbs.push(quote!(#n => #id::#v(#rt::Arb::arb(g))));
        }
        let what = lit(name);
        let arb = self.arb_pick(&id, &arbs, members.len(), quote!(unreachable!()));
        out.push(quote! {
            /// A union value: the first member type (in YANG order) that accepts the value.
            #[derive(Debug, Clone, PartialEq, Eq, Hash)]
            pub enum #id {
                #(#variants,)*
            }
            impl #rt::Value for #id {
                fn to_json(&self) -> #rt::Json {
                    match self { #(#to_json,)* }
                }
                fn from_json(v: &#rt::Json) -> Result<Self, String> {
                    #(#from_json)*
                    Err(#rt::bad_value(&v.to_string(), #what))
                }
                fn to_text(&self) -> String {
                    match self { #(#to_text,)* }
                }
                fn from_text(s: &str) -> Result<Self, String> {
                    #(#from_text)*
                    Err(#rt::bad_value(s, #what))
                }
            }
            #arb
        });
        quote!(#prefix #id)
    }

    fn variant_name(&self, t: &Ty) -> String {
        match t {
            Ty::Bool => "Boolean".into(),
            Ty::Int { bits, signed } => format!("{}{bits}", if *signed { "Int" } else { "Uint" }),
            Ty::Dec64(_) => "Decimal64".into(),
            Ty::String => "String".into(),
            Ty::Binary => "Binary".into(),
            Ty::Empty => "Empty".into(),
            Ty::InstanceId => "InstanceIdentifier".into(),
            Ty::Enum(_) => "Enumeration".into(),
            Ty::Bits(_) => "Bits".into(),
            Ty::Identity(i) => identity_name(self.set, *i),
            Ty::Union(_) => "Union".into(),
            Ty::Typedef(i) => typedef_name(self.set, *i),
        }
    }

    /// The Rust type of a leaf type; inline enumerations, bits and unions
    /// are defined into `out` (the Rust module `prefix` names, relative to
    /// where the type is used) under a name made from `hint`.
    fn ty(
        &self,
        t: &Ty,
        hint: &str,
        scope: &mut Scope,
        out: &mut Vec<TokenStream>,
        prefix: &TokenStream,
    ) -> TokenStream {
        let rt = &self.rt;
        let root = &self.root;
        match t {
            Ty::Bool => quote!(bool),
            Ty::Int { bits, signed } => {
                let n = format_ident!("{}{}", if *signed { "i" } else { "u" }, bits);
                quote!(#n)
            }
            Ty::Dec64(d) => {
                let d = Literal::u8_unsuffixed(*d);
                quote!(#rt::Decimal64<#d>)
            }
            Ty::String => quote!(String),
            Ty::Binary => quote!(#rt::Binary),
            Ty::Empty => quote!(#rt::Empty),
            Ty::InstanceId => quote!(#rt::InstanceId),
            Ty::Identity(i) => {
                let n = format_ident!("{}", identity_name(self.set, *i));
                quote!(#root::identities::#n)
            }
            Ty::Typedef(i) => {
                let n = format_ident!("{}", typedef_name(self.set, *i));
                quote!(#root::typedefs::#n)
            }
            Ty::Enum(items) => {
                let name = scope.claim(camel(hint));
                out.push(self.enumeration(&name, items));
                let id = format_ident!("{}", name);
                quote!(#prefix #id)
            }
            Ty::Bits(items) => {
                let name = scope.claim(camel(hint));
                out.push(self.bits(&name, items));
                let id = format_ident!("{}", name);
                quote!(#prefix #id)
            }
            Ty::Union(members) => {
                let name = scope.claim(camel(hint));
                // Members are defined beside the union, so they are named
                // relative to it (no prefix) inside its definition.
                let _ = self.union(&name, members, scope, out, &quote!());
                let id = format_ident!("{}", name);
                quote!(#prefix #id)
            }
        }
    }
}

/// Everything [`Em::structure`] needs about one struct.
struct StructSpec<'n> {
    name: String,
    /// Name of the instance-path type (containers and list entries).
    path_name: String,
    /// Name of the key struct (lists with several keys).
    key_name: String,
    node: Option<&'n Node>,
    doc: Option<String>,
    /// The YANG module members are qualified against (the data node's).
    module: &'n str,
    children: &'n [Node],
    ops: &'n [Node],
    shape: Shape,
    /// The Rust module children's types go in; `None`: the current one.
    child_mod: Option<String>,
    schema_path: String,
    keys: &'n [String],
    /// Absolute Rust path of the module the struct is emitted in.
    abs: TokenStream,
    /// The keyed list entries above the struct (outermost first).
    parents: Vec<Anc>,
}

/// Where a choice's cases go: the data node's module, the absolute Rust
/// path of the module the choice's enum is in, the keyed entries above.
struct Within<'a> {
    module: &'a str,
    abs: TokenStream,
    parents: Vec<Anc>,
}

/// A keyed list entry above an action or nested notification, for its
/// `Parents`: the list's name and its key type (absolute paths).
#[derive(Clone)]
struct Anc {
    list: String,
    /// One key: its type; several: the key struct, with its fields.
    key_ty: TokenStream,
    key_fields: Option<Vec<proc_macro2::Ident>>,
}

/// A type as seen from some Rust module: `local` types are defined in the
/// generated tree below it and take a prefix when seen from further up.
#[derive(Clone)]
struct Rel {
    ty: TokenStream,
    local: bool,
}

impl Rel {
    fn under(&self, prefix: &TokenStream) -> Rel {
        if self.local {
            let t = &self.ty;
            Rel { ty: quote!(#prefix #t), local: true }
        } else {
            self.clone()
        }
    }
}

/// One path-builder method: the member's segment, what it returns (a local
/// path type or, for leaves, `String`) and the keys it takes.
#[derive(Clone)]
struct PathMethod {
    fid: proc_macro2::Ident,
    seg: String,
    ret: Option<Rel>,
    keys: Vec<(String, Rel)>,
}

impl PathMethod {
    fn under(&self, prefix: &TokenStream) -> PathMethod {
        PathMethod {
            fid: self.fid.clone(),
            seg: self.seg.clone(),
            ret: self.ret.as_ref().map(|r| r.under(prefix)),
            keys: self.keys.iter().map(|(k, r)| (k.clone(), r.under(prefix))).collect(),
        }
    }
}

/// What a struct tells its parent: its key types and its members' path
/// builders (types relative to the Rust module the struct is in).
#[derive(Default)]
struct Built {
    keys: Vec<(String, Rel)>,
    paths: Vec<PathMethod>,
}

fn typedef_name(set: &ModuleSet, i: usize) -> String {
    // The same typedef name with another shape (restricted at a use, or
    // from another module) is numbered.
    let t = &set.typedefs[i];
    let pos = set.typedefs[..i].iter().filter(|o| o.name == t.name).count();
    if pos == 0 {
        camel(&t.name)
    } else {
        format!("{}{}", camel(&t.name), pos + 1)
    }
}

fn identity_name(set: &ModuleSet, i: usize) -> String {
    let name = |s: &IdentitySet| s.bases.iter().map(|b| camel(&b.name)).collect::<Vec<_>>().join("Or");
    let want = name(&set.identities[i]);
    let pos = set.identities[..i].iter().filter(|o| name(o) == want).count();
    if pos == 0 {
        want
    } else {
        format!("{want}{}", pos + 1)
    }
}

/// Data members of a struct, flattened through choices: (module, name).
fn members(children: &[Node], out: &mut Vec<(String, String)>) {
    for c in children {
        match &c.kind {
            Kind::Choice { cases, .. } => {
                for case in cases {
                    members(case.children(), out)
                }
            }
            Kind::Case { children } => members(children, out),
            Kind::Operation { .. } | Kind::Notification { .. } => {}
            _ => out.push((c.module.clone(), c.name.clone())),
        }
    }
}

fn members_tokens(children: &[Node]) -> TokenStream {
    let mut m = Vec::new();
    members(children, &mut m);
    let items = m.iter().map(|(a, b)| {
        let (a, b) = (lit(a), lit(b));
        quote!((#a, #b))
    });
    quote!(&[#(#items),*])
}

/// The type name of case `i` of a choice (numbered when two cases' names
/// meet in camel case).
fn case_type_name(cases: &[Node], i: usize) -> String {
    let mut scope = Scope::types();
    let mut name = String::new();
    for c in &cases[..=i] {
        name = scope.claim(camel(&c.name));
    }
    name
}

/// The keyed list entries above the members of `spec`: its own parents,
/// and itself when it is a keyed list entry (its keys are its first
/// members, so they are in `built` before any member below it is emitted).
fn parents_below(spec: &StructSpec<'_>, built: &Built, key_fids: &[proc_macro2::Ident]) -> Vec<Anc> {
    let mut v = spec.parents.clone();
    if spec.shape == Shape::Entry && !built.keys.is_empty() {
        let abs = &spec.abs;
        let (key_ty, key_fields) = if built.keys.len() == 1 {
            let r = &built.keys[0].1;
            let t = &r.ty;
            (if r.local { quote!(#abs::#t) } else { t.clone() }, None)
        } else {
            let k = format_ident!("{}", spec.key_name);
            (quote!(#abs::#k), Some(key_fids.to_vec()))
        };
        v.push(Anc { list: spec.node.map(|n| n.name.clone()).unwrap_or_default(), key_ty, key_fields });
    }
    v
}

fn is_local(t: &Ty) -> bool {
    matches!(t, Ty::Enum(_) | Ty::Bits(_) | Ty::Union(_))
}

impl Em<'_> {
    /// Renders path builders: methods of a path type, or (root) free
    /// functions starting from the empty path.
    fn render_paths(&self, methods: &[PathMethod], root: bool) -> Vec<TokenStream> {
        let rt = &self.rt;
        methods
            .iter()
            .map(|m| {
                let fid = &m.fid;
                let seg = lit(&m.seg);
                let args = m.keys.iter().map(|(k, r)| {
                    let a = ident(&snake(k));
                    let t = &r.ty;
                    quote!(#a: impl Into<#t>)
                });
                let preds = m.keys.iter().map(|(k, r)| {
                    let a = ident(&snake(k));
                    let t = &r.ty;
                    let kl = lit(k);
                    quote!(p.push_str(&#rt::pred(#kl, &Into::<#t>::into(#a)));)
                });
                let (recv, base) =
                    if root { (quote!(), quote!("")) } else { (quote!(&self,), quote!(self.0)) };
                let (ret, wrap) = match &m.ret {
                    Some(r) => {
                        let t = &r.ty;
                        (quote!(#t), quote!(#t(p)))
                    }
                    None => (quote!(String), quote!(p)),
                };
                let mutability = if m.keys.is_empty() { quote!() } else { quote!(mut) };
                let many =
                    if m.keys.len() > 6 { quote!(#[allow(clippy::too_many_arguments)]) } else { quote!() };
                quote! {
                    #many
                    pub fn #fid(#recv #(#args),*) -> #ret {
                        let #mutability p = format!("{}/{}", #base, #seg);
                        #(#preds)*
                        #wrap
                    }
                }
            })
            .collect()
    }

    /// Emits the struct of `spec` into `out` (and everything below it into
    /// its child module).
    fn structure(&self, spec: &StructSpec<'_>, types: &mut Scope, out: &mut Vec<TokenStream>) -> Built {
        let rt = &self.rt;
        let id = format_ident!("{}", spec.name);
        let module = lit(spec.module);
        let mut child_items = Vec::new();
        let mut own_scope = Scope::types();
        let child_scope: &mut Scope = if spec.child_mod.is_some() { &mut own_scope } else { types };
        let prefix = match &spec.child_mod {
            Some(m) => {
                let m = ident(m);
                quote!(#m::)
            }
            None => quote!(),
        };
        let child_abs = match &spec.child_mod {
            Some(m) => {
                let (a, m) = (&spec.abs, ident(m));
                quote!(#a::#m)
            }
            None => spec.abs.clone(),
        };
        let mut built = Built::default();
        let mut fields_scope = Scope::default();
        let mut decls = Vec::new();
        let mut writes = Vec::new();
        let mut reads = Vec::new();
        let mut arbs = Vec::new();
        let mut consts = Vec::new();
        let mut defaults = Vec::new();
        // The key leaves' field names, in key order (as `built.keys`).
        let mut key_fids = Vec::new();
        // Fields `new()` leaves at their default (all but the keys).
        let mut plain_fields = Vec::new();
        for n in spec.children.iter().chain(spec.ops.iter()) {
            // Members from another module (augments) are prefixed with it.
            let want = if n.module != spec.module && spec.shape != Shape::Root {
                format!("{}_{}", snake(&n.module), snake(&n.name))
            } else {
                snake(&n.name)
            };
            let fsnake = fields_scope.claim(want.trim_start_matches('_').to_string());
            // Leaves' inline types claim their own name in `ty`.
            let fcamel = if matches!(n.kind, Kind::Leaf { .. } | Kind::LeafList { .. } | Kind::Any) {
                camel(&fsnake)
            } else {
                child_scope.claim(camel(&fsnake))
            };
            let fid = ident(&fsnake);
            let m = lit(&n.module);
            let name = lit(&n.name);
            let d = doc(n.description.as_deref());
            let dep = deprecated(n.deprecated);
            let ty_id = format_ident!("{}", fcamel);
            let seg = if spec.shape == Shape::Root || n.module != spec.module {
                format!("{}:{}", n.module, n.name)
            } else {
                n.name.clone()
            };
            if !matches!(n.kind, Kind::Choice { .. } | Kind::Operation { .. } | Kind::Notification { .. }) {
                let c = format_ident!("PATH_{}", shout(&fsnake));
                let p = lit(&n.schema_path);
                consts.push(quote!(#[doc = "Schema path of this member."] pub const #c: &'static str = #p;));
            }
            let mut is_key = false;
            // A child module never repeats its parent's name
            // (clippy::module_inception).
            let sub_mod = if spec.child_mod.as_deref() == Some(fsnake.as_str()) {
                format!("{fsnake}_")
            } else {
                fsnake.clone()
            };
            let leaf_path = PathMethod { fid: fid.clone(), seg: seg.clone(), ret: None, keys: Vec::new() };
            let sub = |shape: Shape, nkeys: usize, scope: &mut Scope| {
                let path_name = if matches!(shape, Shape::Container | Shape::Entry) {
                    scope.claim(format!("{fcamel}Path"))
                } else {
                    String::new()
                };
                let key_name = if nkeys > 1 { scope.claim(format!("{fcamel}Key")) } else { String::new() };
                (path_name, key_name)
            };
            match &n.kind {
                Kind::Leaf { ty, default, key } => {
                    let t = self.ty(ty, &fsnake, child_scope, &mut child_items, &prefix);
                    if *key && spec.shape == Shape::Entry {
                        decls.push(quote!(#d #dep pub #fid: #t));
                        writes.push(quote!(#rt::put_key(obj, pm, #m, #name, &self.#fid);));
                        reads.push(quote!(#fid: #rt::get_key(obj, pm, #m, #name, path)?));
                        arbs.push(quote!(#fid: #rt::Arb::arb(g)));
                        built.keys.push((n.name.clone(), Rel { ty: t.clone(), local: is_local(ty) }));
                        is_key = true;
                        key_fids.push(fid.clone());
                    } else {
                        decls.push(quote!(#d #dep pub #fid: Option<#t>));
                        writes.push(quote!(#rt::put_leaf(obj, pm, #m, #name, &self.#fid);));
                        reads.push(quote!(#fid: #rt::get_leaf(obj, pm, #m, #name, path)?));
                        arbs.push(quote!(#fid: #rt::Arb::arb(g)));
                        if let Some(dv) = default {
                            let c = format_ident!("DEFAULT_{}", shout(&fsnake));
                            let dv = lit(dv);
                            consts.push(quote!(#[doc = "Default value (canonical text)."] pub const #c: &'static str = #dv;));
                            defaults.push(quote! {
                                if self.#fid.is_none() {
                                    self.#fid = <#t as #rt::Value>::from_text(Self::#c).ok();
                                }
                            });
                        }
                    }
                    built.paths.push(leaf_path);
                }
                Kind::LeafList { ty, defaults: dvs, .. } => {
                    let t = self.ty(ty, &fsnake, child_scope, &mut child_items, &prefix);
                    if !dvs.is_empty() {
                        let c = format_ident!("DEFAULT_{}", shout(&fsnake));
                        let dvs: Vec<_> = dvs.iter().map(|d| lit(d)).collect();
                        consts.push(quote!(#[doc = "Default values (canonical text)."] pub const #c: &'static [&'static str] = &[#(#dvs),*];));
                        defaults.push(quote! {
                            if self.#fid.is_empty() {
                                self.#fid = Self::#c.iter().filter_map(|d| <#t as #rt::Value>::from_text(d).ok()).collect();
                            }
                        });
                    }
                    decls.push(quote!(#d #dep pub #fid: Vec<#t>));
                    writes.push(quote!(#rt::put_leaf_list(obj, pm, #m, #name, &self.#fid);));
                    reads.push(quote!(#fid: #rt::get_leaf_list(obj, pm, #m, #name, path)?));
                    arbs.push(quote!(#fid: #rt::Arb::arb(g)));
                    built.paths.push(leaf_path);
                }
                Kind::Any => {
                    decls.push(quote!(#d #dep pub #fid: Option<#rt::Json>));
                    writes.push(quote!(#rt::put_any(obj, pm, #m, #name, &self.#fid);));
                    reads.push(quote!(#fid: #rt::get_any(obj, pm, #m, #name, path)?));
                    arbs.push(quote!(#fid: None));
                    built.paths.push(leaf_path);
                }
                Kind::Container { presence, children, ops } => {
                    let (path_name, key_name) = sub(Shape::Container, 0, child_scope);
                    let spec2 = StructSpec {
                        name: fcamel.clone(),
                        path_name: path_name.clone(),
                        key_name,
                        node: Some(n),
                        doc: n.description.clone(),
                        module: &n.module,
                        children,
                        ops,
                        shape: Shape::Container,
                        child_mod: Some(sub_mod.clone()),
                        schema_path: n.schema_path.clone(),
                        keys: &[],
                        abs: child_abs.clone(),
                        parents: parents_below(spec, &built, &key_fids),
                    };
                    self.structure(&spec2, child_scope, &mut child_items);
                    if *presence {
                        decls.push(quote!(#d #dep pub #fid: Option<#prefix #ty_id>));
                        writes.push(quote!(#rt::put_presence(obj, pm, #m, #name, &self.#fid);));
                        reads.push(quote!(#fid: #rt::get_presence(obj, pm, #m, #name, path)?));
                        defaults.push(quote!(if let Some(c) = &mut self.#fid { c.apply_defaults(); }));
                    } else {
                        decls.push(quote!(#d #dep pub #fid: #prefix #ty_id));
                        writes.push(quote!(#rt::put_container(obj, pm, #m, #name, &self.#fid);));
                        reads.push(quote!(#fid: #rt::get_container(obj, pm, #m, #name, path)?));
                        defaults.push(quote!(self.#fid.apply_defaults();));
                    }
                    arbs.push(quote!(#fid: #rt::Arb::arb(g)));
                    let pt = format_ident!("{}", path_name);
                    built.paths.push(PathMethod {
                        ret: Some(Rel { ty: quote!(#prefix #pt), local: true }),
                        ..leaf_path
                    });
                }
                Kind::List { keys, children, ops, .. } => {
                    let (path_name, key_name) = sub(Shape::Entry, keys.len(), child_scope);
                    let spec2 = StructSpec {
                        name: fcamel.clone(),
                        path_name: path_name.clone(),
                        key_name: key_name.clone(),
                        node: Some(n),
                        doc: n.description.clone(),
                        module: &n.module,
                        children,
                        ops,
                        shape: Shape::Entry,
                        child_mod: Some(sub_mod.clone()),
                        schema_path: n.schema_path.clone(),
                        keys,
                        abs: child_abs.clone(),
                        parents: parents_below(spec, &built, &key_fids),
                    };
                    let entry = self.structure(&spec2, child_scope, &mut child_items);
                    let pt = format_ident!("{}", path_name);
                    if keys.is_empty() {
                        decls.push(quote!(#d #dep pub #fid: Vec<#prefix #ty_id>));
                        writes.push(quote!(#rt::put_list(obj, pm, #m, #name, self.#fid.iter());));
                        reads.push(quote!(#fid: #rt::get_list(obj, pm, #m, #name, path)?));
                        arbs.push(quote!(#fid: #rt::Arb::arb(g)));
                        defaults.push(quote!(for e in &mut self.#fid { e.apply_defaults(); }));
                    } else {
                        let key_ty = if entry.keys.len() == 1 {
                            entry.keys[0].1.under(&prefix).ty
                        } else {
                            let k = format_ident!("{}", key_name);
                            quote!(#prefix #k)
                        };
                        decls.push(quote!(#d #dep pub #fid: #rt::IndexMap<#key_ty, #prefix #ty_id>));
                        writes.push(quote!(#rt::put_list(obj, pm, #m, #name, self.#fid.values());));
                        reads
                            .push(quote!(#fid: #rt::get_map(obj, pm, #m, #name, path, #prefix #ty_id::key)?));
                        arbs.push(quote!(#fid: #rt::arb_map(g, #prefix #ty_id::key)));
                        defaults.push(quote!(for e in self.#fid.values_mut() { e.apply_defaults(); }));
                    }
                    built.paths.push(PathMethod {
                        ret: Some(Rel { ty: quote!(#prefix #pt), local: true }),
                        keys: entry.keys.iter().map(|(k, r)| (k.clone(), r.under(&prefix))).collect(),
                        ..leaf_path
                    });
                }
                Kind::Choice { cases, default_case } => {
                    let within = Within {
                        module: spec.module,
                        abs: child_abs.clone(),
                        parents: parents_below(spec, &built, &key_fids),
                    };
                    let case_paths = self.choice(n, &fcamel, &sub_mod, cases, &within, &mut child_items);
                    // No case chosen: the default case's defaults apply (RFC 7950 §7.9.3).
                    if let Some(dc) = default_case {
                        if let Some(pos) = cases.iter().position(|c| c.name == *dc) {
                            let cid = format_ident!("{}", case_type_name(cases, pos));
                            let m = ident(&sub_mod);
                            defaults.push(quote! {
                                if self.#fid.is_none() {
                                    let mut c = #prefix #m::#cid::default();
                                    c.apply_defaults();
                                    if c != #prefix #m::#cid::default() {
                                        self.#fid = Some(#prefix #ty_id::#cid(c));
                                    }
                                }
                            });
                        }
                    }
                    decls.push(quote!(#d #dep pub #fid: Option<#prefix #ty_id>));
                    writes.push(quote!(#rt::put_choice(obj, pm, &self.#fid);));
                    reads.push(quote!(#fid: #rt::get_choice(obj, pm, path)?));
                    arbs.push(quote!(#fid: #rt::Arb::arb(g)));
                    defaults.push(quote!(if let Some(c) = &mut self.#fid { c.apply_defaults(); }));
                    for p in case_paths {
                        let mut p = p.under(&prefix);
                        p.fid = ident(
                            &fields_scope.claim(p.fid.to_string().trim_start_matches("r#").to_string()),
                        );
                        built.paths.push(p);
                    }
                }
                Kind::Operation { input, output } => {
                    let parents = parents_below(spec, &built, &key_fids);
                    child_items.push(self.operation(n, &fsnake, input, output, &child_abs, &parents));
                }
                Kind::Notification { children } => {
                    let spec2 = StructSpec {
                        name: fcamel.clone(),
                        path_name: String::new(),
                        key_name: String::new(),
                        node: Some(n),
                        doc: n.description.clone(),
                        module: &n.module,
                        children,
                        ops: &[],
                        shape: Shape::Op,
                        child_mod: Some(sub_mod.clone()),
                        schema_path: n.schema_path.clone(),
                        keys: &[],
                        abs: child_abs.clone(),
                        parents: Vec::new(),
                    };
                    self.structure(&spec2, child_scope, &mut child_items);
                    child_items.push(self.op_document(&ty_id, &n.module, &n.name, "notification"));
                    let parents = parents_below(spec, &built, &key_fids);
                    if !parents.is_empty() {
                        let pid = format_ident!("{}", child_scope.claim(format!("{fcamel}Parents")));
                        child_items.push(self.parents_struct(&pid, n, &parents));
                    }
                }
                Kind::Case { .. } => {}
            }
            if !is_key && !matches!(n.kind, Kind::Operation { .. } | Kind::Notification { .. }) {
                plain_fields.push(quote!(#fid: Default::default()));
            }
        }

        let d = doc(spec.doc.as_deref());
        let dep = deprecated(spec.node.is_some_and(|n| n.deprecated));
        let keyed = spec.shape == Shape::Entry && !spec.keys.is_empty();
        let derive = if keyed {
            quote!(#[derive(Debug, Clone, PartialEq)])
        } else {
            quote!(#[derive(Debug, Clone, PartialEq, Default)])
        };
        let members = members_tokens(spec.children);
        let schema_path = lit(&spec.schema_path);
        let check = match spec.shape {
            Shape::Case => quote!(),
            Shape::Root => quote!(#rt::check_members(obj, pm, Self::MEMBERS, path, Some(#module))?;),
            _ => quote!(#rt::check_members(obj, pm, Self::MEMBERS, path, None)?;),
        };
        let mut extra = Vec::new();
        if spec.shape == Shape::Root {
            extra.push(quote! {
                impl #rt::Document for #id {
                    fn to_json(&self) -> #rt::Json {
                        let mut obj = #rt::Object::new();
                        #rt::Node::write(self, &mut obj, "");
                        #rt::Json::Object(obj)
                    }
                    fn from_json(v: &#rt::Json) -> Result<Self, #rt::Error> {
                        #rt::Node::read(#rt::object(v, "")?, "", "")
                    }
                }
            });
            extra.push(self.serde_impls(
                &id,
                quote!(#rt::Document::to_json(self)),
                quote!(#rt::deserialize_document(d)),
            ));
            extra.extend(self.render_paths(&built.paths, true));
        }
        if keyed {
            let key_fields = &key_fids;
            let key_tys: Vec<_> = built.keys.iter().map(|(_, r)| r.ty.clone()).collect();
            let (key_ty, body) = if key_fields.len() == 1 {
                let k = &key_fields[0];
                (key_tys[0].clone(), quote!(self.#k.clone()))
            } else {
                let kid = format_ident!("{}", spec.key_name);
                let kd = lit(&format!("The keys of a `{}` entry.", spec.name));
                extra.push(quote! {
                    #[doc = #kd]
                    #[derive(Debug, Clone, PartialEq, Eq, Hash)]
                    pub struct #kid { #(pub #key_fields: #key_tys,)* }
                });
                (quote!(#kid), quote!(#kid { #(#key_fields: self.#key_fields.clone()),* }))
            };
            let many =
                if key_fields.len() > 6 { quote!(#[allow(clippy::too_many_arguments)]) } else { quote!() };
            extra.push(quote! {
                #[allow(deprecated)]
                impl #id {
                    /// The entry's key, as the list's map is keyed.
                    #[allow(clippy::clone_on_copy)]
                    pub fn key(&self) -> #key_ty { #body }
                    /// An entry with its keys set and nothing else.
                    #many
                    pub fn new(#(#key_fields: impl Into<#key_tys>),*) -> Self {
                        #id { #(#key_fields: #key_fields.into(),)* #(#plain_fields,)* }
                    }
                }
            });
        }
        if self.arb {
            let attr = self.arb_attr();
            extra.push(quote! {
                #attr
                #[allow(deprecated)]
                impl #rt::Arb for #id {
                    fn arb(g: &mut #rt::Gen) -> Self {
                        let _ = &g;
                        #id { #(#arbs,)* }
                    }
                }
            });
        }
        if matches!(spec.shape, Shape::Container | Shape::Entry) {
            let path_ty = format_ident!("{}", spec.path_name);
            let pd =
                lit(&format!("Instance path of a `{}` (in `.0`), with builders for its members.", spec.name));
            let methods = self.render_paths(&built.paths, false);
            extra.push(quote! {
                #[doc = #pd]
                #[derive(Debug, Clone, PartialEq, Eq, Hash)]
                pub struct #path_ty(pub String);
                impl #path_ty {
                    #(#methods)*
                }
            });
        }
        match &spec.child_mod {
            Some(m) if !child_items.is_empty() => {
                let m = ident(m);
                let md = lit(&format!("Types of the members of [`{}`].", spec.name));
                extra.push(quote! {
                    #[doc = #md]
                    pub mod #m {
                        #(#child_items)*
                    }
                });
            }
            Some(_) => {}
            None => extra.extend(child_items),
        }
        out.push(quote! {
            #d
            #dep
            #derive
            #[allow(deprecated)]
            pub struct #id {
                #(#decls,)*
            }
            #[allow(deprecated)]
            impl #id {
                /// Schema path of the node.
                pub const SCHEMA_PATH: &'static str = #schema_path;
                /// The YANG module of the node.
                pub const MODULE: &'static str = #module;
                #(#consts)*
                /// Sets every unset leaf that has a default to it, here and below.
                pub fn apply_defaults(&mut self) {
                    #(#defaults)*
                }
            }
            #[allow(deprecated)]
            impl #rt::Node for #id {
                const MEMBERS: &'static [(&'static str, &'static str)] = #members;
                fn write(&self, obj: &mut #rt::Object, pm: &str) {
                    let _ = (&obj, pm);
                    #(#writes)*
                }
                fn read(obj: &#rt::Object, pm: &str, path: &str) -> Result<Self, #rt::Error> {
                    let _ = (&obj, pm, path);
                    #check
                    Ok(#id { #(#reads,)* })
                }
            }
            #(#extra)*
        });
        built
    }

    /// A choice: an enum with one variant per case, each case a struct in
    /// the choice's module. Returns the cases' path builders, relative to
    /// the module the enum is in.
    fn choice(
        &self,
        n: &Node,
        camel_name: &str,
        snake_name: &str,
        cases: &[Node],
        within: &Within<'_>,
        out: &mut Vec<TokenStream>,
    ) -> Vec<PathMethod> {
        let Within { module: data_module, abs, parents } = within;
        let rt = &self.rt;
        let id = format_ident!("{}", camel_name);
        let m = ident(snake_name);
        let mut scope = Scope::types();
        // Case modules never repeat the choice's (clippy::module_inception).
        let mut case_mods = Scope::with(&[snake_name]);
        let mut items = Vec::new();
        let mut variants = Vec::new();
        let mut writes = Vec::new();
        let mut reads = Vec::new();
        let mut defaults = Vec::new();
        let mut arbs = Vec::new();
        let mut paths = Vec::new();
        for (i, case) in cases.iter().enumerate() {
            let cname = case_type_name(cases, i);
            let _ = scope.claim(cname.clone());
            let cid = format_ident!("{}", cname);
            let spec = StructSpec {
                name: cname.clone(),
                path_name: String::new(),
                key_name: String::new(),
                node: Some(case),
                doc: case.description.clone(),
                module: data_module,
                children: case.children(),
                ops: &[],
                shape: Shape::Case,
                child_mod: Some(case_mods.claim(snake(&case.name).trim_start_matches('_').to_string())),
                schema_path: n.schema_path.clone(),
                keys: &[],
                abs: quote!(#abs::#m),
                parents: parents.clone(),
            };
            let built = self.structure(&spec, &mut scope, &mut items);
            paths.extend(built.paths.iter().map(|p| p.under(&quote!(#m::))));
            let d = doc(case.description.as_deref());
            variants.push(quote!(#d #cid(#m::#cid)));
            writes.push(quote!(#id::#cid(c) => #rt::Node::write(c, obj, pm)));
            reads.push(quote! {
                if #rt::present(obj, pm, <#m::#cid as #rt::Node>::MEMBERS) {
                    return Ok(Some(#id::#cid(#rt::Node::read(obj, pm, path)?)));
                }
            });
            defaults.push(quote!(#id::#cid(c) => c.apply_defaults()));
            let n = Literal::usize_unsuffixed(i);
            arbs.push(quote!(#n => #id::#cid(#rt::Arb::arb(g))));
        }
        let d = doc(n.description.as_deref());
        let arb = self.arb_pick(&id, &arbs, cases.len(), quote!(unreachable!()));
        let md = lit(&format!("The cases of [`{camel_name}`]."));
        out.push(quote! {
            #d
            #[derive(Debug, Clone, PartialEq)]
            pub enum #id {
                #(#variants,)*
            }
            impl #id {
                /// Sets the defaults of the chosen case.
                pub fn apply_defaults(&mut self) {
                    match self { #(#defaults,)* }
                }
            }
            impl #rt::Choice for #id {
                fn write(&self, obj: &mut #rt::Object, pm: &str) {
                    match self { #(#writes,)* }
                }
                fn read(obj: &#rt::Object, pm: &str, path: &str) -> Result<Option<Self>, #rt::Error> {
                    #(#reads)*
                    Ok(None)
                }
            }
            #arb
            #[doc = #md]
            pub mod #m {
                #(#items)*
            }
        });
        paths
    }

    /// An RPC or action: a module with `Input` and `Output`.
    fn operation(
        &self,
        n: &Node,
        snake_name: &str,
        input: &[Node],
        output: &[Node],
        abs: &TokenStream,
        parents: &[Anc],
    ) -> TokenStream {
        let m = ident(snake_name);
        let mut scope = Scope::types();
        let _ = (scope.claim("Input".into()), scope.claim("Output".into()), scope.claim("Parents".into()));
        let mut items = Vec::new();
        if !parents.is_empty() {
            items.push(self.parents_struct(&format_ident!("Parents"), n, parents));
        }
        for (name, children) in [("Input", input), ("Output", output)] {
            let spec = StructSpec {
                name: name.into(),
                path_name: String::new(),
                key_name: String::new(),
                node: None,
                doc: Some(format!("{} of `{}`.", name, n.name)),
                module: &n.module,
                children,
                ops: &[],
                shape: Shape::Op,
                child_mod: Some(name.to_ascii_lowercase()),
                schema_path: format!("{}/{}", n.schema_path, name.to_ascii_lowercase()),
                keys: &[],
                abs: quote!(#abs::#m),
                parents: Vec::new(),
            };
            self.structure(&spec, &mut scope, &mut items);
            let id = format_ident!("{}", name);
            let kind = if name == "Input" { "input" } else { "output" };
            items.push(self.op_document(&id, &n.module, &n.name, kind));
        }
        let d = doc(n.description.as_deref());
        let p = lit(&n.schema_path);
        let dep = deprecated(n.deprecated);
        quote! {
            #d
            #dep
            pub mod #m {
                /// Schema path of the operation.
                pub const SCHEMA_PATH: &str = #p;
                #(#items)*
            }
        }
    }

    /// `Parents` of an action or nested notification `n`: the keys of the
    /// list entries above it, read from the operation's tree.
    fn parents_struct(&self, id: &proc_macro2::Ident, n: &Node, parents: &[Anc]) -> TokenStream {
        let rt = &self.rt;
        let mut fields = Scope::default();
        let mut decls = Vec::new();
        let mut reads = Vec::new();
        for (i, a) in parents.iter().enumerate() {
            let fid = ident(&fields.claim(snake(&a.list).trim_start_matches('_').to_string()));
            let t = &a.key_ty;
            let d = lit(&format!("The key of the `{}` entry.", a.list));
            decls.push(quote!(#[doc = #d] pub #fid: #t));
            let level = Literal::usize_unsuffixed(i);
            reads.push(match &a.key_fields {
                None => quote!(#fid: #rt::parent_key(&levels, #level, 0)?),
                Some(kf) => {
                    let pos = (0..kf.len()).map(Literal::usize_unsuffixed);
                    quote!(#fid: #t { #(#kf: #rt::parent_key(&levels, #level, #pos)?,)* })
                }
            });
        }
        let (m, name) = (lit(&n.module), lit(&n.name));
        let count = Literal::usize_unsuffixed(parents.len());
        let d = lit(&format!("The list entries `{}` is called on or sent from, by their keys.", n.name));
        quote! {
            #[doc = #d]
            #[derive(Debug, Clone, PartialEq, Eq, Hash)]
            pub struct #id {
                #(#decls,)*
            }
            impl #id {
                /// Reads the keys from an operation tree (an action's input as
                /// the server parsed it, a notification with its parents).
                pub fn from_tree(tree: &#rt::DataTree<'_>) -> Result<Self, #rt::Error> {
                    let levels = #rt::parent_keys(tree, (#m, #name), #count)?;
                    Ok(#id { #(#reads,)* })
                }
            }
        }
    }

    /// serde `Serialize`/`Deserialize` through the RFC 7951 JSON value.
    fn serde_impls(&self, id: &proc_macro2::Ident, to: TokenStream, from: TokenStream) -> TokenStream {
        let rt = &self.rt;
        quote! {
            impl ::serde::Serialize for #id {
                fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                    #rt::serialize_json(&#to, s)
                }
            }
            impl<'de> ::serde::Deserialize<'de> for #id {
                fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                    #from
                }
            }
        }
    }

    /// `Operation` for RPC/action input and output and notifications: the
    /// operation's module and name, to wrap and unwrap the members.
    fn op_document(&self, id: &proc_macro2::Ident, module: &str, name: &str, kind: &str) -> TokenStream {
        let rt = &self.rt;
        let (m, n, k) = (lit(module), lit(name), lit(kind));
        let serde = self.serde_impls(
            id,
            quote!(#rt::Operation::to_json(self)),
            quote!(#rt::deserialize_operation(d)),
        );
        quote! {
            impl #rt::Operation for #id {
                const OPERATION: (&'static str, &'static str) = (#m, #n);
                const KIND: &'static str = #k;
            }
            #serde
        }
    }
}

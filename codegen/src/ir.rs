//! The intermediate representation: the compiled schema reduced to what the
//! emitter needs, with no libyang pointers left in it.

use std::collections::BTreeMap;

use libyang3_sys as ffi;
use yang3::context::Context;
use yang3::schema::{SchemaNode, SchemaNodeKind, SchemaPathFormat};

use crate::raw::{self, Ident, IdentityValue, Item};

/// The modules to generate, with the typedefs and identity sets their
/// leaves share.
#[derive(Debug, Default)]
pub struct ModuleSet {
    pub modules: Vec<Module>,
    /// Typedefs referenced by the modules, one per (name, shape).
    pub typedefs: Vec<Typedef>,
    /// Identityref value sets, one per set of bases.
    pub identities: Vec<IdentitySet>,
}

#[derive(Debug)]
pub struct Module {
    pub name: String,
    pub namespace: String,
    pub revision: Option<String>,
    pub description: Option<String>,
    /// Top-level data nodes defined by this module (augments of other
    /// modules' nodes appear under their target instead).
    pub data: Vec<Node>,
    /// RPCs and top-level notifications.
    pub ops: Vec<Node>,
}

#[derive(Debug, Clone)]
pub struct Node {
    pub name: String,
    pub module: String,
    pub description: Option<String>,
    pub deprecated: bool,
    /// Schema path, module-qualified where the module changes
    /// (`/occ-connections:connections/csc`).
    pub schema_path: String,
    pub kind: Kind,
}

#[derive(Debug, Clone)]
pub enum Kind {
    Container {
        presence: bool,
        children: Vec<Node>,
        ops: Vec<Node>,
    },
    List {
        keys: Vec<String>,
        user_ordered: bool,
        children: Vec<Node>,
        ops: Vec<Node>,
    },
    Leaf {
        ty: Ty,
        default: Option<String>,
        key: bool,
    },
    LeafList {
        ty: Ty,
        user_ordered: bool,
        /// Canonical default values (read from the compiled node: yang3
        /// exposes none).
        defaults: Vec<String>,
    },
    Choice {
        cases: Vec<Node>,
        default_case: Option<String>,
    },
    Case {
        children: Vec<Node>,
    },
    Any,
    /// An RPC or action: input and output children.
    Operation {
        input: Vec<Node>,
        output: Vec<Node>,
    },
    Notification {
        children: Vec<Node>,
    },
}

impl Node {
    /// Data children (containers, lists, leaves, choices, cases).
    pub fn children(&self) -> &[Node] {
        match &self.kind {
            Kind::Container { children, .. }
            | Kind::List { children, .. }
            | Kind::Case { children }
            | Kind::Notification { children } => children,
            _ => &[],
        }
    }

    /// Actions and nested notifications.
    pub fn ops(&self) -> &[Node] {
        match &self.kind {
            Kind::Container { ops, .. } | Kind::List { ops, .. } => ops,
            _ => &[],
        }
    }
}

/// A leaf's value type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Ty {
    Bool,
    Int {
        bits: u8,
        signed: bool,
    },
    Dec64(u8),
    String,
    Binary,
    Empty,
    InstanceId,
    Enum(Vec<Item>),
    Bits(Vec<Item>),
    /// Index into [`ModuleSet::identities`].
    Identity(usize),
    Union(Vec<Ty>),
    /// Index into [`ModuleSet::typedefs`].
    Typedef(usize),
}

#[derive(Debug, Clone)]
pub struct Typedef {
    pub name: String,
    pub ty: Ty,
}

#[derive(Debug, Clone)]
pub struct IdentitySet {
    pub bases: Vec<Ident>,
    /// Sorted by module and name.
    pub values: Vec<IdentityValue>,
}

/// Builds the IR of `modules` (names of implemented modules in `ctx`).
pub fn build(ctx: &Context, modules: &[String]) -> Result<ModuleSet, String> {
    let mut b = Builder { set: ModuleSet::default(), typedef_index: BTreeMap::new() };
    for name in modules {
        let m = ctx
            .get_module_implemented(name)
            .ok_or_else(|| format!("module {name} is not implemented in the context"))?;
        let mut data = Vec::new();
        for n in m.data() {
            // Top-level augments of another module's nodes are reached from
            // their target; `data()` only lists this module's own roots.
            if let Some(node) = b.node(&n)? {
                data.push(node);
            }
        }
        let mut ops = Vec::new();
        for n in m.rpcs().chain(m.notifications()) {
            if let Some(node) = b.node(&n)? {
                ops.push(node);
            }
        }
        b.set.modules.push(Module {
            name: m.name().to_string(),
            namespace: m.namespace().to_string(),
            revision: m.revision().map(str::to_string),
            description: m.description().map(str::to_string),
            data,
            ops,
        });
    }
    Ok(b.set)
}

struct Builder {
    set: ModuleSet,
    typedef_index: BTreeMap<(String, String), usize>,
}

impl Builder {
    fn node(&mut self, n: &SchemaNode<'_>) -> Result<Option<Node>, String> {
        let kind = match n.kind() {
            SchemaNodeKind::Container => Kind::Container {
                presence: !n.is_np_container(),
                children: self.children(n.children())?,
                ops: self.children(n.actions().chain(n.notifications()))?,
            },
            SchemaNodeKind::List => Kind::List {
                keys: n.list_keys().map(|k| k.name().to_string()).collect(),
                user_ordered: n.is_user_ordered(),
                children: self.children(n.children())?,
                ops: self.children(n.actions().chain(n.notifications()))?,
            },
            SchemaNodeKind::Leaf => {
                let ty = self.leaf_ty(n)?;
                // SAFETY: the node is a compiled leaf of the borrowed context.
                let default = if unsafe { raw::leaf_has_default(n.as_raw()) } {
                    n.default_value_canonical().map(str::to_string)
                } else {
                    None
                };
                Kind::Leaf { ty, default, key: n.is_list_key() }
            }
            SchemaNodeKind::LeafList => {
                let ty = self.leaf_ty(n)?;
                // SAFETY: the node is a compiled leaf-list of the borrowed context.
                let defaults = unsafe { raw::leaflist_defaults(n.as_raw()) };
                Kind::LeafList { ty, user_ordered: n.is_user_ordered(), defaults }
            }
            SchemaNodeKind::Choice => Kind::Choice {
                cases: self.children(n.children())?,
                default_case: n.default_case().map(|c| c.name().to_string()),
            },
            SchemaNodeKind::Case => Kind::Case { children: self.children(n.children())? },
            SchemaNodeKind::AnyData | SchemaNodeKind::AnyXml => Kind::Any,
            SchemaNodeKind::Rpc | SchemaNodeKind::Action => {
                let input = match n.input() {
                    Some((c, _)) => self.children(c)?,
                    None => Vec::new(),
                };
                let output = match n.output() {
                    Some((c, _)) => self.children(c)?,
                    None => Vec::new(),
                };
                Kind::Operation { input, output }
            }
            SchemaNodeKind::Notification => Kind::Notification { children: self.children(n.children())? },
            SchemaNodeKind::Input | SchemaNodeKind::Output => return Ok(None),
        };
        Ok(Some(Node {
            name: n.name().to_string(),
            module: n.module().name().to_string(),
            description: n.description().map(str::to_string),
            // SAFETY: the node belongs to the borrowed, compiled context.
            deprecated: unsafe { raw::deprecated(n.as_raw()) },
            schema_path: n.path(SchemaPathFormat::DATA),
            kind,
        }))
    }

    fn children<'a>(&mut self, it: impl Iterator<Item = SchemaNode<'a>>) -> Result<Vec<Node>, String> {
        let mut out = Vec::new();
        for c in it {
            if let Some(node) = self.node(&c)? {
                out.push(node);
            }
        }
        Ok(out)
    }

    fn leaf_ty(&mut self, n: &SchemaNode<'_>) -> Result<Ty, String> {
        let t = n
            .leaf_type()
            .ok_or_else(|| format!("{}: leaf without a type", n.path(SchemaPathFormat::DATA)))?;
        // SAFETY: the type belongs to the borrowed, compiled context.
        unsafe { self.ty(t.as_raw()) }
    }

    /// # Safety
    /// `t` is a compiled type of the borrowed context.
    unsafe fn ty(&mut self, t: *const ffi::lysc_type) -> Result<Ty, String> {
        // SAFETY: contract, for every raw call below.
        unsafe {
            let base = raw::basetype(t);
            if base == ffi::LY_DATA_TYPE::LY_TYPE_LEAFREF {
                // A leafref takes its target's type (and its typedef).
                return self.ty(raw::leafref_real(t));
            }
            let plain = self.plain_ty(t, base)?;
            match raw::typedef_name(t) {
                Some(name) => {
                    let key = (name.clone(), format!("{plain:?}"));
                    if let Some(i) = self.typedef_index.get(&key) {
                        return Ok(Ty::Typedef(*i));
                    }
                    let i = self.set.typedefs.len();
                    self.set.typedefs.push(Typedef { name, ty: plain });
                    self.typedef_index.insert(key, i);
                    Ok(Ty::Typedef(i))
                }
                None => Ok(plain),
            }
        }
    }

    /// # Safety
    /// As [`Builder::ty`].
    unsafe fn plain_ty(&mut self, t: *const ffi::lysc_type, base: u32) -> Result<Ty, String> {
        use ffi::LY_DATA_TYPE as T;
        // SAFETY: contract.
        Ok(unsafe {
            match base {
                T::LY_TYPE_BOOL => Ty::Bool,
                T::LY_TYPE_INT8 => Ty::Int { bits: 8, signed: true },
                T::LY_TYPE_INT16 => Ty::Int { bits: 16, signed: true },
                T::LY_TYPE_INT32 => Ty::Int { bits: 32, signed: true },
                T::LY_TYPE_INT64 => Ty::Int { bits: 64, signed: true },
                T::LY_TYPE_UINT8 => Ty::Int { bits: 8, signed: false },
                T::LY_TYPE_UINT16 => Ty::Int { bits: 16, signed: false },
                T::LY_TYPE_UINT32 => Ty::Int { bits: 32, signed: false },
                T::LY_TYPE_UINT64 => Ty::Int { bits: 64, signed: false },
                T::LY_TYPE_DEC64 => Ty::Dec64(raw::fraction_digits(t)),
                T::LY_TYPE_STRING => Ty::String,
                T::LY_TYPE_BINARY => Ty::Binary,
                T::LY_TYPE_EMPTY => Ty::Empty,
                T::LY_TYPE_INST => Ty::InstanceId,
                T::LY_TYPE_ENUM => Ty::Enum(raw::enums(t)),
                T::LY_TYPE_BITS => Ty::Bits(raw::bits(t)),
                T::LY_TYPE_IDENT => {
                    let (bases, values) = raw::identities(t);
                    let i = match self.set.identities.iter().position(|s| s.bases == bases) {
                        Some(i) => i,
                        None => {
                            self.set.identities.push(IdentitySet { bases, values });
                            self.set.identities.len() - 1
                        }
                    };
                    Ty::Identity(i)
                }
                T::LY_TYPE_UNION => {
                    let mut members = Vec::new();
                    for m in raw::union_members(t) {
                        members.push(self.ty(m)?);
                    }
                    Ty::Union(members)
                }
                other => return Err(format!("unsupported base type {other}")),
            }
        })
    }
}

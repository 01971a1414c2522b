//! The one place the generator reads libyang's compiled schema through raw
//! `libyang3-sys` pointers, for what the `yang3` crate does not wrap: the
//! members of enumeration and bits types, union member types, decimal64
//! fraction digits, identityref bases with their derived identities, and a
//! node's status flags.
//!
//! Every function takes a pointer that came from a live, compiled `yang3`
//! context and only reads from it; the context outlives the whole
//! generation (it is borrowed by [`crate::ir::build`]).

use std::ffi::{c_char, CStr};

use libyang3_sys as ffi;

/// One member of an enumeration (`value`) or bits type (`position`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Item {
    pub name: String,
    pub number: i64,
    pub description: Option<String>,
    pub deprecated: bool,
}

/// An identity an identityref may take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityValue {
    pub ident: Ident,
    pub description: Option<String>,
    pub deprecated: bool,
}

/// An identity, by module and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ident {
    pub module: String,
    pub name: String,
}

fn string(p: *const c_char) -> Option<String> {
    if p.is_null() {
        return None;
    }
    // SAFETY: libyang strings are NUL-terminated and live as long as the
    // context (module contract).
    Some(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
}

/// `LY_ARRAY_COUNT`: a libyang sized array keeps its length as a u64 just
/// before the first element; a null array is empty.
///
/// # Safety
/// `array` is null or a libyang sized array.
unsafe fn count<T>(array: *const T) -> usize {
    if array.is_null() {
        return 0;
    }
    // SAFETY: contract.
    unsafe { *(array as *const u64).sub(1) as usize }
}

/// The typedef a compiled type was referenced through (`None` for a
/// built-in type used directly).
///
/// # Safety
/// `t` points to a compiled type of a live context.
pub unsafe fn typedef_name(t: *const ffi::lysc_type) -> Option<String> {
    // SAFETY: contract.
    string(unsafe { (*t).name })
}

/// # Safety
/// `t` points to a compiled type of a live context.
pub unsafe fn basetype(t: *const ffi::lysc_type) -> u32 {
    // SAFETY: contract.
    unsafe { (*t).basetype }
}

/// # Safety
/// `items` is a libyang sized array of bit/enum items.
unsafe fn items(items: *const ffi::lysc_type_bitenum_item, bits: bool) -> Vec<Item> {
    let mut out = Vec::new();
    // SAFETY: contract; each index is below the array's count.
    unsafe {
        for i in 0..count(items) {
            let it = &*items.add(i);
            let number = if bits {
                i64::from(it.__bindgen_anon_1.position)
            } else {
                i64::from(it.__bindgen_anon_1.value)
            };
            out.push(Item {
                name: string(it.name).unwrap_or_default(),
                number,
                description: string(it.dsc),
                deprecated: it.flags & ffi::LYS_STATUS_DEPRC as u16 != 0,
            });
        }
    }
    out
}

/// The enums of an enumeration type.
///
/// # Safety
/// `t` is a compiled type whose basetype is LY_TYPE_ENUM.
pub unsafe fn enums(t: *const ffi::lysc_type) -> Vec<Item> {
    // SAFETY: contract (lysc_type_enum starts with lysc_type).
    unsafe { items((*(t as *const ffi::lysc_type_enum)).enums, false) }
}

/// The bits of a bits type, in position order.
///
/// # Safety
/// `t` is a compiled type whose basetype is LY_TYPE_BITS.
pub unsafe fn bits(t: *const ffi::lysc_type) -> Vec<Item> {
    // SAFETY: contract.
    let mut v = unsafe { items((*(t as *const ffi::lysc_type_bits)).bits, true) };
    v.sort_by_key(|b| b.number);
    v
}

/// Fraction digits of a decimal64 type.
///
/// # Safety
/// `t` is a compiled type whose basetype is LY_TYPE_DEC64.
pub unsafe fn fraction_digits(t: *const ffi::lysc_type) -> u8 {
    // SAFETY: contract.
    unsafe { (*(t as *const ffi::lysc_type_dec)).fraction_digits }
}

/// Member types of a union, in order.
///
/// # Safety
/// `t` is a compiled type whose basetype is LY_TYPE_UNION.
pub unsafe fn union_members(t: *const ffi::lysc_type) -> Vec<*const ffi::lysc_type> {
    // SAFETY: contract.
    unsafe {
        let types = (*(t as *const ffi::lysc_type_union)).types;
        (0..count(types)).map(|i| *types.add(i) as *const ffi::lysc_type).collect()
    }
}

/// The real (non-leafref) type a leafref resolves to.
///
/// # Safety
/// `t` is a compiled type whose basetype is LY_TYPE_LEAFREF.
pub unsafe fn leafref_real(t: *const ffi::lysc_type) -> *const ffi::lysc_type {
    // SAFETY: contract.
    unsafe { (*(t as *const ffi::lysc_type_leafref)).realtype }
}

/// # Safety
/// `id` points to a compiled identity.
unsafe fn ident(id: *const ffi::lysc_ident) -> Ident {
    // SAFETY: contract; an identity's module is set.
    unsafe {
        Ident {
            module: string((*(*id).module).name).unwrap_or_default(),
            name: string((*id).name).unwrap_or_default(),
        }
    }
}

/// The bases of an identityref type and every identity derived from them
/// (transitively), sorted; the values an instance may take.
///
/// # Safety
/// `t` is a compiled type whose basetype is LY_TYPE_IDENT.
pub unsafe fn identities(t: *const ffi::lysc_type) -> (Vec<Ident>, Vec<IdentityValue>) {
    let mut bases = Vec::new();
    let mut out: Vec<IdentityValue> = Vec::new();
    // SAFETY: contract; arrays are libyang sized arrays.
    unsafe {
        let b = (*(t as *const ffi::lysc_type_identityref)).bases;
        let mut stack: Vec<*const ffi::lysc_ident> = Vec::new();
        for i in 0..count(b) {
            let base = *b.add(i) as *const ffi::lysc_ident;
            bases.push(ident(base));
            stack.push(base);
        }
        while let Some(id) = stack.pop() {
            let derived = (*id).derived;
            for i in 0..count(derived) {
                let d = *derived.add(i) as *const ffi::lysc_ident;
                let name = ident(d);
                if !out.iter().any(|v| v.ident == name) {
                    let deprecated = (*d).flags & ffi::LYS_STATUS_DEPRC as u16 != 0;
                    out.push(IdentityValue { ident: name, description: string((*d).dsc), deprecated });
                    stack.push(d);
                }
            }
        }
    }
    bases.sort();
    out.sort_by(|a, b| a.ident.cmp(&b.ident));
    (bases, out)
}

/// Whether a schema node is `status deprecated` or `obsolete`.
///
/// # Safety
/// `n` points to a compiled schema node.
pub unsafe fn deprecated(n: *const ffi::lysc_node) -> bool {
    // SAFETY: contract.
    unsafe { (*n).flags & (ffi::LYS_STATUS_DEPRC | ffi::LYS_STATUS_OBSLT) as u16 != 0 }
}

/// Whether a leaf has a default value (its own or its type's); yang3's
/// `default_value_canonical` reads the value without checking.
///
/// # Safety
/// `n` points to a compiled leaf.
pub unsafe fn leaf_has_default(n: *const ffi::lysc_node) -> bool {
    // SAFETY: contract.
    unsafe { !(*(n as *const ffi::lysc_node_leaf)).dflt.is_null() }
}

/// The default values of a leaf-list, canonical, in order.
///
/// # Safety
/// `n` points to a compiled leaf-list of a live context.
pub unsafe fn leaflist_defaults(n: *const ffi::lysc_node) -> Vec<String> {
    // SAFETY: contract; `dflts` is a libyang sized array of values of the
    // node's context.
    unsafe {
        let ll = n as *const ffi::lysc_node_leaflist;
        let dflts = (*ll).dflts;
        let ctx = (*(*n).module).ctx;
        (0..count(dflts)).filter_map(|i| string(ffi::lyd_value_get_canonical(ctx, *dflts.add(i)))).collect()
    }
}

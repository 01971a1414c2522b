//! The one place where occd calls libyang through raw `libyang3-sys`, for what
//! the `yang3` wrapper does not offer: explicit compilation of the context,
//! the full error list (not only the last error), multi-error validation and
//! the list of enabled features.
//!
//! Safety argument, shared by every function here:
//! - The `ly_ctx` pointer is always taken from a live `yang3::Context` borrowed
//!   for the duration of the call (through one of its modules, whose `ctx`
//!   field libyang sets at creation and never changes), so it is valid and is
//!   not freed while we use it.
//! - libyang's error items are read, copied into owned Rust strings and freed
//!   with `ly_err_clean` before the borrow ends; no pointer into them escapes.
//! - libyang is used from one thread per context at a time: `Context` is not
//!   `Sync`, and error items are stored per thread by libyang itself.

use std::ffi::CStr;
use std::os::raw::c_char;

use libyang3_sys as ffi;
use yang3::context::{Context, ContextFlags};
use yang3::data::DataValidationFlags;
use yang3::schema::SchemaModule;

/// Context options occd always uses: modules are only parsed by
/// `load_module` and compiled once by [`compile`]; the current working
/// directory is never searched implicitly.
pub fn context_flags(prefer_search_dirs: bool) -> ContextFlags {
    let mut bits = ffi::LY_CTX_EXPLICIT_COMPILE | ffi::LY_CTX_DISABLE_SEARCHDIR_CWD;
    if prefer_search_dirs {
        bits |= ffi::LY_CTX_PREFER_SEARCHDIRS;
    }
    ContextFlags::from_bits_retain(bits as u16)
}

/// Validation flag asking libyang to report every error it finds rather than
/// stopping at the first one.
pub fn multi_error() -> DataValidationFlags {
    DataValidationFlags::from_bits_retain(ffi::LYD_VALIDATE_MULTI_ERROR)
}

/// Asks libyang to keep every error of an operation, not only the last.
/// Global to the process; callers clear the list with [`take_errors`].
pub fn store_all_errors() {
    // SAFETY: sets a process-wide option word; no pointers involved.
    unsafe { ffi::ly_log_options(ffi::LY_LOSTORE) };
}

fn raw_ctx(ctx: &Context) -> Option<*mut ffi::ly_ctx> {
    // Every context holds libyang's internal modules, so there is always one.
    let module = ctx.modules(false).next()?;
    // SAFETY: `as_raw` points at a module owned by `ctx`, alive while `ctx` is.
    Some(unsafe { (*module.as_raw()).ctx })
}

/// One libyang log record, copied out of libyang.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LyError {
    pub warning: bool,
    /// libyang's `LY_ERR` code (`LY_EVALID`, `LY_EMEM`...).
    pub err: u32,
    /// libyang's `LY_VECODE` when `err` is `LY_EVALID` (`LYVE_DATA`,
    /// `LYVE_SYNTAX_XML`...), else `LYVE_SUCCESS`.
    pub vecode: u32,
    pub message: String,
    pub data_path: Option<String>,
    pub schema_path: Option<String>,
    pub line: u64,
    pub app_tag: Option<String>,
}

fn opt_string(p: *const c_char) -> Option<String> {
    if p.is_null() {
        None
    } else {
        // SAFETY: libyang strings are NUL-terminated and live until the item
        // is cleaned, which happens after this copy.
        Some(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
    }
}

/// Copies and clears every error and warning libyang stored for `ctx` on
/// this thread, oldest first.
pub fn take_errors(ctx: &Context) -> Vec<LyError> {
    let Some(raw) = raw_ctx(ctx) else { return Vec::new() };
    let mut out = Vec::new();
    // SAFETY: see the module comment; the list is walked through `next`
    // until NULL and then freed in one call.
    unsafe {
        let mut item = ffi::ly_err_first(raw);
        while !item.is_null() {
            let e = &*item;
            out.push(LyError {
                warning: e.level == ffi::LY_LOG_LEVEL::LY_LLWRN,
                err: e.err,
                vecode: e.vecode,
                message: opt_string(e.msg).unwrap_or_else(|| format!("libyang error {}", e.err)),
                data_path: opt_string(e.data_path),
                schema_path: opt_string(e.schema_path),
                line: e.line,
                app_tag: opt_string(e.apptag),
            });
            item = e.next;
        }
        ffi::ly_err_clean(raw, std::ptr::null_mut());
    }
    out
}

/// Compiles every module parsed so far, once (libyang's explicit-compile
/// mode). On failure, returns libyang's errors.
pub fn compile(ctx: &Context) -> Result<(), Vec<LyError>> {
    let Some(raw) = raw_ctx(ctx) else { return Ok(()) };
    // SAFETY: see the module comment.
    let ret = unsafe { ffi::ly_ctx_compile(raw) };
    if ret == ffi::LY_ERR::LY_SUCCESS {
        Ok(())
    } else {
        Err(take_errors(ctx))
    }
}

/// Names of the features enabled in a module, in definition order
/// (submodule features included).
pub fn enabled_features(module: &SchemaModule<'_>) -> Vec<String> {
    let mut out = Vec::new();
    // SAFETY: the parsed module and its feature array belong to the live
    // context; `lysp_feature_next` iterates them with its own index.
    unsafe {
        let pmod = (*module.as_raw()).parsed;
        if pmod.is_null() {
            return out;
        }
        let mut idx: u32 = 0;
        let mut feature = ffi::lysp_feature_next(std::ptr::null(), pmod, &mut idx);
        while !feature.is_null() {
            if u32::from((*feature).flags) & ffi::LYS_FENABLED != 0 {
                if let Some(name) = opt_string((*feature).name) {
                    out.push(name);
                }
            }
            feature = ffi::lysp_feature_next(feature, pmod, &mut idx);
        }
    }
    out
}

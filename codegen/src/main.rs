//! Prints the Rust the generator makes for a module set, for review.
//!
//! `occd-codegen -p DIR [-p DIR…] MODULE…` loads the modules (all features
//! enabled) from the search directories and prints the generated code.

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut dirs = Vec::new();
    let mut modules = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "-p" | "--path" => match args.next() {
                Some(d) => dirs.push(d),
                None => return usage("-p needs a directory"),
            },
            "-h" | "--help" => return usage(""),
            _ => modules.push(a),
        }
    }
    if modules.is_empty() {
        return usage("no module given");
    }
    match run(&dirs, &modules) {
        Ok(src) => {
            print!("{src}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("occd-codegen: {e}");
            ExitCode::FAILURE
        }
    }
}

fn usage(err: &str) -> ExitCode {
    if !err.is_empty() {
        eprintln!("occd-codegen: {err}");
    }
    eprintln!("usage: occd-codegen -p DIR [-p DIR...] MODULE...");
    if err.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    }
}

fn run(dirs: &[String], modules: &[String]) -> Result<String, String> {
    let ctx = occd_codegen::load(dirs, modules)?;
    let g = occd_codegen::generate(&ctx, modules, &occd_codegen::Options::default())?;
    Ok(occd_codegen::render_single(&g))
}

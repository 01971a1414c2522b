//! The `occd` command line: `serve` and `check`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use occd::check::{self, DocFormat, DocKind};
use occd::config::Config;
use occd::diag::Diagnostic;
use occd::schema::{ModuleSpec, Schema};
use occd::{logging, serve};

#[derive(Parser)]
#[command(
    name = "occd",
    version,
    about = "YANG-driven NETCONF and RESTCONF server for Open Cloud Connect services"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct Common {
    /// TOML config file; without one, the embedded defaults are used.
    #[arg(short, long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Add a YANG search directory (searched before the configured ones).
    #[arg(long = "yang-dir", value_name = "DIR")]
    yang_dirs: Vec<PathBuf>,
    /// Implement one more module, all its features enabled.
    #[arg(long = "module", value_name = "NAME[@REV]", value_parser = ModuleSpec::parse)]
    modules: Vec<ModuleSpec>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve {
        #[command(flatten)]
        common: Common,
    },
    /// Load the module set and validate instance documents against it.
    Check {
        #[command(flatten)]
        common: Common,
        /// Check documents as configuration only, or as full data
        /// (configuration and state).
        #[arg(long = "type", value_enum, default_value = "config")]
        kind: DocKind,
        /// Document format; by default from the file extension.
        #[arg(long, value_enum)]
        format: Option<DocFormat>,
        /// Print the parse and validation time of each document.
        #[arg(long)]
        timing: bool,
        /// Instance documents (XML or RFC 7951 JSON).
        files: Vec<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve { common } => cmd_serve(common),
        Command::Check { common, kind, format, timing, files } => {
            cmd_check(common, kind, format, timing, files)
        }
    }
}

fn load_config(common: &Common) -> Result<Config, String> {
    match &common.config {
        Some(path) => Config::from_file(path).map_err(|e| e.to_string()),
        None => Ok(Config::default()),
    }
}

fn load_schema(config: &Config, common: &Common) -> Result<Schema, Vec<Diagnostic>> {
    Schema::load(&config.load_options(&common.yang_dirs, &common.modules)).map_err(|d| d.0)
}

fn fail(lines: impl IntoIterator<Item = String>) -> ExitCode {
    for l in lines {
        eprintln!("occd: {l}");
    }
    ExitCode::FAILURE
}

fn cmd_check(
    common: Common,
    kind: DocKind,
    format: Option<DocFormat>,
    timing: bool,
    files: Vec<PathBuf>,
) -> ExitCode {
    let config = match load_config(&common) {
        Ok(c) => c,
        Err(e) => return fail([e]),
    };
    logging::init(config.log.level);
    let schema = match load_schema(&config, &common) {
        Ok(s) => s,
        Err(diags) => return fail(diags.iter().map(ToString::to_string)),
    };
    let implemented: Vec<_> = schema.implemented().collect();
    println!(
        "{} modules loaded, {} implemented, compiled in {:.1} ms",
        schema.modules().len(),
        implemented.len(),
        schema.load_time().as_secs_f64() * 1000.0
    );
    for m in &implemented {
        let features =
            if m.features.is_empty() { String::new() } else { format!(" [{}]", m.features.join(" ")) };
        println!("  {}@{}{features}", m.name, m.revision.as_deref().unwrap_or("-"));
    }
    for w in schema.warnings() {
        eprintln!("occd: {w}");
    }
    let mut errors = 0usize;
    for file in &files {
        let report = check::check_document(&schema, file, kind, format);
        let n = report.errors();
        for d in &report.diagnostics {
            eprintln!("{d}");
        }
        let timing = if timing {
            format!(
                " (parse {:.1} ms, validate {:.1} ms)",
                report.parse_time.as_secs_f64() * 1000.0,
                report.validate_time.as_secs_f64() * 1000.0
            )
        } else {
            String::new()
        };
        if n == 0 {
            println!("{}: valid{timing}", file.display());
        } else {
            println!("{}: {n} error{}{timing}", file.display(), if n == 1 { "" } else { "s" });
        }
        errors += n;
    }
    if errors > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn cmd_serve(common: Common) -> ExitCode {
    let config = match load_config(&common) {
        Ok(c) => c,
        Err(e) => return fail([e]),
    };
    logging::init(config.log.level);
    let data_dir = match serve::DataDir::open(&config.data_dir) {
        Ok(d) => d,
        Err(e) => return fail([e]),
    };
    if config.users.is_empty() {
        match serve::admin_password(&data_dir) {
            Ok((pw, true)) => println!(
                "occd: generated the password of user admin: {pw}\noccd: it is kept in {}",
                data_dir.path().join("admin-password").display()
            ),
            Ok((_, false)) => {}
            Err(e) => return fail([e]),
        }
    }
    let schema = match load_schema(&config, &common) {
        Ok(s) => s,
        Err(diags) => return fail(diags.iter().map(ToString::to_string)),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return fail([format!("cannot start the async runtime: {e}")]),
    };
    match runtime.block_on(serve::run(&config, schema, &data_dir)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail([e]),
    }
}

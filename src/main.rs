//! The `opcoord` command: a thin layer over the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use opcoord::config::Settings;
use opcoord::db::{self, Database};
use opcoord::error::{Error, Result};

/// opcoord: the coordination hub of a multi-country law-enforcement operation.
#[derive(Debug, Parser)]
#[command(name = "opcoord", version, about)]
struct Cli {
    /// Settings file (TOML) read over the built-in defaults.
    #[arg(long, global = true, env = "OPCOORD_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Apply pending migrations and serve the API.
    Serve {
        /// Address to listen on (also OPCOORD_BIND); default 127.0.0.1:8080.
        #[arg(long, value_name = "ADDR")]
        bind: Option<String>,
    },
    /// Apply pending migrations and exit.
    Migrate,
    /// Ask a running server's /healthz and exit 0 when it answers 200 (for container health checks).
    Healthcheck {
        /// Address of the server.
        #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
        addr: String,
    },
    /// Print the OpenAPI document, or write it to a file.
    Openapi {
        /// Write the document here instead of printing it.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("opcoord: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    if let Command::Healthcheck { addr } = &cli.command {
        return healthcheck(addr);
    }
    let mut settings = Settings::load(cli.config.as_deref())?;
    init_logging(&settings);
    match cli.command {
        Command::Serve { bind } => {
            if let Some(bind) = bind {
                settings.bind = bind;
            }
            actix_web::rt::System::new().block_on(opcoord::serve(settings))
        }
        Command::Migrate => {
            let database = Database::open(&settings)?;
            let applied = database.with_conn(db::migrate::run_pending)?;
            println!("applied {applied} migrations");
            Ok(())
        }
        Command::Healthcheck { .. } => Ok(()),
        Command::Openapi { out } => {
            let json = opcoord::openapi_json()?;
            match out {
                Some(path) => std::fs::write(&path, json)
                    .map_err(|e| Error::Config(format!("cannot write {}: {e}", path.display()))),
                None => {
                    print!("{json}");
                    Ok(())
                }
            }
        }
    }
}

fn init_logging(settings: &Settings) {
    env_logger::Builder::from_env(
        env_logger::Env::default().default_filter_or(&settings.log_level),
    )
    .format_timestamp_millis()
    .init();
}

/// A minimal HTTP/1.0 GET of /healthz, so the container image needs no curl.
fn healthcheck(addr: &str) -> Result<()> {
    use std::io::{Read, Write};
    use std::time::Duration;

    let unhealthy = |why: String| Error::Command(format!("{addr} is not healthy: {why}"));
    let target = std::net::ToSocketAddrs::to_socket_addrs(addr)
        .map_err(|e| unhealthy(e.to_string()))?
        .next()
        .ok_or_else(|| unhealthy("no address".to_string()))?;
    let mut stream = std::net::TcpStream::connect_timeout(&target, Duration::from_secs(3))
        .map_err(|e| unhealthy(e.to_string()))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(3)))
        .map_err(|e| unhealthy(e.to_string()))?;
    stream
        .write_all(b"GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .map_err(|e| unhealthy(e.to_string()))?;
    let mut head = [0_u8; 12];
    stream
        .read_exact(&mut head)
        .map_err(|e| unhealthy(e.to_string()))?;
    if head.ends_with(b" 200") {
        Ok(())
    } else {
        Err(unhealthy(format!(
            "answered {}",
            String::from_utf8_lossy(&head)
        )))
    }
}

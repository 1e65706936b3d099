//! The `opcoord` command: a thin layer over the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use opcoord::auth::grant::NewToken;
use opcoord::auth::Auth;
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
    /// Manage signing keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Issue tokens from the command line.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Load a demo operation built from the public facts of a real one, and print tokens to try it.
    Demo,
    /// Check the audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Check the maintained tallies.
    Tallies {
        #[command(subcommand)]
        command: TalliesCommand,
    },
    /// The reporting cycle.
    Reporting {
        #[command(subcommand)]
        command: ReportingCommand,
    },
    /// Print the OpenAPI document, or write it to a file.
    Openapi {
        /// Write the document here instead of printing it.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Write a new Ed25519 key pair: <kid>.key.pem (PKCS#8, mode 0600) and <kid>.pub.pem.
    Generate {
        /// Folder to write the two files in.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Walk the hash chain; exit non-zero naming the first entry edited, deleted or reordered.
    Verify,
}

#[derive(Debug, Subcommand)]
enum TalliesCommand {
    /// Recompute every derived cell from the records; exit non-zero, naming the cells, on any difference.
    Verify,
}

#[derive(Debug, Subcommand)]
enum ReportingCommand {
    /// Print a reminder for every participating country late with its reports, addressed to its
    /// active units, ready to be mailed or posted (no mail server is needed).
    Remind {
        /// The operation.
        operation: String,
        /// Print the reminders as JSON (as `GET .../reporting/reminders` answers) instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Sign a token with this instance's signing key and print it.
    Issue {
        /// Who will use it (a unit id or a client name).
        #[arg(long)]
        sub: String,
        /// Space-separated scopes, such as "interceptions:write interceptions:read".
        #[arg(long)]
        scope: String,
        /// Comma-separated ISO 3166-1 alpha-2 codes, or "*".
        #[arg(long, value_delimiter = ',')]
        countries: Vec<String>,
        /// Comma-separated operation ids, or "*".
        #[arg(long, value_delimiter = ',')]
        ops: Vec<String>,
        /// Lifetime, such as 30d, 12h or 90m.
        #[arg(long, default_value = "30d")]
        ttl: humantime::Duration,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Error::Validation(errors)) => {
            for error in errors {
                let place = error.pointer.or(error.parameter).unwrap_or_default();
                eprintln!("opcoord: {place}: {}", error.message);
            }
            ExitCode::FAILURE
        }
        Err(error) => {
            // Whatever the path that failed, no credential of a database URL is printed.
            eprintln!("opcoord: {}", db::redact::scrub(&error.chain()));
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
        Command::Tallies {
            command: TalliesCommand::Verify,
        } => verify_tallies(&settings),
        Command::Demo => {
            let database = Database::open(&settings)?;
            database.with_conn(db::migrate::run_pending)?;
            let auth = Auth::from_settings(&settings, true)?;
            let (national, coordination) = opcoord::demo::run(&database, &auth)?;
            eprintln!(
                "loaded the demo operation `{}` (marked as demo data). Tokens, valid 30 days:\n\
                 NATIONAL_TOKEN: Senegal's national unit, pushes and reads SN's results, files nil returns\n\
                 COORDINATION_TOKEN: a coordination unit, reads every country's totals",
                opcoord::demo::OPERATION
            );
            println!("export NATIONAL_TOKEN={national}");
            println!("export COORDINATION_TOKEN={coordination}");
            Ok(())
        }
        Command::Reporting {
            command: ReportingCommand::Remind { operation, json },
        } => {
            let database = Database::open(&settings)?;
            let book = database
                .with_conn(|conn| opcoord::service::reporting::reminders(conn, &operation, chrono::Utc::now()))?;
            if json {
                let text = serde_json::to_string_pretty(&book)
                    .map_err(|e| Error::Command(format!("cannot write the reminders: {e}")))?;
                println!("{text}");
            } else {
                print!("{}", opcoord::domain::reporting::to_text(&book));
            }
            Ok(())
        }
        Command::Audit {
            command: AuditCommand::Verify,
        } => {
            let database = Database::open(&settings)?;
            match database.with_conn(db::audit::verify)? {
                Ok(entries) => {
                    println!("audit trail verified: {entries} entries, chain intact");
                    Ok(())
                }
                Err(broken) => Err(Error::Command(format!("audit trail broken: {broken}"))),
            }
        }
        Command::Keys {
            command: KeysCommand::Generate { out },
        } => {
            let kid = opcoord::auth::keys::generate(&out)?;
            println!("{kid}");
            eprintln!(
                "wrote {dir}/{kid}.key.pem (private, mode 0600) and {dir}/{kid}.pub.pem; \
                 set signing_key to the first and list the second in verify_keys",
                dir = out.display()
            );
            Ok(())
        }
        Command::Token {
            command:
                TokenCommand::Issue {
                    sub,
                    scope,
                    countries,
                    ops,
                    ttl,
                },
        } => {
            let ttl_seconds = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX);
            let request = NewToken {
                sub,
                scope,
                countries,
                ops,
                ttl_seconds,
            };
            let token = issue_token(&settings, request)?;
            println!("{token}");
            Ok(())
        }
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
    opcoord::observe::init_logging(&settings.log_level);
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
    let mut stream =
        std::net::TcpStream::connect_timeout(&target, Duration::from_secs(3)).map_err(|e| unhealthy(e.to_string()))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(3)))
        .map_err(|e| unhealthy(e.to_string()))?;
    stream
        .write_all(b"GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .map_err(|e| unhealthy(e.to_string()))?;
    let mut head = [0_u8; 12];
    stream.read_exact(&mut head).map_err(|e| unhealthy(e.to_string()))?;
    if head.ends_with(b" 200") {
        Ok(())
    } else {
        Err(unhealthy(format!("answered {}", String::from_utf8_lossy(&head))))
    }
}

/// Signs a token with the configured (or data-folder) key, records it, and returns it.
fn issue_token(settings: &Settings, request: NewToken) -> Result<String> {
    let auth = Auth::from_settings(settings, true)?;
    let grant = request.validate(auth.max_ttl_secs())?;
    let claims = auth.claims(&grant.sub, &grant.scopes, &grant.countries, &grant.ops, grant.ttl_secs);
    let token = auth.sign(&claims)?;
    let database = Database::open(settings)?;
    database.with_conn(db::migrate::run_pending)?;
    database.with_conn(|conn| {
        opcoord::service::tokens::record_issued(
            conn,
            &claims,
            &db::Writer {
                sub: "cli".into(),
                jti: String::new(),
            },
        )
    })?;
    eprintln!(
        "token {} for {} expires {}",
        claims.jti,
        claims.sub,
        chrono::DateTime::from_timestamp(claims.exp, 0)
            .unwrap_or_default()
            .to_rfc3339()
    );
    Ok(token)
}

/// Recomputes the derived tallies of every operation and reports each differing cell.
fn verify_tallies(settings: &Settings) -> Result<()> {
    let database = Database::open(settings)?;
    let (operations, differences) = database.with_conn(|conn| {
        let mut differences = Vec::new();
        let mut after: Option<String> = None;
        let mut operations = 0;
        loop {
            let page = db::operations::list(conn, None, after.as_deref(), 500)?;
            let Some(last) = page.last() else { break };
            after = Some(last.id.clone());
            for operation in &page {
                operations += 1;
                differences.extend(db::tallies::verify(conn, &operation.id)?);
            }
        }
        Ok((operations, differences))
    })?;
    for d in &differences {
        let (country, metric, dimension, bucket) = &d.cell;
        let problem = match d.problem {
            db::tallies::CellProblem::Differs => "DIFFERS",
            db::tallies::CellProblem::OutOfRange => "OUT OF RANGE",
        };
        println!(
            "{problem} {} {country} {metric} {}{}: maintained {} recomputed {}",
            d.operation_id,
            if dimension.is_empty() { "total" } else { dimension },
            if bucket.is_empty() {
                String::new()
            } else {
                format!("={bucket}")
            },
            d.maintained,
            d.recomputed
        );
    }
    if differences.is_empty() {
        println!("tallies verified: {operations} operations, every derived cell equals its recomputation");
        Ok(())
    } else {
        Err(Error::Command(format!(
            "{} tally cells are wrong (different from the records, or out of range)",
            differences.len()
        )))
    }
}

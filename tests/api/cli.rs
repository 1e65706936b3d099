//! The command line refuses bad settings and unreachable databases with the real cause.

use std::process::Command;

fn opcoord(args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let dir = tempfile::tempdir().expect("dir");
    let mut command = Command::new(env!("CARGO_BIN_EXE_opcoord"));
    command.args(args).current_dir(dir.path()).env_remove("DATABASE_URL");
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().expect("run opcoord");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn settings_errors_name_the_key_and_its_source() {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("bad.toml");
    std::fs::write(&file, "bnd = \"0.0.0.0:80\"\n").expect("write");
    let (ok, stderr) = opcoord(&["--config", file.to_str().expect("path"), "migrate"], &[]);
    assert!(!ok);
    assert!(stderr.contains("`bnd`") && stderr.contains("bad.toml"), "{stderr}");
    let (ok, stderr) = opcoord(&["migrate"], &[("OPCOORD_POOL_SIZE", "ten")]);
    assert!(!ok);
    assert!(stderr.contains("POOL_SIZE") && stderr.contains("u32"), "{stderr}");
}

#[test]
fn an_unreachable_database_stops_the_start_with_its_cause() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let url = format!("postgres://postgres:secret-password@127.0.0.1:{port}/nothing");
    let (ok, stderr) = opcoord(&["migrate"], &[("DATABASE_URL", &url)]);
    assert!(!ok);
    assert!(
        stderr.contains(&format!("port {port}")) && stderr.contains("refused"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("secret-password"),
        "the password never reaches the output"
    );
}

#[test]
fn credentials_never_reach_the_output_whatever_fails() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let urls = [
        "postgres://user:s3cret-pw@[bad".to_string(),
        "postgres://user:s3cr%65t-pw@[bad".to_string(),
        "postgresql://user:s3cret-pw@127.0.0.1:notaport/db".to_string(),
        format!("postgres://user:s3cret-pw@127.0.0.1:{port}/db"),
        format!("postgresql://user@127.0.0.1:{port}/db?password=s3cret-pw&sslmode=bogus"),
        format!("postgresql://user@127.0.0.1:{port}/db?bogus=1&password=s3cret-pw"),
    ];
    let commands: [&[&str]; 6] = [
        &["migrate"],
        &["serve", "--bind", "127.0.0.1:0"],
        &["audit", "verify"],
        &["tallies", "verify"],
        &["demo"],
        &[
            "token",
            "issue",
            "--sub",
            "x",
            "--scope",
            "operations:read",
            "--countries",
            "GB",
            "--ops",
            "op-1",
        ],
    ];
    for url in &urls {
        for args in commands {
            let (ok, stderr) = opcoord(args, &[("DATABASE_URL", url), ("RUST_LOG", "debug")]);
            assert!(!ok, "{args:?} with {url} succeeded");
            assert!(
                !stderr.contains("s3cret-pw") && !stderr.contains("s3cr%65t-pw"),
                "{args:?} with {url} printed the password:\n{stderr}"
            );
            assert!(
                stderr.contains("database"),
                "{args:?} with {url}: the cause is still said:\n{stderr}"
            );
        }
    }
}

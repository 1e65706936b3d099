//! What a junk body can cost before it is refused, measured on a real server process: the rise
//! of its resident-memory peak (`VmHWM` in `/proc/<pid>/status`) over a run of 4 MB bodies.

use std::process::Command;

use crate::server::{http, Server};

/// Largest rise of the peak allowed over the whole run of junk bodies, in kB. Each body is
/// 4 MB and is held whole (and hashed) before it is parsed; the parse itself must add little.
const MAX_RISE_KB: u64 = 40 * 1024;

fn status_of(answer: &str) -> u16 {
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// A body of about `size` bytes: `head`, then `unit` repeated, then `tail`.
fn body(head: &str, unit: &str, tail: &str, size: usize) -> Vec<u8> {
    let separated = !unit.starts_with('[');
    let count = (size - head.len() - tail.len()) / (unit.len() + usize::from(separated));
    let mut text = String::with_capacity(size);
    text.push_str(head);
    for i in 0..count {
        if i > 0 && separated {
            text.push(',');
        }
        text.push_str(unit);
    }
    text.push_str(tail);
    text.into_bytes()
}

#[test]
fn junk_bodies_cost_little_before_they_are_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("memory.db");
    let data = dir.path().join("data");
    let env = [
        ("DATABASE_URL", db.to_str().expect("path")),
        ("OPCOORD_DATA_DIR", data.to_str().expect("path")),
        ("OPCOORD_WORKERS", "1"),
    ];
    let issued = Command::new(env!("CARGO_BIN_EXE_opcoord"))
        .args([
            "token",
            "issue",
            "--sub",
            "memory",
            "--countries",
            "*",
            "--ops",
            "*",
            "--ttl",
            "1h",
        ])
        .args(["--scope", "operations:write interceptions:write"])
        .envs(env)
        .output()
        .expect("issue a token");
    assert!(issued.status.success(), "{}", String::from_utf8_lossy(&issued.stderr));
    let token = String::from_utf8(issued.stdout).expect("utf-8").trim().to_string();
    let auth = format!("Bearer {token}");
    let server = Server::start("", &env);
    let send = |method: &str, path: &str, body: &[u8]| {
        let headers = [("authorization", auth.as_str()), ("content-type", "application/json")];
        http(server.port, method, path, &headers, body).expect("an answer")
    };
    let op =
        br#"{"id": "junk-op", "name": "Junk", "status": "active", "starts_on": "2025-09-01", "ends_on": "2025-09-30"}"#;
    assert_eq!(status_of(&send("POST", "/v1/operations", op)), 201);
    let batch = "/v1/operations/junk-op/interceptions/batch";
    let one = "/v1/operations/junk-op/interceptions/SN/J-1";
    let good = br#"{"items": [{"country": "SN", "external_ref": "W-1", "kind": "checkpoint", "occurred_at": "2025-09-12T05:40:00Z"}]}"#;
    assert_eq!(status_of(&send("POST", batch, good)), 200);
    let before = server.memory_kb("VmHWM");

    let size = 4 * 1024 * 1024 - 4096;
    let item =
        r#"{"country":"SN","external_ref":"J-1","kind":"nothing","occurred_at":"2025-09-12T05:40:00Z","notes":"x"}"#;
    let junk: Vec<(&str, &str, Vec<u8>, u16)> = vec![
        ("an array of numbers to one record", one, body("[", "0", "]", size), 422),
        (
            "an array of numbers as items",
            batch,
            body("{\"items\": [", "0", "]}", size),
            422,
        ),
        (
            "an array of empty objects as items",
            batch,
            body("{\"items\": [", "{}", "]}", size),
            422,
        ),
        (
            "items past the limit",
            batch,
            body("{\"items\": [", item, "]}", size),
            422,
        ),
        (
            "an object of junk members",
            one,
            body("{", "\"k\":[1,2,3,{\"a\":null}]", "}", size),
            422,
        ),
        ("nesting past any depth", batch, body("", "[", "", size / 2), 400),
        (
            "an array of strings",
            batch,
            body("[", "\"junk junk junk\"", "]", size),
            422,
        ),
    ];
    for (name, path, bytes, status) in &junk {
        let method = if *path == one { "PUT" } else { "POST" };
        let answer = send(method, path, bytes);
        assert_eq!(
            status_of(&answer),
            *status,
            "{name}: {}",
            answer.lines().last().unwrap_or_default()
        );
    }
    let after = server.memory_kb("VmHWM");
    let rise = after.saturating_sub(before);
    eprintln!(
        "resident peak: {before} kB before, {after} kB after {} junk bodies of 4 MB: +{rise} kB",
        junk.len()
    );
    assert!(rise < MAX_RISE_KB, "the resident peak rose by {rise} kB");
}

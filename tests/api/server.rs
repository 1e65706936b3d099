//! A real `opcoord serve` process for tests that need one: its files, its memory, its output.

use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A port nobody listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// Sends one HTTP/1.0 request and reads the whole answer (head and body), if the server answers.
pub fn http(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Option<String> {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    let mut head = format!(
        "{method} {path} HTTP/1.0\r\nHost: x\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).ok()?;
    stream.write_all(body).ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).ok()?;
    Some(text)
}

/// Sends a GET and reads the answer.
pub fn http_get(port: u16, path: &str) -> Option<String> {
    http(port, "GET", path, &[], b"")
}

/// A running server, stopped when dropped.
pub struct Server {
    pub child: Child,
    pub port: u16,
}

impl Server {
    /// Starts `opcoord serve` through `sh -c` (so a test can set the umask first) with these
    /// environment variables, and waits until `/readyz` answers 200.
    pub fn start(shell_prefix: &str, env: &[(&str, &str)]) -> Server {
        let port = free_port();
        let command = format!(
            "{shell_prefix} exec '{}' serve --bind 127.0.0.1:{port}",
            env!("CARGO_BIN_EXE_opcoord")
        );
        let mut process = Command::new("sh");
        process
            .args(["-c", &command])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (key, value) in env {
            process.env(key, value);
        }
        let child = process.spawn().expect("start opcoord");
        let mut server = Server { child, port };
        let started = Instant::now();
        while !http_get(port, "/readyz").is_some_and(|r| r.starts_with("HTTP/1.0 200") || r.starts_with("HTTP/1.1 200"))
        {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("opcoord serve exited: {status}");
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the server did not become ready"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// A line of `/proc/<pid>/status` in kB (`VmHWM`, `VmRSS`).
    pub fn memory_kb(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).expect("/proc status");
        status
            .lines()
            .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
            .expect("a memory figure")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

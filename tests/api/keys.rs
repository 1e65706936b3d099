//! Key files this service writes are read by the standard tools (OpenSSL 3.0 here).

use std::process::Command;

fn openssl_present() -> bool {
    Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn openssl_reads_the_private_key_and_derives_the_same_public_key() {
    if !openssl_present() {
        eprintln!(
            "SKIPPED: openssl is not installed; the DER structure is checked by the unit test in src/auth/keys.rs"
        );
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let out = Command::new(env!("CARGO_BIN_EXE_opcoord"))
        .args(["keys", "generate", "--out"])
        .arg(dir.path())
        .output()
        .expect("run opcoord");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let kid = String::from_utf8(out.stdout).expect("utf-8").trim().to_string();
    let private = dir.path().join(format!("{kid}.key.pem"));
    let text = Command::new("openssl")
        .args(["pkey", "-noout", "-text", "-in"])
        .arg(&private)
        .output()
        .expect("openssl");
    assert!(
        text.status.success(),
        "openssl refuses the key: {}",
        String::from_utf8_lossy(&text.stderr)
    );
    assert!(String::from_utf8_lossy(&text.stdout).contains("ED25519 Private-Key"));
    let derived = Command::new("openssl")
        .args(["pkey", "-pubout", "-in"])
        .arg(&private)
        .output()
        .expect("openssl");
    assert!(derived.status.success(), "{}", String::from_utf8_lossy(&derived.stderr));
    let public = std::fs::read_to_string(dir.path().join(format!("{kid}.pub.pem"))).expect("public key");
    assert_eq!(String::from_utf8_lossy(&derived.stdout).trim(), public.trim());
}

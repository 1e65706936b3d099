//! Files the service makes are its user's alone, whatever the umask it starts with.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::server::Server;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn data_files_and_folders_are_owner_only_whatever_the_umask() {
    let root = tempfile::tempdir().expect("dir");
    let data = root.path().join("made").join("data");
    let db = root.path().join("made").join("db").join("opcoord.db");
    let env = [
        ("DATABASE_URL", db.to_str().expect("path")),
        ("OPCOORD_DATA_DIR", data.to_str().expect("path")),
    ];
    let server = Server::start("umask 000;", &env);
    // The pool keeps its connection open, so -wal and -shm exist while the server runs.
    let wal = db.with_file_name("opcoord.db-wal");
    let shm = db.with_file_name("opcoord.db-shm");
    for (path, expected) in [
        (root.path().join("made"), 0o700),
        (db.parent().expect("folder").to_path_buf(), 0o700),
        (db.clone(), 0o600),
        (wal, 0o600),
        (shm, 0o600),
        (data.clone(), 0o700),
        (data.join("keys"), 0o700),
    ] {
        assert_eq!(mode(&path), expected, "{}: {:o}", path.display(), mode(&path));
    }
    for entry in std::fs::read_dir(data.join("keys")).expect("keys") {
        let path = entry.expect("entry").path();
        let expected = if path.to_string_lossy().ends_with(".key.pem") {
            0o600
        } else {
            0o644
        };
        assert_eq!(mode(&path), expected, "{}", path.display());
    }
    drop(server);

    // A database file left readable by others by an earlier version is narrowed at start.
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let again = Server::start("umask 000;", &env);
    assert_eq!(mode(&db), 0o600);
    drop(again);
}

//! Files and folders only the service's own user may read: the SQLite database with its `-wal`
//! and `-shm` files, the folders made for them, and the key folder. Modes are set explicitly
//! after creation, so no umask can widen them (the umask only ever narrows a mode given to
//! `open`, and a umask of 000 leaves the defaults 0644 and 0755).

use std::io;
use std::path::Path;

/// Mode of a folder the service makes for its data or keys.
pub const PRIVATE_DIR: u32 = 0o700;
/// Mode of a data file or private key file.
pub const PRIVATE_FILE: u32 = 0o600;
/// Mode of a public key file: readable by all, writable by the owner only.
pub const PUBLIC_FILE: u32 = 0o644;

/// Creates `dir` and every missing parent with mode 0700. Folders that already exist are left
/// as they are: they may be shared (`/var/lib`, the working folder).
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut missing = Vec::new();
    let mut at = Some(dir);
    while let Some(path) = at.filter(|p| !p.as_os_str().is_empty() && !p.exists()) {
        missing.push(path);
        at = path.parent();
    }
    for path in missing.into_iter().rev() {
        match std::fs::create_dir(path) {
            Ok(()) => set_mode(path, PRIVATE_DIR)?,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Creates `path` empty with mode 0600 unless it exists (whatever its mode: see [`narrow`]).
pub fn create_private_file(path: &Path) -> io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, PRIVATE_FILE);
    match options.open(path) {
        Ok(_) => set_mode(path, PRIVATE_FILE),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// Narrows an existing file to `mode` if it is wider; a missing file is fine.
pub fn narrow(path: &Path, mode: u32) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        match std::fs::metadata(path) {
            Ok(meta) if meta.permissions().mode() & 0o777 & !mode != 0 => set_mode(path, mode),
            Ok(_) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (path, mode);
        Ok(())
    }
}

/// Sets the mode of `path` exactly.
pub fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
    }
    #[cfg(not(unix))]
    {
        let _ = (path, mode);
        Ok(())
    }
}

/// The file a SQLite database URL names: a plain path, or the path of a `file:` URI; `None`
/// for an in-memory database.
pub fn sqlite_file(url: &str) -> Option<&Path> {
    let path = match url.strip_prefix("file:") {
        Some(uri) => {
            if uri.contains("mode=memory") {
                return None;
            }
            let uri = uri.split(['?', '#']).next().unwrap_or_default();
            // file://localhost/path and file:///path name the same file as file:/path.
            uri.strip_prefix("//localhost")
                .or_else(|| uri.strip_prefix("//"))
                .unwrap_or(uri)
        }
        None => url,
    };
    (!path.is_empty() && path != ":memory:").then(|| Path::new(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_name_their_file() {
        assert_eq!(sqlite_file("data/opcoord.db"), Some(Path::new("data/opcoord.db")));
        assert_eq!(sqlite_file("file:data/x.db?mode=rwc"), Some(Path::new("data/x.db")));
        assert_eq!(sqlite_file("file:///var/lib/x.db"), Some(Path::new("/var/lib/x.db")));
        assert_eq!(sqlite_file("file://localhost/var/x.db"), Some(Path::new("/var/x.db")));
        assert_eq!(sqlite_file(":memory:"), None);
        assert_eq!(sqlite_file("file:mem?mode=memory&cache=shared"), None);
    }
}

//! Checks shared by every free-text and identifier field.

use crate::error::FieldError;

/// Longest free text (`notes`, `description`): counts and categories belong in fields, and free
/// text is not for personal data.
pub const MAX_FREE_TEXT: usize = 2000;
/// Longest name or short label.
pub const MAX_NAME: usize = 200;

/// Requires `value` to be non-blank and at most `max` characters.
pub fn required(value: &str, max: usize, pointer: &str, errors: &mut Vec<FieldError>) {
    if value.trim().is_empty() {
        errors.push(FieldError::at(pointer, "must not be empty"));
    }
    bounded(value, max, pointer, errors);
}

/// Requires `value` to be at most `max` characters, without the NUL character (PostgreSQL
/// cannot store it in text, and no name or note needs it: refused on both backends alike).
pub fn bounded(value: &str, max: usize, pointer: &str, errors: &mut Vec<FieldError>) {
    if value.contains('\0') {
        errors.push(FieldError::at(pointer, "must not contain the NUL character (U+0000)"));
    }
    let chars = value.chars().count();
    if chars > max {
        errors.push(FieldError::at(
            pointer,
            format!("must be at most {max} characters (got {chars})"),
        ));
    }
}

/// Whether `id` is a slug: lower-case letters and digits in words joined by single hyphens,
/// 3 to 64 characters (`liberterra-iii`).
pub fn is_slug(id: &str) -> bool {
    (3..=64).contains(&id.len())
        && id
            .split('-')
            .all(|word| !word.is_empty() && word.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::{bounded, is_slug, required};

    #[test]
    fn text_without_nul() {
        let mut errors = Vec::new();
        bounded("Mbour", 10, "/place", &mut errors);
        required("DGPN\tDakar", 20, "/name", &mut errors);
        assert!(errors.is_empty());
        bounded("a\0b", 10, "/place", &mut errors);
        required("\0", 10, "/name", &mut errors);
        let pointers: Vec<_> = errors.iter().map(|e| e.pointer.clone()).collect();
        assert_eq!(pointers, vec![Some("/place".to_string()), Some("/name".to_string())]);
    }

    #[test]
    fn slugs() {
        assert!(is_slug("liberterra-iii"));
        assert!(is_slug("op-2025"));
        assert!(!is_slug("Liberterra"));
        assert!(!is_slug("a--b"));
        assert!(!is_slug("-abc"));
        assert!(!is_slug("ab"));
        assert!(!is_slug("op_1"));
    }
}

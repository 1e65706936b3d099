//! Countries: ISO 3166-1 alpha-2 codes, checked against the real list.

use crate::error::FieldError;

/// Normalises a country code to upper case and checks it is an assigned ISO 3166-1 alpha-2 code.
/// Lower case is accepted and normalised (`gb` is `GB`); `XK` and other user-assigned codes are
/// refused because they are not in ISO 3166-1.
pub fn normalise(code: &str) -> Option<String> {
    let upper = code.trim().to_ascii_uppercase();
    if upper.len() != 2 || !upper.bytes().all(|b| b.is_ascii_uppercase()) {
        return None;
    }
    rust_iso3166::from_alpha2(&upper).map(|_| upper)
}

/// Reads a country given in a path or query parameter `name`: normalised, or a 400 naming it.
pub fn parameter(name: &str, code: &str) -> crate::error::Result<String> {
    normalise(code)
        .ok_or_else(|| crate::error::Error::bad_parameter(name, format!("`{code}` is not an ISO 3166-1 alpha-2 code")))
}

/// Checks a country field, reporting at `pointer` when it is not a known code.
pub fn check(code: &str, pointer: &str, errors: &mut Vec<FieldError>) -> String {
    match normalise(code) {
        Some(code) => code,
        None => {
            errors.push(FieldError::at(
                pointer,
                format!("`{code}` is not an ISO 3166-1 alpha-2 country code"),
            ));
            code.to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::normalise;

    #[test]
    fn accepts_real_codes_in_any_case_and_refuses_others() {
        assert_eq!(normalise("GB").as_deref(), Some("GB"));
        assert_eq!(normalise("sn").as_deref(), Some("SN"));
        assert_eq!(normalise("XK"), None);
        assert_eq!(normalise("UK"), None);
        assert_eq!(normalise("GBR"), None);
        assert_eq!(normalise(""), None);
    }
}

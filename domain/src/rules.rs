//! Small validation helpers the aggregates share.
//!
//! Each returns an [`InvalidField`] naming the field as the API does (camelCase), with a
//! human message that names it too; every aggregate error converts it into its own
//! `Invalid { field, reason }` variant.

/// A command field that breaks a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InvalidField {
    /// The JSON field, camelCase.
    pub field: &'static str,
    /// A human sentence that names the field, e.g. "qty must be between 1 and 1000".
    pub reason: String,
}

impl InvalidField {
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            reason: reason.into(),
        }
    }
}

/// `value` must have between `min` and `max` characters (Unicode scalar values, not
/// bytes: `컴퓨터` is 3), none of them NUL (which no text column can store).
pub(crate) fn text_length(
    field: &'static str,
    value: &str,
    min: usize,
    max: usize,
) -> Result<(), InvalidField> {
    let length = value.chars().count();
    if !(min..=max).contains(&length) {
        Err(InvalidField::new(
            field,
            format!("{field} must be between {min} and {max} characters"),
        ))
    } else if value.contains('\0') {
        Err(InvalidField::new(
            field,
            format!("{field} must not contain NUL characters"),
        ))
    } else {
        Ok(())
    }
}

/// An id a user is known by (customerId, memberId, …): 1 to `max` characters, none of
/// them a control character (a CR or LF in an id would forge lines wherever it is
/// logged).
pub(crate) fn identifier(field: &'static str, value: &str, max: usize) -> Result<(), InvalidField> {
    text_length(field, value, 1, max)?;
    if value.chars().any(char::is_control) {
        return Err(InvalidField::new(
            field,
            format!("{field} must not contain control characters"),
        ));
    }
    Ok(())
}

/// `value` must lie in `min..=max`.
pub(crate) fn int_range(
    field: &'static str,
    value: i64,
    min: i64,
    max: i64,
) -> Result<(), InvalidField> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(InvalidField::new(
            field,
            format!("{field} must be between {min} and {max}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_length_counts_characters_not_bytes() {
        // 3 characters, 9 bytes.
        assert_eq!(text_length("product", "컴퓨터", 1, 3), Ok(()));
        assert!(text_length("product", "컴퓨터", 1, 2).is_err());
    }

    #[test]
    fn text_length_bounds_are_inclusive() {
        assert_eq!(text_length("userId", "a", 1, 2), Ok(()));
        assert_eq!(text_length("userId", "ab", 1, 2), Ok(()));
        assert_eq!(
            text_length("userId", "", 1, 2),
            Err(InvalidField::new(
                "userId",
                "userId must be between 1 and 2 characters"
            ))
        );
        assert!(text_length("userId", "abc", 1, 2).is_err());
    }

    #[test]
    fn text_may_not_hold_nul_which_no_text_column_stores() {
        assert_eq!(
            text_length("product", "pen\0", 1, 10),
            Err(InvalidField::new(
                "product",
                "product must not contain NUL characters"
            ))
        );
        assert_eq!(text_length("product", "pen\n", 1, 10), Ok(()));
    }

    #[test]
    fn an_identifier_holds_no_control_characters() {
        assert_eq!(identifier("userId", "kim", 64), Ok(()));
        assert!(identifier("userId", "kim\r\nINFO forged", 64).is_err());
        assert!(identifier("userId", "", 64).is_err());
    }

    #[test]
    fn int_range_bounds_are_inclusive() {
        assert_eq!(int_range("qty", 1, 1, 1000), Ok(()));
        assert_eq!(int_range("qty", 1000, 1, 1000), Ok(()));
        assert_eq!(
            int_range("qty", 0, 1, 1000),
            Err(InvalidField::new("qty", "qty must be between 1 and 1000"))
        );
        assert!(int_range("qty", 1001, 1, 1000).is_err());
    }
}

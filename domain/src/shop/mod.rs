//! The shop context: a customer's order, its payment (taken in the same request) and
//! its delivery.

pub mod delivery;
pub mod order;
pub mod payment;

use serde::{Deserialize, Serialize};

/// How a customer pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PayMethod {
    Card,
    Bank,
    Point,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pay_method_uses_upper_case_names() {
        assert_eq!(
            serde_json::to_string(&[PayMethod::Card, PayMethod::Bank, PayMethod::Point]).unwrap(),
            r#"["CARD","BANK","POINT"]"#
        );
        let parsed: PayMethod = serde_json::from_str(r#""POINT""#).unwrap();
        assert_eq!(parsed, PayMethod::Point);
        assert!(serde_json::from_str::<PayMethod>(r#""card""#).is_err());
    }
}

//! The verified caller and what its role lets it do.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What a token lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Acts on and reads only their own orders, bookings, mypage and notifications.
    Customer,
    /// Decides confirms, cancels deliveries, reads every list.
    Manager,
    /// Registers hotel rooms and looks after their stays. Outside the hotel a host is a
    /// customer with nothing of their own: confined to their `sub`, acting for no one.
    Host,
    /// Everything, `/admin` included.
    Admin,
}

impl Role {
    pub const ALL: &'static [Role] = &[Role::Customer, Role::Manager, Role::Host, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Customer => "customer",
            Self::Manager => "manager",
            Self::Host => "host",
            Self::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        Self::ALL
            .iter()
            .copied()
            .find(|role| role.as_str() == name)
            .ok_or_else(|| format!("'{name}' is not a role (customer, manager, host or admin)"))
    }
}

/// The caller a verified token names. A customer's `subject` is their customerId,
/// bookingUserId and userId.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub subject: String,
    pub role: Role,
}

/// `role:sub`, e.g. `customer:kim`: how events and logs name the caller.
impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.role, self.subject)
    }
}

/// The caller's role does not allow what it asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Forbidden(String);

impl Principal {
    /// The one owner whose resources this caller may see and act on: itself for a
    /// customer or a host; `None` for staff, who may see everyone's.
    pub fn confined_to(&self) -> Option<&str> {
        matches!(self.role, Role::Customer | Role::Host).then_some(self.subject.as_str())
    }

    /// Goes on only for the `allowed` roles. A host goes on where a customer may, as a
    /// customer with nothing of their own.
    pub fn require(&self, allowed: &[Role]) -> Result<(), Forbidden> {
        let as_customer = self.role == Role::Host && allowed.contains(&Role::Customer);
        if allowed.contains(&self.role) || as_customer {
            return Ok(());
        }
        let names: Vec<_> = allowed.iter().map(|role| role.as_str()).collect();
        Err(Forbidden(format!(
            "this needs the role {}; the token's role is {}",
            names.join(" or "),
            self.role
        )))
    }

    /// Goes on when this caller may act in `owner`'s name (place an order or booking
    /// for them): a customer only for themself, an admin for anyone. `field` is where
    /// the request names the owner.
    pub fn act_for(&self, field: &str, owner: &str) -> Result<(), Forbidden> {
        match self.role {
            Role::Admin => Ok(()),
            Role::Customer if owner == self.subject => Ok(()),
            Role::Customer => Err(Forbidden(format!(
                "a customer acts only in their own name: {field} must be the token's sub"
            ))),
            Role::Manager => Err(Forbidden(format!(
                "a manager does not act in a customer's name ({field})"
            ))),
            Role::Host => Err(Forbidden(format!(
                "a host acts only on their own rooms, not in a customer's name ({field})"
            ))),
        }
    }

    /// The name this caller acts under: its own `sub`. A request that names the actor
    /// itself (in `field`) must name the caller.
    pub fn acting_as(&self, field: &str, named: Option<&str>) -> Result<&str, Forbidden> {
        match named {
            Some(name) if name != self.subject => Err(Forbidden(format!(
                "{field} must be the token's sub, or be left out"
            ))),
            _ => Ok(&self.subject),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(role: Role) -> Principal {
        Principal {
            subject: "alice".into(),
            role,
        }
    }

    #[test]
    fn only_a_customer_is_confined_to_their_own_resources() {
        assert_eq!(principal(Role::Customer).confined_to(), Some("alice"));
        assert_eq!(principal(Role::Host).confined_to(), Some("alice"));
        assert_eq!(principal(Role::Manager).confined_to(), None);
        assert_eq!(principal(Role::Admin).confined_to(), None);
    }

    #[test]
    fn a_role_outside_the_allowed_ones_is_forbidden() {
        let staff = [Role::Manager, Role::Admin];
        assert!(principal(Role::Manager).require(&staff).is_ok());
        let refused = principal(Role::Customer).require(&staff).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "this needs the role manager or admin; the token's role is customer"
        );
    }

    #[test]
    fn customers_act_for_themselves_admins_for_anyone_managers_for_no_one() {
        assert!(principal(Role::Customer)
            .act_for("customerId", "alice")
            .is_ok());
        assert!(principal(Role::Customer)
            .act_for("customerId", "bob")
            .is_err());
        assert!(principal(Role::Admin).act_for("customerId", "bob").is_ok());
        assert!(principal(Role::Manager)
            .act_for("customerId", "alice")
            .is_err());
    }

    #[test]
    fn a_host_passes_where_a_customer_may_but_acts_for_no_one() {
        let host = principal(Role::Host);
        assert!(host.require(&[Role::Customer, Role::Admin]).is_ok());
        assert!(host.require(&[Role::Host, Role::Admin]).is_ok());
        assert!(host.require(&[Role::Manager, Role::Admin]).is_err());
        assert!(host.act_for("customerId", "alice").is_err());
    }

    #[test]
    fn a_caller_acts_under_its_own_name_only() {
        let manager = principal(Role::Manager);
        assert_eq!(manager.acting_as("managerId", None), Ok("alice"));
        assert_eq!(manager.acting_as("managerId", Some("alice")), Ok("alice"));
        assert!(manager.acting_as("managerId", Some("bob")).is_err());
    }

    #[test]
    fn roles_parse_from_their_names() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(*role));
        }
        assert!("root".parse::<Role>().is_err());
    }
}

//! Typed ids, so one table's id cannot stand in for another's.

use std::fmt;

macro_rules! int_id {
    ($name:ident) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

int_id!(PlatformId);
int_id!(UserId);
int_id!(CourseId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_displays_as_its_bare_number() {
        assert_eq!(PlatformId(42).to_string(), "42");
        assert_eq!(UserId(-1).to_string(), "-1");
        assert_eq!(CourseId(i64::MAX).to_string(), "9223372036854775807");
    }
}

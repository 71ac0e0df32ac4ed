//! How many admissions to one link may run at once in this instance.
//!
//! Each admission holds its link's row lock until its commit reaches the
//! disk, so on PostgreSQL a busy link admits fewer guests per second the
//! more connections queue on that one row (measured with pgbench on the
//! admission statement: 1,715/s with 2 at once, 939/s with 8). Admissions
//! therefore pass a small gate per link; links hash onto a fixed set of
//! gates, so memory stays bounded however many links there are. SQLite has
//! no row locks to queue on: its admissions pass ungated.

use std::hash::{DefaultHasher, Hash, Hasher};

use tokio::sync::{Semaphore, SemaphorePermit};

use crate::store::Db;

/// Admissions to one link at once (per instance).
const PER_LINK: usize = 2;
/// Gates the links share; two busy links rarely meet on one.
const GATES: usize = 64;

pub struct AdmissionGates {
    /// None: admissions are not held back (SQLite, whose one writer takes
    /// them in turn anyway, and commits more of them together the more wait).
    gates: Option<Vec<Semaphore>>,
}

impl Default for AdmissionGates {
    fn default() -> Self {
        AdmissionGates {
            gates: Some((0..GATES).map(|_| Semaphore::new(PER_LINK)).collect()),
        }
    }
}

impl AdmissionGates {
    /// Gates for the database in use: row locks queue only on PostgreSQL.
    pub fn for_database(db: &Db) -> AdmissionGates {
        match db {
            Db::Pg(_) => AdmissionGates::default(),
            Db::Sqlite { .. } => AdmissionGates { gates: None },
        }
    }

    /// Waits for the gate of the link with this token; None when admissions
    /// pass ungated.
    pub async fn enter(&self, token: &str) -> Option<SemaphorePermit<'_>> {
        let gates = self.gates.as_ref()?;
        let mut hasher = DefaultHasher::new();
        token.hash(&mut hasher);
        let gate = &gates[(hasher.finish() as usize) % GATES];
        Some(
            gate.acquire()
                .await
                .expect("admission gates are never closed"),
        )
    }
}

impl std::fmt::Debug for AdmissionGates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdmissionGates")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::FutureExt;

    #[test]
    fn two_admissions_to_one_link_pass_at_once_and_a_third_waits() {
        let gates = AdmissionGates::default();
        let first = gates.enter("link-token").now_or_never();
        let second = gates.enter("link-token").now_or_never();
        assert!(first.is_some() && second.is_some());
        assert!(gates.enter("link-token").now_or_never().is_none());
    }

    #[test]
    fn a_finished_admission_lets_the_next_one_in() {
        let gates = AdmissionGates::default();
        let first = gates.enter("t").now_or_never().unwrap();
        let _second = gates.enter("t").now_or_never().unwrap();
        drop(first);
        assert!(gates.enter("t").now_or_never().is_some());
    }

    #[test]
    fn without_gates_any_number_pass_at_once() {
        let gates = AdmissionGates { gates: None };
        let passed = (0..10)
            .filter(|_| gates.enter("link-token").now_or_never().is_some())
            .count();
        assert_eq!(passed, 10);
    }

    #[test]
    fn a_busy_link_holds_back_only_the_links_on_its_gate() {
        let gates = AdmissionGates::default();
        let _held = [
            gates.enter("busy").now_or_never().unwrap(),
            gates.enter("busy").now_or_never().unwrap(),
        ];
        let passing = (0..100)
            .filter(|i| gates.enter(&format!("other-{i}")).now_or_never().is_some())
            .count();
        assert!(passing >= 90, "only {passing} of 100 other links got in");
    }
}

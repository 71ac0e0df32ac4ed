//! Statements prepared once per connection, for the hot paths.
//!
//! diesel keeps a prepared statement per connection only for queries it can
//! prove have one SQL text: not for [`diesel::sql_query`], not for an upsert
//! with `ON CONFLICT ... DO UPDATE`, not for an `UPDATE`, and not for an
//! `INSERT` of single values. Those are sent with their text each time, and
//! PostgreSQL parses and plans them on every call: for the one-statement
//! launch that is most of its cost. [`prepared!`] marks a query as having one
//! text, so diesel prepares it on a connection's first use and afterwards
//! only sends its parameters.
//!
//! The promise is the caller's: the wrapped query's SQL must not depend on
//! its values (no boxed query with optional filters, no `eq_any` over a
//! slice on SQLite, which writes one `?` per element). The statement's
//! identity is the call site, so one call site must always build one text.

use std::marker::PhantomData;

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::{QueryResult, RunQueryDsl};

/// A query whose SQL text never changes, named by the marker type `Name`.
pub struct Prepared<Name, Q> {
    query: Q,
    name: PhantomData<Name>,
}

impl<Name, Q> Prepared<Name, Q> {
    /// Prefer [`prepared!`], which makes a marker for its call site.
    pub fn new(query: Q) -> Self {
        Prepared {
            query,
            name: PhantomData,
        }
    }
}

impl<Name: 'static, Q> QueryId for Prepared<Name, Q> {
    type QueryId = Name;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<DB: Backend, Name, Q: QueryFragment<DB>> QueryFragment<DB> for Prepared<Name, Q> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.query.walk_ast(pass)
    }

    /// The parts diesel could not vouch for are vouched for by the caller.
    fn is_safe_to_cache_prepared(&self, _: &DB) -> QueryResult<bool> {
        Ok(true)
    }
}

impl<Name, Q: Query> Query for Prepared<Name, Q> {
    type SqlType = Q::SqlType;
}

impl<Name, Q, Conn> RunQueryDsl<Conn> for Prepared<Name, Q> {}

/// `prepared!(query)`: `query`, prepared once per connection. Each call site
/// is its own statement; its SQL text must be the same on every call.
#[macro_export]
macro_rules! prepared {
    ($query:expr) => {{
        struct Statement;
        $crate::store::prepared::Prepared::<Statement, _>::new($query)
    }};
}

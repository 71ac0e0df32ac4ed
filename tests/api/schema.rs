//! The two migration trees must build the same schema.

use std::collections::BTreeSet;

use diesel::RunQueryDsl;
use guestlink::config::DatabaseUrl;
use guestlink::store::Db;

use crate::helpers::{Backend, TestDb, free_port, test_settings};

#[derive(diesel::QueryableByName)]
struct Column {
    #[diesel(sql_type = diesel::sql_types::Text)]
    table_name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    column_name: String,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    nullable: bool,
}

fn columns(backend: &Backend) -> BTreeSet<(String, String, bool)> {
    let test_db = TestDb::new(backend);
    let db = Db::connect(&test_settings(&test_db, free_port())).unwrap();
    let mut conn = db.get_read().unwrap();
    let rows: Vec<Column> = match &test_db.url {
        DatabaseUrl::Postgres(_) => guestlink::with_conn!(&mut conn, c => diesel::sql_query(
            "SELECT table_name::text AS table_name, column_name::text AS column_name, (is_nullable = 'YES') AS nullable \
             FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'",
        )
        .load(c)
        .unwrap()),
        DatabaseUrl::Sqlite(_) => guestlink::with_conn!(&mut conn, c => diesel::sql_query(
            "SELECT m.name AS table_name, p.name AS column_name, (p.\"notnull\" = 0 AND p.pk = 0) AS nullable \
             FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '__diesel_schema_migrations'",
        )
        .load(c)
        .unwrap()),
    };
    rows.into_iter()
        .map(|c| (c.table_name, c.column_name, c.nullable))
        .collect()
}

#[test]
#[cfg_attr(
    not(guestlink_pg_tests),
    ignore = "PostgreSQL: TEST_DATABASE_URL was not set when the tests were built"
)]
fn both_migration_trees_create_the_same_columns() {
    let sqlite = columns(&Backend::Sqlite);
    assert!(
        sqlite
            .iter()
            .any(|(t, c, _)| t == "sessions" && c == "token_hash")
    );
    let pg = Backend::postgres().expect("TEST_DATABASE_URL is set");
    let postgres = columns(&pg);
    let only_sqlite: Vec<_> = sqlite.difference(&postgres).collect();
    let only_postgres: Vec<_> = postgres.difference(&sqlite).collect();
    assert!(
        only_sqlite.is_empty() && only_postgres.is_empty(),
        "only in SQLite: {only_sqlite:?}\nonly in PostgreSQL: {only_postgres:?}"
    );
}

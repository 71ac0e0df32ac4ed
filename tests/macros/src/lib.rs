//! Attributes for guestlink's integration tests, written with `proc_macro`
//! alone (no syn or quote: this crate is built cold in CI).
//!
//! `#[both_backends]` on `async fn name(backend: Backend)` keeps the function
//! and adds `name::sqlite` and `name::postgres` tests that run it on each
//! database. The PostgreSQL one is reported as ignored, never as passed,
//! when `TEST_DATABASE_URL` was not set for the build (`build.rs` turns it
//! into the `guestlink_pg_tests` cfg).
//!
//! `#[both_backends(janus)]` does the same for a scenario that needs a real
//! media server: both tests are reported as ignored unless
//! `GUESTLINK_JANUS_TESTS=1` was set for the build (`guestlink_janus_tests`).
//!
//! `#[one_backend]` is for scenarios whose behaviour does not depend on the
//! store (headers, escaping, static files): they run once, on SQLite, as
//! `name::sqlite`.

use proc_macro::{Delimiter, TokenStream, TokenTree};

#[proc_macro_attribute]
pub fn both_backends(attr: TokenStream, item: TokenStream) -> TokenStream {
    scenario(attr, item, true)
}

#[proc_macro_attribute]
pub fn one_backend(attr: TokenStream, item: TokenStream) -> TokenStream {
    scenario(attr, item, false)
}

fn scenario(attr: TokenStream, item: TokenStream, postgres: bool) -> TokenStream {
    let janus = match attr.to_string().as_str() {
        "" => false,
        "janus" => true,
        _ => return error("the attribute takes nothing, or `janus`"),
    };
    let Some(name) = async_fn_name(&item) else {
        return error("put this on an `async fn name(backend: Backend)`");
    };
    let sqlite_ignore = if janus {
        "#[cfg_attr(not(guestlink_janus_tests), ignore = \"the media server: GUESTLINK_JANUS_TESTS=1 was not set when the tests were built (needs Debian's janus)\")] "
    } else {
        ""
    };
    let mut tests = format!(
        "#[actix_web::test] {sqlite_ignore}async fn sqlite() {{ super::{name}(crate::helpers::Backend::Sqlite).await }}"
    );
    if postgres {
        let postgres_ignore = if janus {
            "#[cfg_attr(not(all(guestlink_pg_tests, guestlink_janus_tests)), ignore = \"PostgreSQL and the media server: TEST_DATABASE_URL and GUESTLINK_JANUS_TESTS=1 were not both set when the tests were built\")]"
        } else {
            "#[cfg_attr(not(guestlink_pg_tests), ignore = \"PostgreSQL: TEST_DATABASE_URL was not set when the tests were built\")]"
        };
        tests.push_str(&format!(
            "#[actix_web::test] {postgres_ignore} \
             async fn postgres() {{ \
                 super::{name}(crate::helpers::Backend::postgres().expect(\"TEST_DATABASE_URL is set\")).await \
             }}"
        ));
    }
    let module: TokenStream = format!("mod {name} {{ {tests} }}")
        .parse()
        .expect("the generated tests parse");
    let mut out = item;
    out.extend(module);
    out
}

/// The name of the `async fn` the item declares.
fn async_fn_name(item: &TokenStream) -> Option<String> {
    let tokens: Vec<TokenTree> = item.clone().into_iter().collect();
    let mut seen_async = false;
    for (i, token) in tokens.iter().enumerate() {
        match token {
            TokenTree::Ident(ident) if ident.to_string() == "async" => seen_async = true,
            TokenTree::Ident(ident) if ident.to_string() == "fn" => {
                let name = match tokens.get(i + 1) {
                    Some(TokenTree::Ident(name)) => name.to_string(),
                    _ => return None,
                };
                let takes_arguments = matches!(
                    tokens.get(i + 2),
                    Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis
                );
                return (seen_async && takes_arguments).then_some(name);
            }
            _ => {}
        }
    }
    None
}

fn error(message: &str) -> TokenStream {
    format!("compile_error!({message:?});").parse().unwrap()
}

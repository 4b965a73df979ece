//! A thin dialect seam: the catalog logic is written once against [`Tx`] and runs
//! on SQLite or PostgreSQL. SQL text uses `$N` placeholders, which both accept;
//! the few statements that differ ask [`Dialect`].

use async_trait::async_trait;
use sqlx::{Column, Row as _, TypeInfo, ValueRef};

use crate::Result;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// Row-lock clause for claiming work; SQLite serializes writers instead.
    pub fn skip_locked(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
        }
    }

    /// Largest number of bind parameters we put in one statement.
    pub fn max_params(self) -> usize {
        match self {
            Dialect::Sqlite => 30_000,
            Dialect::Postgres => 60_000,
        }
    }
}

/// A bind argument. The arrays carry one column of a multi-row write to
/// PostgreSQL's `UNNEST` (see `exec_rows` in the store).
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Text(Option<String>),
    Int(i64),
    /// A nullable integer (NULL binds as an integer, which PostgreSQL needs).
    OptInt(Option<i64>),
    Texts(Vec<Option<String>>),
    Ints(Vec<i64>),
}

impl From<&str> for Arg {
    fn from(s: &str) -> Self {
        Arg::Text(Some(s.to_string()))
    }
}
impl From<String> for Arg {
    fn from(s: String) -> Self {
        Arg::Text(Some(s))
    }
}
impl From<&String> for Arg {
    fn from(s: &String) -> Self {
        Arg::Text(Some(s.clone()))
    }
}
impl From<Option<String>> for Arg {
    fn from(s: Option<String>) -> Self {
        Arg::Text(s)
    }
}
impl From<Option<&str>> for Arg {
    fn from(s: Option<&str>) -> Self {
        Arg::Text(s.map(str::to_string))
    }
}
impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        Arg::OptInt(v)
    }
}
impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(v)
    }
}

/// A decoded column value.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Null,
    Text(String),
    Int(i64),
}

/// One result row, decoded by column position.
#[derive(Debug, Clone)]
pub struct Row(pub Vec<Val>);

impl Row {
    pub fn text(&self, i: usize) -> Option<&str> {
        match &self.0[i] {
            Val::Text(s) => Some(s),
            _ => None,
        }
    }
    pub fn string(&self, i: usize) -> String {
        self.text(i).unwrap_or_default().to_string()
    }
    pub fn opt_string(&self, i: usize) -> Option<String> {
        self.text(i).map(str::to_string)
    }
    pub fn int(&self, i: usize) -> i64 {
        match &self.0[i] {
            Val::Int(v) => *v,
            Val::Text(s) => s.parse().unwrap_or(0),
            Val::Null => 0,
        }
    }
}

/// A transaction (or a plain connection for reads) on either database.
#[async_trait]
pub trait Tx: Send {
    fn dialect(&self) -> Dialect;
    async fn exec(&mut self, sql: &str, args: Vec<Arg>) -> Result<u64>;
    async fn rows(&mut self, sql: &str, args: Vec<Arg>) -> Result<Vec<Row>>;
    async fn commit(self: Box<Self>) -> Result<()>;
}

macro_rules! bind_all {
    ($q:expr, $args:expr, $array:path) => {{
        let mut q = $q;
        for a in $args {
            q = match a {
                Arg::Text(t) => q.bind(t),
                Arg::Int(v) => q.bind(v),
                Arg::OptInt(v) => q.bind(v),
                Arg::Texts(v) => $array(q, v),
                Arg::Ints(v) => $array(q, v),
            };
        }
        q
    }};
}

type PgQuery<'q> = sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>;
type SqliteQuery<'q> = sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>;

fn pg_array<'q, T>(q: PgQuery<'q>, v: Vec<T>) -> PgQuery<'q>
where
    Vec<T>: sqlx::Encode<'q, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send + 'q,
{
    q.bind(v)
}

/// SQLite has no arrays: one is bound as JSON text (readable with `json_each`).
fn sqlite_array<'q, T: serde::Serialize>(q: SqliteQuery<'q>, v: Vec<T>) -> SqliteQuery<'q> {
    q.bind(serde_json::to_string(&v).expect("arrays of text and integers serialize"))
}

fn decode_sqlite(row: &sqlx::sqlite::SqliteRow) -> Row {
    let mut out = Vec::with_capacity(row.columns().len());
    for i in 0..row.columns().len() {
        let raw = row.try_get_raw(i).expect("column index in range");
        if raw.is_null() {
            out.push(Val::Null);
            continue;
        }
        let ty = raw.type_info().name().to_ascii_uppercase();
        drop(raw);
        if ty.contains("INT") {
            out.push(row.try_get::<i64, _>(i).map(Val::Int).unwrap_or(Val::Null));
        } else {
            out.push(
                row.try_get::<String, _>(i)
                    .map(Val::Text)
                    .unwrap_or(Val::Null),
            );
        }
    }
    Row(out)
}

fn decode_pg(row: &sqlx::postgres::PgRow) -> Row {
    let mut out = Vec::with_capacity(row.columns().len());
    for (i, col) in row.columns().iter().enumerate() {
        let ty = col.type_info().name().to_ascii_uppercase();
        let v = match ty.as_str() {
            "INT8" => row
                .try_get::<Option<i64>, _>(i)
                .ok()
                .flatten()
                .map(Val::Int),
            "INT4" => row
                .try_get::<Option<i32>, _>(i)
                .ok()
                .flatten()
                .map(|v| Val::Int(v as i64)),
            "INT2" => row
                .try_get::<Option<i16>, _>(i)
                .ok()
                .flatten()
                .map(|v| Val::Int(v as i64)),
            "BOOL" => row
                .try_get::<Option<bool>, _>(i)
                .ok()
                .flatten()
                .map(|v| Val::Int(v as i64)),
            _ => row
                .try_get::<Option<String>, _>(i)
                .ok()
                .flatten()
                .map(Val::Text),
        };
        out.push(v.unwrap_or(Val::Null));
    }
    Row(out)
}

pub struct SqliteTx(pub sqlx::Transaction<'static, sqlx::Sqlite>);
pub struct SqliteConn(pub sqlx::pool::PoolConnection<sqlx::Sqlite>);
pub struct PgTx(pub sqlx::Transaction<'static, sqlx::Postgres>);
pub struct PgConn(pub sqlx::pool::PoolConnection<sqlx::Postgres>);

/// Rewrites `$N` placeholders to positional `?` for SQLite, reordering (and
/// repeating) the arguments to match. SQLite looks up every named parameter
/// linearly while parsing, which made statements with thousands of `$N`
/// parameters quadratic (seconds for one multi-row insert); plain `?` is not.
/// Our SQL never contains `$` inside string literals.
fn sqlite_positional(sql: &str, args: Vec<Arg>) -> (String, Vec<Arg>) {
    let bytes = sql.as_bytes();
    let mut out = String::with_capacity(sql.len());
    let mut ordered = Vec::with_capacity(args.len());
    let mut i = 0;
    let mut last = 0;
    while i < bytes.len() {
        if bytes[i] == b'$' && i + 1 < bytes.len() && bytes[i + 1].is_ascii_digit() {
            let start = i + 1;
            let mut end = start;
            while end < bytes.len() && bytes[end].is_ascii_digit() {
                end += 1;
            }
            let n: usize = sql[start..end].parse().expect("digits");
            out.push_str(&sql[last..i]);
            out.push('?');
            ordered.push(args.get(n - 1).cloned().unwrap_or(Arg::Text(None)));
            i = end;
            last = end;
        } else {
            i += 1;
        }
    }
    out.push_str(&sql[last..]);
    (out, ordered)
}

/// One `Tx` implementation per connection kind: the same three calls, with the
/// dialect's decoder, SQLite's positional rewrite, and a commit for transactions.
macro_rules! impl_tx {
    ($ty:ty, $dialect:expr, $decode:path, $prepare:path, $array:path, |$this:ident| $commit:expr) => {
        #[async_trait]
        impl Tx for $ty {
            fn dialect(&self) -> Dialect {
                $dialect
            }
            async fn exec(&mut self, sql: &str, args: Vec<Arg>) -> Result<u64> {
                let (sql, args) = $prepare(sql, args);
                let q = bind_all!(sqlx::query(&sql).persistent(cacheable(&args)), args, $array);
                Ok(q.execute(&mut *self.0).await?.rows_affected())
            }
            async fn rows(&mut self, sql: &str, args: Vec<Arg>) -> Result<Vec<Row>> {
                let (sql, args) = $prepare(sql, args);
                let q = bind_all!(sqlx::query(&sql).persistent(cacheable(&args)), args, $array);
                Ok(q.fetch_all(&mut *self.0)
                    .await?
                    .iter()
                    .map($decode)
                    .collect())
            }
            async fn commit(self: Box<Self>) -> Result<()> {
                let $this = self;
                $commit
            }
        }
    };
}

/// Whether a statement is worth keeping prepared on its connection. Multi-row
/// writes and long IN-lists differ in size from call to call and compile to
/// large programs: cached, a few hundred of them held tens of megabytes per
/// connection while never being reused.
fn cacheable(args: &[Arg]) -> bool {
    args.len() <= 32
}

/// PostgreSQL takes `$N` as written.
fn pg_as_is(sql: &str, args: Vec<Arg>) -> (String, Vec<Arg>) {
    (sql.to_string(), args)
}

impl_tx!(
    SqliteTx,
    Dialect::Sqlite,
    decode_sqlite,
    sqlite_positional,
    sqlite_array,
    |tx| Ok(tx.0.commit().await?)
);
impl_tx!(
    SqliteConn,
    Dialect::Sqlite,
    decode_sqlite,
    sqlite_positional,
    sqlite_array,
    |_conn| Ok(())
);
impl_tx!(
    PgTx,
    Dialect::Postgres,
    decode_pg,
    pg_as_is,
    pg_array,
    |tx| Ok(tx.0.commit().await?)
);
impl_tx!(
    PgConn,
    Dialect::Postgres,
    decode_pg,
    pg_as_is,
    pg_array,
    |_conn| Ok(())
);

/// `$start, $start+1, ...` placeholders for `n` values.
pub fn placeholders(start: usize, n: usize) -> String {
    let mut s = String::with_capacity(n * 5);
    for i in 0..n {
        if i > 0 {
            s.push_str(", ");
        }
        s.push('$');
        s.push_str(&(start + i).to_string());
    }
    s
}

/// `($1, $2, $3), ($4, $5, $6), ...` for `rows` rows of `width` columns.
pub fn row_placeholders(rows: usize, width: usize) -> String {
    let mut s = String::with_capacity(rows * width * 5);
    for r in 0..rows {
        if r > 0 {
            s.push_str(", ");
        }
        s.push('(');
        s.push_str(&placeholders(r * width + 1, width));
        s.push(')');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_placeholders_become_positional_in_order_of_use() {
        let (sql, args) = sqlite_positional(
            "UPDATE t SET a = $2, b = $1 WHERE c = $2 AND d LIKE 'x%'",
            vec![Arg::Int(1), Arg::from("two")],
        );
        assert_eq!(sql, "UPDATE t SET a = ?, b = ? WHERE c = ? AND d LIKE 'x%'");
        assert_eq!(args, vec![Arg::from("two"), Arg::Int(1), Arg::from("two")]);
    }
}

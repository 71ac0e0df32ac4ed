//! Instants in the store: a `Timestamp` is a BIGINT of Unix seconds on both
//! backends, so rows and queries use the domain's type directly. (What
//! diesel's `AsExpression` and `FromSqlRow` derives would write, kept here
//! so the domain stays free of diesel.)

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, Queryable};
use diesel::expression::AsExpression;
use diesel::internal::derives::as_expression::Bound;
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::{BigInt, Nullable, SingleValue};

use crate::domain::time::Timestamp;

impl AsExpression<BigInt> for Timestamp {
    type Expression = Bound<BigInt, Self>;

    fn as_expression(self) -> Self::Expression {
        Bound::new(self)
    }
}

impl AsExpression<Nullable<BigInt>> for Timestamp {
    type Expression = Bound<Nullable<BigInt>, Self>;

    fn as_expression(self) -> Self::Expression {
        Bound::new(self)
    }
}

impl<'a> AsExpression<BigInt> for &'a Timestamp {
    type Expression = Bound<BigInt, Self>;

    fn as_expression(self) -> Self::Expression {
        Bound::new(self)
    }
}

impl<'a> AsExpression<Nullable<BigInt>> for &'a Timestamp {
    type Expression = Bound<Nullable<BigInt>, Self>;

    fn as_expression(self) -> Self::Expression {
        Bound::new(self)
    }
}

impl<DB> ToSql<BigInt, DB> for Timestamp
where
    DB: Backend,
    i64: ToSql<BigInt, DB>,
{
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
        <i64 as ToSql<BigInt, DB>>::to_sql(&self.0, out)
    }
}

impl<DB> ToSql<Nullable<BigInt>, DB> for Timestamp
where
    DB: Backend,
    Timestamp: ToSql<BigInt, DB>,
{
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
        <Timestamp as ToSql<BigInt, DB>>::to_sql(self, out)
    }
}

impl<DB> FromSql<BigInt, DB> for Timestamp
where
    DB: Backend,
    i64: FromSql<BigInt, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
        i64::from_sql(bytes).map(Timestamp::from_unix)
    }
}

impl<DB, ST> Queryable<ST, DB> for Timestamp
where
    DB: Backend,
    ST: SingleValue,
    Timestamp: FromSql<ST, DB>,
{
    type Row = Self;

    fn build(row: Self) -> deserialize::Result<Self> {
        Ok(row)
    }
}

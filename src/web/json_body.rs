//! JSON request bodies: read whole up to a small limit, then read field by
//! field, so that every mistake in a field (a wrong type, a missing or null
//! value) is a 422 naming that field, and `invalid_json` is kept for bodies
//! that are not JSON at all.

use actix_web::web;
use futures_util::StreamExt;
use serde_json::{Map, Value};

use super::error::ApiError;
use crate::domain::field::{Field, FieldError};
use crate::domain::guest_access::NumberField;
use crate::service::failure::Kind;

/// JSON bodies are small; anything larger is refused before it is parsed.
pub const LARGEST_JSON: usize = 64 * 1024;

/// A JSON object body.
pub struct JsonObject(Map<String, Value>);

/// Reads a JSON object: 413 past the limit, 400 `invalid_json` for what is
/// not JSON, 422 for JSON that is not an object.
pub async fn object(mut payload: web::Payload) -> Result<JsonObject, ApiError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| {
            ApiError::new(
                Kind::Malformed,
                "bad_request",
                "The request body could not be read.",
            )
        })?;
        if body.len() + chunk.len() > LARGEST_JSON {
            return Err(ApiError::new(
                Kind::TooLarge,
                "too_large",
                format!(
                    "The request body is larger than {} KB.",
                    LARGEST_JSON / 1024
                ),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    parse(&body)
}

/// The object in `body` (see [`object`]).
pub fn parse(body: &[u8]) -> Result<JsonObject, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(JsonObject(map)),
        Ok(_) => Err(ApiError::new(
            Kind::Invalid,
            "invalid",
            "The body must be a JSON object.",
        )),
        Err(e) => Err(ApiError::new(
            Kind::Malformed,
            "invalid_json",
            format!("The body is not JSON: {e}"),
        )),
    }
}

fn not_text(field: Field) -> FieldError {
    FieldError::new(field, format!("{field} must be text."))
}

impl JsonObject {
    /// A text field that must come: its text, or "" when it is missing or
    /// null, for the field's own rule to refuse in its words.
    pub fn required_text(&self, field: Field) -> Result<&str, FieldError> {
        match self.0.get(field.as_str()) {
            None | Some(Value::Null) => Ok(""),
            Some(Value::String(text)) => Ok(text),
            Some(_) => Err(not_text(field)),
        }
    }

    /// A text field that may be left out (or null).
    pub fn optional_text(&self, field: Field) -> Result<Option<&str>, FieldError> {
        match self.0.get(field.as_str()) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(_) => Err(not_text(field)),
        }
    }

    /// A text field a change may leave out; given, it must be text (null
    /// cannot be the new value).
    pub fn changed_text(&self, field: Field) -> Result<Option<&str>, FieldError> {
        match self.0.get(field.as_str()) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(_) => Err(not_text(field)),
        }
    }

    /// A boolean field that must come.
    pub fn required_bool(&self, field: Field, problem: &str) -> Result<bool, FieldError> {
        self.0
            .get(field.as_str())
            .and_then(Value::as_bool)
            .ok_or_else(|| FieldError::new(field, problem))
    }

    /// Whether the field is in the object at all (null counts as given).
    pub fn has(&self, field: Field) -> bool {
        self.0.contains_key(field.as_str())
    }

    /// A number of seconds: finite and not negative.
    pub fn seconds(&self, field: Field) -> Option<f64> {
        self.0
            .get(field.as_str())
            .and_then(Value::as_f64)
            .filter(|s| s.is_finite() && *s >= 0.0)
    }

    /// A number field as the rules read it: null or missing is absent, a
    /// whole number is one, anything else ("abc", 1.5) is not.
    pub fn number(&self, field: Field) -> NumberField {
        match self.0.get(field.as_str()) {
            None | Some(Value::Null) => NumberField::Absent,
            // 2.0 is the whole number 2 however it was written; 2.5 is not.
            Some(Value::Number(n)) => n
                .as_i64()
                .or_else(|| {
                    n.as_f64()
                        .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                        .map(|f| f as i64)
                })
                .map_or(NumberField::NotWhole, NumberField::Whole),
            Some(_) => NumberField::NotWhole,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(json: &str) -> JsonObject {
        parse(json.as_bytes()).unwrap_or_else(|e| panic!("{json}: {e}"))
    }

    #[test]
    fn only_what_is_not_json_is_invalid_json() {
        assert_eq!(parse(b"{").err().unwrap().code, "invalid_json");
        assert_eq!(parse(b"not json").err().unwrap().code, "invalid_json");
        let array = parse(b"[1]").err().unwrap();
        assert_eq!((array.code, array.kind), ("invalid", Kind::Invalid));
    }

    #[test]
    fn a_whole_number_written_with_a_fraction_of_zero_is_whole() {
        let body = fields(r#"{"click_limit": 2.0, "duration_days": 2.5}"#);
        assert_eq!(body.number(Field::ClickLimit), NumberField::Whole(2));
        assert_eq!(body.number(Field::DurationDays), NumberField::NotWhole);
        let huge = fields(r#"{"click_limit": 1e300}"#);
        assert_eq!(huge.number(Field::ClickLimit), NumberField::NotWhole);
    }

    #[test]
    fn each_shape_of_mistake_names_its_field() {
        let body = fields(r#"{"title": 42, "description": null, "click_limit": "3"}"#);
        assert_eq!(
            body.required_text(Field::Title).unwrap_err().field,
            Field::Title
        );
        assert_eq!(body.optional_text(Field::Description), Ok(None));
        assert_eq!(
            body.changed_text(Field::Description).unwrap_err().field,
            Field::Description
        );
        assert_eq!(
            body.required_text(Field::Kind),
            Ok(""),
            "missing: the rule decides"
        );
        assert_eq!(body.number(Field::ClickLimit), NumberField::NotWhole);
        assert_eq!(body.number(Field::DurationDays), NumberField::Absent);
        assert!(body.required_bool(Field::Enabled, "Send enabled.").is_err());
        assert_eq!(
            fields(r#"{"enabled": true}"#).required_bool(Field::Enabled, ""),
            Ok(true)
        );
    }

    #[test]
    fn an_empty_body_is_not_json() {
        let err = parse(b"").err().unwrap();
        assert_eq!((err.code, err.kind), ("invalid_json", Kind::Malformed));
    }

    #[test]
    fn json_that_is_text_number_or_null_is_not_an_object() {
        for body in [&b"\"x\""[..], b"3", b"null", b"true"] {
            let err = parse(body).err().unwrap();
            assert_eq!((err.code, err.kind), ("invalid", Kind::Invalid));
        }
    }

    #[test]
    fn a_number_field_is_whole_only_when_it_fits_a_whole_number() {
        let body =
            fields(r#"{"click_limit": -3, "duration_days": 1.5, "limit": 18446744073709551615}"#);
        assert_eq!(body.number(Field::ClickLimit), NumberField::Whole(-3));
        assert_eq!(body.number(Field::DurationDays), NumberField::NotWhole);
        assert_eq!(body.number(Field::Limit), NumberField::NotWhole, "past i64");
    }

    #[test]
    fn a_number_sent_as_text_a_boolean_or_a_list_is_not_whole() {
        let body = fields(r#"{"click_limit": true, "duration_days": [3], "limit": null}"#);
        assert_eq!(body.number(Field::ClickLimit), NumberField::NotWhole);
        assert_eq!(body.number(Field::DurationDays), NumberField::NotWhole);
        assert_eq!(body.number(Field::Limit), NumberField::Absent);
    }

    #[test]
    fn optional_and_changed_text_are_given_as_sent() {
        let body = fields(r#"{"title": " T ", "description": ""}"#);
        assert_eq!(body.optional_text(Field::Title), Ok(Some(" T ")));
        assert_eq!(body.changed_text(Field::Description), Ok(Some("")));
        assert_eq!(
            body.changed_text(Field::Kind),
            Ok(None),
            "left out is unchanged"
        );
        assert_eq!(body.optional_text(Field::Kind), Ok(None));
    }

    #[test]
    fn a_text_field_of_another_type_says_it_must_be_text() {
        let body = fields(r#"{"email": ["a@b.co"]}"#);
        let err = body.optional_text(Field::Email).unwrap_err();
        assert_eq!(err, FieldError::new(Field::Email, "email must be text."));
    }

    #[test]
    fn a_boolean_field_refuses_text_null_and_numbers_with_the_given_words() {
        for json in [
            r#"{"enabled": "true"}"#,
            r#"{"enabled": null}"#,
            r#"{"enabled": 1}"#,
            "{}",
        ] {
            assert_eq!(
                fields(json).required_bool(Field::Enabled, "Send enabled as true or false."),
                Err(FieldError::new(
                    Field::Enabled,
                    "Send enabled as true or false."
                )),
                "{json}"
            );
        }
    }
}

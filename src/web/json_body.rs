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

    /// A number field as the rules read it: null or missing is absent, a
    /// whole number is one, anything else ("abc", 1.5) is not.
    pub fn number(&self, field: Field) -> NumberField {
        match self.0.get(field.as_str()) {
            None | Some(Value::Null) => NumberField::Absent,
            Some(Value::Number(n)) => n.as_i64().map_or(NumberField::NotWhole, NumberField::Whole),
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
}

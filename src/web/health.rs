//! `/healthz`: 200 when the database answers, 503 when it does not. Used by
//! the container health check and load balancers.

use actix_web::{HttpResponse, web};

use crate::service::Tool;

pub async fn healthz(tool: web::Data<Tool>) -> HttpResponse {
    if tool.database_answers().await {
        HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
    } else {
        HttpResponse::ServiceUnavailable()
            .json(serde_json::json!({"status": "database_unavailable"}))
    }
}

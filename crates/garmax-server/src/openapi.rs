//! The OpenAPI 3 document, generated from the handlers' annotations.

use utoipa::Modify;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};

use crate::routes::{
    abtests, admin_analytics, alerts, avatars, billing, enhanced, events, garments, health, me,
    personas, providers, sessions, system,
};

#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "garmax", description = "Self-hosted virtual try-on: avatars, garments, try-on sessions with live progress, credits, plans and Stripe billing."),
    paths(
        health::health, health::ready, health::queue, system::system_stats,
        me::me, me::users, providers::status,
        avatars::create, avatars::list, avatars::get, avatars::remove, avatars::file,
        garments::create, garments::list, garments::get, garments::image,
        sessions::create, sessions::list, sessions::get, sessions::confirm, sessions::reject,
        sessions::cancel, sessions::preview, sessions::result,
        events::stream,
        billing::balance, billing::ledger, billing::plan, billing::checkout, billing::webhook,
        billing::admin_credits,
        enhanced::generate, enhanced::job, enhanced::quality_tiers, enhanced::validate,
        personas::list, personas::get, personas::reference, personas::create, personas::update,
        personas::remove, personas::upload_reference,
        admin_analytics::analytics, admin_analytics::rate,
        abtests::create, abtests::list, abtests::get, alerts::list,
    ),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

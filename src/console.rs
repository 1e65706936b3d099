//! `GET /console/`: the coordination console, a web page for people, served from the binary.
//!
//! The page and its assets (plain JavaScript modules, CSS, the vendored chart library and the
//! world map) live in `console/` and are embedded at build time, so the console works offline
//! and on an air-gapped network. It is a client of the documented `/v1` API only: nothing here
//! reads the database.
//!
//! Caching: the assets are served under `/console/assets/<bundle>/`, where `<bundle>` is a hash
//! of every embedded file, with `Cache-Control: immutable`; relative imports between modules stay
//! inside the same bundle. The page itself names the current bundle and is revalidated on each
//! load with its `ETag`. Compression is the app's (`middleware::Compress` in [`crate::app`]).
//!
//! Every response carries a strict Content-Security-Policy: scripts, styles, images and requests
//! from this origin only, no inline script or style, Trusted Types required for every DOM sink
//! (so markup from the API can never become HTML), and no framing.

use std::collections::HashMap;
use std::sync::LazyLock;

use actix_web::http::header::{self, EntityTag, HeaderValue, IfNoneMatch};
use actix_web::web::Bytes;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use rust_embed::RustEmbed;
use sha2::{Digest, Sha256};

use crate::error::Error;

/// The Content-Security-Policy of every console response.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; \
    require-trusted-types-for 'script'; trusted-types 'none'";

/// Where the page is served.
pub const PATH: &str = "/console/";

/// The files of `console/`, embedded at build time (also in debug builds).
#[derive(RustEmbed)]
#[folder = "console/"]
struct Files;

/// One file ready to serve.
struct Asset {
    body: Bytes,
    content_type: &'static str,
    etag: EntityTag,
}

/// The page and its assets, prepared once.
struct Console {
    /// Hash of every embedded file: the folder the assets are served under.
    bundle: String,
    page: Asset,
    assets: HashMap<String, Asset>,
}

static CONSOLE: LazyLock<Console> = LazyLock::new(Console::load);

impl Console {
    fn load() -> Console {
        let mut names: Vec<String> = Files::iter().map(|name| name.into_owned()).collect();
        names.sort();
        let mut bundle = Sha256::new();
        let mut assets = HashMap::new();
        for name in names {
            let Some(file) = Files::get(&name) else { continue };
            let hash = file.metadata.sha256_hash();
            bundle.update(name.as_bytes());
            bundle.update(hash);
            let asset = Asset {
                body: Bytes::from(file.data.into_owned()),
                content_type: content_type(&name),
                etag: EntityTag::new_strong(hex::encode(&hash[..12])),
            };
            assets.insert(name, asset);
        }
        let bundle = hex::encode(&bundle.finalize()[..8]);
        let template = assets.remove("index.html").map(|a| a.body).unwrap_or_default();
        // Every module is named up front, so the browser fetches them at once rather than
        // discovering them import by import.
        let mut modules: Vec<&String> = assets
            .keys()
            .filter(|name| name.ends_with(".js") && name.starts_with("js/"))
            .collect();
        modules.sort();
        let preload: String = modules
            .iter()
            .map(|name| format!("<link rel=\"modulepreload\" href=\"%ASSETS%/{name}\">\n"))
            .collect();
        let page = String::from_utf8_lossy(&template)
            .replace("%MODULES%\n", &preload)
            .replace("%ASSETS%", &format!("{PATH}assets/{bundle}"));
        let page = Asset {
            etag: EntityTag::new_strong(hex::encode(&Sha256::digest(page.as_bytes())[..12])),
            body: Bytes::from(page.into_bytes()),
            content_type: "text/html; charset=utf-8",
        };
        Console { bundle, page, assets }
    }
}

/// The media type of an embedded file, from its extension.
fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("json") => "application/json",
        _ => "text/plain; charset=utf-8",
    }
}

/// Registers `/console`, `/console/` and `/console/assets/{bundle}/{file}`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/console", web::get().to(redirect))
        .route(PATH, web::get().to(page))
        .route("/console/assets/{bundle}/{file:.+}", web::get().to(asset));
}

async fn redirect() -> HttpResponse {
    let mut response = HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, PATH))
        .finish();
    secure(&mut response);
    response
}

/// The page: revalidated on every load, so it always names the current bundle.
async fn page(req: HttpRequest) -> HttpResponse {
    serve(&req, &CONSOLE.page, "no-cache")
}

/// An asset of the current bundle: cached for a year, never revalidated.
async fn asset(req: HttpRequest, path: web::Path<(String, String)>) -> HttpResponse {
    let (bundle, file) = path.into_inner();
    let console = &*CONSOLE;
    match console.assets.get(&file) {
        Some(asset) if bundle == console.bundle => serve(&req, asset, "public, max-age=31536000, immutable"),
        _ => {
            // A page of an older bundle asks for its assets after an upgrade: a reload fetches the new page.
            let mut response = Error::NotFound(format!("no console asset {file} in bundle {bundle}")).error_response();
            secure(&mut response);
            response
        }
    }
}

fn serve(req: &HttpRequest, asset: &Asset, cache_control: &'static str) -> HttpResponse {
    let fresh = match header::Header::parse(req) {
        Ok(IfNoneMatch::Any) => true,
        Ok(IfNoneMatch::Items(tags)) => tags.iter().any(|tag| tag.weak_eq(&asset.etag)),
        Err(_) => false,
    };
    let mut builder = match fresh {
        true => HttpResponse::NotModified(),
        false => HttpResponse::Ok(),
    };
    builder
        .insert_header((header::ETAG, asset.etag.clone()))
        .insert_header((header::CACHE_CONTROL, cache_control));
    let mut response = match fresh {
        true => builder.finish(),
        false => builder.content_type(asset.content_type).body(asset.body.clone()),
    };
    secure(&mut response);
    response
}

/// The headers every console response carries.
fn secure(response: &mut HttpResponse) {
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (
            header::HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
        (
            header::HeaderName::from_static("cross-origin-resource-policy"),
            "same-origin",
        ),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
}

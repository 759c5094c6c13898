//! The page: files from the configured `www` directory (the page and the
//! wasm package `cargo xtask serve` builds), or, without one, a built-in
//! placeholder that says how to get the page.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use super::AppState;

/// The built-in page, served when no `www` directory is configured.
const BUILT_IN: &[u8] = include_bytes!("placeholder.html");

/// The content type for a file name.
fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("json") => "application/json",
        Some("ts") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Maps a request path into `root`, refusing anything that could leave it
/// (`..`, absolute parts, hidden files, backslashes, escapes).
fn resolve(root: &Path, path: &str) -> Option<PathBuf> {
    let rel = path.strip_prefix('/')?;
    let rel = if rel.is_empty() { "index.html" } else { rel };
    if rel.contains(['\\', '%', '\0']) {
        return None;
    }
    let mut out = root.to_path_buf();
    for c in Path::new(rel).components() {
        match c {
            Component::Normal(part) if !part.to_string_lossy().starts_with('.') => out.push(part),
            _ => return None,
        }
    }
    Some(out)
}

fn respond(body: Vec<u8>, mime: &'static str) -> Response {
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // The page is trusted by the helper: no other site may frame it.
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("frame-ancestors 'none'"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    resp
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "not found\n").into_response()
}

/// Serves a file of the page; `/` is `/index.html`.
pub(super) async fn serve(State(st): State<Arc<AppState>>, uri: Uri) -> Response {
    let Some(root) = st.config.www.as_deref() else {
        return match uri.path() {
            "/" | "/index.html" => respond(BUILT_IN.to_vec(), "text/html; charset=utf-8"),
            _ => not_found(),
        };
    };
    let Some(path) = resolve(root, uri.path()) else {
        return not_found();
    };
    match tokio::fs::read(&path).await {
        Ok(body) => respond(body, content_type(&path)),
        Err(_) => not_found(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_root() {
        let root = Path::new("/srv/www");
        assert_eq!(
            resolve(root, "/"),
            Some(PathBuf::from("/srv/www/index.html"))
        );
        assert_eq!(
            resolve(root, "/pkg/a.js"),
            Some(PathBuf::from("/srv/www/pkg/a.js"))
        );
        for bad in [
            "/../etc/passwd",
            "/pkg/../../x",
            "/.git/config",
            "/a\\b",
            "/%2e%2e/x",
            "relative",
            "//etc/passwd",
        ] {
            assert_eq!(resolve(root, bad), None, "{bad}");
        }
        assert_eq!(content_type(Path::new("x.wasm")), "application/wasm");
    }
}

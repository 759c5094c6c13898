//! An https site on loopback, as a hosted page's tests need it: a test
//! certificate authority made per test (rcgen), a certificate for the
//! site's name signed by it, static files served over TLS (rustls), and an
//! NSS database trusting the authority for a browser's `$HOME` (certutil).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use crate::browser::TrustedSite;

/// A certificate authority that lives for one test.
#[derive(Debug)]
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl Default for TestCa {
    fn default() -> Self {
        Self::new()
    }
}

impl TestCa {
    /// A new authority with a fresh P-256 key.
    pub fn new() -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new())
            .unwrap_or_else(|e| panic!("CA params: {e}"));
        params
            .distinguished_name
            .push(DnType::CommonName, "webburn test CA");
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().unwrap_or_else(|e| panic!("CA key: {e}"));
        let issuer =
            CertifiedIssuer::self_signed(params, key).unwrap_or_else(|e| panic!("CA cert: {e}"));
        TestCa { issuer }
    }

    /// The authority's certificate, PEM.
    pub fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// A server certificate for `name` (and 127.0.0.1): the chain, the key,
    /// and the certificate alone as PEM.
    pub fn issue(
        &self,
        name: &str,
    ) -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>, String) {
        let mut params = CertificateParams::new(vec![name.to_owned(), "127.0.0.1".to_owned()])
            .unwrap_or_else(|e| panic!("site params: {e}"));
        params.distinguished_name.push(DnType::CommonName, name);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let key = KeyPair::generate().unwrap_or_else(|e| panic!("site key: {e}"));
        let cert = params
            .signed_by(&key, &self.issuer)
            .unwrap_or_else(|e| panic!("site cert: {e}"));
        let chain = vec![cert.der().clone(), self.issuer.der().clone()];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        (chain, key, cert.pem())
    }
}

/// Makes the NSS database in `db` (made if missing) trust the authority in
/// `ca_pem` for TLS servers.
pub fn nss_trust(db: &Path, ca_pem: &Path) {
    std::fs::create_dir_all(db).unwrap_or_else(|e| panic!("{}: {e}", db.display()));
    let dir = format!("sql:{}", db.display());
    if !db.join("cert9.db").exists() {
        certutil(&["-d", &dir, "-N", "--empty-password"]);
    }
    certutil(&[
        "-d",
        &dir,
        "-A",
        "-t",
        "C,,",
        "-n",
        &format!("webburn test CA {}", ca_pem.display()),
        "-i",
        &ca_pem.to_string_lossy(),
    ]);
}

fn certutil(args: &[&str]) {
    let out = Command::new("certutil")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("certutil (Debian's libnss3-tools): {e}"));
    assert!(
        out.status.success(),
        "certutil {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Whether certutil is here (see [`crate::prerequisite_missing`]).
pub fn certutil_available() -> bool {
    Command::new("certutil")
        .arg("-H")
        .output()
        .is_ok_and(|o| !o.stdout.is_empty() || !o.stderr.is_empty())
}

/// Static files served over https on 127.0.0.1; stops when dropped.
#[derive(Debug)]
pub struct HttpsSite {
    /// The bound port.
    pub port: u16,
    /// The name the certificate is for.
    pub name: String,
    cert_pem: String,
    ca_pem: String,
    task: JoinHandle<()>,
}

impl HttpsSite {
    /// Serves `dir` as `https://name:PORT/` with a certificate from `ca`
    /// (the browser maps `name` to 127.0.0.1).
    pub async fn start(dir: &Path, ca: &TestCa, name: &str) -> HttpsSite {
        let (chain, key, cert_pem) = ca.issue(name);
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(chain, key))
        .unwrap_or_else(|e| panic!("TLS config: {e}"));
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("bind: {e}"));
        let port = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("{e}"))
            .port();
        let root = dir.to_path_buf();
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                let root = root.clone();
                tokio::spawn(async move {
                    if let Ok(tls) = acceptor.accept(tcp).await {
                        serve_one(tls, &root).await;
                    }
                });
            }
        });
        HttpsSite {
            port,
            name: name.to_owned(),
            cert_pem,
            ca_pem: ca.pem(),
            task,
        }
    }

    /// What a browser needs to trust this site: its authority's and its own
    /// certificate, written into `dir`; `public` makes the browser treat
    /// its address as a site on the Internet.
    pub fn trusted(&self, dir: &Path, public: bool) -> TrustedSite {
        let ca_pem = dir.join("test-ca.pem");
        let cert_pem = dir.join("site.pem");
        std::fs::write(&ca_pem, &self.ca_pem).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(&cert_pem, &self.cert_pem).unwrap_or_else(|e| panic!("{e}"));
        TrustedSite {
            host: self.name.clone(),
            port: self.port,
            ca_pem,
            cert_pem,
            public,
        }
    }
}

impl Drop for HttpsSite {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Answers one GET (then closes: browsers open another connection).
async fn serve_one<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(mut s: S, root: &Path) {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 64 * 1024 {
        match s.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&head);
    let path = text
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("GET "))
        .and_then(|l| l.split_whitespace().next())
        .map(|p| p.split(['?', '#']).next().unwrap_or("/").to_owned());
    let (status, kind, body) = match path.as_deref().and_then(|p| file_for(root, p)) {
        Some(file) => match std::fs::read(&file) {
            Ok(body) => ("200 OK", content_type(&file), body),
            Err(_) => ("404 Not Found", "text/plain", b"not found".to_vec()),
        },
        None => ("404 Not Found", "text/plain", b"not found".to_vec()),
    };
    let header = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    );
    if s.write_all(header.as_bytes()).await.is_ok() && s.write_all(&body).await.is_ok() {
        let _ = s.shutdown().await;
    }
}

/// The file a URL path names below `root` (`/` is index.html); nothing
/// outside it.
fn file_for(root: &Path, path: &str) -> Option<PathBuf> {
    let rel = path.trim_start_matches('/');
    let rel = if rel.is_empty() { "index.html" } else { rel };
    if rel.split('/').any(|part| part == ".." || part.is_empty()) {
        return None;
    }
    Some(root.join(rel)).filter(|f| f.is_file())
}

fn content_type(file: &Path) -> &'static str {
    match file.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript",
        Some("css") => "text/css",
        Some("wasm") => "application/wasm",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    }
}

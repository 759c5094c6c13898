//! The helper's own certificate authority, one per installation, behind its
//! `https://` and `wss://` listener on loopback: WebKit (Safari, GNOME Web)
//! blocks `http://127.0.0.1` from an https page as mixed content, so such
//! pages reach the helper over TLS. `install` makes the authority and adds it
//! to the user's trust stores; `serve` issues itself a fresh server
//! certificate from it at every start.
//!
//! The authority vouches for TLS servers on loopback and nothing else:
//! - it is name-constrained (RFC 5280 4.2.1.10, permitted subtrees) to
//!   `localhost`, 127.0.0.1/32 and ::1/128, and its e-mail names to the
//!   reserved host `invalid` (RFC 2606), so a verifier refuses any
//!   certificate it signed for another site or for a person's mailbox;
//! - its own extended key usage is serverAuth alone (RFC 5280 4.2.1.12),
//!   which verifiers (OpenSSL, Windows' CryptoAPI, macOS) apply to what it
//!   issues: no code signing, no S/MIME, no client authentication.
//!
//! So even its key could not vouch for a real site or sign anything else.
//! The key stays in the user's data directory (mode 0600 on Unix, the
//! directory 0700; on Windows protected with DPAPI for this user).

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CidrSubnet, DnType, ExtendedKeyUsagePurpose,
    GeneralSubtree, IsCa, Issuer, KeyPair, KeyUsagePurpose, NameConstraints, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use time::{Duration, OffsetDateTime};

use super::private;

mod sealed;

/// The authority's name in trust stores (NSS nickname, certificate subject).
pub const NAME: &str = "webburn local CA";
/// How long the authority is valid.
const CA_DAYS: i64 = 3650;
/// How long a server certificate is valid (it is renewed at every start).
const SERVER_DAYS: i64 = 365;

/// Why the authority could not be made or used.
#[derive(Debug, thiserror::Error)]
pub enum LocalCaError {
    /// Reading or writing its files.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// Making a key or a certificate.
    #[error("local certificate authority: {0}")]
    Certificate(#[from] rcgen::Error),
    /// No authority in the data directory (`install` makes it).
    #[error("no local certificate authority in {0} (webburn-helper install makes it)")]
    Missing(PathBuf),
}

/// Where the authority's files are: `DATA_DIR/tls`.
#[derive(Debug, Clone)]
pub struct LocalCa {
    dir: PathBuf,
}

/// A server's certificate chain and key, for the TLS listener.
#[derive(Debug)]
pub struct ServerIdentity {
    /// The server certificate, then the authority's.
    pub chain: Vec<CertificateDer<'static>>,
    /// The server certificate's key.
    pub key: PrivateKeyDer<'static>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> LocalCaError + '_ {
    move |source| LocalCaError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl LocalCa {
    /// The authority of the data directory `data_dir` (its files may not exist yet).
    pub fn of(data_dir: &Path) -> LocalCa {
        LocalCa {
            dir: data_dir.join("tls"),
        }
    }

    /// The authority's certificate (PEM): what trust stores get.
    pub fn cert_path(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    fn key_path(&self) -> PathBuf {
        self.dir.join("ca.key")
    }

    /// The current server certificate (PEM), written at every start: for
    /// tools that trust one certificate rather than an authority.
    pub fn server_cert_path(&self) -> PathBuf {
        self.dir.join("localhost.pem")
    }

    /// Whether the authority has been made.
    pub fn exists(&self) -> bool {
        self.cert_path().is_file() && self.key_path().is_file()
    }

    /// Makes the authority unless it exists; returns its certificate's path.
    pub fn create(&self) -> Result<PathBuf, LocalCaError> {
        if self.exists() {
            return Ok(self.cert_path());
        }
        private::create_dir(&self.dir).map_err(io(&self.dir))?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.distinguished_name.push(DnType::CommonName, NAME);
        params
            .distinguished_name
            .push(DnType::OrganizationName, "webburn (this computer only)");
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.name_constraints = Some(NameConstraints {
            permitted_subtrees: vec![
                GeneralSubtree::Rfc822Name("invalid".into()),
                GeneralSubtree::DnsName("localhost".into()),
                GeneralSubtree::IpAddress(CidrSubnet::V4([127, 0, 0, 1], [255; 4])),
                GeneralSubtree::IpAddress(CidrSubnet::V6(
                    std::net::Ipv6Addr::LOCALHOST.octets(),
                    [255; 16],
                )),
            ],
            excluded_subtrees: Vec::new(),
        });
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::days(1);
        params.not_after = now + Duration::days(CA_DAYS);
        let key = KeyPair::generate()?;
        let cert = params.self_signed(&key)?;
        // The key first: a certificate without its key is no authority.
        let stored = sealed::seal(key.serialize_pem().as_bytes()).map_err(io(&self.key_path()))?;
        private::write(&self.key_path(), &stored).map_err(io(&self.key_path()))?;
        private::write(&self.cert_path(), cert.pem().as_bytes()).map_err(io(&self.cert_path()))?;
        Ok(self.cert_path())
    }

    /// Removes the authority's files (its key first).
    pub fn remove(&self) -> Result<(), LocalCaError> {
        match std::fs::remove_dir_all(&self.dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io(&self.dir)(e)),
            _ => Ok(()),
        }
    }

    /// The authority's key (PEM), unsealed.
    fn key_pem(&self) -> Result<String, LocalCaError> {
        let path = self.key_path();
        let stored = std::fs::read(&path).map_err(io(&path))?;
        let pem = sealed::open(&stored).map_err(io(&path))?;
        String::from_utf8(pem).map_err(|e| LocalCaError::Io {
            path,
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        })
    }

    /// A fresh server certificate for `localhost`, 127.0.0.1 and ::1,
    /// signed by the authority (also written to [`Self::server_cert_path`]).
    pub fn server_identity(&self) -> Result<ServerIdentity, LocalCaError> {
        if !self.exists() {
            return Err(LocalCaError::Missing(self.dir.clone()));
        }
        let ca_pem = std::fs::read_to_string(self.cert_path()).map_err(io(&self.cert_path()))?;
        let key_pem = self.key_pem()?;
        let issuer = Issuer::from_ca_cert_pem(&ca_pem, KeyPair::from_pem(&key_pem)?)?;
        let ca_der =
            rustls::pki_types::pem::PemObject::from_pem_slice(ca_pem.as_bytes()).map_err(|e| {
                LocalCaError::Io {
                    path: self.cert_path(),
                    source: std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()),
                }
            })?;
        let mut params = CertificateParams::new(vec!["localhost".to_owned()])?;
        params.subject_alt_names.extend([
            SanType::IpAddress(std::net::Ipv4Addr::LOCALHOST.into()),
            SanType::IpAddress(std::net::Ipv6Addr::LOCALHOST.into()),
        ]);
        params
            .distinguished_name
            .push(DnType::CommonName, "webburn helper (localhost)");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::days(1);
        params.not_after = now + Duration::days(SERVER_DAYS);
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &issuer)?;
        private::write(&self.server_cert_path(), cert.pem().as_bytes())
            .map_err(io(&self.server_cert_path()))?;
        Ok(ServerIdentity {
            chain: vec![cert.der().clone(), ca_der],
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        })
    }

    /// Signs a server certificate for any `name` with the authority (for
    /// tests of the name constraint: a verifier must refuse it).
    #[cfg(test)]
    fn sign_for(&self, name: &str) -> Result<CertificateDer<'static>, LocalCaError> {
        let params = CertificateParams::new(vec![name.to_owned()])?;
        Ok(self.sign(&params)?.der().clone())
    }

    /// Signs `params` with the authority's key (tests of what it may vouch for).
    #[cfg(test)]
    fn sign(&self, params: &CertificateParams) -> Result<rcgen::Certificate, LocalCaError> {
        let ca_pem = std::fs::read_to_string(self.cert_path()).map_err(io(&self.cert_path()))?;
        let key_pem = self.key_pem()?;
        let issuer = Issuer::from_ca_cert_pem(&ca_pem, KeyPair::from_pem(&key_pem)?)?;
        let key = KeyPair::generate()?;
        Ok(params.signed_by(&key, &issuer)?)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use rustls::client::danger::ServerCertVerifier;
    use rustls::pki_types::{ServerName, UnixTime};

    use super::*;

    fn verifier(ca: &LocalCa) -> Arc<rustls::client::WebPkiServerVerifier> {
        let pem = std::fs::read(ca.cert_path()).unwrap();
        let der: CertificateDer<'static> =
            rustls::pki_types::pem::PemObject::from_pem_slice(&pem).unwrap();
        let mut roots = rustls::RootCertStore::empty();
        roots.add(der).unwrap();
        rustls::client::WebPkiServerVerifier::builder_with_provider(
            Arc::new(roots),
            Arc::new(rustls::crypto::ring::default_provider()),
        )
        .build()
        .unwrap()
    }

    fn verify(
        v: &rustls::client::WebPkiServerVerifier,
        chain: &[CertificateDer<'static>],
        name: &str,
    ) -> Result<(), rustls::Error> {
        let name = ServerName::try_from(name.to_owned()).unwrap();
        v.verify_server_cert(&chain[0], &chain[1..], &name, &[], UnixTime::now())
            .map(|_| ())
    }

    #[test]
    fn the_server_certificate_verifies_for_loopback_names_only() {
        let dir = tempfile::tempdir().unwrap();
        let ca = LocalCa::of(dir.path());
        assert!(matches!(
            ca.server_identity(),
            Err(LocalCaError::Missing(_))
        ));
        ca.create().unwrap();
        let id = ca.server_identity().unwrap();
        let v = verifier(&ca);
        for name in ["localhost", "127.0.0.1", "::1"] {
            verify(&v, &id.chain, name).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        assert!(verify(&v, &id.chain, "example.com").is_err());
        assert!(ca.server_cert_path().is_file());
    }

    #[test]
    fn the_authority_cannot_vouch_for_another_name() {
        let dir = tempfile::tempdir().unwrap();
        let ca = LocalCa::of(dir.path());
        ca.create().unwrap();
        let v = verifier(&ca);
        // A certificate the authority's own key signed for example.com: the
        // name constraint makes every verifier refuse it.
        let forged = ca.sign_for("example.com").unwrap();
        let ca_der: CertificateDer<'static> = rustls::pki_types::pem::PemObject::from_pem_slice(
            &std::fs::read(ca.cert_path()).unwrap(),
        )
        .unwrap();
        let refused = verify(&v, &[forged, ca_der.clone()], "example.com").unwrap_err();
        assert!(
            format!("{refused:?}").contains("NameConstraint")
                || format!("{refused:?}").contains("NotValidForName"),
            "{refused:?}"
        );
        // The same key signing for localhost is accepted: only the name failed.
        let fine = ca.sign_for("localhost").unwrap();
        verify(&v, &[fine, ca_der], "localhost").unwrap();
    }

    /// OpenSSL's own verifier (what S/MIME mail clients and many TLS
    /// clients use): a certificate the authority's key signs for a mailbox
    /// is refused for signing mail; the helper's server certificate is
    /// accepted for TLS servers. (The certificates are the same on every
    /// system; the test runs where the openssl command is.)
    #[cfg(unix)]
    #[test]
    fn openssl_refuses_the_authority_for_mail_and_accepts_it_for_tls_servers() {
        let dir = tempfile::tempdir().unwrap();
        let ca = LocalCa::of(dir.path());
        ca.create().unwrap();
        ca.server_identity().unwrap();
        let mut mail = CertificateParams::new(Vec::<String>::new()).unwrap();
        mail.subject_alt_names = vec![SanType::Rfc822Name("ceo@bank.example".try_into().unwrap())];
        mail.extended_key_usages = vec![ExtendedKeyUsagePurpose::EmailProtection];
        mail.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let leaf = dir.path().join("mail.pem");
        std::fs::write(&leaf, ca.sign(&mail).unwrap().pem()).unwrap();
        let verify = |purpose: &str, cert: &Path| {
            let out = std::process::Command::new("openssl")
                .args(["verify", "-purpose", purpose, "-CAfile"])
                .arg(ca.cert_path())
                .arg(cert)
                .output()
                .unwrap_or_else(|e| panic!("openssl (Debian: openssl): {e}"));
            (
                out.status.success(),
                String::from_utf8_lossy(&out.stdout).into_owned()
                    + &String::from_utf8_lossy(&out.stderr),
            )
        };
        let (ok, said) = verify("smimesign", &leaf);
        assert!(!ok, "an S/MIME certificate verified: {said}");
        let (ok, said) = verify("sslserver", &ca.server_cert_path());
        assert!(ok, "the helper's server certificate: {said}");
    }

    #[cfg(unix)]
    #[test]
    fn the_key_is_the_users_alone_and_remove_takes_everything() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let ca = LocalCa::of(dir.path());
        let cert = ca.create().unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&ca.key_path()), 0o600);
        assert_eq!(mode(&dir.path().join("tls")), 0o700);
        // A second create keeps the same authority.
        let before = std::fs::read(&cert).unwrap();
        ca.create().unwrap();
        assert_eq!(std::fs::read(&cert).unwrap(), before);
        ca.remove().unwrap();
        assert!(!dir.path().join("tls").exists());
        ca.remove().unwrap();
    }
}

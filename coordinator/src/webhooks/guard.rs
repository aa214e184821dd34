//! Which URLs and addresses a webhook delivery may reach (server-side request forgery).
//!
//! A URL must be `http` or `https`, without credentials, with a host. Every address it leads to
//! must be globally reachable by the IANA special-purpose address registries ([`super::special`]:
//! loopback, private, CGNAT, link-local where cloud metadata answers, documentation,
//! benchmarking, discard-only, reserved, multicast... are refused; IPv6 transition forms such
//! as IPv4-mapped, IPv4-translated, NAT64 and 6to4 are judged by the IPv4 address they carry),
//! unless an allowed network (`--webhook-allow-network`) contains the address.
//!
//! The check is made on the address actually connected to: [`GuardedResolver`] is the delivery
//! client's DNS resolver and drops every refused address, so a name that resolves to a private
//! address at delivery time (DNS rebinding, a changed record) reaches nothing. An IP-literal
//! URL does not go through a resolver, so [`AddressPolicy::check_url`] checks it directly
//! before every attempt.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::Url;

use super::special::{embedded_v4, is_global};

/// Longest URL accepted: a bound on what every webhook stores and every attempt sends.
pub const MAX_URL_BYTES: usize = 2048;

/// Longest a registration waits for DNS: a name server that never answers must not hold the
/// request (and its connection) open.
const RESOLVE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Why a URL or an address is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GuardError {
    /// Not a URL.
    #[error("url is not a valid absolute URL")]
    Invalid,
    /// Longer than [`MAX_URL_BYTES`].
    #[error("url must be at most {MAX_URL_BYTES} bytes")]
    TooLong,
    /// Not `http` or `https`.
    #[error("url must be http or https")]
    Scheme,
    /// `user:password@` in the URL.
    #[error("url must not carry credentials (the signature authenticates deliveries)")]
    Credentials,
    /// No host.
    #[error("url must have a host")]
    NoHost,
    /// The host did not resolve.
    #[error("url's host does not resolve")]
    Unresolved,
    /// A refused address.
    #[error("url leads to a private, loopback, link-local or otherwise non-public address ({0}), which webhooks may not reach")]
    Forbidden(IpAddr),
}

/// The address policy: public addresses, plus the allowed networks.
#[derive(Debug, Clone, Default)]
pub struct AddressPolicy {
    allow: Vec<IpNet>,
}

impl AddressPolicy {
    /// Public addresses and `allow`.
    pub fn new(allow: Vec<IpNet>) -> Self {
        AddressPolicy { allow }
    }

    /// Whether a delivery may connect to `ip`.
    pub fn permits(&self, ip: IpAddr) -> bool {
        let allowed = |a: IpAddr| self.allow.iter().any(|net| net.contains(&a));
        allowed(ip) || embedded_v4(ip).is_some_and(|v4| allowed(IpAddr::V4(v4))) || is_global(ip)
    }

    /// Parses and checks a URL's form, and its host if it is an IP literal. Names are checked
    /// when they are resolved ([`AddressPolicy::check_resolved`], [`GuardedResolver`]).
    pub fn check_url(&self, text: &str) -> Result<Url, GuardError> {
        if text.len() > MAX_URL_BYTES {
            return Err(GuardError::TooLong);
        }
        let url = Url::parse(text).map_err(|_| GuardError::Invalid)?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(GuardError::Scheme);
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(GuardError::Credentials);
        }
        match literal_host(&url) {
            Err(e) => Err(e),
            Ok(Some(ip)) => self.check_ip(ip).map(|_| url),
            Ok(None) => Ok(url),
        }
    }

    /// [`check_url`](Self::check_url), then resolves a named host: every address it has now
    /// must be permitted (at registration, an early and precise 400; deliveries check again).
    pub async fn check_resolved(&self, text: &str) -> Result<Url, GuardError> {
        let url = self.check_url(text)?;
        if let (Ok(None), Some(name)) = (literal_host(&url), url.host_str()) {
            let port = url.port_or_known_default().unwrap_or(443);
            let lookup = tokio::net::lookup_host((name, port));
            let addrs: Vec<SocketAddr> = tokio::time::timeout(RESOLVE_TIMEOUT, lookup)
                .await
                .map_err(|_| GuardError::Unresolved)?
                .map_err(|_| GuardError::Unresolved)?
                .collect();
            if addrs.is_empty() {
                return Err(GuardError::Unresolved);
            }
            for addr in addrs {
                self.check_ip(addr.ip())?;
            }
        }
        Ok(url)
    }

    fn check_ip(&self, ip: IpAddr) -> Result<(), GuardError> {
        if self.permits(ip) {
            Ok(())
        } else {
            Err(GuardError::Forbidden(ip))
        }
    }
}

/// The host of `url` if it is an IP literal (`None`: a name).
pub fn literal_host(url: &Url) -> Result<Option<IpAddr>, GuardError> {
    let host = url.host_str().ok_or(GuardError::NoHost)?;
    if host.is_empty() {
        return Err(GuardError::NoHost);
    }
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    Ok(bare.parse::<IpAddr>().ok())
}

/// The delivery client's DNS resolver: the system's answers, without the addresses the
/// policy refuses. A name with none left fails to connect, with that reason.
#[derive(Debug, Clone)]
pub struct GuardedResolver {
    policy: Arc<AddressPolicy>,
}

impl GuardedResolver {
    /// A resolver enforcing `policy`.
    pub fn new(policy: Arc<AddressPolicy>) -> Self {
        GuardedResolver { policy }
    }
}

/// Every address of a name was refused.
#[derive(Debug, thiserror::Error)]
#[error("refused by the webhook address policy: the host has no public address")]
pub struct Refused;

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0))
                .await?
                .filter(|a| policy.permits(a.ip()))
                .collect();
            if found.is_empty() {
                return Err(Box::new(Refused) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(found.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn private_and_special_ranges_are_refused() {
        let p = AddressPolicy::default();
        for bad in [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "100.64.0.1",
            "169.254.169.254",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
        ] {
            assert!(!p.permits(ip(bad)), "{bad} must be refused");
        }
        for good in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(p.permits(ip(good)), "{good} must be permitted");
        }
    }

    #[test]
    fn allowed_networks_open_a_range_only() {
        let p = AddressPolicy::new(vec!["127.0.0.0/8".parse().unwrap()]);
        assert!(p.permits(ip("127.0.0.1")));
        assert!(p.permits(ip("::ffff:127.0.0.1")));
        assert!(!p.permits(ip("10.0.0.1")));
        assert!(!p.permits(ip("::1")));
    }

    #[test]
    fn urls_are_checked() {
        let p = AddressPolicy::default();
        assert_eq!(
            p.check_url("ftp://example.com/").unwrap_err(),
            GuardError::Scheme
        );
        assert_eq!(
            p.check_url("https://u:p@example.com/").unwrap_err(),
            GuardError::Credentials
        );
        assert_eq!(p.check_url("not a url").unwrap_err(), GuardError::Invalid);
        assert!(matches!(
            p.check_url("http://[::ffff:10.0.0.1]/").unwrap_err(),
            GuardError::Forbidden(_)
        ));
        assert!(matches!(
            p.check_url("http://169.254.169.254/latest/meta-data")
                .unwrap_err(),
            GuardError::Forbidden(_)
        ));
        assert!(p.check_url("https://example.com/hook").is_ok());
    }
}

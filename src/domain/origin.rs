//! Where an answer came from: the API origin (scheme, host and port) of the
//! base URL a snapshot was fetched from, recorded in its log record, and
//! whether that origin can only be a simulator.
//!
//! The GST portal (through the Sandbox API) is reached over the network; an
//! answer from a loopback address (127.0.0.0/8, ::1, `localhost`) came from a
//! program on the same machine — the simulator, or a test double — and is
//! never portal evidence. A loopback origin is recorded without its port: the
//! port of a local program carries no meaning, and leaving it out keeps
//! bundles of the same answers byte-identical. Pure: no IO.

/// An API origin, as recorded: `https://api.sandbox.co.in`, or
/// `http://127.0.0.1` for a loopback one.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Origin(String);

impl Origin {
    /// The origin of a base URL (`http://` or `https://`; any path is dropped).
    ///
    /// Fails when the text is not such a URL.
    pub fn of_base_url(base_url: &str) -> Result<Origin, String> {
        let url = url::Url::parse(base_url).map_err(|e| format!("{base_url:?} is not a URL ({e})"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("{base_url:?} is not an http:// or https:// URL"));
        }
        let host = url
            .host_str()
            .ok_or_else(|| format!("{base_url:?} names no host"))?
            .to_ascii_lowercase();
        let origin = match url.port() {
            Some(port) if !is_loopback(&url) => format!("{}://{host}:{port}", url.scheme()),
            _ => format!("{}://{host}", url.scheme()),
        };
        Ok(Origin(origin))
    }

    /// An origin as stored (trusted to be one [`Origin::of_base_url`] made).
    pub fn from_stored(text: impl Into<String>) -> Origin {
        Origin(text.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True when the origin is a loopback address: the answers came from a
    /// program on the capturing machine (the simulator), not from the portal.
    pub fn is_simulated(&self) -> bool {
        url::Url::parse(&self.0).is_ok_and(|u| is_loopback(&u))
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether a URL's host is a loopback address or a `localhost` name.
fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => {
            let name = name.to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost")
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_of_base_urls() {
        let o = |u: &str| Origin::of_base_url(u).unwrap();
        assert_eq!(o("https://api.sandbox.co.in").as_str(), "https://api.sandbox.co.in");
        assert_eq!(o("https://API.sandbox.co.in/v1/").as_str(), "https://api.sandbox.co.in");
        assert_eq!(o("https://proxy.example:8443/x").as_str(), "https://proxy.example:8443");
        assert_eq!(o("http://127.0.0.1:41234").as_str(), "http://127.0.0.1");
        assert_eq!(o("http://[::1]:9").as_str(), "http://[::1]");
        assert_eq!(o("http://localhost:8080").as_str(), "http://localhost");
        assert!(Origin::of_base_url("ftp://x").is_err());
        assert!(Origin::of_base_url("not a url").is_err());
    }

    #[test]
    fn only_loopback_origins_are_simulated() {
        for simulated in [
            "http://127.0.0.1:5",
            "http://127.8.9.10",
            "http://[::1]:80",
            "http://localhost",
            "http://sim.localhost",
        ] {
            assert!(Origin::of_base_url(simulated).unwrap().is_simulated(), "{simulated}");
        }
        for portal in [
            "https://api.sandbox.co.in",
            "https://10.0.0.5:8443",
            "https://localhost.example.com",
        ] {
            assert!(!Origin::of_base_url(portal).unwrap().is_simulated(), "{portal}");
        }
    }
}

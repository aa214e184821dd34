//! [`redact_url`]: the one way a URL reaches a log line, an error or a metric label.
//!
//! Redis URLs carry passwords (`redis://default:PASSWORD@host:6379`), RPC URLs carry API keys in
//! their path or query, webhook URLs carry tokens. Only the scheme, host, port and a Redis
//! database number are kept; everything else is replaced by `***`.

/// `url` with its credentials, path (other than a Redis database number), query and fragment
/// replaced by `***`. Something that is not a `scheme://` URL is kept only up to an `@`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return match url.rsplit_once('@') {
            Some((_, host)) => format!("***@{host}"),
            None => url.to_string(),
        };
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let mut out = format!("{scheme}://");
    let host = match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            match userinfo.split_once(':') {
                Some((user, _)) if !user.is_empty() => out.push_str(&format!("{user}:***@")),
                _ => out.push_str("***@"),
            }
            host
        }
        None => authority,
    };
    out.push_str(host);
    let path_end = tail.find(['?', '#']).unwrap_or(tail.len());
    let (path, after) = tail.split_at(path_end);
    let db_number = path.len() > 1 && path[1..].bytes().all(|b| b.is_ascii_digit());
    if db_number || path == "/" {
        out.push_str(path);
    } else if !path.is_empty() {
        out.push_str("/***");
    }
    if !after.is_empty() {
        out.push_str(&after[..1]);
        out.push_str("***");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn secrets_never_survive() {
        for (url, want) in [
            (
                "redis://default:hunter2@10.0.0.5:6379/0",
                "redis://default:***@10.0.0.5:6379/0",
            ),
            ("redis://:hunter2@host", "redis://***@host"),
            ("rediss://hunter2@host:6380", "rediss://***@host:6380"),
            ("redis://127.0.0.1:6379", "redis://127.0.0.1:6379"),
            (
                "https://mainnet.example/v3/hunter2",
                "https://mainnet.example/***",
            ),
            (
                "https://hooks.example/in?token=hunter2",
                "https://hooks.example/***?***",
            ),
            ("http://u:hunter2@[::1]:8545/", "http://u:***@[::1]:8545/"),
            ("user:hunter2@host:6379", "***@host:6379"),
            ("localhost:6379", "localhost:6379"),
        ] {
            let got = redact_url(url);
            assert_eq!(got, want, "{url}");
            assert!(!got.contains("hunter2"));
        }
    }
}

//! Network names as btcli knows them, resolved to endpoints.

use crate::error::ChainError;

/// Public finney entry point (btcli's default).
pub const FINNEY_ENDPOINT: &str = "wss://entrypoint-finney.opentensor.ai:443";
/// Public testnet entry point.
pub const TEST_ENDPOINT: &str = "wss://test.finney.opentensor.ai:443";
/// A node on this machine, as btcli's `local` network.
pub const LOCAL_ENDPOINT: &str = "ws://127.0.0.1:9944";

/// Resolves `--network` (`finney`, `test`, `local` or a URL) to a websocket endpoint. An explicit
/// `--subtensor.chain_endpoint` wins over the network, as in btcli.
pub fn resolve_endpoint(
    network: Option<&str>,
    endpoint: Option<&str>,
) -> Result<String, ChainError> {
    if let Some(url) = endpoint {
        return check_url(url);
    }
    match network.unwrap_or("finney") {
        "finney" => Ok(FINNEY_ENDPOINT.to_string()),
        "test" => Ok(TEST_ENDPOINT.to_string()),
        "local" => Ok(LOCAL_ENDPOINT.to_string()),
        other => check_url(other),
    }
}

fn check_url(url: &str) -> Result<String, ChainError> {
    if url.starts_with("ws://") || url.starts_with("wss://") {
        Ok(url.to_string())
    } else {
        Err(ChainError::UnknownNetwork(url.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_names_and_urls() {
        assert_eq!(
            resolve_endpoint(Some("local"), None).ok().as_deref(),
            Some(LOCAL_ENDPOINT)
        );
        assert_eq!(
            resolve_endpoint(None, None).ok().as_deref(),
            Some(FINNEY_ENDPOINT)
        );
        assert_eq!(
            resolve_endpoint(Some("finney"), Some("ws://127.0.0.1:1"))
                .ok()
                .as_deref(),
            Some("ws://127.0.0.1:1")
        );
        assert!(matches!(
            resolve_endpoint(Some("mainnet"), None),
            Err(ChainError::UnknownNetwork(_))
        ));
        assert!(resolve_endpoint(None, Some("http://x")).is_err());
    }
}

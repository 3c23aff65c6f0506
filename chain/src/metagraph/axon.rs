//! A neuron's served endpoint.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use scale_decode::DecodeAsType;
use serde::Serialize;

/// `AxonInfo` as stored on chain (placeholders dropped).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, DecodeAsType)]
pub struct AxonInfo {
    pub block: u64,
    pub version: u32,
    #[serde(serialize_with = "serialize_ip_raw")]
    pub ip: u128,
    pub port: u16,
    pub ip_type: u8,
    pub protocol: u8,
}

fn serialize_ip_raw<S: serde::Serializer>(ip: &u128, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&ip.to_string())
}

impl AxonInfo {
    /// The IP address, read as v4 or v6 by `ip_type` (the chain stores both in a u128).
    pub fn ip_addr(&self) -> Option<IpAddr> {
        match self.ip_type {
            4 => u32::try_from(self.ip)
                .ok()
                .map(|v| IpAddr::V4(Ipv4Addr::from(v))),
            6 => Some(IpAddr::V6(Ipv6Addr::from(self.ip))),
            _ => None,
        }
    }

    /// Whether anything was ever served (an all-zero axon means none).
    pub fn is_served(&self) -> bool {
        self.ip != 0 || self.port != 0
    }
}

/// btcli's version number for serve_axon: major*1e6 + minor*1e3 + patch.
pub fn version_as_int(major: u32, minor: u32, patch: u32) -> u32 {
    major * 1_000_000 + minor * 1_000 + patch
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_by_type() {
        let mut a = AxonInfo {
            block: 1,
            version: 0,
            ip: u32::from(Ipv4Addr::new(192, 168, 1, 1)) as u128,
            port: 8091,
            ip_type: 4,
            protocol: 4,
        };
        assert_eq!(a.ip_addr(), Some(IpAddr::V4(Ipv4Addr::new(192, 168, 1, 1))));
        a.ip_type = 6;
        assert_eq!(a.ip_addr().map(|i| i.is_ipv6()), Some(true));
        a.ip_type = 9;
        assert_eq!(a.ip_addr(), None);
        assert_eq!(version_as_int(1, 2, 3), 1_002_003);
    }
}

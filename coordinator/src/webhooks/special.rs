//! Which IP addresses are globally reachable, by the IANA special-purpose address registries.
//!
//! Sources (as of 2026-12): "IANA IPv4 Special-Purpose Address Registry" and "IANA IPv6
//! Special-Purpose Address Registry" (RFC 6890 and its updates), column "Globally Reachable".
//! [`SPECIAL`] copies every entry with its answer; an address takes the answer of the most
//! specific entry containing it. Outside every entry: an IPv4 address is global unless
//! multicast (224.0.0.0/4, not unicast at all); an IPv6 address is global only inside
//! 2000::/3, the only space IANA allocates for global unicast.
//!
//! Transition forms are judged by the IPv4 address they carry ([`embedded_v4`]):
//! IPv4-mapped `::ffff:a.b.c.d`, IPv4-translated `::ffff:0:a.b.c.d` (RFC 2765), the NAT64
//! well-known prefix `64:ff9b::/96` and 6to4 `2002:aabb:ccdd::/48`. Forms whose IPv4 address
//! cannot be trusted or is not global by design (IPv4-compatible `::a.b.c.d`, Teredo
//! `2001::/32`, NAT64 local-use `64:ff9b:1::/48`) are refused outright through their entries.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::LazyLock;

use ipnet::IpNet;

/// `(network, globally reachable)`, from the two registries (plus the deprecated and
/// multicast ranges that are not unicast destinations at all).
const SPECIAL: &[(&str, bool)] = &[
    // IPv4 Special-Purpose Address Registry.
    ("0.0.0.0/8", false),          // "this network" (RFC 791)
    ("10.0.0.0/8", false),         // private use (RFC 1918)
    ("100.64.0.0/10", false),      // shared address space, CGNAT (RFC 6598)
    ("127.0.0.0/8", false),        // loopback (RFC 1122)
    ("169.254.0.0/16", false),     // link local (RFC 3927); cloud metadata lives here
    ("172.16.0.0/12", false),      // private use (RFC 1918)
    ("192.0.0.0/24", false),       // IETF protocol assignments (RFC 6890)
    ("192.0.0.9/32", true),        // port control protocol anycast (RFC 7723)
    ("192.0.0.10/32", true),       // traversal using relays around NAT anycast (RFC 8155)
    ("192.0.2.0/24", false),       // documentation, TEST-NET-1 (RFC 5737)
    ("192.31.196.0/24", true),     // AS112-v4 (RFC 7535)
    ("192.52.193.0/24", true),     // AMT (RFC 7450)
    ("192.88.99.0/24", false),     // deprecated 6to4 relay anycast (RFC 7526)
    ("192.168.0.0/16", false),     // private use (RFC 1918)
    ("192.175.48.0/24", true),     // direct delegation AS112 service (RFC 7534)
    ("198.18.0.0/15", false),      // benchmarking (RFC 2544)
    ("198.51.100.0/24", false),    // documentation, TEST-NET-2 (RFC 5737)
    ("203.0.113.0/24", false),     // documentation, TEST-NET-3 (RFC 5737)
    ("224.0.0.0/4", false),        // multicast (RFC 5771): not a unicast destination
    ("240.0.0.0/4", false),        // reserved (RFC 1112)
    ("255.255.255.255/32", false), // limited broadcast (RFC 919)
    // IPv6 Special-Purpose Address Registry.
    ("::/128", false),           // unspecified (RFC 4291)
    ("::1/128", false),          // loopback (RFC 4291)
    ("::/96", false),            // IPv4-compatible, deprecated (RFC 4291)
    ("64:ff9b:1::/48", false),   // IPv4-IPv6 translation, local use (RFC 8215)
    ("100::/64", false),         // discard-only (RFC 6666)
    ("100:0:0:1::/64", false),   // dummy IPv6 prefix (RFC 9780)
    ("2001::/23", false),        // IETF protocol assignments (RFC 2928)
    ("2001::/32", false),        // Teredo (RFC 4380)
    ("2001:1::1/128", true),     // port control protocol anycast (RFC 7723)
    ("2001:1::2/128", true),     // TURN anycast (RFC 8155)
    ("2001:1::3/128", true),     // DNS-SD service registration protocol anycast (RFC 9665)
    ("2001:2::/48", false),      // benchmarking (RFC 5180)
    ("2001:3::/32", true),       // AMT (RFC 7450)
    ("2001:4:112::/48", true),   // AS112-v6 (RFC 7535)
    ("2001:10::/28", false),     // ORCHID, deprecated (RFC 4843)
    ("2001:20::/28", true),      // ORCHIDv2 (RFC 7343)
    ("2001:30::/28", true),      // drone remote ID protocol entity tags (RFC 9374)
    ("2001:db8::/32", false),    // documentation (RFC 3849)
    ("2620:4f:8000::/48", true), // direct delegation AS112 service (RFC 7534)
    ("3fff::/20", false),        // documentation (RFC 9637)
    ("5f00::/16", false),        // segment routing SIDs (RFC 9602)
    ("fc00::/7", false),         // unique local (RFC 4193)
    ("fe80::/10", false),        // link-local unicast (RFC 4291)
    ("fec0::/10", false),        // site-local, deprecated (RFC 3879)
    ("ff00::/8", false),         // multicast (RFC 4291): not a unicast destination
];

static TABLE: LazyLock<Vec<(IpNet, bool)>> = LazyLock::new(|| {
    SPECIAL
        .iter()
        .map(|(net, global)| (net.parse().expect("a valid network in SPECIAL"), *global))
        .collect()
});

/// The IPv4 address an IPv6 transition form carries, if `ip` is one (see the module doc).
pub fn embedded_v4(ip: IpAddr) -> Option<Ipv4Addr> {
    let IpAddr::V6(v6) = ip else { return None };
    let s = v6.segments();
    let o = v6.octets();
    let tail = Ipv4Addr::new(o[12], o[13], o[14], o[15]);
    match s {
        [0, 0, 0, 0, 0, 0xffff, _, _] => Some(tail), // ::ffff:a.b.c.d, mapped
        [0, 0, 0, 0, 0xffff, 0, _, _] => Some(tail), // ::ffff:0:a.b.c.d, translated
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(tail), // 64:ff9b::/96, NAT64
        [0x2002, _, _, ..] => Some(Ipv4Addr::new(o[2], o[3], o[4], o[5])), // 6to4
        _ => None,
    }
}

/// Whether `ip` is globally reachable by the registries (after [`embedded_v4`]).
pub fn is_global(ip: IpAddr) -> bool {
    if let Some(v4) = embedded_v4(ip) {
        return is_global(IpAddr::V4(v4));
    }
    let most_specific = TABLE
        .iter()
        .filter(|(net, _)| net.contains(&ip))
        .max_by_key(|(net, _)| net.prefix_len());
    match (most_specific, ip) {
        (Some((_, global)), _) => *global,
        (None, IpAddr::V4(_)) => true,
        (None, IpAddr::V6(v6)) => in_global_unicast_space(v6),
    }
}

/// 2000::/3.
fn in_global_unicast_space(v6: Ipv6Addr) -> bool {
    v6.segments()[0] & 0xe000 == 0x2000
}

#[cfg(test)]
mod tests {
    use super::*;

    fn global(s: &str) -> bool {
        is_global(s.parse().unwrap())
    }

    #[test]
    fn the_registries_decide() {
        for refused in [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "100.64.0.1",
            "169.254.169.254",
            "0.0.0.0",
            "0.1.2.3",
            "192.0.0.1",
            "192.0.2.1",
            "198.18.0.1",
            "198.51.100.7",
            "203.0.113.9",
            "192.88.99.1",
            "224.0.0.1",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::127.0.0.1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "100::1",
            "100:0:0:1::1",
            "2001::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2", // Teredo
            "2001:2::1",
            "2001:10::1",
            "2001:db8::1",
            "3fff::1",
            "5f00::1",
            "64:ff9b:1::a00:1",
            "4000::1", // outside 2000::/3
            // Transition forms judged by the IPv4 address they carry.
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:0:7f00:1",
            "64:ff9b::a00:1",
            "2002:7f00:1::",
            "2002:a9fe:a9fe::",
            "2002:c0a8:101::1",
        ] {
            assert!(!global(refused), "{refused} must be refused");
        }
        for permitted in [
            "93.184.216.34",
            "8.8.8.8",
            "192.0.0.9",
            "192.31.196.1",
            "2606:4700::1111",
            "2001:1::1",
            "2001:3::1",
            "2001:20::1",
            "2620:4f:8000::1",
            "::ffff:8.8.8.8",
            "::ffff:0:808:808",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
            assert!(global(permitted), "{permitted} must be permitted");
        }
    }

    #[test]
    fn every_table_entry_parses() {
        assert_eq!(TABLE.len(), SPECIAL.len());
    }
}

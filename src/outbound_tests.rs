//! Unit tests of `crate::outbound`, kept beside it.

use super::*;

fn url(raw: &str) -> Url {
    Url::parse(raw).unwrap()
}

#[test]
fn only_public_addresses_are_public() {
    for private in [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "::1",
        "fc00::1",
        "fe80::1",
        "::ffff:10.0.0.1",
        "::127.0.0.1",
        "64:ff9b::a00:1",
        "2002:a00:1::1",
        "2001:0:4136:e378::1",
        "fec0::1",
    ] {
        assert!(!is_public(private.parse().unwrap()), "{private}");
    }
    assert!(
        !is_public("3fff::1".parse().unwrap()),
        "documentation (RFC 9637)"
    );
    for public in ["8.8.8.8", "129.132.1.1", "2a00:1450:4001::200e"] {
        assert!(is_public(public.parse().unwrap()), "{public}");
    }
}

#[test]
fn host_patterns_cover_the_default_port_one_port_or_every_port() {
    let patterns: Vec<HostPattern> = [
        "127.0.0.1:*",
        "LMS.example.edu:8443",
        "moodle.example.edu",
        "::1",
        "[::2]:9000",
    ]
    .iter()
    .map(|p| HostPattern::parse(p).unwrap())
    .collect();
    assert!(listed(&patterns, &url("http://127.0.0.1:9000/x")));
    assert!(listed(&patterns, &url("https://lms.example.edu:8443/x")));
    assert!(!listed(&patterns, &url("https://lms.example.edu/x")));
    assert!(listed(&patterns, &url("https://moodle.example.edu/x")));
    assert!(
        !listed(&patterns, &url("https://moodle.example.edu:6379/x")),
        "a host without a port covers its default port only"
    );
    assert!(listed(&patterns, &url("http://[::1]/x")));
    assert!(!listed(&patterns, &url("http://[::1]:9000/x")));
    assert!(listed(&patterns, &url("http://[::2]:9000/x")));
    assert!(!listed(&patterns, &url("http://[::2]:9001/x")));
    assert_eq!(patterns[4].to_string(), "[::2]:9000");
    assert_eq!(patterns[1].to_string(), "lms.example.edu:8443");
    assert_eq!(patterns[0].to_string(), "127.0.0.1:*");
    assert_eq!(patterns[2].to_string(), "moodle.example.edu");
    for bad in [
        "",
        "a b",
        "host:0",
        "host:99999",
        "[::1",
        "[::1]x",
        "http://x",
        "*",
    ] {
        assert!(HostPattern::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn plain_http_only_to_a_listed_loopback_host() {
    let rules = Outbound::new(vec![
        HostPattern::parse("127.0.0.1:*").unwrap(),
        HostPattern::parse("lms.example.edu").unwrap(),
    ]);
    assert!(rules.scheme_allowed(&url("https://anything.example.com/")));
    assert!(rules.scheme_allowed(&url("http://127.0.0.1:8080/jwks")));
    assert!(!rules.scheme_allowed(&url("http://lms.example.edu/jwks")));
    assert!(!rules.scheme_allowed(&url("http://[::1]/jwks")));
    assert!(!rules.scheme_allowed(&url("ftp://127.0.0.1/jwks")));
}

#[tokio::test]
async fn unlisted_private_and_plain_http_targets_are_refused_before_any_connection() {
    let rules = Outbound::default();
    let timeout = Duration::from_secs(2);
    assert_eq!(
        rules
            .target("http://127.0.0.1:9/x", timeout)
            .await
            .unwrap_err(),
        FetchError::NotHttps
    );
    for private in [
        "https://127.0.0.1:9/x",
        "https://localhost:9/x",
        "https://[::1]:9/x",
        "https://10.0.0.1/x",
        "https://[::ffff:127.0.0.1]/x",
    ] {
        assert!(
            matches!(
                rules.target(private, timeout).await,
                Err(FetchError::PrivateAddress { .. })
            ),
            "{private}"
        );
    }
    assert_eq!(
        rules.target("not a url", timeout).await.unwrap_err(),
        FetchError::NotAUrl
    );
    let listed = Outbound::new(vec![HostPattern::parse("127.0.0.1:*").unwrap()]);
    assert!(listed.target("http://127.0.0.1:9/x", timeout).await.is_ok());
    assert!(
        listed
            .target("https://127.0.0.1:9/x", timeout)
            .await
            .is_ok()
    );
}

fn pattern(raw: &str) -> HostPattern {
    HostPattern::parse(raw).unwrap()
}

#[test]
fn a_bare_host_covers_the_default_port_of_either_scheme() {
    let moodle = pattern("moodle.example.edu");
    assert!(moodle.matches(&url("https://moodle.example.edu/")));
    assert!(moodle.matches(&url("http://moodle.example.edu/")));
    assert!(
        moodle.matches(&url("https://moodle.example.edu:443/")),
        "an explicit default port is the default port"
    );
    assert!(!moodle.matches(&url("http://moodle.example.edu:8080/")));
}

#[test]
fn a_listed_port_matches_a_url_whose_scheme_defaults_to_it() {
    let https_port = pattern("lms.example.edu:443");
    assert!(https_port.matches(&url("https://lms.example.edu/")));
    assert!(!https_port.matches(&url("http://lms.example.edu/")));
}

#[test]
fn a_star_covers_every_port_including_the_default() {
    let any = pattern("lms.example.edu:*");
    for u in [
        "https://lms.example.edu/",
        "http://lms.example.edu:1/",
        "https://lms.example.edu:65535/",
    ] {
        assert!(any.matches(&url(u)), "{u}");
    }
    assert!(!any.matches(&url("https://other.example.edu/")));
}

#[test]
fn a_pattern_matches_its_host_only_not_subdomains_or_parents() {
    let p = pattern("example.edu");
    assert!(!p.matches(&url("https://lms.example.edu/")));
    assert!(!p.matches(&url("https://example.edu.evil.com/")));
    assert!(pattern("LMS.Example.EDU").matches(&url("https://lms.example.edu/")));
}

#[test]
fn ipv6_patterns_are_kept_in_canonical_form() {
    let long = pattern("[0:0:0:0:0:0:0:1]");
    assert_eq!(long, pattern("::1"));
    assert_eq!(long.to_string(), "::1");
    assert_eq!(pattern("[0:0::1]:*").to_string(), "[::1]:*");
    assert!(pattern("2001:DB8::A").matches(&url("https://[2001:db8::a]/")));
}

#[test]
fn a_pattern_reads_back_from_its_display() {
    for raw in [
        "lms.example.edu",
        "lms.example.edu:8443",
        "10.0.0.1:*",
        "::1",
        "[::1]:9000",
    ] {
        let p = pattern(raw);
        assert_eq!(p.to_string().parse::<HostPattern>(), Ok(p), "{raw}");
    }
}

#[test]
fn host_names_need_short_non_empty_labels() {
    assert!(HostPattern::parse(&format!("{}.edu", "a".repeat(63))).is_ok());
    for bad in [
        format!("{}.edu", "a".repeat(64)),
        "a..edu".to_string(),
        ".edu".to_string(),
        "lms.example.edu.".to_string(),
        "lms/x".to_string(),
    ] {
        assert!(HostPattern::parse(&bad).is_err(), "{bad}");
    }
    assert!(
        HostPattern::parse("my_lms.local").is_ok(),
        "underscores occur in real names"
    );
}

#[test]
fn reserved_ipv4_ranges_are_not_public() {
    for reserved in [
        "0.1.2.3",
        "192.0.0.8",
        "192.0.2.1",
        "198.18.0.1",
        "198.19.255.255",
        "198.51.100.1",
        "203.0.113.1",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "100.127.255.255",
    ] {
        assert!(!is_public(reserved.parse().unwrap()), "{reserved}");
    }
}

#[test]
fn the_neighbours_of_reserved_ipv4_ranges_are_public() {
    for public in [
        "1.0.0.1",
        "100.63.255.255",
        "100.128.0.0",
        "172.15.255.255",
        "172.32.0.0",
        "192.0.1.255",
        "192.169.0.1",
        "198.17.255.255",
        "198.20.0.0",
        "223.255.255.255",
    ] {
        assert!(is_public(public.parse().unwrap()), "{public}");
    }
}

#[test]
fn only_global_unicast_ipv6_outside_special_ranges_is_public() {
    for reserved in [
        "::",
        "2001:db8::1",
        "2001::1",
        "2002::1",
        "3fff:fff::1",
        "4000::1",
        "ff02::1",
        "fd12:3456::1",
    ] {
        assert!(!is_public(reserved.parse().unwrap()), "{reserved}");
    }
    for public in ["2001:4860:4860::8888", "2600::1", "2c0f:f248::1"] {
        assert!(is_public(public.parse().unwrap()), "{public}");
    }
}

#[test]
fn an_ipv4_mapped_address_is_as_public_as_its_ipv4() {
    assert!(is_public("::ffff:8.8.8.8".parse().unwrap()));
    assert!(!is_public("::ffff:192.168.0.1".parse().unwrap()));
}

#[test]
fn this_machine_is_localhost_the_127_network_or_ipv6_loopback() {
    for u in [
        "http://localhost/",
        "http://LocalHost:8080/",
        "http://127.1.2.3/",
        "http://[::1]:9/",
    ] {
        assert!(is_loopback_host(&url(u)), "{u}");
    }
    for u in [
        "http://localhost.example.com/",
        "http://10.0.0.1/",
        "http://[::2]/",
        "file:///etc/passwd",
    ] {
        assert!(!is_loopback_host(&url(u)), "{u}");
    }
}

#[test]
fn only_a_2xx_answer_is_a_success() {
    let answer = |status| Fetched {
        status,
        headers: reqwest::header::HeaderMap::new(),
        body: vec![],
    };
    assert!(answer(200).is_success());
    assert!(answer(299).is_success());
    assert!(!answer(199).is_success());
    assert!(!answer(304).is_success());
    assert!(!answer(404).is_success());
}

#[test]
fn fetch_errors_name_the_host_but_never_a_url() {
    let err = FetchError::PrivateAddress {
        host: "lms.internal".into(),
    };
    assert_eq!(err.to_string(), "lms.internal is not on a public address");
    assert_eq!(
        FetchError::Redirect(302).to_string(),
        "it answered with a redirect (HTTP 302); guestlink follows none"
    );
}

#[test]
fn only_3fff_20_of_the_3ff0_block_is_documentation() {
    assert!(is_public("3fff:1000::1".parse().unwrap()));
    assert!(is_public("3ffe::1".parse().unwrap()));
}

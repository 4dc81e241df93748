//! The engine's rules, one test per rule, and properties over generated requests.

use super::dates::YEAR_10000;
use super::etag::scan_etag;
use super::*;
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, RngSeed};
use std::time::Duration;
use std::time::UNIX_EPOCH;

/// 2023-11-14T22:13:20Z plus half a second: `Tue, 14 Nov 2023 22:13:20 GMT`.
const MTIME: u64 = 1_700_000_000;
const LM: &str = "Tue, 14 Nov 2023 22:13:20 GMT";
const BEFORE: &str = "Tue, 14 Nov 2023 22:13:19 GMT";
const AFTER: &str = "Tue, 14 Nov 2023 22:13:21 GMT";

fn meta(len: u64) -> FileMeta {
    FileMeta {
        len,
        modified: Some(UNIX_EPOCH + Duration::new(MTIME, 500_000_000)),
        dev: 1,
        ino: 0x2a,
    }
}

fn get() -> Request<'static> {
    Request::new(Method::Get)
}

fn eval(request: &Request<'_>, len: u64) -> Decision {
    evaluate(request, &meta(len), "text/plain", RangeLimits::default())
}

fn ranged(range: &str, len: u64) -> Decision {
    let mut request = get();
    request.range = Some(range);
    eval(&request, len)
}

fn header_names(decision: &Decision) -> Vec<String> {
    decision
        .headers
        .iter()
        .map(|h| h.name.to_ascii_lowercase())
        .collect()
}

fn file_segments(decision: &Decision) -> Vec<(u64, u64)> {
    match &decision.body {
        BodyPlan::Empty => Vec::new(),
        BodyPlan::Segments { segments, .. } => segments
            .iter()
            .filter_map(|s| match s {
                Segment::File { offset, len } => Some((*offset, *len)),
                Segment::Bytes(_) => None,
            })
            .collect(),
    }
}

/// The body bytes for a file whose byte `i` is `i % 251`.
fn materialize(decision: &Decision, file_len: u64) -> Vec<u8> {
    let content: Vec<u8> = (0..file_len).map(|i| (i % 251) as u8).collect();
    let mut out = Vec::new();
    if let BodyPlan::Segments { segments, .. } = &decision.body {
        for segment in segments {
            match segment {
                Segment::Bytes(bytes) => out.extend_from_slice(bytes),
                Segment::File { offset, len } => {
                    out.extend_from_slice(&content[*offset as usize..(*offset + *len) as usize]);
                }
            }
        }
    }
    out
}

fn slice(start: u64, end_inclusive: u64) -> Vec<u8> {
    (start..=end_inclusive).map(|i| (i % 251) as u8).collect()
}

fn boundary_of(decision: &Decision) -> String {
    decision
        .header("Content-Type")
        .and_then(|v| v.strip_prefix("multipart/byteranges; boundary="))
        .expect("multipart content type")
        .to_owned()
}

// ---- 1. If-Match, If-Unmodified-Since ----

#[test]
fn if_match_mismatch_gives_412_without_body_or_headers() {
    let mut request = get();
    request.if_match = Some("\"other\"");
    let decision = eval(&request, 10);
    assert_eq!(decision.status, 412);
    assert_eq!(decision.body, BodyPlan::Empty);
    assert!(decision.headers.is_empty());
}

#[test]
fn if_match_accepts_star_and_lists_with_our_tag() {
    let etag = meta(10).etag();
    let list = format!("\"a\" , W/\"b\",{etag}");
    for value in ["*", list.as_str()] {
        let mut request = get();
        request.if_match = Some(value);
        assert_eq!(eval(&request, 10).status, 200, "{value}");
    }
}

#[test]
fn empty_if_match_is_an_empty_list_and_gives_412() {
    // RFC 9110 §13.1.1: a present If-Match whose list matches nothing fails, and an empty
    // field value is an empty list (nginx answers 412 too). It still wins over a passing
    // If-Unmodified-Since.
    for value in ["", " ", "\t ", ",", " , ,"] {
        for method in [Method::Get, Method::Head, Method::Other] {
            let mut request = Request::new(method);
            request.if_match = Some(value);
            request.if_unmodified_since = Some(AFTER);
            request.range = Some("bytes=0-1");
            let decision = eval(&request, 10);
            assert_eq!(decision.status, 412, "If-Match: {value:?} ({method:?})");
            assert_eq!(decision.body, BodyPlan::Empty);
            assert!(decision.headers.is_empty(), "{:?}", decision.headers);
        }
    }
}

#[test]
fn if_match_uses_strong_comparison() {
    let weak = format!("W/{}", meta(10).etag());
    let mut request = get();
    request.if_match = Some(&weak);
    assert_eq!(eval(&request, 10).status, 412);
}

#[test]
fn if_unmodified_since_before_mtime_gives_412() {
    let mut request = get();
    request.if_unmodified_since = Some(BEFORE);
    assert_eq!(eval(&request, 10).status, 412);
}

#[test]
fn if_unmodified_since_has_second_precision() {
    // The file was modified half a second after LM: still "not modified since LM".
    let mut request = get();
    request.if_unmodified_since = Some(LM);
    assert_eq!(eval(&request, 10).status, 200);
}

#[test]
fn if_unmodified_since_unparseable_or_unknown_mtime_is_ignored() {
    let mut request = get();
    request.if_unmodified_since = Some("yesterday");
    assert_eq!(eval(&request, 10).status, 200);
    let mut request = get();
    request.if_unmodified_since = Some(BEFORE);
    let mut unknown = meta(10);
    unknown.modified = None;
    let decision = evaluate(&request, &unknown, "text/plain", RangeLimits::default());
    assert_eq!(decision.status, 200);
}

#[test]
fn if_unmodified_since_is_ignored_when_if_match_is_present() {
    let mut request = get();
    request.if_match = Some("*");
    request.if_unmodified_since = Some(BEFORE);
    assert_eq!(eval(&request, 10).status, 200);
}

// ---- 2. If-None-Match, If-Modified-Since ----

#[test]
fn if_none_match_uses_weak_comparison_and_gives_304_with_validators() {
    let weak = format!("\"x\", W/{}", meta(10).etag());
    let mut request = get();
    request.if_none_match = Some(&weak);
    let decision = eval(&request, 10);
    assert_eq!(decision.status, 304);
    assert_eq!(decision.body, BodyPlan::Empty);
    assert_eq!(decision.header("ETag"), Some(meta(10).etag().as_str()));
    assert_eq!(decision.header("Last-Modified"), Some(LM));
    assert_eq!(header_names(&decision), ["etag", "last-modified"]);
}

#[test]
fn if_none_match_star_gives_304_and_other_tags_200() {
    let mut request = get();
    request.if_none_match = Some("*");
    assert_eq!(eval(&request, 10).status, 304);
    request.if_none_match = Some("\"a\", \"b\"");
    assert_eq!(eval(&request, 10).status, 200);
}

#[test]
fn if_none_match_for_head_gives_304_and_for_other_methods_412() {
    let etag = meta(10).etag();
    let mut request = Request::new(Method::Head);
    request.if_none_match = Some(&etag);
    assert_eq!(eval(&request, 10).status, 304);
    request.method = Method::Other;
    let decision = eval(&request, 10);
    assert_eq!(decision.status, 412);
    assert_eq!(decision.body, BodyPlan::Empty);
}

#[test]
fn if_modified_since_not_modified_gives_304() {
    let mut request = get();
    request.if_modified_since = Some(LM);
    assert_eq!(eval(&request, 10).status, 304);
    request.if_modified_since = Some(BEFORE);
    assert_eq!(eval(&request, 10).status, 200);
    request.if_modified_since = Some("garbage");
    assert_eq!(eval(&request, 10).status, 200);
}

#[test]
fn if_modified_since_is_ignored_when_if_none_match_is_present() {
    let mut request = get();
    request.if_none_match = Some("\"stale\"");
    request.if_modified_since = Some(AFTER);
    assert_eq!(eval(&request, 10).status, 200);
}

#[test]
fn empty_if_none_match_matches_nothing_and_still_hides_if_modified_since() {
    // An empty list matches no entity tag, so the condition holds (200); and since
    // If-None-Match is present, If-Modified-Since is not evaluated (RFC 9110 §13.2.2
    // step 3; nginx also answers 200).
    for value in ["", " ", ","] {
        let mut request = get();
        request.if_none_match = Some(value);
        request.if_modified_since = Some(LM);
        let decision = eval(&request, 10);
        assert_eq!(decision.status, 200, "If-None-Match: {value:?}");
        assert_eq!(file_segments(&decision), [(0, 10)]);
    }
}

#[test]
fn if_modified_since_only_applies_to_get_and_head() {
    let mut request = Request::new(Method::Head);
    request.if_modified_since = Some(AFTER);
    assert_eq!(eval(&request, 10).status, 304);
    request.method = Method::Other;
    assert_eq!(eval(&request, 10).status, 200);
}

#[test]
fn if_match_is_checked_before_if_none_match() {
    let mut request = get();
    request.if_match = Some("\"other\"");
    request.if_none_match = Some("*");
    assert_eq!(eval(&request, 10).status, 412);
}

// ---- 3. If-Range ----

#[test]
fn if_range_with_our_strong_etag_allows_the_range() {
    let etag = meta(10).etag();
    let mut request = get();
    request.range = Some("bytes=0-1");
    request.if_range = Some(&etag);
    assert_eq!(eval(&request, 10).status, 206);
}

#[test]
fn if_range_with_weak_or_other_etag_gives_full_200() {
    let weak = format!("W/{}", meta(10).etag());
    for value in [weak.as_str(), "\"other\"", "not a date"] {
        let mut request = get();
        request.range = Some("bytes=0-1");
        request.if_range = Some(value);
        let decision = eval(&request, 10);
        assert_eq!(decision.status, 200, "{value}");
        assert_eq!(file_segments(&decision), [(0, 10)]);
    }
}

#[test]
fn if_range_date_must_equal_last_modified_to_the_second() {
    let mut request = get();
    request.range = Some("bytes=0-1");
    request.if_range = Some(LM);
    assert_eq!(eval(&request, 10).status, 206);
    request.if_range = Some(AFTER);
    assert_eq!(eval(&request, 10).status, 200);
    request.if_range = Some(BEFORE);
    assert_eq!(eval(&request, 10).status, 200);
}

#[test]
fn empty_or_invalid_if_range_ignores_the_range() {
    // A present If-Range that is neither an entity-tag nor an HTTP-date is no validator:
    // the range is not honoured (RFC 9110 §13.1.5), as nginx does. An empty field value
    // is present too, not absent.
    let etag = meta(10).etag();
    let trailing = format!("{etag} x");
    let twice = format!("{etag}, {etag}");
    for value in [
        "",
        " ",
        "\t",
        "garbage",
        "W/",
        "\"unterminated",
        trailing.as_str(),
        twice.as_str(),
        "Tue, 14 Nov 2023",
    ] {
        for method in [Method::Get, Method::Head] {
            let mut request = Request::new(method);
            request.range = Some("bytes=0-1");
            request.if_range = Some(value);
            let decision = eval(&request, 10);
            assert_eq!(decision.status, 200, "If-Range: {value:?}");
            assert_eq!(decision.header("Content-Length"), Some("10"), "{value:?}");
            assert_eq!(decision.header("Content-Range"), None, "{value:?}");
        }
    }
}

// ---- 4. Range parsing ----

#[test]
fn range_forms_first_last_open_and_suffix() {
    let cases = [
        ("bytes=2-5", "bytes 2-5/10", (2, 4)),
        ("bytes=7-", "bytes 7-9/10", (7, 3)),
        ("bytes=-3", "bytes 7-9/10", (7, 3)),
        ("bytes=-30", "bytes 0-9/10", (0, 10)),
        ("bytes=8-100", "bytes 8-9/10", (8, 2)),
        ("BYTES=8-99999999999999999999999", "bytes 8-9/10", (8, 2)),
    ];
    for (range, content_range, segment) in cases {
        let decision = ranged(range, 10);
        assert_eq!(decision.status, 206, "{range}");
        assert_eq!(
            decision.header("Content-Range"),
            Some(content_range),
            "{range}"
        );
        assert_eq!(file_segments(&decision), [segment], "{range}");
        assert_eq!(
            decision.header("Content-Length"),
            Some(segment.1.to_string().as_str())
        );
        assert_eq!(decision.header("Content-Type"), None);
    }
}

#[test]
fn zero_suffix_is_unsatisfiable() {
    let decision = ranged("bytes=-0", 10);
    assert_eq!(decision.status, 416);
    assert_eq!(decision.header("Content-Range"), Some("bytes */10"));
}

#[test]
fn unsatisfiable_range_gives_416_with_star_content_range() {
    let decision = ranged("bytes=10-20, 50-", 10);
    assert_eq!(decision.status, 416);
    assert_eq!(decision.body, BodyPlan::Empty);
    assert_eq!(header_names(&decision), ["content-range"]);
    assert_eq!(decision.header("Content-Range"), Some("bytes */10"));
}

#[test]
fn unsatisfiable_ranges_are_dropped_when_another_one_fits() {
    let decision = ranged("bytes=100-200, 0-1", 10);
    assert_eq!(decision.status, 206);
    assert_eq!(decision.header("Content-Range"), Some("bytes 0-1/10"));
}

#[test]
fn whitespace_is_tolerated_around_commas_and_empty_elements_skipped() {
    let decision = ranged(" bytes=, 0-1 ,\t4-5 ,", 10);
    assert_eq!(decision.status, 206);
    assert_eq!(file_segments(&decision), [(0, 2), (4, 2)]);
}

#[test]
fn invalid_range_syntax_is_ignored_with_full_200() {
    for range in [
        "bytes=5-3",
        "bytes=a-b",
        "bytes=1",
        "bytes=--1",
        "bytes=+1-2",
        "bytes=0-1,x",
        "bytes=",
        "bytes=,",
        "bytes 0-1",
        "0-1",
    ] {
        let decision = ranged(range, 10);
        assert_eq!(decision.status, 200, "{range}");
        assert_eq!(file_segments(&decision), [(0, 10)], "{range}");
    }
}

#[test]
fn other_range_units_are_ignored() {
    let decision = ranged("items=0-1", 10);
    assert_eq!(decision.status, 200);
    assert_eq!(decision.header("Content-Range"), None);
}

#[test]
fn range_on_empty_file_gives_200_with_empty_body() {
    for range in ["bytes=0-", "bytes=-5", "bytes=3-4"] {
        let decision = ranged(range, 0);
        assert_eq!(decision.status, 200, "{range}");
        assert_eq!(decision.header("Content-Length"), Some("0"));
        assert_eq!(
            decision.body,
            BodyPlan::Segments {
                segments: Vec::new(),
                len: 0
            }
        );
    }
}

#[test]
fn several_ranges_give_exact_multipart_body() {
    let decision = ranged("bytes=0-1,5-7", 10);
    assert_eq!(decision.status, 206);
    assert_eq!(decision.header("Content-Range"), None);
    let boundary = boundary_of(&decision);
    let mut expected = Vec::new();
    expected.extend_from_slice(
        format!("--{boundary}\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-1/10\r\n\r\n")
            .as_bytes(),
    );
    expected.extend(slice(0, 1));
    expected.extend_from_slice(
        format!(
            "\r\n--{boundary}\r\nContent-Type: text/plain\r\nContent-Range: bytes 5-7/10\r\n\r\n"
        )
        .as_bytes(),
    );
    expected.extend(slice(5, 7));
    expected.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let body = materialize(&decision, 10);
    assert_eq!(body, expected);
    let BodyPlan::Segments { len, .. } = decision.body else {
        panic!("body expected");
    };
    assert_eq!(len, expected.len() as u64);
    assert_eq!(
        decision.header("Content-Length"),
        Some(expected.len().to_string().as_str())
    );
}

#[test]
fn part_content_type_is_omitted_when_empty_and_sanitised() {
    let mut request = get();
    request.range = Some("bytes=0-0,2-2");
    let empty = evaluate(&request, &meta(10), "", RangeLimits::default());
    let body = String::from_utf8_lossy(&materialize(&empty, 10)).into_owned();
    assert!(!body.contains("Content-Type"), "{body}");
    let evil = evaluate(
        &request,
        &meta(10),
        "text/plain\r\nX-Evil: 1",
        RangeLimits::default(),
    );
    let body = String::from_utf8_lossy(&materialize(&evil, 10)).into_owned();
    assert!(!body.contains("X-Evil"), "{body}");
    assert!(body.contains("Content-Type: application/octet-stream\r\n"));
}

#[test]
fn overlapping_and_adjacent_ranges_are_coalesced() {
    let overlapping = ranged("bytes=0-4,3-6", 10);
    assert_eq!(overlapping.status, 206);
    assert_eq!(overlapping.header("Content-Range"), Some("bytes 0-6/10"));
    let adjacent = ranged("bytes=0-4,5-6", 10);
    assert_eq!(adjacent.header("Content-Range"), Some("bytes 0-6/10"));
    let repeated = ranged("bytes=0-,0-,0-,-10", 10);
    assert_eq!(repeated.header("Content-Range"), Some("bytes 0-9/10"));
    assert_eq!(file_segments(&repeated), [(0, 10)]);
}

#[test]
fn coalesced_parts_keep_request_order() {
    let decision = ranged("bytes=8-9,0-1,5-5,1-2", 10);
    assert_eq!(file_segments(&decision), [(8, 2), (0, 3), (5, 1)]);
}

#[test]
fn more_ranges_than_the_limit_give_full_200() {
    let limits = RangeLimits { max_ranges: 2 };
    let mut request = get();
    request.range = Some("bytes=0-0,2-2");
    assert_eq!(evaluate(&request, &meta(10), "t/t", limits).status, 206);
    request.range = Some("bytes=0-0,2-2,4-4");
    let decision = evaluate(&request, &meta(10), "t/t", limits);
    assert_eq!(decision.status, 200);
    assert_eq!(file_segments(&decision), [(0, 10)]);
}

#[test]
fn zero_max_ranges_disables_ranges() {
    let mut request = get();
    request.range = Some("bytes=0-0");
    let decision = evaluate(&request, &meta(10), "t/t", RangeLimits { max_ranges: 0 });
    assert_eq!(decision.status, 200);
    assert_eq!(decision.header("Accept-Ranges"), Some("none"));
}

#[test]
fn boundary_is_long_random_hex() {
    let a = boundary_of(&ranged("bytes=0-0,2-2", 10));
    let b = boundary_of(&ranged("bytes=0-0,2-2", 10));
    assert_ne!(a, b);
    assert!(
        a.len() >= 30 && a.bytes().all(|c| c.is_ascii_hexdigit()),
        "{a}"
    );
}

// ---- 5. Headers ----

#[test]
fn full_response_headers() {
    let decision = eval(&get(), 10);
    assert_eq!(decision.status, 200);
    assert_eq!(
        header_names(&decision),
        ["accept-ranges", "etag", "last-modified", "content-length"]
    );
    assert_eq!(decision.header("Accept-Ranges"), Some("bytes"));
    assert_eq!(decision.header("ETag"), Some(meta(10).etag().as_str()));
    assert_eq!(decision.header("Last-Modified"), Some(LM));
    assert_eq!(decision.header("Content-Length"), Some("10"));
    assert_eq!(
        decision.body,
        BodyPlan::Segments {
            segments: vec![Segment::File { offset: 0, len: 10 }],
            len: 10
        }
    );
}

#[test]
fn last_modified_is_skipped_when_unknown_or_unrepresentable() {
    for modified in [
        None,
        Some(UNIX_EPOCH - Duration::from_secs(1)),
        Some(UNIX_EPOCH + Duration::from_secs(YEAR_10000)),
    ] {
        let file = FileMeta {
            modified,
            ..meta(10)
        };
        let decision = evaluate(&get(), &file, "t/t", RangeLimits::default());
        assert_eq!(decision.status, 200);
        assert_eq!(decision.header("Last-Modified"), None, "{modified:?}");
        assert!(decision.header("ETag").is_some());
    }
}

#[test]
fn head_gets_get_headers_and_no_body() {
    for range in [
        None,
        Some("bytes=1-2"),
        Some("bytes=0-0,5-6"),
        Some("bytes=50-"),
    ] {
        let mut get_request = get();
        get_request.range = range;
        let mut head_request = get_request;
        head_request.method = Method::Head;
        let from_get = eval(&get_request, 10);
        let from_head = eval(&head_request, 10);
        assert_eq!(from_head.status, from_get.status, "{range:?}");
        assert_eq!(from_head.body, BodyPlan::Empty);
        let strip = |d: &Decision| {
            d.headers
                .iter()
                .filter(|h| h.name != "Content-Type")
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(strip(&from_head), strip(&from_get), "{range:?}");
        assert_eq!(
            from_head.header("Content-Type").map(str::len),
            from_get.header("Content-Type").map(str::len)
        );
    }
    let mut head = Request::new(Method::Head);
    head.range = Some("bytes=1-2");
    assert_eq!(eval(&head, 10).status, 206);
}

// ---- 6. Other methods ----

#[test]
fn other_methods_get_preconditions_but_no_ranges() {
    let mut request = Request::new(Method::Other);
    request.if_match = Some("\"nope\"");
    assert_eq!(eval(&request, 10).status, 412);
    let mut request = Request::new(Method::Other);
    request.range = Some("bytes=0-1");
    let decision = eval(&request, 10);
    assert_eq!(decision.status, 200);
    assert_eq!(file_segments(&decision), [(0, 10)]);
}

// ---- Helpers ----

#[test]
fn scan_etag_accepts_strong_weak_and_rejects_broken_tags() {
    assert_eq!(scan_etag(" \"a\" ,x"), Some(("\"a\"", " ,x")));
    assert_eq!(scan_etag("W/\"a\""), Some(("W/\"a\"", "")));
    assert_eq!(scan_etag("\"a"), None);
    assert_eq!(scan_etag("\"a b\""), None);
    assert_eq!(scan_etag("a"), None);
}

#[test]
fn unix_seconds_rounds_down() {
    assert_eq!(unix_seconds(UNIX_EPOCH + Duration::from_millis(1500)), 1);
    assert_eq!(unix_seconds(UNIX_EPOCH - Duration::from_millis(500)), -1);
    assert_eq!(unix_seconds(UNIX_EPOCH - Duration::from_secs(2)), -2);
}

// ---- Properties ----

/// `Range` values: mostly well-formed `bytes=` lists (numbers near typical file lengths,
/// some huge), with a sprinkle of other units, junk elements and arbitrary text.
fn range_header() -> impl Strategy<Value = String> {
    let number = prop_oneof![
        12 => 0u64..80,
        2 => 0u64..2_000_000,
        1 => any::<u64>(),
    ]
    .prop_map(|n| n.to_string());
    let spec = prop_oneof![
        6 => (number.clone(), number.clone()).prop_map(|(a, b)| {
            let (x, y) = (a.parse::<u64>().unwrap_or(0), b.parse::<u64>().unwrap_or(0));
            format!("{}-{}", x.min(y), x.max(y))
        }),
        2 => number.clone().prop_map(|a| format!("{a}-")),
        2 => number.clone().prop_map(|n| format!("-{n}")),
        1 => (number.clone(), number).prop_map(|(a, b)| format!("{a}-{b}")),
        1 => Just("99999999999999999999999-".to_owned()),
        1 => Just(String::new()),
        1 => "[ \t0-9a-z=,+\\-]{0,6}",
    ];
    let specs = prop_oneof![
        6 => prop::collection::vec((spec.clone(), "[ \t]{0,2}"), 1..5),
        1 => prop::collection::vec((spec, "[ \t]{0,2}"), 0..24),
    ];
    let structured = (
        prop_oneof![
            12 => Just("bytes="),
            1 => Just("Bytes="),
            1 => Just("bytes ="),
            1 => Just("items="),
            1 => Just(""),
        ],
        specs,
    )
        .prop_map(|(unit, specs)| {
            let list: Vec<String> = specs
                .into_iter()
                .map(|(s, ws)| format!("{ws}{s}{ws}"))
                .collect();
            format!("{unit}{}", list.join(","))
        });
    prop_oneof![12 => structured, 1 => any::<String>()]
}

fn check_header_values(decision: &Decision) -> Result<(), TestCaseError> {
    for header in &decision.headers {
        prop_assert!(
            !header.value.iter().any(|b| matches!(b, b'\r' | b'\n' | 0)),
            "{header:?}"
        );
    }
    Ok(())
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 1024,
        rng_seed: RngSeed::Fixed(0x5e4df11e),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_range_header_gives_a_consistent_decision(
        range in range_header(),
        len in prop_oneof![6 => 0u64..64, 1 => 0u64..1_000_000, 1 => Just(u64::MAX / 2)],
        max_ranges in 0usize..20,
    ) {
        let file = meta(len);
        let limits = RangeLimits { max_ranges };
        let mut request = get();
        request.range = Some(&range);
        let decision = evaluate(&request, &file, "application/pdf", limits);
        prop_assert!(matches!(decision.status, 200 | 206 | 416), "{}", decision.status);
        check_header_values(&decision)?;

        let mut head = request;
        head.method = Method::Head;
        let head_decision = evaluate(&head, &file, "application/pdf", limits);
        prop_assert_eq!(head_decision.status, decision.status);
        prop_assert_eq!(&head_decision.body, &BodyPlan::Empty);
        prop_assert_eq!(head_decision.header("Content-Length"), decision.header("Content-Length"));

        match &decision.body {
            BodyPlan::Empty => {
                prop_assert_eq!(decision.status, 416);
                let expected = format!("bytes */{len}");
                prop_assert_eq!(decision.header("Content-Range"), Some(expected.as_str()));
            }
            BodyPlan::Segments { segments, len: total } => {
                let sum: u64 = segments.iter().map(Segment::len).sum();
                prop_assert_eq!(sum, *total);
                let expected = total.to_string();
                prop_assert_eq!(decision.header("Content-Length"), Some(expected.as_str()));
                let mut file_bytes = 0u64;
                for segment in segments {
                    if let Segment::File { offset, len: n } = segment {
                        prop_assert!(*n > 0);
                        prop_assert!(offset.checked_add(*n).is_some_and(|end| end <= len));
                        file_bytes += n;
                    }
                }
                prop_assert!(file_bytes <= len, "{} > {}", file_bytes, len);
                let files = file_segments(&decision).len();
                if files > 1 {
                    prop_assert!(files <= max_ranges);
                }
                if decision.status == 200 {
                    prop_assert_eq!(file_bytes, len);
                }
            }
        }
    }

    #[test]
    fn multipart_bodies_parse_back_to_their_ranges(
        specs in prop::collection::vec(
            prop_oneof![
                (0u64..350, 0u64..350).prop_map(|(a, b)| format!("{}-{}", a.min(b), a.max(b))),
                (0u64..350).prop_map(|a| format!("{a}-")),
                (0u64..350).prop_map(|n| format!("-{n}")),
            ],
            2..8,
        ),
        len in 1u64..300,
    ) {
        let range = format!("bytes={}", specs.join(", "));
        let mut request = get();
        request.range = Some(&range);
        let decision = evaluate(&request, &meta(len), "text/plain", RangeLimits::default());
        prop_assert!(matches!(decision.status, 206 | 416), "{}", decision.status);
        if decision.header("Content-Type").is_none() {
            // A single part (after coalescing) or nothing satisfiable.
            prop_assert!(file_segments(&decision).len() <= 1);
            return Ok(());
        }
        let boundary = boundary_of(&decision);
        let body = materialize(&decision, len);
        let expected_parts = file_segments(&decision);
        let delimiter = format!("--{boundary}");
        // Split on the delimiter: a preamble (empty), the parts, and the epilogue.
        let text = body.clone();
        let mut pieces = Vec::new();
        let mut rest = text.as_slice();
        while let Some(at) = rest.windows(delimiter.len()).position(|w| w == delimiter.as_bytes()) {
            pieces.push(&rest[..at]);
            rest = &rest[at + delimiter.len()..];
        }
        prop_assert_eq!(rest, b"--\r\n".as_slice());
        prop_assert_eq!(pieces[0], b"".as_slice());
        prop_assert_eq!(pieces.len() - 1, expected_parts.len());
        for (piece, (offset, n)) in pieces[1..].iter().zip(expected_parts) {
            let head = format!(
                "\r\nContent-Type: text/plain\r\nContent-Range: bytes {}-{}/{len}\r\n\r\n",
                offset,
                offset + n - 1
            );
            prop_assert!(piece.starts_with(head.as_bytes()));
            let data = &piece[head.len()..piece.len() - 2];
            let expected = slice(offset, offset + n - 1);
            prop_assert_eq!(data, expected.as_slice());
            prop_assert!(piece.ends_with(b"\r\n"));
        }
    }

    #[test]
    fn any_conditional_headers_give_a_clean_decision(
        values in prop::collection::vec(prop::option::of(prop_oneof![
            Just(LM.to_owned()),
            Just(BEFORE.to_owned()),
            Just(AFTER.to_owned()),
            Just("*".to_owned()),
            Just(meta(10).etag()),
            Just(format!("W/{}", meta(10).etag())),
            Just("bytes=0-3,5-".to_owned()),
            any::<String>(),
        ]), 6),
        method in prop_oneof![Just(Method::Get), Just(Method::Head), Just(Method::Other)],
    ) {
        let request = Request {
            method,
            if_match: values[0].as_deref(),
            if_unmodified_since: values[1].as_deref(),
            if_none_match: values[2].as_deref(),
            if_modified_since: values[3].as_deref(),
            if_range: values[4].as_deref(),
            range: values[5].as_deref(),
        };
        let decision = eval(&request, 10);
        prop_assert!(matches!(decision.status, 200 | 206 | 304 | 412 | 416));
        check_header_values(&decision)?;
        if method == Method::Other {
            prop_assert!(matches!(decision.status, 200 | 412));
        }
        if matches!(decision.status, 304 | 412 | 416) || method == Method::Head {
            prop_assert_eq!(&decision.body, &BodyPlan::Empty);
        }
    }
}

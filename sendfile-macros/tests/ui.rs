//! Compile-time behaviour of `#[protected_file]`: what it accepts, and the errors it
//! reports, checked against the `.stderr` files next to each failing case.
//!
//! The messages come partly from rustc, so they are compared on one toolchain only
//! (stable, from the version they were written with); regenerate them with
//! `TRYBUILD=overwrite cargo test -p sendfile-macros --test ui` and read the diff.

#[rustversion::attr(
    any(not(stable), before(1.95)),
    ignore = "compiler messages are checked on stable 1.95 and later"
)]
#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}

//! Parsing of the `#[protected_file(...)]` arguments.

use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::{Expr, ExprPath, LitInt, Token};

mod kw {
    syn::custom_keyword!(allow);
    syn::custom_keyword!(check);
    syn::custom_keyword!(denied_status);
}

/// The smallest and largest status accepted by `denied_status`.
const STATUS_RANGE: std::ops::RangeInclusive<u16> = 400..=599;

/// The arguments of one `#[protected_file(...)]` attribute.
pub(crate) struct Args {
    /// `allow = <expr>`: evaluated before the body runs.
    pub(crate) allow: Option<Expr>,
    /// `check = <path>`: called with the request and the resolved file.
    pub(crate) check: Option<ExprPath>,
    /// `denied_status = <400..=599>`: the status of a denied download.
    pub(crate) denied_status: Option<u16>,
}

impl Args {
    /// Parses the attribute's arguments; `attr_span` is where an error about the
    /// attribute as a whole (a missing argument) is reported.
    pub(crate) fn parse(tokens: proc_macro2::TokenStream, attr_span: Span) -> syn::Result<Self> {
        let args: Self = syn::parse2(tokens)?;
        if args.allow.is_none() && args.check.is_none() {
            return Err(syn::Error::new(
                attr_span,
                "#[protected_file] needs `allow = <bool expression>`, `check = <path of an async fn>` \
                 or both",
            ));
        }
        Ok(args)
    }
}

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut args = Args {
            allow: None,
            check: None,
            denied_status: None,
        };
        // Repeated, unknown and out-of-range arguments are collected so that all of
        // them are reported at once; malformed syntax stops the parse.
        let mut errors: Option<syn::Error> = None;
        if let Err(error) = parse_into(input, &mut args, &mut errors) {
            push(&mut errors, error);
        }
        match errors {
            Some(errors) => Err(errors),
            None => Ok(args),
        }
    }
}

/// Parses `key = value, ...` into `args`, recording recoverable errors in `errors`.
fn parse_into(
    input: ParseStream<'_>,
    args: &mut Args,
    errors: &mut Option<syn::Error>,
) -> syn::Result<()> {
    while !input.is_empty() {
        let lookahead = input.lookahead1();
        if lookahead.peek(kw::allow) {
            let key: kw::allow = input.parse()?;
            equals(input, key.span, "allow = <bool expression>")?;
            let value: Expr = input.parse()?;
            set_once(&mut args.allow, value, key.span, "allow", errors);
        } else if lookahead.peek(kw::check) {
            let key: kw::check = input.parse()?;
            equals(input, key.span, "check = <path of an async fn>")?;
            match parse_check(input)? {
                Ok(value) => set_once(&mut args.check, value, key.span, "check", errors),
                Err(error) => push(errors, error),
            }
        } else if lookahead.peek(kw::denied_status) {
            let key: kw::denied_status = input.parse()?;
            equals(input, key.span, "denied_status = <400..=599>")?;
            match parse_status(input)? {
                Ok(value) => set_once(
                    &mut args.denied_status,
                    value,
                    key.span,
                    "denied_status",
                    errors,
                ),
                Err(error) => push(errors, error),
            }
        } else if input.peek(syn::Ident) {
            let unknown: syn::Ident = input.parse()?;
            push(
                errors,
                syn::Error::new(
                    unknown.span(),
                    format!(
                        "unknown argument `{unknown}`; expected `allow`, `check` or `denied_status`"
                    ),
                ),
            );
            // Skip the unknown argument's value, if any, to go on with the next one.
            if input.peek(Token![=]) {
                input.parse::<Token![=]>()?;
                input.parse::<Expr>()?;
            }
        } else {
            return Err(lookahead.error());
        }
        if input.is_empty() {
            break;
        }
        input.parse::<Token![,]>()?;
    }
    Ok(())
}

/// Parses the `=` after a key, or fails on the key with the expected form.
fn equals(input: ParseStream<'_>, key: Span, form: &str) -> syn::Result<()> {
    if input.peek(Token![=]) {
        input.parse::<Token![=]>()?;
        Ok(())
    } else {
        Err(syn::Error::new(key, format!("expected `{form}`")))
    }
}

/// Stores `value` in `slot`, or records an error on the repeated key.
fn set_once<T>(
    slot: &mut Option<T>,
    value: T,
    key: Span,
    name: &str,
    errors: &mut Option<syn::Error>,
) {
    if slot.is_some() {
        push(
            errors,
            syn::Error::new(key, format!("`{name}` is given more than once")),
        );
    } else {
        *slot = Some(value);
    }
}

/// Adds `error` to the collected errors.
pub(crate) fn push(errors: &mut Option<syn::Error>, error: syn::Error) {
    match errors {
        Some(errors) => errors.combine(error),
        None => *errors = Some(error),
    }
}

/// `check = <path>`: the path of an async function, such as `owns_file`,
/// `Self::owns_file` or `checks::owns::<Doc>`.
///
/// The outer `Result` fails on malformed syntax, the inner one on a well-formed
/// value of the wrong kind.
fn parse_check(input: ParseStream<'_>) -> syn::Result<syn::Result<ExprPath>> {
    let value: Expr = input.parse()?;
    Ok(match value {
        Expr::Path(path) if path.attrs.is_empty() => Ok(path),
        other => Err(syn::Error::new_spanned(
            other,
            "`check` takes the path of an async fn(&HttpRequest, &Path) -> bool, \
             e.g. `check = owns_file`",
        )),
    })
}

/// `denied_status = <integer literal in 400..=599>`.
///
/// The outer `Result` fails on malformed syntax, the inner one on a value that is
/// not a status in range.
fn parse_status(input: ParseStream<'_>) -> syn::Result<syn::Result<u16>> {
    let expected =
        "`denied_status` takes an HTTP status between 400 and 599, e.g. `denied_status = 404`";
    if !input.peek(LitInt) {
        let value: Expr = input.parse()?;
        return Ok(Err(syn::Error::new_spanned(value, expected)));
    }
    let lit: LitInt = input.parse()?;
    let status = match lit.suffix() {
        "" | "u16" => lit.base10_parse::<u16>().ok(),
        _ => None,
    };
    Ok(match status {
        Some(status) if STATUS_RANGE.contains(&status) => Ok(status),
        _ => Err(syn::Error::new(lit.span(), expected)),
    })
}

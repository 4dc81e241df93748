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
                "#[protected_file] needs `allow = <bool expression>`, `check = <async fn>` or both, \
                 e.g. #[protected_file(allow = user.may_read(&name))]",
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
        // Repeated and unknown arguments are collected so that all of them are
        // reported at once; malformed syntax stops the parse.
        let mut errors: Option<syn::Error> = None;
        while !input.is_empty() {
            let lookahead = input.lookahead1();
            if lookahead.peek(kw::allow) {
                let key: kw::allow = input.parse()?;
                input.parse::<Token![=]>()?;
                let value: Expr = input.parse()?;
                set_once(&mut args.allow, value, key.span, "allow", &mut errors);
            } else if lookahead.peek(kw::check) {
                let key: kw::check = input.parse()?;
                input.parse::<Token![=]>()?;
                let value = parse_check(input)?;
                set_once(&mut args.check, value, key.span, "check", &mut errors);
            } else if lookahead.peek(kw::denied_status) {
                let key: kw::denied_status = input.parse()?;
                input.parse::<Token![=]>()?;
                let value = parse_status(input)?;
                set_once(&mut args.denied_status, value, key.span, "denied_status", &mut errors);
            } else if input.peek(syn::Ident) {
                let unknown: syn::Ident = input.parse()?;
                push(
                    &mut errors,
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
        match errors {
            Some(errors) => Err(errors),
            None => Ok(args),
        }
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
fn parse_check(input: ParseStream<'_>) -> syn::Result<ExprPath> {
    let value: Expr = input.parse()?;
    match value {
        Expr::Path(path) if path.attrs.is_empty() => Ok(path),
        other => Err(syn::Error::new_spanned(
            other,
            "`check` takes the path of an async fn(&HttpRequest, &Path) -> bool, \
             e.g. `check = owns_file`",
        )),
    }
}

/// `denied_status = <integer literal in 400..=599>`.
fn parse_status(input: ParseStream<'_>) -> syn::Result<u16> {
    let expected = "`denied_status` takes an HTTP status between 400 and 599, e.g. `denied_status = 404`";
    if !input.peek(LitInt) {
        let value: Expr = input.parse()?;
        return Err(syn::Error::new_spanned(value, expected));
    }
    let lit: LitInt = input.parse()?;
    let status = match lit.suffix() {
        "" | "u16" => lit.base10_parse::<u16>().ok(),
        _ => None,
    };
    match status {
        Some(status) if STATUS_RANGE.contains(&status) => Ok(status),
        _ => Err(syn::Error::new(lit.span(), expected)),
    }
}

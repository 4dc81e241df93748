//! Validation of the handler and generation of the glue around it.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Block, Expr, FnArg, Ident, ItemFn, ReturnType, Signature, Stmt, Type};

use crate::args::{Args, push};

/// The most extractors actix-web passes to a handler.
const MAX_EXTRACTORS: usize = 16;

/// Expands `#[protected_file(attr)] item`. Never fails: on a user mistake it
/// returns the item unchanged together with `compile_error!`s, so that the
/// rest of the crate still sees the handler (and IDEs keep working).
pub(crate) fn protected_file(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = None;
    let args = Args::parse(attr, Span::call_site())
        .map_err(|error| push(&mut errors, error))
        .ok();
    let func = match syn::parse2::<ItemFn>(item.clone()) {
        Ok(func) => func,
        Err(_) => {
            push(
                &mut errors,
                syn::Error::new(
                    Span::call_site(),
                    "#[protected_file] applies to an `async fn` request handler",
                ),
            );
            return with_errors(item, errors);
        }
    };
    let output = validate(&func.sig)
        .map_err(|error| push(&mut errors, error))
        .ok();
    match (args, output, errors) {
        (Some(args), Some(output), None) => expand(&args, func, &output),
        (_, _, errors) => with_errors(item, errors),
    }
}

/// The original item followed by the errors.
fn with_errors(mut item: TokenStream, errors: Option<syn::Error>) -> TokenStream {
    item.extend(errors.map(syn::Error::into_compile_error));
    item
}

/// Checks that the signature is one the glue can wrap and returns the
/// handler's return type.
fn validate(sig: &Signature) -> syn::Result<Type> {
    let mut errors = None;
    let mut error = |tokens: &dyn ToTokens, message: &str| {
        push(&mut errors, syn::Error::new_spanned(tokens, message));
    };
    if let Some(constness) = &sig.constness {
        error(constness, "#[protected_file] handlers cannot be `const`");
    }
    if let Some(unsafety) = &sig.unsafety {
        error(unsafety, "#[protected_file] handlers cannot be `unsafe`");
    }
    if let Some(abi) = &sig.abi {
        error(
            abi,
            "#[protected_file] handlers cannot have an `extern` ABI",
        );
    }
    if sig.asyncness.is_none() {
        error(
            &sig.fn_token,
            "#[protected_file] handlers must be `async fn`",
        );
    }
    for input in &sig.inputs {
        if let FnArg::Receiver(receiver) = input {
            error(
                receiver,
                "#[protected_file] handlers cannot take `self`; \
                 actix-web calls handlers as plain functions",
            );
        }
    }
    if let Some(variadic) = &sig.variadic {
        error(variadic, "#[protected_file] handlers cannot be variadic");
    }
    if sig.inputs.len() >= MAX_EXTRACTORS
        && let Some(last) = sig.inputs.last()
    {
        error(
            last,
            "#[protected_file] adds an `HttpRequest` argument and actix-web handlers \
             take at most 16; group some extractors in a tuple",
        );
    }
    let output = match &sig.output {
        ReturnType::Type(_, ty) if matches!(**ty, Type::ImplTrait(_)) => {
            error(
                ty,
                "#[protected_file] handlers must name their return type: \
                 `SendFile` or `Result<SendFile, E>`",
            );
            None
        }
        ReturnType::Type(_, ty) => Some((**ty).clone()),
        ReturnType::Default => {
            error(
                &sig.ident,
                "#[protected_file] handlers must return `SendFile` or `Result<SendFile, E>`",
            );
            None
        }
    };
    match (output, errors) {
        (Some(output), None) => Ok(output),
        (_, Some(errors)) => Err(errors),
        (None, None) => Err(syn::Error::new_spanned(
            &sig.ident,
            "#[protected_file] handlers must return `SendFile` or `Result<SendFile, E>`",
        )),
    }
}

/// Generates the handler: the original signature plus a leading
/// `HttpRequest`, returning `Result<SendFile, actix_web::Error>`; `allow` runs
/// before the original body, `check` after it, and the body itself runs in an
/// `async` block typed with the original return type so that its `?` and
/// `return` keep their meaning.
fn expand(args: &Args, mut func: ItemFn, output: &Type) -> TokenStream {
    let private = quote!(::sendfile_actix::protected);
    let hygienic = |name: &str| Ident::new(name, Span::mixed_site());
    let req = hygienic("__sendfile_req");
    let allowed = hygienic("__sendfile_allowed");
    let file = hygienic("__sendfile_file");
    let resolved = hygienic("__sendfile_resolved");
    let fake_return = hygienic("__sendfile_fake_return");

    let status = match args.denied_status {
        // Checked to be in 400..=599 when the attribute was parsed.
        Some(status) => quote! {
            #private::DeniedStatus::from_u16(#status).ok()
        },
        None => quote!(::core::option::Option::None),
    };
    let deny = quote! {
        return ::core::result::Result::Err(#private::deny(&#req, #status));
    };

    let allow = args.allow.as_ref().map(|allow| {
        quote! {
            let #allowed: ::core::primitive::bool = #allow;
            if !#allowed {
                #deny
            }
        }
    });

    let stmts = &func.block.stmts;
    // Spanned on the return type, so that an unsupported one is reported there.
    let into_result = quote_spanned! {output.span()=>
        <#output as ::sendfile_actix::protected::HandlerOutput>::into_send_file
    };
    let body = quote! {
        let #file = #into_result(
            async move {
                // Gives the block the handler's own return type before the
                // body is type-checked, so that `?` and `return` inside it
                // convert to that type.
                #[allow(
                    unknown_lints,
                    unreachable_code,
                    clippy::diverging_sub_expression,
                    clippy::empty_loop,
                    clippy::let_unit_value,
                    clippy::needless_return
                )]
                if false {
                    let #fake_return: #output = loop {};
                    return #fake_return;
                }
                #(#stmts)*
            }
            .await,
        )?;
    };

    let (finish, sends) = match &args.check {
        Some(check) => {
            let call = quote_spanned! {check.span()=>
                #private::CheckOutput::into_allowed(#check(&#req, &#resolved).await)
            };
            let finish = quote! {
                let #resolved = ::sendfile_actix::SendFile::resolve(#file, &#req)?;
                let #allowed: ::core::primitive::bool = #call?;
                if !#allowed {
                    #deny
                }
                ::core::result::Result::Ok(#resolved)
            };
            (finish, quote!(::sendfile_actix::ResolvedSendFile))
        }
        None => (
            quote!(::core::result::Result::Ok(#file)),
            quote!(::sendfile_actix::SendFile),
        ),
    };

    func.sig
        .inputs
        .insert(0, syn::parse_quote!(#req: #private::HttpRequest));
    func.sig.output = syn::parse_quote! {
        -> ::core::result::Result<#sends, #private::Error>
    };
    let glue = quote! {
        #allow
        #body
        #finish
    };
    func.block = Box::new(Block {
        brace_token: func.block.brace_token,
        stmts: vec![Stmt::Expr(Expr::Verbatim(glue), None)],
    });
    func.into_token_stream()
}

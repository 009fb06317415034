//! Engine errors as JavaScript errors whose `code` is the condition's `ERR_QDMP_*` string.

/// A JavaScript error carrying an `ERR_QDMP_*` code.
pub(crate) type JsError = napi::Error<&'static str>;

/// The result type of binding functions that can fail with an engine condition (named `Result`
/// because napi-derive recognises fallible functions by that name).
pub(crate) type Result<T> = std::result::Result<T, JsError>;

pub(crate) fn to_js(error: qdmp_core::Error) -> JsError {
    napi::Error::new(error.code().as_str(), error.to_string())
}

/// Ids cross into JavaScript as numbers; the engine's ids stay far below 2^53.
pub(crate) fn id_from_js(kind: &'static str, id: f64) -> Result<u64> {
    if id.fract() == 0.0 && (0.0..9_007_199_254_740_992.0).contains(&id) {
        Ok(id as u64)
    } else {
        Err(to_js(qdmp_core::Error::UnknownId { kind, id: 0 }))
    }
}

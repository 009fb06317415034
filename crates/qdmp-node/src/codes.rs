//! The error codes, exported to JavaScript as the `ErrorCode` string enum, generated from the
//! core's single list so that the two can never disagree.

use napi_derive::napi;

macro_rules! napi_error_code_enum {
    ($($name:ident = $code:tt => $doc:tt,)*) => {
        /// Every condition a qdmp user can meet, with its stable `ERR_QDMP_*` code.
        #[napi(string_enum)]
        pub enum ErrorCode {
            $(#[doc = $doc] #[napi(value = $code)] $name,)*
        }
    };
}

qdmp_core::for_each_error_code!(napi_error_code_enum);

//! How server functions' results, their errors and the server-rendered
//! resources reach the browser: JSON, as before, but read there without
//! `serde_json`'s parser in the wasm.
//!
//! The server writes JSON with `serde_json`. The browser parses it with its
//! own `JSON.parse` and walks the result with `serde-wasm-bindgen`, whose
//! code per result type is a few calls into JavaScript where `serde_json`'s
//! parser was compiled into every type's deserializer (289 kB of the wasm's
//! code before). The wire format does not change: the same JSON, the same
//! `application/json`, so API clients and tests see no difference. One limit
//! comes with `JSON.parse`: numbers are doubles, so an integer beyond 2^53
//! would not read back; no result type carries one (times are milliseconds,
//! sizes bytes, counts and ids far below it).
//!
//! * Server functions: `output = Json` (this module's, not `server_fn`'s).
//! * Resources: [`resource`] (this module's codec, as Leptos' `Resource` takes one).
//! * Anything else the browser reads as JSON: [`from_json`].

use bytes::Bytes;
use leptos::server_fn::codec::Post;
use leptos::server_fn::{ContentType, Decodes, Encodes, Format, FormatType};
use serde::{Serialize, de::DeserializeOwned};

/// JSON written by `serde_json`, read by [`from_json`].
pub struct JsonEncoding;

impl ContentType for JsonEncoding {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for JsonEncoding {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<T> for JsonEncoding {
    type Error = serde_json::Error;

    fn encode(output: &T) -> Result<Bytes, Self::Error> {
        serde_json::to_vec(output).map(Bytes::from)
    }
}

impl<T: DeserializeOwned> Decodes<T> for JsonEncoding {
    type Error = String;

    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        from_json(&bytes)
    }
}

/// A server function's result as JSON in the body of its `POST` answer.
pub type Json = Post<JsonEncoding>;

/// Reads JSON: in the browser through `JSON.parse` and `serde-wasm-bindgen`,
/// on the server through `serde_json`. The message says what did not fit.
pub fn from_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    #[cfg(target_arch = "wasm32")]
    {
        serde_wasm_bindgen::from_value(parse(bytes)?).map_err(|e| e.to_string())
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        serde_json::from_slice(bytes).map_err(|e| e.to_string())
    }
}

impl<T: Serialize> leptos::server::codee::Encoder<T> for JsonEncoding {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(val: &T) -> Result<String, Self::Error> {
        serde_json::to_string(val)
    }
}

impl<T: DeserializeOwned> leptos::server::codee::Decoder<T> for JsonEncoding {
    type Error = String;
    type Encoded = str;

    fn decode(val: &str) -> Result<T, Self::Error> {
        from_json(val.as_bytes())
    }
}

/// `JSON.parse`, once for every result type (only the walk is generic).
#[cfg(target_arch = "wasm32")]
#[inline(never)]
fn parse(bytes: &[u8]) -> Result<wasm_bindgen::JsValue, String> {
    use wasm_bindgen::JsCast;
    let text = std::str::from_utf8(bytes).map_err(|e| e.to_string())?;
    js_sys::JSON::parse(text).map_err(|e| {
        e.dyn_ref::<js_sys::Error>().map_or_else(
            || "The answer is not JSON.".into(),
            |e| String::from(e.message()),
        )
    })
}

/// The codec of the resources a page renders on the server and the browser
/// hydrates: `serde_json` there, [`from_json`] here.
pub type Ser = JsonEncoding;

/// A resource loaded during server rendering (the page waits for it) and
/// read back from the page in the browser, through [`Ser`].
#[track_caller]
pub fn resource<S, T, Fut>(
    source: impl Fn() -> S + Send + Sync + 'static,
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> leptos::prelude::Resource<T, Ser>
where
    S: PartialEq + Clone + Send + Sync + 'static,
    T: std::fmt::Debug + Serialize + DeserializeOwned + Send + Sync + 'static,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    leptos::prelude::Resource::new_with_options(source, fetcher, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, serde::Deserialize)]
    struct Page {
        name: String,
        pulls: i64,
        tags: Vec<(String, Option<i64>)>,
    }

    #[test]
    fn what_the_server_writes_reads_back() {
        let page = Page {
            name: "fluentorg/fluentd".into(),
            pulls: 1_764_115_200_000,
            tags: vec![("latest".into(), Some(3)), ("v1".into(), None)],
        };
        let bytes = <JsonEncoding as Encodes<Page>>::encode(&page).expect("encodes");
        assert_eq!(
            <JsonEncoding as Decodes<Page>>::decode(bytes).expect("decodes"),
            page
        );
        let bad = <JsonEncoding as Decodes<Page>>::decode(Bytes::from_static(b"{\"name\": 1}"));
        assert!(bad.is_err(), "a wrong type is refused: {bad:?}");
    }
}

//! The chat-completions request body, written straight to bytes as a list of chunks: each image is its cached
//! data URL, shared rather than copied (base64 needs no JSON escaping), with the JSON text between them in small
//! chunks. A 3-image call therefore costs neither a JSON escape pass nor a copy of megabytes of base64.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;

use super::{Call, Part};

/// The JSON body vLLM's OpenAI server receives for one call:
/// `{"model", "messages": [system, user(parts)], "temperature", "seed", "max_tokens", "response_format"}`.
pub fn encode_body(model: &str, call: &Call<'_>) -> Vec<u8> {
    encode_chunks(model, call).concat()
}

/// [`encode_body`] as chunks whose concatenation is the body; image data URLs are shared, not copied.
pub fn encode_chunks(model: &str, call: &Call<'_>) -> Vec<Bytes> {
    let mut chunks = Vec::with_capacity(2 * call.parts.len() + 2);
    let mut out: Vec<u8> = Vec::with_capacity(call.system.len() + 512);
    out.extend_from_slice(b"{\"model\":");
    push_json_str(&mut out, model);
    out.extend_from_slice(b",\"messages\":[{\"role\":\"system\",\"content\":");
    push_json_str(&mut out, call.system);
    out.extend_from_slice(b"},{\"role\":\"user\",\"content\":[");
    for (i, part) in call.parts.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        match part {
            Part::Text(text) => {
                out.extend_from_slice(b"{\"type\":\"text\",\"text\":");
                push_json_str(&mut out, text);
                out.push(b'}');
            }
            Part::Image(img) => {
                out.extend_from_slice(b"{\"type\":\"image_url\",\"image_url\":{\"url\":\"");
                chunks.push(Bytes::from(std::mem::take(&mut out)));
                // `data:<mime>;base64,<A-Za-z0-9+/=>`: nothing in it needs escaping.
                chunks.push(img.data_url().clone());
                out.extend_from_slice(b"\"}}");
            }
        }
    }
    out.extend_from_slice(b"]}],\"temperature\":");
    push_json(&mut out, &call.temperature);
    out.extend_from_slice(b",\"seed\":");
    out.extend_from_slice(call.seed.to_string().as_bytes());
    out.extend_from_slice(b",\"max_tokens\":");
    out.extend_from_slice(call.max_tokens.to_string().as_bytes());
    out.extend_from_slice(
        b",\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":",
    );
    push_json_str(&mut out, &format!("{}-response", call.label));
    out.extend_from_slice(b",\"schema\":");
    push_json(&mut out, call.schema);
    out.extend_from_slice(b"}}}");
    chunks.push(Bytes::from(out));
    chunks
}

/// An HTTP body over shared chunks with an exact length (so it is sent with `Content-Length`).
#[derive(Debug, Clone)]
pub struct ChunkBody {
    chunks: std::collections::VecDeque<Bytes>,
    remaining: u64,
}

impl ChunkBody {
    pub fn new(chunks: Vec<Bytes>) -> Self {
        let remaining = chunks.iter().map(|c| c.len() as u64).sum();
        Self {
            chunks: chunks.into_iter().filter(|c| !c.is_empty()).collect(),
            remaining,
        }
    }
}

impl http_body::Body for ChunkBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Infallible>>> {
        match self.chunks.pop_front() {
            Some(c) => {
                self.remaining -= c.len() as u64;
                Poll::Ready(Some(Ok(http_body::Frame::data(c))))
            }
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.chunks.is_empty()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.remaining)
    }
}

fn push_json_str(out: &mut Vec<u8>, s: &str) {
    push_json(out, s);
}

fn push_json<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    // Serialising a str, f64 or Value into a Vec cannot fail; NaN temperatures cannot occur (fixed schedule).
    if serde_json::to_writer(&mut *out, value).is_err() {
        out.extend_from_slice(b"null");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::ImageData;

    #[test]
    fn body_is_valid_json_in_the_documented_shape() {
        let img = ImageData::new("p", b"\x89PNG-ish".to_vec());
        let parts = vec![
            Part::text("Reference \"image\":\n"),
            Part::Image(img.clone()),
            Part::text("go"),
        ];
        let schema =
            serde_json::json!({"type": "object", "properties": {"a": {"type": "integer"}}});
        let call = Call {
            label: "s1_prompt_match",
            system: "sys\ttext",
            parts: &parts,
            schema: &schema,
            max_tokens: 1024,
            temperature: 0.1 + 0.05 * 1.0,
            seed: 1142,
        };
        let v: serde_json::Value =
            serde_json::from_slice(&encode_body("glm-4.6v-flash", &call)).unwrap();
        assert_eq!(v["model"], "glm-4.6v-flash");
        assert_eq!(
            v["messages"][0],
            serde_json::json!({"role": "system", "content": "sys\ttext"})
        );
        let content = &v["messages"][1]["content"];
        assert_eq!(
            content[0],
            serde_json::json!({"type": "text", "text": "Reference \"image\":\n"})
        );
        assert_eq!(content[1]["type"], "image_url");
        assert_eq!(
            content[1]["image_url"]["url"].as_str().unwrap().as_bytes(),
            &img.data_url()[..]
        );
        assert_eq!(content[2]["text"], "go");
        assert_eq!(v["temperature"].as_f64(), Some(0.15000000000000002));
        assert_eq!(v["seed"], 1142);
        assert_eq!(v["max_tokens"], 1024);
        assert_eq!(v["response_format"]["type"], "json_schema");
        assert_eq!(
            v["response_format"]["json_schema"]["name"],
            "s1_prompt_match-response"
        );
        assert_eq!(v["response_format"]["json_schema"]["schema"], schema);
        // The image chunk is the cached data URL itself, not a copy.
        let chunks = encode_chunks("glm-4.6v-flash", &call);
        assert!(chunks.iter().any(|c| c.as_ptr() == img.data_url().as_ptr()));
        let body = ChunkBody::new(chunks);
        assert_eq!(
            http_body::Body::size_hint(&body).exact(),
            Some(encode_body("glm-4.6v-flash", &call).len() as u64)
        );
    }
}

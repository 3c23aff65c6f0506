//! The chat-completions request body, written straight to bytes: images are copied in as their cached data URLs
//! (base64 needs no JSON escaping), so a 3-image call costs one memcpy per image rather than a JSON escape pass.

use super::{Call, Part};

/// The JSON body vLLM's OpenAI server receives for one call:
/// `{"model", "messages": [system, user(parts)], "temperature", "seed", "max_tokens", "response_format"}`.
pub fn encode_body(model: &str, call: &Call<'_>) -> Vec<u8> {
    let image_bytes: usize = call
        .parts
        .iter()
        .map(|p| match p {
            Part::Image(img) => img.data_url().len() + 64,
            Part::Text(t) => t.len() + 64,
        })
        .sum();
    let mut out = Vec::with_capacity(image_bytes + call.system.len() + 1024);
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
                // `data:<mime>;base64,<A-Za-z0-9+/=>`: nothing in it needs escaping.
                out.extend_from_slice(img.data_url());
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
    out
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
    }
}

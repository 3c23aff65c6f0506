//! Serialises byte arrays as 0x-prefixed hex in JSON output.

pub fn serialize<S: serde::Serializer, T: AsRef<[u8]>>(bytes: &T, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!("0x{}", hex::encode(bytes.as_ref())))
}

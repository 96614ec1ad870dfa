//! Step 5: the checksum that tells the runtime whether an applied snippet was edited.

use sha2::{Digest, Sha256};

/// `sha256:<lowercase hex>` of a snippet's normalised text (BOM removed, CRLF turned
/// into LF, directives included).
pub(crate) fn checksum(normalised: &str) -> String {
    let digest = Sha256::digest(normalised.as_bytes());
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for byte in digest {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    out
}

const HEX: &[u8; 16] = b"0123456789abcdef";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_is_prefixed_lowercase_hex_sha256() {
        assert_eq!(checksum(""), "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }
}

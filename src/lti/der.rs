//! Just enough DER to move RSA keys between the forms the crates want:
//! PKCS#8 (what aws-lc-rs generates) to PKCS#1 (what jsonwebtoken signs with),
//! and an RSAPublicKey to its modulus and exponent (what a JWK publishes).

/// Reads one TLV; returns (tag, contents, rest).
fn read_tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        first as usize
    } else {
        let count = (first & 0x7f) as usize;
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let mut len = 0usize;
        for &b in &rest[..count] {
            len = (len << 8) | b as usize;
        }
        rest = &rest[count..];
        len
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const OCTET_STRING: u8 = 0x04;

/// The PKCS#1 RSAPrivateKey inside a PKCS#8 PrivateKeyInfo.
pub fn pkcs8_to_pkcs1(pkcs8: &[u8]) -> Option<Vec<u8>> {
    let (tag, body, _) = read_tlv(pkcs8)?;
    if tag != SEQUENCE {
        return None;
    }
    let (tag, _version, rest) = read_tlv(body)?;
    if tag != INTEGER {
        return None;
    }
    let (tag, _algorithm, rest) = read_tlv(rest)?;
    if tag != SEQUENCE {
        return None;
    }
    let (tag, key, _) = read_tlv(rest)?;
    (tag == OCTET_STRING).then(|| key.to_vec())
}

/// Modulus and exponent (big-endian, no leading zero) of a PKCS#1 RSAPublicKey.
pub fn rsa_public_components(rsa_public_key: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let (tag, body, _) = read_tlv(rsa_public_key)?;
    if tag != SEQUENCE {
        return None;
    }
    let (tag, n, rest) = read_tlv(body)?;
    if tag != INTEGER {
        return None;
    }
    let (tag, e, _) = read_tlv(rest)?;
    if tag != INTEGER {
        return None;
    }
    Some((strip_leading_zeros(n), strip_leading_zeros(e)))
}

fn strip_leading_zeros(bytes: &[u8]) -> Vec<u8> {
    let start = bytes
        .iter()
        .position(|&b| b != 0)
        .unwrap_or(bytes.len().saturating_sub(1));
    bytes[start..].to_vec()
}

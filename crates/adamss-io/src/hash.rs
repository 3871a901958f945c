//! The toolkit's one stable hash for keys and fingerprints (`std`'s `DefaultHasher` may change
//! between Rust versions, so it cannot name files that outlive a build).

/// FNV-1a, 64 bit, of `bytes`: the preprocessing cache's folder key and a training stage's
/// fingerprint. Not a digest against tampering (model bundles use SHA-256).
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_published_fnv1a_test_vectors() {
        // From the FNV reference test suite (draft-eastlake-fnv, FNV-1a 64-bit).
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }
}

//! Commit-reveal v3 against fixed vectors: payload bytes, drand quicknet round 1000, upscaling.

use codec::Encode;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sn17_chain::crv3::commitment::commitment_reveal_round;
use sn17_chain::crv3::tlock::{ciphertext_len, CIPHERTEXT_OVERHEAD};
use sn17_chain::crv3::{
    build_weights_commit, chain_upscale, convert_weights_and_uids_for_emit,
    decode_revealed_commitment, decode_weights_payload, decrypt_with_signature,
    encrypt_commitment_text, encrypt_to_round, verify_round_signature, Crv3Error,
    DecodedWeightsPayload, EmitWeights, EpochSchedule, WeightsTlockPayload,
};

/// Alice's sr25519 public key.
const ALICE: &str = "d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d";
/// Real drand quicknet signature of round 1000.
const ROUND_1000_SIG: &str = "b44679b9a59af2ec876b1a6b1ad52ea9b1615fc3982b19576350f93447cb1125e342b73a8dd2bacbe47e4b6b63ed5e39";
/// Compressed generator of G1: a valid point that is not round 1000's signature.
const G1_GENERATOR: &str = "97f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb";

fn unhex(s: &str) -> Vec<u8> {
    match hex::decode(s) {
        Ok(b) => b,
        Err(e) => panic!("bad hex in test: {e}"),
    }
}

fn alice() -> [u8; 32] {
    match unhex(ALICE).try_into() {
        Ok(a) => a,
        Err(_) => panic!("alice key is 32 bytes"),
    }
}

fn alice_payload() -> WeightsTlockPayload {
    match WeightsTlockPayload::new(alice(), vec![0, 1, 2], vec![65535, 32768, 1], 1000) {
        Ok(p) => p,
        Err(e) => panic!("payload: {e}"),
    }
}

fn rng() -> StdRng {
    StdRng::seed_from_u64(17)
}

fn ok<T>(r: Result<T, Crv3Error>) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("unexpected error: {e}"),
    }
}

#[test]
fn payload_golden_bytes() {
    // 80 = compact(32) | Alice | 0c = compact(3) | 0000 0100 0200 | 0c | ffff 0080 0100 |
    // e803000000000000 = 1000 u64 LE.
    let expected = format!("80{ALICE}0c0000010002000cffff00800100e803000000000000");
    let bytes = alice_payload().encode();
    assert_eq!(hex::encode(&bytes), expected);
    assert_eq!(bytes.len(), 55);
}

#[test]
fn payload_with_64_uids_uses_two_byte_compact() {
    // compact(64) = (64 << 2) | 0b01 = 0x0101, little endian "0101".
    let uids: Vec<u16> = (0..64).collect();
    let values = vec![65535u16; 64];
    let p = ok(WeightsTlockPayload::new(alice(), uids, values, 7));
    let bytes = p.encode();
    assert_eq!(bytes.len(), 1 + 32 + 2 + 128 + 2 + 128 + 8);
    assert_eq!(hex::encode(&bytes[33..37]), "01010000");
    assert_eq!(hex::encode(&bytes[163..167]), "0101ffff");
}

#[test]
fn payload_decodes_like_the_chain() {
    let payload = alice_payload();
    let decoded = ok(decode_weights_payload(&payload.encode()));
    assert_eq!(decoded, DecodedWeightsPayload::Current(payload));
    let DecodedWeightsPayload::Current(p) = decoded else {
        panic!("current layout expected")
    };
    assert_eq!(p.hotkey_account(), Some(alice()));
}

#[test]
fn encrypt_to_round_1000_and_decrypt_with_real_signature() {
    let payload = alice_payload().encode();
    let ct = ok(encrypt_to_round(&payload, 1000, &mut rng()));
    // 244 bytes of overhead + 55 payload bytes, the ~299 bytes chain.md quotes for 3 uids.
    assert_eq!(ct.len(), 299);
    assert_eq!(ct.len(), ciphertext_len(payload.len()));
    // Layout: u (96) | v len 32 | v | w len 32 | w | body len | ... | suite len 8 | "AES_GCM_".
    assert_eq!(&ct[96..104], &32u64.to_le_bytes());
    assert_eq!(&ct[136..144], &32u64.to_le_bytes());
    let body_len = (payload.len() + 16 + 8 + 12 + 8) as u64;
    assert_eq!(&ct[176..184], &body_len.to_le_bytes());
    assert_eq!(&ct[ct.len() - 16..ct.len() - 8], &8u64.to_le_bytes());
    assert_eq!(&ct[ct.len() - 8..], b"AES_GCM_");

    let plain = ok(decrypt_with_signature(&ct, &unhex(ROUND_1000_SIG)));
    assert_eq!(plain, payload);
    assert_eq!(
        ok(decode_weights_payload(&plain)),
        DecodedWeightsPayload::Current(alice_payload())
    );
}

#[test]
fn signature_with_ascii_0x_prefix_is_accepted_like_on_chain() {
    let ct = ok(encrypt_to_round(b"x", 1000, &mut rng()));
    let mut sig = b"0x".to_vec();
    sig.extend(unhex(ROUND_1000_SIG));
    assert_eq!(ok(decrypt_with_signature(&ct, &sig)), b"x");
}

#[test]
fn encryption_is_randomised() {
    let mut r = rng();
    let a = ok(encrypt_to_round(b"same", 1000, &mut r));
    let b = ok(encrypt_to_round(b"same", 1000, &mut r));
    assert_ne!(a, b);
}

#[test]
fn wrong_signatures_are_errors() {
    let ct = ok(encrypt_to_round(
        &alice_payload().encode(),
        1000,
        &mut rng(),
    ));
    let real = unhex(ROUND_1000_SIG);

    // A valid point that is not the round's signature.
    assert!(matches!(
        decrypt_with_signature(&ct, &unhex(G1_GENERATOR)),
        Err(Crv3Error::WrongSignature)
    ));
    // The point at infinity (compressed flag + infinity flag).
    let mut infinity = vec![0u8; 48];
    infinity[0] = 0xc0;
    assert!(matches!(
        decrypt_with_signature(&ct, &infinity),
        Err(Crv3Error::WrongSignature)
    ));
    // Flipped bytes: off the curve / out of the subgroup, or a different point.
    for pos in [0, 1, 20, 47] {
        let mut sig = real.clone();
        sig[pos] ^= 0x01;
        assert!(
            matches!(
                decrypt_with_signature(&ct, &sig),
                Err(Crv3Error::InvalidSignature | Crv3Error::WrongSignature)
            ),
            "flip at {pos}"
        );
    }
    // Wrong lengths.
    assert!(matches!(
        decrypt_with_signature(&ct, &real[..47]),
        Err(Crv3Error::SignatureLength { got: 47 })
    ));
    assert!(matches!(
        decrypt_with_signature(&ct, &[real.clone(), vec![0]].concat()),
        Err(Crv3Error::SignatureLength { got: 49 })
    ));
    // A ciphertext for another round does not open with round 1000's signature.
    let other = ok(encrypt_to_round(b"later", 1001, &mut rng()));
    assert!(matches!(
        decrypt_with_signature(&other, &real),
        Err(Crv3Error::WrongSignature)
    ));
}

#[test]
fn truncated_ciphertexts_are_errors() {
    let ct = ok(encrypt_to_round(
        &alice_payload().encode(),
        1000,
        &mut rng(),
    ));
    let sig = unhex(ROUND_1000_SIG);
    for len in 0..ct.len() {
        let r = decrypt_with_signature(&ct[..len], &sig);
        assert!(
            matches!(r, Err(Crv3Error::MalformedCiphertext { .. })),
            "truncated to {len}: {r:?}"
        );
    }
}

#[test]
fn ibe_fields_of_wrong_length_are_errors_not_panics() {
    // The timelock crate would panic on a 33-byte `v` or a 31-byte `w`.
    let ct = ok(encrypt_to_round(b"payload", 1000, &mut rng()));
    let sig = unhex(ROUND_1000_SIG);

    let mut long_v = ct[..96].to_vec();
    long_v.extend(33u64.to_le_bytes());
    long_v.extend(&ct[104..136]);
    long_v.push(0);
    long_v.extend(&ct[136..]);
    assert!(matches!(
        decrypt_with_signature(&long_v, &sig),
        Err(Crv3Error::MalformedCiphertext { .. })
    ));

    let mut short_w = ct[..136].to_vec();
    short_w.extend(31u64.to_le_bytes());
    short_w.extend(&ct[144..175]);
    short_w.extend(&ct[176..]);
    assert!(matches!(
        decrypt_with_signature(&short_w, &sig),
        Err(Crv3Error::MalformedCiphertext { .. })
    ));
}

#[test]
fn tampered_parts_are_typed_errors() {
    let ct = ok(encrypt_to_round(b"payload", 1000, &mut rng()));
    let sig = unhex(ROUND_1000_SIG);
    // Last byte of the AES-GCM ciphertext+tag (just before nonce length 8 + nonce 12 and
    // suite 16): authentication fails.
    let mut body = ct.clone();
    let tag_end = ct.len() - 16 - 20 - 1;
    body[tag_end] ^= 0x80;
    assert!(matches!(
        decrypt_with_signature(&body, &sig),
        Err(Crv3Error::BodyDecryption)
    ));
    // A byte of `w` changes the recovered key, so the IBE consistency check fails.
    let mut w = ct.clone();
    w[150] ^= 0x01;
    assert!(matches!(
        decrypt_with_signature(&w, &sig),
        Err(Crv3Error::WrongSignature)
    ));
}

#[test]
fn random_corruption_never_panics() {
    let plain = alice_payload().encode();
    let ct = ok(encrypt_to_round(&plain, 1000, &mut rng()));
    let sig = unhex(ROUND_1000_SIG);
    let mut r = StdRng::seed_from_u64(99);
    for _ in 0..48 {
        let mut bad = ct.clone();
        let pos = r.gen_range(0..bad.len());
        bad[pos] ^= r.gen_range(1..=255u8);
        // Decryption ignores the cipher suite field (a shorter length prefix just leaves
        // trailing bytes, which are ignored like on chain); any other change must fail.
        if let Ok(p) = decrypt_with_signature(&bad, &sig) {
            assert_eq!(p, plain);
            assert!(pos >= ct.len() - 16, "corruption at {pos} went unnoticed");
        }
    }
}

#[test]
fn oversized_input_is_refused() {
    let msg = vec![0u8; 5000 - CIPHERTEXT_OVERHEAD + 1];
    assert!(matches!(
        encrypt_to_round(&msg, 1000, &mut rng()),
        Err(Crv3Error::TooLarge {
            limit: 5000,
            got: 5001
        })
    ));
    let msg = vec![0u8; 5000 - CIPHERTEXT_OVERHEAD];
    assert_eq!(ok(encrypt_to_round(&msg, 1000, &mut rng())).len(), 5000);
}

#[test]
fn round_signature_verification() {
    let sig = unhex(ROUND_1000_SIG);
    assert!(ok(verify_round_signature(1000, &sig)));
    assert!(!ok(verify_round_signature(1001, &sig)));
    assert!(!ok(verify_round_signature(1000, &unhex(G1_GENERATOR))));
}

#[test]
fn timelocked_commitment_round_trip() {
    let ct = ok(encrypt_commitment_text("hello sn17", 1000, &mut rng()));
    // SCALE("hello sn17") = 28 (compact 10) + 10 bytes.
    assert_eq!(ct.len(), CIPHERTEXT_OVERHEAD + 11);
    let plain = ok(decrypt_with_signature(&ct, &unhex(ROUND_1000_SIG)));
    assert_eq!(plain[0], 0x28);
    assert_eq!(ok(decode_revealed_commitment(&plain)), "hello sn17");
    assert_eq!(ok(commitment_reveal_round(1_692_806_367, 0, 12.0)), 1000);
}

#[test]
fn built_commit_targets_planned_round_end_to_end() {
    // last 10, tempo 50, head 10: reveal block 60, ingest block 63, 53 blocks * 12 s = 636 s.
    // With now = genesis + 3000 - 636 = 1_692_805_731 the round is floor(3000 / 3) = 1000, so
    // the real round-1000 signature must open the commit.
    let schedule = EpochSchedule {
        tempo: 50,
        reveal_period_epochs: 1,
        last_epoch_block: 10,
        head_block: 10,
        ..Default::default()
    };
    let commit = ok(build_weights_commit(
        &alice_payload(),
        &schedule,
        1_692_805_731,
        12.0,
        &mut rng(),
    ));
    assert_eq!(commit.reveal_round, 1000);
    assert_eq!(commit.plan.first_reveal_block, 60);
    assert_eq!(commit.commit.len(), 299);
    let plain = ok(decrypt_with_signature(
        &commit.commit,
        &unhex(ROUND_1000_SIG),
    ));
    assert_eq!(plain, alice_payload().encode());

    // One second earlier the round is 999 (floor(2999 / 3)), which round 1000 cannot open.
    let early = ok(build_weights_commit(
        &alice_payload(),
        &schedule,
        1_692_805_730,
        12.0,
        &mut rng(),
    ));
    assert_eq!(early.reveal_round, 999);
    assert!(matches!(
        decrypt_with_signature(&early.commit, &unhex(ROUND_1000_SIG)),
        Err(Crv3Error::WrongSignature)
    ));
}

#[test]
fn invalid_payload_is_not_committed() {
    let bad = WeightsTlockPayload {
        hotkey: alice().to_vec(),
        uids: vec![1, 2],
        values: vec![3],
        version_key: 0,
    };
    let schedule = EpochSchedule {
        tempo: 50,
        reveal_period_epochs: 1,
        ..Default::default()
    };
    assert!(matches!(
        build_weights_commit(&bad, &schedule, 1_700_000_000, 12.0, &mut rng()),
        Err(Crv3Error::LengthMismatch { uids: 2, values: 1 })
    ));
}

#[test]
fn upscale_vectors() {
    // 0.5 / 1.0 * 65535 = 32767.5 -> 32768 (half to even); 0.0 is dropped.
    assert_eq!(
        ok(convert_weights_and_uids_for_emit(&[
            (0, 0.5),
            (1, 1.0),
            (2, 0.0)
        ])),
        EmitWeights {
            uids: vec![0, 1],
            values: vec![32768, 65535]
        }
    );
    assert_eq!(
        ok(convert_weights_and_uids_for_emit(&[(0, 0.0_f32), (1, 0.0)])),
        EmitWeights::default()
    );
    assert!(matches!(
        convert_weights_and_uids_for_emit(&[(0, 1.0), (1, f64::NAN)]),
        Err(Crv3Error::NonFiniteWeight { uid: 1 })
    ));
    assert!(matches!(
        convert_weights_and_uids_for_emit(&[(0, 1.0), (1, -1.0)]),
        Err(Crv3Error::NegativeWeight { uid: 1, .. })
    ));
    assert!(matches!(
        convert_weights_and_uids_for_emit(&[(5, 1.0), (5, 1.0)]),
        Err(Crv3Error::DuplicateUid { uid: 5 })
    ));
    // The chain stores SDK-style values unchanged.
    assert_eq!(chain_upscale(&[32768, 65535]), vec![32768, 65535]);
    assert_eq!(chain_upscale(&[1, 2]), vec![32768, 65535]);
}

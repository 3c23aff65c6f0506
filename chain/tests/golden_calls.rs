//! Call encodings and the signed-extrinsic layout against the golden vectors of chain.md §1.4,
//! encoded offline against real finney metadata (spec 424) read from ../shared.

use std::sync::Arc;

use sp_core::{sr25519, Pair};
use subxt::client::OfflineClient;
use subxt::config::substrate::{SpecVersionForRange, SubstrateConfigBuilder, H256};
use subxt::config::DefaultExtrinsicParamsBuilder;
use subxt::SubstrateConfig;

use sn17_chain::calls::{self, ServeAxon};
use sn17_chain::commitments::Data;
use sn17_chain::{Account, PairSigner};

fn metadata_path(name: &str) -> Option<std::path::PathBuf> {
    let p = std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/chain-metadata"
    ))
    .join(name);
    if p.is_file() {
        Some(p)
    } else {
        eprintln!("SKIP: ../shared/chain-metadata/{name} is not present");
        None
    }
}

fn offline(name: &str, spec: u32) -> Option<OfflineClient<SubstrateConfig>> {
    let bytes = std::fs::read(metadata_path(name)?).expect("read metadata");
    let md = sn17_chain::metadata_cache::decode(&bytes).expect("decode metadata");
    let config = SubstrateConfigBuilder::new()
        .set_genesis_hash(H256([0x45; 32]))
        .set_spec_version_for_block_ranges([SpecVersionForRange {
            block_range: 0..u64::MAX,
            spec_version: spec,
            transaction_version: 1,
        }])
        .set_metadata_for_spec_versions([(spec, Arc::new(md))])
        .build();
    Some(OfflineClient::new_with_config(config))
}

fn alice() -> Account {
    "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
        .parse()
        .expect("alice")
}

const SET_WEIGHTS: &str = "070011000c0000010002000cffff00800100e803000000000000";

#[test]
fn call_encodings_match_chain_md_vectors() {
    for (file, spec) in [
        ("finney-spec424-v16.scale", 424),
        ("finney-spec393-v16.scale", 393),
    ] {
        let Some(client) = offline(file, spec) else {
            return;
        };
        let at = client.at_block(0u64).expect("offline at block");
        let tx = at.tx();
        let enc = |call: &calls::Call| hex::encode(tx.call_data(call).expect("encodes"));
        assert_eq!(
            enc(&calls::set_weights(
                17,
                &[0, 1, 2],
                &[65535, 32768, 1],
                1000
            )),
            SET_WEIGHTS,
            "{file}"
        );
        let ip = u32::from(std::net::Ipv4Addr::new(192, 168, 1, 1)) as u128;
        assert_eq!(
            enc(&calls::serve_axon(&ServeAxon {
                netuid: 17,
                version: 1,
                ip,
                port: 8091,
                ip_type: 4,
                protocol: 4
            })),
            "07041100010000000101a8c00000000000000000000000009b1f04040000"
        );
        assert_eq!(
            enc(&calls::burned_register(17, &alice())),
            "07071100d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d"
        );
        assert_eq!(
            enc(&calls::set_commitment(
                17,
                vec![Data::raw(b"hello").expect("raw").to_value()]
            )),
            "12001100040668656c6c6f"
        );
        assert_eq!(
            enc(&calls::commit_timelocked_weights(
                17,
                &[0xaa, 0xbb],
                123456,
                4
            )),
            "0771110008aabb40e20100000000000400"
        );
        // The TimelockEncrypted field encodes as the pallet's hand-written codec says.
        let tl = Data::TimelockEncrypted {
            encrypted: vec![1, 2, 3],
            reveal_round: 7,
        };
        let mut expected = "1200110004".to_string();
        expected.push_str(&hex::encode(tl.encode()));
        assert_eq!(
            enc(&calls::set_commitment(17, vec![tl.to_value()])),
            expected
        );
    }
}

#[test]
fn signed_extrinsic_layout_matches_and_verifies() {
    let Some(client) = offline("finney-spec424-v16.scale", 424) else {
        return;
    };
    let at = client.at_block(0u64).expect("offline at block");
    let pair = sr25519::Pair::from_string("//Alice", None).expect("alice");
    let signer = PairSigner::new(pair.clone());
    let call = calls::set_weights(17, &[0, 1, 2], &[65535, 32768, 1], 1000);
    let params = DefaultExtrinsicParamsBuilder::<SubstrateConfig>::new()
        .immortal()
        .nonce(0)
        .tip(0)
        .build();
    let mut signable = at
        .tx()
        .create_v4_signable_offline(&call, params)
        .expect("signable");
    let payload = signable.signer_payload().expect("payload");
    let signed = signable.sign(&signer).expect("signs");
    let bytes = signed.encoded().to_vec();
    // 0x0502 (compact 129) 84 00<pk> 01<sig64> 00 00 00 00 <call>
    assert_eq!(hex::encode(&bytes[..3]), "050284");
    assert_eq!(bytes[3], 0x00);
    assert_eq!(&bytes[4..36], &pair.public().0);
    assert_eq!(bytes[36], 0x01);
    let sig: [u8; 64] = bytes[37..101].try_into().expect("64 bytes");
    assert_eq!(hex::encode(&bytes[101..105]), "00000000");
    assert_eq!(hex::encode(&bytes[105..]), SET_WEIGHTS);
    assert_eq!(bytes.len(), 2 + 129);
    // The signature covers the payload (hashed when longer than 256 bytes, which it is not).
    assert!(payload.len() <= 256);
    assert!(sr25519::Pair::verify(
        &sr25519::Signature::from_raw(sig),
        &payload,
        &pair.public()
    ));
    assert!(payload.starts_with(&hex::decode(SET_WEIGHTS).expect("hex")));
}

//! A mock Subtensor node on 127.0.0.1 serving the real finney spec-424 metadata
//! (`../shared/chain-metadata/finney-spec424-v16.scale`) over websocket JSON-RPC, with the legacy
//! methods subxt and the chain crate use (chain.md §4d). Storage values and runtime API replies
//! are SCALE-encoded by the test from the 424 type registry; storage keys are built with
//! frame-decode (independently of the chain crate's own key code); submitted extrinsics are
//! decoded against the 424 metadata and recorded, then "included" in a new block whose
//! `System.Events` say `ExtrinsicSuccess` (or `ExtrinsicFailed` with a module error on request).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use codec::{Decode, Encode};
use futures::io::{AsyncRead, AsyncWrite};
use scale_value::Value;
use serde_json::{json, Value as Json};
use subxt::ext::frame_decode;
use subxt::metadata::Metadata;
use tokio::net::TcpListener;
use tokio_util::compat::TokioAsyncReadCompatExt;

use super::values;

/// Block number of the head when the mock starts.
pub const START_BLOCK: u64 = 1000;

/// A runtime API handler: SCALE args in, SCALE reply out.
pub type ApiHandler = Box<dyn Fn(&[u8]) -> Vec<u8> + Send + Sync>;

/// An extrinsic the mock received, decoded against the 424 metadata.
#[derive(Debug, Clone)]
pub struct Submitted {
    pub pallet: String,
    pub call: String,
    /// Call arguments by name, decoded to values.
    pub args: Vec<(String, Value<u32>)>,
    /// `MultiAddress` of the signer as SCALE (0x00 + 32-byte account for `Id`).
    pub address: Vec<u8>,
    pub block: u64,
    /// The extrinsic as sent.
    pub bytes: Vec<u8>,
}

impl Submitted {
    pub fn arg(&self, name: &str) -> &Value<u32> {
        self.args
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
            .unwrap_or_else(|| panic!("{}.{} has no argument {name}", self.pallet, self.call))
    }
}

struct Block {
    number: u64,
    extrinsics: Vec<Vec<u8>>,
}

struct State {
    metadata_bytes: Vec<u8>,
    /// `Core_version` SCALE, from the metadata's `System.Version` constant, and its fields.
    core_version: Vec<u8>,
    version: VersionHead,
    storage: BTreeMap<Vec<u8>, Vec<u8>>,
    apis: HashMap<String, Arc<ApiHandler>>,
    blocks: Vec<Block>,
    submitted: Vec<Submitted>,
    finalize: bool,
    fail_next: Option<(String, String)>,
    methods_seen: Vec<String>,
}

/// The running mock node. Dropping it stops the listener.
pub struct FinneyMock {
    pub url: String,
    pub metadata: Arc<Metadata>,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FinneyMock {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Path of the 424 metadata, or `None` (with a message) when `../shared` is absent.
pub fn metadata_path() -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/chain-metadata/finney-spec424-v16.scale");
    if path.exists() {
        Some(path)
    } else {
        eprintln!(
            "skipping: {} is absent (the shared reference data is not checked out)",
            path.display()
        );
        None
    }
}

fn block_hash(number: u64) -> [u8; 32] {
    let mut seed = b"sn17-mock-block".to_vec();
    seed.extend_from_slice(&number.to_le_bytes());
    sp_core::hashing::blake2_256(&seed)
}

fn hexs(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    hex::decode(s.trim_start_matches("0x")).ok()
}

/// SCALE `RuntimeVersion` fields the JSON reply needs.
#[derive(Decode)]
struct VersionHead {
    spec_name: String,
    impl_name: String,
    authoring_version: u32,
    spec_version: u32,
    impl_version: u32,
    _apis: Vec<([u8; 8], u32)>,
    transaction_version: u32,
}

impl FinneyMock {
    /// Starts the mock on a free 127.0.0.1 port.
    pub async fn start(metadata_file: &std::path::Path) -> Self {
        let metadata_bytes = std::fs::read(metadata_file).expect("read 424 metadata");
        let metadata =
            Arc::new(sn17_chain::metadata_cache::decode(&metadata_bytes).expect("decode 424"));
        let core_version = metadata
            .pallet_by_name("System")
            .and_then(|p| p.constant_by_name("Version"))
            .map(|c| c.value().to_vec())
            .expect("System.Version constant");
        let version = VersionHead::decode(&mut &core_version[..]).expect("System.Version decodes");
        let blocks = (0..=START_BLOCK)
            .map(|number| Block {
                number,
                extrinsics: Vec::new(),
            })
            .collect();
        let state = Arc::new(Mutex::new(State {
            metadata_bytes,
            core_version,
            version,
            storage: BTreeMap::new(),
            apis: HashMap::new(),
            blocks,
            submitted: Vec::new(),
            finalize: true,
            fail_next: None,
            methods_seen: Vec::new(),
        }));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("ws://{}", listener.local_addr().expect("addr"));
        let task = {
            let state = state.clone();
            let metadata = metadata.clone();
            tokio::spawn(async move {
                while let Ok((socket, _)) = listener.accept().await {
                    let state = state.clone();
                    let metadata = metadata.clone();
                    tokio::spawn(async move {
                        if let Err(e) = serve(socket.compat(), state, metadata).await {
                            eprintln!("mock connection ended: {e}");
                        }
                    });
                }
            })
        };
        Self {
            url,
            metadata,
            state,
            task,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn types(&self) -> &scale_info::PortableRegistry {
        self.metadata.types()
    }

    /// Type id of a storage entry's value.
    pub fn storage_ty(&self, pallet: &str, item: &str) -> u32 {
        self.metadata
            .pallet_by_name(pallet)
            .and_then(|p| p.storage())
            .and_then(|s| s.entry_by_name(item))
            .map(|e| e.value_ty())
            .unwrap_or_else(|| panic!("424 has no storage {pallet}.{item}"))
    }

    /// Type id of a runtime API method's output.
    pub fn api_output_ty(&self, api: &str, method: &str) -> u32 {
        self.metadata
            .runtime_api_trait_by_name(api)
            .and_then(|t| t.method_by_name(method))
            .map(|m| m.output_ty())
            .unwrap_or_else(|| panic!("424 has no runtime API {api}.{method}"))
    }

    /// The storage key of `pallet.item(keys)`, built by frame-decode from the 424 metadata.
    pub fn key(&self, pallet: &str, item: &str, keys: Vec<Value>) -> Vec<u8> {
        frame_decode::storage::encode_storage_key(
            pallet,
            item,
            keys,
            &*self.metadata,
            self.metadata.types(),
        )
        .unwrap_or_else(|e| panic!("key of {pallet}.{item}: {e}"))
    }

    /// Stores `value`, encoded as the 424 type of `pallet.item`.
    pub fn set(&self, pallet: &str, item: &str, keys: Vec<Value>, value: &Value) {
        let bytes = values::encode(self.types(), self.storage_ty(pallet, item), value);
        let key = self.key(pallet, item, keys);
        self.lock().storage.insert(key, bytes);
    }

    /// Registers a runtime API reply, e.g. `("NeuronInfoRuntimeApi", "get_neurons_lite")`.
    pub fn on_api(&self, api: &str, method: &str, handler: ApiHandler) {
        self.lock()
            .apis
            .insert(format!("{api}_{method}"), Arc::new(handler));
    }

    /// Every extrinsic received so far.
    pub fn submitted(&self) -> Vec<Submitted> {
        self.lock().submitted.clone()
    }

    /// With `false`, transactions get into a block but are never reported finalised.
    pub fn set_finalize(&self, finalize: bool) {
        self.lock().finalize = finalize;
    }

    /// The next extrinsic fails in its block with `pallet.error` (a module dispatch error).
    pub fn fail_next_with(&self, pallet: &str, error: &str) {
        self.lock().fail_next = Some((pallet.to_string(), error.to_string()));
    }

    /// The RPC methods called so far, in order.
    pub fn methods_seen(&self) -> Vec<String> {
        self.lock().methods_seen.clone()
    }

    /// Checks an extrinsic's sr25519 signature over its call, explicit and implicit extension
    /// data, as the runtime would against the current head.
    pub fn verify(&self, bytes: &[u8]) -> Result<(), String> {
        let st = self.lock();
        let ext = decode_ext(&self.metadata, bytes)?;
        verify_signature(&st, &self.metadata, bytes, &ext)
    }

    /// Current head number.
    pub fn head(&self) -> u64 {
        self.lock().blocks.len() as u64 - 1
    }
}

type DynError = Box<dyn std::error::Error + Send + Sync>;

async fn serve<S>(
    socket: S,
    state: Arc<Mutex<State>>,
    metadata: Arc<Metadata>,
) -> Result<(), DynError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut server = soketto::handshake::Server::new(socket);
    let key = server.receive_request().await?.key();
    server
        .send_response(&soketto::handshake::server::Response::Accept {
            key,
            protocol: None,
        })
        .await?;
    let (mut tx, mut rx) = server.into_builder().finish();
    let mut next_sub = 0u64;
    loop {
        let mut message = Vec::new();
        rx.receive_data(&mut message).await?;
        let request: Json = serde_json::from_slice(&message)?;
        let id = request.get("id").cloned().unwrap_or(Json::Null);
        let method = request
            .get("method")
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_string();
        let params = match request.get("params") {
            Some(Json::Array(a)) => a.clone(),
            _ => Vec::new(),
        };
        let outgoing = {
            let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
            st.methods_seen.push(method.clone());
            handle(&mut st, &metadata, &method, &params, &mut next_sub)
        };
        let reply = match outgoing.result {
            Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
            Err(message) => json!({
                "jsonrpc": "2.0",
                "id": id,
                "error": {"code": -32000, "message": message},
            }),
        };
        tx.send_text(reply.to_string()).await?;
        for note in outgoing.notifications {
            tx.send_text(note.to_string()).await?;
        }
        tx.flush().await?;
    }
}

struct Outgoing {
    result: Result<Json, String>,
    notifications: Vec<Json>,
}

fn reply(result: Json) -> Outgoing {
    Outgoing {
        result: Ok(result),
        notifications: Vec::new(),
    }
}

fn fail(message: impl Into<String>) -> Outgoing {
    Outgoing {
        result: Err(message.into()),
        notifications: Vec::new(),
    }
}

fn header(number: u64) -> Json {
    json!({
        "parentHash": hexs(&block_hash(number.saturating_sub(1))),
        "number": format!("0x{number:x}"),
        "stateRoot": hexs(&[0; 32]),
        "extrinsicsRoot": hexs(&[0; 32]),
        "digest": {"logs": []},
    })
}

fn number_of(st: &State, hash: Option<&Json>) -> Option<u64> {
    let head = st.blocks.len() as u64 - 1;
    match hash.and_then(Json::as_str) {
        None => Some(head),
        Some(h) => {
            let h = unhex(h)?;
            st.blocks
                .iter()
                .rev()
                .find(|b| block_hash(b.number).as_slice() == h.as_slice())
                .map(|b| b.number)
        }
    }
}

fn handle(
    st: &mut State,
    metadata: &Metadata,
    method: &str,
    params: &[Json],
    next_sub: &mut u64,
) -> Outgoing {
    let head = st.blocks.len() as u64 - 1;
    match method {
        "rpc_methods" => reply(json!({"version": 1, "methods": [
            "chain_getBlockHash", "chain_getHeader", "chain_getBlock", "chain_getFinalizedHead",
            "state_getRuntimeVersion", "state_call", "state_getMetadata", "state_getStorage",
            "state_queryStorageAt", "state_getKeysPaged", "system_accountNextIndex",
            "author_submitAndWatchExtrinsic", "author_unwatchExtrinsic"]})),
        "chain_getBlockHash" => match params.first().and_then(Json::as_u64) {
            Some(n) if n <= head => reply(json!(hexs(&block_hash(n)))),
            Some(_) => reply(Json::Null),
            None => reply(json!(hexs(&block_hash(head)))),
        },
        "chain_getFinalizedHead" => reply(json!(hexs(&block_hash(head)))),
        "chain_getHeader" => match number_of(st, params.first()) {
            Some(n) => reply(header(n)),
            None => reply(Json::Null),
        },
        "chain_getBlock" => match number_of(st, params.first()) {
            Some(n) => {
                let exts: Vec<String> = st.blocks[n as usize]
                    .extrinsics
                    .iter()
                    .map(|e| hexs(e))
                    .collect();
                reply(
                    json!({"block": {"header": header(n), "extrinsics": exts}, "justifications": null}),
                )
            }
            None => reply(Json::Null),
        },
        "state_getRuntimeVersion" => {
            let v = &st.version;
            reply(json!({
                "specName": v.spec_name,
                "implName": v.impl_name,
                "authoringVersion": v.authoring_version,
                "specVersion": v.spec_version,
                "implVersion": v.impl_version,
                "apis": [],
                "transactionVersion": v.transaction_version,
                "stateVersion": 1,
            }))
        }
        "state_getMetadata" => reply(json!(hexs(&st.metadata_bytes))),
        "state_call" => {
            let function = params.first().and_then(Json::as_str).unwrap_or_default();
            let Some(args) = params.get(1).and_then(Json::as_str).and_then(unhex) else {
                return fail("state_call: bad args");
            };
            st.methods_seen.push(format!("state_call:{function}"));
            let out = match function {
                "Core_version" => st.core_version.clone(),
                "Metadata_metadata_versions" => vec![14u32, 15, 16].encode(),
                "Metadata_metadata_at_version" => {
                    if u32::decode(&mut &args[..]).ok() == Some(16) {
                        Some(st.metadata_bytes.clone()).encode()
                    } else {
                        None::<Vec<u8>>.encode()
                    }
                }
                "AccountNonceApi_account_nonce" => 0u32.encode(),
                other => match st.apis.get(other) {
                    Some(h) => h(&args),
                    None => return fail(format!("mock has no runtime API {other}")),
                },
            };
            reply(json!(hexs(&out)))
        }
        "state_getStorage" => {
            let key = params.first().and_then(Json::as_str).and_then(unhex);
            match key.and_then(|k| st.storage.get(&k)) {
                Some(v) => reply(json!(hexs(v))),
                None => reply(Json::Null),
            }
        }
        "state_queryStorageAt" => {
            let keys = params
                .first()
                .and_then(Json::as_array)
                .cloned()
                .unwrap_or_default();
            let changes: Vec<Json> = keys
                .iter()
                .filter_map(|k| k.as_str())
                .map(|k| {
                    let v = unhex(k).and_then(|k| st.storage.get(&k)).map(|v| hexs(v));
                    json!([k, v])
                })
                .collect();
            reply(json!([{"block": hexs(&block_hash(head)), "changes": changes}]))
        }
        "state_getKeysPaged" => {
            let prefix = params
                .first()
                .and_then(Json::as_str)
                .and_then(unhex)
                .unwrap_or_default();
            let count = params.get(1).and_then(Json::as_u64).unwrap_or(1000) as usize;
            let start = params.get(2).and_then(Json::as_str).and_then(unhex);
            let keys: Vec<String> = st
                .storage
                .keys()
                .filter(|k| k.starts_with(&prefix))
                .filter(|k| start.as_ref().is_none_or(|s| *k > s))
                .take(count)
                .map(|k| hexs(k))
                .collect();
            reply(json!(keys))
        }
        "system_accountNextIndex" => reply(json!(0)),
        "author_unwatchExtrinsic" => reply(json!(true)),
        "author_submitAndWatchExtrinsic" => {
            let Some(bytes) = params.first().and_then(Json::as_str).and_then(unhex) else {
                return fail("bad extrinsic hex");
            };
            match include(st, metadata, bytes) {
                Err(e) => fail(format!("1010: Invalid Transaction: {e}")),
                Ok(number) => {
                    *next_sub += 1;
                    let sub = format!("tx{next_sub}");
                    let hash = hexs(&block_hash(number));
                    let note = |result: Json| {
                        json!({"jsonrpc": "2.0", "method": "author_extrinsicUpdate",
                               "params": {"subscription": sub, "result": result}})
                    };
                    let mut notifications =
                        vec![note(json!("ready")), note(json!({"inBlock": hash}))];
                    if st.finalize {
                        notifications.push(note(json!({"finalized": hash})));
                    }
                    Outgoing {
                        result: Ok(json!(sub)),
                        notifications,
                    }
                }
            }
        }
        other => fail(format!("mock does not serve {other}")),
    }
}

/// Decodes a submitted extrinsic against the metadata, records it, and puts it in a new block
/// with its events. Returns the block number.
fn include(st: &mut State, metadata: &Metadata, bytes: Vec<u8>) -> Result<u64, String> {
    let types = metadata.types();
    let ext = decode_ext(metadata, &bytes)?;
    verify_signature(st, metadata, &bytes, &ext)?;
    let address = ext
        .signature_payload()
        .map(|s| bytes[s.address_range()].to_vec())
        .ok_or("unsigned extrinsic")?;
    let mut args = Vec::new();
    for arg in ext.call_data() {
        let value = scale_value::scale::decode_as_type(&mut &bytes[arg.range()], *arg.ty(), types)
            .map_err(|e| format!("argument {}: {e}", arg.name()))?;
        args.push((arg.name().to_string(), value));
    }
    let number = st.blocks.len() as u64;
    st.submitted.push(Submitted {
        pallet: ext.pallet_name().to_string(),
        call: ext.call_name().to_string(),
        args,
        address,
        block: number,
        bytes: bytes.clone(),
    });
    let fail = st.fail_next.take();
    let events = events_value(metadata, fail.as_ref());
    let events_ty = metadata
        .pallet_by_name("System")
        .and_then(|p| p.storage())
        .and_then(|s| s.entry_by_name("Events"))
        .map(|e| e.value_ty())
        .ok_or("no System.Events")?;
    let encoded = values::encode(types, events_ty, &events);
    let key = frame_decode::storage::encode_storage_key_prefix("System", "Events").to_vec();
    st.storage.insert(key, encoded);
    st.blocks.push(Block {
        number,
        extrinsics: vec![bytes],
    });
    Ok(number)
}

/// `System.Events` for a block holding one extrinsic (index 0): success, or a module error.
fn events_value(metadata: &Metadata, fail: Option<&(String, String)>) -> Value {
    let types = metadata.types();
    let events_ty = metadata
        .pallet_by_name("System")
        .and_then(|p| p.storage())
        .and_then(|s| s.entry_by_name("Events"))
        .map(|e| e.value_ty())
        .expect("System.Events");
    let record_ty = values::inner_ty(types, events_ty);
    let phase_ty = values::field_ty(types, record_ty, "phase");
    let event_ty = values::field_ty(types, record_ty, "event");
    let system_event_ty = values::variant_fields(types, event_ty, "System")[0].1;
    let phase = Value::unnamed_variant("ApplyExtrinsic", [Value::u128(0)]);
    values::variant_fields(types, phase_ty, "ApplyExtrinsic");
    let system_event = match fail {
        None => values::zero_variant(types, system_event_ty, "ExtrinsicSuccess"),
        Some((pallet, error)) => {
            let fields = values::variant_fields(types, system_event_ty, "ExtrinsicFailed");
            let ty_of = |name: &str| {
                fields
                    .iter()
                    .find(|(n, _)| n.as_deref() == Some(name))
                    .map(|(_, t)| *t)
                    .unwrap_or_else(|| panic!("ExtrinsicFailed has no {name}"))
            };
            let err_ty = ty_of("dispatch_error");
            let module_ty = values::variant_fields(types, err_ty, "Module")[0].1;
            let p = metadata
                .pallet_by_name(pallet)
                .unwrap_or_else(|| panic!("no pallet {pallet}"));
            let error_enum = p.error_ty_id().expect("pallet has errors");
            let index = values::variant_index(types, error_enum, error);
            let module_error = values::fill(
                types,
                module_ty,
                vec![
                    ("index", Value::u128(p.error_index().into())),
                    ("error", Value::from_bytes([index, 0, 0, 0])),
                ],
            );
            Value::named_variant(
                "ExtrinsicFailed",
                [
                    (
                        "dispatch_error",
                        Value::unnamed_variant("Module", [module_error]),
                    ),
                    ("dispatch_info", values::zero(types, ty_of("dispatch_info"))),
                ],
            )
        }
    };
    let event = Value::unnamed_variant("System", [system_event]);
    let record = values::fill(types, record_ty, vec![("phase", phase), ("event", event)]);
    Value::unnamed_composite([record])
}

type Ext<'a> = frame_decode::extrinsics::Extrinsic<'a, u32>;

/// A submitted extrinsic decoded against the metadata (once; its ranges index `bytes`).
fn decode_ext<'a>(metadata: &'a Metadata, bytes: &[u8]) -> Result<Ext<'a>, String> {
    frame_decode::extrinsics::decode_extrinsic(&mut &bytes[..], metadata, metadata.types())
        .map_err(|e| format!("undecodable extrinsic: {e}"))
}

/// The signature check of a signed v4 extrinsic: sr25519 over
/// `call ++ explicit extensions ++ implicit extensions` (blake2-256 when over 256 bytes), the
/// implicit part built from what this mock is (spec and transaction version, genesis, the era's
/// birth block) in the order the 424 metadata lists the extensions.
fn verify_signature(
    st: &State,
    metadata: &Metadata,
    bytes: &[u8],
    ext: &Ext<'_>,
) -> Result<(), String> {
    use sp_core::Pair as _;
    let sig = ext.signature_payload().ok_or("unsigned extrinsic")?;
    let address = &bytes[sig.address_range()];
    let signature = &bytes[sig.signature_range()];
    let public: [u8; 32] = match address {
        [0, rest @ ..] => rest.try_into().map_err(|_| "address is not an Id")?,
        _ => return Err("address is not MultiAddress::Id".into()),
    };
    let signature: [u8; 64] = match signature {
        [1, rest @ ..] => rest
            .try_into()
            .map_err(|_| "bad sr25519 signature length")?,
        _ => return Err("signature is not sr25519".into()),
    };
    let exts = ext
        .transaction_extension_payload()
        .ok_or("no transaction extensions")?;
    let mut payload = bytes[ext.call_data_range()].to_vec();
    payload.extend_from_slice(&bytes[exts.range()]);
    let version = &st.version;
    let head = st.blocks.len() as u64 - 1;
    let list = metadata
        .extrinsic()
        .transaction_extensions_by_version(exts.version())
        .ok_or("unknown extension version")?;
    for te in list {
        match te.identifier() {
            "CheckSpecVersion" => payload.extend(version.spec_version.encode()),
            "CheckTxVersion" => payload.extend(version.transaction_version.encode()),
            "CheckGenesis" => payload.extend(block_hash(0)),
            "CheckMortality" => {
                let era = exts
                    .iter()
                    .find(|e| e.name() == "CheckMortality")
                    .map(|e| &bytes[e.range()])
                    .ok_or("no era")?;
                payload.extend(block_hash(era_birth(era, head)?));
            }
            "CheckMetadataHash" => payload.push(0), // mode Disabled: implicit None
            other => {
                let implicit = values::zero(metadata.types(), te.additional_ty());
                if !values::encode(metadata.types(), te.additional_ty(), &implicit).is_empty() {
                    return Err(format!("mock cannot build the implicit data of {other}"));
                }
            }
        }
    }
    if payload.len() > 256 {
        payload = sp_core::hashing::blake2_256(&payload).to_vec();
    }
    let ok = sp_core::sr25519::Pair::verify(
        &sp_core::sr25519::Signature::from_raw(signature),
        &payload,
        &sp_core::sr25519::Public::from_raw(public),
    );
    if ok {
        Ok(())
    } else {
        Err("bad signature".into())
    }
}

/// Birth block of an era read at `head`: 0 (genesis) when immortal, else the latest block at
/// or before `head` whose number is the era's phase modulo its period.
fn era_birth(era: &[u8], head: u64) -> Result<u64, String> {
    match era {
        [0] => Ok(0),
        [lo, hi] => {
            let encoded = u64::from(u16::from_le_bytes([*lo, *hi]));
            let period = 2u64 << (encoded % 16);
            let quantize = (period >> 12).max(1);
            let phase = (encoded >> 4) * quantize;
            if phase >= period {
                return Err("invalid era".into());
            }
            Ok((head.max(phase) - phase) / period * period + phase)
        }
        _ => Err("invalid era".into()),
    }
}

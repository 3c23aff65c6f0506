//! The configuration file (TOML). Every setting in it is one that a flag also takes through an
//! `SN17_*` environment variable; before the command line is parsed, the file's values are exported
//! as those variables where they are not already set. So a flag beats the environment, the
//! environment beats the file, and the file beats the defaults, for every command alike.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// (key in the file, environment variable, commented default for `sn17 config init`).
pub const KEYS: &[(&str, &str, &str)] = &[
    (
        "network",
        "SN17_NETWORK",
        "# network = \"finney\"            # finney, test, local or a ws:// URL",
    ),
    (
        "chain_endpoint",
        "SN17_CHAIN_ENDPOINT",
        "# chain_endpoint = \"wss://entrypoint-finney.opentensor.ai:443\"  # wins over network",
    ),
    ("netuid", "SN17_NETUID", "# netuid = 17"),
    (
        "db",
        "SN17_DB",
        "# db = \"~/.local/share/sn17/db\"   # the node's RocksDB",
    ),
    (
        "wallet.path",
        "SN17_WALLET_PATH",
        "# path = \"~/.bittensor/wallets\"",
    ),
    ("wallet.name", "SN17_WALLET_NAME", "# name = \"default\""),
    (
        "wallet.hotkey",
        "SN17_WALLET_HOTKEY",
        "# hotkey = \"default\"",
    ),
    (
        "p2p.data_dir",
        "SN17_DATA_DIR",
        "# data_dir = \"~/.local/share/sn17/validator\"  # default: one per role",
    ),
    (
        "p2p.listen",
        "SN17_P2P_LISTEN",
        "# listen = [\"/ip4/0.0.0.0/tcp/9517\"]",
    ),
    (
        "p2p.bootstrap",
        "SN17_P2P_BOOTSTRAP",
        "# bootstrap = []                 # multiaddrs with /p2p/<peer id>",
    ),
    (
        "p2p.announce_ip",
        "SN17_P2P_ANNOUNCE_IP",
        "# announce_ip = \"203.0.113.7\"    # published as the hotkey's axon",
    ),
    (
        "p2p.metagraph_file",
        "SN17_METAGRAPH_FILE",
        "# metagraph_file = \"metagraph.json\"  # instead of the chain (devnets)",
    ),
    (
        "p2p.catch_up",
        "SN17_CATCH_UP",
        "# catch_up = \"http://explorer:9518\"",
    ),
    (
        "explorer.http",
        "SN17_EXPLORER_HTTP",
        "# http = \"127.0.0.1:9518\"",
    ),
    (
        "explorer.renders_url",
        "SN17_RENDERS_URL",
        "# renders_url = \"https://subnet404.xyz\"",
    ),
    (
        "judge.vlm_url",
        "SN17_VLM_URL",
        "# vlm_url = \"http://127.0.0.1:8000/v1\"  # OpenAI-compatible",
    ),
    (
        "judge.vlm_model",
        "SN17_VLM_MODEL",
        "# vlm_model = \"glm-4.6v-flash\"  # the served name (404's vLLM)",
    ),
    (
        "judge.vlm_api_key_env",
        "SN17_VLM_API_KEY_ENV",
        "# vlm_api_key_env = \"MY_VLM_KEY\"  # variable holding the key (default SN17_VLM_API_KEY, OPENAI_API_KEY)",
    ),
    (
        "judge.vlm_timeout",
        "SN17_VLM_TIMEOUT_SECS",
        "# vlm_timeout = 120              # seconds per VLM call",
    ),
    (
        "judge.vlm_concurrency",
        "SN17_VLM_MAX_CONCURRENCY",
        "# vlm_concurrency = 32           # VLM calls in flight",
    ),
    (
        "judge.dinov3_weights",
        "SN17_DINOV3_WEIGHTS",
        "# dinov3_weights = \"dinov3-vits16/model.safetensors\"  # enables Stage 2A's best view",
    ),
    (
        "competition.state_remote",
        "SN17_STATE_REMOTE",
        "# state_remote = \"/srv/git/404-competition.git\"  # validators write it, miners follow it",
    ),
    (
        "competition.state_branch",
        "SN17_STATE_BRANCH",
        "# state_branch = \"main\"",
    ),
    (
        "validator.metrics",
        "SN17_METRICS",
        "# metrics = \"127.0.0.1:9616\"   # /metrics (Prometheus), /status, /health",
    ),
    (
        "validator.backend",
        "SN17_BACKEND",
        "# backend = \"auto\"              # auto, cpu, wgpu, cuda",
    ),
    (
        "validator.view_size",
        "SN17_VIEW_SIZE",
        "# view_size = 1024",
    ),
    (
        "validator.audit_pods",
        "SN17_AUDIT_PODS",
        "# audit_pods = [\"owner/repo=http://10.0.0.5:10006\"]  # pods for regeneration",
    ),
    (
        "validator.audit_pod_token",
        "SN17_AUDIT_POD_TOKEN",
        "# audit_pod_token = \"...\"       # bearer token sent to pods",
    ),
    (
        "validator.seed",
        "SN17_SEED",
        "# seed = \"csprng\"              # csprng (404's) or drand (verifiable, see README)",
    ),
    (
        "validator.drand_url",
        "SN17_DRAND_URL",
        "# drand_url = \"https://api.drand.sh\"   # drand HTTP API for seed = \"drand\"",
    ),
    (
        "validator.owner_uid",
        "SN17_OWNER_UID",
        "# owner_uid = 199               # default: the subnet owner's registered hotkey",
    ),
    (
        "miner.repo",
        "SN17_MINER_REPO",
        "# repo = \"owner/name\"",
    ),
    (
        "miner.commit",
        "SN17_MINER_COMMIT",
        "# commit = \"<40-hex git sha>\"",
    ),
    (
        "miner.generator_url",
        "SN17_GENERATOR_URL",
        "# generator_url = \"http://127.0.0.1:10006\"  # your pod API",
    ),
    (
        "miner.cdn_url",
        "SN17_CDN_URL",
        "# cdn_url = \"https://cdn.example/path\"  # external CDN instead of serving outputs",
    ),
    (
        "miner.cdn_listen",
        "SN17_CDN_LISTEN",
        "# cdn_listen = \"0.0.0.0:9618\"",
    ),
    (
        "miner.cdn_public_url",
        "SN17_CDN_PUBLIC_URL",
        "# cdn_public_url = \"http://203.0.113.7:9618\"",
    ),
    (
        "devnet.chain_spec",
        "SN17_DEVNET_SPEC",
        "# chain_spec = \"raonet.json\"    # genesis spec with a Subtensor runtime",
    ),
];

/// Why the configuration file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not valid TOML: {reason}")]
    Parse { path: PathBuf, reason: String },
    #[error("{path}: unknown setting `{key}` (known: {known})")]
    UnknownKey {
        path: PathBuf,
        key: String,
        known: String,
    },
    #[error("{path}: `{key}` must be a string, number, boolean or list of strings")]
    BadValue { path: PathBuf, key: String },
    #[error("{path} is larger than {max} bytes")]
    TooLarge { path: PathBuf, max: u64 },
}

/// Largest configuration file read.
const MAX_BYTES: u64 = 256 * 1024;

/// `~/.config/sn17/config.toml` (the platform's config directory).
pub fn default_path() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("sn17").join("config.toml"))
}

/// The file to read: `--config FILE` on the command line, else `SN17_CONFIG`, else the default
/// path when it exists.
pub fn locate(args: &[OsString]) -> Option<PathBuf> {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let s = a.to_string_lossy();
        if s == "--config" {
            return it.next().map(PathBuf::from);
        }
        if let Some(v) = s.strip_prefix("--config=") {
            return Some(PathBuf::from(v));
        }
    }
    if let Some(p) = std::env::var_os("SN17_CONFIG") {
        return Some(PathBuf::from(p));
    }
    default_path().filter(|p| p.is_file())
}

fn scalar(v: &toml_edit::Value) -> Option<String> {
    match v {
        toml_edit::Value::String(s) => Some(s.value().clone()),
        toml_edit::Value::Integer(i) => Some(i.value().to_string()),
        toml_edit::Value::Boolean(b) => Some(b.value().to_string()),
        toml_edit::Value::Float(f) => Some(f.value().to_string()),
        toml_edit::Value::Array(a) => a
            .iter()
            .map(|x| x.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .map(|v| v.join(",")),
        _ => None,
    }
}

/// Reads `path` into (environment variable, value) pairs.
pub fn load(path: &Path) -> Result<Vec<(&'static str, String)>, ConfigError> {
    let len = std::fs::metadata(path)
        .map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?
        .len();
    if len > MAX_BYTES {
        return Err(ConfigError::TooLarge {
            path: path.to_path_buf(),
            max: MAX_BYTES,
        });
    }
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&text, path)
}

fn parse(text: &str, path: &Path) -> Result<Vec<(&'static str, String)>, ConfigError> {
    let doc: toml_edit::DocumentMut =
        text.parse()
            .map_err(|e: toml_edit::TomlError| ConfigError::Parse {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
    let mut flat: Vec<(String, &toml_edit::Item)> = Vec::new();
    for (k, item) in doc.iter() {
        match item.as_table_like() {
            Some(t) if !item.is_inline_table() => {
                for (k2, v) in t.iter() {
                    flat.push((format!("{k}.{k2}"), v));
                }
            }
            _ => flat.push((k.to_string(), item)),
        }
    }
    let mut out = Vec::new();
    for (key, item) in flat {
        let Some(&(_, env, _)) = KEYS.iter().find(|(k, _, _)| *k == key) else {
            return Err(ConfigError::UnknownKey {
                path: path.to_path_buf(),
                known: KEYS
                    .iter()
                    .map(|(k, _, _)| *k)
                    .collect::<Vec<_>>()
                    .join(", "),
                key,
            });
        };
        let value = item
            .as_value()
            .and_then(scalar)
            .ok_or_else(|| ConfigError::BadValue {
                path: path.to_path_buf(),
                key: key.clone(),
            })?;
        out.push((env, value));
    }
    Ok(out)
}

/// Exports each pair whose variable is not set yet. Call before any thread starts.
pub fn apply(pairs: &[(&'static str, String)]) {
    for (env, value) in pairs {
        if std::env::var_os(env).is_none() {
            std::env::set_var(env, value);
        }
    }
}

/// The commented default file `sn17 config init` writes.
pub fn template() -> String {
    let mut out = String::from(
        "# sn17 configuration. Every setting is optional; a flag or an SN17_* environment variable\n\
         # wins over this file. Uncomment what you need.\n\n",
    );
    let mut section = "";
    for (key, env, line) in KEYS {
        let (sec, _) = key.split_once('.').unwrap_or(("", key));
        if sec != section {
            out.push_str(&format!("\n[{sec}]\n"));
            section = sec;
        }
        out.push_str(&format!("{line}  ({env})\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_parses_and_every_key_round_trips() {
        let p = Path::new("t.toml");
        assert!(parse(&template(), p).expect("template parses").is_empty());
        let mut text = String::new();
        let mut section = "";
        for (key, _, _) in KEYS {
            let (sec, name) = key.split_once('.').unwrap_or(("", key));
            if sec != section {
                text.push_str(&format!("[{sec}]\n"));
                section = sec;
            }
            text.push_str(&format!("{name} = \"v-{key}\"\n"));
        }
        let pairs = parse(&text, p).expect("parses");
        assert_eq!(pairs.len(), KEYS.len());
        for ((key, env, _), (got_env, value)) in KEYS.iter().zip(&pairs) {
            assert_eq!(env, got_env);
            assert_eq!(value, &format!("v-{key}"));
        }
    }

    #[test]
    fn values_lists_and_errors() {
        let p = Path::new("t.toml");
        let pairs = parse(
            "netuid = 3\n[p2p]\nlisten = [\"/ip4/1.2.3.4/tcp/1\", \"/ip4/5.6.7.8/tcp/2\"]\n",
            p,
        )
        .expect("parses");
        assert_eq!(pairs[0], ("SN17_NETUID", "3".to_string()));
        assert_eq!(
            pairs[1],
            (
                "SN17_P2P_LISTEN",
                "/ip4/1.2.3.4/tcp/1,/ip4/5.6.7.8/tcp/2".to_string()
            )
        );
        assert!(
            matches!(parse("netuidd = 3", p), Err(ConfigError::UnknownKey { key, .. }) if key == "netuidd")
        );
        assert!(matches!(
            parse("[wallet]\nname = { a = 1 }", p),
            Err(ConfigError::BadValue { .. })
        ));
        assert!(matches!(
            parse("netuid = ", p),
            Err(ConfigError::Parse { .. })
        ));
    }

    #[test]
    fn the_command_line_names_the_file() {
        let args: Vec<OsString> = ["sn17", "--config", "/x.toml", "chain", "info"]
            .iter()
            .map(OsString::from)
            .collect();
        assert_eq!(locate(&args), Some(PathBuf::from("/x.toml")));
        let args: Vec<OsString> = ["sn17", "--config=/y.toml"]
            .iter()
            .map(OsString::from)
            .collect();
        assert_eq!(locate(&args), Some(PathBuf::from("/y.toml")));
    }
}

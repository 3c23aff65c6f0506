#!/usr/bin/env python3
"""Generate the btcli wallet fixtures used by `chain/tests/wallet.rs`.

The fixtures are written by the reference implementation, the PyPI package
`bittensor-wallet` (module `bittensor_wallet`, the keyfile code btcli uses),
so the Rust wallet module is checked against an oracle that shares no code
with it.

    pip install bittensor-wallet==4.1.1
    python3 scripts/gen_wallet_fixtures.py

Every key comes from a fixed mnemonic, seed or private key, so the addresses
in `expected.json` never change. Only the random `$NACL` nonce of the coldkey
and the Ansible Vault salt differ between runs. The outputs are committed;
rerun this script only to refresh them.
"""

import json
import os
import shutil
import sys

from bittensor_wallet import Keyfile, Keypair, Wallet
from bittensor_wallet import keyfile as keyfile_mod

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(REPO, "chain", "tests", "fixtures", "wallets")
ROOT = os.path.join(OUT, "reference")
WALLET = "sn17-test"
PASSWORD = "sn17-test-password"

# BIP-39 test vector (Trezor vectors) used as the coldkey mnemonic.
COLDKEY_MNEMONIC = "legal winner thank year wave sausage worth useful legal winner thank yellow"
# Substrate's well-known development phrase, used for the default hotkey.
HOTKEY_MNEMONIC = "bottom drive obey lake curtain smoke basket hold race lonely fit walk"
# A 32-byte mini-secret that is not valid UTF-8: btwallet writes it as hex.
SEED_HEX = "ff" + "".join(f"{i:02x}" for i in range(1, 32))
# A 32-byte mini-secret that is valid UTF-8: btwallet 4.1.1 writes it into
# `secretSeed` as "0x" followed by the raw characters instead of hex.
SEED_RAW_TEXT = "sn17 wallet fixture seed 32 byte"
# A 64-byte schnorrkel secret key (key || nonce) taken from a fixed mini-secret.
PRIVKEY_SOURCE_SEED = "42" * 32
MESSAGE = b"sn17 wallet fixture message"


def main() -> None:
    assert len(SEED_RAW_TEXT.encode()) == 32
    if os.path.exists(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)

    expected = {
        "generator": "scripts/gen_wallet_fixtures.py",
        "reference": "bittensor-wallet " + getattr(__import__("bittensor_wallet"), "__version__", "?"),
        "root": "reference",
        "wallet": WALLET,
        "password": PASSWORD,
        "message": MESSAGE.decode(),
        "keys": {},
    }

    wallet = Wallet(name=WALLET, hotkey="default", path=ROOT)
    wallet.regenerate_coldkey(
        mnemonic=COLDKEY_MNEMONIC,
        use_password=True,
        coldkey_password=PASSWORD,
        overwrite=True,
        suppress=True,
    )
    wallet.regenerate_hotkey(
        mnemonic=HOTKEY_MNEMONIC, use_password=False, overwrite=True, suppress=True
    )
    coldkey = wallet.get_coldkey(password=PASSWORD)
    record(expected, "coldkey", coldkey, source="mnemonic", encrypted=True)
    record(expected, "hotkey:default", wallet.hotkey, source="mnemonic", encrypted=False)

    seed_hex = Keypair.create_from_seed("0x" + SEED_HEX)
    set_hotkey("seed-hex", seed_hex)
    record(expected, "hotkey:seed-hex", seed_hex, source="secretSeed (hex)", encrypted=False)

    seed_raw = Keypair.create_from_seed("0x" + SEED_RAW_TEXT.encode().hex())
    set_hotkey("seed-raw", seed_raw)
    record(
        expected,
        "hotkey:seed-raw",
        seed_raw,
        source="secretSeed (raw characters, btwallet quirk)",
        encrypted=False,
    )

    source = Keypair.create_from_seed("0x" + PRIVKEY_SOURCE_SEED)
    private_hex = json.loads(keyfile_mod.serialized_keypair_to_keyfile_data(source))["privateKey"]
    privkey = Keypair.create_from_private_key(private_hex)
    set_hotkey("privkey", privkey)
    record(expected, "hotkey:privkey", privkey, source="privateKey only", encrypted=False)

    vault = keyfile_mod.legacy_encrypt_keyfile_data(
        keyfile_mod.serialized_keypair_to_keyfile_data(wallet.hotkey), PASSWORD
    )
    with open(os.path.join(OUT, "ansible_vault_keyfile"), "wb") as f:
        f.write(vault)

    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=2, sort_keys=True)
        f.write("\n")
    print(f"wrote fixtures to {OUT}", file=sys.stderr)


def set_hotkey(name: str, keypair: Keypair) -> None:
    """Write hotkeys/<name> (plaintext) and hotkeys/<name>pub.txt like btcli does."""
    wallet = Wallet(name=WALLET, hotkey=name, path=ROOT)
    wallet.set_hotkey(keypair, encrypt=False, overwrite=True)
    wallet.set_hotkeypub(keypair, encrypt=False, overwrite=True)


def record(expected: dict, label: str, keypair: Keypair, source: str, encrypted: bool) -> None:
    """Store the oracle's view of one key, and a signature of MESSAGE by it."""
    signature = keypair.sign(MESSAGE)
    assert keypair.verify(MESSAGE, signature)
    expected["keys"][label] = {
        "ss58": keypair.ss58_address,
        "public_key": "0x" + keypair.public_key.hex(),
        "source": source,
        "encrypted": encrypted,
        "signature": "0x" + signature.hex(),
    }


if __name__ == "__main__":
    main()

//! btcli wallets: keyfiles, `$NACL` encryption, wallet directories.

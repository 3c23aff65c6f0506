//! The node's integration tests, one binary (one link of the whole node instead of ten): the
//! chain client and CLI against chopsticks, the competition engine, the devnet, gossip and the
//! explorer, the config file and `sn17 render`.

mod chain_chopsticks;
mod chain_reconnect;
mod competition;
mod config_cli;
mod devnet;
mod explorer_page;
mod gossip_adversarial;
mod gossip_chain;
mod gossip_mesh;
mod gossip_support;
mod render_cli;

//! `sn17_node`: the parts of the `sn17` binary that integration tests and benches drive in
//! process (gossip network, explorer). The binary re-exports them under the same paths.

pub mod explorer;
pub mod gossip;
pub mod http;

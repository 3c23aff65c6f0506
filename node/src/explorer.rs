//! The explorer: a JSON HTTP API over the accepted gossip (rounds, seeds, manifests, results,
//! leader history), the node's peers and the metagraph, and a small web page built on it.
//!
//! | route                         | returns                                                    |
//! |-------------------------------|------------------------------------------------------------|
//! | `GET /`                       | the web page (embedded HTML and JS, no build step)          |
//! | `GET /api/status`             | peer id, netuid, listen addresses, counters                 |
//! | `GET /api/rounds`             | one summary per round, newest first (winner, match count, state commit); `?limit=N` (100) and `?before=R` page |
//! | `GET /api/rounds/{n}`         | a round's seeds, manifests, results and leader changes      |
//! | `GET /api/rounds/{n}/prompts` | the round's `prompts.txt` from a seed that carries it inline |
//! | `GET /api/seeds` (`manifests`, `results`, `leaders`) | every message of that kind, `?round=N` filters |
//! | `GET /api/peers`              | connected peers with agent and gossipsub score              |
//! | `GET /api/metagraph`          | registered hotkeys, permits, axons                          |
//! | `GET /api/messages`           | raw signed envelopes (hex) for catch-up, `?kind=K`, `?round=N` |

pub mod api;

pub use api::{catch_up, serve, ExplorerError, ExplorerState};

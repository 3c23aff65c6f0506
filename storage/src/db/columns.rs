//! Column families, each with a stable short name stored on disk.

/// Every column family of the node's database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Column {
    /// Schema version and other fixed keys.
    Meta,
    Rounds,
    Submissions,
    Downloads,
    Renders,
    Matches,
    Embeddings,
    ChainSnapshots,
    Gossip,
    /// Audit regenerations (schema 2; they were in `Submissions` under a key tag before).
    Generations,
    /// The gossip column's bookkeeping: its round index and the node's markers (schema 3; they
    /// were in `Gossip` under `~` keys before).
    GossipIndex,
}

impl Column {
    pub const ALL: [Column; 11] = [
        Column::Meta,
        Column::Rounds,
        Column::Submissions,
        Column::Downloads,
        Column::Renders,
        Column::Matches,
        Column::Embeddings,
        Column::ChainSnapshots,
        Column::Gossip,
        Column::Generations,
        Column::GossipIndex,
    ];

    /// The on-disk name; never change one.
    pub const fn name(self) -> &'static str {
        match self {
            Column::Meta => "met",
            Column::Rounds => "rnd",
            Column::Submissions => "sub",
            Column::Downloads => "dl",
            Column::Renders => "rdr",
            Column::Matches => "mat",
            Column::Embeddings => "emb",
            Column::ChainSnapshots => "chn",
            Column::Gossip => "gsp",
            Column::Generations => "gen",
            Column::GossipIndex => "gix",
        }
    }

    /// A readable name for `sn17 db stats`.
    pub const fn label(self) -> &'static str {
        match self {
            Column::Meta => "meta",
            Column::Rounds => "rounds",
            Column::Submissions => "submissions",
            Column::Downloads => "downloads",
            Column::Renders => "renders",
            Column::Matches => "matches",
            Column::Embeddings => "embeddings",
            Column::ChainSnapshots => "chain_snapshots",
            Column::Gossip => "gossip",
            Column::Generations => "generations",
            Column::GossipIndex => "gossip_index",
        }
    }
}

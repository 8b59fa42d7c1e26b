//! Statistics as mergeable partial states: each shard (file, split, later a machine)
//! computes its own and `merge` combines them, so no step needs all rows at once.

pub mod contingency;
pub mod images;
pub mod moments;
pub mod numeric;
pub mod sketch;

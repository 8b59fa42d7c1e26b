//! The label networks' interface. The networks themselves (the baseline's CNN and
//! MLP, trained per fold with burn) live in the `dsaudit-baseline` crate, so that a
//! scan-only build compiles no deep-learning stack; a build that has them hands an
//! implementation of `Networks` to the labels stage in its options.

/// Which network, on what input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Network {
    /// Square grey images of this side, row-major, scaled to [0, 1].
    Cnn { side: usize },
    /// Feature vectors.
    Mlp,
}

/// What the folds' training leaves: row-major n × k out-of-fold probabilities, each
/// fold's trained parameters (opaque bytes, kept for `dsaudit check`), and a
/// description of the model and device for the report.
pub struct Trained {
    pub probabilities: Vec<f64>,
    pub folds: Vec<Vec<u8>>,
    pub what: String,
}

/// What the labels stage asks of a build's networks.
pub trait Networks: std::fmt::Debug + Send + Sync {
    /// The name of a GPU adapter, when there is one: `auto` trains the CNN only there.
    fn gpu_adapter(&self) -> Option<String>;
    /// What changes the networks, for `dsaudit check`'s test of whether a stored fit
    /// still stands.
    fn settings(&self) -> String;
    /// Out-of-fold probabilities of the rows `x` (n × `dim`) labelled `ys` (`k`
    /// classes), row `i` held out in fold `fold[i]` of `folds`.
    #[allow(clippy::too_many_arguments)]
    fn probabilities(
        &self,
        network: Network,
        x: Vec<f32>,
        dim: usize,
        ys: &[usize],
        k: usize,
        fold: &[usize],
        folds: usize,
        seed: u64,
    ) -> Result<Trained, String>;
    /// The mean of the folds' probabilities (row-major n × k) for rows none of them
    /// learnt from, from the parameters `probabilities` kept.
    fn score(
        &self,
        network: Network,
        folds: &[&[u8]],
        x: Vec<f32>,
        dim: usize,
        k: usize,
    ) -> Result<Vec<f64>, String>;
}

/// Why a network was asked for and none can run: this build was made without them.
pub const MISSING: &str = "this dsaudit was built without the label networks (the `baseline` feature); install the default build (cargo install dsaudit) for --label-model cnn or mlp";

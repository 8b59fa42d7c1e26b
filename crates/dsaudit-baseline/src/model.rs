//! The two baseline networks: a LeNet-like CNN for images and a two-hidden-layer MLP
//! for tables. ReLU, He-normal weights, no normalization layers, no dropout: the
//! point is a standard network with nothing that could hide a data problem.

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Initializer, Linear, LinearConfig, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::activation::relu;

/// He-normal: N(0, 2 / fan_in).
fn he() -> Initializer {
    Initializer::KaimingNormal {
        gain: std::f64::consts::SQRT_2,
        fan_out_only: false,
    }
}

fn linear(d_in: usize, d_out: usize, device: &Device) -> Linear {
    LinearConfig::new(d_in, d_out)
        .with_initializer(he())
        .init(device)
}

/// What every baseline network does: logits for a batch of flat input rows, and the
/// penultimate layer's features (the embeddings).
pub trait Net: Module + Clone + 'static {
    fn features(&self, x: Tensor<2>) -> Tensor<2>;
    fn head(&self, features: Tensor<2>) -> Tensor<2>;
    fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        self.head(self.features(x))
    }
}

/// Channels of the two convolutions and width of the hidden dense layer.
pub const CNN_CHANNELS: [usize; 2] = [16, 32];
pub const CNN_HIDDEN: usize = 128;
/// Widths of the MLP's two hidden layers.
pub const MLP_HIDDEN: [usize; 2] = [256, 128];

/// conv 5×5 (same) → ReLU → max-pool 2 → conv 5×5 (same) → ReLU → max-pool 2 →
/// dense → ReLU → dense (logits).
#[derive(Module, Debug)]
pub struct Cnn {
    conv1: Conv2d,
    conv2: Conv2d,
    pool: MaxPool2d,
    hidden: Linear,
    out: Linear,
    channels: usize,
    side: usize,
}

impl Cnn {
    pub fn new(channels: usize, side: usize, classes: usize, device: &Device) -> Cnn {
        let conv = |c_in, c_out| {
            Conv2dConfig::new([c_in, c_out], [5, 5])
                .with_padding(PaddingConfig2d::Same)
                .with_initializer(he())
                .init(device)
        };
        let [c1, c2] = CNN_CHANNELS;
        let flat = c2 * (side / 4) * (side / 4);
        Cnn {
            conv1: conv(channels, c1),
            conv2: conv(c1, c2),
            pool: MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
            hidden: linear(flat, CNN_HIDDEN, device),
            out: linear(CNN_HIDDEN, classes, device),
            channels,
            side,
        }
    }
}

impl Net for Cnn {
    fn features(&self, x: Tensor<2>) -> Tensor<2> {
        let n = x.dims()[0];
        let x = x.reshape([n, self.channels, self.side, self.side]);
        let x = self.pool.forward(relu(self.conv1.forward(x)));
        let x = self.pool.forward(relu(self.conv2.forward(x)));
        relu(self.hidden.forward(x.flatten(1, 3)))
    }

    fn head(&self, features: Tensor<2>) -> Tensor<2> {
        self.out.forward(features)
    }
}

/// dense → ReLU → dense → ReLU → dense (logits).
#[derive(Module, Debug)]
pub struct Mlp {
    hidden1: Linear,
    hidden2: Linear,
    out: Linear,
}

impl Mlp {
    pub fn new(inputs: usize, classes: usize, device: &Device) -> Mlp {
        let [h1, h2] = MLP_HIDDEN;
        Mlp {
            hidden1: linear(inputs, h1, device),
            hidden2: linear(h1, h2, device),
            out: linear(h2, classes, device),
        }
    }
}

impl Net for Mlp {
    fn features(&self, x: Tensor<2>) -> Tensor<2> {
        relu(self.hidden2.forward(relu(self.hidden1.forward(x))))
    }

    fn head(&self, features: Tensor<2>) -> Tensor<2> {
        self.out.forward(features)
    }
}

/// A description for the report.
pub fn describe_cnn(channels: usize, side: usize) -> String {
    let [c1, c2] = CNN_CHANNELS;
    format!(
        "LeNet-like CNN: {channels}×{side}×{side} → conv5×5({c1}) → pool → conv5×5({c2}) → pool → dense({CNN_HIDDEN}) → dense"
    )
}

pub fn describe_mlp(inputs: usize) -> String {
    let [h1, h2] = MLP_HIDDEN;
    format!("MLP: {inputs} → dense({h1}) → dense({h2}) → dense")
}

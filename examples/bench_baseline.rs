//! Training steps per second of the baseline networks on every backend this machine
//! offers: the CNN on batches of 64 images of 3×32×32 and the MLP on batches of 256
//! rows of 64 features, 10 classes, random data. Each step is what `dsaudit baseline`
//! runs: forward, cross-entropy, backward, Adam, and the loss read back.
//!
//! cargo run --release --example bench_baseline [-- SECONDS]

use dsaudit_baseline::burn::prelude::*;
use dsaudit_baseline::{device, model, train};

fn data(n: usize, d: usize, classes: usize, device: &Device) -> (Tensor<2>, Tensor<1, Int>) {
    let mut s = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let x: Vec<f32> = (0..n * d)
        .map(|_| (next() % 1000) as f32 / 1000.0)
        .collect();
    let y: Vec<i64> = (0..n).map(|_| (next() % classes as u64) as i64).collect();
    (
        Tensor::<2>::from_data(TensorData::new(x, [n, d]), device),
        Tensor::<1, Int>::from_data(TensorData::new(y, [n]), device),
    )
}

fn main() {
    let seconds: f64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10.0);
    let mut backends = vec![(
        "cpu",
        "burn flex (pure Rust, CPU)".to_string(),
        Device::flex(),
    )];
    let adapters = device::adapters();
    for a in &adapters {
        eprintln!(
            "wgpu adapter: {} ({}, {}, {})",
            a.name, a.kind, a.api, a.driver
        );
    }
    if let Ok(c) = device::choose(device::Choice::Wgpu) {
        backends.push(("wgpu", c.adapter.clone(), c.device.clone()));
    }
    println!(
        "{:<6} {:<48} {:<5} {:>5} {:>10} {:>9} {:>10}",
        "backend", "adapter", "model", "batch", "warm-up s", "steps/s", "samples/s"
    );
    for (name, adapter, dev) in backends {
        let dev = dev.autodiff();
        dev.seed(0);
        let (x, y) = data(64, 3 * 32 * 32, 10, &dev);
        let (warm, sps) =
            train::time_steps(model::Cnn::new(3, 32, 10, &dev), x, y, &dev, 10, seconds);
        println!(
            "{name:<6} {adapter:<48} {:<5} {:>5} {warm:>10.2} {sps:>9.1} {:>10.0}",
            "cnn",
            64,
            sps * 64.0
        );
        let (x, y) = data(256, 64, 10, &dev);
        let (warm, sps) = train::time_steps(model::Mlp::new(64, 10, &dev), x, y, &dev, 10, seconds);
        println!(
            "{name:<6} {adapter:<48} {:<5} {:>5} {warm:>10.2} {sps:>9.1} {:>10.0}",
            "mlp",
            256,
            sps * 256.0
        );
    }
}

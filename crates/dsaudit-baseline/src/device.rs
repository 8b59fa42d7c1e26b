//! Which device trains the baseline: wgpu on a real GPU adapter, burn's pure-Rust
//! CPU backend (flex) otherwise. A CPU Vulkan adapter (Mesa's lavapipe) is a wgpu
//! adapter too, but training on it measured about 10× slower per step than the CPU
//! backend, so `auto` takes it only when told (`--device wgpu`).

use anyhow::{bail, Result};
use burn::prelude::*;
use burn::tensor::wgpu::wgpu;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Choice {
    /// wgpu on a GPU adapter, else the CPU backend.
    Auto,
    /// The CPU backend.
    Cpu,
    /// wgpu on a GPU adapter; fails when there is none.
    Gpu,
    /// wgpu on any adapter, a CPU one (lavapipe) included.
    Wgpu,
}

impl dsaudit_core::choice::Choice for Choice {
    const ALL: &'static [(Choice, &'static str, &'static str)] = &[
        (
            Choice::Auto,
            "auto",
            "wgpu on a GPU adapter, else the CPU backend",
        ),
        (Choice::Cpu, "cpu", "The CPU backend"),
        (
            Choice::Gpu,
            "gpu",
            "wgpu on a GPU adapter; fails when there is none",
        ),
        (
            Choice::Wgpu,
            "wgpu",
            "wgpu on any adapter, a CPU one (lavapipe) included",
        ),
    ];
}

/// One adapter wgpu found.
#[derive(Debug, Clone, Serialize)]
pub struct Adapter {
    pub name: String,
    /// discrete-gpu, integrated-gpu, virtual-gpu, cpu, other.
    pub kind: &'static str,
    /// vulkan, metal, dx12, gl, browser-webgpu.
    pub api: String,
    pub driver: String,
}

/// The device chosen, and what the report says about it.
pub struct Chosen {
    pub device: Device,
    /// "wgpu" or "cpu".
    pub backend: &'static str,
    /// The adapter's name and kind, or the CPU backend's description.
    pub adapter: String,
    pub adapters: Vec<Adapter>,
    /// Why this device (a fallback, a forced choice).
    pub note: Option<String>,
}

const CPU_NAME: &str = "burn flex (pure Rust, CPU)";

fn kind_name(t: wgpu::DeviceType) -> &'static str {
    match t {
        wgpu::DeviceType::DiscreteGpu => "discrete-gpu",
        wgpu::DeviceType::IntegratedGpu => "integrated-gpu",
        wgpu::DeviceType::VirtualGpu => "virtual-gpu",
        wgpu::DeviceType::Cpu => "cpu",
        wgpu::DeviceType::Other => "other",
    }
}

/// Every adapter on the primary graphics APIs (Vulkan, Metal, DX12). An absent
/// Vulkan loader or driver gives an empty list, not an error.
pub fn adapters() -> Vec<Adapter> {
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
    desc.backends = wgpu::Backends::PRIMARY;
    let found = quiet_stderr(|| {
        let instance = wgpu::Instance::new(desc);
        futures_lite::future::block_on(instance.enumerate_adapters(wgpu::Backends::PRIMARY))
    });
    let mut out: Vec<Adapter> = found
        .iter()
        .map(|a| {
            let info = a.get_info();
            Adapter {
                name: info.name.clone(),
                kind: kind_name(info.device_type),
                api: format!("{:?}", info.backend).to_lowercase(),
                driver: [info.driver.as_str(), info.driver_info.as_str()]
                    .iter()
                    .filter(|s| !s.is_empty())
                    .copied()
                    .collect::<Vec<_>>()
                    .join(" "),
            }
        })
        .collect();
    // The same adapter can show on two APIs; list it once, best kind first.
    out.sort_by_key(|a| rank(a.kind));
    out.dedup_by(|a, b| a.name == b.name && a.kind == b.kind);
    out
}

fn rank(kind: &str) -> u8 {
    match kind {
        "discrete-gpu" => 0,
        "integrated-gpu" => 1,
        "virtual-gpu" => 2,
        "other" => 3,
        _ => 4,
    }
}

fn wgpu_on(a: &Adapter) -> Device {
    let kind = match a.kind {
        "discrete-gpu" => DeviceKind::DiscreteGpu(0),
        "integrated-gpu" => DeviceKind::IntegratedGpu(0),
        "virtual-gpu" => DeviceKind::VirtualGpu(0),
        "cpu" => DeviceKind::Cpu,
        _ => DeviceKind::DefaultDevice,
    };
    Device::wgpu(kind)
}

fn started(device: Device) -> Device {
    warm_up(&device);
    device
}

fn listed(adapters: &[Adapter]) -> String {
    if adapters.is_empty() {
        return "none".into();
    }
    adapters
        .iter()
        .map(|a| format!("{} ({}, {})", a.name, a.kind, a.api))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn choose(choice: Choice) -> Result<Chosen> {
    let cpu = |adapters: Vec<Adapter>, note: Option<String>| Chosen {
        device: Device::flex(),
        backend: "cpu",
        adapter: CPU_NAME.into(),
        adapters,
        note,
    };
    if choice == Choice::Cpu {
        return Ok(cpu(Vec::new(), Some("--device cpu".into())));
    }
    let adapters = adapters();
    let gpu = adapters.iter().find(|a| a.kind != "cpu").cloned();
    let shown = |a: &Adapter| format!("{} ({}, {})", a.name, a.kind, a.api);
    match (choice, gpu) {
        (Choice::Auto | Choice::Gpu | Choice::Wgpu, Some(a)) => Ok(Chosen {
            device: started(wgpu_on(&a)),
            backend: "wgpu",
            adapter: shown(&a),
            adapters,
            note: None,
        }),
        (Choice::Gpu, None) => bail!(
            "--device gpu: no GPU adapter found (wgpu adapters: {}); use --device auto to fall back to the CPU",
            listed(&adapters)
        ),
        (Choice::Wgpu, None) => match adapters.first().cloned() {
            Some(a) => Ok(Chosen {
                device: started(wgpu_on(&a)),
                backend: "wgpu",
                adapter: shown(&a),
                note: Some("--device wgpu on a CPU adapter: expect the first steps to compile kernels and every step to run slower than --device cpu".to_string()),
                adapters,
            }),
            None => bail!(
                "--device wgpu: no wgpu adapter found (install a Vulkan driver, e.g. Debian's mesa-vulkan-drivers)"
            ),
        },
        _ => {
            let note = if adapters.is_empty() {
                "no GPU adapter (no Vulkan driver found): the CPU backend trains".to_string()
            } else {
                format!(
                    "no GPU adapter, only {}: the CPU backend trains, faster there than wgpu (force it with --device wgpu)",
                    listed(&adapters)
                )
            };
            Ok(cpu(adapters, Some(note)))
        }
    }
}

/// Runs `f` with file descriptor 2 pointed at /dev/null: the Vulkan loader and its
/// window-system probes print lines such as "XDG_RUNTIME_DIR is invalid or not set"
/// that say nothing about training, and dsaudit's errors must stay one line.
#[cfg(unix)]
fn quiet_stderr<T>(f: impl FnOnce() -> T) -> T {
    use std::os::fd::AsRawFd;
    let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") else {
        return f();
    };
    // SAFETY: plain descriptor juggling; 2 is restored before returning.
    let saved = unsafe { libc::dup(2) };
    if saved < 0 {
        return f();
    }
    unsafe { libc::dup2(null.as_raw_fd(), 2) };
    let out = f();
    unsafe {
        libc::dup2(saved, 2);
        libc::close(saved);
    }
    out
}

#[cfg(not(unix))]
fn quiet_stderr<T>(f: impl FnOnce() -> T) -> T {
    f()
}

/// Starts the wgpu runtime on `device` (it starts on first use), quietly.
pub fn warm_up(device: &Device) {
    quiet_stderr(|| {
        let _ = Tensor::<1>::zeros([1], device).into_data();
    });
}

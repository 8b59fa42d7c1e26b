// glibc's malloc maps and unmaps every large buffer, and a million-row table allocates
// many: page faults were 15% of a `rebalance` of the benchmark table. mimalloc keeps
// freed memory for reuse.
// Wrapped so that an impossible allocation asked for by a reader of a damaged file is
// a one-line error naming the file, not an abort (`alloc_guard`).
#[global_allocator]
static GLOBAL: dsaudit_core::alloc_guard::Guarded<mimalloc::MiMalloc> =
    dsaudit_core::alloc_guard::Guarded(mimalloc::MiMalloc);

fn main() {
    no_transparent_huge_pages();
    dsaudit_core::alloc_guard::set_limit_from_machine();
    std::process::exit(dsaudit_cli::cli::main());
}

/// Where the kernel backs every mapping with transparent huge pages (`always`, as on
/// this project's machine), the first touch of any part of a 2 MiB region zeroes all
/// of it, and the allocator frees, purges and reuses the scan's large buffers many
/// times: that zeroing was 7-11% of a scan's CPU in four profiles (system time 2.4-3.1
/// of 14 s on 100,000 PNGs). Without huge pages the scan took 0.92x as long on those
/// images and 0.89x on the million-row CSV (docs/benchmarks.md). This process only;
/// the Python package, which runs in the user's interpreter, leaves the setting alone.
fn no_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes integer arguments and touches no memory of ours.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

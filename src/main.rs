// glibc's malloc maps and unmaps every large buffer, and a million-row table allocates
// many: page faults were 15% of a `rebalance` of the benchmark table. mimalloc keeps
// freed memory for reuse.
// Wrapped so that an impossible allocation asked for by a reader of a damaged file is
// a one-line error naming the file, not an abort (`alloc_guard`).
#[global_allocator]
static GLOBAL: dsaudit_core::alloc_guard::Guarded<mimalloc::MiMalloc> =
    dsaudit_core::alloc_guard::Guarded(mimalloc::MiMalloc);

fn main() {
    dsaudit_core::alloc_guard::set_limit_from_machine();
    std::process::exit(dsaudit_cli::cli::main());
}

// glibc's malloc maps and unmaps every large buffer, and a million-row table allocates
// many: page faults were 15% of a `rebalance` of the benchmark table. mimalloc keeps
// freed memory for reuse.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod cli;

fn main() {
    std::process::exit(cli::main());
}

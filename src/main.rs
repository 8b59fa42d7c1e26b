fn main() {
    std::process::exit(dsaudit::cli::main());
}

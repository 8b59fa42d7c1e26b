//! The `dsaudit` command line as a library: the binary (the root `src/main.rs`) and the Python
//! package's console script both run `cli::main_with`.

pub mod cli;

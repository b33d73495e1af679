fn main() {
    std::process::exit(clusterdoc::cli::main());
}

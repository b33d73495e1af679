fn main() {
    std::process::exit(clusterdoc::app::main());
}

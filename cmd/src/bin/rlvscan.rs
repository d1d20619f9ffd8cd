fn main() -> std::process::ExitCode {
    rlvm_cmd::main_for("rlvscan")
}

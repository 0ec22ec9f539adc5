//! The `spirelab` command: everything lives in the library, see [`spirelab::cli`].

fn main() -> std::process::ExitCode {
    spirelab::cli::main()
}

//! `runner-policy`: evaluate, test, replay and benchmark the runner-policy wasm module.

fn main() -> std::process::ExitCode {
    quiet_on_closed_pipe();
    runner_policy::cli::main()
}

/// `runner-policy replay ... | head` must end quietly when the reader goes away, as other
/// command-line tools do, not panic on the failed write: restore the default SIGPIPE action
/// that Rust's runtime replaces with "ignore".
#[cfg(unix)]
fn quiet_on_closed_pipe() {
    // SAFETY: called first thing in `main`, before any thread exists; SIG_DFL is a valid action
    // for SIGPIPE.
    #[allow(unsafe_code)]
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

#[cfg(not(unix))]
fn quiet_on_closed_pipe() {}

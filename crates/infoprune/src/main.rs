//! The `infoprune` binary: parse, run, map errors to exit codes (0 ok, 2 bad input, 1 internal).

use clap::Parser;
use infoprune::cli::Cli;

fn main() {
    // Mesa's implicit Vulkan device-select layer opens a display connection to order the GPUs and
    // prints an error on headless machines; we rank adapters ourselves, so it is switched off
    // there. Set here, before any thread exists, since setting the environment is not thread-safe.
    if std::env::var_os("XDG_RUNTIME_DIR").is_none()
        && std::env::var_os("NODEVICE_SELECT").is_none()
    {
        std::env::set_var("NODEVICE_SELECT", "1");
    }
    let cli = Cli::parse();
    if let Err(e) = infoprune::outputs::clean_up_on_signals() {
        fail(
            &format!("internal error: cannot install the signal handler: {e}"),
            1,
        );
    }
    let outcome = cli.command.run();
    if let Err(e) = outcome {
        if e.is_closed_pipe() {
            // The reader (`| head`) has what it wanted: end quietly, as Unix tools do.
            std::process::exit(0);
        }
        fail(&format!("error: {e}"), e.exit_code());
    }
}

/// Reports `message` on stderr (if stderr itself fails there is no one left to tell) and exits.
fn fail(message: &str, code: i32) -> ! {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{message}");
    std::process::exit(code);
}

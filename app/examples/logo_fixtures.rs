//! Writes the generated logo test files (and their native verdicts) into a
//! directory, for the browser tests: `cargo run -p app --features testing
//! --example logo_fixtures -- DIR`.

fn main() -> std::process::ExitCode {
    let Some(dir) = std::env::args_os().nth(1) else {
        eprintln!("usage: logo_fixtures DIR");
        return std::process::ExitCode::FAILURE;
    };
    let dir = std::path::PathBuf::from(dir);
    match app::logo::fixtures::write_all(&dir) {
        Ok(n) => {
            println!("{n} logo fixtures written to {}", dir.display());
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cannot write fixtures to {}: {e}", dir.display());
            std::process::ExitCode::FAILURE
        }
    }
}

//! `splitter INPUT.wasm OUT_DIR`: cuts the browser's wasm (built with
//! `-C link-args=--emit-relocs`) at its split points — Leptos' lazy routes,
//! one per page — with `wasm_split_cli_support`, the library cargo-leptos
//! uses. It writes into OUT_DIR:
//!
//! * `hub_split.wasm`, the main module, for wasm-bindgen to process;
//! * `split_*.wasm` and `chunk_*.wasm`, a page's own code and code that
//!   several pages share;
//! * `__wasm_split.______________________.js`, the loader the main module
//!   imports (the name Leptos links when no `split:` hash is listed); it
//!   imports `initSync` from `./hub.js`, which the build renames once hashed;
//!   when a file cannot be fetched, the loader calls
//!   `globalThis.__hubSplitLoadFailed()` (set by the browser entry, which
//!   loads the page afresh) before it tells the wasm, which then panics;
//! * `__wasm_split_manifest.json`: for each split point, the files it needs,
//!   which the server lists as preloads in a page that renders that route.

use std::{path::PathBuf, process::ExitCode};

/// The loader's file name, which the main module imports and Leptos' hydration
/// scripts preload.
const LINK_NAME: &str = "./__wasm_split.______________________.js";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, out_dir] = args.as_slice() else {
        eprintln!("usage: splitter INPUT.wasm OUT_DIR");
        return ExitCode::from(2);
    };
    match split(&PathBuf::from(input), &PathBuf::from(out_dir)) {
        Ok(count) => {
            println!("split {input} into the main module and {count} lazily loaded files");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("splitter: {e}");
            ExitCode::FAILURE
        }
    }
}

fn split(input: &std::path::Path, out_dir: &std::path::Path) -> Result<usize, String> {
    let wasm = std::fs::read(input).map_err(|e| format!("reading {}: {e}", input.display()))?;
    let main_out = out_dir.join("hub_split.wasm");
    let mut opts = wasm_split_cli_support::Options::new(&wasm);
    opts.output_dir = out_dir;
    opts.main_out_path = &main_out;
    opts.link_name = LINK_NAME;
    opts.main_module = "./hub.js";
    let split = wasm_split_cli_support::transform(opts).map_err(|e| format!("{e:#}"))?;
    hook_load_failures(&out_dir.join(LINK_NAME))?;
    // Sorted, so the same input writes the same manifest.
    let prefetch: std::collections::BTreeMap<_, _> = split.prefetch_map.into_iter().collect();
    let manifest = serde_json::to_string_pretty(&prefetch).map_err(|e| e.to_string())?;
    let manifest_path = out_dir.join("__wasm_split_manifest.json");
    std::fs::write(&manifest_path, manifest)
        .map_err(|e| format!("writing {}: {e}", manifest_path.display()))?;
    Ok(split.split_modules.len())
}

/// The loader reports a failed fetch to the wasm, which panics on it; the
/// browser entry needs to hear of it first (a release build's panics abort
/// at once, with no hook to run): insert a call to the function it sets,
/// `__hubSplitLoadFailed`, where the loader catches the failure.
fn hook_load_failures(loader: &std::path::Path) -> Result<(), String> {
    const CAUGHT: &str = "console.error(e);";
    let text = std::fs::read_to_string(loader)
        .map_err(|e| format!("reading {}: {e}", loader.display()))?;
    if text.matches(CAUGHT).count() != 1 {
        return Err(format!(
            "{}: expected one `{CAUGHT}` where the loader catches a failed load \
             (did wasm_split_cli_support change?)",
            loader.display()
        ));
    }
    let hooked = text.replace(
        CAUGHT,
        "console.error(e); globalThis.__hubSplitLoadFailed?.();",
    );
    std::fs::write(loader, hooked).map_err(|e| format!("writing {}: {e}", loader.display()))
}

//! The layering ARCHITECTURE.md promises, checked on the source itself so it
//! cannot drift: the domain core imports nothing outside it, nothing imports
//! the command line, the simulator is used only by the command line (demo,
//! simulate) and tests, each outside system has one owner (HTTP has two:
//! the API client and the alert webhook), and the top-level
//! modules import each other without a circle. Test-only code (after a
//! `#[cfg(test)]`) is exempt: unit tests may drive the simulator.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// The module path of a source file: `src/store/rows.rs` → `store::rows`.
fn module_of(root: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(root).unwrap().with_extension("");
    let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts.join("::")
}

/// The file's code before its first `#[cfg(test)]`, comments left out.
fn product_code(text: &str) -> String {
    let code = text.split("#[cfg(test)]").next().unwrap_or_default();
    code.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level modules of `crate::…` paths in `code`.
fn crate_refs(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (i, _) in code.match_indices("crate::") {
        let before = code[..i].chars().last();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // e.g. `gstvault_crate::`
        }
        let name: String = code[i + 7..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            out.insert(name);
        }
    }
    out
}

struct Source {
    module: String,
    code: String,
}

fn product_sources() -> Vec<Source> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    sources(&root)
        .into_iter()
        .map(|file| Source {
            module: module_of(&root, &file),
            code: product_code(&std::fs::read_to_string(&file).unwrap()),
        })
        .collect()
}

fn top(module: &str) -> &str {
    module.split("::").next().unwrap_or(module)
}

#[test]
fn the_domain_core_imports_nothing_outside_it() {
    for s in product_sources().iter().filter(|s| top(&s.module) == "domain") {
        let outside: Vec<String> = crate_refs(&s.code).into_iter().filter(|m| m != "domain").collect();
        assert!(outside.is_empty(), "{} imports {outside:?}", s.module);
        for io in [
            "std::fs",
            "std::net",
            "tokio::",
            "rusqlite",
            "reqwest",
            "Utc::now",
            "SystemTime::now",
        ] {
            assert!(!s.code.contains(io), "{} does IO or reads a clock: {io}", s.module);
        }
    }
}

#[test]
fn nothing_imports_the_command_line_and_the_simulator_stays_in_its_place() {
    for s in product_sources() {
        let refs = crate_refs(&s.code);
        if top(&s.module) != "cli" {
            assert!(!refs.contains("cli"), "{} imports the CLI", s.module);
        }
        if !matches!(top(&s.module), "cli" | "sim") {
            assert!(!refs.contains("sim"), "{} uses the simulator", s.module);
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for dir in ["tests", "bench", "examples"] {
        for file in sources(&root.join(dir)) {
            let text = std::fs::read_to_string(&file).unwrap();
            assert!(
                !text.contains(&["gstvault", "cli"].join("::")),
                "{} imports the CLI; use cases are in gstvault::app",
                file.display()
            );
        }
    }
}

#[test]
fn each_outside_system_has_one_owner() {
    // (what, the modules allowed to use it)
    let owners: [(&str, &[&str]); 11] = [
        ("rusqlite", &["store"]),
        // The API client, and the alert webhook (daemon::alerts).
        ("reqwest", &["capture::client", "daemon::alerts"]),
        ("lettre", &["daemon::alerts"]),
        ("clap", &["cli", "main"]),
        ("zip::", &["evidence::bundle"]),
        ("printpdf", &["evidence::pdf"]),
        ("rust_xlsxwriter", &["evidence::workbook"]),
        ("axum", &["daemon", "sim", "web"]),
        ("minijinja", &["web"]),
        // Password hashing: the accounts' use cases only.
        ("argon2", &["app::users"]),
        // The password prompt.
        ("rpassword", &["cli"]),
    ];
    for s in product_sources() {
        for (what, allowed) in owners {
            if s.code.contains(what) {
                assert!(
                    allowed
                        .iter()
                        .any(|a| s.module == *a || s.module.starts_with(&format!("{a}::"))),
                    "{} uses {what}, which belongs to {allowed:?}",
                    s.module
                );
            }
        }
    }
}

/// The layers of ARCHITECTURE.md, top first: a module may use only its own
/// layer's modules it names here and the layers above.
const LAYERS: &[&[&str]] = &[
    &["domain"],
    &["config", "clock", "files", "logging"],
    &["store", "sim"],
    &["capture", "evidence"],
    &["query"],
    &["app"],
    &["web", "render"],
    &["daemon"],
    &["cli"],
];

#[test]
fn each_layer_uses_only_the_layers_above_it() {
    let layer_of = |m: &str| LAYERS.iter().position(|l| l.contains(&m));
    for s in product_sources() {
        let me = top(&s.module);
        if me == "main" || me == "lib" {
            continue;
        }
        let Some(mine) = layer_of(me) else {
            panic!("{} is in no layer of ARCHITECTURE.md", s.module);
        };
        for used in crate_refs(&s.code) {
            let theirs = layer_of(&used).unwrap_or_else(|| panic!("{} uses {used}, in no layer", s.module));
            let allowed = theirs < mine || (theirs == mine && (used == me || LAYERS[mine].len() == 1));
            // Within a layer, modules do not use each other (`logging` may read `config`).
            let allowed = allowed || (me == "logging" && used == "config");
            assert!(allowed, "{} (layer {mine}) uses {used} (layer {theirs})", s.module);
        }
    }
}

#[test]
fn top_level_modules_form_no_circle() {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for s in product_sources() {
        let me = top(&s.module).to_string();
        let refs: BTreeSet<String> = crate_refs(&s.code).into_iter().filter(|m| *m != me).collect();
        graph.entry(me).or_default().extend(refs);
    }
    // Depth-first search for a back edge, reporting the circle it closes.
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == node) {
            let mut circle = path[at..].to_vec();
            circle.push(node.to_string());
            return Some(circle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(circle) = visit(next, graph, path, done) {
                return Some(circle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        if let Some(circle) = visit(node, &graph, &mut Vec::new(), &mut done) {
            panic!("import circle: {}", circle.join(" -> "));
        }
    }
}

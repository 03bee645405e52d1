//! The import graph runs one way: main → http/config → services → store → the pure layer below. A module
//! that reaches upwards (say `edit` into `http`) fails this test, which names the file and the line.

use std::path::Path;

/// Top-level modules of the library by layer, lowest first. A module may use its own layer and those
/// below; services may use each other.
const LAYERS: &[&[&str]] = &[
    // Pure: types, geometry, reference data, rules, caches; no I/O.
    &["domain", "spatial", "geography", "rules", "collections", "crs", "vnenc", "cache"],
    // Where the inventory is kept.
    &["store"],
    // What landbank does with it.
    &[
        "occupancy",
        "available",
        "report",
        "tiles",
        "import",
        "export",
        "edit",
        "ingest",
        "demo",
        "synthetic",
        "auth",
    ],
    // How people reach it.
    &["http", "config"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

fn visit(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            visit(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

#[test]
fn no_module_imports_a_layer_above_its_own() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    visit(&src, &mut files);
    let mut checked = 0;
    let mut wrong = Vec::new();
    for file in files {
        let relative = file.strip_prefix(&src).unwrap();
        let module = relative
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        if matches!(module.as_str(), "main" | "lib") {
            continue;
        }
        let own = layer_of(&module).unwrap_or_else(|| {
            panic!("src/{}: module '{module}' is in no layer of this test", relative.display())
        });
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            for (i, _) in line.match_indices("crate::") {
                let rest = &line[i + 7..];
                // `crate::x::…` or `crate::{x, y::…}` (a group on one line).
                let names: Vec<String> = match rest.strip_prefix('{') {
                    Some(group) => group
                        .split('}')
                        .next()
                        .unwrap_or_default()
                        .split(',')
                        .map(|n| {
                            n.trim().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect()
                        })
                        .collect(),
                    None => {
                        vec![rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect()]
                    }
                };
                for used in names {
                    let Some(theirs) = layer_of(&used) else { continue };
                    checked += 1;
                    if theirs > own {
                        wrong.push(format!(
                            "src/{}:{}: {module} uses crate::{used}, a layer above it",
                            relative.display(),
                            n + 1
                        ));
                    }
                }
            }
        }
    }
    assert!(checked > 100, "only {checked} uses of crate:: found");
    assert!(wrong.is_empty(), "imports against the layers:\n{}", wrong.join("\n"));
}

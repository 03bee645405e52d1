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
        "register",
        "report",
        "tiles",
        "warm",
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

/// The first names a path reaches after `prefix` (`super::` or `crate::`) in the code of `text` (not
/// its comments): `super::geojson::x` → `geojson`; `super::{a, b::c}` → `a`, `b` (groups may span lines).
fn names_after(text: &str, prefix: &str) -> Vec<String> {
    let code: String =
        text.lines().filter(|l| !l.trim_start().starts_with("//")).flat_map(|l| [l, "\n"]).collect();
    let text = code.as_str();
    let ident = |s: &str| -> String {
        s.trim().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect()
    };
    let mut names = Vec::new();
    for (i, _) in text.match_indices(prefix) {
        let rest = &text[i + prefix.len()..];
        match rest.strip_prefix('{') {
            Some(group) => {
                let group = group.split('}').next().unwrap_or_default();
                names.extend(group.split(',').map(ident).filter(|n| !n.is_empty()));
            }
            None => names.push(ident(rest)),
        }
    }
    names
}

/// Modules of one directory: its `.rs` files (but `mod.rs`, `lib.rs`, `main.rs`) and its subdirectories,
/// each with every file that belongs to it.
fn modules_of(dir: &Path) -> Vec<(String, Vec<std::path::PathBuf>)> {
    let mut modules = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        if path.is_dir() {
            let mut files = Vec::new();
            visit(&path, &mut files);
            modules.push((name, files));
        } else if path.extension().is_some_and(|e| e == "rs")
            && !matches!(name.as_str(), "mod" | "lib" | "main")
        {
            modules.push((name, vec![path]));
        }
    }
    modules
}

/// A cycle in `edges` (module → modules it uses), if any, as the modules along it.
fn cycle(
    edges: &std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
) -> Option<Vec<String>> {
    fn walk(
        node: &str,
        edges: &std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut std::collections::BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == node) {
            let mut found = path[at..].to_vec();
            found.push(node.to_string());
            return Some(found);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(found) = walk(next, edges, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = std::collections::BTreeSet::new();
    edges.keys().find_map(|start| walk(start, edges, &mut Vec::new(), &mut done))
}

/// No two modules use each other, directly or through others: not the top-level modules (`crate::`),
/// and not the files of one directory (`super::`), such as the resources of `http/`.
#[test]
fn no_two_modules_use_each_other() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graphs = vec![("src".to_string(), {
        let modules = modules_of(&src);
        let names: Vec<String> = modules.iter().map(|(n, _)| n.clone()).collect();
        modules
            .into_iter()
            .map(|(name, files)| {
                let text: String = files.iter().map(|f| std::fs::read_to_string(f).unwrap()).collect();
                let uses = names_after(&text, "crate::")
                    .into_iter()
                    .filter(|u| names.contains(u) && *u != name)
                    .collect();
                (name, uses)
            })
            .collect::<std::collections::BTreeMap<String, std::collections::BTreeSet<String>>>()
    })];
    for entry in std::fs::read_dir(&src).unwrap() {
        let dir = entry.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        let modules = modules_of(&dir);
        let names: Vec<String> = modules.iter().map(|(n, _)| n.clone()).collect();
        let graph = modules
            .iter()
            .filter(|(_, files)| files.len() == 1)
            .map(|(name, files)| {
                let text = std::fs::read_to_string(&files[0]).unwrap();
                let uses =
                    names_after(&text, "super::").into_iter().filter(|u| names.contains(u) && u != name);
                (name.clone(), uses.collect())
            })
            .collect();
        graphs.push((format!("src/{}", dir.file_name().unwrap().to_string_lossy()), graph));
    }
    let edges: usize = graphs.iter().map(|(_, g)| g.values().map(|s| s.len()).sum::<usize>()).sum();
    assert!(edges > 50, "only {edges} uses between modules found: the scan is broken");
    let cycles: Vec<String> = graphs
        .iter()
        .filter_map(|(dir, graph)| cycle(graph).map(|c| format!("{dir}: {}", c.join(" → "))))
        .collect();
    assert!(
        cycles.is_empty(),
        "modules that use each other (one of them should move its shared part down):\n{}",
        cycles.join("\n")
    );
}

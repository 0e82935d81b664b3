//! No module of a workspace crate imports, directly or through others, a module that imports it.
//!
//! Every `crates/*/src` tree is parsed (with `syn`, so comments, strings and doc links never count)
//! into its module graph: an edge `A → B` for every path written in `A` (a `use`, a type, a call, a
//! path inside a macro call) that names an item `B` defines or the module `B` itself. Paths are
//! resolved the way the compiler does: `crate::`, `self::`, `super::`, child modules and names
//! brought in by `use`. A path that reaches its item through a re-export (`pub use`) depends on
//! every module it passes through that way and on the module that defines the item: importing
//! `crate::solver::Problem` depends on `solver` and on `solver::problem`. Walking down to a child
//! (`crate::solver::relaxed::maximize`) is not an import of the parent. Declaring `mod child;` is not
//! an edge; inline modules (`mod tests { … }`) are modules of their own. The check fails on any
//! cycle and prints it with the path behind each edge.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use proc_macro2::{TokenStream, TokenTree};
use syn::visit::Visit;

/// Crates whose module graph must be acyclic: every crate of the workspace.
const CHECKED: &[&str] = &["infoprune", "infoprune-core", "infoprune-wgpu"];

type ModuleId = Vec<String>;

fn show(id: &[String]) -> String {
    if id.is_empty() {
        "crate".into()
    } else {
        id.join("::")
    }
}

/// A `use` binding: `name` (the last segment, its rename, or `None` for a glob) to `path`.
#[derive(Debug, Clone)]
struct UseBinding {
    name: Option<String>,
    path: Vec<String>,
}

#[derive(Debug, Default)]
struct Module {
    children: BTreeSet<String>,
    /// Names of the items defined here (functions, types, constants, macros …).
    items: BTreeSet<String>,
    uses: Vec<UseBinding>,
    /// Every multi-segment path written here, as text segments.
    paths: Vec<Vec<String>>,
}

#[derive(Debug, Default)]
struct Graph {
    modules: BTreeMap<ModuleId, Module>,
}

/// What a path names: a module, or an item defined in a module.
#[derive(Debug, Clone, PartialEq)]
enum Target {
    Module(ModuleId),
    Item(ModuleId),
}

impl Target {
    fn module(&self) -> &ModuleId {
        match self {
            Target::Module(m) | Target::Item(m) => m,
        }
    }
}

/// Loads a crate from its root file (`lib.rs` or `main.rs`), following `mod name;` to files.
fn load_crate(root: &Path) -> Result<Graph, String> {
    let mut graph = Graph::default();
    load_file(&mut graph, Vec::new(), root, true)?;
    Ok(graph)
}

fn load_file(graph: &mut Graph, id: ModuleId, file: &Path, owns_dir: bool) -> Result<(), String> {
    let source = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let parsed = syn::parse_file(&source).map_err(|e| format!("{}: {e}", file.display()))?;
    // Children of `lib.rs`/`mod.rs` live beside it; those of `foo.rs` in `foo/`.
    let dir = if owns_dir {
        file.parent().unwrap().to_path_buf()
    } else {
        file.with_extension("")
    };
    load_items(graph, id, &parsed.items, Some(&dir))
}

fn load_items(
    graph: &mut Graph,
    id: ModuleId,
    items: &[syn::Item],
    dir: Option<&Path>,
) -> Result<(), String> {
    let mut module = Module::default();
    let mut nested = Vec::new();
    for item in items {
        match item {
            syn::Item::Mod(m) => {
                let name = m.ident.to_string();
                module.children.insert(name.clone());
                let mut child = id.clone();
                child.push(name.clone());
                match &m.content {
                    Some((_, inner)) => nested.push((child, inner)),
                    None => {
                        let dir = dir.ok_or_else(|| {
                            format!("{}: file module inside an inline module", show(&child))
                        })?;
                        let path = path_attribute(&m.attrs)
                            .map(|p| dir.join(p))
                            .unwrap_or_else(|| dir.join(format!("{name}.rs")));
                        if path.exists() {
                            let owns = path.file_name().is_some_and(|f| f == "mod.rs");
                            load_file(graph, child, &path, owns)?;
                        } else {
                            let path = dir.join(&name).join("mod.rs");
                            load_file(graph, child, &path, true)?;
                        }
                    }
                }
            }
            syn::Item::Use(u) => {
                let mut bindings = Vec::new();
                flatten_use(&u.tree, &mut Vec::new(), &mut bindings);
                module.paths.extend(bindings.iter().map(|b| b.path.clone()));
                module.uses.extend(bindings);
            }
            other => {
                if let Some(name) = item_name(other) {
                    module.items.insert(name);
                }
                let mut collector = PathCollector::default();
                collector.visit_item(other);
                module.paths.extend(collector.paths);
            }
        }
    }
    graph.modules.insert(id, module);
    for (child, inner) in nested {
        load_items(graph, child, inner, None)?;
    }
    Ok(())
}

fn path_attribute(attrs: &[syn::Attribute]) -> Option<String> {
    attrs.iter().find_map(|a| match &a.meta {
        syn::Meta::NameValue(nv) if nv.path.is_ident("path") => match &nv.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => Some(s.value()),
            _ => None,
        },
        _ => None,
    })
}

fn item_name(item: &syn::Item) -> Option<String> {
    let ident = match item {
        syn::Item::Const(i) => &i.ident,
        syn::Item::Enum(i) => &i.ident,
        syn::Item::Fn(i) => &i.sig.ident,
        syn::Item::Static(i) => &i.ident,
        syn::Item::Struct(i) => &i.ident,
        syn::Item::Trait(i) => &i.ident,
        syn::Item::TraitAlias(i) => &i.ident,
        syn::Item::Type(i) => &i.ident,
        syn::Item::Union(i) => &i.ident,
        syn::Item::Macro(i) => i.ident.as_ref()?,
        _ => return None,
    };
    Some(ident.to_string())
}

fn flatten_use(tree: &syn::UseTree, prefix: &mut Vec<String>, out: &mut Vec<UseBinding>) {
    match tree {
        syn::UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            flatten_use(&p.tree, prefix, out);
            prefix.pop();
        }
        syn::UseTree::Name(n) if n.ident == "self" => out.push(UseBinding {
            name: prefix.last().cloned(),
            path: prefix.clone(),
        }),
        syn::UseTree::Name(n) => {
            let mut path = prefix.clone();
            path.push(n.ident.to_string());
            out.push(UseBinding {
                name: Some(n.ident.to_string()),
                path,
            });
        }
        syn::UseTree::Rename(r) => {
            let mut path = prefix.clone();
            if r.ident != "self" {
                path.push(r.ident.to_string());
            }
            out.push(UseBinding {
                name: Some(r.rename.to_string()),
                path,
            });
        }
        syn::UseTree::Glob(_) => out.push(UseBinding {
            name: None,
            path: prefix.clone(),
        }),
        syn::UseTree::Group(g) => {
            for t in &g.items {
                flatten_use(t, prefix, out);
            }
        }
    }
}

/// Collects every path of two or more segments in an item, including those inside macro calls.
#[derive(Default)]
struct PathCollector {
    paths: Vec<Vec<String>>,
}

impl<'ast> Visit<'ast> for PathCollector {
    fn visit_path(&mut self, path: &'ast syn::Path) {
        if path.leading_colon.is_none() && path.segments.len() > 1 {
            self.paths
                .push(path.segments.iter().map(|s| s.ident.to_string()).collect());
        }
        syn::visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.visit_path(&mac.path);
        token_paths(mac.tokens.clone(), &mut self.paths);
    }

    fn visit_item_mod(&mut self, _: &'ast syn::ItemMod) {
        // Nested inline modules are modules of their own (only reached inside function bodies).
    }
}

/// `a::b::c` sequences in a token stream (macro arguments and `macro_rules!` bodies, where
/// `$crate` counts as `crate`).
fn token_paths(tokens: TokenStream, out: &mut Vec<Vec<String>>) {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i] {
            TokenTree::Group(g) => {
                token_paths(g.stream(), out);
                i += 1;
            }
            TokenTree::Ident(first) => {
                let after_colons = i > 0 && is_colon(&tokens[i - 1]);
                let mut path = vec![first.to_string()];
                let mut j = i + 1;
                while j + 2 < tokens.len() && is_colon(&tokens[j]) && is_colon(&tokens[j + 1]) {
                    match &tokens[j + 2] {
                        TokenTree::Ident(next) => {
                            path.push(next.to_string());
                            j += 3;
                        }
                        _ => break,
                    }
                }
                if path.len() > 1 && !after_colons {
                    out.push(path);
                }
                i = j.max(i + 1);
            }
            _ => i += 1,
        }
    }
}

fn is_colon(t: &TokenTree) -> bool {
    matches!(t, TokenTree::Punct(p) if p.as_char() == ':')
}

impl Graph {
    /// Resolves `path` written in module `from`; `None` for paths outside the crate. Every module
    /// whose `use` re-exports a name along the way is added to `through`.
    fn resolve(
        &self,
        from: &ModuleId,
        path: &[String],
        through: &mut Vec<ModuleId>,
        depth: usize,
    ) -> Option<Target> {
        if depth > 32 || path.is_empty() {
            return None;
        }
        let (mut current, rest) = match path[0].as_str() {
            "crate" => (Vec::new(), &path[1..]),
            "self" => (from.clone(), &path[1..]),
            "super" => {
                let mut m = from.clone();
                let mut rest = path;
                while rest.first().is_some_and(|s| s == "super") {
                    m.pop()?;
                    rest = &rest[1..];
                }
                (m, rest)
            }
            // A child module or a name this module imports; anything else is outside the crate
            // (`std::`) or local (`Self::`, a variant of a type defined here).
            first => match self.lookup(from, first, through, depth)? {
                Target::Module(m) => (m, &path[1..]),
                item => return Some(item),
            },
        };
        for segment in rest {
            match self.lookup(&current, segment, through, depth) {
                Some(Target::Module(m)) => current = m,
                Some(item) => return Some(item),
                // A variant or an associated item of something defined here.
                None => return Some(Target::Item(current)),
            }
        }
        Some(Target::Module(current))
    }

    /// What `name` means inside `module`: a child module, an item defined there, or a name one
    /// of its `use`s brings in (named first, then globs).
    fn lookup(
        &self,
        module: &ModuleId,
        name: &str,
        through: &mut Vec<ModuleId>,
        depth: usize,
    ) -> Option<Target> {
        let m = self.modules.get(module)?;
        if m.children.contains(name) {
            let mut child = module.clone();
            child.push(name.to_string());
            return Some(Target::Module(child));
        }
        if m.items.contains(name) {
            return Some(Target::Item(module.clone()));
        }
        if let Some(binding) = m.uses.iter().find(|u| u.name.as_deref() == Some(name)) {
            through.push(module.clone());
            return self.resolve(module, &binding.path, through, depth + 1);
        }
        for glob in m.uses.iter().filter(|u| u.name.is_none()) {
            let mut hops = Vec::new();
            if let Some(Target::Module(g)) = self.resolve(module, &glob.path, &mut hops, depth + 1)
            {
                if let Some(target) = self.lookup(&g, name, &mut hops, depth + 1) {
                    through.push(module.clone());
                    through.extend(hops);
                    return Some(target);
                }
            }
        }
        None
    }

    /// Edges `from → to` with the path text behind the first one found.
    fn edges(&self) -> BTreeMap<ModuleId, BTreeMap<ModuleId, String>> {
        let mut edges: BTreeMap<ModuleId, BTreeMap<ModuleId, String>> = BTreeMap::new();
        for (id, module) in &self.modules {
            let out = edges.entry(id.clone()).or_default();
            for path in &module.paths {
                let mut through = Vec::new();
                if let Some(target) = self.resolve(id, path, &mut through, 0) {
                    through.push(target.module().clone());
                    for to in through.into_iter().filter(|to| to != id) {
                        out.entry(to).or_insert_with(|| path.join("::"));
                    }
                }
            }
        }
        edges
    }

    /// Every cycle of the module graph, one per strongly connected component, each shown as
    /// `a → b (via path) → … → a`.
    fn cycles(&self) -> Vec<String> {
        let edges = self.edges();
        let mut found = Vec::new();
        for component in strongly_connected(&edges) {
            let single = component.len() == 1;
            if single {
                continue;
            }
            found.push(describe_cycle(&edges, &component));
        }
        found
    }
}

/// Tarjan's algorithm over the edge map.
fn strongly_connected(
    edges: &BTreeMap<ModuleId, BTreeMap<ModuleId, String>>,
) -> Vec<Vec<ModuleId>> {
    struct State<'a> {
        edges: &'a BTreeMap<ModuleId, BTreeMap<ModuleId, String>>,
        index: BTreeMap<&'a ModuleId, usize>,
        low: BTreeMap<&'a ModuleId, usize>,
        stack: Vec<&'a ModuleId>,
        on_stack: BTreeSet<&'a ModuleId>,
        out: Vec<Vec<ModuleId>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a ModuleId) {
        let i = s.index.len();
        s.index.insert(v, i);
        s.low.insert(v, i);
        s.stack.push(v);
        s.on_stack.insert(v);
        for w in s.edges.get(v).into_iter().flat_map(|m| m.keys()) {
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if s.on_stack.contains(w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            loop {
                let w = s.stack.pop().unwrap();
                s.on_stack.remove(w);
                component.push(w.clone());
                if w == v {
                    break;
                }
            }
            component.sort();
            s.out.push(component);
        }
    }
    let mut state = State {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in edges.keys() {
        if !state.index.contains_key(v) {
            visit(&mut state, v);
        }
    }
    state.out
}

/// One concrete cycle through the component's first module, by breadth-first search back to it,
/// followed by the component's other members.
fn describe_cycle(
    edges: &BTreeMap<ModuleId, BTreeMap<ModuleId, String>>,
    component: &[ModuleId],
) -> String {
    let members: BTreeSet<&ModuleId> = component.iter().collect();
    let start = &component[0];
    let mut parent: BTreeMap<&ModuleId, &ModuleId> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    let mut closing = None;
    'search: while let Some(v) = queue.pop_front() {
        for w in edges[v].keys().filter(|w| members.contains(w)) {
            if w == start {
                closing = Some(v);
                break 'search;
            }
            if !parent.contains_key(w) {
                parent.insert(w, v);
                queue.push_back(w);
            }
        }
    }
    let mut back = Vec::new();
    let mut v = closing.expect("a component of two or more modules has a cycle");
    while v != start {
        back.push(v.clone());
        v = parent[v];
    }
    let mut chain = vec![start.clone()];
    chain.extend(back.into_iter().rev());
    chain.push(start.clone());
    let mut text = show(&chain[0]);
    for pair in chain.windows(2) {
        let via = &edges[&pair[0]][&pair[1]];
        write!(text, " → {} (via `{via}`)", show(&pair[1])).unwrap();
    }
    if component.len() + 1 > chain.len() {
        let inside: Vec<String> = component
            .iter()
            .flat_map(|a| {
                edges[a]
                    .iter()
                    .filter(|(b, _)| members.contains(b))
                    .map(move |(b, via)| format!("{} → {} (via `{via}`)", show(a), show(b)))
            })
            .collect();
        write!(
            text,
            "; every edge among its modules: {}",
            inside.join(", ")
        )
        .unwrap();
    }
    text
}

fn crates_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The crate roots of one package: `lib.rs`, `main.rs` and `bin/*.rs`.
fn roots(package: &str) -> Vec<PathBuf> {
    let src = crates_dir().join(package).join("src");
    let mut roots: Vec<PathBuf> = ["lib.rs", "main.rs"]
        .iter()
        .map(|f| src.join(f))
        .filter(|p| p.exists())
        .collect();
    if let Ok(bins) = std::fs::read_dir(src.join("bin")) {
        roots.extend(bins.filter_map(|e| e.ok()).map(|e| e.path()));
    }
    assert!(!roots.is_empty(), "{}: no crate root", src.display());
    roots
}

fn cycles_of(package: &str) -> Vec<String> {
    let mut all = Vec::new();
    for root in roots(package) {
        let graph = load_crate(&root).unwrap_or_else(|e| panic!("{e}"));
        let name = root
            .strip_prefix(crates_dir())
            .unwrap()
            .display()
            .to_string();
        all.extend(graph.cycles().into_iter().map(|c| format!("{name}: {c}")));
    }
    all
}

fn assert_acyclic(package: &str) {
    let cycles = cycles_of(package);
    assert!(
        cycles.is_empty(),
        "module import cycles in {package}:\n  {}",
        cycles.join("\n  ")
    );
}

#[test]
fn core_has_no_module_cycles() {
    assert_acyclic("infoprune-core");
}

#[test]
fn wgpu_has_no_module_cycles() {
    assert_acyclic("infoprune-wgpu");
}

#[test]
fn front_has_no_module_cycles() {
    assert_acyclic("infoprune");
}

#[test]
fn every_crate_is_checked_or_pending() {
    let mut listed: Vec<&str> = CHECKED.to_vec();
    listed.sort_unstable();
    let mut found: Vec<String> = std::fs::read_dir(crates_dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("Cargo.toml").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    found.sort_unstable();
    assert_eq!(found, listed, "add the new crate to CHECKED");
}

/// The checker itself, on a crate written to a temporary directory.
mod checker {
    use super::*;

    fn crate_from(name: &str, files: &[(&str, &str)]) -> Graph {
        let dir = std::env::temp_dir().join(format!("module-cycles-{}-{name}", std::process::id()));
        for (path, text) in files {
            let path = dir.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let graph = load_crate(&dir.join("lib.rs")).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        graph
    }

    #[test]
    fn finds_a_cycle_through_a_parent_and_its_child() {
        // The shape this crate used to have: solver/mod.rs calls its child, which imports the
        // parent's types.
        let graph = crate_from(
            "parent_child",
            &[
                ("lib.rs", "pub mod solver;"),
                (
                    "solver/mod.rs",
                    "pub mod relaxed; pub struct Config; pub fn run() { relaxed::go(); }",
                ),
                ("solver/relaxed.rs", "use super::Config; pub fn go() {}"),
            ],
        );
        let cycles = graph.cycles();
        assert_eq!(
            cycles,
            ["solver → solver::relaxed (via `relaxed::go`) → solver (via `super::Config`)"]
        );
    }

    #[test]
    fn a_re_export_is_an_import_of_the_module_that_re_exports() {
        // `objective` takes `Problem` through `solver`'s re-export while `solver` calls
        // `objective`: a cycle, gone once `objective` imports the defining module.
        let files = |objective: &'static str| {
            [
                ("lib.rs", "pub mod objective; pub mod solver;"),
                (
                    "solver/mod.rs",
                    "pub mod problem; pub use problem::Problem; \
                     pub fn solve() { crate::objective::f(); }",
                ),
                ("solver/problem.rs", "pub struct Problem;"),
                ("objective.rs", objective),
            ]
        };
        let graph = crate_from(
            "reexport",
            &files("use crate::solver::Problem; pub fn f() {}"),
        );
        assert_eq!(
            graph.cycles(),
            ["objective → solver (via `crate::solver::Problem`) → objective (via `crate::objective::f`)"]
        );
        let graph = crate_from(
            "direct",
            &files("use crate::solver::problem::Problem; pub fn f() {}"),
        );
        assert!(graph.cycles().is_empty(), "{:?}", graph.cycles());
        let objective = vec!["objective".to_string()];
        let problem = vec!["solver".to_string(), "problem".to_string()];
        assert!(graph.edges()[&objective].contains_key(&problem));
    }

    #[test]
    fn finds_longer_cycles_through_macros_and_types() {
        let graph = crate_from(
            "longer",
            &[
                ("lib.rs", "mod a; mod b; mod c; mod d;"),
                ("a.rs", "pub struct A(pub crate::b::B);"),
                (
                    "b.rs",
                    "pub struct B; fn f() { println!(\"{}\", crate::c::C); }",
                ),
                (
                    "c.rs",
                    "pub const C: u8 = 0; fn g() -> Vec<super::a::A> { vec![] }",
                ),
                // Comments, strings and doc links never count.
                (
                    "d.rs",
                    "/// [`crate::a::A`]\n fn h() { let _ = \"crate::a::A\"; } // crate::a",
                ),
            ],
        );
        assert_eq!(
            graph.cycles(),
            ["a → b (via `crate::b::B`) → c (via `crate::c::C`) → a (via `super::a::A`)"]
        );
    }

    #[test]
    fn inline_test_modules_are_their_own_modules() {
        let graph = crate_from(
            "inline",
            &[
                ("lib.rs", "mod a; mod b;"),
                (
                    "a.rs",
                    "pub fn f() {} #[cfg(test)] mod tests { use super::*; use crate::b::g; }",
                ),
                ("b.rs", "pub fn g() { crate::a::f() }"),
            ],
        );
        assert!(graph.cycles().is_empty(), "{:?}", graph.cycles());
    }
}

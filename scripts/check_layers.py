#!/usr/bin/env python3
"""Architecture check for the `app` crate: module layering under app/src/.

Usage: scripts/check_layers.py [--root DIR] [--dot] [--self-test]

Every top-level module (the first path component under app/src; lib.rs is the
crate root and is not a source of edges) is a node. A file of module A that
names `crate::B::...` (or `$crate::B::...`) in a `use` statement, grouped
`use crate::{..}` tree, inline path or attribute string adds the edge A -> B.
Comments are ignored. The check fails (exit 1) when:

  * the module graph has a cycle (each strongly connected component with more
    than one module is printed, with one example file:line per edge), or
  * a file that is not a view file (`*views*.rs`) reaches into another
    feature's `api` or `store` (`crate::B::api`, `crate::B::store`). Shared
    modules (SHARED below) are not features and must not reach into any
    feature's api or store either.

A summary line gives the counts, plus the five largest files and five longest
functions (approximate: `fn` to its matching brace). --dot prints the module
graph in Graphviz form instead of the report (exit 0). --self-test checks the
rules against small synthetic trees.
"""
from __future__ import annotations

import argparse
import re
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

SHARED = {"domain", "error", "wire", "db", "core", "ui", "testing", "demo"}
LAYERS = {"api", "store"}
IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
RAW_STRING = re.compile(r'b?r(#*)"')


def strip(text: str, keep_strings: bool) -> str:
    """Blank out comments (and string/char contents unless keep_strings),
    keeping every newline so that offsets still map to the same lines."""
    out, i, n = [], 0, len(text)

    def blank(s: str) -> str:
        return "".join(c if c == "\n" else " " for c in s)

    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(blank(text[i:j]))
            i = j
        elif text.startswith("/*", i):
            depth, j = 1, i + 2  # Rust block comments nest
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(blank(text[i:j]))
            i = j
        elif (m := RAW_STRING.match(text, i)) and (
            i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")
        ):
            end = text.find('"' + m.group(1), m.end())
            j = n if end < 0 else end + 1 + len(m.group(1))
            body = text[m.end() : j - 1 - len(m.group(1))]
            out.append(text[i : m.end()] + (body if keep_strings else blank(body)))
            out.append(text[j - 1 - len(m.group(1)) : j])
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            body = text[i + 1 : j]
            out.append('"' + (body if keep_strings else blank(body)) + '"')
            i = j + 1
        elif c == "'":
            # char literal ('x', '\n', '\u{..}') or a lifetime ('a, 'static)
            if i + 1 < n and text[i + 1] == "\\":
                j = text.find("'", i + 2)
            elif i + 2 < n and text[i + 2] == "'":
                j = i + 2
            else:
                j = -1
            if j < 0:
                out.append(c)
                i += 1
            else:
                body = text[i + 1 : j]
                out.append("'" + (body if keep_strings else blank(body)) + "'")
                i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def parse_paths(code: str, pos: int) -> list[list[tuple[str, int]]]:
    """Expand the path tree that starts at `pos` (just after `crate::`) into
    flat paths of (segment, offset), following `{a::b, c::{d, e}}` groups."""

    def skip_ws(p: int) -> int:
        while p < len(code) and code[p].isspace():
            p += 1
        return p

    def tree(p: int) -> tuple[list[list[tuple[str, int]]], int]:
        p = skip_ws(p)
        if p < len(code) and code[p] == "{":
            paths, p = [], p + 1
            while True:
                p = skip_ws(p)
                if p >= len(code) or code[p] == "}":
                    return paths, p + 1
                if code[p] == ",":
                    p += 1
                    continue
                sub, q = tree(p)
                if q == p:  # unexpected token: give up on this group
                    return paths, p
                paths += sub
                p = q
        m = IDENT.match(code, p)
        if not m:
            return ([] if code[p : p + 1] != "*" else [[]]), p + (code[p : p + 1] == "*")
        seg, p = (m.group(), m.start()), m.end()
        q = skip_ws(p)
        if code.startswith("::", q):
            rest, r = tree(q + 2)
            return [[seg] + r_ for r_ in rest] or [[seg]], r
        if code.startswith("as", q) and (m2 := IDENT.match(code, skip_ws(q + 2))):
            p = m2.end()  # `x as y`: the path is still x
        return [[seg]], p

    return tree(pos)[0]


def module_of(rel: Path) -> str:
    return rel.parts[0].removesuffix(".rs")


def functions(code: str) -> list[tuple[str, int, int]]:
    """(name, start offset, length in lines) of every `fn` item with a body."""
    found = []
    for m in re.finditer(r"\bfn\s+([A-Za-z_][A-Za-z0-9_]*)", code):
        depth, j = 0, m.end()
        while j < len(code):  # find the body's `{` (or `;` if none)
            ch = code[j]
            if ch in "([<":
                depth += 1
            elif ch in ")]>" and not (ch == ">" and code[j - 1] == "-"):
                depth -= 1
            elif ch in "{;" and depth <= 0:
                break
            j += 1
        if j >= len(code) or code[j] == ";":
            continue
        braces, k = 0, j
        while k < len(code):
            braces += {"{": 1, "}": -1}.get(code[k], 0)
            if braces == 0:
                break
            k += 1
        lines = code.count("\n", m.start(), k) + 1
        found.append((m.group(1), m.start(), lines))
    return found


def analyse(root: Path) -> dict:
    src = root / "app" / "src"
    files = sorted(p for p in src.rglob("*.rs"))
    # crate::B only counts when B is a module under app/src (not a lib.rs
    # item such as crate::shell or an exported macro like crate::both_backends!)
    modules = {module_of(p.relative_to(src)) for p in files if p != src / "lib.rs"}
    edges, reaches = {}, []
    sizes, fns = [], []
    for path in files:
        rel = path.relative_to(src)
        shown = path.relative_to(root).as_posix()
        text = path.read_text(encoding="utf-8")
        sizes.append((text.count("\n") + (not text.endswith("\n")), shown))
        bare = strip(text, keep_strings=False)
        for name, off, length in functions(bare):
            fns.append((length, f"{shown}:{bare.count(chr(10), 0, off) + 1}", name))
        if rel.as_posix() == "lib.rs":
            continue
        a = module_of(rel)
        is_view = "views" in path.name
        code = strip(text, keep_strings=True)
        seen = set()
        for m in re.finditer(r"(?<![A-Za-z0-9_])\$?crate\s*::", code):
            for segs in parse_paths(code, m.end()):
                if not segs or segs[0][0] not in modules:
                    continue
                b, off = segs[0]
                line = code.count("\n", 0, off) + 1
                if b != a:
                    edges.setdefault((a, b), f"{shown}:{line}")
                layer = segs[1][0] if len(segs) > 1 else None
                if (b != a and b not in SHARED and layer in LAYERS and not is_view
                        and (shown, line, b, layer) not in seen):
                    seen.add((shown, line, b, layer))
                    reaches.append(f"{shown}:{line}: {a} reaches into crate::{b}::{layer}")
    return {"modules": modules, "edges": edges, "reaches": reaches,
            "cycles": sccs(modules, edges), "sizes": sorted(sizes, reverse=True),
            "fns": sorted(fns, key=lambda f: (-f[0], f[1]))}


def sccs(nodes: set[str], edges: dict) -> list[list[str]]:
    """Tarjan's algorithm; returns the components with more than one node."""
    graph = defaultdict(list)
    for a, b in sorted(edges):
        graph[a].append(b)
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return sorted(out)


def report(r: dict) -> int:
    for comp in r["cycles"]:
        print(f"cycle among {len(comp)} modules: {', '.join(comp)}")
        for (a, b), where in sorted(r["edges"].items()):
            if a in comp and b in comp:
                print(f"  {a} -> {b}  ({where})")
    for line in r["reaches"]:
        print(line)
    big = ", ".join(f"{p} ({n})" for n, p in r["sizes"][:5])
    long = ", ".join(f"{name} {where} ({n})" for n, where, name in r["fns"][:5])
    print(f"check_layers: {len(r['modules'])} top-level modules, {len(r['edges'])} edges, "
          f"{len(r['cycles'])} cycles, {len(r['reaches'])} cross-feature reaches "
          f"({len({x.split(':')[0] + x.split('crate::')[1] for x in r['reaches']})} distinct "
          f"file/target pairs); "
          f"largest files (lines): {big}; longest functions (lines): {long}")
    failed = bool(r["cycles"] or r["reaches"])
    print("check_layers: FAIL" if failed else "check_layers: ok")
    return 1 if failed else 0


def dot(r: dict) -> str:
    lines = ["digraph layers {", "  rankdir=LR;"]
    for m in sorted(r["modules"]):
        shape = "box" if m in SHARED else "ellipse"
        lines.append(f'  "{m}" [shape={shape}];')
    for a, b in sorted(r["edges"]):
        red = any(a in c and b in c for c in r["cycles"])
        lines.append(f'  "{a}" -> "{b}"' + (" [color=red];" if red else ";"))
    return "\n".join(lines + ["}"])


CASES = {  # name -> (files, expected cycles, expected reaches, expected edges)
    "clean": ({"lib.rs": "pub mod a;\nuse crate::a::api::x;",
               "a/mod.rs": "use crate::domain::Name;\ncrate::both_backends! {}\n",
               "a/api.rs": "fn f() { crate::error::fail() }\n",
               "b/views.rs": "use crate::a::api::f;\n", "domain/mod.rs": "",
               "error.rs": "", "ui.rs": "use crate::domain::Name;"},
              0, 0, {("a", "domain"), ("a", "error"), ("b", "a"), ("ui", "domain")}),
    "cycle": ({"a/mod.rs": "use crate::b::Thing;\n", "b/mod.rs": "fn g() { crate::a::h() }\n"},
              1, 0, {("a", "b"), ("b", "a")}),
    "server cross-feature": ({"a/api.rs": "use crate::b::store::x;\n", "b/store.rs": ""},
                             0, 1, {("a", "b")}),
    "grouped multi-line": ({"a/api.rs": "use crate::{\n    b::{api::f},\n    domain::X,\n};\n",
                            "b/api.rs": "", "domain.rs": ""},
                           0, 1, {("a", "b"), ("a", "domain")}),
    "views only": ({"a/views.rs": "view! { <crate::b::api::Editor x=1/> }\n",
                    "b/mod.rs": "#[sqlx(try_from = \"crate::a::Flag\")]\nstruct S;\n"},
                   1, 0, {("a", "b"), ("b", "a")}),
    "comment only": ({"a/api.rs": "// use crate::b::api::f;\n/// crate::b::store\n"
                                  "/* crate::b::api /* nested */ crate::b::store */\n"
                                  "fn f() { let u = \"http://x\"; crate::domain::f(); }\n",
                      "b/api.rs": "", "domain.rs": ""},
                     0, 0, {("a", "domain")}),
    "shared reach": ({"core/mod.rs": "use crate::program::{api, store as s};\n",
                      "testing.rs": "macro_rules! m { () => { $crate::db::Db } }\n",
                      "program/store.rs": "", "db.rs": ""},
                     0, 2, {("core", "program"), ("testing", "db")}),
}


def self_test() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, (files, cycles, reaches, edges)) in enumerate(CASES.items()):
            root = Path(tmp) / str(i)
            for rel, body in files.items():
                (root / "app" / "src" / rel).parent.mkdir(parents=True, exist_ok=True)
                (root / "app" / "src" / rel).write_text(body)
            r = analyse(root)
            got = (len(r["cycles"]), len(r["reaches"]), set(r["edges"]))
            if got != (cycles, reaches, edges):
                print(f"self-test FAILED: {name}: got cycles/reaches/edges {got}, "
                      f"expected {(cycles, reaches, edges)}")
                return 1
    code = strip("fn f() {\n let s = \"}}\"; let c = '{';\n // }\n let r = r#\"{\"#; }\n"
                 "fn g<'a>(x: &'a str) -> [u8; 2] { [0; 2] }\ntrait T { fn h(); }\n", False)
    if [(n, ln) for n, _, ln in functions(code)] != [("f", 4), ("g", 1)]:
        print(f"self-test FAILED: function lengths: {functions(code)}")
        return 1
    print(f"self-test passed ({len(CASES) + 1} cases)")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent,
                    help="repository root (default: the one holding this script)")
    ap.add_argument("--dot", action="store_true", help="print the module graph as Graphviz dot")
    ap.add_argument("--self-test", action="store_true", help="check the rules on synthetic trees")
    args = ap.parse_args()
    if args.self_test:
        return self_test()
    if not (args.root / "app" / "src").is_dir():
        print(f"check_layers: no app/src under {args.root}", file=sys.stderr)
        return 2
    r = analyse(args.root)
    if args.dot:
        print(dot(r))
        return 0
    return report(r)


if __name__ == "__main__":
    sys.exit(main())

"""The house size rules, measured: modules over ~400 lines, functions over ~60 lines.

``python -m scripts.sizes [PATH ...]`` (default: bot channels actions server, migrations left
out) prints the largest modules and functions; ``--check`` exits 1 when any is over the limit.
A function's size is its lines from ``def`` to its last statement (decorators and the
docstring included); a nested function counts within its parent too.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PATHS = ("bot", "channels", "actions", "server")
EXCLUDED = ("migrations",)
MODULE_LIMIT = 400
FUNCTION_LIMIT = 60


def modules(paths: list[str]) -> Iterator[Path]:
    for name in paths:
        path = ROOT / name
        files = [path] if path.is_file() else sorted(path.rglob("*.py"))
        yield from (f for f in files if not any(part in EXCLUDED for part in f.parts))


def functions(path: Path) -> Iterator[tuple[str, int]]:
    """(qualified name, lines) of every function and method in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))

    def walk(node: ast.AST, prefix: str) -> Iterator[tuple[str, int]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                start = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                yield prefix + child.name, child.end_lineno - start + 1
                yield from walk(child, f"{prefix}{child.name}.")
            elif isinstance(child, ast.ClassDef):
                yield from walk(child, f"{prefix}{child.name}.")
            else:
                yield from walk(child, prefix)

    yield from walk(tree, "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", default=list(DEFAULT_PATHS))
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--check", action="store_true", help="exit 1 over the limits")
    args = parser.parse_args(argv)
    sized = [(len(p.read_text(encoding="utf-8").splitlines()), p.relative_to(ROOT))
             for p in modules(args.paths)]
    funcs = [(lines, f"{p.relative_to(ROOT)}:{name}")
             for p in modules(args.paths) for name, lines in functions(p)]
    sized.sort(reverse=True)
    funcs.sort(reverse=True)
    print(f"largest modules (limit {MODULE_LIMIT} lines):")
    for lines, path in sized[:args.top]:
        print(f"  {lines:5d}  {path}")
    print(f"largest functions (limit {FUNCTION_LIMIT} lines):")
    for lines, name in funcs[:args.top]:
        print(f"  {lines:5d}  {name}")
    over = [p for n, p in sized if n > MODULE_LIMIT] + [f for n, f in funcs if n > FUNCTION_LIMIT]
    if over:
        print("over the limits: " + ", ".join(map(str, over)))
    return 1 if args.check and over else 0


if __name__ == "__main__":
    sys.exit(main())

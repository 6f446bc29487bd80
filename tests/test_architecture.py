"""The package's layering, checked on its source: imports run one way, backends stay behind seams.

A question's path is answers -> query -> retrieval -> store; no module reaches back up, only
embedding.py touches the model runtime, and only the store touches stored arrays or FAISS.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "policyqa"


def _module(path: Path) -> str:
    rel = path.relative_to(PACKAGE).with_suffix("")
    parts = [p for p in rel.parts if p != "__init__"]
    return ".".join(parts)


def imports() -> dict[str, set[str]]:
    """Each module (dotted, within the package) and every name it imports, lazily or not:
    package modules as their dotted names, third-party packages as their top-level name."""
    out: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        name = _module(path)
        here = name.split(".")[:-1] if path.name != "__init__.py" else name.split(".")
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = here[: len(here) - (node.level - 1)] if node.level > 1 else here
                    target = [*base, *((node.module or "").split(".") if node.module else [])]
                    found.add(".".join(p for p in target if p))
                    found.update(".".join([*target, a.name]).strip(".") for a in node.names)
                else:
                    found.add((node.module or "").split(".")[0])
            elif isinstance(node, ast.Import):
                found.update(a.name.split(".")[0] for a in node.names)
        out[name or "__init__"] = found
    return out


IMPORTS = imports()
RUNTIMES = {"torch", "sentence_transformers", "transformers", "onnxruntime", "tokenizers"}


def _reaches(name: str, target: str) -> bool:
    return any(i == target or i.startswith(target + ".") for i in IMPORTS[name])


def test_only_embedding_imports_a_model_runtime():
    offenders = {m: IMPORTS[m] & RUNTIMES for m in IMPORTS
                 if IMPORTS[m] & RUNTIMES and not m.startswith("embedding")}
    assert not offenders


def test_only_the_store_imports_faiss_or_scipy():
    offenders = [m for m in IMPORTS if IMPORTS[m] & {"faiss", "scipy"} and not m.startswith("store")]
    assert not offenders


@pytest.mark.parametrize("lower, upper", [
    ("store", "index"), ("store", "query"), ("store", "retrieval"), ("store", "answers"),
    ("ingest", "index"), ("ingest", "query"), ("ingest", "retrieval"), ("ingest", "answers"),
    ("index", "query"), ("index", "retrieval"), ("index", "answers"),
    ("retrieval", "query"), ("retrieval", "answers"), ("query", "answers"),
    ("cite", "answers"), ("cite", "quotes"), ("quotes", "answers"), ("quotes", "citations"),
    ("evaluation", "report"), ("citations", "render"),
    ("index", "page"), ("answers", "page"), ("embedding", "query"), ("blas", "embedding"),
    ("blas", "query"),
])
def test_imports_run_one_way(lower, upper):
    modules = [m for m in IMPORTS if m == lower or m.startswith(lower + ".")]
    assert modules
    assert not [m for m in modules if _reaches(m, upper)], f"{lower} imports {upper}"


@pytest.mark.parametrize("module", ["query", "retrieval", "answers", "quotes", "citations"])
def test_no_module_above_the_store_touches_stored_arrays(module):
    source = (PACKAGE / f"{module}.py").read_text(encoding="utf-8")
    for name in ("chunk_vectors", "sentence_vectors", "sentence_chunk", "faiss", "_lexical"):
        assert name not in source, f"{module}.py uses {name}"

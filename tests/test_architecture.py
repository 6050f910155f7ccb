"""The import rules of docs/architecture.md, read from the code itself.

The care domain is a set of capability packages over a shared core. A capability imports only the
packages listed for it below (and so there are no cycles); the core imports no capability; nothing
under ``assistant/care`` imports Rasa, rasa-sdk or an entry point; the entry points
(``assistant/actions``, ``assistant/console``, ``assistant/channels``) do not import each other; the
application never imports the benchmarks (top-level ``benchmarks/``) or the tests.
Imports inside functions and under ``TYPE_CHECKING`` count as well.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Iterable, Iterator, Mapping

import pytest

ROOT = Path(__file__).resolve().parents[1]
CARE = ROOT / "assistant" / "care"

ALLOWED: Mapping[str, frozenset[str]] = {
    "core": frozenset(),
    "bookings": frozenset({"core"}),
    "escalations": frozenset({"core", "bookings"}),
    "people": frozenset({"core", "bookings"}),
    "reviews": frozenset({"core", "bookings", "escalations"}),
    "registry": frozenset({"core", "people", "reviews"}),
    "reminders": frozenset({"core", "escalations", "people"}),
    "safety": frozenset({"core", "escalations", "people"}),
    "meals": frozenset({"core", "bookings", "people", "registry"}),
    "homeservices": frozenset({"core", "bookings", "escalations", "people", "reviews", "registry"}),
    "consultation": frozenset({"core"}),
    "coordinators": frozenset({"core", "bookings", "escalations", "reminders"}),
    "privacy": frozenset({"core", "people"}),
}
"""Which other care packages each package may import directly."""

FORBIDDEN_IN_CARE = ("rasa", "rasa_sdk", "assistant.actions", "assistant.console", "assistant.channels",
                     "assistant.careservice", "assistant.dialogue", "assistant.nlu")
"""What the domain never imports: the framework and the entry points that stand on it."""

ENTRY_POINTS = ("assistant.actions", "assistant.console", "assistant.channels")
"""Entry points over the domain, none of which imports another."""


def module_name(path: Path) -> str:
    """The dotted module name of a file under the project root."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(source: str, module: str, is_package: bool = False) -> Iterator[str]:
    """Every module a source file imports, absolute, including ``from x import y`` as ``x.y``."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            yield target
            yield from (f"{target}.{alias.name}" for alias in node.names)


def within(name: str, prefix: str) -> bool:
    """True when ``name`` is the module ``prefix`` or inside it."""
    return name == prefix or name.startswith(prefix + ".")


def care_package(name: str) -> str | None:
    """The care package a module belongs to ("core", "meals"...), "" for ``assistant.care`` itself."""
    match = re.match(r"assistant\.care(?:\.(\w+))?(?:\.|$)", name)
    if match is None:
        return None
    return match.group(1) or ""


def violations(imports: Mapping[str, Iterable[str]]) -> list[str]:
    """Every broken rule, as "importer -> imported: why", for a map of module to what it imports."""
    found: list[str] = []
    for importer, targets in sorted(imports.items()):
        own = care_package(importer)
        for target in sorted(set(targets)):
            if own is not None and any(within(target, bad) for bad in FORBIDDEN_IN_CARE):
                found.append(f"{importer} -> {target}: the care domain never imports it")
            other = care_package(target)
            if own and other is not None and other != own:
                if other == "":
                    if target in {"assistant.care", "assistant.care.CareServices"}:
                        found.append(f"{importer} -> {target}: a capability never imports the composition root")
                elif other not in ALLOWED.get(own, frozenset()):
                    found.append(f"{importer} -> {target}: {own} may not import {other}")
            if within(target, "benchmarks") or within(target, "tests"):
                found.append(f"{importer} -> {target}: the application never imports benchmarks or tests")
            for entry in ENTRY_POINTS:
                if within(target, entry) and not within(importer, entry) and any(
                    within(importer, other_entry) for other_entry in ENTRY_POINTS
                ):
                    found.append(f"{importer} -> {target}: entry points do not import each other")
    return found


def project_imports() -> dict[str, list[str]]:
    """What every module of the application imports."""
    result = {}
    for path in sorted((ROOT / "assistant").rglob("*.py")):
        name = module_name(path)
        result[name] = list(imported_modules(path.read_text(), name, path.name == "__init__.py"))
    return result


def test_the_code_keeps_the_import_rules() -> None:
    assert violations(project_imports()) == []


def test_every_care_module_lives_in_a_capability_package_or_the_core() -> None:
    loose = [p.name for p in CARE.glob("*.py") if p.name != "__init__.py"]
    packages = {p.name for p in CARE.iterdir() if (p / "__init__.py").is_file()}
    assert loose == []
    assert packages == set(ALLOWED)


def test_the_allowed_imports_have_no_cycle() -> None:
    done: set[str] = set()

    def visit(package: str, path: tuple[str, ...]) -> None:
        assert package not in path, " -> ".join(path + (package,))
        if package not in done:
            for needed in ALLOWED[package]:
                visit(needed, path + (package,))
            done.add(package)

    for package in ALLOWED:
        visit(package, ())


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_each_package_says_what_it_may_import(package: str) -> None:
    """The docstring's "May import:" line names exactly the packages allowed above."""
    doc = ast.get_docstring(ast.parse((CARE / package / "__init__.py").read_text())) or ""
    said = doc.split("May import:", 1)[-1]
    named = set(re.findall(r"assistant\.care\.(\w+)", said))
    assert "May import:" in doc
    assert named == set(ALLOWED[package])


@pytest.mark.parametrize(
    ("importer", "target"),
    [
        ("assistant.care.core.db", "assistant.care.meals.meals"),  # the core imports a capability
        ("assistant.care.bookings.bookings", "assistant.care.people.people"),  # against the layers
        ("assistant.care.people.people", "assistant.care.reminders.reminders.ReminderService"),  # a cycle
        ("assistant.care.meals.meals", "assistant.care"),  # the composition root
        ("assistant.care.safety.safety", "rasa_sdk.events"),  # the framework
        ("assistant.care.core.clock", "assistant.nlu.safety_net"),  # an entry point's layer
        ("assistant.console.app", "assistant.actions.base"),  # one entry point imports another
        ("assistant.channels.web", "assistant.console.kit.render"),
        ("assistant.actions.meals", "assistant.channels.telegram"),
        ("assistant.cli", "benchmarks.turns"),  # the application holds no benchmark
    ],
)
def test_a_forbidden_import_is_caught(importer: str, target: str) -> None:
    imports = project_imports()
    imports.setdefault(importer, []).append(target)
    assert any(line.startswith(f"{importer} -> {target}:") for line in violations(imports))


def test_the_picture_in_docs_architecture_shows_the_rules() -> None:
    """docs/architecture.md draws one arrow for every allowed import, and no other."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    arrows = set(re.findall(r"^\s+(\w+) --> (\w+)$", text, re.M))
    assert arrows == {(package, needed) for package, allowed in ALLOWED.items() for needed in allowed}

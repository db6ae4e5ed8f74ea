"""Documentation promises: every setting is described and listed, the README stays short and
its links work. (The site itself is built by CI with `mkdocs build --strict`.)"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

from returns_service.config import (
    AREAS,
    BOOL_SETTINGS,
    DEFAULTS,
    INT_SETTINGS,
    SETTINGS,
    load_settings,
)

ROOT = Path(__file__).resolve().parent.parent


def _hooks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "docs" / "hooks.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_setting_has_a_description_and_a_known_area() -> None:
    for setting in SETTINGS:
        assert setting.description.strip(), setting.name
        assert setting.area in AREAS, setting.name
    names = [s.name for s in SETTINGS]
    assert len(names) == len(set(names)), "a setting is listed twice"


def test_the_derived_tables_follow_the_settings() -> None:
    assert list(DEFAULTS) == [s.name for s in SETTINGS]
    assert {s.name for s in SETTINGS if s.kind == "int"} == INT_SETTINGS
    assert {s.name for s in SETTINGS if s.kind == "bool"} == BOOL_SETTINGS
    assert load_settings({}) == DEFAULTS


def test_the_rendered_settings_table_lists_every_setting() -> None:
    table = _hooks().settings_markdown()
    for setting in SETTINGS:
        assert f"| `{setting.name}` |" in table, setting.name
    for area in AREAS:
        assert f"### {area}" in table


def test_the_configuration_page_has_the_marker_the_build_replaces() -> None:
    page = (ROOT / "docs" / "configuration.md").read_text()
    assert _hooks().SETTINGS_MARKER in page


def test_the_api_reference_covers_every_operation_of_the_openapi_document() -> None:
    hooks = _hooks()
    spec = hooks.openapi_spec()
    rendered = hooks.openapi_markdown(spec)
    for path, item in spec["paths"].items():
        for method in item:
            if method != "parameters":
                assert f"### `{method.upper()} {path}`" in rendered
    for name in spec["components"]["schemas"]:
        assert f"### {name} {{ #" in rendered


def test_the_readme_stays_short() -> None:
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= 250, f"README.md has {len(lines)} lines; move detail into docs/"


def _relative_links(text: str) -> list[str]:
    targets = re.findall(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)", text)
    targets += re.findall(r"""\b(?:src|href)=["']([^"']+)["']""", text)
    return [t for t in targets if not re.match(r"^[a-z][a-z0-9+.-]*:|^#|^/", t)]


def test_every_relative_link_in_the_readme_points_at_an_existing_file() -> None:
    links = _relative_links((ROOT / "README.md").read_text())
    assert links, "the README links to the docs"
    missing = [link for link in links
               if not (ROOT / link.split("#", 1)[0]).exists()]
    assert missing == []


@pytest.mark.parametrize(("text", "found"), [
    ("[Docs](docs/a.md) and [web](https://example.com) [top](#x)", ["docs/a.md"]),
    ('<img src="docs/screenshots/x.png" alt="x"> ![y](docs/y.png "title")',
     ["docs/y.png", "docs/screenshots/x.png"]),
])
def test_the_link_finder_finds_relative_links_only(text: str, found: list[str]) -> None:
    assert _relative_links(text) == found

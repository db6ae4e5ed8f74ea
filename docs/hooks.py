"""MkDocs hooks: pages generated from the code at build time, so they cannot drift from it.

- `<!-- settings-table -->` in a page becomes the table of every setting
  (`returns_service.config.SETTINGS`).
- `<!-- openapi-reference -->` becomes the API reference, rendered from the OpenAPI document the
  app serves at `/api/v1/openapi.json` (built from an app on an in-memory SQLite database, no
  network, no JavaScript); the document itself is published beside the page as `openapi.json`.

Nothing here imports mkdocs at module level, so the tests can import it without the docs extra.
"""

from __future__ import annotations

import json
import re
from typing import Any

SETTINGS_MARKER = "<!-- settings-table -->"
OPENAPI_MARKER = "<!-- openapi-reference -->"
OPENAPI_FILE = "openapi.json"

_spec_cache: dict[str, Any] = {}


# --- settings ----------------------------------------------------------------------------------

_KIND_WORDS = {"text": "text", "int": "whole number", "bool": "switch", "rate": "rate",
               "log level": "log level"}


def _default_cell(setting: Any) -> str:
    if setting.default_text:
        return setting.default_text
    if setting.default is None:
        return "unset"
    if isinstance(setting.default, bool):
        return "`on`" if setting.default else "`off`"
    return f"`{setting.default}`"


def settings_markdown() -> str:
    """One table per area, in the order of `AREAS`, every setting of `SETTINGS` in it."""
    from returns_service.config import AREAS, SETTINGS

    parts: list[str] = []
    for area in AREAS:
        rows = [s for s in SETTINGS if s.area == area]
        if not rows:
            continue
        parts += [f"### {area}", "", "| variable | default | value | meaning |",
                  "|---|---|---|---|"]
        parts += [f"| `{s.name}` | {_cell(_default_cell(s))} | {_KIND_WORDS[s.kind]} | "
                  f"{_cell(s.description)} |" for s in rows]
        parts.append("")
    missing = [s.name for s in SETTINGS if s.area not in AREAS]
    if missing:
        raise ValueError(f"settings in no known area: {', '.join(missing)}")
    return "\n".join(parts)


# --- OpenAPI -----------------------------------------------------------------------------------

def openapi_spec() -> dict[str, Any]:
    """The OpenAPI document as the app serves it (an app on in-memory SQLite, no Redis)."""
    if "spec" not in _spec_cache:
        from returns_service import create_app

        app = create_app({"DATABASE_URL": "sqlite://", "REDIS_URL": None,
                          "SECRET_KEY": "docs-build-only", "RETURN_ADDRESS": "docs",
                          "RETURN_POLICY_FILE": None, "LOG_LEVEL": "WARNING"})
        response = app.test_client().get("/api/v1/openapi.json")
        if response.status_code != 200:
            raise RuntimeError(f"GET /api/v1/openapi.json answered {response.status_code}")
        _spec_cache["spec"] = response.get_json()
    return _spec_cache["spec"]


def _cell(text: Any) -> str:
    """Text safe inside a Markdown table cell, on one line."""
    text = " ".join(str(text).split())
    return text.replace("|", "\\|")


def _plain(text: Any) -> str:
    """Text from the document that must not turn into Markdown or HTML."""
    text = _cell(text)
    return (text.replace("<", "&lt;").replace(">", "&gt;").replace("[", "\\[")
            .replace("]", "\\]").replace("*", "\\*"))


def _schema_id(name: str) -> str:
    return "schema-" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _op_id(method: str, path: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", f"{method} {path}".lower()).strip("-")


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _type(schema: dict[str, Any] | None) -> str:
    if not schema:
        return "any"
    if "$ref" in schema:
        name = _ref_name(schema["$ref"])
        return f"[{name}](#{_schema_id(name)})"
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            joiner = " and " if key == "allOf" else " or "
            return joiner.join(_type(s) for s in schema[key])
    kind = schema.get("type", "object")
    if kind == "array":
        return f"array of {_type(schema.get('items'))}"
    if schema.get("format"):
        kind = f"{kind} ({schema['format']})"
    if schema.get("nullable"):
        kind += " or null"
    return kind


def _constraints(schema: dict[str, Any]) -> str:
    notes: list[str] = []
    if schema.get("description"):
        notes.append(_plain(schema["description"]))
    if "enum" in schema:
        values = ", ".join(f"`{v}`" for v in schema["enum"] if v is not None)
        notes.append(f"one of {values}")
    for key, word in (("minimum", "≥"), ("maximum", "≤")):
        if key in schema:
            notes.append(f"{word} {schema[key]}")
    if schema.get("minLength") == 1:
        notes.append("not empty")
    for key, word in (("minLength", "at least {} characters"),
                      ("maxLength", "at most {} characters"),
                      ("minItems", "at least {} items"), ("maxItems", "at most {} items")):
        if key in schema and not (key == "minLength" and schema[key] == 1):
            notes.append(word.format(schema[key]))
    if schema.get("default") is not None:
        notes.append(f"default `{json.dumps(schema['default'])}`")
    if schema.get("readOnly"):
        notes.append("read-only")
    return "; ".join(notes)


def _content_types(entry: dict[str, Any]) -> str:
    content = entry.get("content") or {}
    return ", ".join(f"`{kind}`: {_type(body.get('schema'))}" for kind, body in content.items())


def _response(spec: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in response:
        return spec["components"]["responses"][_ref_name(response["$ref"])]
    return response


def _status_key(code: str) -> tuple[int, str]:
    return (999, code) if not code.isdigit() else (int(code), code)


def _operation(spec: dict[str, Any], path: str, method: str, op: dict[str, Any],
               shared_params: list[dict[str, Any]]) -> list[str]:
    lines = [f"### `{method.upper()} {path}` {{ #{_op_id(method, path)} }}", ""]
    if op.get("summary"):
        lines += [_plain(op["summary"]), ""]
    if op.get("description"):
        lines += [_plain(op["description"]), ""]
    security = op.get("security", spec.get("security"))
    if security is None or security == []:
        who = "public (no token)"
    elif any(not requirement for requirement in security):
        who = "public, or a staff token (`Authorization: Bearer <token>`)"
    else:
        who = "staff token (`Authorization: Bearer <token>`)"
    lines += [f"**Access:** {who}", ""]
    params = shared_params + op.get("parameters", [])
    if params:
        lines += ["**Parameters**", "", "| name | in | type | required | notes |",
                  "|---|---|---|---|---|"]
        for p in params:
            lines.append(f"| `{p['name']}` | {p['in']} | {_cell(_type(p.get('schema')))} | "
                         f"{'yes' if p.get('required') else 'no'} | "
                         f"{_constraints({**p.get('schema', {}), **p})} |")
        lines.append("")
    if "requestBody" in op:
        body = op["requestBody"]
        required = " (required)" if body.get("required") else ""
        lines += [f"**Request body**{required}: {_cell(_content_types(body))}", ""]
    lines += ["**Responses**", "", "| status | meaning | body |", "|---|---|---|"]
    for code in sorted(op.get("responses", {}), key=_status_key):
        response = _response(spec, op["responses"][code])
        headers = response.get("headers") or {}
        meaning = _plain(response.get("description", ""))
        if headers:
            meaning += "; headers: " + ", ".join(f"`{h}`" for h in headers)
        lines.append(f"| {code} | {meaning} | {_cell(_content_types(response))} |")
    lines.append("")
    return lines


def _schema(name: str, schema: dict[str, Any]) -> list[str]:
    lines = [f"### {name} {{ #{_schema_id(name)} }}", ""]
    if schema.get("description"):
        lines += [_plain(schema["description"]), ""]
    properties = schema.get("properties") or {}
    if not properties:
        lines += [f"Type: {_type({k: v for k, v in schema.items() if k != 'description'})}", ""]
        return lines
    required = set(schema.get("required", []))
    lines += ["| field | type | required | notes |", "|---|---|---|---|"]
    for field, prop in properties.items():
        lines.append(f"| `{field}` | {_cell(_type(prop))} | "
                     f"{'yes' if field in required else 'no'} | {_constraints(prop)} |")
    if schema.get("additionalProperties") is False:
        lines += ["", "Other fields are refused (`422`)."]
    lines.append("")
    return lines


def openapi_markdown(spec: dict[str, Any]) -> str:
    """Operations grouped by tag, in the document's order, then every schema."""
    tags = [t["name"] for t in spec.get("tags", [])]
    by_tag: dict[str, list[tuple[str, str, dict[str, Any], list[dict[str, Any]]]]] = {}
    for path, item in spec.get("paths", {}).items():
        shared = item.get("parameters", [])
        for method, op in item.items():
            if method == "parameters":
                continue
            tag = (op.get("tags") or ["other"])[0]
            if tag not in tags:
                tags.append(tag)
            by_tag.setdefault(tag, []).append((path, method, op, shared))
    descriptions = {t["name"]: t.get("description", "") for t in spec.get("tags", [])}
    info = spec.get("info", {})
    lines = [f"OpenAPI {spec.get('openapi', '')}, {info.get('title', '')} "
             f"{info.get('version', '')}.", ""]
    for tag in tags:
        if tag not in by_tag:
            continue
        lines += [f"## {tag.capitalize()}", ""]
        if descriptions.get(tag):
            lines += [_plain(descriptions[tag]), ""]
        for path, method, op, shared in by_tag[tag]:
            lines += _operation(spec, path, method, op, shared)
    lines += ["## Schemas", ""]
    for name, schema in spec.get("components", {}).get("schemas", {}).items():
        lines += _schema(name, schema)
    return "\n".join(lines)


# --- MkDocs events -----------------------------------------------------------------------------

def on_files(files: Any, config: Any) -> Any:
    """Publish the OpenAPI document itself next to the reference page."""
    from mkdocs.structure.files import File

    files.append(File.generated(config, OPENAPI_FILE,
                                content=json.dumps(openapi_spec(), indent=2) + "\n"))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if SETTINGS_MARKER in markdown:
        markdown = markdown.replace(SETTINGS_MARKER, settings_markdown())
    if OPENAPI_MARKER in markdown:
        markdown = markdown.replace(OPENAPI_MARKER, openapi_markdown(openapi_spec()))
    return markdown

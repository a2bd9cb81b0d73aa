"""The OpenAPI document's success answers, from the contract table.

FastAPI describes each route's answer by its return annotation, a free ``dict``. The tables
(``leadbridge.contract``) hold each documented endpoint's answer model and its documented
example, and each control call's (``contract/sandbox.py``); this puts both on the
operation's 200 answer, so code generators and schemathesis' response checks learn the
shape. Only the document changes: the routes still answer without validating against a
response model, which would cost every request.
"""

from __future__ import annotations

from typing import Any

from pydantic.json_schema import models_json_schema

from leadbridge.contract import Endpoint, all_endpoints, control_endpoints
from leadbridge.sandbox.errordoc import error_response

REF_TEMPLATE = "#/components/schemas/{model}"


def answer_schemas(endpoints: list[Endpoint]) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """``(schema of each endpoint's answer by key, the component schemas they refer to)``."""
    models = list(dict.fromkeys(entry.response for entry in endpoints))
    refs, top = models_json_schema([(model, "validation") for model in models], ref_template=REF_TEMPLATE)
    by_model = {model: refs[(model, "validation")] for model in models}
    return {entry.key: by_model[entry.response] for entry in endpoints}, top.get("$defs", {})


def document_answers(spec: dict[str, Any]) -> None:
    """Give each documented endpoint's and each control call's 200 answer its schema and example,
    and its 409 where the table says when it conflicts (in place)."""
    endpoints = [*all_endpoints(), *control_endpoints()]
    schemas, components = answer_schemas(endpoints)
    known = spec.setdefault("components", {}).setdefault("schemas", {})
    clash = sorted(set(components) & set(known))
    if clash:
        raise ValueError(f"answer models named like existing schemas: {', '.join(clash)}")
    known.update(components)
    for entry in endpoints:
        operation = spec["paths"][entry.path][entry.method.lower()]
        content: dict[str, Any] = {"schema": schemas[entry.key]}
        if entry.example_response is not None:
            content["example"] = entry.example_response
        operation["responses"]["200"]["content"] = {"application/json": content}
        if entry.conflict is not None:
            operation["responses"]["409"] = error_response(entry.platform, "409", entry.conflict)

"""The OpenAPI document's error answers and security schemes, in each API's own style.

FastAPI documents only 200 and its own 422. The sandbox answers more, in the style of the
API called (``wire.error_body``): 400 for a body that does not parse, 401 without valid
credentials, 404 for a record that is not there, 405 for a method the path does not
serve, 413/414 for a body or query beyond the bounds of ``wire`` and ``guard``, 422
for invalid input, 429 when rate-limited. Each operation declares those it can give, with
a JSON schema per API, and the credentials it needs as a security scheme (the header
parameters FastAPI derived from the auth dependencies are replaced by them).
"""

from __future__ import annotations

from typing import Any

from leadbridge.sandbox.wire import api_of

_FIELD_ERRORS = {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}}

SCHEMAS: dict[str, dict[str, Any]] = {
    "LeelooError": {
        "title": "LeelooError",
        "description": "Leeloo's envelope with status 0: `error.fields` maps each invalid field to a code "
                       "(REQUIRED, INVALID, TOO_LONG, OUT_OF_RANGE…); `message`, `code` (the HTTP status) "
                       "and `errors` (field → messages) are kept for older clients.",
        "type": "object",
        "required": ["status"],
        "properties": {
            "status": {"type": "integer", "enum": [0]},
            "message": {"type": "string"},
            "code": {"type": "integer"},
            "errors": _FIELD_ERRORS,
            "error": {
                "type": "object",
                "properties": {
                    "fields": {"type": "object", "additionalProperties": {"type": "string"}},
                    "code": {"type": "string"},
                },
            },
        },
    },
    "NeirosError": {
        "title": "NeirosError",
        "description": "Laravel's error body: a message, and for invalid input each field's messages.",
        "type": "object",
        "properties": {"message": {"type": "string"}, "errors": _FIELD_ERRORS},
    },
    "DialogError": {
        "title": "DialogError",
        "description": "FastAPI's error body: `detail` is a text, or for invalid input a list naming each "
                       "field in `loc`.",
        "type": "object",
        "properties": {
            "detail": {
                "anyOf": [
                    {"type": "string"},
                    {"type": "array", "items": {
                        "type": "object",
                        "properties": {"loc": {"type": "array", "items": {"anyOf": [{"type": "string"},
                                                                                    {"type": "integer"}]}},
                                       "msg": {"type": "string"}, "type": {"type": "string"}},
                    }},
                ],
            },
            "message": {"type": "string"},
            "errors": _FIELD_ERRORS,
        },
    },
    "SandboxError": {
        "title": "SandboxError",
        "description": "An error of the control API: a message, and for invalid input each field's messages.",
        "type": "object",
        "required": ["message"],
        "properties": {"message": {"type": "string"}, "errors": _FIELD_ERRORS},
    },
}

SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "LeelooToken": {"type": "apiKey", "in": "header", "name": "X-Leeloo-AuthToken",
                    "description": "The company's Leeloo auth token"},
    "LeelooQueryToken": {"type": "apiKey", "in": "query", "name": "authToken",
                         "description": "The same token as a query parameter"},
    "NeirosBearer": {"type": "http", "scheme": "bearer",
                     "description": "A token from POST /api/userapi/v1/auth/login"},
    "DialogBearer": {"type": "http", "scheme": "bearer", "description": "A token from POST /api/login"},
}

_SCHEMA_OF = {"leeloo": "LeelooError", "neiros": "NeirosError", "dialog": "DialogError", "sandbox": "SandboxError"}
_SECURITY_OF: dict[str, list[dict[str, list[str]]]] = {
    "leeloo": [{"LeelooToken": []}, {"LeelooQueryToken": []}],
    "neiros": [{"NeirosBearer": []}],
    "dialog": [{"DialogBearer": []}],
}
_AUTH_HEADERS = frozenset({"x-leeloo-authtoken", "authorization"})
_LOGINS = frozenset({"/api/login", "/api/userapi/v1/auth/login"})

_REASONS = {
    "400": "The body is not valid JSON or form data",
    "401": "Missing or invalid credentials",
    "404": "A record named in the path or body does not exist (or is another company's)",
    "405": "The path does not serve this method",
    "413": "The body is larger than the sandbox accepts",
    "414": "The query string is longer than the sandbox accepts",
    "422": "Invalid input; the answer names each field",
    "429": "Rate-limited: retry after Retry-After seconds",
}


def _response(status: str, schema_name: str) -> dict[str, Any]:
    content: dict[str, Any] = {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}}
    response: dict[str, Any] = {"description": _REASONS[status], "content": content}
    if status == "429":
        # Leeloo's real limit answers in plain text (realistic mode); injected faults in JSON.
        content["text/plain"] = {"schema": {"type": "string"}}
        response["headers"] = {"Retry-After": {"schema": {"type": "string"}, "description": "Seconds to wait"}}
    return response


def error_response(api: str, status: str, description: str) -> dict[str, Any]:
    """An error answer of ``api`` (leeloo, neiros, dialog, sandbox) in its own style."""
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{_SCHEMA_OF[api]}"}}}}


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """``anyOf: [X, null]`` as X: a parameter is absent or has a value, and no query string,
    path or header can carry a JSON null (FastAPI derives the null from ``X | None = None``)."""
    options = schema.get("anyOf")
    if isinstance(options, list):
        kept = [option for option in options if option != {"type": "null"}]
        if len(kept) == 1 and len(kept) < len(options):
            rest = {key: value for key, value in schema.items() if key != "anyOf"}
            return {**kept[0], **rest}
    return schema


def document_errors(spec: dict[str, Any]) -> None:
    """Add each operation's error answers and security to ``spec`` (in place)."""
    components = spec.setdefault("components", {})
    components.setdefault("schemas", {}).update(SCHEMAS)
    components["securitySchemes"] = SECURITY_SCHEMES
    for path, item in spec.get("paths", {}).items():
        api = api_of(path)
        for operation in item.values():
            statuses = ["400", "405", "413", "414", "422"]
            authenticated = api != "sandbox" and path not in _LOGINS
            if api == "sandbox":
                # The control token, once set; a person or account named that does not exist.
                statuses += ["401", "404"]
            else:
                statuses += ["404", "429"]
            if authenticated:
                statuses.append("401")
                operation["security"] = _SECURITY_OF[api]
                operation["parameters"] = [p for p in operation.get("parameters", [])
                                           if not (p.get("in") == "header" and p["name"].lower() in _AUTH_HEADERS)]
                if not operation["parameters"]:
                    del operation["parameters"]
            elif path in _LOGINS:
                statuses.append("401")
                operation["security"] = []
            for parameter in operation.get("parameters", []):
                if "schema" in parameter:
                    parameter["schema"] = _without_null(parameter["schema"])
            responses = operation.setdefault("responses", {})
            for status in statuses:
                responses[status] = _response(status, _SCHEMA_OF[api])

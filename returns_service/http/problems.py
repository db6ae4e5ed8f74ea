"""Domain errors rendered as RFC 9457 problem details (application/problem+json), or as an
error page on the HTML routes."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, json, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError, RequestEntityTooLarge

from returns_service.common.errors import PROBLEM_BASE, DomainError
from workflows.returns import InvalidTransition


def problem(status: int, title: str, detail: str | None = None, type_: str = "about:blank",
            **extensions: Any) -> Response:
    """Build a problem+json response."""
    body: dict[str, Any] = {
        "type": type_ if type_ == "about:blank" else PROBLEM_BASE + type_,
        "title": title,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    body.update(extensions)
    response = Response(json.dumps(body), status=status, mimetype="application/problem+json")
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="returns-service"'
    return response


def domain_problem(exc: DomainError) -> Response:
    return problem(exc.status, exc.title, exc.detail, exc.type, **exc.extensions)


def transition_problem(exc: InvalidTransition) -> Response:
    return problem(409, "Action not allowed in the current status", str(exc), "invalid-transition",
                   current_status=exc.current, trigger=exc.trigger, allowed_triggers=exc.allowed)


def http_problem(exc: HTTPException) -> Response:
    """Werkzeug/smorest HTTP errors as problem+json; webargs 422s keep per-field messages."""
    status = exc.code or 500
    extensions: dict[str, Any] = {}
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages")
    if messages:
        # webargs nests by location ({"json": {...}}); flatten to field paths.
        flat: dict[str, list[str]] = {}
        for _location, fields in messages.items():
            _flatten(fields, "", flat)
        extensions["errors"] = flat
    detail = exc.description if status != 422 else "Some fields are invalid."
    if status == 413 and request.max_content_length is not None:
        extensions["max_bytes"] = request.max_content_length
        if detail == RequestEntityTooLarge.description:  # werkzeug's words, while reading
            detail = (f"The request body is larger than the {request.max_content_length} "
                      "bytes accepted here.")
    type_ = "validation-error" if status == 422 else "about:blank"
    response = problem(status, exc.name, detail, type_, **extensions)
    for name, value in exc.get_headers():  # e.g. Allow on a 405, Retry-After on a 429
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def _flatten(node: Any, prefix: str, out: dict[str, list[str]]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            _flatten(value, f"{prefix}.{key}" if prefix else str(key), out)
    elif isinstance(node, list) and all(isinstance(m, str) for m in node):
        out[prefix or "_schema"] = list(node)
    else:
        out[prefix or "_schema"] = [str(node)]


def wants_json() -> bool:

    return request.path.startswith(("/api/", "/webhooks/", "/healthz", "/metrics"))


def _page(status: int, title: str, detail: str, headers: Any = None) -> Any:
    """Business-rule errors that reach a page unhandled: a readable HTML answer, same status."""

    home = "/staff/" if request.path.startswith("/staff") else "/"
    return render_template("error.html", title=title, detail=detail, home=home), status, \
        headers or []


# What an HTML page says for HTTP errors (werkzeug's own wording is for developers). Lazy:
# a customer page shows them in the customer's language, the console in English.
PAGE_WORDING = {
    403: (_l("You cannot open this page"), _l("Your account does not have access to this page.")),
    404: (_l("Page not found"), _l("We could not find this page. Check the address, or start "
                                   "again from the link below.")),
    500: (_l("Something went wrong"), _l("Something went wrong on our side; nothing was "
                                         "changed. Please try again in a moment.")),
}


def _http_page(exc: HTTPException) -> Any:
    """The service's own page for an HTTP error on an HTML route (its headers kept, e.g.
    Allow on a 405)."""
    status = exc.code or 500
    title, detail = PAGE_WORDING.get(status, (exc.name, exc.description or exc.name))
    headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
    return _page(status, title, detail, headers)


def _form_again() -> str:
    """A form sent with an expired or missing CSRF token (a page left open for hours): say
    nothing changed, and link back to the page it came from where that is a page."""

    again = None
    if request.url_rule is not None and "GET" in (request.url_rule.methods or ()):
        again = request.path
    elif (request.view_args or {}).get("rma") and request.blueprint == "console":
        again = url_for("console.detail", rma=request.view_args["rma"])  # type: ignore[index]
    elif request.blueprint == "console":
        again = url_for("console.home")
    return render_template("expired_form.html", again=again or "/")


def register_error_handlers(app: Flask) -> None:
    """JSON paths answer problem+json; HTML pages get the service's own error page."""

    @app.errorhandler(DomainError)
    def _domain(exc: DomainError) -> Any:
        if wants_json():
            return domain_problem(exc)
        return _page(exc.status, exc.title, exc.detail)

    @app.errorhandler(InvalidTransition)
    def _transition(exc: InvalidTransition) -> Any:
        if wants_json():
            return transition_problem(exc)
        return _page(409, "This action is no longer possible", str(exc))


    @app.errorhandler(CSRFError)
    def _expired_form(_exc: CSRFError) -> Any:
        return _form_again(), 400

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Any:
        if wants_json():
            return http_problem(exc)
        return exc if exc.code is None or exc.code < 400 else _http_page(exc)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Any:
        app.logger.exception("unhandled error")
        if wants_json():
            return problem(500, "Internal Server Error", "Something went wrong on our side; "
                           "nothing was changed.")
        return _http_page(InternalServerError())

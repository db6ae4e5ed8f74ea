"""The console's Demo mailbox (/staff/demo/mailbox): every email the demo's SMTP sink
received, newest first, each readable. Admins only, and only when DEMO_MODE is on (404
otherwise, so a production console does not even show that it exists)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, current_app, render_template

from returns_service.console.access import permission_required
from returns_service.console.auth_views import forbidden_page
from returns_service.demo.mailbox_store import list_mail, mailbox_dir, read_mail

bp = Blueprint("demo", __name__, url_prefix="/staff/demo")
bp.register_error_handler(403, forbidden_page)  # signed in with another role

# The HTML part is the app's own email, but the page treats it as untrusted: served on its
# own URL with a sandbox CSP (no scripts, no forms, an opaque origin), framed only by the
# mailbox page. Inline styles stay allowed, so the email looks as a mail client shows it.
HTML_PART_HEADERS = {
    "Content-Security-Policy": "sandbox; default-src 'none'; style-src 'unsafe-inline'; "
                               "img-src data:; frame-ancestors 'self'",
    "X-Frame-Options": "SAMEORIGIN",
}


@bp.before_request
def _only_in_demo_mode() -> None:
    if not current_app.config.get("DEMO_MODE"):
        abort(404)


def _folder() -> Any:
    return mailbox_dir(current_app.instance_path, current_app.config.get("DEMO_MAILBOX_DIR"))


@bp.get("/mailbox")
@permission_required("demo.mailbox")
def mailbox() -> Any:
    """The list: to, subject and time of each email, newest first."""
    return render_template("demo/mailbox.html", mails=list_mail(_folder()))


@bp.get("/mailbox/<key>")
@permission_required("demo.mailbox")
def mail(key: str) -> Any:
    """One email: its headers, its text part, and its HTML part in a sandboxed frame."""
    found = read_mail(_folder(), key)
    if found is None:
        abort(404)
    return render_template("demo/mail.html", mail=found)


@bp.get("/mailbox/<key>/html")
@permission_required("demo.mailbox")
def mail_html(key: str) -> Any:
    """The HTML part alone, for the frame on the email's page."""
    found = read_mail(_folder(), key)
    if found is None or found.html is None:
        abort(404)
    return Response(found.html, mimetype="text/html", headers=HTML_PART_HEADERS)

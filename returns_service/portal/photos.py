"""The photos on the return form's items step: each uploaded photo is cleaned and kept with
the draft as soon as the form is sent, even when another field has a mistake (nothing the
customer chose is lost); too many, too large, not an image, or a required photo missing is
said on the item's photo field."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_babel import gettext as _

from returns_service.common.i18n import policy_label
from returns_service.photos.images import accepted_formats
from returns_service.photos.services import (
    ImageRefused,
    add_draft_photo,
    draft_photos,
    photo_rules,
)


def size_text(size: int) -> str:
    """A size limit as people read it: "10 MB", "500 KB" (unit symbols, not words)."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.3g} MB"
    return f"{max(1, size // 1024)} KB"


def _error(field: Any, message: str) -> None:
    field.errors = [*field.errors, message]


def take_photos(form: Any, draft_key: str) -> bool:
    """Keep the photos sent with the items form and check each chosen item has the photos
    its reason needs; False when a message was added. The caller commits."""
    rules = photo_rules()
    if rules.max_per_item <= 0:
        return True
    kept = draft_photos(draft_key)
    ok = True
    for n, elig in enumerate(form.eligibility):
        if not elig.eligible:
            continue
        sub = form.line(n)
        sku = elig.line.sku
        uploads = [f for f in request.files.getlist(f"line{n}-photos") if f and f.filename]
        for upload in uploads:
            if len(kept.get(sku, [])) >= rules.max_per_item:
                _error(sub.photos, _("You can add up to %(count)s photos of this item.",
                                     count=rules.max_per_item))
                ok = False
                break
            try:
                photo = add_draft_photo(draft_key, sku, upload.filename, upload.read())
            except ImageRefused as exc:
                ok = False
                if exc.code == "size":
                    _error(sub.photos, _("%(name)s is too large: a photo can be up to "
                                         "%(size)s.", name=upload.filename,
                                         size=size_text(rules.max_bytes)))
                else:
                    _error(sub.photos, _("%(name)s is not a photo we can read. Use one of "
                                         "these types: %(types)s.", name=upload.filename,
                                         types=", ".join(accepted_formats())))
                continue
            kept.setdefault(sku, []).append(photo)
        quantity = sub.quantity.data if isinstance(sub.quantity.data, int) else 0
        if quantity > 0 and rules.required(sub.reason.data or "") and not kept.get(sku) \
                and not sub.photos.errors:
            _error(sub.photos, _("Add a photo that shows the damage or the fault."))
            ok = False
    return ok


def photo_hint(policy: Any) -> str:
    """What the photo field takes, and for which reasons a photo is needed."""
    rules = photo_rules()
    hint = _("Up to %(count)s photos, %(size)s each (%(types)s).", count=rules.max_per_item,
             size=size_text(rules.max_bytes), types=", ".join(accepted_formats()))
    needed = [policy_label(r) for r in policy.reasons if rules.required(r.code)]
    if needed:
        hint += " " + _("Needed for these reasons: %(reasons)s.", reasons=", ".join(needed))
    return hint


def photos_enabled() -> bool:
    return photo_rules().max_per_item > 0

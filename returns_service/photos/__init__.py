"""Photos: the pictures a customer attaches to the items of a return as evidence (damaged,
defective), checked by their content, stripped of EXIF (location!) and re-encoded, kept in
the storage under a random key, and read back only through authorised routes (the staff
console and API, the customer's signed status link). Also the image cleaning that the
conversations use for images attached to customers' emails."""

from flask import Flask

from returns_service.photos import models, personal_data
from returns_service.photos.services import delete_photos_for_return, discard_abandoned
from returns_service.privacy import register_eraser, register_exporter
from returns_service.scheduler.schedule import register_periodic

__all__ = ["delete_photos_for_return", "init_app", "models"]


def init_app(app: Flask) -> None:
    """Discard the photos of forms never sent, on the scheduler, and erase a customer's
    photos with the rest of their personal data (the tables come with `models`)."""
    register_periodic(app, "photos_discarded", discard_abandoned, position=70)
    # Files before the rows that lead to them (returns erase at 50).
    register_eraser(app, "photos", personal_data.erase_photos, position=15)
    register_exporter(app, "photos", personal_data.export_photos)

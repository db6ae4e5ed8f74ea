"""Return shipping: a prepaid return label per approved return through EasyPost (or none:
self-ship), bought exactly once by a job; the printable return slip every approved return
gets; carrier tracking (EasyPost webhooks) that moves the shipment, and may start the refund
on the first scan; the warehouse's list of parcels on their way."""

from flask import Flask

from returns_service.outbox.registry import register_handler
from returns_service.privacy import register_eraser, register_exporter
from returns_service.returns.signals import status_changed
from returns_service.scheduler import register_periodic
from returns_service.shipping import jobs, models, personal_data, services, tracking

__all__ = ["init_app", "models"]


def init_app(app: Flask) -> None:
    """Open a shipment on approval, void it on cancel or expiry, run the label and tracking
    jobs; erase label files and tracking events with the customer's personal data."""
    if str(app.config.get("SHIPPING_PROVIDER") or "self_ship").lower() not in \
            services.PROVIDERS:  # one it does not know stops the app at start
        raise ValueError(f"SHIPPING_PROVIDER={app.config['SHIPPING_PROVIDER']!r}: use one "
                         f"of {', '.join(services.PROVIDERS)}")
    status_changed.connect(services.on_status_changed)
    register_handler(services.BUY_TOPIC, jobs.run_buy_label)
    register_handler(services.VOID_TOPIC, jobs.run_void_label)
    register_handler(tracking.TOPIC, jobs.run_easypost_event)
    register_periodic(app, "stalled_parcels", tracking.flag_stalled, position=65)
    register_eraser(app, "shipping", personal_data.erase_labels, position=10)
    register_exporter(app, "shipping", personal_data.export_shipments)
    register_periodic(app, "trackers_polled", tracking.poll_trackers, position=63)

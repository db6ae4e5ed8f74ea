"""The printable return slip (PDF) every approved return gets, whatever the provider: the
store's name, the RMA as a Code 128 barcode the warehouse scanner reads, a QR code of the
customer's status link, the items with quantities, the address and how to pack.

Drawn with fpdf2; the barcode by python-barcode, the QR code by segno. Built on demand from
the return (it is small and cheap), so it always shows the return as it is."""

from __future__ import annotations

import io
from typing import Any

PACKING = (
    "Put the items in their original packaging if you still have it, with this slip inside.",
    "Seal the parcel well; cover or remove old labels and barcodes.",
    "Stick the return label (if you have one) on the outside, or write the address below.",
    "Keep the receipt or tracking number until your refund arrives.",
)


_PLAIN = str.maketrans({"\u2014": "-", "\u2013": "-", "\u2018": "'", "\u2019": "'",
                        "\u201c": '"', "\u201d": '"', "\u2026": "..."})


def _latin1(text: Any) -> str:
    # The core PDF fonts are Latin-1: typographic punctuation is made plain, anything else
    # replaced, never an error.
    return str(text).translate(_PLAIN).encode("latin-1", "replace").decode("latin-1")


def render_slip(*, shop_name: str, rma: str, status_url: str, items: list[tuple[str, str, int]],
                address: list[str], carrier_line: str | None = None) -> bytes:
    """The slip as PDF bytes. `items`: (sku, name, quantity); `address`: printed lines."""
    # Imported here, not at the top: fpdf2 and the image libraries take most of a second to
    # load, which every process built by create_app (workers, commands) would pay for a slip
    # only the web process draws, now and then.
    import segno
    from barcode import Code128
    from barcode.writer import ImageWriter
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_title(f"Return slip {rma}")
    pdf.set_font("Helvetica", "B", 20)
    pdf.cell(0, 10, _latin1(shop_name), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 12)
    pdf.cell(0, 8, _latin1(f"Return slip for return {rma}"), new_x="LMARGIN", new_y="NEXT")

    barcode = io.BytesIO()
    # Wide modules and a quiet zone so a scanner (or zbarimg on a 150 dpi render) reads it.
    Code128(rma, writer=ImageWriter()).write(barcode, options={
        "module_width": 0.5, "module_height": 18, "quiet_zone": 8, "font_size": 10,
        "text_distance": 4, "dpi": 300})
    barcode.seek(0)
    top = pdf.get_y() + 4
    pdf.image(barcode, x=pdf.l_margin, y=top, w=110)
    qr = io.BytesIO()
    segno.make(status_url, error="m").save(qr, kind="png", scale=8, border=4)
    qr.seek(0)
    pdf.image(qr, x=pdf.w - pdf.r_margin - 45, y=top, w=45)
    pdf.set_y(top + 50)
    pdf.set_font("Helvetica", "", 9)
    pdf.cell(0, 5, _latin1(f"Scan the QR code to follow your return: {status_url}"),
             new_x="LMARGIN", new_y="NEXT")

    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 13)
    pdf.cell(0, 8, "Items in this parcel", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 11)
    with pdf.table(col_widths=(30, 130, 20), text_align=("LEFT", "LEFT", "RIGHT")) as table:
        table.row(["SKU", "Item", "Qty"])
        for sku, name, quantity in items:
            table.row([_latin1(sku), _latin1(name), str(quantity)])

    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 13)
    pdf.cell(0, 8, "Send it to", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 11)
    for line in address or ["Our returns address (see the status page)"]:
        pdf.cell(0, 6, _latin1(line), new_x="LMARGIN", new_y="NEXT")
    if carrier_line:
        pdf.cell(0, 6, _latin1(carrier_line), new_x="LMARGIN", new_y="NEXT")

    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 13)
    pdf.cell(0, 8, "How to pack", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 11)
    for number, step in enumerate(PACKING, 1):
        pdf.multi_cell(0, 6, _latin1(f"{number}. {step}"), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())

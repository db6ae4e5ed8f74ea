"""The end-to-end happy path through the JSON API on the embedded defaults."""


def test_return_goes_from_request_to_refund_pending(api, make_return):
    rma = make_return()["rma"]
    assert api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={}).status_code == 200
    received = api.post(f"/api/v1/returns/{rma}/receive", as_="warehouse", json={
        "items": [{"sku": "SHIRT", "quantity": 1, "condition": "resellable"}]})
    assert received.status_code == 200
    assert received.json["status"] == "refund_pending"
    assert received.json["refund"]["total"] == 2500
    assert received.json["items"][0]["restock"] is True

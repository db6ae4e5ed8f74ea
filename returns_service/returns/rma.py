"""RMA codes: short, unguessable, unambiguous when read aloud or typed from a label."""

import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"  # no 0/O, 1/I/L, U


def new_rma(length: int = 6) -> str:
    return "R-" + "".join(secrets.choice(ALPHABET) for _ in range(length))


def normalise_rma(text: str) -> str:
    """Accept what a scanner or a person types: case, spaces, missing dash."""
    code = "".join(ch for ch in text.upper() if ch.isalnum())
    if code.startswith("R"):
        code = code[1:]
    return "R-" + code

"""RMA codes: short, unguessable, unambiguous when read aloud or typed from a label."""

import re
import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"  # no 0/O, 1/I/L, U
CODE_LENGTH = 6
_PREFIX = re.compile(r"R[^0-9A-Z]+")  # "R-", "R ", "R_" … before the code


def new_rma(length: int = CODE_LENGTH) -> str:
    return "R-" + "".join(secrets.choice(ALPHABET) for _ in range(length))


def normalise_rma(text: str) -> str:
    """Accept what a scanner or a person types: case, spaces, missing dash.

    Codes may themselves start with R, so a leading R is taken for the prefix only when a
    separator follows it or when the code would otherwise be one character too long:
    "rrabcd2" and "R-RABCD2" are R-RABCD2, while "rabcd2" is R-RABCD2 too.
    """
    text = text.strip().upper()
    prefixed = _PREFIX.match(text)
    code = "".join(ch for ch in text[prefixed.end() if prefixed else 0:] if ch.isalnum())
    if not prefixed and len(code) > CODE_LENGTH and code.startswith("R"):
        code = code[1:]
    return "R-" + code

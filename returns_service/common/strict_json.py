"""JSON from outside (API bodies, Stripe webhooks) read with limits Python's `json` lacks.

`json.loads` accepts what later code cannot use and fails on some input in ways callers do not
expect: a lone surrogate (`"\\ud800"`) that no database or encoder takes, `NaN`, integers of
thousands of digits (a `ValueError`, or a slow conversion), and nesting deep enough to raise
`RecursionError`. `loads` refuses all of them with one exception, `JSONRejected`, whose
message says what is wrong.
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 32
MAX_INT_DIGITS = 20  # 64-bit integers have at most 19 digits
MAX_NUMBER_CHARS = 40


class JSONRejected(ValueError):
    """The body is not JSON this service accepts; the message says why. `syntax` is true
    when it is not JSON at all (not UTF-8, or invalid), false when it is JSON out of bounds."""

    def __init__(self, message: str, *, syntax: bool = False):
        super().__init__(message)
        self.syntax = syntax


def _reject_constant(name: str) -> Any:
    raise JSONRejected(f"{name} is not a JSON number.")


def _parse_int(literal: str) -> int:
    if len(literal.lstrip("-")) > MAX_INT_DIGITS:
        raise JSONRejected(f"An integer has more than {MAX_INT_DIGITS} digits.")
    return int(literal)


def _parse_float(literal: str) -> float:
    if len(literal) > MAX_NUMBER_CHARS:
        raise JSONRejected(f"A number is longer than {MAX_NUMBER_CHARS} characters.")
    value = float(literal)
    if value in (float("inf"), float("-inf")):
        raise JSONRejected("A number is out of range.")
    return value


def _check_text(text: str, allow_nul: bool = True) -> None:
    if not allow_nul and "\x00" in text:
        raise JSONRejected("Text contains a NUL (\\u0000) character.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise JSONRejected("Text contains a lone surrogate (e.g. \\ud800), which is not a "
                           "character.") from None


def _check_tree(root: Any, max_depth: int, allow_nul: bool) -> None:
    """Depth and text of every value, without recursion."""
    stack: list[tuple[Any, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            _check_text(node, allow_nul)
        elif isinstance(node, dict | list):
            if depth > max_depth:
                raise JSONRejected(f"Arrays and objects are nested more than {max_depth} "
                                   "deep.")
            if isinstance(node, dict):
                for key, value in node.items():
                    _check_text(key, allow_nul)
                    stack.append((value, depth + 1))
            else:
                stack.extend((value, depth + 1) for value in node)


def loads(data: bytes | str, *, max_depth: int = MAX_DEPTH, allow_nul: bool = True) -> Any:
    """Parse JSON text (bytes must be UTF-8); `JSONRejected` for anything unusable, and for
    NUL characters in text unless `allow_nul`."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JSONRejected(f"The body is not UTF-8 (byte {exc.start}).",
                               syntax=True) from None
    else:
        text = data
    try:
        value = json.loads(text, parse_constant=_reject_constant, parse_int=_parse_int,
                           parse_float=_parse_float)
    except JSONRejected:
        raise
    except RecursionError:
        raise JSONRejected(f"Arrays and objects are nested more than {max_depth} deep.") \
            from None
    except json.JSONDecodeError as exc:
        raise JSONRejected(f"The body is not valid JSON: {exc}", syntax=True) from None
    except ValueError as exc:  # e.g. an integer past Python's own digit limit
        raise JSONRejected(str(exc)) from None
    _check_tree(value, max_depth, allow_nul)
    return value

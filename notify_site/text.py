"""Text that the database and mail headers can hold.

PostgreSQL refuses NUL characters and strings that are not valid UTF-8 (a lone surrogate from a
JSON ``"\\ud800"`` escape); mail headers must not contain CR or LF. Callers at the edges (webhooks,
forms, the mail channel) use these to refuse or clean such values instead of failing with a 500.
"""
import json
import re

_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_JSON_DEPTH = 32


def unstorable_reason(value: str) -> str:
    """Why ``value`` cannot be stored as text ('' when it can)."""
    if "\x00" in value:
        return "contains a NUL character"
    if _SURROGATE.search(value):
        return "contains an unpaired UTF-16 surrogate"
    return ""


def storable(value) -> str:
    """``value`` as text PostgreSQL accepts: NULs dropped, lone surrogates replaced."""
    text = value if isinstance(value, str) else str(value)
    return _SURROGATE.sub("\ufffd", text).replace("\x00", "")


def header_safe(value: str) -> str:
    """One line for a mail header: CR, LF and other control characters become spaces."""
    return " ".join(_CONTROL.sub(" ", storable(value).replace("\r", " ").replace("\n", " ")).split())


def has_header_breaks(value: str) -> bool:
    return any(ch in value for ch in "\r\n\x00") or bool(_CONTROL.search(value))


def json_too_deep(text: str, max_depth: int = MAX_JSON_DEPTH) -> bool:
    """Whether JSON text nests objects/arrays deeper than ``max_depth`` (checked before parsing, so a
    deeply nested body never reaches json.loads' recursion limit)."""
    depth, in_string, escaped = 0, False, False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > max_depth:
                return True
        elif ch in "]}":
            depth -= 1
    return False


def first_unstorable(data, path: str = "body") -> str:
    """'<path> <reason>' for the first string (key or value) in parsed JSON that cannot be stored."""
    stack = [(data, path)]
    while stack:
        value, where = stack.pop()
        if isinstance(value, str):
            reason = unstorable_reason(value)
            if reason:
                return f"{where} {reason}"
        elif isinstance(value, dict):
            for key, item in value.items():
                reason = unstorable_reason(key)
                if reason:
                    return f"a key in {where} {reason}"
                stack.append((item, f"{where}.{key}"))
        elif isinstance(value, list):
            stack.extend((item, f"{where}[{i}]") for i, item in enumerate(value))
    return ""


def loads_json(text: str):
    """json.loads that refuses NaN/Infinity literals and over-deep nesting (ValueError)."""
    if json_too_deep(text):
        raise ValueError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")

    def no_constants(name):
        raise ValueError(f"{name} is not valid JSON")

    return json.loads(text, parse_constant=no_constants)


def validate_single_line(value: str) -> None:
    """Form validator for text that ends up in a mail header (sender names, store names)."""
    from django.core.exceptions import ValidationError

    if value and has_header_breaks(value):
        raise ValidationError("Use one line of text: line breaks and control characters are not allowed here.",
                              code="header_breaks")

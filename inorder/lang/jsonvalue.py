"""What a JSON argument may be, beyond what the json module checks.

QEMU's JSON parser nests at most 1024 deep; inorder-qemu walks arguments
recursively (typing, rewriting), so it takes less, and says so instead of
failing.  A lone surrogate (`"\\ud800"`) is no text at all: it cannot be put
on QEMU's argv or printed, and QEMU's parser refuses it too.
"""

from __future__ import annotations

MAX_DEPTH = 100


def problem(value) -> str | None:
    """Why `value` (decoded JSON) cannot be an argument, or None."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > MAX_DEPTH:
                return f"JSON nested more than {MAX_DEPTH} deep"
            children = list(item.items()) if isinstance(item, dict) else [(None, v) for v in item]
            for key, child in children:
                if isinstance(key, str) and _lone_surrogate(key):
                    return "a lone surrogate in a JSON string"
                stack.append((child, depth + 1))
        elif isinstance(item, str) and _lone_surrogate(item):
            return "a lone surrogate in a JSON string"
    return None


def _lone_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False

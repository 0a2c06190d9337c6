"""What the client and the self-hosted server agree on beyond the Smooth API's own fields.

Imported by both ends (the local server imports nothing else from the client side for these), so
a name here cannot drift between them.
"""

from __future__ import annotations

# Task metadata key the self-hosted reader honours: false reads the whole visible page (navigation,
# sidebars and footers included) instead of only its main content. A Smooth cloud agent receives
# it as one more task variable.
MAIN_CONTENT_ONLY = "main_content_only"


def reads_main_content_only(metadata: object) -> bool:
    """The reader's mode from a task's metadata: main content unless the key says false."""
    if not isinstance(metadata, dict):
        return True
    value = metadata.get(MAIN_CONTENT_ONLY, True)
    if isinstance(value, str):
        return value.strip().lower() not in ("false", "0", "no", "off")
    return bool(value)

"""User text (session names) inside Streamlit's Markdown: shown as typed, never as formatting or links."""

import re

_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>$:])")


def plain(text: str) -> str:
    """``text`` with every Markdown character escaped, so "**Maths** [link](x)" shows exactly that."""
    return _SPECIAL.sub(r"\\\1", text)

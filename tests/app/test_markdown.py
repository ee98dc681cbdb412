"""Session names shown in Markdown are shown as typed."""

from fer.app.markdown import plain


def test_markdown_and_links_in_a_name_are_shown_literally() -> None:
    assert plain("**Maths** [click](http://evil.example) _7B_ #1") == (
        r"\*\*Maths\*\* \[click\]\(http\://evil\.example\) \_7B\_ \#1"
    )
    assert plain("Year 9 French") == "Year 9 French"

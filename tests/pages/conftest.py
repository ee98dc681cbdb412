"""Fixtures for the page tests."""

import pytest


@pytest.fixture(autouse=True)
def routed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages run through app.py's navigation as in a server that has served its first request.

    AppTest forgets before every run that app.py's ``st.navigation`` turned the old ``pages/``-folder
    routing off, so each run would start on the bare page, whose ``use_app_navigation`` reruns it through
    app.py, dropping a button press on the way. A real server forgets it never.
    """
    from streamlit.runtime.pages_manager import PagesManager

    real_init = PagesManager.__init__

    def init(self: PagesManager, *args: object, **kwargs: object) -> None:
        real_init(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)

"""``/api/model/<name>``: the shipped networks that Live's browser mode runs in the teacher's browser.

They are public files of this repository, so any visitor may fetch them; nothing else is served from here.
"""

from __future__ import annotations

from fer.engine.detection import CENTERFACE_PATH
from fer.paths import DEFAULT_MODEL_PATH

MODEL_ROUTE = "/api/model/"
SERVED_MODELS = {path.name: path for path in (CENTERFACE_PATH, DEFAULT_MODEL_PATH)}


def routes() -> list:
    """The route, for ``st.App(routes=...)``."""
    from starlette.responses import FileResponse, PlainTextResponse
    from starlette.routing import Route

    async def model(request: object) -> object:
        path = SERVED_MODELS.get(request.path_params["name"])
        if path is None:
            return PlainTextResponse("no such model", status_code=404)
        headers = {"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"}
        return FileResponse(path, media_type="application/octet-stream", headers=headers)

    return [Route(MODEL_ROUTE + "{name}", model)]

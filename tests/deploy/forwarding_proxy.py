"""A reverse proxy like Streamlit Community Cloud's in front of the app: HTTP and WebSocket passed through with the
browser's Host and Origin, plus the forwarding headers such a proxy adds (X-Forwarded-For/-Proto/-Host).

The browser reaches it under a public name (chromium's host-resolver rules map it to this proxy's loopback
address) on the server's own port, so the Host the server sees is the public one, as on Cloud.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import httpx
import uvicorn
import websockets
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "upgrade", "content-length"}
VISITOR_IP = "198.51.100.7"  # the visitor's address as the proxy reports it (TEST-NET-2: no real machine)


def _forwarded(headers: list[tuple[str, str]], host: str) -> list[tuple[str, str]]:
    kept = [(name, value) for name, value in headers if name.lower() not in HOP_BY_HOP]
    return [*kept, ("x-forwarded-for", VISITOR_IP), ("x-forwarded-proto", "https"), ("x-forwarded-host", host)]


def proxy_app(upstream_host: str, upstream_port: int) -> Starlette:
    """Forward everything to ``upstream_host:upstream_port``."""
    client = httpx.AsyncClient(base_url=f"http://{upstream_host}:{upstream_port}", timeout=None)

    async def forward_http(request: Request) -> StreamingResponse:
        headers = _forwarded(list(request.headers.items()), request.headers.get("host", ""))
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        body = await request.body()
        sent = client.build_request(request.method, target, headers=headers, content=body)
        answer = await client.send(sent, stream=True)
        passed = [(n, v) for n, v in answer.headers.multi_items() if n.lower() not in HOP_BY_HOP]
        response = StreamingResponse(answer.aiter_raw(), answer.status_code, background=BackgroundTask(answer.aclose))
        response.raw_headers = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in passed]
        return response

    async def forward_websocket(browser: WebSocket) -> None:
        offered = [p.strip() for p in browser.headers.get("sec-websocket-protocol", "").split(",") if p.strip()]
        skip = HOP_BY_HOP | {"host", "origin", "sec-websocket-key", "sec-websocket-version", "sec-websocket-protocol"}
        skip |= {"sec-websocket-extensions"}
        extra = [(n, v) for n, v in _forwarded(list(browser.headers.items()), browser.headers["host"]) if n not in skip]
        sock = socket.create_connection((upstream_host, upstream_port))
        target = f"ws://{browser.headers['host']}{browser.url.path}"
        try:
            upstream = await websockets.connect(
                target, sock=sock, origin=browser.headers.get("origin"), subprotocols=offered or None,
                additional_headers=extra, max_size=None, compression=None,
            )  # fmt: skip
        except websockets.InvalidStatus as refused:
            sock.close()
            await browser.close(code=1008, reason=f"upstream answered {refused.response.status_code}")
            return
        await browser.accept(subprotocol=upstream.subprotocol)

        async def to_upstream() -> None:
            try:
                while True:
                    message = await browser.receive()
                    if message["type"] == "websocket.disconnect":
                        return
                    await upstream.send(message.get("bytes") or message.get("text") or b"")
            except WebSocketDisconnect:
                return

        async def to_browser() -> None:
            async for message in upstream:
                if isinstance(message, bytes):
                    await browser.send_bytes(message)
                else:
                    await browser.send_text(message)

        tasks = [asyncio.ensure_future(to_upstream()), asyncio.ensure_future(to_browser())]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            task.cancel()
        await upstream.close()
        with suppress(RuntimeError):
            await browser.close()

    methods = ["GET", "POST", "PUT", "DELETE", "OPTIONS", "HEAD", "PATCH"]
    return Starlette(
        routes=[WebSocketRoute("/{path:path}", forward_websocket), Route("/{path:path}", forward_http, methods=methods)]
    )


@contextmanager
def running_proxy(listen_host: str, port: int, upstream_host: str) -> Iterator[None]:
    """The proxy on ``listen_host:port`` in a thread, forwarding to ``upstream_host`` on the same port."""
    app = proxy_app(upstream_host, port)
    config = uvicorn.Config(app, host=listen_host, port=port, log_level="warning", ws="websockets-sansio")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the forwarding proxy did not start")
        threading.Event().wait(0.05)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)

"""The yardstick of ``serve.py``: a bare Starlette endpoint on uvicorn returning one fixed JSON
body, on the same route shape and the same uvicorn (event loop, HTTP parser) as the server.

    python benchmarks/baseline_app.py PORT BODY_SIZE
"""

from __future__ import annotations

import sys

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def make_app(size: int) -> Starlette:
    filler = "x" * max(size - len('{"content":""}\n'), 0)
    body = ('{"content":"' + filler + '"}\n').encode()

    async def prompt(request: Request) -> Response:
        return Response(body, media_type="application/json")

    return Starlette(routes=[Route("/v1/prompts/{name}", prompt)])


if __name__ == "__main__":
    port, size = int(sys.argv[1]), int(sys.argv[2])
    uvicorn.run(
        make_app(size),
        host="127.0.0.1",
        port=port,
        log_config=None,
        access_log=False,
        server_header=False,
    )

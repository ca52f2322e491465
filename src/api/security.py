"""Bearer-token authentication, failed-auth rate limiting and request-size limiting for the REST API."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException

from src.services import api_limits
from src.services.context import Actor, AppContext, get_app
from src.services.tokens import authenticate_token

bearer = HTTPBearer(auto_error=False, description="API token created by an admin on the Users page")


class FailedAuthLimiter:
    """At most ``max_failures`` failed authentications per client address within ``window_s``; then 429.

    The failures are counted in the database (:mod:`src.services.api_limits`), so the limit holds across every API
    process that shares it — kept in one process's memory, a client could spread its guesses over the workers.
    A first line against token guessing (tokens have 256 bits, so this mainly keeps noisy clients from filling the
    logs and burning CPU). ``since`` (tests only) ignores failures recorded before that time.
    """

    def __init__(self, max_failures: int = 10, window_s: float = 60.0, since: float | None = None) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self.since = since

    def blocked(self, ctx: AppContext, key: str, now: float | None = None) -> bool:
        return api_limits.recent_failures(ctx, key, self.window_s, now=now, since=self.since) >= self.max_failures

    def fail(self, ctx: AppContext, key: str, now: float | None = None) -> None:
        api_limits.record_failure(ctx, key, keep_s=self.window_s, now=now)


limiter = FailedAuthLimiter()


def app_ctx() -> AppContext:
    return get_app()


def client_key(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def current_actor(request: Request, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
                  ctx: Annotated[AppContext, Depends(app_ctx)]) -> Actor:
    key = client_key(request)
    guard: FailedAuthLimiter = getattr(request.app.state, "auth_limiter", None) or limiter
    if guard.blocked(ctx, key):
        raise HTTPException(429, "Too many failed authentications; wait a minute.",
                            headers={"Retry-After": str(int(guard.window_s))})
    actor = authenticate_token(ctx, creds.credentials if creds else None)
    if actor is None:
        guard.fail(ctx, key)
        raise HTTPException(401, "Missing or invalid API token.", headers={"WWW-Authenticate": "Bearer"})
    return actor


class BodySizeLimit:
    """ASGI middleware: 413 for bodies over ``max_bytes`` (declared or streamed), before any parsing."""

    def __init__(self, app, max_bytes: int) -> None:  # noqa: ANN001
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):  # noqa: ANN001
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            return await _too_large(send, self.max_bytes)
        seen = 0

        async def limited_receive():  # noqa: ANN202
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _BodyTooLarge(self.max_bytes)
            return message

        try:
            return await self.app(scope, limited_receive, send)
        except _BodyTooLarge:
            return await _too_large(send, self.max_bytes)


class _BodyTooLarge(StarletteHTTPException):
    """Raised from ``receive`` once a streamed body passes the limit. An HTTPException, because FastAPI turns any
    other exception raised while it reads the body into "400 There was an error parsing the body" (a chunked body
    has no Content-Length to refuse up front); an HTTPException it passes on, and the 413 handler answers."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"Request body too large (limit {max_bytes} bytes).")


async def _too_large(send, max_bytes: int) -> None:  # noqa: ANN001
    body = (b'{"detail":"Request body too large (limit %d bytes)."}' % max_bytes)
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})

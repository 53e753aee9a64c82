"""The self-hosted server's management API as the sandbox answers it (once no fault got in
the way): read routes under `/api`, and the unauthenticated `GET /health`.

Order of judgement follows the server: the router first (a path or method it has no route
for is Phoenix's 404, whatever the token), then the token (`VerifyApiToken`, 401 with the
server's own words), then the controller. Write routes the server has (POST, PUT, PATCH,
DELETE) answer 405 here: the sandbox serves reads only.
"""

from __future__ import annotations

from collections.abc import Collection
from urllib.parse import parse_qs, unquote

from tap_sequin.sandbox.replies import Reply, summary
from tap_sequin.sandbox.self_hosted.world import UnknownSink, World, dump
from tap_sequin.sandbox.wire import HTML, Head

HOW_TO = (
    "API tokens are generated in the Sequin console (console.sequin.io) and should be "
    "included in the Authorization header of your request. For example:\n\n"
    "Authorization: Bearer <your-api-token>\n"
)
NO_TOKEN = f"Please provide a valid API token in the Authorization header.\n\n{HOW_TO}\n"
NOT_BEARER = (
    "Please provide a valid API token in the Authorization header. Ensure your "
    f'Authorization value is prefixed with "Bearer".\n\n{HOW_TO}\n'
)
TWO_TOKENS = f"Please provide exactly one Authorization header in your request.\n\n{HOW_TO}\n"
REFUSED = (
    "The API token you provided is invalid or has expired. Your token may have been revoked "
    "or deleted in the Sequin console.\n"
)
REVISION = "v0.14.6"

# Route shapes (path segments, `*` for an id or name) and the methods the server routes.
ROUTES: dict[tuple[str, ...], frozenset[str]] = {
    ("api", "sinks"): frozenset({"GET", "POST"}),
    ("api", "sinks", "*"): frozenset({"GET", "PATCH", "PUT", "DELETE"}),
    ("api", "sinks", "*", "backfills"): frozenset({"GET", "POST"}),
    ("api", "sinks", "*", "backfills", "*"): frozenset({"GET", "PATCH", "PUT"}),
    ("api", "postgres_databases"): frozenset({"GET", "POST"}),
    ("api", "postgres_databases", "*"): frozenset({"GET", "PATCH", "PUT", "DELETE"}),
    ("api", "destinations", "http_endpoints"): frozenset({"GET", "POST"}),
    ("api", "destinations", "http_endpoints", "*"): frozenset({"GET", "PATCH", "PUT", "DELETE"}),
}


def routed_methods(segments: tuple[str, ...]) -> frozenset[str]:
    """The methods the server routes for a path (none: the path is unknown)."""
    for shape, methods in ROUTES.items():
        if len(shape) == len(segments) and all(
            p in ("*", s) for p, s in zip(shape, segments, strict=True)
        ):
            return methods
    return frozenset()


def not_found(entity: str) -> Reply:
    """The controller's 404 (the server leaves the asked-for id out of the message)."""
    return summary(404, f"Not found: No `{entity}` found matching the provided ID or name")


def no_route(head: Head) -> Reply:
    """Phoenix's answer to a path it has no route for: JSON only to a client that asks for
    JSON alone, else the HTML format's plain `Not Found` (any `*/*` counts as a browser)."""
    accept = head.headers.get("accept", "")
    if "json" in accept and "*/*" not in accept:
        return Reply(404, dump({"errors": {"detail": "Not Found"}}))
    return Reply(404, b"Not Found", content_type=HTML)


class SelfHostedApi:
    """Routes requests to the world; holds the one valid token (None: none is)."""

    def __init__(self, world: World, token: str | None) -> None:
        self.world = world
        self.token = token
        self.not_found: Collection[str] = frozenset()
        self.revoked = False

    def unauthorised(self) -> Reply:
        """The answer to a request whose token is refused."""
        return summary(401, REFUSED)

    def refusal(self, head: Head) -> Reply | None:
        """The 401 for a request's `Authorization` header(s), or None if the token is good."""
        values = head.repeated.get("authorization") or (
            [head.headers["authorization"]] if "authorization" in head.headers else []
        )
        if not values:
            return summary(401, NO_TOKEN)
        if len(values) > 1:
            return summary(401, TWO_TOKENS)
        if not values[0].startswith("Bearer "):
            return summary(401, NOT_BEARER)
        if self.revoked or self.token is None or values[0][len("Bearer ") :] != self.token:
            return self.unauthorised()
        return None

    def answer(self, head: Head, body: bytes) -> Reply:
        """Answer one parsed request."""
        method = "GET" if head.method == "HEAD" else head.method
        segments = tuple(unquote(s) for s in head.path.split("/") if s)
        if segments == ("health",) and method == "GET":
            return self._health()
        if method not in routed_methods(segments):
            return no_route(head)
        refused = self.refusal(head)
        if refused is not None:
            return refused
        if method != "GET":
            return summary(405, "The sandbox serves the self-hosted API read-only (GET only)")
        show = parse_qs(head.query).get("show_sensitive", ["false"])[-1] == "true"
        return self._read(segments[1:], show)

    def _read(self, route: tuple[str, ...], show_sensitive: bool) -> Reply:
        world = self.world
        if route == ("sinks",):
            return Reply(200, world.list_body())
        if route[0] == "sinks":
            sink_id = world.resolve(route[1])
            if sink_id is None or sink_id in self.not_found:
                return not_found("consumer")
            try:
                if len(route) == 2:
                    return Reply(200, world.sink_body(sink_id))
                if len(route) == 3:
                    return Reply(200, world.backfills_body(sink_id))
                found = world.backfill(sink_id, route[3])
            except UnknownSink:
                return not_found("consumer")
            return not_found("backfill") if found is None else Reply(200, dump(found))
        if route == ("postgres_databases",):
            return Reply(200, world.databases_body(show_sensitive))
        if route[0] == "postgres_databases":
            db = world.database(route[1], show_sensitive)
            return not_found("postgres database") if db is None else Reply(200, dump(db))
        if len(route) == 2:
            return Reply(200, world.endpoints_body())
        endpoint = world.endpoint(route[2])
        return not_found("http endpoint") if endpoint is None else Reply(200, dump(endpoint))

    def _health(self) -> Reply:
        # The server writes this body with no content-type header.
        error = self.world.server_error
        if error is None:
            return Reply(200, dump({"ok": True, "rev": REVISION}), content_type=None)
        detail = {"ok": False, "error": f"Error with service: {error}", "details": None}
        return Reply(500, dump(detail), content_type=None)

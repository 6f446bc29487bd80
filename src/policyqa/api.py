"""`policyqa serve`: the HTTP JSON API, a thin shell over the library verbs the command line uses.

Endpoints: POST /ask, /quote and /check; GET /documents, /documents/{id}/sections,
/documents/{id}/section?ref=... and /health;
OpenAPI at /openapi.json and its docs page at /docs. /ask answers with exactly `Answer.to_json()`,
the object `policyqa ask --json` prints; /quote with what `policyqa quote --json` prints.

Why FastAPI + uvicorn: the request models (pydantic) are at once the input bounds, the readable
422 errors and the OpenAPI spec that /docs shows and the tests fuzz (schemathesis), declared once;
uvicorn is the ASGI server FastAPI is built for, and both are widely used and kept up. Starlette,
under both, already came with Streamlit. The /docs page's Swagger UI files come from the
fastapi-offline wheel rather than a CDN, so the page works on a machine with no network and makes
no outside request, like the Streamlit page.

What guards it, outermost first (pure ASGI middleware, so they cover every route, 404s included):
CORS (only when POLICYQA_API_CORS names origins); bearer tokens (POLICYQA_API_TOKENS, compared in
constant time, never logged; every route but /health) and a per-client token-bucket rate limit
(429 with Retry-After); a request body limit (413). Bad input is a 4xx JSON body
`{"error": "...", "details": [...]}`; anything unexpected is logged with its trace on the server and
answered with a generic 500 JSON body, so no stack trace reaches a client.

The index is loaded once per process. Calls into the library take one lock: concurrent asks are
correct (tests/test_query.py), but on 2 cores they would only contend, since torch already uses
both cores for one question and threadpoolctl's BLAS limit is process-wide state that interleaved
calls would set and reset under each other. So a process answers one question at a time while
uvicorn keeps reading and writing other requests, and scale-out is more processes (several
`serve` over one store, behind a balancer).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import math
import os
import threading
import time
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from typing import Annotated, Any, Literal

from fastapi import FastAPI, Query, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from starlette.exceptions import HTTPException

from .config import Settings

log = logging.getLogger("policyqa.api")

MAX_QUESTION_CHARS = Settings.__dataclass_fields__["max_query_chars"].default  # 2000
MAX_K = 50
MAX_DOCS = 20
MAX_BATCH = 200  # citations.MAX_BATCH, the page's limit too
MAX_BODY_BYTES = 1024 * 1024
OPEN_PATHS = frozenset({"/health"})  # no token needed, no rate limit (balancers poll it)

# Non-blank text: the pattern is a search (JSON Schema's and pydantic's), so any non-space will do.
Text = Annotated[str, StringConstraints(min_length=1, max_length=MAX_QUESTION_CHARS, pattern=r"\S")]
Label = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Docs = Annotated[list[Label] | None, Field(max_length=MAX_DOCS, description=(
    "restrict to these documents, by citation label (\"DMH 4.12\") or id (file name without "
    "extension)"))]


# ---------------------------------------------------------------- request and response models

class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AskRequest(_Strict):
    question: Text
    k: int = Field(5, ge=1, le=MAX_K, description="passages to return")
    mode: Literal["hybrid", "bm25", "dense"] = "hybrid"
    docs: Docs = None


class QuoteRequest(_Strict):
    phrase: Text
    docs: Docs = None


class CheckItem(_Strict):
    """One quote and, optionally, the citation it was given."""

    quote: Text = Field(description="the words as quoted")
    citation: Annotated[str, StringConstraints(max_length=500)] = Field(
        "", description="the citation they were given (\"\" for none)")


class CheckBatch(_Strict):
    """Up to 200 quotes, each answered in its place."""

    items: Annotated[list[CheckItem], Field(min_length=1, max_length=MAX_BATCH)]


CheckRequest = CheckItem | CheckBatch
UNION_MEMBERS = {"CheckItem", "CheckBatch"}  # pydantic names a union's member in an error's loc


class ErrorBody(BaseModel):
    error: str
    details: list[dict[str, str]] = []


class CopyOut(BaseModel):
    doc_id: str
    citation: str
    page: int | None
    start: int
    end: int


class PassageOut(BaseModel):
    rank: int
    doc_id: str
    doc_title: str
    citation: str
    section: str
    page: int | None
    start: int
    end: int
    text: str
    score: float
    also_in: list[CopyOut] = Field(description="other places these very words stand "
                                               "(a policy's PDF beside its Word file)")


class AnswerSpanOut(BaseModel):
    text: str
    citation: str
    passage_rank: int


class AskResponse(BaseModel):
    question: str
    note: str
    answered: bool
    answer: AnswerSpanOut | None
    passages: list[PassageOut]


class QuoteMatchOut(BaseModel):
    doc_id: str
    doc_label: str
    start: int
    end: int
    text: str
    sentence: str
    citation: str
    exact: bool
    similarity: float


class QuoteResponse(BaseModel):
    phrase: str
    matches: list[QuoteMatchOut]


class WordDiffOut(BaseModel):
    op: str
    quoted: str
    source: str


class VerdictOut(BaseModel):
    quote: str
    claimed_citation: str
    status: Literal["verbatim", "differences", "not_found"]
    verdict: str
    claimed_citation_matches: bool | None
    true_citations: list[str]
    document_words: str
    similarity: float
    differences: list[WordDiffOut]
    matches: list[QuoteMatchOut]


class CheckBatchOut(BaseModel):
    results: list[VerdictOut]


class DocumentOut(BaseModel):
    id: str
    label: str
    title: str
    issuer: str
    date: str
    pages: int | None
    sections: int


class DocumentsOut(BaseModel):
    documents: list[DocumentOut]


class SectionOut(BaseModel):
    id: int
    parent: int | None
    depth: int
    marker: str
    title: str
    path: str
    citation: str
    start: int
    end: int


class SectionsOut(BaseModel):
    document: DocumentOut
    sections: list[SectionOut]


class SectionTextOut(SectionOut):
    text: str


class SectionTextsOut(BaseModel):
    document: DocumentOut
    sections: list[SectionTextOut]


class HealthOut(BaseModel):
    status: str
    store: str
    index: dict[str, Any]


# ---------------------------------------------------------------- configuration

@dataclass(frozen=True)
class ApiConfig:
    """What the environment sets: tokens, CORS origins, the rate limit and the body limit."""

    tokens: tuple[str, ...] = ()
    cors_origins: tuple[str, ...] = ()
    rate: float = 10.0  # requests per second per client; 0 turns the limit off
    burst: int = 20
    max_body_bytes: int = MAX_BODY_BYTES

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> ApiConfig:
        """POLICYQA_API_TOKENS, POLICYQA_API_CORS (comma-separated), POLICYQA_API_RATE,
        POLICYQA_API_BURST, POLICYQA_API_MAX_BODY (bytes); ValueError names a bad one."""
        env = os.environ if env is None else env

        def items(name: str) -> tuple[str, ...]:
            return tuple(x.strip() for x in env.get(name, "").split(",") if x.strip())

        def number(name: str, kind, default, minimum):
            raw = env.get(name, "").strip()
            if not raw:
                return default
            try:
                value = kind(raw)
            except ValueError:
                raise ValueError(f"{name} must be a number, not {raw!r}") from None
            if not (value >= minimum and math.isfinite(value)):
                raise ValueError(f"{name} must be at least {minimum}, not {raw!r}")
            return value

        tokens = items("POLICYQA_API_TOKENS")
        if env.get("POLICYQA_API_TOKENS", "").strip() and not tokens:
            raise ValueError("POLICYQA_API_TOKENS is set but names no token")
        return cls(tokens=tokens, cors_origins=items("POLICYQA_API_CORS"),
                   rate=number("POLICYQA_API_RATE", float, cls.rate, 0.0),
                   burst=number("POLICYQA_API_BURST", int, cls.burst, 1),
                   max_body_bytes=number("POLICYQA_API_MAX_BODY", int, cls.max_body_bytes, 1))


# ---------------------------------------------------------------- JSON, errors and guards

class Json(JSONResponse):
    """JSON as UTF-8, or ASCII-escaped when the content holds lone surrogates (which a client can
    send as \\ud800 escapes) that UTF-8 cannot encode: the same JSON value either way."""

    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except UnicodeEncodeError:
            return json.dumps(content, ensure_ascii=True, allow_nan=False,
                              separators=(",", ":")).encode("ascii")


def error(status: int, message: str, details: list[dict] | None = None,
          headers: dict[str, str] | None = None) -> Json:
    body: dict[str, Any] = {"error": message}
    if details is not None:
        body["details"] = details
    return Json(body, status_code=status, headers=headers)


def readable(errors) -> list[dict[str, str]]:
    """pydantic's errors as {"field": "k", "message": "..."}: where, and what is wrong."""
    out = []
    for e in errors:
        loc = [str(p) for p in e.get("loc", ()) if p != "body" and p not in UNION_MEMBERS]
        msg = str(e.get("msg", "invalid")).removeprefix("Value error, ")
        if e.get("type") == "string_pattern_mismatch":  # the only pattern: Text's non-blank rule
            msg = "must not be blank"
        elif e.get("type") == "json_invalid":  # loc is ("body", character offset)
            where = f" at character {loc[0]}" if loc else ""
            loc, msg = [], f"not valid JSON{where} ({(e.get('ctx') or {}).get('error', msg)})"
        elif e.get("type") in ("model_attributes_type", "dict_type") and not loc:
            msg = "the body must be a JSON object"
        out.append({"field": ".".join(loc) or "body", "message": msg})
    return out


class BodyLimit:
    """413 for a request body over `max_bytes`: at once from Content-Length, else while it is read
    (a chunked body is counted as it arrives, never read whole first)."""

    def __init__(self, app, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                if not value.isdigit():
                    return await error(400, "invalid Content-Length header")(scope, receive, send)
                if int(value) > self.max_bytes:
                    return await self._too_large(scope, receive, send)
        received = 0

        async def counted():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # FastAPI re-raises an HTTPException met while reading the body: our handler
                    # turns it into the JSON 413.
                    raise HTTPException(413, self._message())
            return message

        await self.app(scope, counted, send)

    def _message(self) -> str:
        return f"request body too large (the limit is {self.max_bytes:,} bytes)"

    async def _too_large(self, scope, receive, send):
        await error(413, self._message())(scope, receive, send)


class RateLimiter:
    """A token bucket per client: `burst` requests at once, refilled at `rate` per second.

    Buckets of the least recently seen clients are dropped past `max_clients`, so memory stays
    bounded whatever addresses come."""

    def __init__(self, rate: float, burst: int, max_clients: int = 10_000):
        self.rate, self.burst, self.max_clients = rate, burst, max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: str, now: float | None = None) -> float:
        """0 when the request may go ahead, else the seconds until it could."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.pop(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            wait = 0.0
            if tokens >= 1.0:
                tokens -= 1.0
            else:
                wait = (1.0 - tokens) / self.rate
            self._buckets[key] = (tokens, now)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
        return wait


def _digest(token: str | bytes) -> bytes:
    return hashlib.sha256(token if isinstance(token, bytes) else token.encode()).digest()


class Guard:
    """Bearer tokens and the rate limit.

    A request with a valid token is limited per token (each client of the API its own bucket);
    any other request per client address, so guessing tokens is rate limited too, and a 429 comes
    before a 401. Tokens are compared as SHA-256 digests with hmac.compare_digest against every
    configured token (no early exit), so timing tells nothing of a token's content or length.
    """

    def __init__(self, app, tokens: tuple[str, ...], limiter: RateLimiter | None):
        self.app, self.limiter = app, limiter
        self.digests = [_digest(t) for t in tokens]

    def _valid(self, presented: bytes | None) -> bool:
        if presented is None:
            return False
        mine = _digest(presented)
        ok = False
        for digest in self.digests:
            ok |= hmac.compare_digest(mine, digest)
        return ok

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            return await self.app(scope, receive, send)
        presented = None
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                scheme, _, credentials = value.partition(b" ")
                if scheme.lower() == b"bearer" and credentials.strip():
                    presented = credentials.strip()
        valid = bool(self.digests) and self._valid(presented)
        if self.limiter is not None:
            client = scope.get("client") or ("unknown", 0)
            key = "token:" + _digest(presented).hex()[:32] if valid else f"addr:{client[0]}"
            wait = self.limiter.take(key)
            if wait > 0:
                retry = max(1, math.ceil(wait))
                return await error(429, f"too many requests: retry in {retry} s",
                                   headers={"Retry-After": str(retry)})(scope, receive, send)
        if self.digests and not valid:
            message = "a valid bearer token is required (Authorization: Bearer TOKEN)" \
                if presented is None else "the bearer token is not valid"
            return await error(401, message, headers={"WWW-Authenticate": "Bearer"})(
                scope, receive, send)
        await self.app(scope, receive, send)


# ---------------------------------------------------------------- the application

ERRORS = {status: {"model": ErrorBody, "description": text} for status, text in (
    (400, "a document the request names does not exist"), (401, "no valid bearer token"),
    (413, "request body too large"), (415, "the request body is not JSON"),
    (422, "the request body is not valid"),
    (429, "too many requests (see Retry-After)"), (500, "internal error (logged on the server)"))}


@dataclass
class _State:
    """The index served, switched to a newer current version as `index.follow` finds one."""

    loaded: Any
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def index(self):
        from .index import follow

        self.loaded = follow(self.loaded)
        return self.loaded


def create_app(index, config: ApiConfig | None = None) -> FastAPI:
    """The API over a loaded index (`index.load_index`), guarded as `config` says."""
    from fastapi_offline import FastAPIOffline

    from . import __version__
    from .answers import ask
    from .citations import check_citation
    from .cli import _doc_ids
    from .quotes import find_quote, find_sections, sections_json

    config = config or ApiConfig()
    app = FastAPIOffline(
        title="policyqa", version=__version__, redoc_url=None, default_response_class=Json,
        description="Extractive, cited answers over mental-health service policies: every word "
                    "shown is the policy's own, with its document, section path and page.",
        responses=ERRORS)
    state = _State(index)

    def doc_ids(labels: list[str] | None) -> list[str] | None:
        try:
            return _doc_ids(state.index, labels)
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from None

    def document_json(doc_id: str) -> dict:
        doc = state.index.documents[doc_id]
        return {"id": doc_id, "label": doc.label, "title": doc.title, "issuer": doc.issuer,
                "date": doc.date, "pages": len(doc.page_starts) or None,
                "sections": len(state.index.structures[doc_id].sections) - 1}

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if request.method == "POST" and kind and kind != "application/json" \
                and not kind.endswith("+json"):
            return error(415, "send the body as JSON (Content-Type: application/json), "
                              f"not {kind[:100]}")
        errors = exc.errors()
        members = {e["loc"][1] for e in errors if len(e.get("loc", ())) > 1} & UNION_MEMBERS
        if members:  # /check: explain the shape the body was meant to have, not both shapes
            body = getattr(exc, "body", None)
            meant = "CheckBatch" if isinstance(body, dict) and "items" in body else "CheckItem"
            errors = [e for e in errors if len(e["loc"]) < 2 or e["loc"][1] in (meant, "body")] \
                or errors
        details = readable(errors)
        summary = "; ".join(f"{d['field']}: {d['message']}" for d in details[:3])
        if members:
            summary += ' (a check is {"quote", "citation"} or {"items": [...]})'
        return error(422, f"invalid request: {summary}", details)

    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, exc: HTTPException):
        message = str(exc.detail)
        if message == "There was an error parsing the body":  # FastAPI's, for undecodable bytes
            message = "the request body could not be read as JSON (UTF-8 expected)"
        return error(exc.status_code, message, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception):
        # Starlette re-raises after this response, and uvicorn logs the trace on the server.
        log.error("internal error on %s %s: %s", request.method, request.url.path,
                  type(exc).__name__)
        return error(500, "internal server error (logged on the server)")

    @app.post("/ask", response_model=AskResponse, summary="Answer a question with cited passages")
    def ask_route(body: AskRequest):
        docs = doc_ids(body.docs)
        with state.lock:
            answer = ask(state.index, body.question, k=body.k, mode=body.mode, docs=docs)
        return Json(answer.to_json())

    @app.post("/quote", response_model=QuoteResponse, summary="Every place a phrase stands")
    def quote_route(body: QuoteRequest):
        docs = doc_ids(body.docs)
        with state.lock:
            matches = find_quote(state.index, body.phrase, docs=docs)
        return Json({"phrase": body.phrase, "matches": [asdict(m) for m in matches]})

    @app.post("/check", response_model=VerdictOut | CheckBatchOut,
              summary="Check quotes and the citations they were given")
    def check_route(body: CheckRequest):
        # One verdict per item, in order (check_batch would skip quotes that are only quotation
        # marks; here they are answered "not found", so results line up with items).
        items = body.items if isinstance(body, CheckBatch) else [body]
        with state.lock:
            verdicts = [check_citation(state.index, i.quote, i.citation) for i in items]
        if isinstance(body, CheckItem):
            return Json(verdicts[0].to_json())
        return Json({"results": [v.to_json() for v in verdicts]})

    @app.get("/documents", response_model=DocumentsOut, summary="The documents in the index")
    def documents_route():
        return Json({"documents": [document_json(d) for d in state.index.documents]})

    @app.get("/documents/{doc}/sections", response_model=SectionsOut,
             responses={404: {"model": ErrorBody, "description": "no such document"}},
             summary="A document's table of contents (its section tree, in reading order)")
    def sections_route(doc: Annotated[str, PathParam(max_length=200,
                                                     description="document id or label")]):
        doc_id = known_doc(doc)
        return Json({"document": document_json(doc_id),
                     "sections": sections_json(state.index, doc_id)})

    @app.get("/documents/{doc}/section", response_model=SectionTextsOut,
             responses={404: {"model": ErrorBody,
                              "description": "no such document, or no section it names"}},
             summary="The section a reference names, with its verbatim text and citation")
    def section_route(doc: Annotated[str, PathParam(max_length=200,
                                                    description="document id or label")],
                      ref: Annotated[str, Query(min_length=1, max_length=200, description=(
                          'the section: its path ("V.4.A", "V › 4 › A") or its title\'s '
                          "words"))]):
        doc_id = known_doc(doc)
        ids = find_sections(state.index, doc_id, ref)
        if not ids:
            raise HTTPException(404, f"no section of {state.index.documents[doc_id].label} "
                                     f"matches {ref!r}")
        return Json({"document": document_json(doc_id),
                     "sections": sections_json(state.index, doc_id, ids, text=True)})

    def known_doc(doc: str) -> str:
        """The id of the document a label or id names, or a 404 saying which there are."""
        try:
            [doc_id, *_] = _doc_ids(state.index, [doc])
        except ValueError as exc:
            raise HTTPException(404, str(exc)) from None
        return doc_id

    @app.get("/health", response_model=HealthOut, summary="Liveness and the index served")
    def health_route():
        m = state.index.manifest
        return Json({"status": "ok", "store": state.index.settings.store_name, "index": {
            "build": state.index.path.name, "created": m.get("created"),
            "package_version": m.get("package_version"), "model": m.get("model"),
            "dimension": m.get("dimension"), "counts": m.get("counts", {}),
            "skipped": len(m.get("skipped", []))}})

    # Added last = outermost: CORS answers preflights before the guard asks for a token.
    app.add_middleware(BodyLimit, max_bytes=config.max_body_bytes)
    limiter = RateLimiter(config.rate, config.burst) if config.rate > 0 else None
    app.add_middleware(Guard, tokens=config.tokens, limiter=limiter)
    if config.cors_origins:
        from starlette.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=list(config.cors_origins),
                           allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"])
    if config.tokens:
        _document_bearer(app)
    return app


def _document_bearer(app: FastAPI) -> None:
    """Declare the bearer scheme in the OpenAPI spec (the docs page's Authorize button)."""
    base = app.openapi

    def openapi():
        if app.openapi_schema:
            return app.openapi_schema
        spec = base()
        spec.setdefault("components", {})["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer"}}
        for path, ops in spec.get("paths", {}).items():
            for op in ops.values():
                op["security"] = [] if path in OPEN_PATHS else [{"bearer": []}]
        app.openapi_schema = spec
        return spec

    app.openapi = openapi


# ---------------------------------------------------------------- `policyqa serve`

def serve(args) -> int:
    """Load the index once, then serve until interrupted (uvicorn handles SIGINT/SIGTERM)."""
    import uvicorn

    from .config import load_settings
    from .index import load_index

    config = ApiConfig.from_env()
    settings = load_settings(args.corpus, args.index, getattr(args, "database", None))
    # Over a database, serve only reads: `policyqa ingest --database` writes, and a hot standby
    # could not write anyway. The embedded index is (re)built in place as the CLI does.
    index = load_index(settings, rebuild="never" if settings.database_url else "auto")
    from .answers import ask

    ask(index, "How should I keep participant records?", k=1)  # load the model now, not on the
    # first client's question: once /health answers, every route answers at full speed
    app = create_app(index, config)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(name)s: %(message)s")
    print(f"policyqa: serving {len(index.documents)} documents on http://{args.host}:{args.port} "
          f"(docs at /docs; tokens {'required' if config.tokens else 'off'}; rate limit "
          f"{f'{config.rate:g}/s per client' if config.rate else 'off'})", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info", server_header=False)
    return 0

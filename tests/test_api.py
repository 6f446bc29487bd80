"""The HTTP API as a client meets it: real `policyqa serve` processes (uvicorn) on free loopback
ports over the real corpus index, called over real HTTP; then fuzzed from its own OpenAPI spec.

Two servers run for the whole module, started together: an open one (rate limit off, so the fuzz
and the load smoke test measure the API, not the limiter) and a locked one (bearer tokens and a
tight rate limit). Both run with networking guarded (tests/netguard.py) and stop at the end.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
import pytest
from netguard import guarded_env, net_attempts

from policyqa.answers import ask
from policyqa.citations import check_citation
from policyqa.config import ROOT, default_cache_dir
from policyqa.quotes import find_quote

TOKENS = ("t-good-0123456789", "t-rate-abcdefghij")
RATE, BURST = 0.5, 10
ORIGIN = "https://intranet.agency.example"
TRACE_MARKS = ("Traceback", 'File "', "site-packages")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    url: str
    proc: subprocess.Popen
    log: Path
    env: dict[str, str]

    def client(self, **kwargs) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=60, **kwargs)


def _start(folder: Path, **env_extra: str) -> Server:
    port = _free_port()
    env = guarded_env(folder, POLICYQA_CACHE=str(default_cache_dir()), **env_extra)
    log = folder / "server.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "policyqa.cli", "serve", "--port", str(port),
         "--corpus", str(ROOT / "corpus"), "--index", str(ROOT / "index")],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    return Server(f"http://127.0.0.1:{port}", proc, log, env)


def _wait(server: Server, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            pytest.fail(f"serve exited with {server.proc.returncode}:\n{server.log.read_text()}")
        try:
            if httpx.get(f"{server.url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    pytest.fail(f"serve did not answer /health in {timeout:g} s:\n{server.log.read_text()}")


@pytest.fixture(scope="module")
def servers(index, tmp_path_factory):
    """(open, locked): started at once (model loads overlap), stopped after the module."""
    started = [
        _start(tmp_path_factory.mktemp("api-open"), POLICYQA_API_RATE="0"),
        _start(tmp_path_factory.mktemp("api-locked"), POLICYQA_API_TOKENS=",".join(TOKENS),
               POLICYQA_API_RATE=str(RATE), POLICYQA_API_BURST=str(BURST),
               POLICYQA_API_CORS=ORIGIN),
    ]
    try:
        for server in started:
            _wait(server)
        yield started
    finally:
        for server in started:
            server.proc.terminate()
            try:
                server.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.proc.kill()
                server.proc.wait(timeout=15)
        for server in started:
            log = server.log.read_text()
            assert not any(token in log for token in TOKENS), "a token reached the server log"
            assert not net_attempts(server.env), "the server tried to reach the network"


@pytest.fixture(scope="module")
def api(servers):
    with servers[0].client() as client:
        yield client


@pytest.fixture(scope="module")
def locked(servers):
    return servers[1]


def no_trace(response: httpx.Response) -> httpx.Response:
    """Every body is JSON, and no error body carries a trace or a source path."""
    assert response.headers["content-type"].startswith("application/json"), response.text[:200]
    if response.status_code >= 400:
        body = response.json()
        assert isinstance(body.get("error"), str) and body["error"], body
        assert not any(mark in response.text for mark in TRACE_MARKS), response.text
    return response


# ---------------------------------------------------------------- the verbs, as the library answers

QUESTIONS = [
    ({"question": "How should I keep participant records?"}, {}),
    ({"question": "Can staff accept gifts?", "k": 3, "mode": "bm25", "docs": ["DMH 4.12"]},
     {"k": 3, "mode": "bm25", "docs": ["dmh-4.12-service-relationships"]}),
    ({"question": "What is the salary of a peer advocate?", "k": 2, "mode": "dense"},
     {"k": 2, "mode": "dense"}),
]


@pytest.mark.parametrize(("body", "kwargs"), QUESTIONS)
def test_ask_answers_what_the_library_answers(api, index, body, kwargs):
    response = no_trace(api.post("/ask", json=body))
    assert response.status_code == 200
    expected = ask(index, body["question"], **kwargs).to_json()
    assert response.json() == json.loads(json.dumps(expected))
    if "docs" in body:
        assert {p["doc_id"] for p in response.json()["passages"]} == set(kwargs["docs"])


def test_ask_matches_the_command_line(api):
    """The same bytes' worth of JSON as `policyqa ask --json` prints (one process, one line)."""
    question = "Can I lend a client $20?"
    run = subprocess.run([sys.executable, "-m", "policyqa.cli", "ask", "--json", "--k", "4",
                          "--index", str(ROOT / "index"), question],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    cli = json.loads(run.stdout)
    assert api.post("/ask", json={"question": question, "k": 4}).json() == cli
    assert cli["answered"] and "loan" in cli["answer"]["text"]


def test_ask_says_how_it_read_the_question(api):
    """A program that shows the answer learns that "cleints" was read as "clients", as the page
    and the command line tell their users; a question read as typed has an empty note."""
    typed = no_trace(api.post("/ask", json={"question": "Can staff acept gifts from cleints?"}))
    assert typed.json()["note"] == 'read "acept" as "accept", "cleints" as "clients"'
    assert no_trace(api.post("/ask", json={"question": "Can staff accept gifts?"})).json()[
        "note"] == ""
    assert api.get("/openapi.json").json()["components"]["schemas"]["AskResponse"][
        "properties"]["note"]["type"] == "string"


def test_quote_as_the_library_finds_it(api, index):
    for phrase in ("I will not loan or give money", "documnted honestly and acurately"):
        response = no_trace(api.post("/quote", json={"phrase": phrase}))
        assert response.status_code == 200
        assert response.json() == {"phrase": phrase,
                                   "matches": [asdict(m) for m in find_quote(index, phrase)]}
    exact = api.post("/quote", json={"phrase": "I will not loan or give money"}).json()["matches"]
    assert [m["citation"] for m in exact] == ["Longmont CM Code of Conduct, Client Relationships › 6"]
    assert exact[0]["exact"] is True
    filtered = api.post("/quote", json={"phrase": "I will not loan or give money",
                                        "docs": ["DMH 4.13"]}).json()
    assert filtered["matches"] == [] or not filtered["matches"][0]["exact"]


def test_check_one_quote(api, index):
    body = {"quote": "\u201cI will not loan or give money\u201d",
            "citation": "Longmont CM Code of Conduct, Client Relationships 6"}
    response = no_trace(api.post("/check", json=body))
    assert response.status_code == 200
    verdict = response.json()
    assert verdict == json.loads(json.dumps(check_citation(index, body["quote"],
                                                           body["citation"]).to_json()))
    assert verdict["status"] == "verbatim" and verdict["claimed_citation_matches"] is True
    assert verdict["true_citations"] == ["Longmont CM Code of Conduct, Client Relationships › 6"]
    # a quote that marks an omission: verbatim, the words it leaves out beside its mark
    body["quote"] = "I will not loan \u2026 to participants"
    verdict = no_trace(api.post("/check", json=body)).json()
    assert verdict["status"] == "verbatim"
    assert verdict["differences"] == [
        {"op": "omitted", "quoted": "\u2026", "source": "or give money"}]
    assert verdict["document_words"] == "I will not loan or give money to participants"


def test_check_a_batch_in_order(api, index):
    items = [
        {"quote": "I will not loan or give money", "citation": "DMH 4.12"},  # wrong document
        {"quote": "I will not lend or give money to participants"},  # differences
        {"quote": "Staff may keep any gift worth under a thousand dollars."},  # not there
        {"quote": "\"\""},  # only quotation marks: not found, still in its place
    ]
    response = no_trace(api.post("/check", json={"items": items}))
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["quote"] for r in results] == [i["quote"] for i in items]
    assert [r["status"] for r in results] == ["verbatim", "differences", "not_found", "not_found"]
    assert results[0]["claimed_citation_matches"] is False
    assert any(d["op"] != "equal" for d in results[1]["differences"])
    for item, result in zip(items, results, strict=True):
        expected = check_citation(index, item["quote"], item.get("citation", "")).to_json()
        assert result == json.loads(json.dumps(expected))
    too_many = no_trace(api.post("/check", json={"items": [{"quote": "x"}] * 201}))
    assert too_many.status_code == 422 and too_many.json()["details"][0]["field"] == "items"
    both = no_trace(api.post("/check", json={"quote": "x", "items": [{"quote": "y"}]}))
    assert both.status_code == 422 and '{"items": [...]}' in both.json()["error"]
    assert both.json()["details"] == [{"field": "quote", "message": "Extra inputs are not permitted"}]


def test_documents_and_sections(api, index):
    docs = no_trace(api.get("/documents")).json()["documents"]
    assert [d["id"] for d in docs] == list(index.documents)
    assert {d["label"] for d in docs} >= {"DMH 4.12", "DMH 4.13", "MISSION Toolkit"}
    by_label = no_trace(api.get("/documents/DMH 4.12/sections")).json()
    by_id = api.get("/documents/dmh-4.12-service-relationships/sections").json()
    assert by_label == by_id and by_label["document"]["label"] == "DMH 4.12"
    structure = index.structures["dmh-4.12-service-relationships"]
    sections = by_label["sections"]
    assert len(sections) == len(structure.sections) - 1 == by_label["document"]["sections"]
    for s in sections[:20]:
        assert s["path"] == structure.path_text(s["id"])
        assert s["citation"].startswith("DMH 4.12, ")
    missing = no_trace(api.get("/documents/DMH 9.99/sections"))
    assert missing.status_code == 404 and "DMH 9.99" in missing.json()["error"]


def test_a_section_a_reference_names_with_its_verbatim_text(api, index):
    """A supervisor's "V.4.A" gives the whole numbered paragraph, verbatim, with its citation:
    the API listed a document's sections but gave no section's words."""
    found = no_trace(api.get("/documents/DMH 4.12/section", params={"ref": "V.4.A"})).json()
    [section] = found["sections"]
    doc = index.documents["dmh-4.12-service-relationships"]
    assert section["citation"] == "DMH 4.12, V \u203a 4. Financial and Work Relationships \u203a A"
    assert section["text"] == doc.text[section["start"]:section["end"]].strip("\n")
    assert section["text"].startswith("A. These risks shall be reduced")
    by_title = api.get("/documents/DMH 4.12/section",
                       params={"ref": "financial and work relationships"}).json()
    assert [s["path"] for s in by_title["sections"]] == [
        "V \u203a 4. Financial and Work Relationships"]
    missing = no_trace(api.get("/documents/DMH 4.12/section", params={"ref": "Z.9"}))
    assert missing.status_code == 404 and "no section of DMH 4.12" in missing.json()["error"]


def test_health_summarises_the_index(api, index):
    health = no_trace(api.get("/health")).json()
    assert health["status"] == "ok" and health["store"] == "embedded"
    assert health["index"]["build"] == index.path.name
    assert health["index"]["counts"] == index.manifest["counts"]
    assert health["index"]["model"] == index.manifest["model"]


def test_docs_page_is_served_from_this_machine(api):
    page = api.get("/docs")
    assert page.status_code == 200 and "swagger-ui" in page.text
    assert "cdn." not in page.text and "https://" not in page.text.replace("https://fastapi", "")
    spec = no_trace(api.get("/openapi.json")).json()
    assert {"/ask", "/quote", "/check", "/documents", "/documents/{doc}/sections",
            "/documents/{doc}/section", "/health"} <= set(spec["paths"])
    asset = api.get("/static-offline-docs/swagger-ui-bundle.js")
    assert asset.status_code == 200 and len(asset.content) > 100_000


# ---------------------------------------------------------------- bad input

BAD = [
    ({"question": ""}, "question"),
    ({"question": "   \n"}, "question"),
    ({"question": "x" * 2001}, "question"),
    ({"question": "gifts", "k": 0}, "k"),
    ({"question": "gifts", "k": 51}, "k"),
    ({"question": "gifts", "k": "five"}, "k"),
    ({"question": "gifts", "mode": "magic"}, "mode"),
    ({"question": "gifts", "docs": ["DMH 4.12"] * 21}, "docs"),
    ({"question": "gifts", "questions": "typo"}, "questions"),
    ({}, "question"),
    ([1, 2], "body"),
]


@pytest.mark.parametrize(("body", "field"), BAD)
def test_bad_input_is_a_readable_422(api, body, field):
    response = no_trace(api.post("/ask", json=body))
    assert response.status_code == 422
    data = response.json()
    assert data["error"].startswith("invalid request: ")
    assert field in [d["field"] for d in data["details"]]
    assert all(set(d) == {"field", "message"} and d["message"] for d in data["details"])


def test_body_that_is_not_json(api):
    cases = [(b"{not json", "application/json", 422, "not valid JSON"),
             (b"[1, 2", "application/json", 422, "not valid JSON"),
             (b"\xff\xfe\x00", "application/json", 400, "UTF-8"),
             (b"question=gifts", "application/x-www-form-urlencoded", 415, "application/json"),
             (b'{"question": "gifts"}', "text/plain", 415, "application/json")]
    for content, content_type, status, words in cases:
        response = no_trace(api.post("/ask", content=content, headers={"content-type": content_type}))
        assert response.status_code == status, response.text
        assert words in response.json()["error"], response.text


def test_unknown_document_is_named(api):
    response = no_trace(api.post("/ask", json={"question": "gifts", "docs": ["DMH 4.12", "Nope 1"]}))
    assert response.status_code == 400
    assert "'Nope 1'" in response.json()["error"] and "DMH 4.12" in response.json()["error"]
    quote = no_trace(api.post("/quote", json={"phrase": "gifts", "docs": ["Nope 2"]}))
    assert quote.status_code == 400 and "'Nope 2'" in quote.json()["error"]


def test_lone_surrogates_and_markup_come_back_as_json(api):
    raw = b'{"question": "gifts \\ud800 <script>alert(1)</script>", "k": 1}'
    response = no_trace(api.post("/ask", content=raw, headers={"content-type": "application/json"}))
    assert response.status_code in (200, 422)
    if response.status_code == 200:
        assert "<script>" in response.json()["question"]  # JSON, not HTML: returned as given


def test_unknown_routes_and_methods(api):
    assert no_trace(api.get("/nope")).status_code == 404
    wrong = no_trace(api.get("/ask"))
    assert wrong.status_code == 405 and "POST" in wrong.headers.get("allow", "")


def test_body_over_the_limit_is_413(api):
    big = {"question": "gifts", "padding": "x" * (1024 * 1024 + 10)}
    response = no_trace(api.post("/ask", json=big))
    assert response.status_code == 413 and "limit" in response.json()["error"]

    def chunks():  # no Content-Length: counted as it arrives
        yield b'{"question": "gifts", "padding": "'
        for _ in range(70):
            yield b"y" * 16384
        yield b'"}'

    streamed = no_trace(api.post("/ask", content=chunks(), headers={"content-type": "application/json"}))
    assert streamed.status_code == 413
    # the connection pool and the server are fine afterwards
    assert api.get("/health").status_code == 200


def test_internal_errors_are_generic_and_logged(index, monkeypatch, caplog):
    """The catch-all: a fault inside a verb gives a generic 500 JSON body and a log line. (The
    only test here in process: a real fault has to be injected to be seen.)"""
    from fastapi.testclient import TestClient

    import policyqa.answers
    from policyqa.api import create_app

    def broken(*_args, **_kwargs):
        raise RuntimeError("secret internal detail /srv/policyqa/index.py")

    monkeypatch.setattr(policyqa.answers, "ask", broken)
    with TestClient(create_app(index), raise_server_exceptions=False) as client:
        response = client.post("/ask", json={"question": "gifts"})
    assert response.status_code == 500
    assert response.json() == {"error": "internal server error (logged on the server)"}
    assert "secret" not in response.text and "Traceback" not in response.text
    assert "internal error on POST /ask: RuntimeError" in caplog.text


# ---------------------------------------------------------------- the command, its address, CORS

def test_serve_listens_on_loopback_only(servers):
    """Bound to 127.0.0.1 by default: the kernel's own table of listening sockets says so."""
    for server in servers:
        port = int(server.url.rsplit(":", 1)[1])
        listening = []
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            for row in Path(table).read_text().splitlines()[1:]:
                local, state = row.split()[1], row.split()[3]
                if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                    listening.append(local.rsplit(":", 1)[0])
        assert listening == ["0100007F"], listening  # 127.0.0.1, and nothing else


@pytest.mark.parametrize("how", ["flag", "env"])
def test_unreachable_database_stops_serve_clearly_without_its_password(how, monkeypatch, capsys):
    from policyqa.cli import main

    url = "postgresql://postgres:s3cret-pw@127.0.0.1:1/postgres"
    if how == "env":
        monkeypatch.setenv("POLICYQA_DATABASE_URL", url)
    assert main(["serve", *(["--database", url] if how == "flag" else [])]) == 2
    err = capsys.readouterr().err
    assert "cannot connect to the database at 127.0.0.1:1/postgres" in err
    assert err.count("\n") == 1 and "s3cret-pw" not in err


@pytest.mark.parametrize(("name", "value", "words"), [
    ("POLICYQA_API_RATE", "fast", "must be a number"), ("POLICYQA_API_BURST", "0", "at least 1"),
    ("POLICYQA_API_RATE", "nan", "at least"), ("POLICYQA_API_TOKENS", " , ", "names no token")])
def test_bad_settings_stop_serve_before_it_starts(name, value, words, monkeypatch, capsys):
    from policyqa.cli import main

    monkeypatch.setenv(name, value)
    assert main(["serve", "--port", "1"]) == 2
    err = capsys.readouterr().err
    assert name in err and words in err and err.count("\n") == 1


def test_cors_only_for_the_configured_origin(servers):
    open_, locked = servers
    preflight = {"Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization, content-type"}
    allowed = httpx.options(f"{locked.url}/ask", headers={"Origin": ORIGIN, **preflight})
    assert allowed.status_code == 200  # a preflight carries no token, and needs none
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    other = httpx.options(f"{locked.url}/ask", headers={"Origin": "https://evil.example", **preflight})
    assert "access-control-allow-origin" not in other.headers
    off = httpx.get(f"{open_.url}/health", headers={"Origin": ORIGIN})
    assert "access-control-allow-origin" not in off.headers  # CORS is off unless configured


# ---------------------------------------------------------------- tokens and the rate limit

def test_tokens_guard_every_route_but_health(locked):
    with locked.client() as anon:
        assert no_trace(anon.get("/health")).status_code == 200
        for method, path, body in (("POST", "/ask", {"question": "gifts"}), ("GET", "/documents", None),
                                   ("GET", "/openapi.json", None), ("GET", "/docs", None)):
            response = no_trace(anon.request(method, path, json=body))
            assert response.status_code == 401, path
            assert response.headers["www-authenticate"] == "Bearer"
        wrong = no_trace(anon.get("/documents", headers={"Authorization": "Bearer t-good-01234567890"}))
        assert wrong.status_code == 401 and "not valid" in wrong.json()["error"]
        assert TOKENS[0] not in wrong.text
        basic = anon.get("/documents", headers={"Authorization": f"Basic {TOKENS[0]}"})
        assert basic.status_code == 401
    with locked.client(headers={"Authorization": f"Bearer {TOKENS[0]}"}) as client:
        assert no_trace(client.get("/documents")).status_code == 200
        assert no_trace(client.post("/ask", json={"question": "gifts", "k": 1})).status_code == 200
        spec = client.get("/openapi.json").json()
        assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_rate_limit_is_a_429_with_retry_after(locked):
    """BURST requests go through at once, then 429s with Retry-After, per client token."""
    statuses = []
    with locked.client(headers={"Authorization": f"Bearer {TOKENS[1]}"}) as client:
        for _ in range(BURST + 10):
            response = no_trace(client.get("/documents"))
            statuses.append(response.status_code)
            if response.status_code == 429:
                break
        assert statuses[:BURST] == [200] * BURST
        assert statuses[-1] == 429
        retry = int(response.headers["retry-after"])
        assert 1 <= retry <= 1 / RATE + 1
        assert "retry" in response.json()["error"]
        time.sleep(1 / RATE + 0.1)  # one token back
        assert client.get("/documents").status_code == 200
    # another client (the other token) has its own bucket
    with locked.client(headers={"Authorization": f"Bearer {TOKENS[0]}"}) as other:
        assert other.get("/documents").status_code == 200


def test_guessing_tokens_is_rate_limited_too(locked):
    """Requests without a valid token share their address's bucket: a guesser gets 429s, not an
    unbounded number of tries. (From 127.0.0.3, so the other tests' address keeps its bucket.)"""
    transport = httpx.HTTPTransport(local_address="127.0.0.3")
    statuses = []
    with locked.client(transport=transport) as guesser:
        for i in range(BURST + 10):
            response = no_trace(guesser.get("/documents", headers={"Authorization": f"Bearer guess-{i}"}))
            statuses.append(response.status_code)
            if response.status_code == 429:
                break
    assert statuses[:BURST] == [401] * BURST and statuses[-1] == 429


# ---------------------------------------------------------------- fuzzing from the OpenAPI spec

@pytest.fixture(scope="module")
def spec(servers):
    schemathesis = pytest.importorskip("schemathesis")
    return schemathesis.openapi.from_url(f"{servers[0].url}/openapi.json")


OPERATIONS = ["POST /ask", "POST /quote", "POST /check", "GET /documents",
              "GET /documents/{doc}/sections", "GET /documents/{doc}/section", "GET /health"]


@pytest.mark.parametrize("label", OPERATIONS)
def test_fuzz_from_the_openapi_spec(spec, label):
    """Valid and invalid requests drawn from the API's own spec (schemathesis): never a 5xx, never
    a trace, always JSON, an error always a 4xx body with a message, and every response as the
    spec declares it (status code, content type, body schema)."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    [operation] = [r.ok() for r in spec.get_all_operations() if r.ok().label == label]
    strategy = st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                         operation.as_strategy(GenerationMode.NEGATIVE))
    seen = []

    @given(case=strategy)
    @settings(max_examples=30, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    def run(case):
        response = case.call(timeout=60)
        seen.append(response.status_code)
        assert response.status_code < 500, (response.status_code, response.text[:500])
        assert not any(mark in response.text for mark in ("Traceback", 'File "')), response.text
        assert response.headers["content-type"][0].startswith("application/json")
        if response.status_code >= 400:
            assert isinstance(json.loads(response.text).get("error"), str)
        case.validate_response(response, checks=[not_a_server_error, status_code_conformance,
                                                 content_type_conformance,
                                                 response_schema_conformance])

    run()
    # the run really made requests (an operation without parameters has one request to make)
    assert len(seen) >= (10 if label.startswith("POST") or "{" in label else 1), seen
    print(label, sorted(Counter(seen).items()))


# ---------------------------------------------------------------- load smoke test

def test_load_smoke(servers, tmp_path):
    out = tmp_path / "load.json"
    run = subprocess.run([sys.executable, "-m", "benchmarks.load", "--smoke", servers[0].url,
                          "--json", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads(out.read_text())
    assert report["clients"] == 4 and 5 <= report["seconds"] < 60
    assert report["errors"] == 0 and report["requests"] == report["ok"] >= 8
    assert 0 < report["p50_ms"] <= report["p95_ms"]
    assert "throughput" in run.stdout


def test_load_refuses_addresses_off_this_machine():
    run = subprocess.run([sys.executable, "-m", "benchmarks.load", "--smoke", "http://10.0.0.1:8000"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "only loopback" in run.stderr

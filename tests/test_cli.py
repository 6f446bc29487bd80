"""The command line as a user runs it: real entry point, JSON lines, errors."""

import csv
import io
import json
import subprocess
import sys

from policyqa.cli import main
from policyqa.config import ROOT


def test_ask_json_sample(capsys):
    assert main(["ask", "--json", "How should I keep participant records?"]) == 0
    [line] = capsys.readouterr().out.splitlines()
    data = json.loads(line)
    assert data["answered"] is True
    top = data["passages"][0]
    assert top["rank"] == 1 and "documented honestly and accurately" in top["text"]
    assert "Longmont CM Code of Conduct" in top["citation"]
    assert "Service Approach" in top["citation"]
    assert data["note"] == ""


def test_ask_json_says_how_it_read_the_question(capsys):
    """The note the human output prints in brackets is in the JSON too."""
    assert main(["ask", "--json", "How should I keep participant recrods?"]) == 0
    assert json.loads(capsys.readouterr().out)["note"] == 'read "recrods" as "records"'


def test_ask_reads_questions_from_stdin(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO("Can I accept gifts?\n\nWhat is TIC?\n"))
    assert main(["ask", "--json", "--k", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(x)["question"] for x in lines] == ["Can I accept gifts?", "What is TIC?"]
    assert all(len(json.loads(x)["passages"]) == 2 for x in lines)


def test_ask_human_output_and_doc_filter(capsys):
    assert main(["ask", "--doc", "DMH 4.12", "--mode", "bm25", "gifts"]) == 0
    out = capsys.readouterr().out
    assert "DMH 4.12" in out and "Longmont" not in out


def test_errors_are_one_line_and_nonzero(capsys):
    assert main(["ask", "   "]) == 2
    assert capsys.readouterr().err.strip() == "policyqa: error: empty question"
    assert main(["ask", "--doc", "Nope", "gifts"]) == 2
    assert "no document labelled 'Nope'" in capsys.readouterr().err
    assert main(["ask", "--corpus", "/nonexistent/corpus", "--index", "/tmp/x-idx", "q"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not found" in err


def test_quote_json(capsys):
    assert main(["quote", "--json", "I will not loan or give money"]) == 0
    data = json.loads(capsys.readouterr().out)
    [m] = data["matches"]
    assert m["exact"] and m["citation"] == "Longmont CM Code of Conduct, Client Relationships › 6"


def test_check_a_quote_one_from_the_arguments_many_from_stdin_or_a_csv(
        monkeypatch, capsys, tmp_path):
    """The trainers' check the page and the API make, on the command line: a verdict per quote,
    the true citation, whether the given one matches, the marks and differences; exit status 1
    where a quote is not found. It was the page's and the API's only."""
    cite = "Longmont CM Code of Conduct, Client Relationships 6"
    assert main(["check", "I will not loan \u2026 to participants", "--citation", cite]) == 0
    out = capsys.readouterr().out
    assert "Found verbatim." in out and "The given citation matches" in out
    assert "[Longmont CM Code of Conduct, Client Relationships \u203a 6]" in out
    assert "omitted: \u2026 -> or give money" in out

    monkeypatch.setattr(sys, "stdin", io.StringIO(
        f"I will not lend or give money to participants | {cite}\n\n"
        "Staff should always hug clients warmly at every visit\n"))
    assert main(["check", "--json"]) == 1
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [v["status"] for v in lines] == ["differences", "not_found"]
    assert lines[0]["claimed_citation_matches"] is True
    assert lines[0]["differences"] == [{"op": "replace", "quoted": "lend", "source": "loan"}]

    (tmp_path / "quotes.csv").write_text(
        f'quote,citation\n"I will not loan or give money",{cite}\n', encoding="utf-8")
    assert main(["check", "--csv", str(tmp_path / "quotes.csv")]) == 0
    [row] = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert (row["verdict"], row["claimed_citation_matches"]) == ("found verbatim", "yes")

    assert main(["check", "   "]) == 2
    assert "no quote to check" in capsys.readouterr().err
    assert main(["check", "--doc", "DMH 4.12", "I will not loan or give money"]) == 1
    assert "Not found." in capsys.readouterr().out  # the words are the Longmont code's


def test_section_prints_contents_or_a_sections_verbatim_text_with_its_citation(capsys):
    """The page's document browser on the command line: a supervisor names a numbered
    paragraph as a memo does ("V.4.A") and gets its words and citation to paste."""
    assert main(["section", "DMH 4.12", "V.4.A"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("A. These risks shall be reduced by establishment")
    assert "\u2014 DMH 4.12, V \u203a 4. Financial and Work Relationships \u203a A\n" in out
    assert main(["section", "DMH 4.12", "section V \u203a 4 \u203a A", "--json"]) == 0
    [section] = json.loads(capsys.readouterr().out)["sections"]
    assert section["text"].startswith("A. These risks") and section["id"] > 0
    assert main(["section", "DMH 4.12"]) == 0
    contents = capsys.readouterr().out.splitlines()
    assert "    DMH 4.12, V \u203a 4. Financial and Work Relationships \u203a A" in contents
    assert main(["section", "DMH 4.12", "Z.9"]) == 1
    assert "no section of DMH 4.12 matches 'Z.9'" in capsys.readouterr().err


def test_console_script_two_questions_two_lines():
    exe = ROOT / ".venv" / "bin" / "policyqa"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "policyqa.cli"]
    run = subprocess.run(cmd + ["ask", "--json"], input="q1\nq2\n", capture_output=True,
                         text=True, timeout=300, env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin"})
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert len(lines) == 2 and all(json.loads(x)["question"] in ("q1", "q2") for x in lines)


def test_the_command_line_runs_openblas_on_one_thread_unless_told_otherwise():
    """Every product on the query path runs on one BLAS thread; OpenBLAS's other thread only spun,
    stealing CPU from the page's browser and from other askers. A user's own setting stands."""
    import os

    code = ("import json, policyqa.cli, numpy, threadpoolctl; print(json.dumps(sorted({i['num_threads'] "
            "for i in threadpoolctl.threadpool_info() if i['internal_api'] == 'openblas'})))")
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    for given, expected in ((None, [1]), ("2", [2])):
        run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             timeout=120, env=env | ({"OPENBLAS_NUM_THREADS": given} if given else {}))
        assert run.returncode == 0, run.stderr
        assert json.loads(run.stdout) == expected


def test_a_reader_that_stops_early_gets_no_traceback():
    """`policyqa ask --json < questions | head -1`: the pipe closes under the command, which
    stops quietly (a SIGPIPE's status) instead of printing a BrokenPipeError traceback."""
    import os

    questions = "".join(f"Can staff accept gifts, case {n}?\n" for n in range(300))  # > a pipe
    proc = subprocess.Popen([sys.executable, "-m", "policyqa.cli", "ask", "--json"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "HF_HUB_OFFLINE": "1"}, cwd=ROOT)
    proc.stdin.write(questions.encode())
    proc.stdin.close()
    first = proc.stdout.readline()
    proc.stdout.close()
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=300) == 141, stderr
    assert json.loads(first)["question"] == "Can staff accept gifts, case 0?"
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr


def test_ingest_progress_in_a_log_is_lines_not_redrawn_bars(tmp_path):
    """`policyqa ingest 2> build.log` (cron, a service): each stage writes plain lines, at its
    start and end (and every 10 s between), not a bar redrawn with "\\r" at every batch."""
    import os
    import re

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "funds.md").write_text(
        "# Client funds\n\n" + "".join(f"Rule {n}: staff never lend money to clients.\n\n"
                                       for n in range(40)), encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "policyqa.cli", "ingest", "--corpus",
                          str(corpus), "--index", str(tmp_path / "index")],
                         capture_output=True, text=True, timeout=600, cwd=ROOT,
                         env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert run.returncode == 0, run.stderr
    assert "\r" not in run.stderr
    lines = re.findall(r"^policyqa: (.+): (\d+) of (\d+)$", run.stderr, re.M)
    stages = {stage for stage, _, _ in lines}
    assert {"read", "embed chunks", "embed sentences"} <= stages
    for stage in stages:
        done = [int(d) for s, d, _ in lines if s == stage]
        total = {int(t) for s, _, t in lines if s == stage}
        assert len(total) == 1 and done == sorted(done) and done[-1] == total.pop()
    assert len(lines) < 40  # a few per stage, not one per batch


def test_a_wrapped_sentence_is_quoted_on_one_line(tmp_path, capsys):
    """The answer and a phrase's sentence are printed as one line a memo can take, though the
    document wraps and indents them; the JSON keeps the document's exact text."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "board-meetings.txt").write_text(
        "Board Meetings\n\nPublic Comment\n\n"
        "The Board president will only call on those who have filled out comment cards, and\n"
        "          each speaker will be allotted three (3) minutes.\n\n"
        "Minutes\n\nThe clerk keeps the minutes of every meeting and posts them within a week.\n")
    where = ["--corpus", str(corpus), "--index", str(tmp_path / "index")]
    question = "How long may each speaker talk during public comment?"
    sentence = ("The Board president will only call on those who have filled out comment cards, "
                "and each speaker will be allotted three (3) minutes.")
    assert main(["ask", *where, "--k", "1", question]) == 0
    assert f"Answer: \u00bb{sentence}\u00ab" in capsys.readouterr().out.splitlines()
    assert main(["ask", *where, "--json", question]) == 0
    assert "cards, and\n          each speaker" in json.loads(capsys.readouterr().out)["answer"]["text"]
    assert main(["quote", *where, "comment cards"]) == 0
    assert f"  in: {sentence}" in capsys.readouterr().out.splitlines()


def test_an_index_answers_from_the_folder_it_was_built_from(tmp_path, monkeypatch, capsys,
                                                            caplog):
    """`policyqa ingest --corpus C --index X`, then `policyqa ask --index X` with no --corpus:
    the index answers from C, and a change in C is picked up. It is not rebuilt from the
    project's corpus/, which would replace the agency's policies with the seed documents.
    An explicit --corpus still wins, and the summary names the folder read."""
    monkeypatch.delenv("POLICYQA_CORPUS", raising=False)
    monkeypatch.delenv("POLICYQA_INDEX", raising=False)
    corpus = tmp_path / "policies"
    corpus.mkdir()
    (corpus / "funds.md").write_text(
        "# Client Funds\n\nStaff never lend money to a client, even a small amount for a short "
        "time. Bus fare comes from the program's petty cash.\n", encoding="utf-8")
    index = ["--index", str(tmp_path / "index")]
    assert main(["ingest", "--corpus", str(corpus), *index]) == 0
    assert f"{corpus.resolve()} -> " in capsys.readouterr().out.splitlines()[0]

    assert main(["ask", *index, "--json", "can I lend a client $20?"]) == 0
    assert "rebuilding" not in caplog.text
    passages = json.loads(capsys.readouterr().out)["passages"]
    assert {p["doc_id"] for p in passages} == {"funds"}

    (corpus / "visits.md").write_text(
        "# Home Visits\n\nStaff on a home visit carry a charged phone and tell the office "
        "where they are.\n", encoding="utf-8")
    assert main(["quote", *index, "carry a charged phone"]) == 0
    assert "Home Visits" in capsys.readouterr().out
    # the rebuild says why, and names the folder it reads
    assert f"from {corpus.resolve()}: corpus changed (added: visits.md)" in caplog.text

    assert main(["ask", "--corpus", str(ROOT / "corpus"), *index, "--json", "gifts?"]) == 0
    assert "funds" not in {p["doc_id"] for p in json.loads(capsys.readouterr().out)["passages"]}


def test_a_full_disk_is_one_line_and_the_old_build_stays_current(tmp_path, monkeypatch, capsys):
    """The disk fills while a build is written: one error line naming the cause, no traceback,
    and the build made before stays current."""
    from policyqa.store import files

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "funds.md").write_text("# Client Funds\n\nStaff never lend money to a client.\n")
    where = ["--corpus", str(corpus), "--index", str(tmp_path / "index")]
    assert main(["ingest", *where]) == 0
    capsys.readouterr()
    (corpus / "funds.md").write_text("# Client Funds\n\nStaff never lend money to anyone.\n")

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.np, "savez", full)
    assert main(["ingest", *where]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "policyqa: error: [Errno 28] No space left on device")  # after the progress lines
    index_dir = tmp_path / "index"
    assert not list(index_dir.glob(".tmp-build-*"))
    [build] = index_dir.glob("build-*")
    assert (index_dir / "current").resolve() == build.resolve()

"""Stage 6: turn ranked chunks into cited passages, pick the answering sentence, or abstain.

The answer sentence (or two adjacent sentences) is scored by embedding similarity plus the share
of the question's keyword weight it contains; the same signals decide abstention, because no
single cosine threshold separates unanswerable questions from answerable ones. A heading line
names a topic, a sentence ending in a question mark asks one, and one ending in a colon leads
into a list: none is an answer alone.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache, partial

from .blas import one_blas_thread
from .chunks import Chunk
from .cite import chunk_citation, spanned_path
from .formats import TABLE_ROW
from .index import Index
from .lexical import tokenize
from .normalize import normalize
from .query import Query, prepare
from .retrieval import Hit, search


@dataclass
class Copy:
    """Another place a passage's very words stand (retrieval.copy_key): the same policy's PDF
    beside its Word file, say. Cited so that a memo can name the copy it means."""

    doc_id: str
    citation: str
    page: int | None
    start: int
    end: int


@dataclass
class Passage:
    rank: int
    doc_id: str
    doc_title: str
    doc_label: str
    citation: str
    section: str
    page: int | None
    start: int
    end: int
    text: str
    score: float
    also_in: list[Copy] = field(default_factory=list)


@dataclass
class AnswerSpan:
    text: str
    citation: str
    passage_rank: int
    start: int
    end: int
    score: float


@dataclass
class Answer:
    question: str
    answered: bool
    answer: AnswerSpan | None
    passages: list[Passage]
    confidence: float = 0.0
    note: str = ""
    timings_ms: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict:
        """The stable JSON schema of `policyqa ask --json` (and of the API's /ask). `note` says
        how the question was read when that differs from what was typed (cut to the length limit,
        a typing slip read as the word meant), "" otherwise: a program that shows the answer owes
        its user that, as the page and the command line show it. A passage's `also_in` lists the
        other places its very words stand (doc_id, citation, page, start, end), [] for most."""
        return {
            "question": self.question,
            "note": self.note,
            "answered": self.answered,
            "answer": None if self.answer is None else {
                "text": self.answer.text,
                "citation": self.answer.citation,
                "passage_rank": self.answer.passage_rank,
            },
            "passages": [
                {k: v for k, v in asdict(p).items() if k != "doc_label"} for p in self.passages
            ],
        }


def to_passage(index: Index, hit: Hit) -> Passage:
    chunk = hit.chunk
    doc = index.documents[chunk.doc_id]
    return Passage(
        rank=hit.rank, doc_id=chunk.doc_id, doc_title=doc.title, doc_label=doc.label,
        citation=chunk_citation(doc, chunk), section=chunk.section_path, page=chunk.page,
        start=chunk.start, end=chunk.end, text=chunk.text, score=round(hit.score, 4),
        also_in=[Copy(c.doc_id, chunk_citation(index.documents[c.doc_id], c), c.page, c.start,
                      c.end) for c in hit.copies],
    )


def keyword_coverage(index: Index, query_tokens: list[str], text_tokens: set[str],
                     related: Sequence[tuple[Sequence[str], float]] = ()) -> float:
    """Share of the question's IDF weight found in a text (0..1); a question word missing from
    the text is partly made up by its related corpus words ("lend" -> "loan") present, each
    group of related words at its own weight (as in BM25)."""
    weights = {t: max(index.store.idf.get(t, 0.0), 0.0) for t in set(query_tokens)}
    total = sum(weights.values())
    if total <= 0:
        return 0.0
    found = sum(w for t, w in weights.items() if t in text_tokens)
    for tokens, weight in related:
        present = [t for t in set(tokens) if t in text_tokens and t not in weights]
        found += weight * sum(max(index.store.idf.get(t, 0.0), 0.0) for t in present)
    return min(found, total) / total


def heading_sentences(index: Index, chunk: Chunk) -> list[bool]:
    """Which of a chunk's sentences are heading lines. A heading names a topic and answers
    nothing, yet its few words are often the closest match to the question's."""
    lines = []
    # Sections are numbered in reading order. A chunk's own section can open after the chunk
    # does: headings that lead it ("III. FUNCTIONS ..." over "A. Advocacy" over item 1) are its
    # context, and it is cited by the item they introduce (chunks.make_chunks). Those headings'
    # sections are its first sentences' own, so the headings inside the chunk are the sections
    # from the first of its sentences' up to its end.
    first = min([chunk.section, *chunk.sentence_section_ids])
    for section in index.structures[chunk.doc_id].sections[first:]:
        if section.start >= chunk.end:
            break
        if section.kind == "heading":
            lines.append((section.start, section.heading_end))
    return [any(a <= start and end <= b for a, b in lines) for start, end in chunk.sentences]


@dataclass(frozen=True)
class SentenceFacts:
    """What answer selection reads of a chunk's sentences whatever the question: each sentence's
    tokens, whether it is a heading line or a question, and the words in it alone and with the
    next one."""

    tokens: list[set[str]]
    headings: list[bool]
    questions: list[bool]
    lead_ins: list[bool]  # ends in a colon: "Staff do not visit alone when:" leads into a list
    rows: list[bool]  # a table's row (cells joined by tabs): a record whole in itself
    words: list[tuple[int, int]]  # (sentence i, sentences i and i + 1); 0 where there is no i + 1


def sentence_facts(index: Index, chunk: Chunk) -> SentenceFacts:
    """A chunk's SentenceFacts, remembered for the last 4,096 chunks asked about: the same top
    passages come back for question after question, and tokenizing their sentences again was a
    third of answer selection's time."""
    remembered = index.derived("answers.sentence_facts",
                               lambda: lru_cache(4096)(partial(_sentence_facts, index)))
    return remembered(chunk.chunk_id)


# A sentence that ends in a question mark (its closing quote or bracket aside).
_QUESTION = re.compile(r"\?[\"'\u201d\u2019)\]]*\s*$")
# A sentence that ends in a colon: it leads into the list or text after it.
_LEAD_IN = re.compile(r":\s*$")


def _sentence_facts(index: Index, chunk_id: int) -> SentenceFacts:
    r, chunk = index.settings.retrieval, index.chunks[chunk_id]  # a chunk's id is its row
    text, spans = index.documents[chunk.doc_id].text, chunk.sentences
    return SentenceFacts(
        tokens=[set(tokenize(text[s:e], r.stem, r.stopwords)) for s, e in spans],
        headings=heading_sentences(index, chunk),
        questions=[bool(_QUESTION.search(text[s:e])) for s, e in spans],
        lead_ins=[bool(_LEAD_IN.search(text[s:e])) for s, e in spans],
        rows=[TABLE_ROW.search(text, s, e) is not None for s, e in spans],
        words=[(len(text[s:e].split()), len(text[s:spans[i + 1][1]].split())
                if i + 1 < len(spans) else 0) for i, (s, e) in enumerate(spans)])


@dataclass
class Candidate:
    """A possible answer: sentence `first` through sentence `last` of a top passage."""

    score: float
    similarity: float  # cosine of the sentence(s) with the question
    coverage: float  # share of the question's keyword weight the sentence(s) hold
    hit: Hit
    first: int
    last: int

    @property
    def bounds(self) -> tuple[int, int]:
        """Where the sentence(s) stand in the document's text."""
        return self.hit.chunk.sentences[self.first][0], self.hit.chunk.sentences[self.last][1]


def candidates(index: Index, hits: list[Hit], query: Query) -> list[Candidate]:
    """Single sentences and adjacent pairs in the top passages, with their scores. Not one
    that ends in a question: an FAQ's "How do you pronounce Valgrind?" is the closest match to
    the staff member's own question and answers nothing; with the sentence after it, it is the
    question and its answer. Nor one that ends in a colon: "Staff do not visit a client alone
    when any of the following applies:" matches "Can I visit a client alone?" best and says
    nothing of when; with the item after it, it begins to. Nor two rows of a table: each is a
    record whole in itself, and the pair of "A client asks to borrow $20 ..." and "A client
    leaves money behind ..." answered the question about money left behind."""
    r = index.settings.retrieval
    related = ((query.related_tokens, r.expansion_weight),
               (query.stand_in_tokens, r.stand_in_weight))
    top = hits[: r.answer_passages]
    scored = index.store.sentence_scores(query.vector, [h.chunk.chunk_id for h in top])
    out = []
    for hit, sims in zip(top, scored, strict=True):
        facts = sentence_facts(index, hit.chunk)
        headings, token_sets = facts.headings, facts.tokens
        for i in range(len(hit.chunk.sentences)):
            for j in (i, i + 1):
                if j >= len(headings) or j >= len(sims.single) or headings[i] or headings[j] \
                        or facts.questions[j] or facts.lead_ins[j] \
                        or (j > i and facts.rows[i] and facts.rows[j]):
                    continue
                sim = float(sims.single[i] if j == i else sims.pairs[i] - r.answer_pair_penalty)
                cover = keyword_coverage(index, query.tokens, token_sets[i] | token_sets[j],
                                         related)
                if facts.words[i][j - i] < r.answer_min_words:
                    continue
                score = (r.answer_similarity_weight * sim + r.answer_coverage_weight * cover
                         + r.answer_rank_prior / hit.rank)
                out.append(Candidate(score, sim, cover, hit, i, j))
    return out


# A question that asks for a count or a pay figure ("how many hours", "the starting salary") is
# answered only by a sentence that states a number: a sentence sharing its other words but no
# number answers a different question. The trigger words come from the dev split alone ("how
# many", "salary"; eval/EXPERIMENTS.md, fifth round); "how much" is left out, as staff use it for
# degree ("how much should I share").
_ASKS_FOR_NUMBER = re.compile(r"\bhow many\b|\bsalar(?:y|ies)\b", re.IGNORECASE)
# Any digit once enumerators ("6.", "B)"), policy or section numbers ("4.12", "DMH Policy
# 100.1") and dates ("11-06-06") are removed, or a number word ("one" and "once" are left out:
# "one of", "once again" are not quantities).
_NOT_QUANTITIES = re.compile(
    r"^\s*(?:\d+|[a-z]|[ivx]+)[.)]\s+|(?<![$\u00a3\u20ac\d.])\d+(?:\.\d+)+"
    r"|\b\d{1,4}[-/]\d{1,2}[-/]\d{1,4}\b",
    re.IGNORECASE | re.MULTILINE)
_NUMBER = re.compile(
    r"\d|\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty"
    r"|forty|fifty|sixty|hundred|thousand|dozen|half|twice)\b",
    re.IGNORECASE)


def asks_for_number(question: str) -> bool:
    return bool(_ASKS_FOR_NUMBER.search(question))


# "How many days ..." asks for a count of days: a sentence that states a number of years answers
# another question (eval/EXPERIMENTS.md, fifth round). Units of time, money and distance.
_UNITS = r"(?:second|minute|hour|day|week|month|year|time|session|visit|dollar|mile|percent)"
_HOW_MANY_UNIT = re.compile(rf"\bhow many\s+(?:[\w-]+\s+){{0,3}}?({_UNITS})s?\b", re.IGNORECASE)


def asked_unit(question: str) -> str | None:
    """The unit a "how many" question counts in ("day" for "how many business days"), if any."""
    match = _HOW_MANY_UNIT.search(question)
    return match.group(1).lower() if match else None


def states_number(text: str, unit: str | None = None) -> bool:
    """A quantity in the text, not an enumerator, policy number or date; with `unit`, a quantity
    of that unit ("two years", "within 48 hours")."""
    cleaned = _NOT_QUANTITIES.sub("", text)
    if unit is None:
        return bool(_NUMBER.search(cleaned))
    return any(re.match(rf"[\w\s,.()-]{{0,24}}?\b{unit}s?\b", cleaned[m.end():], re.IGNORECASE)
               for m in _NUMBER.finditer(cleaned))


def _span_text(index: Index, candidate: Candidate) -> str:
    start, end = candidate.bounds
    return index.documents[candidate.hit.chunk.doc_id].text[start:end]


def quoting(index: Index, spans: list[Candidate], phrases: list[str]) -> list[Candidate]:
    """The candidates that hold a phrase the question puts in double quotes: whoever asks for
    the wording about "in but not of the system" wants the sentence with those words, not the
    passage's sentence nearest the rest of the question ("This toolkit is by peers, for peers.")."""
    return [x for x in spans if any(p in normalize(_span_text(index, x)) for p in phrases)]


@one_blas_thread
def ask(index: Index, question: str, k: int = 5, mode: str = "hybrid",
        docs: list[str] | None = None) -> Answer:
    """Ranked cited passages for a question, the sentence that best answers it, or abstention."""
    t0 = time.perf_counter()
    note = ""
    if len(question) > index.settings.max_query_chars:
        note = f"question truncated to {index.settings.max_query_chars} characters"
    query = prepare(index, question)
    if query.corrections:
        read = ", ".join(f'"{typed}" as "{word}"' for typed, word in query.corrections.items())
        note = "; ".join(filter(None, [note, f"read {read}"]))
    t1 = time.perf_counter()
    hits = search(index, query, mode=mode, k=max(k, index.settings.retrieval.answer_passages),
                  docs=docs)
    t2 = time.perf_counter()
    passages = [to_passage(index, h) for h in hits[:k]]
    spans = candidates(index, hits, query)
    answer = None
    confidence = 0.0
    wrong_type = False
    unit = None
    quoted = quoting(index, spans, query.phrases) if spans and query.phrases else []
    spans = quoted or spans
    if spans and index.settings.retrieval.answer_type_check and asks_for_number(question):
        unit = asked_unit(question)
        numeric = [x for x in spans if states_number(_span_text(index, x), unit)]
        wrong_type = not numeric
        spans = numeric or spans
    if spans:
        best = max(spans, key=lambda x: x.score)
        hit = best.hit
        start, end = best.bounds
        answer = AnswerSpan(
            text=_span_text(index, best),
            citation=chunk_citation(index.documents[hit.chunk.doc_id], hit.chunk,
                                    spanned_path(hit.chunk.sentence_sections[best.first:
                                                                             best.last + 1]),
                                    start, end),
            passage_rank=hit.rank, start=start, end=end, score=round(best.score, 4),
        )
        # Meaning match only, of the answer sentence or of the top passage, whichever is higher:
        # keyword coverage picks the sentence, but off-topic questions in the corpus's own words
        # cover as many keywords as real ones (eval/EXPERIMENTS.md).
        confidence = max(best.similarity, hits[0].dense)
    # Words the question quotes, found as they stand in the answer: the policies hold them,
    # whatever the meaning match of a question about exact wording.
    answered = (answer is not None and not wrong_type
                and (confidence >= index.settings.retrieval.abstain_threshold or bool(quoted)))
    if wrong_type:
        asked = f"a number of {unit}s" if unit else "a number"
        note = "; ".join(filter(None, [note, f"the question asks for {asked}, and none of the "
                                                "top passages states one"]))
    t3 = time.perf_counter()
    return Answer(
        question=question, answered=answered, answer=answer, passages=passages,
        confidence=round(confidence, 4), note=note,
        timings_ms={"encode": (t1 - t0) * 1e3, "search": (t2 - t1) * 1e3,
                    "answer": (t3 - t2) * 1e3, "total": (t3 - t0) * 1e3},
    )

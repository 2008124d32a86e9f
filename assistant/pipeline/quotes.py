"""Which passages of the corpus answer a prose question: sentences, their continuations, table cells.

The composer quotes what this picks, verbatim. A sentence is scored by the IDF share of the question's
words it holds (``scoring.SentenceScorer``), with a bonus for the date / number a when / how-many question
wants, labels and titles weighed down, and table cells judged together with their row and column headers.
The best sentence may bring the sentences that complete it (a lead-in's items, the rest of its line or
list). Sentences holding a phone number or e-mail the catalog does not list are never picked: contacts
come from the catalog only.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from assistant.index.documents import DocumentStore, StoredDocument
from assistant.jp_text import tokenize
from assistant.pipeline.hits import Hit
from assistant.pipeline.scoring import SentenceScorer
from assistant.pipeline.sections import Section, read_sections
from assistant.pipeline.tables import MIN_TABS, TableCell, extract_cells
from assistant.records import Catalog, Chunk
from assistant.tuning import QUOTES
from assistant.vocabulary import contacts_in

_SENTENCE = re.compile(r"[^。！？]+[。！？]?")


class QuotePicker:
    """Built once per process (the table cells and the catalog's contacts); ``pick`` is thread-safe."""

    def __init__(
        self,
        store: DocumentStore,
        catalog: Catalog,
        scorer: SentenceScorer,
        chunks: list[Chunk] | None = None,
    ) -> None:
        self.scorer = scorer
        self.section_lists = [
            found for chunk in chunks or [] if (found := _section_list(chunk, store)) is not None
        ]
        # Lists read from whole documents (a heading or lead-in and every item, wherever chunks cut them).
        self.section_lists += [
            _document_list(section, document)
            for doc_id, document in store.documents.items()
            for section in read_sections(doc_id, document.lines)
        ]
        self._list_tokens = [
            (
                set(tokenize(f"{item.context} {item.heading} {' '.join(item.items)}")),
                set(tokenize(item.heading)),
                set(tokenize(item.title)),
            )
            for item in self.section_lists
        ]
        self.known_contacts: set[str] = {
            c for p in catalog.programs for c in contacts_in(" ".join([*p.tel, *p.email]))
        }
        self.table_cells: list[Hit] = [
            _cell_hit(cell)
            for doc_id, document in store.documents.items()
            for cell in extract_cells(doc_id, document.lines)
            if self.quotable(cell.text)
        ]
        # Headers and text of each cell, tokenized once: every question is compared with every cell.
        self._cell_tokens = [set(tokenize(f"{cell.section} {cell.text}")) for cell in self.table_cells]
        # 「課題：…」 lines: a document's items under one label, wherever they stand (see _labelled_items).
        self.labelled: dict[tuple[str, str], list[Hit]] = {}
        for doc_id, document in store.documents.items():
            for number, line in enumerate(document.lines, start=1):
                match = _LABELLED.match(line)
                if match is not None and self.quotable(line):
                    hit = _line_hit(doc_id, number, line, match.group("label"))
                    self.labelled.setdefault((doc_id, match.group("label")), []).append(hit)
        # 「【実施時期】平成31年4月～令和2年9月」: a labelled field answers when / how many by its label.
        self.fields: list[tuple[Hit, set[str], set[str], str]] = []
        for doc_id, document in store.documents.items():
            for number, line in enumerate(document.lines, start=1):
                match = _FIELD.match(line)
                if match is None or not self.quotable(line):
                    continue
                hit = _line_hit(doc_id, number, line, match.group("label"))
                own = set(tokenize(f"{match.group('label')} {match.group('value')}"))
                # the document's subject: its title and who published it (「総務省の…実態調査」)
                title = set(tokenize(f"{document.info.title} {document.info.publisher}"))
                self.fields.append((hit, own, title, match.group("label")))
        self._title_heads = {
            doc_id: squash(document.info.title)[: QUOTES.title_prefix]
            for doc_id, document in store.documents.items()
        }

    def pick(
        self,
        question: str,
        hits: list[Hit],
        limit: int = 3,
        exclude: set[str] | None = None,
        min_score: float | None = None,
        tokens: set[str] | None = None,
    ) -> list[tuple[Hit, str]]:
        """The sentences of the top passages that cover most of the question, best first.

        A question that asks when / how many is answered by a sentence that holds a date / a number,
        which the question itself cannot contain, so such sentences get a bonus on top of coverage.
        """
        # Unknown words keep their weight: a question whose key word the corpus never uses finds no
        # sentence, and the answer abstains. ``exclude``: words already answered (a named program's name).
        question_tokens = (set(tokenize(question)) if tokens is None else set(tokens)) - (exclude or set())
        threshold = QUOTES.min_sentence_coverage if min_score is None else min_score
        wanted = answer_shape(question)
        asks_title = bool(_ASKS_TITLE.search(question))
        scored: list[tuple[float, int, Hit, str]] = []
        for rank, hit in enumerate(hits):
            for sentence in sentences(hit.text):
                if len(sentence) < 12 or _is_heading(sentence, hit) or not self.quotable(sentence):
                    continue
                if sentence.count("\t") >= MIN_TABS:
                    continue  # a table row mixes its cells: the cells are candidates of their own below
                coverage = self.scorer.coverage(question_tokens, sentence)
                if wanted is not None and wanted is not _AMOUNT and hit.section and wanted.search(sentence):
                    # the heading over it names what the sentence's date or number is of
                    with_heading = self.scorer.coverage(question_tokens, f"{hit.section} {sentence}")
                    coverage = max(coverage, QUOTES.shape_heading_weight * with_heading)
                if _looks_like_label(sentence, hit.text) or (
                    self._is_title(sentence, hit) and not asks_title
                ):
                    coverage *= QUOTES.label_weight
                if (
                    wanted is not None
                    and coverage >= QUOTES.answer_shape_min_coverage
                    and wanted.search(sentence)
                ):
                    coverage += QUOTES.answer_shape_bonus
                scored.append((coverage - 0.02 * rank, rank, hit, sentence))
        # Table cells are judged with their row and column headers (「高知県」「共創の場…」「名称」), a named
        # program included: there it is the column that tells two cells of a row apart.
        cell_tokens = set(tokenize(question)) | set(tokens or ())  # with what a pointing question borrows
        for cell, tokens in zip(self.table_cells, self._cell_tokens, strict=True):
            scored.append((self.scorer.token_coverage(cell_tokens, tokens), 0, cell, cell.text))
        if wanted is not None and wanted is not _AMOUNT:
            labels = _WHEN_LABEL if wanted is _DATE else _COUNT_LABEL
            for hit, own, title, label in self.fields:
                if not (labels.search(label) and wanted.search(hit.text)):
                    continue
                # The field answers only when every word of the question is the document's subject, the
                # field's own, or a bare verb of doing: 「いつ公表された」 asks something the field does not say.
                if question_tokens - title - own - BARE_VERBS:
                    continue
                coverage = self.scorer.token_coverage(question_tokens, own | title)
                if coverage >= QUOTES.answer_shape_min_coverage:
                    scored.append((coverage + QUOTES.answer_shape_bonus, 0, hit, hit.text))
        literals = _literals(question)
        if (
            literals
        ):  # 「5253-5436」「13,750,508千円」: a figure the question quotes is in the answer's sentence
            scored = [item for item in scored if all(lit in _digits(item[3]) for lit in literals)]
        scored.sort(key=lambda item: item[0], reverse=True)
        if _ASKS_ENUMERATION.search(question):
            items = self._labelled_items(question, hits)
            if items:
                return items
        if _ASKS_ENUMERATION.search(question):  # 「どんな…がありますか」 asks for the items, not one sentence
            best_sentence = scored[0][0] * QUOTES.list_over_sentence if scored else 0.0
            # A sentence as good as the best announces items (「各事例について、次の点を…整理」): it leads, and
            # the items it announces follow it (see _continuation), rather than some other list.
            top = scored[0][0] if scored else 0.0
            lead = next(
                (
                    i
                    for i, item in enumerate(scored[:3])
                    if item[0] >= top - 0.05 and _LEAD_IN.search(item[3])
                ),
                None,
            )
            if lead is not None:
                scored.insert(0, scored.pop(lead))
                announced = self._announced_list(scored[0][2], scored[0][3], question_tokens)
                if announced:
                    return announced[: 1 + QUOTES.max_list_items]
            listed = [] if lead is not None else self._best_list(question_tokens, best_sentence, threshold)
            if listed:
                return listed
        picked: list[tuple[Hit, str]] = []
        primary = 0
        for score, _, hit, sentence in scored:
            if primary >= limit or score < threshold or score < QUOTES.relative_sentence_score * scored[0][0]:
                break
            if any(sentence == s for _, s in picked):
                continue
            primary += 1
            if primary == 1 and _LEAD_IN.search(sentence):
                announced = self._announced_list(hit, sentence, question_tokens)
                if announced:  # 「以下の…からヒアリングを行った」: the lead-in and every item it announces
                    return announced[: 1 + QUOTES.max_list_items]
            picked.append((hit, sentence))
            if wanted is _DATE and wanted.search(sentence) and not _LEAD_IN.search(sentence):
                continue  # the date asked for is given: the sentences after it add nothing
            follow = self._continuation(hit, sentence, question_tokens, wanted, lead_ins=primary == 1)
            picked.extend((hit, s) for s in follow if all(s != p for _, p in picked))
        return picked[: limit + QUOTES.max_continuation]

    def _best_list(
        self, question_tokens: set[str], best_sentence: float, threshold: float
    ) -> list[tuple[Hit, str]]:
        """A section whose heading names what is asked and whose body lists the items (「2: …工夫した取組」
        ① … ④): the answer is the heading and every item, not the one item that happens to score best."""
        best: tuple[float, SectionList] | None = None
        for section, (tokens, heading_tokens, title_tokens) in zip(
            self.section_lists, self._list_tokens, strict=True
        ):
            if not question_tokens & heading_tokens or len(heading_tokens - title_tokens) <= 1:
                continue  # a list under the document's own title (「…実態調査の結果（ポイント）」) is the document
            score = self._list_score(question_tokens, tokens, heading_tokens, title_tokens)
            if best is None or score > best[0]:
                best = (score, section)
        if best is None or best[0] < max(threshold, QUOTES.list_min_coverage) or best[0] <= best_sentence:
            return []
        section = best[1]
        picked = [(section.heading_hit, section.heading)]
        item_hits = section.item_hits or (section.hit,) * len(section.items)
        picked.extend(zip(item_hits, section.items[: QUOTES.max_list_items], strict=False))
        return picked

    def _list_score(self, question: set[str], tokens: set[str], heading: set[str], title: set[str]) -> float:
        """How well a list answers: its heading and items cover the question, the heading most of all
        (「【国の施策】」 over a list that merely mentions 国) unless it only restates the document's title,
        which counts a little."""
        cover = self.scorer.token_coverage
        return (
            QUOTES.list_body_weight * cover(question, tokens)
            + QUOTES.list_heading_weight * cover(question, heading - title)
            + QUOTES.list_title_weight * cover(question, tokens | title)
        )

    def _announced_list(self, hit: Hit, sentence: str, question: set[str]) -> list[tuple[Hit, str]]:
        """The items a lead-in sentence announces (「以下の…からヒアリングを行った」), read from the whole
        document: （浜松市）（神奈川県）… or 「第１に…」 paragraphs that no chunk holds together; when it announces
        several headed lists (「論点は以下の通り」 over 【…】【…】), the one whose heading the question names."""
        key = squash(_LIST_MARK.sub("", sentence))
        headed: list[tuple[float, SectionList]] = []
        for section in self.section_lists:
            if section.hit.doc_id != hit.doc_id or not section.item_hits:
                continue
            pieces = [p for p in squash(section.heading).split("。") if len(p) >= 8]
            if any(piece in key or key in piece for piece in pieces):
                return [(hit, sentence), *zip(section.item_hits, section.items, strict=False)]
            preface = squash(section.context)
            if len(key) >= 8 and preface and (preface.startswith(key) or key.startswith(preface[: len(key)])):
                named = self.scorer.token_coverage(
                    question, set(tokenize(section.heading)) - set(tokenize(sentence))
                )
                headed.append((named, section))
        named, section = max(headed, key=lambda pair: pair[0], default=(0.0, None))
        if section is None or named <= 0:
            return []
        picked = [(hit, sentence), (section.heading_hit, section.heading)]
        return picked + list(zip(section.item_hits, section.items, strict=False))

    def _labelled_items(self, question: str, hits: list[Hit]) -> list[tuple[Hit, str]]:
        """「どんな課題が見つかったか」: every line a document of the top passages labels with the asked noun
        (「課題：…」), in the document's order — the items spread over several passages, not one of them."""
        documents = list(dict.fromkeys(h.doc_id for h in hits[:5]))
        best: list[Hit] = []
        for (doc_id, label), found in self.labelled.items():
            asked = re.search(_ASKED_NOUN.format(label=re.escape(label)), question)
            if doc_id in documents and len(found) >= 2 and asked and len(found) > len(best):
                best = found
        return [(hit, hit.text) for hit in best[: QUOTES.max_list_items]]

    def _is_title(self, sentence: str, hit: Hit) -> bool:
        """The document's own title (a cover line) restates the question's topic and answers nothing."""
        head = self._title_heads.get(hit.doc_id, "")
        return bool(head) and squash(sentence).startswith(head)

    def _continuation(
        self,
        hit: Hit,
        sentence: str,
        question_tokens: set[str],
        wanted: re.Pattern[str] | None,
        lead_ins: bool = True,
    ) -> list[str]:
        """Sentences right after the best one that complete it: the items a lead-in announces
        (「以下の…からヒアリングを行った」), the next item of the same list or the rest of the same line
        when it goes on about the question, or the date / number a when / how-many question wants."""
        passage = sentences(hit.text)
        if sentence not in passage:
            return []
        position = passage.index(sentence)
        lead_in = lead_ins and bool(_LEAD_IN.search(sentence))
        # The date / number a when / how-many question wants, when the best sentence lacks it.
        still_wanted = wanted if wanted is not None and not wanted.search(sentence) else None
        best = self.scorer.coverage(question_tokens, sentence)
        follow: list[str] = []
        if lead_in:
            # 「次の点を整理」: every item it announces, short ones too (「開発の成果等」), up to the list's end.
            items = [line.strip() for line in hit.text.split("\n")]
            start = next((i for i, line in enumerate(items) if sentence in line), None)
            for line in items[start + 1 :] if start is not None else []:
                item = _LIST_MARK.sub("", line).strip()
                if not line or not _LIST_MARK.match(line) or len(follow) >= QUOTES.max_list_items:
                    break
                if len(item) >= 4 and self.quotable(item):
                    follow.append(item)
            if follow:
                return follow
        for candidate in passage[position + 1 : position + 1 + QUOTES.continuation_lookahead]:
            if len(follow) >= QUOTES.max_continuation:
                break
            if len(candidate) < 12 or _is_heading(candidate, hit) or not self.quotable(candidate):
                continue
            coverage = self.scorer.coverage(question_tokens, candidate)
            related = coverage >= QUOTES.continuation_min_share * best and (
                _same_line(hit.text, sentence, candidate) or _bullet(candidate) == _bullet(sentence) != ""
            )
            shaped = still_wanted is not None and bool(still_wanted.search(candidate))
            if lead_in or related or shaped:
                follow.append(candidate)
        return follow

    def quotable(self, sentence: str) -> bool:
        """Contacts come from the catalog only: a sentence with a phone number or e-mail the catalog does
        not list (the FAX of a report's author) is not quoted, so an answer never carries one."""
        return contacts_in(sentence) <= self.known_contacts


#: Question words → what the answering sentence must hold.
_ASKS_WHEN = re.compile(r"いつ|何年|何月|何日|時期|年度は|創設され|始まっ|\bwhen\b|\bwhat year\b", re.I)
_ASKS_COUNT = re.compile(
    r"いくつ|何件|何人|何名|何地域|何団体|何か所|何カ所|何拠点|どのくらい|どれくらい|何割|割合|何%|何％|数は|"
    r"\bhow many\b|\bwhat share\b|\bwhat percentage\b",
    re.I,
)
_DATE = re.compile(r"(?:令和|平成|昭和)\s*(?:\d+|元)\s*年|\d{4}\s*年|\d+\s*年度|\d+\s*月")
_NUMBER = re.compile(r"\d|[一二三四五六七八九十百千]+(?:件|人|名|地域|団体|か所|割)|約\s*[０-９\d]")
#: Asking for a figure (「関連予算はいくら」「予算額は？」) — not 「予算額には補正も含まれますか」, which asks what it is.
_ASKS_AMOUNT = re.compile(
    r"いくら|何円|(?:予算|予算額|関連予算|金額|規模)(?:は|って)\s*(?:いくら|どれくらい|どのくらい|[？?]|$)|\bhow much\b",
    re.I,
)
_AMOUNT = re.compile(r"[0-9０-９][0-9０-９,，.]*\s*(?:兆|億|千万|百万|万|千)?\s*円")
#: Asking what a term stands for or means (「「ABC」は何の略」): the sentence that spells it out answers.
_ASKS_EXPANSION = re.compile(
    r"略|正式(?:な)?名称|正式名|意味|とは|って何|の定義|\bstand for\b|\bmean\b", re.I
)
_QUOTED_TERM = re.compile(r"[「『“\"]([^」』”\"。？?、]{1,24})[」』”\"]")
_ASKS_TITLE = re.compile(r"副題|表題|題名|タイトル|標題")
_LEAD_IN = re.compile(r"(?:以下|次)の|下記|とおり[。．]?$|[：:]$")
_BULLET = re.compile(r"^\s*([-・•◆➢✓○●■□◇▶►]|[①-⑳]|\(?\d+\)|\d+[.．:：])")


_LITERAL = re.compile(r"\d[\d,，\-－‐ー]{3,}\d")


def _literals(question: str) -> list[str]:
    """Figures of four or more digits the question quotes (a phone number, an amount), as bare digits."""
    return [_digits(found) for found in _LITERAL.findall(unicodedata.normalize("NFKC", question))]


def _digits(text: str) -> str:
    return re.sub(r"\D", "", unicodedata.normalize("NFKC", text))


def answer_shape(question: str) -> re.Pattern[str] | None:
    term = _QUOTED_TERM.search(question)
    if term is not None and _ASKS_EXPANSION.search(question):
        # 「「ABC」は何の略？」: the sentence that spells the term out, 「ABC（Actors- Based- Community）」.
        return re.compile(re.escape(term.group(1)) + r"\s*[（(]")
    if _ASKS_WHEN.search(question):
        return _DATE
    if _ASKS_COUNT.search(question):
        return _NUMBER
    if _ASKS_AMOUNT.search(question):
        return (
            _AMOUNT  # 「関連予算はいくら」 is answered by the sentence with the figure, not the one about it
        )
    return None


#: A parenthesis that closes a line after a sentence names what the sentence is about
#: (「…例あり。（事例⑫希少糖）」): it belongs to the sentence.
_TRAILING_NOTE = re.compile(r"^[（(][^（）()]{1,60}[）)]$")


def sentences(text: str) -> list[str]:
    pieces: list[str] = []
    for line in text.split("\n"):
        for piece in (s.strip() for s in _SENTENCE.findall(line)):
            if not piece:
                continue
            if pieces and _TRAILING_NOTE.match(piece) and pieces[-1].endswith(("。", "！", "？")):
                pieces[-1] += piece
            else:
                pieces.append(piece)
    return pieces


#: Questions that ask for several items (「どんな視点で」「何を挙げて」): a list may answer them even when one
#: sentence covers the question a little better (QUOTES.list_over_sentence of its score is enough).
_ASKS_ENUMERATION = re.compile(
    r"どんな|どのような|どういった|どういう段階|何を|なにを|どれ|種類|挙げ|列挙|項目|ポイント|視点|観点|全部|すべて|全て|主な|"
    r"(?:ほか|他|以外)に(?:は|も)?|いくつか|\bwhat (?:are|kinds?|else)\b|\blist\b|\bwhich\b.*\bissues\b"
)
#: The noun a question asks the items of: 「どんな課題」「主な課題」「課題を全部」 (「事例はどれ」 asks for one).
_ASKED_NOUN = (
    r"(?:どんな|どのような|どういった|どういう|主な|ほかの|他の|共通の|全ての|すべての)[^。？?]{{0,4}}{label}|"
    r"{label}(?:を|は|が|って)\s*(?:全部|すべて|全て|一覧|まとめて|挙げ|列挙|いくつ)"
)
#: A line that labels what it says (「課題：大学等の敷居の高さから…」): a short noun, a colon, the item.
_LABELLED = re.compile(
    r"^\s*(?:[-・•◆○●■□◇]\s*)?(?P<label>[一-龥ァ-ヶー]{1,6})\s*[：:]\s*(?P<value>\S.{7,})$"
)
#: The mark that opens a list item (「- ・」「①」「1.」), to be taken off the item's text.
_LIST_MARK = re.compile(r"^\s*(?:[-・•◆➢✓○●■□◇▶►]\s*)+|^\s*(?:[①-⑳]|\(?\d{1,2}\)|[0-9０-９]{1,2}[.．)）])\s*")
_LIST_ITEM = re.compile(r"^\s*(?:[-・•◆➢✓○●■□◇▶►]\s*)*(?:[①-⑳]|\(?\d{1,2}\)|[0-9０-９]{1,2}[.．)）])")


@dataclass(frozen=True)
class SectionList:
    """A chunk that is a list under its heading, with the heading located in the document."""

    hit: Hit
    heading_hit: Hit
    heading: str
    title: str
    items: tuple[str, ...]
    #: Where each item stands, when the list was read from the whole document.
    item_hits: tuple[Hit, ...] = ()
    #: The document's heading above the list's own.
    context: str = ""


def _document_list(section: Section, document: StoredDocument) -> SectionList:
    """A document's list as the quote picker offers it: the heading line, then each item on its lines."""

    def line_hit(start: int, end: int, text: str) -> Hit:
        return Hit(
            kind="chunk",
            id=f"{SECTION_PREFIX}{section.doc_id}:{start}",
            text=text,
            doc_id=section.doc_id,
            line_start=start,
            line_end=end,
            section=section.heading,
        )

    heading_hit = line_hit(section.heading_line, section.heading_line, section.heading)
    item_hits = tuple(line_hit(item.line_start, item.line_end, item.text) for item in section.items)
    whole = document.span_text(section.heading_line, section.line_end)
    return SectionList(
        hit=line_hit(section.heading_line, section.line_end, whole),
        heading_hit=heading_hit,
        heading=section.heading,
        title=document.info.title,
        items=tuple(item.text for item in section.items),
        item_hits=item_hits,
        context=section.context if section.context != section.heading else "",
    )


def _section_list(chunk: Chunk, store: DocumentStore) -> SectionList | None:
    lines = [line.strip() for line in chunk.text.split("\n") if line.strip()]
    items = tuple(line for line in lines if _LIST_ITEM.match(line))
    if len(items) < 2 or len(items) < len(lines) - 1 or not chunk.heading_path:
        return None
    if sum(len(i) for i in items) / len(items) > QUOTES.max_list_item_chars:
        return None
    document = store.get(chunk.doc_id)
    heading = chunk.heading_path[-1].strip("*#＃ 　")
    located = (
        document.locate(heading, near=(max(1, chunk.line_start - 3), chunk.line_start)) if document else None
    )
    if located is None or document is None or located.line_start > chunk.line_start:
        return None
    hit = Hit(
        kind="chunk",
        id=chunk.chunk_id,
        text=chunk.text,
        doc_id=chunk.doc_id,
        line_start=chunk.line_start,
        line_end=chunk.line_end,
        page=chunk.page,
        section=chunk.section,
    )
    heading_hit = hit.model_copy(update={"line_start": located.line_start, "line_end": located.line_end})
    return SectionList(hit, heading_hit, located.quote, document.info.title, items)


CELL_PREFIX = "cell:"
SECTION_PREFIX = "section:"
FIELD_PREFIX = "field:"
_FIELD = re.compile(r"^\s*[【\[]\s*(?P<label>[^】\]]{2,12}?)\s*[】\]]\s*(?P<value>\S.*)$")
_WHEN_LABEL = re.compile(r"時期|期間|日程|期日|年月|開始|終了|日$|年度")
_COUNT_LABEL = re.compile(r"数|件|対象|規模")
#: Verbs of doing that say nothing of their own (「行われた」「やった」).
BARE_VERBS = frozenset(["行う", "行われる", "実施", "実施する", "する", "ある", "なる", "いる", "やる"])


def _line_hit(doc_id: str, number: int, line: str, label: str) -> Hit:
    """One labelled line of a document as a passage (「課題：…」「【実施時期】…」)."""
    return Hit(
        kind="chunk",
        id=f"{FIELD_PREFIX}{doc_id}:{number}",
        text=line.strip(),
        doc_id=doc_id,
        line_start=number,
        line_end=number,
        section=label,
    )


def _cell_hit(cell: TableCell) -> Hit:
    """A table cell as a passage: its text is the quote, its headers are where it stands."""
    return Hit(
        kind="chunk",
        id=f"{CELL_PREFIX}{cell.doc_id}:{cell.line}:{cell.group}:{cell.column}",
        text=cell.text,
        doc_id=cell.doc_id,
        line_start=cell.line,
        line_end=cell.line,
        section=cell.label,
    )


def _is_heading(sentence: str, hit: Hit) -> bool:
    """A heading or title line (「**大学と地域を繋ぐ人材・組織への表彰」) names a topic; it answers nothing."""
    bare = squash(sentence.strip("*#＃ 　"))
    return bool(bare) and bare in squash(hit.section.replace("*", ""))


def _looks_like_label(sentence: str, text: str) -> bool:
    stripped = sentence.strip()
    if (
        stripped.endswith(("。", "！", "？", "：", ":"))
        or re.search(r"\d", stripped)
        or _LEAD_IN.search(stripped)
    ):
        return False  # a sentence, a figure, or a line announcing the items below it
    whole_line = any(line.strip() == stripped for line in text.split("\n"))
    return whole_line and (stripped.startswith(("**", "#", "【", "■", "□", "＜", "<")) or len(stripped) <= 30)


def _bullet(sentence: str) -> str:
    match = _BULLET.match(sentence)
    if match is None:
        return ""
    mark = match.group(1)
    return "①" if mark in "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳" else ("1" if mark[-1:] in ".．:：)" else mark)


def _same_line(text: str, first: str, second: str) -> bool:
    return any(first in line and second in line for line in text.split("\n"))


def is_cell(hit: Hit) -> bool:
    return hit.id.startswith(CELL_PREFIX)


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


#: A line of a contact block: a label (担当, 電話, FAX, E-mail …) or a phone number / e-mail address.
_CONTACT_LABEL = re.compile(
    r"^[\s\-・]*(?:\(?連絡先\)?|（連絡先）|担\s*当|電\s*話|TEL|Tel|F\s*A\s*X|FAX|E-?mail|e-?mail|メール|問い?合わ?せ先?)\s*[:：]?"
)
_ORGANISATION = re.compile(r"(?:省|庁|局|府|課|室|部|担当\)|担当）|センター|機構)")


def contact_blocks(lines: list[str], start: int, end: int) -> list[tuple[int, int]]:
    """1-based inclusive line ranges of the contact blocks between ``start`` and ``end``: the label lines
    (担当・電話・FAX・E-mail) with the organisation line that heads them, as a document prints its own desk."""
    blocks: list[tuple[int, int]] = []
    number = max(1, start)
    last = min(end, len(lines))
    while number <= last:
        line = lines[number - 1]
        if _CONTACT_LABEL.match(line) or contacts_in(line):
            first = number
            while first > 1 and (
                not lines[first - 2].strip()
                or _ORGANISATION.search(lines[first - 2])
                and len(lines[first - 2]) < 60
            ):
                if lines[first - 2].strip() and not _ORGANISATION.search(lines[first - 2]):
                    break
                first -= 1
                if lines[first - 1].strip():
                    break
            stop = number
            probe = number + 1
            while probe <= len(lines) and (
                not lines[probe - 1].strip()
                or _CONTACT_LABEL.match(lines[probe - 1])
                or contacts_in(lines[probe - 1])
            ):
                if lines[probe - 1].strip():
                    stop = probe
                probe += 1
            block_text = "\n".join(lines[first - 1 : stop])
            if contacts_in(block_text):
                blocks.append((first, stop))
            number = stop + 1
        else:
            number += 1
    return blocks

"""The deterministic composer: an answer per plan kind, from templates and the plan's evidence only.

Nothing here generates free text. Program facts (申請主体, 予算額, 新規課題採択, 担当部署, TEL, e-mail) are
copied from catalog records and cite the program's table row; prose facts are sentences quoted verbatim
and cite where they stand. Templates live in ``prompts/answer_<language>.toml`` (Japanese; English framing
for questions asked in English — names and quotes stay Japanese).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from assistant.pipeline.compose import COMPOSERS, AnswerDraft, Line
from assistant.pipeline.compose.format import (
    applicant_note,
    applicants_text,
    as_wish,
    budget_text,
    contacts_text,
    department_text,
    display_quote,
    squash,
    templates,
    year_text,
)
from assistant.pipeline.conditions import ProgramFilter, describe
from assistant.pipeline.networks import NetworkAnswer, NetworkEntry
from assistant.pipeline.plan import AnswerPlan, BudgetFigure, ProgramFacts, TargetFacts
from assistant.records import Program, TextSpan
from assistant.vocabulary import SECTOR_LABELS


class DeterministicComposer:
    name = "deterministic"

    def __init__(self, *_context: object) -> None:
        self._kinds: dict[str, Callable[[AnswerPlan, dict], list[Line]]] = {
            "abstain": self._abstain,
            "clarify": self._clarify,
            "fit": self._fit,
            "list": self._list,
            "ranking": self._ranking,
            "compare": self._compare,
            "yes_no": self._yes_no,
            "attribute": self._attribute,
            "contact": self._contact,
            "prose": self._prose,
            "not_stated": self._not_stated,
            "not_found": self._not_found,
            "network": self._network,
        }

    def compose(self, plan: AnswerPlan) -> AnswerDraft:
        t = templates(plan.question.language)
        lines = self._with_check_notes(plan, self._kinds.get(plan.kind, self._abstain)(plan, t), t)
        if plan.question.language == "en":
            lines = [Line(ln.text, ln.cites, _ENGLISH_END.get(ln.end, ln.end)) for ln in lines]
        programs = (
            [f.program for f in plan.programs] if plan.kind not in ("abstain", "clarify", "not_found") else []
        )
        return AnswerDraft(lines=lines, programs=programs, composer=self.name)

    def _with_check_notes(self, plan: AnswerPlan, lines: list[Line], t: dict) -> list[Line]:
        """What the check stage found, said where the reader sees it: a name the documents do not print before
        the answer about the programs that are there, conditions not applied after the answer's first line."""
        check = plan.check
        if check is None:
            return lines
        c = t["check"]
        if check.unknown and plan.kind != "not_found":
            names = "』『".join(u.text for u in check.unknown)
            lines = [Line(c["unknown_also"].format(names=names)), *lines]
        if check.unapplied and lines:
            note = Line(c["unapplied"].format(phrases="』『".join(check.unapplied)))
            lines = [lines[0], note, *lines[1:]]
        return lines

    # -- abstain and clarify ------------------------------------------------------------------------
    def _abstain(self, plan: AnswerPlan, t: dict) -> list[Line]:
        lines = [Line(t["abstain"]["no_support"])]
        if plan.suggestions:
            lines.append(Line("\n" + t["abstain"]["suggestions"], end="：\n"))
            lines.extend(Line(f"・{s}", end="\n") for s in plan.suggestions)
        lines.append(Line(("" if plan.suggestions else "\n") + t["abstain"]["whom"]))
        return lines

    def _clarify(self, plan: AnswerPlan, t: dict) -> list[Line]:
        ref = plan.question.reference
        if not plan.options:
            return [Line(t["clarify"]["missing"])]
        lines = [Line(t["clarify"]["ambiguous"].format(expression=ref.expression if ref else ""), end="：\n")]
        for program in plan.options:
            lines.append(Line(t["clarify"]["option"].format(name=program.name), end="\n"))
        return lines

    # -- program cards ------------------------------------------------------------------------------
    def _heading(self, index: int, facts: ProgramFacts, t: dict) -> Line:
        program = facts.program
        heading = t["program"]["heading"].format(
            index=index, name=program.name, ministry=program.ministry or "所管不明"
        )
        return Line(heading, _row(facts), end="\n")

    def _applicants_line(self, facts: ProgramFacts, t: dict) -> list[Line]:
        program = facts.program
        if not program.applicant_types:
            return []
        text = t["program"]["applicants"].format(applicants=applicants_text(program)) + applicant_note(
            program, t["program"]
        )
        return [Line(text, _row(facts))]

    def _budget_lines(self, plan: AnswerPlan, facts: ProgramFacts, t: dict) -> list[Line]:
        lines = []
        budget = budget_text(facts.program)
        wanted = plan.question.budget_basis
        if wanted is not None:  # which budget was asked (当初／補正): the printed figures with what each is
            if budget:
                lines.append(Line(t["program"]["budget"].format(budget=budget), _row(facts)))
            if wanted in ("initial", "supplementary") and not facts.figures:
                part = t["program"][f"figure_{wanted}"]
                lines.append(Line(t["program"]["figure_not_split"].format(part=part)))
            return lines + self._figure_lines(facts.figures, t)
        if budget:
            lines.append(Line(t["program"]["budget"].format(budget=budget), _row(facts)))
        for eid in facts.budget_lines:
            quote = squash(plan.evidence[eid - 1].quote)
            lines.append(Line(t["program"]["budget_line"].format(quote=quote), [eid]))
        return lines

    def _figure_lines(self, figures: list[BudgetFigure], t: dict) -> list[Line]:
        p = t["program"]
        return [
            Line(
                p["figure"].format(
                    amount=f.amount,
                    basis=f.basis or p["figure_unlabelled"],
                    kind=p[f"figure_{f.kind}"],
                ),
                [f.cite, *([f.basis_cite] if f.basis_cite and f.basis_cite != f.cite else [])],
            )
            for f in figures
        ]

    def _measures(self, plan: AnswerPlan, t: dict) -> list[Line]:
        """Measures the documents name without a program row: their printed budget figures (with what each is)
        and the goal line that names them; no department or contact is printed for them."""
        lines: list[Line] = []
        for target in plan.targets:
            lines.append(
                Line(
                    ("\n" if lines else "") + t["attribute"]["budget_intro"].format(name=target.name),
                    end="：\n",
                )
            )
            if target.figures:
                lines.extend(self._figure_lines(target.figures, t))
            elif plan.question.budget_basis in ("initial", "supplementary"):
                part = t["program"][f"figure_{plan.question.budget_basis}"]
                lines.append(Line(t["program"]["figure_not_split"].format(part=part)))
            if target.use_case is not None:
                lines.append(
                    Line(
                        t["program"]["fit_use_case"].format(goal=as_wish(target.use_case_goal)),
                        [target.use_case],
                    )
                )
            lines.append(Line(t["fit"]["target_no_row"]))
        return lines

    def _new_calls_line(self, facts: ProgramFacts, t: dict) -> list[Line]:
        if facts.program.new_calls is None:
            return []
        key = "new_calls_yes" if facts.program.new_calls else "new_calls_no"
        return [Line(t["program"][key], _row(facts))]

    def _contact_lines(self, facts: ProgramFacts, t: dict) -> list[Line]:
        program = facts.program
        lines = []
        if program.department or program.ministry:
            lines.append(
                Line(t["program"]["department"].format(department=department_text(program)), _row(facts))
            )
        contacts = contacts_text(program)
        text = t["program"]["contact"].format(contacts=contacts) if contacts else t["program"]["no_contact"]
        lines.append(Line(text, _row(facts)))
        return lines

    def _why_lines(self, plan: AnswerPlan, facts: ProgramFacts, t: dict) -> list[Line]:
        lines = []
        if facts.use_case is not None:
            lines.append(
                Line(t["program"]["fit_use_case"].format(goal=as_wish(facts.use_case_goal)), [facts.use_case])
            )
        if facts.description is not None and facts.program.description:
            lines.append(
                Line(
                    t["program"]["fit_description"].format(description=facts.program.description),
                    [facts.description],
                )
            )
        return lines

    def _card(self, plan: AnswerPlan, index: int, facts: ProgramFacts, t: dict) -> list[Line]:
        return [
            self._heading(index, facts, t),
            *self._why_lines(plan, facts, t),
            *self._applicants_line(facts, t),
            *self._budget_lines(plan, facts, t),
            *self._new_calls_line(facts, t),
            *self._contact_lines(facts, t),
        ]

    def _target_card(self, plan: AnswerPlan, index: int, target: TargetFacts, t: dict) -> list[Line]:
        lines = [
            Line(
                t["fit"]["target_heading"].format(index=index, name=target.name), [target.use_case], end="\n"
            ),
            Line(t["program"]["fit_use_case"].format(goal=as_wish(target.use_case_goal)), [target.use_case]),
        ]
        for eid in target.budget_lines:
            quote = squash(plan.evidence[eid - 1].quote)
            lines.append(Line(t["program"]["budget_line"].format(quote=quote), [eid]))
        lines.append(Line(t["fit"]["target_no_row"], end="\n"))
        return lines

    # -- kinds about named programs -----------------------------------------------------------------
    def _contact(self, plan: AnswerPlan, t: dict) -> list[Line]:
        lines: list[Line] = []
        for facts in plan.programs:
            intro = t["contact"]["intro"].format(name=facts.program.name)
            lines.append(Line(("\n" if lines else "") + intro, end="：\n"))
            lines.extend(self._contact_lines(facts, t))
        return lines

    def _attribute(self, plan: AnswerPlan, t: dict) -> list[Line]:
        if not plan.programs and plan.targets:
            return self._measures(plan, t)
        asked = set(plan.asked)
        lines: list[Line] = []
        if "prose" in plan.missing:
            names = "、".join(f.program.name for f in plan.programs)
            lines.append(Line(t["attribute"]["no_prose"].format(name=names), end="：\n"))
            for index, facts in enumerate(plan.programs, start=1):
                lines.extend(
                    [
                        self._heading(index, facts, t),
                        *self._applicants_line(facts, t),
                        *self._contact_lines(facts, t),
                    ]
                )
            return lines
        specific = asked & {
            "budget",
            "applicants",
            "ministry",
            "new_calls",
            "themes",
            "department",
            "contact",
        }
        if not specific:
            for index, facts in enumerate(plan.programs, start=1):
                lines.extend(self._card(plan, index, facts, t))
            return lines
        for facts in plan.programs:
            program = facts.program
            only_budget = specific == {"budget"}
            intro = t["attribute"]["budget_intro" if only_budget else "intro"].format(name=program.name)
            lines.append(Line(("\n" if lines else "") + intro, end="：\n"))
            if "ministry" in specific:
                lines.append(
                    Line(f"・{t['labels']['ministry']}：{program.ministry or '記載なし'}", _row(facts))
                )
            if "applicants" in specific:
                lines.extend(self._applicants_line(facts, t))
            if "budget" in specific:
                lines.extend(self._budget_lines(plan, facts, t))
                if not budget_text(program) and not facts.budget_lines:
                    lines.append(Line("・予算額：関連事業マップの表では「ー」（記載なし）", _row(facts)))
            if "new_calls" in specific:
                lines.extend(self._new_calls_line(facts, t))
            if "themes" in specific and program.themes:
                lines.append(
                    Line(t["program"]["themes"].format(themes="、".join(program.themes)), _row(facts))
                )
            if not only_budget or "contact" in specific or "department" in specific:
                lines.extend(self._contact_lines(facts, t))
        return lines

    def _yes_no(self, plan: AnswerPlan, t: dict) -> list[Line]:
        """One sentence per attribute the verdict checked, the one it turns on first."""
        if plan.verdict_attribute == "claim":
            if plan.verdict is None or plan.claim_evidence is None:
                return self._prose(plan, t)  # the check withdrew the verdict: the quotes alone
            # a date or count the question claims, judged on the quote that states it; the quotes follow
            key = f"claim_{plan.claim_kind}_{plan.verdict}"
            verdict = Line(t["yes_no"][key].format(stated=plan.claim_stated), [plan.claim_evidence], "。\n")
            return [verdict, Line(t["prose"]["intro"], end="：\n"), *self._prose_items(plan, t)]
        facts = plan.programs[0]
        lines: list[Line] = []
        for attribute in plan.verdict_attributes or (plan.verdict_attribute,):
            if attribute is None:
                continue
            found = self._yes_no_attribute(plan, facts, attribute, t)
            if lines and found:  # one はい/いいえ leads; the other attributes are stated after it
                found[0] = Line(_VERDICT_WORD.sub("", found[0].text), found[0].cites, found[0].end)
            lines.extend(found)
        lines.extend(self._contact_lines(facts, t))
        return lines

    def _yes_no_attribute(self, plan: AnswerPlan, facts: ProgramFacts, attribute: str, t: dict) -> list[Line]:
        program = facts.program
        y = t["yes_no"]
        conditions = [c for c in plan.conditions if c.role != "background" and c.field == attribute]
        value = conditions[0].value if conditions else None
        values = value if isinstance(value, tuple) else (value,)
        verdict = all(ProgramFilter.of([c]).matches(program) for c in conditions) if conditions else True
        if attribute == "applicant":
            key = "applicant_yes" if verdict else "applicant_no"
            lines = [
                Line(
                    y[key].format(
                        name=program.name,
                        applicant="・".join(map(str, values)),
                        applicants=applicants_text(program),
                    ),
                    _row(facts),
                )
            ]
            if not verdict and "大学等研究機関" in values:
                note = applicant_note(program, t["program"]).strip("（）() ")
                lines.append(Line(note or y["applicant_no_university"], _row(facts)))
            return lines
        if attribute == "ministry":
            key = "ministry_yes" if verdict else "ministry_no"
            text = y[key].format(
                name=program.name, ministry="・".join(map(str, values)), actual=program.ministry
            )
            return [Line(text, _row(facts))]
        if attribute == "new_calls":
            asked_yes = value is not False
            key = (
                ("new_calls_yes" if program.new_calls else "new_calls_no")
                if asked_yes
                else ("new_calls_yes_asked_no" if program.new_calls else "new_calls_no_asked_no")
            )
            return [Line(y[key].format(name=program.name), _row(facts))]
        if attribute == "theme":
            key = "theme_yes" if verdict else "theme_no"
            text = y[key].format(
                name=program.name, theme="・".join(map(str, values)), themes="、".join(program.themes)
            )
            return [Line(text, _row(facts))]
        if attribute in ("min_budget", "max_budget"):
            key = "budget_yes" if verdict else "budget_no"
            text = y[key].format(
                name=program.name,
                budget=budget_text(program),
                condition=describe(conditions, plan.question.language),
            )
            return [Line(text, _row(facts))]
        if attribute == "has_budget":
            key = "has_budget_yes" if program.budget_thousand_yen is not None else "has_budget_no"
            return [Line(y[key].format(name=program.name, budget=budget_text(program)), _row(facts))]
        if attribute == "stated":
            key = "stated_yes" if verdict else "stated_no"
            return [
                Line(
                    y[key].format(name=program.name, condition=describe(conditions, plan.question.language)),
                    _row(facts),
                )
            ]
        return []

    def _compare(self, plan: AnswerPlan, t: dict) -> list[Line]:
        c = t["compare"]
        english = plan.question.language == "en"
        lines: list[Line] = []
        by_id = {f.program.id: f for f in plan.programs}
        if plan.compared == ("budget",):
            missing = [f for f in plan.programs if f.program.budget_thousand_yen is None]
            if plan.winner is not None:
                winner = by_id[plan.winner]
                others = [f for f in plan.programs if f.program.id != plan.winner and f not in missing]
                more = (
                    ("smaller" if english else "小さい")
                    if plan.question.ranking_ascending
                    else ("larger" if english else "大きい")
                )
                lines.append(
                    Line(
                        c["budget_winner"].format(
                            more=more,
                            winner=winner.program.name,
                            winner_budget=budget_text(winner.program),
                            loser_name="、".join(f.program.name for f in others),
                            loser_budget="、".join(budget_text(f.program) for f in others),
                        ),
                        [*_row(winner), *[e for f in others for e in _row(f)]],
                    )
                )
            for facts in missing:
                lines.append(Line(c["budget_missing"].format(name=facts.program.name), _row(facts)))
            for facts in plan.programs:
                for eid in facts.budget_lines:
                    lines.append(
                        Line(
                            t["program"]["budget_line"].format(quote=squash(plan.evidence[eid - 1].quote)),
                            [eid],
                        )
                    )
            return lines
        if plan.verdict is not None and plan.verdict_attribute is not None:
            attribute = plan.verdict_attribute
            values = [_value_text(f.program, attribute, t) for f in plan.programs]
            key = "same_yes" if plan.verdict == "yes" else "same_no"
            label = t["labels"].get(attribute, attribute)
            lines.append(
                Line(
                    c[key].format(value=values[0], attribute=label),
                    [e for f in plan.programs for e in _row(f)],
                )
            )
            for facts, value in zip(plan.programs, values, strict=True):
                lines.append(Line(c["row"].format(name=facts.program.name, value=value), _row(facts)))
            return lines
        for attribute in plan.compared:
            label = t["labels"].get(attribute, attribute)
            lines.append(
                Line(("\n" if lines else "") + c["attribute_intro"].format(attribute=label), end="：\n")
            )
            for facts in plan.programs:
                lines.append(
                    Line(
                        c["row"].format(
                            name=facts.program.name, value=_value_text(facts.program, attribute, t)
                        ),
                        _row(facts),
                    )
                )
        return lines

    # -- kinds over the catalog ---------------------------------------------------------------------
    def _ranking(self, plan: AnswerPlan, t: dict) -> list[Line]:
        r = t["ranking"]
        english = plan.question.language == "en"
        ascending = plan.question.ranking_ascending
        order = ("smallest" if ascending else "largest") if english else ("小さい" if ascending else "大きい")
        conditions = describe(plan.conditions, plan.question.language)
        if not plan.programs:
            return [Line(r["none"].format(conditions=conditions), end="")]
        if plan.ranked_within:
            first = plan.programs[0]
            lines = [
                Line(
                    r["within"].format(
                        most=order, name=first.program.name, budget=budget_text(first.program)
                    ),
                    _row(first),
                )
            ]
            if len(plan.programs) > 1:
                lines.append(Line("\n" + r["within_more"].format(order=order), end="：\n"))
                lines.extend(self._rank_items(plan.programs, t))
            return lines
        if plan.question.ranking_size in (None, 1):
            # A superlative (「一番…は？」) is answered by a sentence naming the winner; the runners-up follow.
            first = plan.programs[0]
            applied = any(c.role != "background" for c in plan.conditions)
            lines = [
                Line(
                    r["top" if applied else "top_all"].format(
                        most=order,
                        conditions=conditions,
                        name=first.program.name,
                        ministry=first.program.ministry or "所管不明",
                        budget=budget_text(first.program),
                    ),
                    _row(first),
                )
            ]
            if len(plan.programs) > 1:
                lines.append(Line("\n" + r["runners_up"], end="：\n"))
                lines.extend(self._rank_items(plan.programs[1:], t))
            return lines
        lines = [
            Line(r["intro"].format(order=order, conditions=conditions, count=len(plan.programs)), end="：\n")
        ]
        lines.extend(self._rank_items(plan.programs, t))
        return lines

    def _rank_items(self, programs: list[ProgramFacts], t: dict) -> list[Line]:
        return [
            Line(
                t["ranking"]["item"].format(
                    name=f.program.name,
                    ministry=f.program.ministry or "所管不明",
                    budget=budget_text(f.program),
                ),
                _row(f),
            )
            for f in programs
        ]

    def _list(self, plan: AnswerPlan, t: dict) -> list[Line]:
        li = t["list"]
        conditions = describe(plan.conditions, plan.question.language)
        if not plan.programs:
            lines = [Line(li["none"].format(conditions=conditions))]
            if plan.relaxed is not None and plan.near_misses:
                relaxed = describe([plan.relaxed], plan.question.language)
                lines.append(
                    Line(li["near_intro"].format(condition=relaxed, count=len(plan.near_misses)), end="：\n")
                )
                lines.extend(self._list_items(plan, plan.near_misses, t))
            return lines
        lines = [Line(li["intro"].format(conditions=conditions, count=len(plan.programs)), end="：\n")]
        return lines + self._list_items(plan, plan.programs, t)

    def _list_items(self, plan: AnswerPlan, programs: list[ProgramFacts], t: dict) -> list[Line]:
        li = t["list"]
        lines: list[Line] = []
        with_contacts = "contact" in plan.asked or "department" in plan.asked
        new_calls_text = {True: "有", False: "無", None: "記載なし"}
        for facts in programs:
            program = facts.program
            item = li["item_contact"] if with_contacts else li["item"]
            lines.append(
                Line(
                    item.format(
                        name=program.name,
                        ministry=program.ministry or "所管不明",
                        applicants=applicants_text(program) or "記載なし",
                        budget=budget_text(program) or "記載なし",
                        new_calls=new_calls_text[program.new_calls],
                        department=department_text(program) or "記載なし",
                        contacts=contacts_text(program) or "電話番号・メールアドレスの記載なし",
                    ),
                    _row(facts),
                )
            )
        return lines

    def _fit(self, plan: AnswerPlan, t: dict) -> list[Line]:
        count = len(plan.programs) + len(plan.targets)
        lines = [Line(t["fit"]["intro_one" if count == 1 else "intro"], end="：\n")]
        blocks: list[tuple[float, ProgramFacts | TargetFacts]] = [(f.score or 0.0, f) for f in plan.programs]
        blocks.extend((target.score or 0.0, target) for target in plan.targets)
        blocks.sort(key=lambda item: -item[0])
        for index, (_, item) in enumerate(blocks, start=1):
            if isinstance(item, ProgramFacts):
                lines.extend(self._card(plan, index, item, t))
            else:
                lines.extend(self._target_card(plan, index, item, t))
        return lines

    # -- prose ----------------------------------------------------------------------------------------
    def _prose(self, plan: AnswerPlan, t: dict) -> list[Line]:
        p = t["prose"]
        if not plan.quotes:
            return self._attribute(plan, t) if plan.programs else self._abstain(plan, t)
        contact_block = all(
            plan.evidence[eid - 1].kind == "quote" and plan.evidence[eid - 1].label == "contact"
            for eid in plan.quotes
        )
        if contact_block:
            first = plan.evidence[plan.quotes[0] - 1]
            lines = [Line(p["contact_intro"].format(title=first.title), end="：\n")]
            lines.extend(
                Line(p["contact_item"].format(quote=" ".join(plan.evidence[e - 1].quote.split())), [e])
                for e in plan.quotes
            )
            return lines
        if plan.programs:
            names = "、".join(f.program.name for f in plan.programs)
            lines = [Line(p["intro_about"].format(names=names), end="：\n")]
        elif any(u.kind == "region" for u in plan.unknown):
            regions = "、".join(u.text for u in plan.unknown if u.kind == "region")
            intro = p["intro_region"].format(regions=regions, covered="、".join(plan.nearest))
            lines = [Line(intro, end="：\n")]
        else:
            lines = [Line(p["intro"], end="：\n")]
        return lines + self._prose_items(plan, t)

    def _prose_items(self, plan: AnswerPlan, t: dict) -> list[Line]:
        """The plan's quotes, one line each: a sentence with its document, a table cell with its label."""
        p = t["prose"]
        lines = []
        for eid in plan.quotes:
            evidence = plan.evidence[eid - 1]
            if evidence.kind == "cell":
                item = p["cell"].format(label=evidence.label, quote=evidence.quote, title=evidence.title)
            else:
                item = p["item"].format(
                    quote=display_quote(" ".join(evidence.quote.split("\n"))), title=evidence.title
                )
            lines.append(Line(item, [eid]))
        return lines

    def _network(self, plan: AnswerPlan, t: dict) -> list[Line]:
        n = t["network"]
        answer = plan.network
        if answer is None:
            return self._abstain(plan, t)
        if plan.absent_regions:
            cites = [
                e for key, e in plan.network_evidence.items() if isinstance(key, tuple) and key[0] == "row"
            ]
            programs = "・".join(dict.fromkeys(e.program_name for e in answer.networks))
            absent = n["absent"].format(regions="、".join(plan.absent_regions), programs=programs)
            return [
                Line(absent, cites),
                Line("\n" + n["regions_networks"], end="：\n"),
                *(_network_item(plan, entry, n) for entry in answer.networks),
            ]
        if "region" in plan.asked and answer.networks:
            regions = list(dict.fromkeys(e.region for e in answer.networks))
            cites = [e for entry in answer.networks for e in plan.cell(entry.name_source)]
            return [
                Line(n["regions"].format(regions="、".join(regions)), cites),
                Line("\n" + n["regions_networks"], end="：\n"),
                *(_network_item(plan, entry, n) for entry in answer.networks),
            ]
        lines: list[Line] = []
        relation = answer.query.relation
        if answer.count is not None:
            key = "count_members" if relation in ("members", "shared") else "count_networks"
            cited = [
                e for entry in answer.networks for e in plan.cell(entry.members_cell or entry.name_source)
            ]
            lines.append(Line(n[key].format(count=answer.count), cited[:6]))
        by_relation = {
            "networks": self._networks_of_members,
            "shared": self._shared_members,
            "summary": self._network_summaries,
            "members": self._network_members,
        }
        return by_relation.get(relation, self._network_overview)(plan, answer, n, lines)

    def _networks_of_members(self, plan: AnswerPlan, answer: NetworkAnswer, n: dict, lines: list[Line]):
        if plan.verdict is not None:
            names = "・".join(m.name for m in answer.members) or n["asked_members"]
            spans = [*plan.network_scope_sources, *(entry.name_source for entry in answer.networks)]
            key = "member_yes" if plan.verdict == "yes" else "member_no"
            lines.append(Line(n[key].format(scope=_scope_text(plan, n), what=names), _cells(plan, spans)))
        for member in answer.members:
            intro = n["networks_intro"].format(member=member.name)
            lines.append(Line(("\n" if lines else "") + intro, end="：\n"))
            member_cell = member.sources[0] if member.sources else None
            lines.extend(
                _network_item(plan, entry, n, also=member_cell)
                for entry in answer.networks
                if entry.network_id in member.network_ids
            )
        return lines

    def _shared_members(self, plan: AnswerPlan, answer: NetworkAnswer, n: dict, lines: list[Line]):
        lines.append(Line(n["shared_intro"], end="：\n"))
        names = {e.network_id: e.name for e in answer.networks}
        cells = {e.network_id: e.members_cell or e.name_source for e in answer.networks}
        for member in answer.members:
            networks = "、".join(names.get(nid, nid) for nid in member.network_ids)
            cites = [e for nid in member.network_ids for e in plan.cell(cells.get(nid))]
            lines.append(Line(n["shared_item"].format(member=member.name, networks=networks), cites))
        return lines

    def _network_summaries(self, plan: AnswerPlan, answer: NetworkAnswer, n: dict, lines: list[Line]):
        for entry in answer.networks:
            intro = n["summary"].format(region=entry.region, program=entry.program_name, name=entry.name)
            lines.append(Line(("\n" if lines else "") + intro, plan.cell(entry.name_source), end="：\n"))
            if entry.summary:
                lines.append(
                    Line(n["summary_item"].format(summary=entry.summary), plan.cell(entry.summary_source))
                )
        return lines

    def _network_members(self, plan: AnswerPlan, answer: NetworkAnswer, n: dict, lines: list[Line]):
        asked = plan.question.network
        sectors = asked.sectors if asked is not None else answer.query.sectors
        printed = {m.sector for entry in answer.networks for m in entry.members}
        if plan.network_unlisted:
            spans = [*plan.network_scope_sources, *(entry.members_cell for entry in answer.networks)]
            names = "・".join(plan.network_unlisted)
            lines.append(
                Line(n["unlisted"].format(scope=_scope_text(plan, n), what=names), _cells(plan, spans))
            )
            sectors = []
        elif plan.verdict is not None:
            # はい rests on the cells that hold such members; いいえ on every network of the scope
            named = (
                plan.network_scope_sources
                if plan.verdict == "no"
                else tuple(entry.name_source for entry in answer.networks)
            )
            spans = [*named, *(entry.members_cell for entry in answer.networks)]
            labelled = "・".join(_sector_text(s, printed, n, spelled_out=True) for s in sectors)
            what = labelled or "・".join(m.name for m in answer.members) or n["asked_members"]
            key = "members_yes" if plan.verdict == "yes" else "members_no"
            lines.append(Line(n[key].format(scope=_scope_text(plan, n), what=what), _cells(plan, spans)))
        wanted = "・".join(_sector_text(s, printed, n) for s in sectors)
        only = n["sector_only"].format(sectors=wanted) if wanted and plan.verdict != "no" else ""
        for entry in answer.networks:
            intro = n["members_intro"].format(
                region=entry.region, program=entry.program_name, name=entry.name, sectors=only
            )
            lines.append(Line(("\n" if lines else "") + intro, plan.cell(entry.name_source), end="：\n"))
            for sector, members in _sector_groups(entry.members):
                names = "、".join(
                    (m.printed or m.name) + (n["role"].format(role=m.role) if m.role else "") for m in members
                )
                line = n["members_line"].format(sector=sector, members=names)
                lines.append(Line(line, plan.cell(entry.members_cell)))
        return lines

    def _network_overview(self, plan: AnswerPlan, answer: NetworkAnswer, n: dict, lines: list[Line]):
        query = answer.query
        scope = "・".join(query.regions) or "・".join(dict.fromkeys(e.program_name for e in answer.networks))
        lines.append(Line(n["overview_intro"].format(scope=scope or "表"), end="：\n"))
        lines.extend(_network_item(plan, entry, n) for entry in answer.networks)
        return lines

    def _not_stated(self, plan: AnswerPlan, t: dict) -> list[Line]:
        n = t["not_stated"]
        labels = t["labels"]
        missing = "・".join(labels.get(m, m) for m in plan.missing)
        if plan.question.years:
            language = plan.question.language
            years = "、".join(year_text(y, language) for y in sorted(plan.question.years))
            of = n["of"]
            missing = (
                f"{years}{of}{missing}"
                if "period" not in plan.missing
                else f"{years}{of}{labels['period_info']}"
            )
        if plan.network is not None:
            # A network question about what the table does not print (a person, a date): what it prints.
            intro = [Line(n["intro_general"].format(missing=missing)), Line(n["nearest"], end="：\n")]
            return intro + self._network(replace(plan, kind="network"), t)
        if not plan.programs:
            return [Line(n["intro_general"].format(missing=missing))]
        names = "、".join(f.program.name for f in plan.programs)
        lines = [Line(n["intro"].format(name=names, missing=missing))]
        lines.append(Line(n["nearest"], end="：\n"))
        for facts in plan.programs:
            program = facts.program
            if len(plan.programs) > 1:
                lines.append(Line(f"【{program.name}】", _row(facts), end="\n"))
            if program.new_calls is not None:
                lines.append(Line(n["new_calls_yes" if program.new_calls else "new_calls_no"], _row(facts)))
            budget = budget_text(program)
            if budget and ("period" in plan.missing or "budget" in plan.asked or "result" in plan.missing):
                lines.append(Line(n["budget_as_of"].format(budget=budget), _row(facts)))
        lines.append(Line("\n" + n["whom"], end="：\n"))
        for facts in plan.programs:
            lines.extend(self._contact_lines(facts, t))
        return lines

    def _not_found(self, plan: AnswerPlan, t: dict) -> list[Line]:
        """The documents do not print the name asked about: say so first, then the nearest real names,
        labelled as other things, and what the documents do state (quotes the plan kept), and whom to ask."""
        f = t["not_found"]
        unknown = plan.all_unknown
        rounds = [u.text for u in unknown if u.kind == "round"]
        regions = [u.text for u in unknown if u.kind == "region"]
        names = [u.text for u in unknown if u.kind not in ("round", "region")]
        lines: list[Line] = []
        if names:
            lines.append(Line(f["intro"].format(names="』『".join(names))))
        if rounds:
            lines.append(Line(f["round"].format(names="、".join(rounds))))
        if regions:
            covered = "、".join(plan.nearest)
            lines.append(Line(f["region"].format(regions="、".join(regions), covered=covered)))
        if plan.nearest and names:
            lines.append(Line(f["nearest"], end="：\n"))
            lines.extend(Line(f["item"].format(name=name), end="\n") for name in plan.nearest)
        if plan.quotes:
            lines.append(Line(f["stated"], end="：\n"))
            lines.extend(self._prose_items(plan, t))
        whom = f["whom_region"] if regions and not names else f["whom"]
        lines.append(Line("\n" + whom))  # whom to ask, on a line of its own
        return lines


_ENGLISH_END = {"。": ".", "：\n": ":\n"}
_VERDICT_WORD = re.compile(r"^(?:はい|いいえ)、|^(?:Yes|No)[:,]\s*")


def _network_item(plan: AnswerPlan, entry: NetworkEntry, n: dict, also: TextSpan | None = None) -> Line:
    """「・高知県／共創の場形成支援プログラム（文部科学省）：「…」」, cited to its name cell (and ``also``)."""
    item = n["network_item"].format(region=entry.region, program=entry.program_name, name=entry.name)
    cites = plan.cell(entry.name_source)
    return Line(item, [*cites, *plan.cell(also)] if also is not None else cites)


def _cells(plan: AnswerPlan, spans: list[TextSpan | None]) -> list[int]:
    """The evidence ids of these cells, each once, in order."""
    return list(dict.fromkeys(e for span in spans for e in plan.cell(span)))


def _sector_text(sector: str, printed: set[str | None], n: dict, spelled_out: bool = False) -> str:
    """A sector the table prints as its label (【産】, or 産業界（【産】） spelled out); one read from members'
    names (銀行 → 金融, which the table files under 【産】) says so."""
    label = SECTOR_LABELS.get(sector, sector)
    if sector not in printed:
        return n["sector_by_name"].format(label=label)
    return f"{label}（【{sector}】）" if spelled_out else f"【{sector}】"


def _scope_text(plan: AnswerPlan, n: dict) -> str:
    """「高知県のネットワーク」 or 「「ＳＡＷＡＣＨＩ型健康社会共創拠点」」: what a membership verdict is about."""
    if plan.network_scope_named:
        return "・".join(f"「{name}」" for name in plan.network_scope)
    return "・".join(plan.network_scope) + n["networks_of"]


def _sector_groups(
    members: list, order: tuple[str, ...] = ("学", "官", "産", "金融")
) -> list[tuple[str, list]]:
    groups: dict[str, list] = {}
    for member in members:
        groups.setdefault(member.sector or "その他", []).append(member)
    ranked = sorted(groups.items(), key=lambda item: order.index(item[0]) if item[0] in order else len(order))
    return ranked


def _row(facts: ProgramFacts) -> list[int]:
    return [facts.row] if facts.row is not None else []


def _value_text(program: Program, attribute: str, t: dict) -> str:
    if attribute == "ministry":
        return program.ministry or "記載なし"
    if attribute == "applicants":
        return applicants_text(program) or "記載なし"
    if attribute == "department":
        return department_text(program) or "記載なし"
    if attribute == "contact":
        return contacts_text(program) or "記載なし"
    if attribute == "email":
        return "、".join(program.email) or "記載なし"
    if attribute == "tel":
        return "、".join(program.tel) or "記載なし"
    if attribute == "themes":
        return "、".join(program.themes) or "記載なし"
    if attribute == "new_calls":
        return {True: "有", False: "無"}.get(program.new_calls, "記載なし")  # type: ignore[arg-type]
    return budget_text(program) or "記載なし"


COMPOSERS.register("deterministic")(DeterministicComposer)

"""The rules the check enforces, each in plain words with the general way to fix a violation.

A ``Problem`` names its rule by code; reports look the code up here, so a person reads the rule
rather than a code, and the advice lives in one place.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["RULES", "Rule", "rule_for"]


@dataclass(frozen=True, kw_only=True, slots=True)
class Rule:
    code: str
    words: str
    fix: str


def _rules(*rules: Rule) -> dict[str, Rule]:
    return {rule.code: rule for rule in rules}


RULES = _rules(
    Rule(
        code="schema",
        words="every file matches its schema",
        fix="correct the keys and values named (docs/format.md describes each file)",
    ),
    Rule(
        code="file-name",
        words="names inside files agree with file and folder names",
        fix="make the name in the file match its file or folder name",
    ),
    Rule(
        code="yaml-syntax",
        words="every file is well-formed YAML",
        fix="correct the YAML at the line shown",
    ),
    Rule(
        code="yaml-safety",
        words="YAML without anchors, aliases or deep nesting",
        fix="write every value out in full and nest at most 20 levels",
    ),
    Rule(
        code="yaml-ambiguous",
        words="every file means the same to every YAML and JSON reader: no duplicate keys, "
        "merge keys, tags or directives, no plain value YAML 1.1 and 1.2 read differently, "
        "numbers JSON keeps exactly, LF line ends",
        fix='quote the value named ("017", "yes", "2026-11-29") or write it as a plain '
        "number or true/false; write each key once",
    ),
    Rule(
        code="limit",
        words="counts and sizes stay within promptship's limits (versions, messages, metadata, "
        "test cases, digits of numbers)",
        fix="make the file or the prompt smaller, as the message says",
    ),
    Rule(code="utf-8", words="files are UTF-8 text", fix="save the file as UTF-8"),
    Rule(
        code="size",
        words="version, prompt and pointer files stay within 1 MiB, history within 64 MiB",
        fix="make the file smaller",
    ),
    Rule(
        code="layout",
        words="prompts/ holds prompt folders, and a prompt folder holds only prompt.yaml, "
        "versions/N.yaml, production.yaml, history.yaml and tests.yaml",
        fix="move the file out of prompts/ or delete it",
    ),
    Rule(
        code="symlink",
        words="no symbolic links in the registry",
        fix="replace the link with the file it points to",
    ),
    Rule(
        code="attributes",
        words="no .gitattributes line makes git write files under prompts/ otherwise than "
        "committed: no filter, ident, working-tree-encoding, export-subst, export-ignore, nor "
        "eol other than lf",
        fix="remove the line, or narrow its pattern so that it leaves prompts/ alone",
    ),
    Rule(
        code="name",
        words="prompt names use a-z, 0-9 and single '-', '_' or '.' between them, and are not "
        "a Windows device name (con, prn, aux, nul, com1-com9, lpt1-lpt9, with any extension)",
        fix="rename the folder",
    ),
    Rule(
        code="tests",
        words="golden test cases in tests.yaml are well-formed",
        fix="correct the case named (docs/golden-tests.md describes the file)",
    ),
    Rule(
        code="golden-tests",
        words="a version is promoted only when its golden test cases pass",
        fix="fix the version or the cases; a promotion made with 'promote --skip-tests' records "
        "the skip and is accepted",
    ),
    Rule(
        code="template",
        words="templates are valid Jinja2",
        fix="correct the template; variables are written {{ name }}",
    ),
    Rule(
        code="one-production",
        words="at most one version of a prompt is published",
        fix="promote with 'promptship promote', which archives the previous version in the "
        "same commit",
    ),
    Rule(
        code="pointer",
        words="production.yaml exists exactly when a version is published, and names it",
        fix="change production only with 'promptship promote'",
    ),
    Rule(
        code="digest",
        words="production.yaml's digest matches the content of the version it names",
        fix="restore the version's content; a changed copy is 'promptship new-version NAME "
        "--from N'",
    ),
    Rule(
        code="history-format",
        words="history.yaml holds one JSON record per line",
        fix="restore the file; 'promptship promote' appends records itself",
    ),
    Rule(
        code="history-chain",
        words="history records chain from one promotion to the next and end at production",
        fix="restore history.yaml; only 'promptship promote' appends to it",
    ),
    Rule(
        code="append-only",
        words="history is append-only: the base's records stay as they were",
        fix="restore the base's records (git checkout <base> -- <file>) and promote with "
        "'promptship promote'",
    ),
    Rule(
        code="frozen",
        words="a version that has been in production keeps its content for good; published and "
        "archived versions change only their status",
        fix="restore the file (git checkout <base> -- <file>); make a changed copy with "
        "'promptship new-version NAME --from N'",
    ),
    Rule(
        code="created",
        words="a version's created_at and created_by never change once the base has it, "
        "whatever its status",
        fix="restore the two fields as the base has them (git checkout <base> -- <file>, then "
        "redo the edit)",
    ),
    Rule(
        code="deleted",
        words="versions are never deleted",
        fix="restore the file (git checkout <base> -- <file>); archive it with 'promptship archive' "
        "instead",
    ),
    Rule(
        code="reused-number",
        words="version numbers are never reused",
        fix="give the new version the next unused number ('promptship new-version' does)",
    ),
    Rule(
        code="transition",
        words="statuses change only as the lifecycle allows: a version is published by "
        "'promptship promote', archived by promoting another, and unarchived to draft",
        fix="restore the status and use 'promptship promote', 'archive' or 'unarchive'",
    ),
    Rule(
        code="pointer-move",
        words="production moves exactly when history records are added, starting from the "
        "base's production version",
        fix="restore production.yaml and history.yaml and promote with 'promptship promote'",
    ),
    Rule(
        code="commit",
        words="each commit that moves production appends its history record in that same commit",
        fix="redo the promotion with 'promptship promote', which writes both in one commit",
    ),
    Rule(
        code="retire",
        words="a prompt with a production version is removed only by 'promptship delete "
        "--force', whose commit says Retire-Prompt",
        fix="restore the prompt, or remove it with 'promptship delete NAME --force'",
    ),
)

_UNKNOWN = Rule(code="", words="a rule of the registry", fix="see docs/check.md")


def rule_for(code: str) -> Rule:
    return RULES.get(code, _UNKNOWN)

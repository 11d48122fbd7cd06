"""Realistic promptship registries for benchmarks, built straight into a git object database.

    generate_registry(
        path, *, prompts, versions=10, long_history=0, seed=0,
        bare=True, branch="main", when="2026-01-05T09:00:00Z",
    ) -> GeneratedRegistry

creates a new git repository at ``path`` whose branch (``refs/heads/main`` by default) holds one
commit with ``prompts`` prompts of ``versions`` versions each, in the real format: ``prompt.yaml``,
``versions/N.yaml`` (text and chat prompts, metadata, a mix of draft, published and archived),
``production.yaml`` and an append-only ``history.yaml`` whose records chain forward promotions and
rollbacks. About one prompt in ten was never promoted. ``long_history=N`` adds one more prompt,
``long-history``, with two versions and ``N`` promotion records (a rollback ping-pong). The same
arguments always give the same repository (same commit id). ``bare=False`` makes a clone-like
repository whose HEAD names the branch but whose work tree is left empty (check out yourself if
you need the files: ``git reset --hard`` or ``git checkout -f``).

The files are streamed to ``git fast-import``, which stores them as one pack and builds the trees
and the commit; composing the files in Python is most of the time. Building the same registry
with ``promptship create``/``promote`` would take hours.

Version files are formatted here by string templates for speed; a sample of them is compared byte
for byte with ``registry.model.version_bytes`` so a change of the format fails loudly here.
"""

from __future__ import annotations

import os
import random
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from registry.history import HistoryRecord, record_line
from registry.model import (
    Message,
    Pointer,
    PromptInfo,
    Version,
    pointer_bytes,
    prompt_info_bytes,
    version_bytes,
)
from registry.names import PROMPTS_DIR

__all__ = ["LONG_HISTORY_PROMPT", "GeneratedRegistry", "generate_registry"]

LONG_HISTORY_PROMPT = "long-history"
AUTHORS = (
    "Alice Example <alice@example.com>",
    "Bob Example <bob@example.com>",
    "Chen Example <chen@example.com>",
    "Dana Example <dana@example.com>",
    "Emeka Example <emeka@example.com>",
)
_TOPICS = (
    "support-reply",
    "ticket-triage",
    "release-notes",
    "code-review",
    "meeting-summary",
    "onboarding-email",
    "sql-helper",
    "product-faq",
)
_WORDS = (
    (
        "answer the customer politely and keep it short; mention the order number when it is known; "
        "summarise the thread in three bullet points; do not promise dates the team cannot meet; "
        "write in the same language as the message; list the open questions at the end; prefer plain "
        "words over jargon; quote the relevant passage of the policy; ask one clarifying question when "
        "the request is ambiguous"
    )
    .replace(";", "")
    .split()
)
_VARIABLES = ("customer_name", "ticket", "product", "company", "language", "thread", "question")
_MODELS = ("gpt-4o", "gpt-4o-mini", "claude-sonnet", "llama-3-70b")
_SAMPLE_EVERY = 997


@dataclass(frozen=True, kw_only=True, slots=True)
class GeneratedRegistry:
    """What ``generate_registry`` built: where, which commit, and the prompts it holds."""

    path: Path
    ref: str
    commit: str
    names: tuple[str, ...]
    version_files: int
    history_records: int


def generate_registry(
    path: str | os.PathLike[str],
    *,
    prompts: int,
    versions: int = 10,
    long_history: int = 0,
    seed: int = 0,
    bare: bool = True,
    branch: str = "main",
    when: str = "2026-01-05T09:00:00Z",
) -> GeneratedRegistry:
    """Build the registry described in the module's docstring; ``path`` must not exist yet."""
    target = Path(path)
    if target.exists():
        raise FileExistsError(f"{target} exists; generate_registry builds a new repository")
    if prompts < 0 or versions < 1 or long_history < 0:
        raise ValueError("prompts and long_history count from 0, versions from 1")
    rng = random.Random(seed)
    start = _parse_time(when)
    names: list[str] = []
    counts = {"version_files": 0, "history_records": 0}
    seconds = int(start.timestamp()) + prompts * 60 + long_history * 60
    init = ["git", "init", "-q", f"--initial-branch={branch}", *(["--bare"] if bare else [])]
    subprocess.run([*init, str(target)], check=True)
    ref = f"refs/heads/{branch}"
    importer = subprocess.Popen(
        ["git", "fast-import", "--quiet", "--done"],
        cwd=target,
        stdin=subprocess.PIPE,
        env={**os.environ, "GIT_DIR": "." if bare else ".git"},
    )
    assert importer.stdin is not None
    stream = importer.stdin
    stream.write(
        f"commit {ref}\n"
        f"author Benchmark Generator <generator@example.com> {seconds} +0000\n"
        f"committer Benchmark Generator <generator@example.com> {seconds} +0000\n".encode()
        + _data(f"import: {prompts} generated prompts\n".encode())
    )
    for index in range(prompts):
        name = f"{_TOPICS[index % len(_TOPICS)]}-{index:05d}"
        files = _prompt_files(name, index, versions, rng, start)
        stream.write(_folder_commands(name, files))
        names.append(name)
        counts["version_files"] += versions
        counts["history_records"] += files.get("history.yaml", b"").count(b"\n")
    if long_history:
        files = _long_history_files(long_history, start)
        stream.write(_folder_commands(LONG_HISTORY_PROMPT, files))
        names.append(LONG_HISTORY_PROMPT)
        counts["version_files"] += 2
        counts["history_records"] += long_history
    stream.write(b"\ndone\n")
    stream.close()
    if importer.wait() != 0:
        raise RuntimeError(f"git fast-import failed with status {importer.returncode}")
    commit = subprocess.run(
        ["git", "rev-parse", ref], cwd=target, capture_output=True, text=True, check=True
    ).stdout.strip()
    return GeneratedRegistry(
        path=target,
        ref=ref,
        commit=str(commit),
        names=tuple(sorted(names)),
        version_files=counts["version_files"],
        history_records=counts["history_records"],
    )


def _parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _data(payload: bytes) -> bytes:
    return b"data %d\n" % len(payload) + payload + b"\n"


def _folder_commands(name: str, files: Mapping[str, bytes]) -> bytes:
    """fast-import lines that put a prompt's files, inline, into the commit being built."""
    return b"".join(
        f"M 100644 inline {PROMPTS_DIR}/{name}/{rel}\n".encode() + _data(data)
        for rel, data in files.items()
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class _Promotion:
    version: int
    previous: int | None
    by: str
    at: str
    notes: str


def _plan_promotions(rng: random.Random, versions: int) -> list[int]:
    """Which version each promotion names, oldest first: forward steps and some rollbacks."""
    if rng.random() < 0.1:
        return []
    forward = sorted(rng.sample(range(1, versions + 1), rng.randint(1, min(versions, 5))))
    plan: list[int] = []
    for number in forward:
        plan.append(number)
        if len(plan) >= 2 and rng.random() < 0.15:
            plan.append(plan[-2])
    return plan


def _prompt_files(
    name: str, index: int, versions: int, rng: random.Random, start: datetime
) -> dict[str, bytes]:
    chat = index % 5 == 4
    moment = start + timedelta(minutes=index)
    created = [moment + timedelta(hours=3 * n) for n in range(versions)]
    plan = _plan_promotions(rng, versions)
    promotions: list[_Promotion] = []
    last_at = created[-1]
    for step, number in enumerate(plan):
        at = max(created[number - 1], last_at) + timedelta(minutes=7 + step)
        last_at = at
        promotions.append(
            _Promotion(
                version=number,
                previous=promotions[-1].version if promotions else None,
                by=AUTHORS[(index + step) % len(AUTHORS)],
                at=_stamp(at),
                notes=_notes(rng, number, promotions[-1].version if promotions else None),
            )
        )
    ever = {p.version for p in promotions}
    current = promotions[-1].version if promotions else None
    files: dict[str, bytes] = {}
    info = PromptInfo(
        name=name,
        description=f"{_TOPICS[index % len(_TOPICS)].replace('-', ' ').capitalize()} for team {index % 37}",
        tags=(_TOPICS[index % len(_TOPICS)].split("-")[0], "generated"),
    )
    files["prompt.yaml"] = prompt_info_bytes(info)
    target: Version | None = None
    for number in range(1, versions + 1):
        if number == current:
            status = "published"
        elif number in ever:
            status = "draft" if rng.random() < 0.1 and number > 1 else "archived"
        else:
            status = "archived" if current and number < current and rng.random() < 0.3 else "draft"
        version = _version(name, number, status, chat, rng, _stamp(created[number - 1]), index)
        files[f"versions/{number}.yaml"] = _version_text(version, check=index * 31 + number)
        if number == current:
            target = version
    if promotions and target is not None:
        last = promotions[-1]
        files["production.yaml"] = pointer_bytes(
            Pointer(
                prompt=name,
                version=last.version,
                digest=target.digest,
                promoted_at=last.at,
                promoted_by=last.by,
            )
        )
        files["history.yaml"] = b"".join(
            record_line(
                HistoryRecord(
                    prompt=name,
                    version=p.version,
                    previous_version=p.previous,
                    promoted_by=p.by,
                    promoted_at=p.at,
                    notes=p.notes,
                )
            )
            for p in promotions
        )
    return files


def _notes(rng: random.Random, number: int, previous: int | None) -> str:
    if previous is not None and number < previous:
        return f"Roll back: v{previous} lowered the resolution rate"
    choices = (
        "Shorter answers, same tone",
        "Asks a clarifying question when the request is vague",
        "Fixes the greeting for enterprise customers",
        "Cheaper model, same quality on the golden set",
    )
    return choices[rng.randrange(len(choices))] if previous is not None else "Initial release"


def _sentences(seed: int, count: int = 4096) -> tuple[str, ...]:
    """A pool of sentences to draw lines from (drawing words for every line is the slow part)."""
    rng = random.Random(seed)
    return tuple(
        " ".join(rng.choices(_WORDS, k=rng.randint(6, 14))).capitalize() + "." for _ in range(count)
    )


_SENTENCES = _sentences(7)


def _template(rng: random.Random, lines: int) -> str:
    variables = rng.sample(_VARIABLES, rng.randint(1, 3))
    body = rng.choices(_SENTENCES, k=lines)
    for i, variable in enumerate(variables):
        where = rng.randrange(len(body))
        body[where] = f"{body[where]} Use {{{{ {variable} }}}} where it helps ({i + 1})."
    return "\n".join(body) + "\n"


def _version(
    name: str,
    number: int,
    status: Any,
    chat: bool,
    rng: random.Random,
    created_at: str,
    index: int,
) -> Version:
    metadata: dict[str, Any] = {
        "model": _MODELS[(index + number) % len(_MODELS)],
        "temperature": round(rng.choice((0.0, 0.2, 0.3, 0.5, 0.7)), 1),
        "max_tokens": rng.choice((256, 512, 1024)),
    }
    by = AUTHORS[(index + number) % len(AUTHORS)]
    if chat:
        messages = (
            Message(role="system", content=_template(rng, rng.randint(2, 4))),
            Message(role="user", content=_template(rng, 1)),
        )
        return Version(
            prompt=name,
            version=number,
            status=status,
            type="chat",
            messages=messages,
            metadata=metadata,
            created_at=created_at,
            created_by=by,
        )
    return Version(
        prompt=name,
        version=number,
        status=status,
        type="text",
        content=_template(rng, rng.randint(3, 8)),
        metadata=metadata,
        created_at=created_at,
        created_by=by,
    )


def _block(text: str, indent: str) -> str:
    return "".join(f"{indent}{line}\n" if line else "\n" for line in text[:-1].split("\n"))


def _version_text(version: Version, *, check: int) -> bytes:
    """``version_bytes(version)`` for the shapes generated here, without the YAML dumper."""
    parts = [f"version: {version.version}\nstatus: {version.status}\ntype: {version.type}\n"]
    if version.type == "text":
        parts.append("content: |\n" + _block(version.content or "", "  "))
    else:
        parts.append("messages:\n")
        for message in version.messages or ():
            parts.append(
                f"- role: {message.role}\n  content: |\n" + _block(message.content, "    ")
            )
    parts.append("metadata:\n")
    parts.extend(f"  {key}: {value}\n" for key, value in version.metadata.items())
    parts.append(f'created_at: "{version.created_at}"\ncreated_by: {version.created_by}\n')
    data = "".join(parts).encode("utf-8")
    if check % _SAMPLE_EVERY == 0 and data != version_bytes(version):
        raise AssertionError(
            f"the generator's layout of {version.prompt} v{version.version} differs from "
            "registry.model.version_bytes; update _version_text"
        )
    return data


def _long_history_files(records: int, start: datetime) -> dict[str, bytes]:
    name = LONG_HISTORY_PROMPT
    moment = start - timedelta(days=400)
    first, second = (
        Version(
            prompt=name,
            version=n,
            status="draft",
            type="text",
            content=f"Version {n}: reply to {{{{ customer_name }}}} about {{{{ ticket }}}}.\n",
            metadata={"model": "gpt-4o", "temperature": 0.2, "max_tokens": 256},
            created_at=_stamp(moment + timedelta(minutes=n)),
            created_by=AUTHORS[n],
        )
        for n in (1, 2)
    )
    lines = []
    previous: int | None = None
    for i in range(records):
        number = 1 if i % 2 == 0 else 2
        lines.append(
            record_line(
                HistoryRecord(
                    prompt=name,
                    version=number,
                    previous_version=previous,
                    promoted_by=AUTHORS[i % len(AUTHORS)],
                    promoted_at=_stamp(moment + timedelta(minutes=10 + i)),
                    notes=f"Promotion {i + 1}",
                )
            )
        )
        previous = number
    current = previous or 1
    last_at = _stamp(moment + timedelta(minutes=10 + records - 1))
    statuses = {current: "published", 3 - current: "archived"}
    target = first if current == 1 else second
    return {
        "prompt.yaml": prompt_info_bytes(
            PromptInfo(name=name, description="A prompt promoted many times", tags=("generated",))
        ),
        "versions/1.yaml": version_bytes(replace(first, status=statuses[1])),
        "versions/2.yaml": version_bytes(replace(second, status=statuses[2])),
        "production.yaml": pointer_bytes(
            Pointer(
                prompt=name,
                version=current,
                digest=target.digest,
                promoted_at=last_at,
                promoted_by=AUTHORS[(records - 1) % len(AUTHORS)],
            )
        ),
        "history.yaml": b"".join(lines),
    }


if __name__ == "__main__":
    import argparse
    import time

    parser = argparse.ArgumentParser(description="Generate a promptship registry repository.")
    parser.add_argument("path")
    parser.add_argument("--prompts", type=int, default=1000)
    parser.add_argument("--versions", type=int, default=10)
    parser.add_argument("--long-history", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--work-tree",
        action="store_true",
        help="a repository with a work tree, checked out (default: bare)",
    )
    args = parser.parse_args()
    began = time.perf_counter()
    built = generate_registry(
        args.path,
        prompts=args.prompts,
        versions=args.versions,
        long_history=args.long_history,
        seed=args.seed,
        bare=not args.work_tree,
    )
    if args.work_tree:
        subprocess.run(["git", "-C", str(built.path), "reset", "-q", "--hard"], check=True)
    print(
        f"{built.path}: {len(built.names)} prompts, {built.version_files} version files, "
        f"{built.history_records} history records, commit {built.commit[:10]} "
        f"in {time.perf_counter() - began:.1f} s"
    )

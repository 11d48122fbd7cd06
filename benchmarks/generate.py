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

Objects are written to an in-memory object database (pygit2 computes ids and builds the trees),
then stored as one pack without deltas: about 10 s for 10,000 prompts x 10 versions, most of it
composing the files; writing 130,000 loose objects would add 9 s more, and building the same
registry with ``promptship create``/``promote`` would take hours.

Version files are formatted here by string templates for speed; a sample of them is compared byte
for byte with ``registry.model.version_bytes`` so a change of the format fails loudly here.
"""

from __future__ import annotations

import hashlib
import os
import random
import struct
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pygit2
from pygit2.enums import FileMode

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
    stats: Mapping[str, int] = field(default_factory=dict)


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
    repo = pygit2.init_repository(str(target), bare=bare, initial_head=branch)
    memory = _MemoryBackend()
    repo.odb.add_backend(memory, 999)
    rng = random.Random(seed)
    start = _parse_time(when)
    prompts_tree = repo.TreeBuilder()
    names: list[str] = []
    counts = {"version_files": 0, "history_records": 0, "promoted": 0}
    for index in range(prompts):
        name = f"{_TOPICS[index % len(_TOPICS)]}-{index:05d}"
        files = _prompt_files(name, index, versions, rng, start)
        prompts_tree.insert(name, _write_folder(repo, files), FileMode.TREE)
        names.append(name)
        counts["version_files"] += versions
        history = files.get("history.yaml", b"")
        counts["history_records"] += history.count(b"\n")
        counts["promoted"] += "production.yaml" in files
    if long_history:
        files = _long_history_files(long_history, start)
        prompts_tree.insert(LONG_HISTORY_PROMPT, _write_folder(repo, files), FileMode.TREE)
        names.append(LONG_HISTORY_PROMPT)
        counts["version_files"] += 2
        counts["history_records"] += long_history
    root = repo.TreeBuilder()
    root.insert("prompts", prompts_tree.write(), FileMode.TREE)
    seconds = int(start.timestamp()) + prompts * 60 + long_history * 60
    signature = pygit2.Signature("Benchmark Generator", "generator@example.com", seconds, 0)
    commit = repo.create_commit(
        None,
        signature,
        signature,
        f"import: {prompts} generated prompts\n",
        root.write(),
        [],
    )
    objects_dir = Path(repo.path) / "objects"
    _write_pack(memory.objects, objects_dir / "pack")
    del repo
    stored = pygit2.Repository(str(target))
    ref = f"refs/heads/{branch}"
    stored.create_reference(ref, commit)
    return GeneratedRegistry(
        path=target,
        ref=ref,
        commit=str(commit),
        names=tuple(sorted(names)),
        version_files=counts["version_files"],
        history_records=counts["history_records"],
        stats=counts,
    )


def _parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _write_folder(repo: pygit2.Repository, files: Mapping[str, bytes]) -> pygit2.Oid:
    """A prompt folder: ``versions/N.yaml`` go into a subtree, the rest sit at the top."""
    top = repo.TreeBuilder()
    versions = repo.TreeBuilder()
    for rel, data in files.items():
        blob = repo.create_blob(data)
        if rel.startswith("versions/"):
            versions.insert(rel.removeprefix("versions/"), blob, FileMode.BLOB)
        else:
            top.insert(rel, blob, FileMode.BLOB)
    top.insert("versions", versions.write(), FileMode.TREE)
    return top.write()


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
        "versions/1.yaml": version_bytes(_with_status(first, statuses[1])),
        "versions/2.yaml": version_bytes(_with_status(second, statuses[2])),
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


def _with_status(version: Version, status: Any) -> Version:
    from dataclasses import replace

    return replace(version, status=status)


class _MemoryBackend(pygit2.OdbBackend):  # type: ignore[misc]
    """An object database held in a dict, so building 100,000 objects costs no file writes."""

    def __init__(self) -> None:
        super().__init__()
        self.objects: dict[pygit2.Oid, tuple[int, bytes]] = {}

    def read_cb(self, oid: pygit2.Oid) -> tuple[int, bytes]:
        return self.objects[oid]

    def read_prefix_cb(self, oid: pygit2.Oid) -> Any:
        raise KeyError(oid)

    def read_header_cb(self, oid: pygit2.Oid) -> tuple[int, int]:
        kind, data = self.objects[oid]
        return kind, len(data)

    def write_cb(self, oid: pygit2.Oid, data: bytes, kind: int) -> None:
        self.objects[oid] = (int(kind), bytes(data))

    def exists_cb(self, oid: pygit2.Oid) -> bool:
        return oid in self.objects

    def exists_prefix_cb(self, oid: pygit2.Oid) -> Any:
        raise KeyError(oid)

    def refresh_cb(self) -> None:
        pass

    def __iter__(self) -> Iterator[pygit2.Oid]:
        return iter(self.objects)


def _write_pack(objects: Mapping[pygit2.Oid, tuple[int, bytes]], folder: Path) -> None:
    """Store ``objects`` as one version-2 pack (no deltas) and its version-2 index."""
    folder.mkdir(parents=True, exist_ok=True)
    chunks: list[bytes] = [b"PACK" + struct.pack(">II", 2, len(objects))]
    offset = len(chunks[0])
    entries: list[tuple[bytes, int, int]] = []
    for oid, (kind, data) in objects.items():
        packed = _object_header(kind, len(data)) + _deflate(data)
        entries.append((oid.raw, zlib.crc32(packed), offset))
        chunks.append(packed)
        offset += len(packed)
    body = b"".join(chunks)
    pack_sum = hashlib.sha1(body).digest()
    entries.sort()
    fanout = [0] * 256
    for raw, _, _ in entries:
        fanout[raw[0]] += 1
    total = 0
    for i in range(256):
        total += fanout[i]
        fanout[i] = total
    big: list[int] = []
    small = []
    for _, _, where in entries:
        if where < 0x80000000:
            small.append(where)
        else:
            small.append(0x80000000 | len(big))
            big.append(where)
    index = b"".join(
        [
            b"\377tOc" + struct.pack(">I", 2),
            struct.pack(">256I", *fanout),
            b"".join(raw for raw, _, _ in entries),
            struct.pack(f">{len(entries)}I", *(crc for _, crc, _ in entries)),
            struct.pack(f">{len(small)}I", *small),
            struct.pack(f">{len(big)}Q", *big),
            pack_sum,
        ]
    )
    index += hashlib.sha1(index).digest()
    stem = folder / f"pack-{pack_sum.hex()}"
    stem.with_suffix(".pack").write_bytes(body + pack_sum)
    stem.with_suffix(".idx").write_bytes(index)


def _deflate(data: bytes) -> bytes:
    # A small window and little memory: zlib's default state costs more to set up than small
    # files take to compress; any inflater reads the result.
    packer = zlib.compressobj(1, zlib.DEFLATED, 10, 1)
    return packer.compress(data) + packer.flush()


def _object_header(kind: int, size: int) -> bytes:
    first = (kind << 4) | (size & 0x0F)
    size >>= 4
    out = bytearray()
    while size:
        out.append(first | 0x80)
        first = size & 0x7F
        size >>= 7
    out.append(first)
    return bytes(out)


if __name__ == "__main__":
    import argparse
    import time

    parser = argparse.ArgumentParser(description="Generate a promptship registry repository.")
    parser.add_argument("path")
    parser.add_argument("--prompts", type=int, default=1000)
    parser.add_argument("--versions", type=int, default=10)
    parser.add_argument("--long-history", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work-tree", action="store_true", help="a clone-like repository")
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
    print(
        f"{built.path}: {len(built.names)} prompts, {built.version_files} version files, "
        f"{built.history_records} history records, commit {built.commit[:10]} "
        f"in {time.perf_counter() - began:.1f} s"
    )

"""How fast applications read prompts: ``Registry.get`` cold and warm, loading every production
prompt, ``refresh`` and ``export``, on a registry of many prompts in a bare repository.

    python benchmarks/bench_reader.py [--prompts 10000] [--lookups 1000]

The registry is written straight into the object database (one commit), so building it takes
seconds, not the minutes that one ``create`` + ``promote`` per prompt would.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pygit2
from pygit2.enums import FileMode, ObjectType

from registry import Registry
from registry.export import export_bundle
from registry.gitstore import GitStore, utc_now
from registry.history import HistoryRecord, record_line
from registry.identity import Identity
from registry.lifecycle import new_version
from registry.model import (
    Pointer,
    PromptInfo,
    Version,
    pointer_bytes,
    prompt_info_bytes,
    version_bytes,
)
from registry.promotion import plan_promotion

ACTOR = "Bench Example <bench@example.com>"
WHEN = "2026-11-29T14:02:11Z"


def _prompt_files(name: str) -> dict[str, bytes]:
    version = Version(
        prompt=name,
        version=1,
        status="published",
        type="text",
        content=f"You are the assistant for {name}.\nGreet {{{{ user }}}} from {{{{ company }}}}.\n"
        "{% if vip %}Thank them for being a VIP.{% endif %}\n",
        metadata={"model": "gpt-4o", "temperature": 0.2},
        created_at=WHEN,
        created_by=ACTOR,
    )
    pointer = Pointer(
        prompt=name, version=1, digest=version.digest, promoted_at=WHEN, promoted_by=ACTOR
    )
    record = HistoryRecord(
        prompt=name, version=1, previous_version=None, promoted_by=ACTOR, promoted_at=WHEN
    )
    return {
        "prompt.yaml": prompt_info_bytes(PromptInfo(name=name, description=f"Prompt {name}")),
        "production.yaml": pointer_bytes(pointer),
        "history.yaml": record_line(record),
        "versions/1.yaml": version_bytes(version),
    }


def build_registry(path: Path, count: int) -> list[str]:
    """A bare repository whose ``main`` holds ``count`` prompts, each with v1 in production."""
    repo = pygit2.init_repository(str(path), bare=True)
    names = [f"prompt-{i:05d}" for i in range(count)]
    prompts = repo.TreeBuilder()
    for name in names:
        files = _prompt_files(name)
        versions = repo.TreeBuilder()
        versions.insert("1.yaml", repo.create_blob(files.pop("versions/1.yaml")), FileMode.BLOB)
        folder = repo.TreeBuilder()
        for file, data in files.items():
            folder.insert(file, repo.create_blob(data), FileMode.BLOB)
        folder.insert("versions", versions.write(), FileMode.TREE)
        prompts.insert(name, folder.write(), FileMode.TREE)
    root = repo.TreeBuilder()
    root.insert("prompts", prompts.write(), FileMode.TREE)
    signature = pygit2.Signature("Bench Example", "bench@example.com", 1_800_000_000, 0)
    repo.create_commit("refs/heads/main", signature, signature, "seed", root.write(), [])
    repo.set_head("refs/heads/main")
    return names


def per_call(action: Callable[[], object], repeat: int) -> float:
    started = time.perf_counter()
    for _ in range(repeat):
        action()
    return (time.perf_counter() - started) / repeat


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def us(seconds: float) -> str:
    return f"{seconds * 1e6:9.1f} µs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=10_000)
    parser.add_argument("--lookups", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "registry.git"
        build = timed(lambda: build_registry(path, args.prompts))
        names = [f"prompt-{i:05d}" for i in range(args.prompts)]
        sample = rng.sample(names, min(args.lookups, len(names)))
        print(f"registry: {args.prompts:,} prompts in production, built in {build:.1f} s")

        opened = timed(lambda: Registry.open(path, ref="main"))
        print(f"Registry.open                          {us(opened)}")

        prompts = Registry.open(path, ref="main")
        cold = []
        for name in sample:
            started = time.perf_counter()
            prompts.get(name)
            cold.append(time.perf_counter() - started)
        cold.sort()
        print(f"get, cold (first lookup), median       {us(statistics.median(cold))}")
        print(f"get, cold, 99th percentile             {us(cold[int(len(cold) * 0.99) - 1])}")
        print(f"get, cold, {len(sample):,} prompts in all        {sum(cold) * 1e3:9.1f} ms")

        warm = [per_call(lambda n=name: prompts.get(n), 200) for name in sample[:200]]
        print(f"get, warm, median                      {us(statistics.median(warm))}")
        version = prompts.get(sample[0])
        values = {"user": "Ada", "company": "Acme", "vip": True}
        version.render(**values)
        print(
            f"render, warm (compiled once)           {us(per_call(lambda: version.render(**values), 2000))}"
        )

        fresh = Registry.open(path, ref="main")
        load_all = timed(fresh.production_versions)
        print(f"load every production prompt          {load_all * 1e3:9.1f} ms  ({args.prompts:,})")
        with_vars = timed(lambda: [v.variables for v in fresh.production_versions()])
        print(f"  then parse every template           {with_vars * 1e3:9.1f} ms")

        default_cache = Registry.open(path, ref="main")
        pygit2.settings.cache_object_limit(ObjectType.TREE, 4096)  # libgit2's default
        slow = timed(lambda: [default_cache.get(n) for n in sample])
        GitStore.open(path)  # raises the limit again
        print(f"get, cold, {len(sample):,} prompts, default tree cache {slow * 1e3:9.1f} ms")

        print(f"refresh, ref unchanged                 {us(per_call(prompts.refresh, 2000))}")

        store = GitStore.open(path, ref="refs/heads/main")
        identity = Identity(name="Bench Example", email="bench@example.com")
        target = sample[0]
        store.write(
            lambda snap, now: new_version(snap, target, source=1, actor=ACTOR, now=now),
            identity=identity,
        )
        store.write(
            lambda snap, now: plan_promotion(snap, target, 2, actor=ACTOR, now=now),
            identity=identity,
        )
        moved = timed(prompts.refresh)
        after = timed(lambda: prompts.get(target))
        assert prompts.get(target).version == 2
        print(f"refresh after a promotion              {us(moved)}")
        print(f"  then get the promoted prompt         {us(after)}")

        snapshot = store.snapshot()
        exported = timed(lambda: export_bundle(snapshot, snapshot.commit_id))
        size = len(export_bundle(snapshot, snapshot.commit_id))
        print(
            f"export, every production prompt       {exported * 1e3:9.1f} ms  ({size / 1e6:.1f} MB)"
        )
        print(
            f"(measured {utc_now()}, pygit2 {pygit2.__version__}, libgit2 {pygit2.LIBGIT2_VERSION})"
        )


if __name__ == "__main__":
    main()

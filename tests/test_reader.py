"""``Registry`` on real repositories: a work tree's HEAD, branch, remote-tracking and bare refs,
and refresh after promotions made by other processes."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from helpers.cli import Cli, promptship
from helpers.gitrepo import git, head
from registry import Registry
from registry.errors import (
    InvalidRegistry,
    MissingVariables,
    NoProductionVersion,
    PromptNotFound,
    PromptshipError,
    RepositoryError,
    UnknownVariables,
    VersionNotFound,
)


def promote(path: Path, *args: str) -> None:
    """Promote in another process, as a teammate or CI would."""
    done = promptship(path, "promote", *args, "--yes")
    assert done.returncode == 0, done.stderr


def test_reads_the_head_of_a_work_tree(sample: Cli, repo: Path) -> None:
    prompts = Registry.open(repo)
    assert prompts.commit == head(repo)
    assert prompts.get("greeting").version == 1
    assert prompts.get("greeting", label="latest").version == 2
    rendered = prompts.render("greeting", {"name": "Ada", "app_name": "Acme"})
    assert rendered.content == "Hello, Ada! Welcome to Acme."


def test_uncommitted_files_are_not_read(sample: Cli, repo: Path) -> None:
    version_file = repo / "prompts/greeting/versions/2.yaml"
    version_file.write_text(version_file.read_text().replace("Hi", "Yo"))
    assert (
        Registry.open(repo).get("greeting@2").content == "Hi {{ name }}, welcome to {{ app_name }}!"
    )


def test_opens_from_a_folder_inside_the_work_tree(sample: Cli, repo: Path) -> None:
    assert Registry.open(repo / "prompts" / "greeting").get("greeting").version == 1


def test_reads_a_branch_that_is_not_checked_out(sample: Cli, repo: Path) -> None:
    git(repo, "branch", "release")
    sample.ok("promote", "greeting", "2", "--yes")
    assert Registry.open(repo, ref="release").get("greeting").version == 1
    assert Registry.open(repo, ref="refs/heads/release").get("greeting").version == 1
    assert Registry.open(repo, ref="main").get("greeting").version == 2


def test_reads_a_tag_and_a_commit_id(sample: Cli, repo: Path) -> None:
    git(repo, "tag", "v1-live")
    first = head(repo)
    sample.ok("promote", "greeting", "2", "--yes")
    assert Registry.open(repo, ref="refs/tags/v1-live").get("greeting").version == 1
    # A tag is read by its full name only: a short name is followed to a branch, never a tag.
    with pytest.raises(RepositoryError, match="names a tag") as refused:
        Registry.open(repo, ref="v1-live")
    assert refused.value.hint == "if you mean it, give its full name: refs/tags/v1-live"
    pinned = Registry.open(repo, ref=first)
    assert pinned.get("greeting").version == 1
    assert pinned.refresh() is False


def test_reads_a_bare_clone_without_a_checkout(sample: Cli, repo: Path, tmp_path: Path) -> None:
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(bare))
    assert not (bare / "prompts").exists()
    prompts = Registry.open(bare)
    assert prompts.commit == head(repo)
    assert prompts.get("greeting").render(name="Ada", app_name="Acme").content == (
        "Hello, Ada! Welcome to Acme."
    )
    assert Registry.open(bare, ref="main").get("greeting", version=2).version == 2


def test_refresh_shows_a_promotion_made_in_a_bare_repository(
    sample: Cli, repo: Path, tmp_path: Path
) -> None:
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(bare))
    prompts = Registry.open(bare, ref="main")
    before = prompts.commit
    done = promptship(
        tmp_path,
        "--repo",
        str(bare),
        "promote",
        "greeting",
        "2",
        "--ref",
        "refs/heads/main",
        "--yes",
    )
    assert done.returncode == 0, done.stderr
    assert prompts.get("greeting").version == 1
    assert prompts.commit == before
    assert prompts.refresh() is True
    assert prompts.get("greeting").version == 2
    assert prompts.get("greeting@1").status == "archived"
    assert prompts.refresh() is False


def test_a_remote_tracking_ref_follows_fetches(sample: Cli, repo: Path, tmp_path: Path) -> None:
    """A service polls a fetched ref: a promotion pushed elsewhere shows after fetch + refresh,
    and not a moment before the refresh."""
    origin = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(origin))
    writer = tmp_path / "writer"
    service = tmp_path / "service"
    git(tmp_path, "clone", "-q", str(origin), str(writer))
    git(tmp_path, "clone", "-q", str(origin), str(service))

    prompts = Registry.open(service, ref="origin/main")
    assert prompts.get("greeting").version == 1

    promote(writer, "greeting", "2", "--notes", "Friendlier")
    git(writer, "push", "-q", "origin", "main")
    assert prompts.refresh() is False  # not fetched yet
    git(service, "fetch", "-q")
    assert prompts.get("greeting").version == 1  # fetched, but this reader is pinned
    assert prompts.refresh() is True
    assert prompts.commit == head(writer)
    assert prompts.get("greeting").version == 2
    assert Registry.open(service, ref="refs/remotes/origin/main").get("greeting").version == 2
    assert Registry.open(service).get("greeting").version == 1  # the clone's own HEAD


def test_one_reader_never_mixes_two_commits(cli: Cli, repo: Path) -> None:
    """Prompts looked up for the first time after a promotion still come from the reader's
    commit, so what it serves is always one state of the registry."""
    for name in ("alpha", "beta"):
        cli.ok("create", name, "--content", f"{name} one")
        cli.ok("promote", name, "1", "--yes")
        cli.ok("new-version", name, "--content", f"{name} two")
    prompts = Registry.open(repo)
    assert prompts.get("alpha").content == "alpha one"
    promote(repo, "alpha", "2")
    promote(repo, "beta", "2")
    assert prompts.get("beta").content == "beta one"
    assert prompts.get("alpha").content == "alpha one"
    assert prompts.refresh() is True
    assert (prompts.get("alpha").content, prompts.get("beta").content) == ("alpha two", "beta two")


def test_a_service_process_sees_a_promotion_on_its_next_refresh(
    sample: Cli, repo: Path, tmp_path: Path
) -> None:
    """A long-running reader in its own process, polling the ref with refresh()."""
    script = tmp_path / "service" / "service.py"
    script.parent.mkdir()
    script.write_text(
        "import sys, time\n"
        "from registry import Registry\n"
        "prompts = Registry.open(sys.argv[1], ref='main')\n"
        "print(prompts.get('greeting').version, flush=True)\n"
        "sys.stdin.readline()\n"
        "print(prompts.get('greeting').version, prompts.refresh(), flush=True)\n"
        "print(prompts.get('greeting').version, flush=True)\n"
    )
    with subprocess.Popen(
        [sys.executable, str(script), str(repo)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as service:
        assert service.stdin is not None and service.stdout is not None
        assert service.stdout.readline().strip() == "1"
        promote(repo, "greeting", "2")
        service.stdin.write("go\n")
        service.stdin.flush()
        assert service.stdout.readline().split() == ["1", "True"]
        assert service.stdout.readline().strip() == "2"
        assert service.wait(timeout=30) == 0


def test_an_empty_repository_has_no_prompts(repo: Path) -> None:
    prompts = Registry.open(repo)
    assert prompts.commit is None
    assert prompts.names() == []
    assert prompts.production_versions() == []
    with pytest.raises(PromptNotFound):
        prompts.get("greeting")


def test_typed_errors_from_a_repository(sample: Cli, repo: Path, tmp_path: Path) -> None:
    prompts = Registry.open(repo)
    with pytest.raises(PromptNotFound):
        prompts.get("missing")
    sample.ok("create", "fresh", "--content", "x")
    assert prompts.refresh() is True
    with pytest.raises(NoProductionVersion):
        prompts.get("fresh")
    with pytest.raises(RepositoryError, match="cannot read the revision 'nope'"):
        Registry.open(repo, ref="nope")
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(RepositoryError, match="not inside a git repository"):
        Registry.open(plain)


@pytest.mark.parametrize(
    ("call", "error", "fields"),
    [
        (lambda r: r.get("missing"), PromptNotFound, {"prompt": "missing"}),
        (lambda r: r.get("greeting", version=7), VersionNotFound, {"version": 7}),
        (lambda r: r.get("fresh"), NoProductionVersion, {"prompt": "fresh"}),
        (
            lambda r: r.render("greeting", {"name": "Ada"}),
            MissingVariables,
            {"missing": ("app_name",)},
        ),
        (
            lambda r: r.render("greeting", {"name": "A", "app_name": "B", "x": 1}),
            UnknownVariables,
            {"unknown": ("x",)},
        ),
        (lambda r: r.get("broken"), InvalidRegistry, {}),
    ],
)
def test_every_typed_error_through_a_repository(
    sample: Cli,
    repo: Path,
    call: Callable[[Registry], object],
    error: type[PromptshipError],
    fields: dict[str, object],
) -> None:
    sample.ok("create", "fresh", "--content", "x")
    sample.ok("create", "broken", "--content", "x")
    sample.ok("promote", "broken", "1", "--yes")
    pointer = repo / "prompts/broken/production.yaml"
    pointer.write_text(pointer.read_text().replace("version: 1", "version: 5"))
    git(repo, "commit", "-q", "-am", "A pointer edited by hand")
    with pytest.raises(error) as caught:
        call(Registry.open(repo))
    assert caught.value.hint
    for key, value in fields.items():
        assert getattr(caught.value, key) == value


def test_a_deleted_ref_is_an_error_on_refresh(sample: Cli, repo: Path) -> None:
    git(repo, "branch", "temporary")
    prompts = Registry.open(repo, ref="temporary")
    git(repo, "branch", "-D", "temporary")
    with pytest.raises(RepositoryError):
        prompts.refresh()
    assert prompts.get("greeting").version == 1  # still answers from the commit it had


def test_import_registry_does_not_load_git_or_templates() -> None:
    code = (
        "import sys, registry\n"
        "assert 'pygit2' not in sys.modules and 'jinja2' not in sys.modules\n"
        "from registry import Registry\n"
        "assert 'pygit2' not in sys.modules  # Registry.connect needs no git\n"
        "assert 'Registry' in dir(registry)\n"
        "Registry.open('.')\n"
        "assert 'pygit2' in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_show_json_is_what_the_read_api_returns(sample: Cli, repo: Path) -> None:
    import json

    shown = json.loads(sample.ok("show", "greeting", "--json").stdout)
    assert shown == Registry.open(repo).get("greeting").to_json()
    assert (shown["is_production"], shown["variables"]) == (True, ["app_name", "name"])


def test_threads_share_a_registry_while_it_refreshes(repo: Path) -> None:
    """Cold lookups from many threads, while promotions land and the registry refreshes."""
    import threading
    import time

    from helpers.inmemory import ACTOR, add_prompt, add_version
    from registry.git.publish import write_change
    from registry.git.store import GitStore
    from registry.identity import Identity
    from registry.promotion import plan_promotion
    from registry.snapshot import ChangeSet, DictSnapshot

    snapshot = DictSnapshot()
    names = [f"prompt-{i:02d}" for i in range(20)]
    for name in names:
        snapshot = add_version(add_prompt(snapshot, name, f"{name} one"), name, f"{name} two")
    store = GitStore.open(repo)
    identity = Identity(name="Alice Example", email="alice@example.com")
    files = dict(snapshot.files)
    write_change(
        store,
        lambda snap, now: ChangeSet(prompt=None, writes=files, subject="seed"),
        identity=identity,
    )
    prompts = Registry.open(repo)
    failures: list[BaseException] = []
    done = threading.Event()

    def read() -> None:
        try:
            while not done.is_set():
                for name in names:
                    version = prompts.get(name)
                    assert version.is_production and version.status == "published"
                    assert version.content == f"{name} {'one' if version.version == 1 else 'two'}"
                time.sleep(0.001)  # leave the writer some of the interpreter
        except BaseException as exc:
            failures.append(exc)

    readers = [threading.Thread(target=read) for _ in range(6)]
    for thread in readers:
        thread.start()
    for name in names[::4]:
        write_change(
            store,
            lambda snap, now, name=name: plan_promotion(snap, name, 2, actor=ACTOR, now=now),
            identity=identity,
        )
        prompts.refresh()
    done.set()
    for thread in readers:
        thread.join(timeout=60)
    assert failures == []
    assert [prompts.get(n).version for n in names[:8]] == [2, 1, 1, 1, 2, 1, 1, 1]

"""The shell: everything that touches git. The core never imports it.

Reading: ``store`` (the repository, its branch, snapshots of commits), ``folder`` (a work
tree's files), ``ranges`` (the commits between a base and a head), ``history_order``
(history across prompts in time order).

Writing, one way for every change (``publish.write_change``):
``decision`` (the core's operation, rebuilt on each tip, refused when it no longer holds) ->
``commit`` (the tree and the commit object, written by ``gitcommit`` as ``git commit`` would:
the repository's ``hooks`` when turned on, then ``signing`` under ``commit.gpgsign``) ->
``publish`` (on the branch, pushed, or on a new branch) -> ``update_ref`` (the compare-and-swap
of a branch) -> ``worktree`` (the clone's lock from ``lockfile``, on every platform; the dirty
check and sync, through ``index``), with ``interrupts`` holding Ctrl-C back meanwhile.

Around it: ``program`` (the git program), ``remote`` (upstreams, fetches), ``branch`` (new
branches for pull requests), ``demo``, ``diagnostics`` (versions for a crash log),
``listing`` (names for shell completion, straight from git).
"""

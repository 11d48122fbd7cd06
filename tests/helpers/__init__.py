"""What the tests share: real repositories, the CLI run in process and as a program, registries
built in memory and by hand, remotes, and a model server. Imported by name, never from conftest."""

"""hftmm's event log: what Nautilus's event stream lacks (run metadata, quote intents, order
commands with their risk verdicts), append-only beside it, and the replay and projection built
on both (see docs/operations.md). Nautilus-free except ``actor.py`` and ``replay.py``."""

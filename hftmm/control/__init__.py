"""Runtime parameter updates with validation, history and automatic rollback (docs/operations.md)."""

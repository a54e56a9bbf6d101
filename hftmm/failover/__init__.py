"""Active-passive failover: a Redis lease with a fencing epoch (docs/operations.md)."""

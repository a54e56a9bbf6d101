"""Nautilus glue: runtime parameter updates with validation, history and automatic rollback.

Requests come from Redis (``hftmm set``/``hftmm config rollback`` push JSON onto
``hftmm:<trader>:control:requests``; results go to the ``...:control:results`` hash and every
version to the ``...:config:history`` list) or, in a backtest, from a schedule in the config.

A change is applied only if the new parameters pass the same validation as a config file (the
strategy's config class, the risk plugins' Config Structs); then all strategies and the risk chain
switch in one step of the event loop. For ``grace_s`` afterwards the actor watches: an exception in
a strategy's ``get_quotes``, or risk vetoes on at least ``max_veto_ratio`` of at least
``min_commands`` order commands, rolls the node back to the previous version automatically.
Every version is recorded in the event log, the audit trail and the history.

The version in force is kept in the cache's general store (``hftmm:control:active``, written
through to Redis on a live node) with a digest of the configuration it was derived from. A node
that starts with the same configuration takes it over (recorded as a ``restore`` version): the
risk chain at once, the strategies when they start (they ask ``hftmm.control.current``). A
changed configuration file wins over the kept version.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import msgspec
from nautilus_trader.common.actor import Actor
from nautilus_trader.common.events import TimeEvent
from nautilus_trader.config import ActorConfig

from hftmm.config.errors import ConfigError
from hftmm.config.loader import validate_strategy_params
from hftmm.config.schema import StrategySection
from hftmm.control.bus import (
    ACTIVE_KEY,
    CURRENT_PARAMS_ENDPOINT,
    PARAM_CHANGE_TOPIC,
    PARAMS_ENDPOINT_PREFIX,
    RISK_PARAMS_ENDPOINT,
    STRATEGY_ERROR_TOPIC,
)
from hftmm.control.changes import ChangeError, History, Version, apply_changes
from hftmm.eventlog.schema import COMMAND_TOPIC, TOPIC_PREFIX, Command, ParamChange
from hftmm.metrics.registry import NodeMetrics
from hftmm.risk.bus import HALT_ENDPOINT, RESUME_ENDPOINT
from hftmm.risk.config import build_plugins


class ControlActorConfig(ActorConfig, frozen=True):
    """Parameters of ``ControlActor``.

    Parameters
    ----------
    strategy_path, strategy_config_path : str
        The strategy class and its config class (import paths).
    strategy_params : dict
        The strategy parameters at start.
    risk_plugins : list[dict]
        The risk plugin entries at start.
    instruments : list[str]
        One strategy per instrument.
    grace_s : float
        How long a change is watched before it is kept.
    max_veto_ratio, min_commands : float, int
        Roll back when, within the grace period, at least ``min_commands`` commands were asked
        and at least this fraction was vetoed.
    redis_url : str, optional
        Where requests come from and results go (live).
    key_prefix : str
        Redis key prefix (``hftmm:<trader id>``).
    poll_interval_s : float
        How often Redis is polled for requests.
    schedule : list[dict]
        Backtest updates: ``{"at_ns": int, "set": {path: value}}`` or ``{"at_ns": int, "rollback": true}``.
    history_path : str, optional
        A JSON-lines copy of the history (the run folder's ``config_history.jsonl``).
    run_id : str
        The node's run, on each history row: nodes of one trader id (restarts, failover) share
        the Redis history and each numbers its versions from 0.
    """

    strategy_path: str
    strategy_config_path: str
    strategy_params: dict[str, Any]
    risk_plugins: list[dict[str, Any]]
    instruments: list[str]
    grace_s: float = 30.0
    max_veto_ratio: float = 0.5
    min_commands: int = 4
    redis_url: str | None = None
    key_prefix: str = "hftmm:HFTMM-001"
    poll_interval_s: float = 0.25
    schedule: list[dict[str, Any]] = []
    history_path: str | None = None
    run_id: str = ""


class ControlActor(Actor):
    """See the module docstring."""

    def __init__(self, config: ControlActorConfig) -> None:
        super().__init__(config)
        self.history = History(dict(config.strategy_params), [dict(p) for p in config.risk_plugins])
        self._grace_until = 0
        self._watch = {"commands": 0, "vetoed": 0, "errors": 0}
        self._redis: Any = None
        self._schedule = sorted(config.schedule, key=lambda r: int(r["at_ns"]))

    # -- lifecycle ---------------------------------------------------------------------------

    def on_start(self) -> None:
        """Subscribe to what the grace period watches; start polling or schedule the updates."""
        cfg = self.config
        self.msgbus.subscribe(COMMAND_TOPIC, self._on_command)
        self.msgbus.subscribe(STRATEGY_ERROR_TOPIC, self._on_strategy_error)
        self.msgbus.register(CURRENT_PARAMS_ENDPOINT, self._current_params)
        if cfg.redis_url is not None:
            import redis

            self._redis = redis.Redis.from_url(cfg.redis_url, socket_timeout=1.0)
            self.clock.set_timer("hftmm-control-poll", timedelta(seconds=cfg.poll_interval_s), callback=self._poll)
        # After the Redis connection: version 0 (the start) belongs in the history there too.
        self._record(self.history.active)
        self._take_over_kept_version()  # reads the kept version: keep this node's only afterwards
        self._keep(self.history.active)
        for i, request in enumerate(self._schedule):
            self.clock.set_time_alert_ns(f"hftmm-control-{i}", int(request["at_ns"]),
                                         callback=lambda _e, r=request: self.handle({**r, "by": r.get("by", "schedule")}))

    def on_stop(self) -> None:
        """Close the Redis connection."""
        if self._redis is not None:
            self._redis.close()

    # -- the version in force across restarts ---------------------------------------------------

    def _base_digest(self) -> str:
        base = self.history.versions[0]
        text = json.dumps({"strategy": base.strategy, "plugins": base.plugins}, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    def _keep(self, v: Version) -> None:
        self.cache.add(ACTIVE_KEY, json.dumps({
            "base": self._base_digest(), "version": v.version, "ts": v.ts, "by": v.by,
            "strategy": v.strategy, "plugins": v.plugins}, default=str).encode())

    def _take_over_kept_version(self) -> None:
        raw = self.cache.get(ACTIVE_KEY)
        if not raw:
            return
        try:
            kept = json.loads(raw)
            base, version, strategy, plugins = kept["base"], int(kept["version"]), kept["strategy"], kept["plugins"]
        except (ValueError, KeyError, TypeError) as e:
            self.log.error(f"the kept parameter version is unreadable ({e}): starting from the configuration")
            return
        if base != self._base_digest():
            self.log.warning(f"parameter version {version} of the previous node was derived from another "
                             "configuration: starting from this configuration")
            return
        if version == 0 or (strategy, plugins) == (self.history.active.strategy, self.history.active.plugins):
            return
        # Validated and applied like any update (the strategies, not started yet, ask for it on start).
        result = self._switch(strategy, plugins, "restore", {"restore": version}, guard=False,
                              reason=f"in force on the previous node (its version {version}, by {kept.get('by', '?')})")
        if result["status"] == "applied":
            self.log.warning(f"parameters of the previous node restored (its version {version}): {strategy}")

    def _current_params(self, request: dict[str, Any]) -> None:
        if self.history.current != 0:
            request["params"] = self.history.active.strategy

    # -- requests -------------------------------------------------------------------------------

    def _poll(self, event: TimeEvent) -> None:
        try:
            raw = self._redis.rpop(f"{self.config.key_prefix}:control:requests")
        except Exception as e:  # noqa: BLE001 - Redis down: keep trading, try again
            self.log.warning(f"control channel unavailable: {e}")
            return
        if raw is None:
            return
        try:
            request = json.loads(raw)
        except json.JSONDecodeError as e:
            self.log.error(f"control request is not JSON: {e}")
            return
        result = self.handle(request)
        self._redis.hset(f"{self.config.key_prefix}:control:results", str(request.get("id", "")), json.dumps(result))

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        """Apply ``{"set": {path: value}}``, ``{"rollback": true | version}``, ``{"halt": true,
        "reason": ...}`` (the operator's kill switch) or ``{"resume": true, "reason": ...}`` (lift a
        risk halt); return the outcome."""
        by = str(request.get("by", "operator"))
        if request.get("halt"):
            # The operator's kill switch: the risk chain halts (every strategy cancels), audited.
            if HALT_ENDPOINT not in self.msgbus.endpoints():
                return {"status": "rejected", "reason": "no risk chain in this node"}
            self.msgbus.send(HALT_ENDPOINT, {"by": by, "reason": str(request.get("reason", ""))})
            return {"status": "halted"}
        if request.get("resume"):
            # The explicit command a risk halt needs: the risk actor lifts HALTED/REDUCING, audited.
            if RESUME_ENDPOINT not in self.msgbus.endpoints():
                return {"status": "rejected", "reason": "no risk chain in this node"}
            self.msgbus.send(RESUME_ENDPOINT, {"by": by, "reason": str(request.get("reason", ""))})
            return {"status": "resumed"}
        active = self.history.active
        try:
            if request.get("rollback") is not None:
                target = request["rollback"]
                v = self.history.previous_good() if target is True else self.history.versions[int(target)]
                return self._switch(v.strategy, v.plugins, by, {"rollback": v.version}, rollback_of=active.version, guard=False)
            strategy, plugins = apply_changes(active.strategy, active.plugins, dict(request.get("set", {})))
        except (ChangeError, IndexError, ValueError, KeyError) as e:
            return self._reject(by, dict(request.get("set", {})), str(e))
        return self._switch(strategy, plugins, by, dict(request["set"]), guard=True)

    def _validate(self, strategy: dict[str, Any], plugins: list[dict[str, Any]]) -> None:
        section = StrategySection(path=self.config.strategy_path, config_path=self.config.strategy_config_path, params=strategy)
        for iid in self.config.instruments:
            validate_strategy_params(section, iid)
        build_plugins(plugins)

    def _reject(self, by: str, changes: dict[str, Any], reason: str) -> dict[str, Any]:
        v = self.history.add(self.clock.timestamp_ns(), by, changes, self.history.active.strategy,
                             self.history.active.plugins, "rejected", reason)
        self._record(v)
        self.log.warning(f"parameter change rejected: {reason}")
        return {"status": "rejected", "version": v.version, "reason": reason}

    def _switch(self, strategy: dict[str, Any], plugins: list[dict[str, Any]], by: str, changes: dict[str, Any], *,
                guard: bool, rollback_of: int | None = None, reason: str = "") -> dict[str, Any]:
        try:
            self._validate(strategy, plugins)
        except ConfigError as e:
            return self._reject(by, changes, str(e))
        guard_s = self.config.grace_s if guard else 0.0
        failures = []
        for strategy_obj in self._strategies():
            request = {"params": strategy, "guard_s": guard_s}
            self.msgbus.send(PARAMS_ENDPOINT_PREFIX + strategy_obj, request)
            if not request.get("applied"):
                failures.append(f"{strategy_obj}: {request.get('error', 'no answer')}")
        risk_request: dict[str, Any] = {"plugins": plugins}
        if RISK_PARAMS_ENDPOINT in self.msgbus.endpoints():
            self.msgbus.send(RISK_PARAMS_ENDPOINT, risk_request)
            if not risk_request.get("applied"):
                failures.append(f"risk: {risk_request.get('error', 'no answer')}")
        now = self.clock.timestamp_ns()
        if failures:
            # Validation passed but a component refused: put everything back as it was.
            self._restore(self.history.active)
            return self._reject(by, changes, "; ".join(failures))
        status = "applied"
        v = self.history.add(now, by, changes, strategy, plugins, status, reason, rollback_of)
        self._record(v)
        self._grace_until = now + int(guard_s * 1e9) if guard else 0
        self._keep(v)
        self._watch = {"commands": 0, "vetoed": 0, "errors": 0}
        self.log.info(f"parameters version {v.version} applied by {by}: {changes}")
        return {"status": "applied", "version": v.version, "grace_s": guard_s}

    def _restore(self, v: Version) -> None:
        for strategy_obj in self._strategies():
            self.msgbus.send(PARAMS_ENDPOINT_PREFIX + strategy_obj, {"params": v.strategy, "guard_s": 0.0})
        if RISK_PARAMS_ENDPOINT in self.msgbus.endpoints():
            self.msgbus.send(RISK_PARAMS_ENDPOINT, {"plugins": v.plugins})

    def _strategies(self) -> list[str]:
        return sorted(e[len(PARAMS_ENDPOINT_PREFIX):] for e in self.msgbus.endpoints() if e.startswith(PARAMS_ENDPOINT_PREFIX))

    # -- the grace period -------------------------------------------------------------------------

    def _in_grace(self) -> bool:
        return self._grace_until > 0 and self.clock.timestamp_ns() < self._grace_until

    def _on_command(self, command: Command) -> None:
        if not self._in_grace() or command.kind == "cancel":
            return
        self._watch["commands"] += 1
        self._watch["vetoed"] += 0 if command.allowed else 1
        w = self._watch
        if w["commands"] >= self.config.min_commands and w["vetoed"] >= self.config.max_veto_ratio * w["commands"]:
            self._roll_back(f"{w['vetoed']} of {w['commands']} order commands vetoed by the risk chain "
                            f"(last: {command.plugin}: {command.reason})")

    def _on_strategy_error(self, error: dict[str, str]) -> None:
        if self._in_grace():
            self._roll_back(f"{error.get('strategy')}: get_quotes failed: {error.get('error')}")

    def _roll_back(self, reason: str) -> None:
        failed = self.history.active
        target = self.history.previous_good()
        self._grace_until = 0
        failed.status = "rolled_back"
        failed.reason = reason
        self._record(failed)
        self.log.error(f"rolling back parameters version {failed.version}: {reason}")
        self._switch(target.strategy, target.plugins, "auto-rollback", {"rollback": target.version},
                     guard=False, rollback_of=failed.version, reason=reason)

    # -- records ----------------------------------------------------------------------------------

    def _record(self, v: Version) -> None:
        data = {**msgspec.to_builtins(v), "run": self.config.run_id}
        change = {k: data[k] for k in ("version", "by", "changes", "status", "reason")}
        self.msgbus.publish(TOPIC_PREFIX + "param_change", ParamChange(ts=v.ts or self.clock.timestamp_ns(), **change))
        self.msgbus.publish(PARAM_CHANGE_TOPIC, change)
        metrics = NodeMetrics.current()
        if metrics is not None:
            metrics.config_version.set(self.history.active.version)
        if self.config.history_path is not None:
            with Path(self.config.history_path).open("a") as f:
                f.write(json.dumps(data) + "\n")
        if self._redis is not None:
            try:
                self._redis.rpush(f"{self.config.key_prefix}:config:history", json.dumps(data))
            except Exception as e:  # noqa: BLE001
                self.log.warning(f"cannot write the history to Redis: {e}")

"""Build risk plugins from the ``risk.plugins`` entries of a run configuration.

An entry is ``{"path": "package.module:Class", ...parameters}``; the parameters are validated
against the class's ``Config`` Struct, with errors naming ``risk.plugins[i].<key>``.
"""

from __future__ import annotations

import importlib
from typing import Any

import msgspec

from hftmm.config.errors import ConfigError
from hftmm.risk.plugin import RiskPlugin

# The plugins shipped with hftmm, by short name (an entry may use either form).
BUILTIN = {
    "MaxPosition": "hftmm.risk.checks:MaxPosition",
    "MaxOrderSize": "hftmm.risk.checks:MaxOrderSize",
    "PriceCollar": "hftmm.risk.checks:PriceCollar",
    "MaxOpenOrders": "hftmm.risk.checks:MaxOpenOrders",
    "RateLimit": "hftmm.risk.checks:RateLimit",
    "NoSelfCross": "hftmm.risk.checks:NoSelfCross",
    "ShortSale": "hftmm.risk.checks:ShortSale",
    "DynamicLimits": "hftmm.risk.dynamic_limits:DynamicLimits",
    "VarLimit": "hftmm.risk.var:VarLimit",
    "KillSwitch": "hftmm.risk.kill_switch:KillSwitch",
    "CapitalAllocator": "hftmm.risk.allocator:CapitalAllocator",
}


def plugin_class(path: str, where: str, source: str | None = None) -> type[RiskPlugin]:
    """Import a plugin class by ``module:Class`` (or a built-in short name)."""
    path = BUILTIN.get(path, path)
    module_name, _, attr = path.partition(":")
    if not attr:
        raise ConfigError(where, f"expected 'package.module:Class' or one of {sorted(BUILTIN)}, got {path!r}", source)
    try:
        cls = getattr(importlib.import_module(module_name), attr)
    except ImportError as e:
        raise ConfigError(where, f"cannot import module {module_name!r}: {e}", source) from e
    except AttributeError as e:
        raise ConfigError(where, f"module {module_name!r} has no attribute {attr!r}", source) from e
    if not (isinstance(cls, type) and issubclass(cls, RiskPlugin)):
        raise ConfigError(where, f"{path} is not a hftmm.risk.plugin.RiskPlugin subclass", source)
    return cls


def build_plugins(specs: list[dict[str, Any]], source: str | None = None) -> list[RiskPlugin]:
    """Instantiate the configured plugins in order, validating each one's parameters."""
    from hftmm.config.loader import validation_error  # the loader imports this module

    plugins = []
    for i, spec in enumerate(specs):
        where = f"risk.plugins[{i}]"
        if not isinstance(spec, dict) or "path" not in spec:
            raise ConfigError(where, "each plugin needs a 'path'", source)
        cls = plugin_class(str(spec["path"]), f"{where}.path", source)
        params = {k: v for k, v in spec.items() if k != "path"}
        try:
            config = msgspec.convert(params, cls.Config)
        except msgspec.ValidationError as e:
            raise validation_error(e, params, prefix=f".risk.plugins[{i}]", source=source) from e
        plugins.append(cls(config))
    return plugins

"""hftmm configuration: typed sections, loading and validation."""

from hftmm.config.errors import ConfigError
from hftmm.config.loader import config_to_builtins, load_config, load_live_config, parse_config, parse_live_config
from hftmm.config.schema import HftmmConfig, LiveConfig

__all__ = ["ConfigError", "HftmmConfig", "LiveConfig", "config_to_builtins", "load_config", "load_live_config", "parse_config",
           "parse_live_config"]

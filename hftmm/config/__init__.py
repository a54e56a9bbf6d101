"""hftmm configuration: typed sections, loading and validation."""

from hftmm.config.errors import ConfigError
from hftmm.config.loader import config_to_builtins, load_config, parse_config
from hftmm.config.schema import HftmmConfig

__all__ = ["ConfigError", "HftmmConfig", "config_to_builtins", "load_config", "parse_config"]

"""Parameter sweeps: grid or random search over strategy parameters x symbols x days, one process per run."""

from hftmm.sweep.config import SweepConfig, load_sweep_config, parse_sweep_config
from hftmm.sweep.driver import PreparedSweep, SweepOutcome, prepare_sweep, run_sweep
from hftmm.sweep.plan import RunSpec, SweepPlan, expand_sweep
from hftmm.sweep.report import build_sweep_report
from hftmm.sweep.runner import SweepError

__all__ = [
    "PreparedSweep", "RunSpec", "SweepConfig", "SweepError", "SweepOutcome", "SweepPlan", "build_sweep_report",
    "expand_sweep", "load_sweep_config", "parse_sweep_config", "prepare_sweep", "run_sweep",
]

"""NYSE Daily TAQ adapter: trade, quote, NBBO and master files into a NautilusTrader catalog."""

from adapters.taq.config import TaqIngestConfig
from adapters.taq.errors import TaqFormatError
from adapters.taq.ingest import ingest_taq
from adapters.taq.providers import load_instruments
from adapters.taq.report import TaqIngestReport

__all__ = ["TaqFormatError", "TaqIngestConfig", "TaqIngestReport", "ingest_taq", "load_instruments"]

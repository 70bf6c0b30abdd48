"""Error types a user can fix by changing an input; the CLI prints them without a traceback."""

from pipeline.config import ConfigError
from pipeline.ingest import IngestError
from pipeline.sla import SlaError
from pipeline.trends import TrendInputError

# TaxonomyError and LabelError are ConfigErrors
USER_ERRORS: tuple[type[Exception], ...] = (ConfigError, IngestError, SlaError, TrendInputError)

"""Investigations behind the notebooks in ``notebooks/``: why a reason rose, what is left
"не определено", where the classifier errs.

Everything here reads pipeline outputs only: the DuckDB warehouse (opened read-only), the model
metrics and out-of-fold confusion table, the labelled examples. Functions return plain
DataFrames and frozen dataclasses; the notebooks only render them. Queries live in
``pipeline/sql/*.sql`` with bound parameters.

The statistics:

* ``decompose_change`` - a reason's change in the week vs the mean of the weeks before, split by
  channel, queue (department), contact kind and local hour; each value's share of the change.
  The contacts carry no customer segment, so there is no segment cut.
* ``distinctive_terms`` - lemma n-grams over- and under-represented in one set of texts vs
  another: the log-odds ratio with an informative Dirichlet prior and its z-score (Monroe,
  Colaresi & Quinn 2008, "Fightin' Words"). Counts are contacts mentioning the term,
  so one long text repeating a word does not dominate.
* ``uncertain_clusters`` - low-confidence contacts grouped by TF-IDF over lemmas, reduced with
  truncated SVD (LSA), clustered with k-means; k chosen by cosine silhouette over a small range.
* ``label_suspects`` - labelled examples whose cross-validated prediction (the model's own
  pipeline) disagrees with the label with high confidence.

One module per investigation: ``warehouse`` (read-only connection, queries, week and reason
checks), ``rise`` (decomposition, draft conclusion), ``terms`` (distinctive terms, examples),
``chains`` (repeat chains, transfer paths), ``handoffs`` (one department's lost hand-offs),
``uncertain`` (clusters of low-confidence contacts), ``model_errors`` (confusions, lowest
confidence, label suspects), ``notebook`` (plumbing). The notebooks call ``investigate.X``: the
names they use are re-exported here.
"""

from pipeline.investigate.chains import repeat_chains, transfer_paths
from pipeline.investigate.handoffs import department_handoffs, has_handoffs
from pipeline.investigate.model_errors import (
    explain_contacts,
    label_suspects,
    lowest_confidence,
    model_errors,
)
from pipeline.investigate.notebook import inert, show, summary_bundle, use_offline_plotly
from pipeline.investigate.rise import (
    DIMENSION_TITLES,
    DIMENSIONS,
    decompose_change,
    draft_conclusion,
    reason_status,
    weekly_counts,
)
from pipeline.investigate.terms import examples_for_term, reason_terms
from pipeline.investigate.uncertain import uncertain_clusters
from pipeline.investigate.warehouse import (
    InvestigationError,
    check_reason,
    connect,
    reason_titles,
    resolve_week,
    weeks_before,
)

__all__ = [
    "DIMENSIONS",
    "DIMENSION_TITLES",
    "InvestigationError",
    "check_reason",
    "connect",
    "decompose_change",
    "department_handoffs",
    "draft_conclusion",
    "examples_for_term",
    "explain_contacts",
    "has_handoffs",
    "label_suspects",
    "lowest_confidence",
    "model_errors",
    "reason_status",
    "reason_terms",
    "reason_titles",
    "repeat_chains",
    "resolve_week",
    "inert",
    "show",
    "summary_bundle",
    "transfer_paths",
    "uncertain_clusters",
    "use_offline_plotly",
    "weekly_counts",
    "weeks_before",
]

"""The reason classifier: TF-IDF over lemma and character n-grams (+ word vectors) -> a
calibrated linear SVM.

``build_pipeline()`` returns one unfitted sklearn ``Pipeline`` whose input is a frame with the
columns the lemmatize stage writes (``model_input``): ``lemmas`` (the lemma string of
``pipeline.text.Lemmatizer``) gives lemma uni- and bigrams, ``normalized`` (the normalised text
before lemmatisation) gives character 2–5-grams within words, which keep what lemmatisation
throws away (endings, stop words, unknown words, typos). Both also give a mean Navec word vector
(``features.WordVectorMean``), which places a text near texts written with synonyms. Everything
that is chosen from data happens inside ``fit`` of its last step, ``ReasonModel``: the weight of
the word vectors against TF-IDF (0 = unused) and the regularisation strength ``C`` by stratified
cross-validation on macro-F1, the probability calibration on out-of-fold decision values, and
the cut below which a contact fits no reason. So cross-validating the whole Pipeline
(``pipeline evaluate``) never peeks at a test fold.

The answer is the class-balanced SVM's (the one C was chosen for). Calibration is a single
temperature, ``proba = softmax(T · decision)`` with T fitted by maximum likelihood on the
out-of-fold decisions, so it never changes the answer: every contact with text gets its most
likely reason and a calibrated confidence. «Не определено» is not "the model is unsure" (real
reasons overlap, and an uncertainty threshold sent most of a real week there) but "no reason
claims this contact": its best one-vs-rest decision value is below the level that all but
``undefined_share`` of the known reasons' contacts reach out of fold.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
from joblib import Parallel, delayed
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import RidgeClassifier
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC

logger = logging.getLogger(__name__)

# long texts with many n-grams need strong regularisation, short templated ones little
DEFAULT_CS = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
# T is searched on a log scale between e^-6 and e^6: decision values are of order 1
LOG_TEMPERATURE_BOUNDS = (-6.0, 6.0)
# choosing C on 4,000 examples takes ~15 s on 2 cores for short contact texts; more labels
# only make the final fit (one SVM) longer
DEFAULT_SEARCH_MAX_EXAMPLES = 4000
# the C search goes up the grid and stops after this many values in a row without a better score
SEARCH_PATIENCE = 2
WORD_PATTERN = r"\S+"  # lemma strings are already tokenised: one lemma per space
# out of fold, this share of contacts of known reasons has a best decision below the cut that
# sends a contact to «Не определено»: the cut separates "fits no reason" from "fits one"
DEFAULT_UNDEFINED_SHARE = 0.05
# word-vector block weights tried against the TF-IDF blocks (0 = without word vectors)
DEFAULT_VECTOR_WEIGHTS = (0.0, 0.25, 0.5, 1.0, 2.0)
# ridge penalties tried for the word-vector model
DEFAULT_VECTOR_ALPHAS = (0.3, 1.0, 3.0, 10.0)
# the classifier's input: one row per text, the columns the lemmatize stage writes
INPUT_COLUMNS = ("normalized", "lemmas")


class ReasonModel(ClassifierMixin, BaseEstimator):
    """Class-balanced linear SVM with C chosen by CV, calibrated probabilities and a fit cut.

    The answer is the SVM's; ``predict_proba`` is softmax(``temperature_`` · decision), so its
    argmax is the same answer and its maximum is the confidence. ``fit_score`` is the best
    one-vs-rest decision value: how strongly the best reason claims the contact; below
    ``threshold_`` no reason does (out of the taxonomy, or too little known text).

    Parameters
    ----------
    Cs : candidate regularisation strengths, chosen by stratified CV on macro-F1.
    cv : folds for choosing C and for the out-of-fold decisions the calibration is fitted on.
    undefined_share : ``threshold_`` is the quantile of the out-of-fold ``fit_score`` of labelled
        contacts at this share: about this share of contacts of known reasons falls below it.
    random_state : seed of the fold split.
    n_jobs : parallel fits while choosing C (joblib; -1 = every core).
    search_max_examples : C, the temperature and the cut are chosen on a stratified sample of at
        most this many examples (every example of a small reason is kept); the final SVM is
        fitted on all of them. Bounds training time on large label sets; None = all.
    vector_columns : the input's first this many columns are word-vector features (dense means
        of ``WordVectorMean``); 0 = none. The SVM learns from the other (TF-IDF) columns; a
        class-balanced ridge classifier learns from these, and the decision is
        ``svm + vector_weight_ · ridge`` — still one linear function of all features.
    vector_weights : candidate weights of the ridge's decision, chosen on the same out-of-fold
        decisions as C (0 = word vectors unused: on short templated texts they add noise; on
        varied appeals they carry synonyms TF-IDF cannot). Choosing costs no extra SVM fit.
    vector_alphas : candidate ridge penalties, chosen by the same CV on macro-F1.
    """

    def __init__(
        self,
        Cs: Sequence[float] = DEFAULT_CS,
        cv: int = 3,
        undefined_share: float = DEFAULT_UNDEFINED_SHARE,
        random_state: int = 0,
        n_jobs: int | None = -1,
        search_max_examples: int | None = DEFAULT_SEARCH_MAX_EXAMPLES,
        vector_columns: int = 0,
        vector_weights: Sequence[float] = DEFAULT_VECTOR_WEIGHTS,
        vector_alphas: Sequence[float] = DEFAULT_VECTOR_ALPHAS,
    ):
        self.Cs = Cs
        self.cv = cv
        self.undefined_share = undefined_share
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.search_max_examples = search_max_examples
        self.vector_columns = vector_columns
        self.vector_weights = vector_weights
        self.vector_alphas = vector_alphas

    def fit(self, X, y):
        X_all, y_all = X, np.asarray(y)
        self.classes_ = np.unique(y_all)
        # a text repeated in the labels must not sit in an inner training fold and its test
        # fold at once: that rewards memorising (large C). The search sees each text once.
        distinct = distinct_rows(X_all)
        sample = distinct[
            search_sample(
                y_all[distinct], self.search_max_examples, 2 * self.cv, self.random_state
            )
        ]
        X, y = X_all[sample], y_all[sample]
        counts = np.unique(y, return_counts=True)[1]
        folds = max(2, min(self.cv, int(counts.min())))
        splitter = StratifiedKFold(folds, shuffle=True, random_state=self.random_state)
        splits = list(splitter.split(np.zeros(len(y)), y))
        terms, vectors = self._split(X)
        decisions, scores = self._search_C(terms, y, splits)
        self.C_ = max(scores, key=lambda c: (scores[c], -c))
        self.cv_scores_ = {float(c): float(s) for c, s in scores.items()}
        decision = decisions[self.C_]
        self.vector_weight_, self.vector_alpha_ = 0.0, None
        self.vector_weight_scores_ = {}
        if self.vector_columns:
            self.vector_alpha_, ridge_decision = self._search_alpha(vectors.toarray(), y, splits)
            combined = {float(w): decision + w * ridge_decision for w in self.vector_weights}
            self.vector_weight_scores_ = {
                w: float(self._macro_f1(y, d)) for w, d in combined.items()
            }
            # ties go to the smaller weight: the plainer model
            self.vector_weight_ = max(combined, key=lambda w: (self.vector_weight_scores_[w], -w))
            decision = combined[self.vector_weight_]
        class_index = np.searchsorted(self.classes_, y)
        self.temperature_ = fit_temperature(decision, class_index)
        # kept: where the cut sits among the known reasons' out-of-fold fit scores. The fit score
        # is the TF-IDF SVM's alone: word vectors put every text near *some* reason (that is
        # what they are for), which would let contacts of no known reason through the cut
        self.oof_fit_scores_ = as_fit_score(decisions[self.C_]).astype(np.float32)
        self.threshold_ = float(np.quantile(self.oof_fit_scores_, self.undefined_share))
        terms_all, vectors_all = self._split(X_all)
        self.svm_ = self._svm(self.C_).fit(terms_all, y_all)
        self.ridge_ = (
            self._ridge(self.vector_alpha_).fit(vectors_all.toarray(), y_all)
            if self.vector_weight_
            else None
        )
        logger.info(
            "ReasonModel: C=%s (CV macro-F1 %s), word-vector weight %s (%s), temperature %.3f, "
            "fit cut %.3f",
            self.C_,
            {c: round(s, 3) for c, s in self.cv_scores_.items()},
            self.vector_weight_,
            {w: round(s, 3) for w, s in self.vector_weight_scores_.items()},
            self.temperature_,
            self.threshold_,
        )
        return self

    def _split(self, X) -> tuple:
        """(TF-IDF columns, word-vector columns or None), both CSR: the vectors are made dense
        only where the ridge uses them, not on every classify batch when its weight is 0."""
        X = sp.csr_matrix(X)
        if not self.vector_columns:
            return X, None
        return X[:, self.vector_columns :], X[:, : self.vector_columns]

    def _macro_f1(self, y, decision: np.ndarray) -> float:
        return f1_score(y, self.classes_[self.answer_index(decision)], average="macro")

    def _search_alpha(self, vectors: np.ndarray, y, splits) -> tuple[float, np.ndarray]:
        """The ridge penalty with the best out-of-fold macro-F1, and its decisions (dense and
        low-dimensional: every alpha takes well under a second)."""
        best = None
        for alpha in self.vector_alphas:
            decision = np.zeros((len(y), self._n_outputs()))
            for train, test in splits:
                ridge = self._ridge(alpha).fit(vectors[train], y[train])
                decision[test] = self._decision(ridge, vectors[test])
            score = self._macro_f1(y, decision)
            if best is None or score > best[0]:
                best = (score, float(alpha), decision)
        return best[1], best[2]

    @staticmethod
    def _ridge(alpha: float) -> RidgeClassifier:
        return RidgeClassifier(alpha=alpha, class_weight="balanced")

    def _search_C(self, X, y, splits) -> tuple[dict, dict]:
        """Out-of-fold decisions and macro-F1 for C from the smallest up, stopping once the score
        has fallen for ``SEARCH_PATIENCE`` values in a row: large C on long texts are the slowest
        fits and never the best there, so they are not tried."""
        decisions, scores = {}, {}
        best, worse = -1.0, 0
        # processes, not threads: liblinear shuffles with the C library's global rand(), so
        # fits in parallel threads disturb each other's seed and a rerun gives other numbers
        # (scikit-learn issues #8410, #31883); each process has its own
        with Parallel(n_jobs=self.n_jobs, prefer="processes") as parallel:
            for C in sorted(self.Cs):
                # the folds of one C are independent: run them on all cores; results do not
                # depend on n_jobs
                fitted = parallel(
                    delayed(self._fold_decision)(C, X, y, train, test) for train, test in splits
                )
                decision = np.zeros((len(y), self._n_outputs()))
                for (_, test), values in zip(splits, fitted, strict=True):
                    decision[test] = values
                decisions[C] = decision
                scores[C] = self._macro_f1(y, decision)
                if scores[C] > best:
                    best, worse = scores[C], 0
                else:
                    worse += 1
                    if worse >= SEARCH_PATIENCE:
                        break
        return decisions, scores

    def _fold_decision(self, C: float, X, y, train, test) -> np.ndarray:
        return self._decision(self._svm(C).fit(X[train], y[train]), X[test])

    def _svm(self, C: float) -> LinearSVC:
        return LinearSVC(C=C, class_weight="balanced", random_state=self.random_state)

    def _n_outputs(self) -> int:
        return 1 if len(self.classes_) == 2 else len(self.classes_)

    @staticmethod
    def _decision(estimator, X) -> np.ndarray:
        values = estimator.decision_function(X)
        return values.reshape(-1, 1) if values.ndim == 1 else values

    def answer_index(self, decision: np.ndarray) -> np.ndarray:
        """Index into ``classes_`` of the answer for each row of ``decision_function``."""
        if decision.shape[1] == 1:
            return (decision[:, 0] > 0).astype(int)
        return decision.argmax(axis=1)

    def decision_function(self, X) -> np.ndarray:
        return self.decide(X)[0]

    def predict_proba(self, X) -> np.ndarray:
        return self.calibrated(self.decision_function(X))

    def calibrated(self, decision: np.ndarray) -> np.ndarray:
        """Probabilities from values of ``decision_function``: softmax(T · decision)."""
        return softmax(as_logits(decision) * self.temperature_, axis=1)

    def predict(self, X) -> np.ndarray:
        return self.classes_[self.answer_index(self.decision_function(X))]

    def fit_score(self, X) -> np.ndarray:
        """How strongly the best reason claims each contact (compare with ``threshold_``)."""
        return self.decide(X)[1]

    def decide(self, X) -> tuple[np.ndarray, np.ndarray]:
        """``decision_function(X)`` and ``fit_score(X)`` from one pass over X. The fit score is
        the best one-vs-rest decision of the TF-IDF SVM: the evidence of the reason's own words
        (word vectors move the answer, not whether any reason claims the contact)."""
        terms, vectors = self._split(X)
        svm_decision = self._decision(self.svm_, terms)
        decision = svm_decision
        if self.ridge_ is not None:
            ridge_decision = self._decision(self.ridge_, vectors.toarray())
            decision = svm_decision + self.vector_weight_ * ridge_decision
        return decision, as_fit_score(svm_decision)


def decide(pipeline: Pipeline, inputs: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The fitted Pipeline's decision values and fit scores for rows of ``model_input``."""
    return pipeline.named_steps["model"].decide(pipeline.named_steps["features"].transform(inputs))


def as_fit_score(decision: np.ndarray) -> np.ndarray:
    """The best reason's one-vs-rest decision value (a binary SVM: the winning side's |d|)."""
    if decision.shape[1] == 1:
        return np.abs(decision[:, 0])
    return decision.max(axis=1)


def distinct_rows(X) -> np.ndarray:
    """Sorted indices of the first occurrence of each distinct row of a sparse matrix."""
    X = sp.csr_matrix(X)
    X.sort_indices()
    seen: set[bytes] = set()
    first = []
    for row in range(X.shape[0]):
        start, end = X.indptr[row], X.indptr[row + 1]
        key = X.indices[start:end].tobytes() + X.data[start:end].tobytes()
        if key not in seen:
            seen.add(key)
            first.append(row)
    return np.asarray(first, dtype=np.int64)


def search_sample(
    y: np.ndarray, max_examples: int | None, keep_per_class: int, seed: int
) -> np.ndarray:
    """Sorted indices of a stratified sample of about ``max_examples`` (all when fewer).

    Each class keeps its share, but never fewer than ``keep_per_class`` examples (or all it has).
    """
    if max_examples is None or len(y) <= max_examples:
        return np.arange(len(y))
    rng = np.random.default_rng(seed)
    share = max_examples / len(y)
    picked = []
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        k = min(len(members), max(keep_per_class, round(len(members) * share)))
        picked.append(rng.choice(members, size=k, replace=False))
    return np.sort(np.concatenate(picked))


def as_logits(decision: np.ndarray) -> np.ndarray:
    """One column per class; a binary SVM's single column d becomes (0, d)."""
    if decision.shape[1] == 1:
        return np.hstack([np.zeros_like(decision), decision])
    return decision


def fit_temperature(decision: np.ndarray, class_index: np.ndarray) -> float:
    """The T > 0 that maximises the likelihood of the true classes under softmax(T · decision)."""
    logits = as_logits(decision)
    rows = np.arange(len(logits))

    def negative_log_likelihood(log_t: float) -> float:
        return float(-log_softmax(logits * np.exp(log_t), axis=1)[rows, class_index].mean())

    best = minimize_scalar(
        negative_log_likelihood, bounds=LOG_TEMPERATURE_BOUNDS, method="bounded"
    )
    return float(np.exp(best.x))

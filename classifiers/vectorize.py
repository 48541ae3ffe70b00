"""A TF-IDF vectorizer for character n-grams within words, with the per-word work cached.

scikit-learn's vectorizer looks up every n-gram of every word of every email in a
Python dict; that loop was three quarters of classification time.  Mail reuses a small
vocabulary, so this one maps each distinct word once to the column indices of its known
n-grams and builds each row with numpy.  Fitting is delegated to ``TfidfVectorizer``, so
vocabulary, idf and the output are the library's own (a test checks they are equal).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer

from classifiers.text import char_grams, word_grams

CACHE_LIMIT = 200_000


class CharGramTfidf(BaseEstimator, TransformerMixin):
    """Sublinear-TF, L2-normalised TF-IDF over ``classifiers.text.char_grams``."""

    def __init__(self, min_df: int = 2):
        self.min_df = min_df

    def fit(self, texts, y=None):
        library = TfidfVectorizer(analyzer=char_grams, min_df=self.min_df, sublinear_tf=True).fit(texts)
        self.vocabulary_ = dict(library.vocabulary_)
        self.idf_ = library.idf_.astype(np.float64)
        return self

    def fit_transform(self, texts, y=None):
        return self.fit(texts).transform(texts)

    def transform(self, texts) -> sparse.csr_matrix:
        cache = self.__dict__.setdefault("_word_columns", {})
        indptr, indices, values = [0], [], []
        for text in texts:
            columns = [self._columns(word, cache) for word in text.split()]
            flat = np.concatenate(columns) if columns else np.empty(0, dtype=np.int64)
            unique, counts = np.unique(flat, return_counts=True)
            weights = (1.0 + np.log(counts)) * self.idf_[unique]
            norm = np.sqrt(weights @ weights)
            indices.append(unique)
            values.append(weights / norm if norm else weights)
            indptr.append(indptr[-1] + len(unique))
        return sparse.csr_matrix(
            (np.concatenate(values) if values else [], np.concatenate(indices) if indices else [], indptr),
            shape=(len(indptr) - 1, len(self.idf_)))

    def _columns(self, word: str, cache: dict) -> np.ndarray:
        found = cache.get(word)
        if found is None:
            vocabulary = self.vocabulary_
            found = np.array([vocabulary[g] for g in word_grams(word) if g in vocabulary], dtype=np.int64)
            if len(cache) < CACHE_LIMIT:
                cache[word] = found
        return found

    def __getstate__(self):
        # The word cache is rebuilt on use; it never goes into an artifact.
        return {key: value for key, value in self.__dict__.items() if key != "_word_columns"}

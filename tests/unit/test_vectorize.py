"""The cached character n-gram vectorizer gives exactly scikit-learn's TF-IDF."""

from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from classifiers.text import char_grams
from classifiers.vectorize import CharGramTfidf

TRAIN = ["my wire has not arrived", "не могу вывести деньги со счета", "no puedo retirar mi dinero",
         "wire not credited yet", "деньги не пришли на счет", "retirar dinero de la cuenta", "arrived"]
TEST = ["the wire arrived", "деньги пришли", "dinero dinero dinero", "", "zzz unseen"]


def test_same_matrix_as_the_library():
    """Vocabulary, idf, sublinear tf and L2 norm match TfidfVectorizer on seen, repeated and unseen words."""
    library = TfidfVectorizer(analyzer=char_grams, min_df=1, sublinear_tf=True).fit(TRAIN)
    ours = CharGramTfidf(min_df=1).fit(TRAIN)
    assert np.abs(library.transform(TEST).toarray() - ours.transform(TEST).toarray()).max() < 1e-12


def test_cache_is_not_part_of_the_state():
    """The per-word cache is rebuilt on use and never pickled or saved."""
    model = CharGramTfidf(min_df=1).fit(TRAIN)
    model.transform(TEST)
    assert "_word_columns" not in model.__getstate__()

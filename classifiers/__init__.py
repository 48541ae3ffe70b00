"""Machine learning for the triage service: corpus, features, models, evaluation.

This package knows nothing of mail transport, storage or the web: the service
imports it, never the other way round.
"""

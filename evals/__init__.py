"""Evaluation data set of the policy assistant (gold cases written from the corpus) and its validator."""

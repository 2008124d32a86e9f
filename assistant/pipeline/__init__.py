"""The answer pipeline: read the question, retrieve, plan, compose, cite and verify."""

"""Guidance: which nudges a flag deserves, when, in what words, and their delivery."""

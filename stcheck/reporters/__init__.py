"""Reporters: each module turns the immutable run report into one output format."""

"""The built-in checks. Each module is one check; its class docstring is its documentation."""

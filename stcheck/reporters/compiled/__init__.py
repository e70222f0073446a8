"""The HTML report's templates as Jinja2 compiles them: generated, do not edit.

Written by ``python -m stcheck.reporters.precompiled`` (see
:mod:`stcheck.reporters.precompiled`, which uses a module only while its
template and the Jinja2 version are the ones it was compiled from).
"""

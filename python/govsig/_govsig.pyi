"""Type stubs of the compiled core module."""

__version__: str

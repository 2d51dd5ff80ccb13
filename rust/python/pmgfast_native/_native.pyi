"""Type stubs of the compiled module; kept in step with rust/src/lib.rs."""

__version__: str

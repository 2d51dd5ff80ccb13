"""Type stubs of the compiled module; kept in step with rust/src/lib.rs."""

__version__: str

# --- MIME walk (rust/src/py_mime.rs; the shapes are pmgfast.mime.Part / Defect fields) ---
def mime_walk(
    raw: bytes, max_parts: int = 1000, max_depth: int = 64, max_size: int = 0
) -> tuple[list[tuple[object, ...]], list[tuple[int, str]], list[str], list[str]]: ...
def mime_body(raw: bytes, start: int, end: int, transfer_encoding: str) -> tuple[bytes, list[str]]: ...

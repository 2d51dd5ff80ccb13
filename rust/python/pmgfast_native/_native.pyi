"""Type stubs of the compiled module; kept in step with rust/src/lib.rs."""

__version__: str

# --- MIME walk (rust/src/py_mime.rs; the shapes are pmgfast.mime.Part / Defect fields) ---
def mime_walk(
    raw: bytes, max_parts: int = 1000, max_depth: int = 64, max_size: int = 0
) -> tuple[list[tuple[object, ...]], list[tuple[int, str]], list[str], list[str]]: ...
def mime_body(raw: bytes, start: int, end: int, transfer_encoding: str) -> tuple[bytes, list[str]]: ...

# --- Tracking center (rust/src/py_tracking.rs; mails are pmgfast.tracking.model.Mail) ---
from pmgfast.tracking.model import Mail as _TrackMail

def track_pmg(
    *,
    start: int,
    end: int,
    offset: int,
    now: int,
    source: str,
    input: str | None = None,
    data: bytes | None = None,
    sender: str = "",
    recipient: str = "",
    host: str = "",
    msgid: str = "",
    ids: list[str] = ...,
    text: str = "",
    exclude_greylist: bool = False,
    exclude_ndr: bool = False,
    limit: int = 0,
    verbose: int = 0,
    tz: str | None = None,
) -> bytes: ...
def track_search(
    *,
    start: int,
    end: int,
    now: int,
    files: list[str] = ...,
    data: bytes | None = None,
    series: str | None = None,
    index: str | None = None,
    sender: str = "",
    recipient: str = "",
    host: str = "",
    msgid: str = "",
    ids: list[str] = ...,
    text: str = "",
    include_greylisted: bool = False,
    include_rejected: bool = False,
    include_ndr: bool = False,
    limit: int = 0,
    lines: bool = False,
    margin: int = 600,
    full_scan: bool = False,
    tz: str | None = None,
) -> tuple[tuple[_TrackMail, ...], bool, int]: ...
def track_index_update(
    index: str,
    base: str,
    *,
    now: int,
    horizon: int = 900,
    segment_entries: int = 262144,
    tz: str | None = None,
) -> tuple[int, int, int, float]: ...
def track_index_info(index: str) -> tuple[int, int, int, int, float, int]: ...

# --- Pattern sets (rust/src/py_patterns.rs; used through pmgfast.patterns) ---
class PatternCompileError(ValueError): ...

class PatternSet:
    def __init__(
        self,
        specs: list[tuple[int, str, bool, bool, str | None]],
        *,
        lenient: bool = False,
        backtrack_limit: int | None = None,
        set_size_limit: int | None = None,
    ) -> None: ...
    def matches(self, subject: str | bytes) -> list[int]: ...
    def candidates(self, text: str) -> int: ...
    def refused(self) -> list[tuple[int, str]]: ...
    def slow_ids(self) -> list[int]: ...
    def stats(self) -> dict[str, int]: ...
    def __len__(self) -> int: ...

# --- Archive listing (rust/src/py_archive.rs; members are pmgfast.archive.Member fields) ---
UNREADABLE_ARCHIVE: str

def list_archive(
    data: bytes,
    name: str = "",
    *,
    max_files: int = 1000,
    max_depth: int = 5,
    max_size: int = 26214400,
    time_budget: float = 30.0,
) -> dict[str, object]: ...

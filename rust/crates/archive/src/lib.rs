//! pmgfast-archive: list what an archive part contains, for PMG's ArchiveFilter and
//! MatchArchiveFilename objects, without writing anything to disk.
//!
//! [`list`] takes the bytes of a MIME part and, when they are an archive (zip, tar, gzip,
//! bzip2, xz, 7z, rar or cpio, detected by signature; tar also inside gzip/bzip2/xz), reports
//! every contained file: its path, basename, magic type, filename-glob type, size and whether
//! it is encrypted. Archives inside archives are listed too, down to [`Limits::max_depth`].
//! Members are decompressed in memory, streamed with caps: the total decompressed size, the
//! number of files, the nesting depth and the wall time are bounded ([`Limits`]). An archive
//! that cannot be read (corrupt, unsupported, encrypted headers) or that exceeds a limit marks
//! the listing unreadable, which adds PMG's type [`UNREADABLE`]; members found before the
//! failure stay listed.
//!
//! Member types come from a [`Classifier`] the caller plugs in (the MIME crate's freedesktop
//! detector); [`BuiltinClassifier`] is a minimal signature/extension table for tests.
//! RAR members are listed from their headers only: their magic type is known for stored
//! (uncompressed) members and unknown (`None`) for compressed ones (no RAR decompressor).
mod classify;
mod detect;
mod formats;
mod listing;
mod walk;

pub use classify::{BuiltinClassifier, Classifier, Types};
pub use detect::{detect, Format};
pub use listing::{Limits, Listing, Member, UNREADABLE};
pub use walk::list;

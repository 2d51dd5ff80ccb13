//! One module per archive format; each lists its members into the walk.
pub(crate) mod compressed;
pub(crate) mod cpio;
pub(crate) mod rar;
pub(crate) mod sevenz;
pub(crate) mod tar;
pub(crate) mod zip;

use crate::walk::Stop;

/// A format error as a [`Stop`].
pub(crate) fn bad(err: impl std::fmt::Display) -> Stop {
    Stop::Bad(err.to_string())
}

//! What a listing reports, and the limits it is made under.
use std::collections::BTreeSet;
use std::time::Duration;

use crate::detect::Format;

/// PMG's type for an archive that could not be listed completely (kept for rule compatibility).
pub const UNREADABLE: &str = "proxmox/unreadable-archive";

/// Bounds on one listing (PMG's `archivemaxfiles`, `archivemaxrec`, `archivemaxsize` and its
/// unpack time budget).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Most files listed over all nesting levels.
    pub max_files: usize,
    /// Deepest archive nesting: the part itself is level 1.
    pub max_depth: u32,
    /// Most bytes decompressed over all members and levels.
    pub max_size: u64,
    /// Wall time the whole listing may take.
    pub time_budget: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_files: 1000,
            max_depth: 5,
            max_size: 25 * 1024 * 1024,
            time_budget: Duration::from_secs(30),
        }
    }
}

/// One file inside the archive (or inside an archive inside it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Path inside its archive; members of nested archives are prefixed with the path of the
    /// archive that holds them and `/`.
    pub path: String,
    /// The last path component (what MatchArchiveFilename matches).
    pub basename: String,
    /// Type from the content, when the content could be read.
    pub magic: Option<String>,
    /// Type from the file name, when the name has a known pattern.
    pub glob: Option<String>,
    /// Uncompressed size as recorded or as read.
    pub size: u64,
    /// The member is encrypted (its content, and so its magic type, is unknown).
    pub encrypted: bool,
    /// Nesting level of the archive holding it (1: the part itself).
    pub depth: u32,
}

/// Everything found in one part.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Listing {
    /// The part's own archive format, or `None` when it is no archive.
    pub format: Option<Format>,
    /// Every file found, in archive order, depth first.
    pub members: Vec<Member>,
    /// Something could not be listed (see `errors`): adds [`UNREADABLE`] to the types.
    pub unreadable: bool,
    /// Why the listing is incomplete.
    pub errors: Vec<String>,
}

impl Listing {
    /// The part's type set contributions: each member's magic type and its glob type (unless
    /// `application/octet-stream`), and [`UNREADABLE`] when something could not be read.
    pub fn types(&self) -> BTreeSet<String> {
        let mut types = BTreeSet::new();
        for m in &self.members {
            types.extend(m.magic.iter().cloned());
            types.extend(
                m.glob
                    .iter()
                    .filter(|g| *g != "application/octet-stream")
                    .cloned(),
            );
        }
        if self.unreadable {
            types.insert(UNREADABLE.to_owned());
        }
        types
    }

    /// The basenames of all members.
    pub fn filenames(&self) -> BTreeSet<String> {
        self.members.iter().map(|m| m.basename.clone()).collect()
    }
}

//! The walk over an archive and the archives inside it, under the listing's limits.
use std::io::{self, Read};
use std::time::Instant;

use crate::classify::{Classifier, HEAD_LEN};
use crate::detect::{detect, Format};
use crate::formats;
use crate::listing::{Limits, Listing, Member};

/// List the archive in `data` (a part called `name`); see the crate documentation.
pub fn list(data: &[u8], name: &str, classifier: &dyn Classifier, limits: &Limits) -> Listing {
    let format = detect(data);
    let mut walk = Walk {
        classifier,
        limits,
        deadline: Instant::now() + limits.time_budget,
        files: 0,
        bytes: 0,
        stopped: false,
        listing: Listing {
            format,
            ..Listing::default()
        },
    };
    if let Some(format) = format {
        walk.archive(format, data, name, 1, "");
    }
    walk.listing
}

/// Why reading stopped early: a limit was hit (the whole walk stops) or the data is bad.
#[derive(Debug)]
pub(crate) enum Stop {
    Limit,
    Bad(String),
}

impl From<io::Error> for Stop {
    fn from(err: io::Error) -> Stop {
        Stop::Bad(err.to_string())
    }
}

/// What the walk knows of a member's content.
pub(crate) enum Content {
    /// The whole (decompressed) content.
    Bytes(Vec<u8>),
    /// Not readable: encrypted, or compressed with a method this crate lacks.
    Unavailable { encrypted: bool },
}

pub(crate) struct Walk<'a> {
    classifier: &'a dyn Classifier,
    limits: &'a Limits,
    deadline: Instant,
    files: usize,
    bytes: u64,
    stopped: bool,
    listing: Listing,
}

impl Walk<'_> {
    /// List one archive at nesting level `depth`; members' paths get `prefix`.
    pub(crate) fn archive(
        &mut self,
        format: Format,
        data: &[u8],
        name: &str,
        depth: u32,
        prefix: &str,
    ) {
        if self.stopped {
            return;
        }
        if depth > self.limits.max_depth {
            self.fail(format!(
                "{prefix}{name}: nested deeper than {} archives",
                self.limits.max_depth
            ));
            return;
        }
        if Instant::now() > self.deadline {
            self.limit("time budget exceeded");
            return;
        }
        let result = match format {
            Format::Zip => formats::zip::list(self, data, depth, prefix),
            Format::Tar => formats::tar::list(self, data, depth, prefix),
            Format::Gzip | Format::Bzip2 | Format::Xz => {
                formats::compressed::list(self, format, data, name, depth, prefix)
            }
            Format::SevenZ => formats::sevenz::list(self, data, depth, prefix),
            Format::Rar => formats::rar::list(self, data, depth, prefix),
            Format::Cpio => formats::cpio::list(self, data, depth, prefix),
        };
        match result {
            Ok(()) => {}
            Err(Stop::Limit) => {}
            Err(Stop::Bad(reason)) => {
                let what = if prefix.is_empty() && depth == 1 {
                    name
                } else {
                    prefix.trim_end_matches('/')
                };
                self.fail(format!("{} {what}: {reason}", format.name()));
            }
        }
    }

    /// Record one file found in an archive, and list it in turn if it is an archive.
    pub(crate) fn member(
        &mut self,
        path: &str,
        size: u64,
        content: Content,
        depth: u32,
        prefix: &str,
    ) -> Result<(), Stop> {
        if self.stopped {
            return Err(Stop::Limit);
        }
        self.files += 1;
        if self.files > self.limits.max_files {
            return Err(self.limit(&format!("more than {} files", self.limits.max_files)));
        }
        let basename = path.rsplit(['/', '\\']).next().unwrap_or(path).to_owned();
        let glob = self.classifier.glob(&basename);
        let full_path = format!("{prefix}{path}");
        let (magic, encrypted, inner) = match &content {
            Content::Bytes(bytes) => {
                let head = &bytes[..bytes.len().min(HEAD_LEN)];
                (Some(self.classifier.magic(head)), false, detect(bytes))
            }
            Content::Unavailable { encrypted } => (None, *encrypted, None),
        };
        let size = match &content {
            Content::Bytes(bytes) => bytes.len() as u64,
            Content::Unavailable { .. } => size,
        };
        self.listing.members.push(Member {
            path: full_path.clone(),
            basename: basename.clone(),
            magic,
            glob,
            size,
            encrypted,
            depth,
        });
        if let (Some(format), Content::Bytes(bytes)) = (inner, &content) {
            self.archive(
                format,
                bytes,
                &basename,
                depth + 1,
                &format!("{full_path}/"),
            );
        }
        if self.stopped {
            return Err(Stop::Limit);
        }
        Ok(())
    }

    /// Read a member's content through the size and time budget.
    pub(crate) fn read(&mut self, reader: &mut dyn Read) -> Result<Vec<u8>, Stop> {
        let mut out = Vec::new();
        let mut chunk = [0u8; 64 * 1024];
        loop {
            if Instant::now() > self.deadline {
                return Err(self.limit("time budget exceeded"));
            }
            let n = match reader.read(&mut chunk) {
                Ok(0) => return Ok(out),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Stop::Bad(e.to_string())),
            };
            self.bytes += n as u64;
            if self.bytes > self.limits.max_size {
                return Err(self.limit(&format!(
                    "more than {} bytes decompressed",
                    self.limits.max_size
                )));
            }
            out.extend_from_slice(&chunk[..n]);
        }
    }

    /// Account for content that is used as stored (no decompression) against the size budget.
    pub(crate) fn take_stored<'d>(&mut self, data: &'d [u8]) -> Result<&'d [u8], Stop> {
        self.bytes += data.len() as u64;
        if self.bytes > self.limits.max_size {
            return Err(self.limit(&format!(
                "more than {} bytes decompressed",
                self.limits.max_size
            )));
        }
        Ok(data)
    }

    /// Whether the time budget is spent (checked between members).
    pub(crate) fn check_time(&mut self) -> Result<(), Stop> {
        if Instant::now() > self.deadline {
            return Err(self.limit("time budget exceeded"));
        }
        Ok(())
    }

    /// Something could not be read, but the walk goes on (the listing is unreadable).
    pub(crate) fn note(&mut self, reason: String) {
        self.fail(reason);
    }

    /// Give back budget for bytes that will be read (and counted) again.
    pub(crate) fn uncount(&mut self, bytes: usize) {
        self.bytes = self.bytes.saturating_sub(bytes as u64);
    }

    fn fail(&mut self, reason: String) {
        self.listing.unreadable = true;
        self.listing.errors.push(reason);
    }

    /// A limit was hit: the listing is unreadable and the walk stops everywhere.
    fn limit(&mut self, reason: &str) -> Stop {
        if !self.stopped {
            self.stopped = true;
            self.fail(reason.to_owned());
        }
        Stop::Limit
    }
}

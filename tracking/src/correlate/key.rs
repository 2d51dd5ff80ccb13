//! Short ids (queue and filter ids, at most 25 bytes) as hash-map keys stored inline, so that
//! looking up and creating entries allocates nothing for the key.

use std::borrow::Borrow;
use std::hash::{Hash, Hasher};

/// The longest id kept inline; both id parsers stop at 25 characters.
pub const MAX: usize = 25;

/// An id of at most [`MAX`] bytes.
#[derive(Clone, Copy)]
pub struct IdKey {
    len: u8,
    bytes: [u8; MAX],
}

impl IdKey {
    /// The key of `id`, or None if it is longer than [`MAX`].
    pub fn new(id: &[u8]) -> Option<IdKey> {
        if id.len() > MAX {
            return None;
        }
        let mut bytes = [0u8; MAX];
        bytes[..id.len()].copy_from_slice(id);
        Some(IdKey {
            len: id.len() as u8,
            bytes,
        })
    }

    pub fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }
}

impl PartialEq for IdKey {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for IdKey {}

impl Hash for IdKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // the same as hashing the slice, so that lookups by `&[u8]` find the key
        self.as_slice().hash(state);
    }
}

impl Borrow<[u8]> for IdKey {
    fn borrow(&self) -> &[u8] {
        self.as_slice()
    }
}

impl std::fmt::Debug for IdKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_slice()))
    }
}

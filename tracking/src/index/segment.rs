//! One index segment: an immutable file holding a run of printed entries.
//!
//! ```text
//! "PMGFTIX1"                                 magic
//! block frames                               per block of up to BLOCK entries, two zstd
//!                                            frames: the entries without their lines' text
//!                                            (each entry's encoded length and text length
//!                                            as varints, then the entries, codec.rs), then
//!                                            the lines' text
//! block table      nblocks × 48 bytes        offset, compressed len, plain len, count,
//!                                            first entry, min/max first time, text frame's
//!                                            compressed and plain len
//! gram bitmaps     BUCKETS × wpb × 8 bytes   grams.rs
//! links            n × 8 bytes               (hash of a queue/filter id, entry) sorted
//! dictionaries     from, to, client          dict.rs, each prefixed by its length
//! footer           FOOTER bytes              offsets, counts, time range, "PMGFTEND"
//! ```
//!
//! A segment is written to a temporary name and renamed into place when complete, so readers
//! never see half a segment.
//!
//! Entries arrive in the order they complete, which is not the order of their first times: a
//! deferred mail completes hours after it arrived. So that each block covers a short span of
//! first times (a time-range query then reads only the blocks of its range, and a limited query
//! can stop early), the writer keeps entries that are in step with the newest first time seen
//! in one pending block, and the stragglers in pending blocks per hour of their first time.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use super::codec::{decode_entry, encode_entry, put_varint, LineMode, Reader};
use super::dict::{Dict, DictBuilder};
use super::grams::{BlockGrams, Sliced, BUCKETS};
use crate::error::Error;
use crate::model::{Entry, EntryId};

const MAGIC: &[u8; 8] = b"PMGFTIX2";
const END_MAGIC: &[u8; 8] = b"PMGFTEN2";
/// The end marker of the first format (one frame per block).
const END_MAGIC_V1: &[u8; 8] = b"PMGFTEND";
/// Entries per block.
pub const BLOCK: usize = 256;
const TABLE_ROW: usize = 48;
const FOOTER: usize = 8 * 15;
/// An entry whose first time is more than this before the newest first time seen is a straggler.
const IN_STEP: i64 = 300;
/// Stragglers are grouped by the hour of their first time; at most this many groups wait.
const STRAGGLER_GROUPS: usize = 48;

/// A 32-bit hash of an id (FNV-1a over the lower-cased bytes).
pub fn id_hash(id: &[u8]) -> u32 {
    let mut h: u32 = 0x811C_9DC5;
    for &b in id {
        h ^= u32::from(b.to_ascii_lowercase());
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// A segment's link table as stored: 8-byte records (hash of an id, entry), little-endian,
/// sorted; searched in place in the mapped file (a lookup touches a few pages of it).
pub struct LinkTable {
    map: memmap2::Mmap,
    off: usize,
    len: usize,
}

impl LinkTable {
    fn record(&self, i: usize) -> (u32, u32) {
        let at = self.off + i * 8;
        let r = &self.map[at..at + 8];
        let word = |b: &[u8]| u32::from_le_bytes(b.try_into().unwrap_or([0; 4]));
        (word(&r[..4]), word(&r[4..]))
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The entries linked to ids whose hash is `h`.
    pub fn entries_of(&self, h: u32) -> impl Iterator<Item = u32> + '_ {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.record(mid).0 < h {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        (lo..self.len())
            .map(|i| self.record(i))
            .take_while(move |&(k, _)| k == h)
            .map(|(_, e)| e)
    }
}

/// Summary of a block.
#[derive(Debug, Clone, Copy, Default)]
pub struct BlockMeta {
    pub offset: u64,
    pub clen: u32,
    pub ulen: u32,
    pub count: u32,
    pub first: u32,
    pub min_t: i64,
    pub max_t: i64,
    /// The text frame (right after the entries' frame): compressed and plain length.
    pub tclen: u32,
    pub tulen: u32,
}

/// Writes a segment, entry by entry.
pub struct SegmentWriter {
    tmp: PathBuf,
    path: PathBuf,
    out: BufWriter<File>,
    pos: u64,
    block: Vec<u8>,
    texts: Vec<u8>,
    /// Encoded length and text length of each entry in the block.
    sizes: Vec<(usize, usize)>,
    block_meta: BlockMeta,
    grams: BlockGrams,
    all_grams: Vec<BlockGrams>,
    table: Vec<BlockMeta>,
    links: Vec<(u32, u32)>,
    from: DictBuilder,
    to: DictBuilder,
    client: DictBuilder,
    entries: u32,
    added: u32,
    newest: i64,
    in_step: Vec<Entry>,
    stragglers: BTreeMap<i64, Vec<Entry>>,
    min_t: i64,
    max_t: i64,
    level: i32,
}

impl SegmentWriter {
    /// Starts the segment that will be at `path`.
    pub fn create(path: &Path) -> Result<SegmentWriter, Error> {
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let file = File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        out.write_all(MAGIC).map_err(|e| Error::io(&tmp, e))?;
        Ok(SegmentWriter {
            tmp,
            path: path.to_path_buf(),
            out,
            pos: MAGIC.len() as u64,
            block: Vec::with_capacity(1 << 16),
            texts: Vec::with_capacity(1 << 20),
            sizes: Vec::with_capacity(BLOCK),
            block_meta: fresh_meta(0),
            grams: BlockGrams::default(),
            all_grams: Vec::new(),
            table: Vec::new(),
            links: Vec::new(),
            from: DictBuilder::default(),
            to: DictBuilder::default(),
            client: DictBuilder::default(),
            entries: 0,
            added: 0,
            newest: i64::MIN,
            in_step: Vec::with_capacity(BLOCK),
            stragglers: BTreeMap::new(),
            min_t: i64::MAX,
            max_t: i64::MIN,
            level: 3,
        })
    }

    /// Entries added so far.
    pub fn len(&self) -> u32 {
        self.added
    }

    pub fn is_empty(&self) -> bool {
        self.added == 0
    }

    /// Adds one entry (written when its block fills, or at [`finish`](Self::finish)).
    pub fn add(&mut self, e: Entry) -> Result<(), Error> {
        self.added += 1;
        self.newest = self.newest.max(e.first_time);
        if e.first_time >= self.newest.saturating_sub(IN_STEP) {
            self.in_step.push(e);
            if self.in_step.len() >= BLOCK {
                let block = std::mem::take(&mut self.in_step);
                self.write_block(&block)?;
            }
            return Ok(());
        }
        let hour = e.first_time.div_euclid(3600);
        let group = self.stragglers.entry(hour).or_default();
        group.push(e);
        if group.len() >= BLOCK {
            if let Some(block) = self.stragglers.remove(&hour) {
                self.write_block(&block)?;
            }
        }
        if self.stragglers.len() > STRAGGLER_GROUPS {
            if let Some((_, block)) = self.stragglers.pop_first() {
                self.write_block(&block)?;
            }
        }
        Ok(())
    }

    /// Writes `entries` as one block.
    fn write_block(&mut self, entries: &[Entry]) -> Result<(), Error> {
        for e in entries {
            self.write_entry(e);
        }
        self.flush_block()
    }

    fn write_entry(&mut self, e: &Entry) {
        let id = self.entries;
        let (b0, t0) = (self.block.len(), self.texts.len());
        encode_entry(&mut self.block, &mut self.texts, e);
        self.sizes
            .push((self.block.len() - b0, self.texts.len() - t0));
        for s in &e.sections {
            for l in &s.lines {
                self.grams.add(&l.text);
            }
        }
        if let EntryId::Queue(q) = &e.id {
            self.links.push((id_hash(q), id));
        }
        if !e.filter_id.is_empty() {
            self.links.push((id_hash(&e.filter_id), id));
        }
        for r in &e.rows {
            self.from.add(&r.from, id);
            self.to.add(&r.to, id);
            if r.status.passes_on() {
                if let Some(relay) = &r.relay {
                    self.links.push((id_hash(relay), id));
                }
            }
        }
        self.client.add(&e.client, id);
        if e.origin != e.client {
            self.client.add(&e.origin, id);
        }
        let m = &mut self.block_meta;
        m.count += 1;
        m.min_t = m.min_t.min(e.first_time);
        m.max_t = m.max_t.max(e.first_time);
        self.min_t = self.min_t.min(e.first_time);
        self.max_t = self.max_t.max(e.first_time);
        self.entries += 1;
    }

    fn flush_block(&mut self) -> Result<(), Error> {
        if self.block_meta.count == 0 {
            return Ok(());
        }
        let io = |e| Error::io(&self.tmp, e);
        let mut head = Vec::with_capacity(self.block.len() + 4 * self.sizes.len());
        for &(n, t) in &self.sizes {
            put_varint(&mut head, n as u64);
            put_varint(&mut head, t as u64);
        }
        head.extend_from_slice(&self.block);
        let frame = zstd::bulk::compress(&head, self.level).map_err(io)?;
        let tframe = zstd::bulk::compress(&self.texts, self.level).map_err(io)?;
        self.out.write_all(&frame).map_err(io)?;
        self.out.write_all(&tframe).map_err(io)?;
        let mut meta = self.block_meta;
        meta.offset = self.pos;
        meta.clen = frame.len() as u32;
        meta.ulen = head.len() as u32;
        meta.tclen = tframe.len() as u32;
        meta.tulen = self.texts.len() as u32;
        self.pos += (frame.len() + tframe.len()) as u64;
        self.table.push(meta);
        self.all_grams.push(self.grams.clone());
        self.grams.clear();
        self.block.clear();
        self.texts.clear();
        self.sizes.clear();
        self.block_meta = fresh_meta(self.entries);
        Ok(())
    }

    /// Writes the tables and footer and puts the segment in place.
    pub fn finish(mut self) -> Result<PathBuf, Error> {
        let mut rest: Vec<Vec<Entry>> =
            std::mem::take(&mut self.stragglers).into_values().collect();
        rest.push(std::mem::take(&mut self.in_step));
        for block in rest {
            self.write_block(&block)?;
        }
        let tmp = self.tmp.clone();
        let io = |e| Error::io(&tmp, e);
        let table_off = self.pos;
        let mut buf = Vec::with_capacity(self.table.len() * TABLE_ROW);
        for m in &self.table {
            buf.extend_from_slice(&m.offset.to_le_bytes());
            buf.extend_from_slice(&m.clen.to_le_bytes());
            buf.extend_from_slice(&m.ulen.to_le_bytes());
            buf.extend_from_slice(&m.count.to_le_bytes());
            buf.extend_from_slice(&m.first.to_le_bytes());
            buf.extend_from_slice(&m.min_t.to_le_bytes());
            buf.extend_from_slice(&m.max_t.to_le_bytes());
            buf.extend_from_slice(&m.tclen.to_le_bytes());
            buf.extend_from_slice(&m.tulen.to_le_bytes());
        }
        self.out.write_all(&buf).map_err(io)?;
        self.pos += buf.len() as u64;

        let sliced = Sliced::build(&self.all_grams);
        let grams_off = self.pos;
        let wpb = sliced.words_per_bucket() as u64;
        let g = sliced.to_bytes();
        self.out.write_all(&g).map_err(io)?;
        self.pos += g.len() as u64;

        self.links.sort_unstable();
        let links_off = self.pos;
        let mut lb = Vec::with_capacity(self.links.len() * 8);
        for (h, id) in &self.links {
            lb.extend_from_slice(&h.to_le_bytes());
            lb.extend_from_slice(&id.to_le_bytes());
        }
        self.out.write_all(&lb).map_err(io)?;
        self.pos += lb.len() as u64;

        let mut dict_offs = [0u64; 3];
        let mut dict_lens = [0u64; 3];
        let dicts = [
            std::mem::take(&mut self.from).finish(),
            std::mem::take(&mut self.to).finish(),
            std::mem::take(&mut self.client).finish(),
        ];
        for (i, d) in dicts.iter().enumerate() {
            dict_offs[i] = self.pos;
            dict_lens[i] = d.len() as u64;
            self.out.write_all(d).map_err(io)?;
            self.pos += d.len() as u64;
        }
        let mut footer = Vec::with_capacity(FOOTER);
        for v in [
            self.table.len() as u64,
            u64::from(self.entries),
            table_off,
            grams_off,
            wpb,
            links_off,
            self.links.len() as u64,
            dict_offs[0],
            dict_offs[1],
            dict_offs[2],
            dict_lens[0] + (dict_lens[1] << 32),
            dict_lens[2],
        ] {
            footer.extend_from_slice(&v.to_le_bytes());
        }
        footer.extend_from_slice(&self.min_t.to_le_bytes());
        footer.extend_from_slice(&self.max_t.to_le_bytes());
        footer.extend_from_slice(END_MAGIC);
        self.out.write_all(&footer).map_err(io)?;
        let file = self.out.into_inner().map_err(|e| io(e.into_error()))?;
        file.sync_all().map_err(io)?;
        std::fs::rename(&tmp, &self.path).map_err(|e| Error::io(&self.path, e))?;
        Ok(self.path)
    }
}

fn fresh_meta(first: u32) -> BlockMeta {
    BlockMeta {
        first,
        min_t: i64::MAX,
        max_t: i64::MIN,
        ..BlockMeta::default()
    }
}

/// A segment opened for queries.
pub struct Segment {
    path: PathBuf,
    file: File,
    pub blocks: Vec<BlockMeta>,
    pub entries: u32,
    pub min_t: i64,
    pub max_t: i64,
    grams_off: u64,
    wpb: u64,
    links_off: u64,
    nlinks: u64,
    dicts: [(u64, u64); 3],
    /// Size of the file in bytes.
    pub bytes: u64,
}

/// Which dictionary.
#[derive(Debug, Clone, Copy)]
pub enum Field {
    From = 0,
    To = 1,
    Client = 2,
}

impl Segment {
    /// Opens a segment and reads its block table.
    pub fn open(path: &Path) -> Result<Segment, Error> {
        let bad = |why: &str| Error::bad_index(path, why);
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
        if len < (MAGIC.len() + FOOTER) as u64 {
            return Err(bad("too short"));
        }
        let mut footer = vec![0u8; FOOTER];
        file.read_exact_at(&mut footer, len - FOOTER as u64)
            .map_err(|e| Error::io(path, e))?;
        if &footer[FOOTER - 8..] == END_MAGIC_V1 {
            return Err(bad(
                "an older index format (remove the index directory to rebuild it)",
            ));
        }
        if &footer[FOOTER - 8..] != END_MAGIC {
            return Err(bad("no end marker"));
        }
        let mut r = Reader::new(&footer);
        let mut next = || r.u64_le().ok_or_else(|| bad("short footer"));
        let nblocks = next()?;
        let entries = next()?;
        let table_off = next()?;
        let grams_off = next()?;
        let wpb = next()?;
        let links_off = next()?;
        let nlinks = next()?;
        let d0 = next()?;
        let d1 = next()?;
        let d2 = next()?;
        let l01 = next()?;
        let l2 = next()?;
        let min_t = next()? as i64;
        let max_t = next()? as i64;
        let table_len = nblocks
            .checked_mul(TABLE_ROW as u64)
            .filter(|n| table_off.checked_add(*n).is_some_and(|end| end <= len))
            .ok_or_else(|| bad("block table out of range"))?;
        let mut table = vec![0u8; table_len as usize];
        file.read_exact_at(&mut table, table_off)
            .map_err(|e| Error::io(path, e))?;
        let mut blocks = Vec::with_capacity(nblocks as usize);
        for row in table.chunks_exact(TABLE_ROW) {
            let u32_at = |i: usize| u32::from_le_bytes(row[i..i + 4].try_into().unwrap_or([0; 4]));
            let i64_at = |i: usize| i64::from_le_bytes(row[i..i + 8].try_into().unwrap_or([0; 8]));
            blocks.push(BlockMeta {
                offset: i64_at(0) as u64,
                clen: u32_at(8),
                ulen: u32_at(12),
                count: u32_at(16),
                first: u32_at(20),
                min_t: i64_at(24),
                max_t: i64_at(32),
                tclen: u32_at(40),
                tulen: u32_at(44),
            });
        }
        let dicts = [(d0, l01 & 0xFFFF_FFFF), (d1, l01 >> 32), (d2, l2)];
        for (off, n) in dicts {
            if off.checked_add(n).is_none_or(|end| end > len) {
                return Err(bad("dictionary out of range"));
            }
        }
        if wpb != nblocks.div_ceil(64).max(1)
            || grams_off
                .checked_add(BUCKETS as u64 * wpb * 8)
                .is_none_or(|end| end > len)
            || links_off
                .checked_add(nlinks.saturating_mul(8))
                .is_none_or(|end| end > len)
        {
            return Err(bad("tables out of range"));
        }
        Ok(Segment {
            path: path.to_path_buf(),
            file,
            blocks,
            entries: u32::try_from(entries).map_err(|_| bad("entry count"))?,
            min_t,
            max_t,
            grams_off,
            wpb,
            links_off,
            nlinks,
            dicts,
            bytes: len,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads `len` bytes at `off` into `buf` (reusing its memory).
    fn read_into(&self, off: u64, len: usize, buf: &mut Vec<u8>) -> Result<(), Error> {
        buf.clear();
        buf.resize(len, 0);
        self.file
            .read_exact_at(buf, off)
            .map_err(|e| Error::io(&self.path, e))
    }

    fn read_at(&self, off: u64, len: usize) -> Result<Vec<u8>, Error> {
        let mut buf = vec![0u8; len];
        self.file
            .read_exact_at(&mut buf, off)
            .map_err(|e| Error::io(&self.path, e))?;
        Ok(buf)
    }

    /// Blocks that may hold a string whose 4-gram buckets are `buckets`, as a bitmap over
    /// blocks (all ones when there are no buckets).
    pub fn gram_blocks(&self, buckets: &[usize]) -> Result<Vec<u64>, Error> {
        let wpb = self.wpb as usize;
        let mut acc = vec![u64::MAX; wpb];
        for &k in buckets {
            let raw = self.read_at(self.grams_off + (k * wpb * 8) as u64, wpb * 8)?;
            for (a, c) in acc.iter_mut().zip(raw.chunks_exact(8)) {
                *a &= u64::from_le_bytes(c.try_into().unwrap_or([0; 8]));
            }
            if acc.iter().all(|&w| w == 0) {
                break;
            }
        }
        Ok(acc)
    }

    /// Entries whose dictionary term for `field` contains the needle.
    pub fn dict_ids(&self, field: Field, needle: &crate::find::Finder) -> Result<Vec<u32>, Error> {
        let (off, len) = self.dicts[field as usize];
        let raw = self.read_at(off, len as usize)?;
        let dict = Dict::parse(&raw).ok_or_else(|| Error::bad_index(&self.path, "dictionary"))?;
        Ok(dict.containing(needle))
    }

    /// The link table: (hash of an id, entry) sorted; the id is an entry's own queue id, its
    /// filter id, or the relay of an accepted row.
    pub fn links(&self) -> Result<LinkTable, Error> {
        // SAFETY: a segment file is complete and never written again once it has its name
        // (written under a temporary name, then renamed), so the mapping cannot change or shrink.
        let map =
            unsafe { memmap2::Mmap::map(&self.file) }.map_err(|e| Error::io(&self.path, e))?;
        let off = usize::try_from(self.links_off).unwrap_or(usize::MAX);
        let len = self.nlinks as usize;
        if off
            .checked_add(len.saturating_mul(8))
            .is_none_or(|end| end > map.len())
        {
            return Err(Error::bad_index(&self.path, "link table past the end"));
        }
        Ok(LinkTable { map, off, len })
    }

    /// The block holding entry `id`.
    pub fn block_of(&self, id: u32) -> Option<usize> {
        let i = self.blocks.partition_point(|b| b.first <= id);
        i.checked_sub(1)
            .filter(|&b| id < self.blocks[b].first + self.blocks[b].count)
    }

    /// Decodes the entries of block `b` (their lines as `mode` says).
    pub fn read_block(&self, b: usize, mode: LineMode) -> Result<Vec<Entry>, Error> {
        let raw = self.raw_block(b, mode)?;
        (0..raw.len())
            .map(|i| raw.entry(i).ok_or_else(|| self.bad_block(b)))
            .collect()
    }

    fn bad_block(&self, b: usize) -> Error {
        Error::bad_index(&self.path, format!("block {b}"))
    }

    /// Inflates block `b` (the text frame only for [`LineMode::Full`]); its entries are decoded
    /// one by one on demand.
    pub fn raw_block(&self, b: usize, mode: LineMode) -> Result<RawBlock, Error> {
        self.raw_block_into(b, mode, Vec::new())
    }

    /// [`Segment::raw_block`] inflating into `spare` (a buffer of a block no longer used): a
    /// search reads hundreds of blocks, and allocating and freeing a large buffer for each
    /// makes the allocator sweep its free lists every time.
    pub fn raw_block_into(
        &self,
        b: usize,
        mode: LineMode,
        mut spare: Vec<u8>,
    ) -> Result<RawBlock, Error> {
        let m = *self.blocks.get(b).ok_or_else(|| self.bad_block(b))?;
        let head = FRAME.with(|cell| {
            let mut frame = cell.borrow_mut();
            self.read_into(m.offset, m.clen as usize, &mut frame)?;
            inflate_into(&frame, m.ulen as usize, &mut spare).ok_or_else(|| self.bad_block(b))?;
            Ok::<_, Error>(spare)
        })?;
        let texts = if mode == LineMode::Full {
            let tframe = self.read_at(m.offset + u64::from(m.clen), m.tclen as usize)?;
            inflate(&tframe, m.tulen as usize).ok_or_else(|| self.bad_block(b))?
        } else {
            Vec::new()
        };
        let mut sizes = Vec::with_capacity(m.count as usize);
        let mut r = Reader::new(&head);
        for _ in 0..m.count {
            let n = r.varint().and_then(|n| usize::try_from(n).ok());
            let t = r.varint().and_then(|t| usize::try_from(t).ok());
            sizes.push(n.zip(t).ok_or_else(|| self.bad_block(b))?);
        }
        let mut offs = Vec::with_capacity(sizes.len());
        let (mut at, mut text_at) = (r.pos(), 0usize);
        for (n, t) in sizes {
            offs.push((at, text_at));
            at = at.checked_add(n).ok_or_else(|| self.bad_block(b))?;
            text_at = text_at.checked_add(t).ok_or_else(|| self.bad_block(b))?;
        }
        if at > head.len() || (mode == LineMode::Full && text_at > texts.len()) {
            return Err(self.bad_block(b));
        }
        Ok(RawBlock {
            head,
            texts,
            offs,
            mode,
        })
    }
}

/// An inflated block whose entries are decoded on demand.
pub struct RawBlock {
    head: Vec<u8>,
    texts: Vec<u8>,
    /// Where each entry starts in `head` and its lines' text in `texts`.
    offs: Vec<(usize, usize)>,
    mode: LineMode,
}

impl RawBlock {
    /// The block's inflated buffer, to inflate another block into.
    pub fn into_buffer(self) -> Vec<u8> {
        self.head
    }

    pub fn len(&self) -> usize {
        self.offs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.offs.is_empty()
    }

    /// Decodes entry `i` of the block (`None` past the end or if damaged).
    pub fn entry(&self, i: usize) -> Option<Entry> {
        let &(at, text_at) = self.offs.get(i)?;
        let mut r = Reader::new(self.head.get(at..)?);
        let mut t = Reader::new(self.texts.get(text_at..).unwrap_or_default());
        decode_entry(&mut r, Some(&mut t), self.mode)
    }
}

thread_local! {
    /// The compressed frame being inflated (one buffer per thread, reused).
    static FRAME: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    static INFLATER: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>> =
        const { std::cell::RefCell::new(None) };
}

/// Inflates a zstd frame of `len` plain bytes into `out` (replacing its contents).
fn inflate_into(frame: &[u8], len: usize, out: &mut Vec<u8>) -> Option<()> {
    out.clear();
    out.reserve(len);
    INFLATER.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = zstd::bulk::Decompressor::new().ok();
        }
        let d = slot.as_mut()?;
        let n = d.decompress_to_buffer(frame, out).ok()?;
        (n == len && out.len() == len).then_some(())
    })
}

/// Inflates a zstd frame of `len` plain bytes, with one decompression context per thread.
fn inflate(frame: &[u8], len: usize) -> Option<Vec<u8>> {
    INFLATER.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = zstd::bulk::Decompressor::new().ok();
        }
        let d = slot.as_mut()?;
        let out = d.decompress(frame, len).ok()?;
        (out.len() == len).then_some(out)
    })
}

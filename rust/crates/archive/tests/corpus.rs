//! The ClamAV test archives of the shared corpus (XOR-obfuscated on disk, decoded in memory):
//! every container format lists ClamAV's `clam.exe` test program with its types.
use std::path::PathBuf;

use pmgfast_archive::{list, BuiltinClassifier, Format, Limits, Listing, UNREADABLE};

const KEY: &[u8] = b"bhcftqarohcdiayfohalohkgmoefxrrgfnczssgybajvkzjaahpfrlqsratkhhfvpxytculmwgmtyzujlbjlgrhtwxhzpjazlibbwepffyjyfkjwzyofgpopoueurinpdujkphxwhnaxfkaiwrpzdqsnwughtejr";

fn corpus_file(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../../shared/corpus/av/clamav")
        .join(format!("{name}.xor"));
    let raw = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    raw.iter()
        .enumerate()
        .map(|(i, b)| b ^ KEY[i % KEY.len()])
        .collect()
}

fn listing(name: &str) -> Listing {
    list(
        &corpus_file(name),
        name,
        &BuiltinClassifier,
        &Limits::default(),
    )
}

#[test]
fn every_container_lists_clam_exe() {
    for (name, format) in [
        ("clam.zip", Format::Zip),
        ("clam.bz2.zip", Format::Zip),
        ("clam.d64.zip", Format::Zip),
        ("clam.tar.gz", Format::Gzip),
        ("clam.7z", Format::SevenZ),
        ("clam.newc.cpio", Format::Cpio),
        ("clam.odc.cpio", Format::Cpio),
        ("clam.bin-le.cpio", Format::Cpio),
        ("clam.bin-be.cpio", Format::Cpio),
        ("clam.exe.bz2", Format::Bzip2),
        ("clam-v2.rar", Format::Rar),
        ("clam-v3.rar", Format::Rar),
    ] {
        let l = listing(name);
        assert_eq!(l.format, Some(format), "{name}");
        assert!(l.filenames().contains("clam.exe"), "{name}: {l:?}");
        assert!(
            l.types().contains("application/x-msdownload"),
            "{name}: {l:?}"
        );
        assert!(!l.unreadable, "{name}: {l:?}");
    }
}

#[test]
fn stored_and_compressed_members_have_the_magic_type_when_readable() {
    let l = listing("clam.zip");
    let exe = l.members.iter().find(|m| m.basename == "clam.exe").unwrap();
    assert_eq!(exe.magic.as_deref(), Some("application/x-msdownload"));
    assert_eq!(exe.size, 544);
}

#[test]
fn implode_is_unreadable() {
    // The zip crate refuses the whole archive for an unsupported method (implode).
    let l = listing("clam.impl.zip");
    assert!(l.types().contains(UNREADABLE), "{l:?}");
    assert!(l.errors[0].contains("not supported"), "{l:?}");
}

#[test]
fn non_archives_list_nothing() {
    for name in ["clam.exe", "clam.pdf", "clam.cab"] {
        let l = listing(name);
        assert_eq!(
            (l.format, l.members.len(), l.unreadable),
            (None, 0, false),
            "{name}"
        );
    }
}

#[test]
fn nested_archives_are_listed_to_the_depth_limit() {
    let l = listing("clam_cache_emax.tgz");
    let depths: Vec<u32> = l.members.iter().map(|m| m.depth).collect();
    assert!(depths.contains(&5), "{l:?}");
    let shallow = list(
        &corpus_file("clam_cache_emax.tgz"),
        "clam_cache_emax.tgz",
        &BuiltinClassifier,
        &Limits {
            max_depth: 2,
            ..Limits::default()
        },
    );
    assert!(
        shallow.unreadable && shallow.members.iter().all(|m| m.depth <= 2),
        "{shallow:?}"
    );
}

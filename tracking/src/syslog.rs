//! One syslog line: `<stamp> <host> <service>[<pid>]: <message>`, and which daemon wrote it.
//!
//! Two dialects read the header. [`Dialect::Pmg`] is pmg-log-tracker's rule (the service is a
//! run of letters, `/` and `-`, so `postfix/10025/smtpd` is no service at all). pmgfast's own
//! [`Dialect::Pmgfast`] takes everything up to `[` and maps multi-instance Postfix names
//! (`postfix-out/smtp`, `postfix/submission/smtpd`) to the daemon they run.

/// Which reading rules apply (see the module docs and `FORMAT.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Exactly what pmg-log-tracker 3.1 understands (plus pmgfast's milter lines).
    Pmg,
    /// pmgfast's reading: the PMG rules plus the extensions listed in `FORMAT.md`.
    Pmgfast,
}

/// The daemon a line comes from, as far as tracking cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// `pmg-smtp-filter` or pmgfast's milter (`pmgfast-milter`).
    Filter,
    Postscreen,
    Smtpd,
    Cleanup,
    Qmgr,
    /// A delivery agent: `lmtp`, `smtp`, `local`, `error` (and, in pmgfast's dialect, `pipe`,
    /// `virtual`, `discard`, `retry`). `lmtp` is told apart because it links to the filter.
    Delivery {
        lmtp: bool,
    },
    /// `bounce` (pmgfast's dialect: its lines join the mail they report on).
    Bounce,
    /// Anything else: the line is not used.
    Other,
}

/// The syslog ident of pmgfast's milter.
pub const MILTER_IDENT: &[u8] = b"pmgfast-milter";

/// The header fields of a line after its stamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header<'a> {
    pub host: &'a [u8],
    pub service: Service,
    pub pid: u64,
    /// The message after `]: `.
    pub msg: &'a [u8],
}

/// Reads `host service[pid]: msg`; None when the line has no such header.
pub fn read_header(rest: &[u8], dialect: Dialect) -> Option<Header<'_>> {
    let host_len = rest.iter().position(|b| b.is_ascii_whitespace())?;
    let host = &rest[..host_len];
    let data = &rest[host_len + 1..];
    let name_len = match dialect {
        Dialect::Pmg => data
            .iter()
            .take_while(|&&b| b.is_ascii_alphabetic() || b == b'/' || b == b'-')
            .count(),
        Dialect::Pmgfast => data
            .iter()
            .take_while(|&&b| b != b'[' && !b.is_ascii_whitespace())
            .count(),
    };
    let name = &data[..name_len];
    let data = data[name_len..].strip_prefix(b"[")?;
    let digits = data.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return None;
    }
    let mut pid: u64 = 0;
    for &b in &data[..digits] {
        pid = pid.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    let msg = data[digits..].strip_prefix(b"]: ")?;
    Some(Header {
        host,
        service: classify(name, dialect),
        pid,
        msg,
    })
}

/// The service of a syslog ident.
pub fn classify(name: &[u8], dialect: Dialect) -> Service {
    if name == b"pmg-smtp-filter" || name == MILTER_IDENT {
        return Service::Filter;
    }
    let daemon = match dialect {
        Dialect::Pmg => match name.strip_prefix(b"postfix/") {
            Some(d) => d,
            None => return Service::Other,
        },
        Dialect::Pmgfast => {
            // postfix/smtpd, postfix-out/smtp, postfix/submission/smtpd, postfix/10025/smtpd
            if !name.starts_with(b"postfix") {
                return Service::Other;
            }
            match name.iter().rposition(|&b| b == b'/') {
                Some(i) => &name[i + 1..],
                None => return Service::Other,
            }
        }
    };
    match daemon {
        b"postscreen" => Service::Postscreen,
        b"smtpd" => Service::Smtpd,
        b"cleanup" => Service::Cleanup,
        b"qmgr" => Service::Qmgr,
        b"lmtp" => Service::Delivery { lmtp: true },
        b"smtp" | b"local" | b"error" => Service::Delivery { lmtp: false },
        b"pipe" | b"virtual" | b"discard" | b"retry" if dialect == Dialect::Pmgfast => {
            Service::Delivery { lmtp: false }
        }
        b"bounce" if dialect == Dialect::Pmgfast => Service::Bounce,
        _ => Service::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pmg_header() {
        let h = read_header(b"pmg postfix/smtpd[21842]: connect from x", Dialect::Pmg).unwrap();
        assert_eq!(h.host, b"pmg");
        assert_eq!(h.service, Service::Smtpd);
        assert_eq!(h.pid, 21842);
        assert_eq!(h.msg, b"connect from x");
        assert!(read_header(b"pmg something[12345]: x", Dialect::Pmg).is_some());
        assert!(read_header(b"pmg kernel: x", Dialect::Pmg).is_none());
        assert!(read_header(b"hostonly", Dialect::Pmg).is_none());
        assert!(read_header(b"h postfix/smtpd[]: x", Dialect::Pmg).is_none());
        assert!(
            read_header(b"h postfix/smtpd[99999999999999999999999]: x", Dialect::Pmg).is_none()
        );
    }

    #[test]
    fn multi_instance_names() {
        let h = read_header(b"helga postfix/10025/smtpd[1]: x", Dialect::Pmgfast).unwrap();
        assert_eq!(h.service, Service::Smtpd);
        assert!(read_header(b"helga postfix/10025/smtpd[1]: x", Dialect::Pmg).is_none());
        assert_eq!(
            classify(b"postfix/submission/smtpd", Dialect::Pmg),
            Service::Other
        );
        assert_eq!(
            classify(b"postfix-out/smtp", Dialect::Pmgfast),
            Service::Delivery { lmtp: false }
        );
        assert_eq!(classify(b"pmgfast-milter", Dialect::Pmg), Service::Filter);
    }
}

//! The ZIP format of streamed archives, without any I/O: the bytes around each file's data,
//! the archive's exact length before the first byte, and nginx mod_zip's manifest.
//!
//! An archive is written in one pass, in the order of its entries:
//!
//! ```text
//! [local header, file data, data descriptor] per entry
//! central directory (one record per entry)
//! [ZIP64 end of central directory record and locator, when needed]
//! end of central directory record
//! ```
//!
//! Every entry is STORED (no compression: the files are usually compressed already, and the
//! length must be known before the first byte). Its CRC-32 is computed while its data streams
//! and written after the data, in a data descriptor (general purpose flag bit 3), so each
//! file is read once. Names are UTF-8 (flag bit 11). ZIP64 is used only where it is needed:
//! per entry for a file of 4 GiB or more (then its local header carries a ZIP64 field and its
//! descriptor 8-byte sizes) or one that starts after 4 GiB, and for the archive when it has
//! 65,535 entries or more or its central directory starts or ends after 4 GiB.
//!
//! ```
//! use sendfile_core::zip::{self, Entry};
//!
//! let data = b"hello";
//! let entry = Entry { name: "greeting.txt", size: 5, modified: None };
//! let mut archive = Vec::new();
//! zip::local_header(&mut archive, &entry);
//! archive.extend_from_slice(data);
//! let crc = zip::crc32(data);
//! zip::data_descriptor(&mut archive, &entry, crc);
//! let directory_start = archive.len() as u64;
//! zip::central_record(&mut archive, &entry, crc, 0);
//! let directory_len = archive.len() as u64 - directory_start;
//! zip::end_records(&mut archive, 1, directory_start, directory_len);
//! assert_eq!(archive.len() as u64, zip::archive_len([(entry.name.len(), entry.size)]).unwrap());
//! assert_eq!(&archive[..4], b"PK\x03\x04");
//! ```

use std::time::{SystemTime, UNIX_EPOCH};

/// One file of an archive, as its headers describe it.
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    /// The name in the archive: a relative path with `/` separators, checked by
    /// [`check_name`].
    pub name: &'a str,
    /// The size of the data in bytes.
    pub size: u64,
    /// The modification time (the archive stores it to the even second, as UTC; none: 1980).
    pub modified: Option<SystemTime>,
}

const LOCAL_SIG: u32 = 0x0403_4b50;
const DESCRIPTOR_SIG: u32 = 0x0807_4b50;
const CENTRAL_SIG: u32 = 0x0201_4b50;
const END_SIG: u32 = 0x0605_4b50;
const END64_SIG: u32 = 0x0606_4b50;
const LOCATOR64_SIG: u32 = 0x0706_4b50;

/// Bit 3 (sizes and CRC in a data descriptor) and bit 11 (UTF-8 names).
const FLAGS: u16 = (1 << 3) | (1 << 11);
/// 2.0: stored files; 4.5: ZIP64.
const VERSION: u16 = 20;
const VERSION64: u16 = 45;
/// "Made by" Unix, so that the external attributes are Unix modes.
const MADE_BY_UNIX: u16 = 3 << 8;
/// A regular file, `rw-r--r--`.
const UNIX_MODE: u32 = 0o100_644;
const MAX32: u64 = 0xFFFF_FFFF;
const MAX16: u64 = 0xFFFF;

const LOCAL_FIXED: u64 = 30;
const CENTRAL_FIXED: u64 = 46;
const END_LEN: u64 = 22;
const END64_LEN: u64 = 56;
const LOCATOR64_LEN: u64 = 20;
/// The ZIP64 extended information field of a local header: tag, length, two sizes.
const LOCAL_ZIP64_EXTRA: u64 = 4 + 16;

/// The longest name a ZIP header can carry, in bytes.
pub const MAX_NAME_LEN: usize = 0xFFFF;

/// Whether an entry of `size` bytes needs ZIP64 sizes (in its local header, descriptor and
/// central record).
fn sizes_need_zip64(size: u64) -> bool {
    size >= MAX32
}

/// The length of an entry's local header.
fn local_header_len(name_len: usize, size: u64) -> u64 {
    LOCAL_FIXED
        + name_len as u64
        + if sizes_need_zip64(size) {
            LOCAL_ZIP64_EXTRA
        } else {
            0
        }
}

/// The length of an entry's data descriptor.
fn descriptor_len(size: u64) -> u64 {
    if sizes_need_zip64(size) { 24 } else { 16 }
}

/// The ZIP64 field of a central record: the values that do not fit 32 bits, in the order
/// the format fixes (size, compressed size, local header offset).
fn central_extra_len(size: u64, offset: u64) -> u64 {
    let mut fields = 0;
    if sizes_need_zip64(size) {
        fields += 2;
    }
    if offset >= MAX32 {
        fields += 1;
    }
    if fields == 0 { 0 } else { 4 + 8 * fields }
}

/// Whether the end of the archive needs the ZIP64 records.
fn end_needs_zip64(count: u64, directory_start: u64, directory_len: u64) -> bool {
    count >= MAX16 || directory_start >= MAX32 || directory_len >= MAX32
}

/// The exact length of the archive of entries with these `(name length, size)`, in order;
/// `None` when it does not fit in a `u64`.
///
/// ```
/// // An empty archive is its end record alone.
/// assert_eq!(sendfile_core::zip::archive_len([]), Some(22));
/// ```
pub fn archive_len(entries: impl IntoIterator<Item = (usize, u64)>) -> Option<u64> {
    let mut offset = 0u64;
    let mut directory = 0u64;
    let mut count = 0u64;
    for (name_len, size) in entries {
        let entry = local_header_len(name_len, size)
            .checked_add(size)?
            .checked_add(descriptor_len(size))?;
        directory = directory
            .checked_add(CENTRAL_FIXED + name_len as u64 + central_extra_len(size, offset))?;
        offset = offset.checked_add(entry)?;
        count += 1;
    }
    let end = if end_needs_zip64(count, offset, directory) {
        END64_LEN + LOCATOR64_LEN + END_LEN
    } else {
        END_LEN
    };
    offset.checked_add(directory)?.checked_add(end)
}

/// The length of everything an entry adds before the central directory: local header, data
/// and descriptor (where the next entry starts, from this one's start).
///
/// ```
/// assert_eq!(sendfile_core::zip::entry_len(3, 10), 30 + 3 + 10 + 16);
/// ```
pub fn entry_len(name_len: usize, size: u64) -> u64 {
    local_header_len(name_len, size) + size + descriptor_len(size)
}

/// The CRC-32 of `data` (for tests and small data; a stream updates a [`crc32fast::Hasher`]).
pub fn crc32(data: &[u8]) -> u32 {
    crc32fast::hash(data)
}

/// Checks a name for an archive entry: a relative path of `/`-separated components, none
/// empty, `.` or `..`, with no backslash (Windows extractors take it for a separator), no
/// control character, and at most [`MAX_NAME_LEN`] bytes. Extractors write entries where the
/// name says: a name that could climb out of the extraction directory (a "zip slip") or hide
/// in a terminal is refused. The error says why.
///
/// ```
/// use sendfile_core::zip::check_name;
///
/// assert!(check_name("reports/2024/q3 résumé.pdf").is_ok());
/// assert!(check_name("../etc/passwd").is_err());
/// assert!(check_name("/etc/passwd").is_err());
/// assert!(check_name("a\\b.txt").is_err());
/// ```
pub fn check_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("the name is empty");
    }
    if name.len() > MAX_NAME_LEN {
        return Err("the name is longer than 65,535 bytes");
    }
    if name.chars().any(char::is_control) {
        return Err("the name contains a control character");
    }
    if name.contains('\\') {
        return Err("the name contains a backslash, which Windows extractors take for a separator");
    }
    if name
        .split('/')
        .any(|c| c.is_empty() || c == "." || c == "..")
    {
        return Err(
            "the name is not a relative path of normal components (it starts with `/`, or has an empty, `.` or `..` component)",
        );
    }
    Ok(())
}

fn put16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// A value for a 32-bit field: itself, or the ZIP64 marker.
fn field32(v: u64) -> u32 {
    u32::try_from(v)
        .ok()
        .filter(|&v| u64::from(v) < MAX32)
        .unwrap_or(u32::MAX)
}

/// A count for a 16-bit field: itself, or the ZIP64 marker.
fn field16(v: u64) -> u16 {
    u16::try_from(v)
        .ok()
        .filter(|&v| u64::from(v) < MAX16)
        .unwrap_or(u16::MAX)
}

/// MS-DOS time and date (UTC), clamped to what they can hold (1980 to 2107).
fn dos_time(modified: Option<SystemTime>) -> (u16, u16) {
    const MIN: (u16, u16) = (0, (1 << 5) | 1);
    let Some(secs) = modified
        .and_then(|m| m.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_secs())
    else {
        return MIN;
    };
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    if year < 1980 {
        return MIN;
    }
    if year > 2107 {
        return (0xBF7D, 0xFF9F);
    }
    let time = ((rem / 3600) << 11) | (((rem % 3600) / 60) << 5) | ((rem % 60) / 2);
    let date = ((year - 1980) << 9) | (month << 5) | day;
    (time as u16, date as u16)
}

/// Year, month (1–12) and day (1–31) of a count of days since 1970-01-01 (H. Hinnant's
/// algorithm, for days after the epoch).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// Appends an entry's local header. With a data descriptor to follow, its CRC and sizes are
/// zero; an entry of 4 GiB or more carries a ZIP64 field (zero sizes as well), which tells
/// readers that its descriptor holds 8-byte sizes.
pub fn local_header(out: &mut Vec<u8>, entry: &Entry<'_>) {
    let zip64 = sizes_need_zip64(entry.size);
    let (time, date) = dos_time(entry.modified);
    put32(out, LOCAL_SIG);
    put16(out, if zip64 { VERSION64 } else { VERSION });
    put16(out, FLAGS);
    put16(out, 0); // stored
    put16(out, time);
    put16(out, date);
    put32(out, 0); // CRC-32: in the descriptor
    if zip64 {
        put32(out, u32::MAX);
        put32(out, u32::MAX);
    } else {
        put32(out, 0);
        put32(out, 0);
    }
    put16(out, entry.name.len() as u16);
    put16(out, if zip64 { LOCAL_ZIP64_EXTRA as u16 } else { 0 });
    out.extend_from_slice(entry.name.as_bytes());
    if zip64 {
        put16(out, 1);
        put16(out, 16);
        put64(out, 0);
        put64(out, 0);
    }
}

/// Appends the data descriptor that follows an entry's data.
pub fn data_descriptor(out: &mut Vec<u8>, entry: &Entry<'_>, crc: u32) {
    put32(out, DESCRIPTOR_SIG);
    put32(out, crc);
    if sizes_need_zip64(entry.size) {
        put64(out, entry.size);
        put64(out, entry.size);
    } else {
        put32(out, entry.size as u32);
        put32(out, entry.size as u32);
    }
}

/// Appends an entry's central directory record; `offset` is where its local header starts.
pub fn central_record(out: &mut Vec<u8>, entry: &Entry<'_>, crc: u32, offset: u64) {
    let (time, date) = dos_time(entry.modified);
    let extra = central_extra_len(entry.size, offset);
    let zip64 = extra > 0 || sizes_need_zip64(entry.size);
    let version = if zip64 { VERSION64 } else { VERSION };
    put32(out, CENTRAL_SIG);
    put16(out, MADE_BY_UNIX | version);
    put16(out, version);
    put16(out, FLAGS);
    put16(out, 0);
    put16(out, time);
    put16(out, date);
    put32(out, crc);
    put32(out, field32(entry.size));
    put32(out, field32(entry.size));
    put16(out, entry.name.len() as u16);
    put16(out, extra as u16);
    put16(out, 0); // comment
    put16(out, 0); // disk
    put16(out, 0); // internal attributes
    put32(out, UNIX_MODE << 16);
    put32(out, field32(offset));
    out.extend_from_slice(entry.name.as_bytes());
    if extra > 0 {
        put16(out, 1);
        put16(out, (extra - 4) as u16);
        if sizes_need_zip64(entry.size) {
            put64(out, entry.size);
            put64(out, entry.size);
        }
        if offset >= MAX32 {
            put64(out, offset);
        }
    }
}

/// Appends the end of the archive: the ZIP64 end record and locator when `count`, the
/// directory's start or its length need them, then the end of central directory record.
pub fn end_records(out: &mut Vec<u8>, count: u64, directory_start: u64, directory_len: u64) {
    if end_needs_zip64(count, directory_start, directory_len) {
        let end64_start = directory_start + directory_len;
        put32(out, END64_SIG);
        put64(out, END64_LEN - 12);
        put16(out, MADE_BY_UNIX | VERSION64);
        put16(out, VERSION64);
        put32(out, 0); // this disk
        put32(out, 0); // disk of the directory
        put64(out, count);
        put64(out, count);
        put64(out, directory_len);
        put64(out, directory_start);
        put32(out, LOCATOR64_SIG);
        put32(out, 0);
        put64(out, end64_start);
        put32(out, 1); // disks
    }
    put32(out, END_SIG);
    put16(out, 0);
    put16(out, 0);
    put16(out, field16(count));
    put16(out, field16(count));
    put32(out, field32(directory_len));
    put32(out, field32(directory_start));
    put16(out, 0); // comment
}

/// Appends one line of an nginx mod_zip manifest (`X-Archive-Files: zip`): the CRC-32 (`-`
/// when unknown: mod_zip then computes it and writes a data descriptor), the size, the
/// internal location nginx fetches the file from (already percent-encoded, as for
/// `X-Accel-Redirect`), and the name in the archive.
///
/// The manifest is line-based and its fields are separated by spaces, so the location must
/// contain neither and the name no line break; a name from [`check_name`] never has one.
///
/// ```
/// let mut manifest = Vec::new();
/// sendfile_core::zip::mod_zip_line(&mut manifest, None, 5, "/protected/a%20b.txt", "a b.txt").unwrap();
/// assert_eq!(manifest, b"- 5 /protected/a%20b.txt a b.txt\n");
/// ```
pub fn mod_zip_line(
    out: &mut Vec<u8>,
    crc: Option<u32>,
    size: u64,
    location: &str,
    name: &str,
) -> Result<(), &'static str> {
    if location.is_empty() || location.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err("the location is empty or contains a space or a control character");
    }
    check_name(name)?;
    match crc {
        Some(crc) => out.extend_from_slice(format!("{crc:08x}").as_bytes()),
        None => out.push(b'-'),
    }
    out.extend_from_slice(format!(" {size} ").as_bytes());
    out.extend_from_slice(location.as_bytes());
    out.push(b' ');
    out.extend_from_slice(name.as_bytes());
    out.push(b'\n');
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// A whole archive in memory, as a stream writes it.
    fn archive(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut offsets = Vec::new();
        for (name, data) in files {
            let entry = Entry {
                name,
                size: data.len() as u64,
                modified: None,
            };
            offsets.push(out.len() as u64);
            local_header(&mut out, &entry);
            out.extend_from_slice(data);
            data_descriptor(&mut out, &entry, crc32(data));
        }
        let start = out.len() as u64;
        for ((name, data), offset) in files.iter().zip(offsets) {
            let entry = Entry {
                name,
                size: data.len() as u64,
                modified: None,
            };
            central_record(&mut out, &entry, crc32(data), offset);
        }
        let len = out.len() as u64 - start;
        end_records(&mut out, files.len() as u64, start, len);
        out
    }

    #[test]
    fn length_is_exact() {
        let files: &[(&str, &[u8])] = &[("a.txt", b"hello"), ("dir/é.bin", b""), ("c", &[7; 1000])];
        let bytes = archive(files);
        let len = archive_len(files.iter().map(|(n, d)| (n.len(), d.len() as u64)));
        assert_eq!(Some(bytes.len() as u64), len);
    }

    #[test]
    fn headers_are_laid_out_as_the_format_says() {
        let bytes = archive(&[("é", b"xyz")]);
        // Local header: signature, version 2.0, flags 3 and 11, stored, name.
        assert_eq!(&bytes[..4], b"PK\x03\x04");
        assert_eq!(u16::from_le_bytes([bytes[4], bytes[5]]), 20);
        assert_eq!(u16::from_le_bytes([bytes[6], bytes[7]]), 0x0808);
        assert_eq!(u16::from_le_bytes([bytes[8], bytes[9]]), 0);
        assert_eq!(&bytes[30..32], "é".as_bytes());
        assert_eq!(&bytes[32..35], b"xyz");
        // Descriptor: signature, CRC, sizes.
        assert_eq!(&bytes[35..39], b"PK\x07\x08");
        assert_eq!(&bytes[39..43], &crc32(b"xyz").to_le_bytes());
        assert_eq!(&bytes[43..51], &[3, 0, 0, 0, 3, 0, 0, 0]);
        // Central record, then the end record counting one entry.
        assert_eq!(&bytes[51..55], b"PK\x01\x02");
        let end = &bytes[bytes.len() - 22..];
        assert_eq!(&end[..4], b"PK\x05\x06");
        assert_eq!(&end[8..12], &[1, 0, 1, 0]);
        assert_eq!(u32::from_le_bytes(end[16..20].try_into().unwrap()), 51);
    }

    #[test]
    fn zip64_only_where_needed() {
        let big = 5 << 30;
        let mut local = Vec::new();
        local_header(
            &mut local,
            &Entry {
                name: "big",
                size: big,
                modified: None,
            },
        );
        assert_eq!(local.len() as u64, local_header_len(3, big));
        assert_eq!(&local[18..26], &[0xFF; 8]);
        let mut descriptor = Vec::new();
        data_descriptor(
            &mut descriptor,
            &Entry {
                name: "big",
                size: big,
                modified: None,
            },
            1,
        );
        assert_eq!(descriptor.len(), 24);
        assert_eq!(&descriptor[8..16], &big.to_le_bytes());

        let mut central = Vec::new();
        central_record(
            &mut central,
            &Entry {
                name: "x",
                size: 1,
                modified: None,
            },
            0,
            big,
        );
        assert_eq!(central.len() as u64, CENTRAL_FIXED + 1 + 12);
        assert_eq!(&central[42..46], &[0xFF; 4]);
        assert_eq!(&central[central.len() - 8..], &big.to_le_bytes());

        let mut end = Vec::new();
        end_records(&mut end, 70_000, 100, 200);
        assert_eq!(end.len() as u64, END64_LEN + LOCATOR64_LEN + END_LEN);
        let mut end = Vec::new();
        end_records(&mut end, 65_534, 100, 200);
        assert_eq!(end.len() as u64, END_LEN);
        assert_eq!(
            archive_len([(3, big)]),
            Some(
                local_header_len(3, big)
                    + big
                    + 24
                    + CENTRAL_FIXED
                    + 3
                    + 20
                    + END64_LEN
                    + LOCATOR64_LEN
                    + END_LEN
            )
        );
    }

    #[test]
    fn dos_times() {
        assert_eq!(dos_time(None), (0, 33));
        // 2024-02-29 13:45:58 UTC.
        let t = UNIX_EPOCH + Duration::from_secs(1_709_214_358);
        let (time, date) = dos_time(Some(t));
        assert_eq!(
            (time >> 11, (time >> 5) & 63, (time & 31) * 2),
            (13, 45, 58)
        );
        assert_eq!(
            (1980 + (date >> 9), (date >> 5) & 15, date & 31),
            (2024, 2, 29)
        );
        assert_eq!(dos_time(Some(UNIX_EPOCH)), (0, 33));
    }

    #[test]
    fn names() {
        for ok in ["a", "a b/c d.txt", "%2e%2e.txt", "..a", "a..", "🎉/x"] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "", "/a", "a/", "a//b", "./a", "a/../b", "..", "a\\b", "a\nb", "a\u{1b}b", "a\u{85}b",
        ] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        assert!(check_name(&"x".repeat(MAX_NAME_LEN + 1)).is_err());
    }

    #[test]
    fn manifest_lines() {
        let mut out = Vec::new();
        mod_zip_line(&mut out, Some(0xab), 0, "/p/x", "dir/ü x.txt").unwrap();
        assert_eq!(out, "000000ab 0 /p/x dir/ü x.txt\n".as_bytes());
        assert!(mod_zip_line(&mut out, None, 1, "/p/a b", "x").is_err());
        assert!(mod_zip_line(&mut out, None, 1, "/p/a", "x\ny").is_err());
    }
}

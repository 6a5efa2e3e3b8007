//! Repository and organization logos. [`validate`] is the one rule for what a
//! logo file may be: it runs in the browser (compiled to wasm, before any
//! upload) and again on the server, so the two never disagree. It reads only
//! the header: no image decoder is compiled into the wasm.

pub mod api;
#[cfg(feature = "testing")]
pub mod fixtures;
#[cfg(feature = "ssr")]
pub mod jobs;
#[cfg(feature = "ssr")]
pub mod process;
#[cfg(feature = "ssr")]
pub mod store;
pub mod views;

use serde::{Deserialize, Serialize};

/// Smallest width and height, in pixels (inclusive).
pub const MIN_SIDE: u32 = 120;
/// Largest width and height, in pixels (inclusive).
pub const MAX_SIDE: u32 = 1000;
/// Largest file, in bytes (5 MiB, inclusive).
pub const MAX_BYTES: u64 = 5 * 1024 * 1024;

/// The two accepted formats, recognised by content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogoFormat {
    Png,
    Jpeg,
}

impl LogoFormat {
    pub fn name(self) -> &'static str {
        match self {
            LogoFormat::Png => "PNG",
            LogoFormat::Jpeg => "JPEG",
        }
    }
    pub fn extension(self) -> &'static str {
        match self {
            LogoFormat::Png => "png",
            LogoFormat::Jpeg => "jpg",
        }
    }
    pub fn content_type(self) -> &'static str {
        match self {
            LogoFormat::Png => "image/png",
            LogoFormat::Jpeg => "image/jpeg",
        }
    }
}

/// What the header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogoHeader {
    pub format: LogoFormat,
    pub width: u32,
    pub height: u32,
}

/// Why a file is not a valid logo. Each message names the rule and the value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Refusal {
    /// No bytes at all.
    Empty,
    /// More than [`MAX_BYTES`].
    TooManyBytes { bytes: u64 },
    /// Not PNG or JPEG; `detected` names what it is, if known.
    UnsupportedType { detected: Option<String> },
    /// The header ends before the image size is known, or is malformed.
    BadHeader { format: LogoFormat, reason: String },
    /// A side below [`MIN_SIDE`].
    TooSmall { width: u32, height: u32 },
    /// A side above [`MAX_SIDE`].
    TooLarge { width: u32, height: u32 },
    /// The header is fine but the image data is not (found only by the server's full decode).
    Corrupt { format: LogoFormat, reason: String },
}

use crate::ui::thousands;

impl Refusal {
    /// A stable short code (used by tests and the page's `data-verdict`).
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Empty => "empty",
            Refusal::TooManyBytes { .. } => "too_many_bytes",
            Refusal::UnsupportedType { .. } => "unsupported_type",
            Refusal::BadHeader { .. } => "bad_header",
            Refusal::TooSmall { .. } => "too_small",
            Refusal::TooLarge { .. } => "too_large",
            Refusal::Corrupt { .. } => "corrupt",
        }
    }

    /// The HTTP status the server answers with.
    pub fn status(&self) -> u16 {
        match self {
            Refusal::Empty => 400,
            Refusal::TooManyBytes { .. } => 413,
            Refusal::UnsupportedType { .. } => 415,
            _ => 422,
        }
    }

    /// What to tell the person, naming the rule and the actual value.
    pub fn message(&self) -> String {
        match self {
            Refusal::Empty => "The file is empty. Choose a PNG or JPEG image.".into(),
            Refusal::TooManyBytes { bytes } => format!(
                "This file is {} bytes ({} MiB); the largest allowed is {} bytes (5 MiB).",
                thousands(*bytes),
                crate::ui::decimal(*bytes, 1_048_576),
                thousands(MAX_BYTES)
            ),
            Refusal::UnsupportedType { detected: Some(kind) } => format!(
                "This file is {kind}; a logo must be a PNG or JPEG image (the file's content decides, not its name)."
            ),
            Refusal::UnsupportedType { detected: None } => {
                "This file is not a PNG or JPEG image; a logo must be one of those (the file's content decides, not its name).".into()
            }
            Refusal::BadHeader { format, reason } => format!(
                "This {} file is damaged: {reason}. Export the image again and retry.",
                format.name()
            ),
            Refusal::TooSmall { width, height } => format!(
                "This image is {width}×{height} pixels; the smallest allowed is {MIN_SIDE}×{MIN_SIDE}."
            ),
            Refusal::TooLarge { width, height } => format!(
                "This image is {width}×{height} pixels; the largest allowed is {MAX_SIDE}×{MAX_SIDE}."
            ),
            Refusal::Corrupt { format, reason } => format!(
                "The server could not read this {} image: its data is damaged ({reason}). Export the image again and retry.",
                format.name()
            ),
        }
    }
}

const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

/// Names common non-logo formats, so the refusal can say what the file is.
pub fn sniff_other(head: &[u8]) -> Option<&'static str> {
    let starts = |p: &[u8]| head.starts_with(p);
    if starts(b"GIF87a") || starts(b"GIF89a") {
        return Some("a GIF image");
    }
    if head.len() >= 12 && &head[0..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        return Some("a WebP image");
    }
    if starts(b"BM") {
        return Some("a BMP image");
    }
    if starts(b"II*\0") || starts(b"MM\0*") {
        return Some("a TIFF image");
    }
    if starts(&[0, 0, 1, 0]) || starts(&[0, 0, 2, 0]) {
        return Some("an ICO icon");
    }
    if head.len() >= 12 && &head[4..8] == b"ftyp" {
        return Some(match &head[8..12] {
            b"avif" | b"avis" => "an AVIF image",
            b"heic" | b"heix" | b"mif1" => "a HEIC image",
            _ => "a video or ISO media file",
        });
    }
    if starts(b"%PDF") {
        return Some("a PDF document");
    }
    // Text formats: skip a UTF-8 BOM and leading whitespace, compare lowercase.
    let text = head.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(head);
    let start = text
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(text.len());
    let lower: Vec<u8> = text[start..]
        .iter()
        .take(512)
        .map(|b| b.to_ascii_lowercase())
        .collect();
    let has = |needle: &[u8]| lower.windows(needle.len()).any(|w| w == needle);
    if lower.starts_with(b"<svg") || (lower.starts_with(b"<?xml") && has(b"<svg")) {
        return Some("an SVG drawing");
    }
    if lower.starts_with(b"<!doctype html")
        || lower.starts_with(b"<html")
        || has(b"<script")
        || has(b"<body")
    {
        return Some("an HTML document");
    }
    if lower.starts_with(b"<?xml") {
        return Some("an XML document");
    }
    None
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

fn png_header(b: &[u8]) -> Result<LogoHeader, Refusal> {
    let bad = |reason: &str| Refusal::BadHeader {
        format: LogoFormat::Png,
        reason: reason.into(),
    };
    if b.len() < 33 {
        return Err(bad("the file ends inside the PNG header"));
    }
    if be32(&b[8..12]) != 13 || &b[12..16] != b"IHDR" {
        return Err(bad("the first chunk is not a valid IHDR header"));
    }
    let (width, height) = (be32(&b[16..20]), be32(&b[20..24]));
    let (depth, color) = (b[24], b[25]);
    if width == 0 || height == 0 || width > i32::MAX as u32 || height > i32::MAX as u32 {
        return Err(bad("the header gives an impossible image size"));
    }
    let depth_ok = match color {
        0 => matches!(depth, 1 | 2 | 4 | 8 | 16),
        3 => matches!(depth, 1 | 2 | 4 | 8),
        2 | 4 | 6 => matches!(depth, 8 | 16),
        _ => false,
    };
    if !depth_ok || b[26] != 0 || b[27] != 0 || b[28] > 1 {
        return Err(bad(
            "the header has an invalid color type, bit depth or method",
        ));
    }
    Ok(LogoHeader {
        format: LogoFormat::Png,
        width,
        height,
    })
}

fn jpeg_header(b: &[u8]) -> Result<LogoHeader, Refusal> {
    let bad = |reason: &str| Refusal::BadHeader {
        format: LogoFormat::Jpeg,
        reason: reason.into(),
    };
    let mut i = 2;
    // Walk the marker segments to the frame header (SOFn); bounded by the data.
    loop {
        if i >= b.len() {
            return Err(bad("the file ends before the JPEG frame header"));
        }
        if b[i] != 0xFF {
            return Err(bad("a marker is missing between JPEG segments"));
        }
        while i < b.len() && b[i] == 0xFF {
            i += 1;
        }
        if i >= b.len() {
            return Err(bad("the file ends before the JPEG frame header"));
        }
        let marker = b[i];
        i += 1;
        match marker {
            0x01 | 0xD0..=0xD7 => continue,
            0xD8 => return Err(bad("a second start-of-image marker appears")),
            0xD9 | 0xDA => return Err(bad("the image data starts before the frame header")),
            _ => {}
        }
        if i + 2 > b.len() {
            return Err(bad("the file ends before the JPEG frame header"));
        }
        let len = u16::from_be_bytes([b[i], b[i + 1]]) as usize;
        if len < 2 {
            return Err(bad("a segment has an invalid length"));
        }
        let is_sof = matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
        if is_sof {
            if len < 8 || i + 8 > b.len() {
                return Err(bad("the file ends inside the JPEG frame header"));
            }
            let height = u16::from_be_bytes([b[i + 3], b[i + 4]]) as u32;
            let width = u16::from_be_bytes([b[i + 5], b[i + 6]]) as u32;
            if width == 0 || height == 0 {
                return Err(bad("the frame header gives a zero image size"));
            }
            return Ok(LogoHeader {
                format: LogoFormat::Jpeg,
                width,
                height,
            });
        }
        i += len;
    }
}

/// Reads format and pixel size from the first bytes of a file.
pub fn read_header(head: &[u8]) -> Result<LogoHeader, Refusal> {
    if head.is_empty() {
        return Err(Refusal::Empty);
    }
    if head.starts_with(&PNG_SIGNATURE) {
        return png_header(head);
    }
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return jpeg_header(head);
    }
    Err(Refusal::UnsupportedType {
        detected: sniff_other(head).map(String::from),
    })
}

/// The logo rule: byte size, type by content, pixel size — in that order.
/// `total_len` is the whole file's size; `head` is its beginning (or all of it).
pub fn validate(total_len: u64, head: &[u8]) -> Result<LogoHeader, Refusal> {
    if total_len == 0 {
        return Err(Refusal::Empty);
    }
    if total_len > MAX_BYTES {
        return Err(Refusal::TooManyBytes { bytes: total_len });
    }
    let h = read_header(head)?;
    if h.width > MAX_SIDE || h.height > MAX_SIDE {
        return Err(Refusal::TooLarge {
            width: h.width,
            height: h.height,
        });
    }
    if h.width < MIN_SIDE || h.height < MIN_SIDE {
        return Err(Refusal::TooSmall {
            width: h.width,
            height: h.height,
        });
    }
    Ok(h)
}

/// Where a logo shown for a repository comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogoSource {
    Repository,
    Organization,
    Default,
}

/// The logo to show, resolved through the fallback chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogoInfo {
    /// Full-size URL.
    #[serde(rename = "logo_url")]
    pub url: String,
    /// 128-px variant for lists.
    pub small_url: String,
    pub source: LogoSource,
    /// The repository has its own logo stored (even if not shown after expiry).
    pub repository_logo_stored: bool,
    /// The caller may change the repository logo now.
    pub can_change: bool,
    /// Why the caller cannot change it, when they are an admin but the perk is off.
    pub locked_reason: Option<String>,
}

/// What deciding the shown logo depends on (loaded by the server).
#[derive(Debug, Clone, Copy)]
pub struct LogoFacts<'a> {
    /// The hub's public URL, no trailing slash.
    pub public_url: &'a str,
    pub namespace: &'a str,
    /// `Some(stored file or None)` for a repository; `None` for an organization.
    pub repository_file: Option<Option<&'a str>>,
    pub organization_file: Option<&'a str>,
    /// The namespace's perks are on (repository logos are a perk).
    pub perk: bool,
    /// The caller administers the repository (or owns the organization).
    pub is_admin: bool,
}

impl LogoInfo {
    /// The logo to show: repository (while perks are on) → organization →
    /// the grey cube; and whether the caller may change it now.
    pub fn resolve(f: &LogoFacts<'_>) -> LogoInfo {
        let repo_file = f.repository_file.flatten();
        let (source, file) = match (repo_file, f.perk) {
            (Some(r), true) => (LogoSource::Repository, Some(r)),
            _ => match f.organization_file {
                Some(o) => (LogoSource::Organization, Some(o)),
                None => (LogoSource::Default, None),
            },
        };
        let (url, small_url) = match file {
            Some(file) => {
                let small = match file.rsplit_once('.') {
                    Some((hash, ext)) => format!("{hash}-128.{ext}"),
                    None => file.to_string(),
                };
                (
                    format!("{}/logos/{file}", f.public_url),
                    format!("{}/logos/{small}", f.public_url),
                )
            }
            None => {
                let d = format!("{}{DEFAULT_LOGO_PATH}", f.public_url);
                (d.clone(), d)
            }
        };
        let for_repo = f.repository_file.is_some();
        LogoInfo {
            url,
            small_url,
            source,
            repository_logo_stored: repo_file.is_some(),
            can_change: f.is_admin && (f.perk || !for_repo),
            locked_reason: (for_repo && f.is_admin && !f.perk).then(|| {
                format!(
                    "Repository logos are a Sponsored Open Source perk; “{}” is not a member now.",
                    f.namespace
                )
            }),
        }
    }
}

/// A stored logo's name: 64 hex digits, an optional `-128`/`-64` variant, `.png` or `.jpg`.
pub fn valid_file_name(name: &str) -> bool {
    let Some((stem, ext)) = name.rsplit_once('.') else {
        return false;
    };
    let hash = stem
        .strip_suffix("-128")
        .or_else(|| stem.strip_suffix("-64"))
        .unwrap_or(stem);
    matches!(ext, "png" | "jpg")
        && hash.len() == 64
        && hash
            .bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
}

pub use crate::domain::namespace::{DEFAULT_LOGO_PATH, logo_variant_path as variant_path};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names() {
        let h = "a".repeat(64);
        assert!(valid_file_name(&format!("{h}.png")));
        assert!(valid_file_name(&format!("{h}-64.jpg")));
        assert!(!valid_file_name(&format!("{h}.svg")));
        assert!(!valid_file_name("../../etc/passwd.png"));
        assert!(!valid_file_name(&format!("{}.png", "A".repeat(64))));
        assert_eq!(
            variant_path(&format!("{h}.png"), 64),
            format!("/logos/{h}-64.png")
        );
    }

    #[test]
    fn messages_name_rule_and_value() {
        assert_eq!(
            Refusal::TooLarge {
                width: 1200,
                height: 1200
            }
            .message(),
            "This image is 1200×1200 pixels; the largest allowed is 1000×1000."
        );
        assert!(
            Refusal::TooManyBytes { bytes: 5_242_881 }
                .message()
                .contains("5,242,881 bytes")
        );
        assert!(
            Refusal::UnsupportedType {
                detected: Some("a GIF image".into())
            }
            .message()
            .contains("GIF")
        );
    }

    #[test]
    fn header_only_needs_the_beginning() {
        // A PNG header claiming 30000×30000 is refused from 33 bytes.
        let mut b = PNG_SIGNATURE.to_vec();
        b.extend_from_slice(&13u32.to_be_bytes());
        b.extend_from_slice(b"IHDR");
        b.extend_from_slice(&30000u32.to_be_bytes());
        b.extend_from_slice(&30000u32.to_be_bytes());
        b.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(
            validate(b.len() as u64, &b),
            Err(Refusal::TooLarge {
                width: 30000,
                height: 30000
            })
        );
        assert_eq!(validate(0, &[]), Err(Refusal::Empty));
        assert_eq!(
            validate(8, &PNG_SIGNATURE).map_err(|e| e.code()),
            Err("bad_header")
        );
        assert_eq!(
            validate(MAX_BYTES + 1, &b),
            Err(Refusal::TooManyBytes {
                bytes: MAX_BYTES + 1
            })
        );
    }

    #[test]
    fn jpeg_walk_is_bounded() {
        // SOI then a segment claiming a huge length: truncated, not a panic.
        let b = [0xFF, 0xD8, 0xFF, 0xE0, 0xFF, 0xFF, 0, 0];
        assert_eq!(read_header(&b).map_err(|e| e.code()), Err("bad_header"));
        let b = [0xFF, 0xD8, 0xFF];
        assert_eq!(read_header(&b).map_err(|e| e.code()), Err("bad_header"));
        // SOF0 with 300×200.
        let b = [
            0xFF, 0xD8, 0xFF, 0xC0, 0, 11, 8, 0, 200, 1, 44, 3, 1, 0x22, 0,
        ];
        assert_eq!(
            read_header(&b),
            Ok(LogoHeader {
                format: LogoFormat::Jpeg,
                width: 300,
                height: 200
            })
        );
    }

    #[test]
    fn other_types_are_named() {
        for (bytes, name) in [
            (&b"GIF89a\x01\x00"[..], "GIF"),
            (b"RIFF\0\0\0\0WEBPVP8 ", "WebP"),
            (b"BM\0\0\0\0", "BMP"),
            (b"II*\0\x08\0", "TIFF"),
            (b"\0\0\x01\0\x01\0", "ICO"),
            (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "SVG"),
            (
                b"\xEF\xBB\xBF  <?xml version='1.0'?><svg><script>alert(1)</script></svg>",
                "SVG",
            ),
            (b"<!DOCTYPE html><html><body>hi</body></html>", "HTML"),
        ] {
            let e = read_header(bytes).expect_err(name);
            assert!(e.message().contains(name), "{name}: {}", e.message());
            assert_eq!(e.status(), 415);
        }
    }
}

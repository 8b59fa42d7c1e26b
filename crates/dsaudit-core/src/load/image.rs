//! Reads one image file once and describes it: size, content hashes, format, mode,
//! and what went wrong if it cannot be decoded.

use image::{ColorType, DynamicImage, ImageFormat};
use std::io::Read;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The file could not be opened or read (permissions, I/O).
    Unreadable,
    /// Zero bytes.
    Empty,
    /// Cut short: decoding ran out of data or the end marker is missing.
    Truncated,
    /// Claims to be an image but does not decode.
    Corrupt,
    /// Not an image format dsaudit reads.
    Unsupported,
    /// Listed in a labels file but not on disk.
    Missing,
    /// Listed in a labels file outside the dataset's folder: not read.
    Outside,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Unreadable => "unreadable",
            ErrorKind::Empty => "empty",
            ErrorKind::Truncated => "truncated",
            ErrorKind::Corrupt => "corrupt",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Missing => "missing",
            ErrorKind::Outside => "outside",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct ImageInfo {
    pub bytes: Option<u64>,
    /// Kept as bytes: the cache stores them so, and the manifest writes them in hex.
    pub file_blake3: Option<blake3::Hash>,
    pub pixel_blake3: Option<blake3::Hash>,
    /// Format found from the content (magic bytes).
    pub format: Option<&'static str>,
    /// Format the extension claims.
    pub ext_format: Option<&'static str>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub channels: Option<u8>,
    pub bit_depth: Option<u8>,
    pub mode: Option<&'static str>,
    pub error_kind: Option<ErrorKind>,
    pub error: Option<String>,
    pub pixels: Option<super::pixel_stats::PixelStats>,
    /// Perceptual hashes; None for images smaller than 8×8.
    pub hashes: Option<super::perceptual::Hashes>,
}

impl ImageInfo {
    /// A sample that could not be described, and why.
    pub fn error(kind: ErrorKind, msg: impl Into<String>) -> ImageInfo {
        ImageInfo::default().failed(kind, msg)
    }

    fn failed(mut self, kind: ErrorKind, msg: impl Into<String>) -> ImageInfo {
        self.error_kind = Some(kind);
        self.error = Some(msg.into());
        self
    }
}

pub fn format_name(f: ImageFormat) -> &'static str {
    match f {
        ImageFormat::Png => "png",
        ImageFormat::Jpeg => "jpeg",
        ImageFormat::Gif => "gif",
        ImageFormat::WebP => "webp",
        ImageFormat::Tiff => "tiff",
        ImageFormat::Bmp => "bmp",
        ImageFormat::Ico => "ico",
        ImageFormat::Avif => "avif",
        ImageFormat::Pnm => "pnm",
        ImageFormat::Tga => "tga",
        ImageFormat::Dds => "dds",
        ImageFormat::Hdr => "hdr",
        ImageFormat::OpenExr => "exr",
        ImageFormat::Farbfeld => "farbfeld",
        ImageFormat::Qoi => "qoi",
        _ => "other",
    }
}

const READABLE: &[ImageFormat] = &[
    ImageFormat::Png,
    ImageFormat::Jpeg,
    ImageFormat::Gif,
    ImageFormat::WebP,
    ImageFormat::Tiff,
    ImageFormat::Bmp,
];

/// Decides whether a file without an image extension is worth reading whole. A file
/// that cannot be opened is described anyway, so that its problem is reported.
pub fn sniff(path: &Path) -> bool {
    let mut head = [0u8; 32];
    let Ok((mut f, _)) = crate::safe_read::open_regular(path) else {
        return true;
    };
    let n = f.read(&mut head).unwrap_or(0);
    image::guess_format(&head[..n]).is_ok()
}

pub fn describe(path: &Path) -> ImageInfo {
    describe_opened(path, None)
}

/// Bytes read before the rest of a file: enough for every signature `image` knows.
const HEAD: usize = 64;

/// `describe` of a file the caller already opened (with its length), so that the
/// check's cache takes the file's size and time from the same open handle. The file
/// is read whole only when its first bytes are an image signature: a large non-image
/// named `.png` costs 64 bytes, not its size in memory.
pub fn describe_opened(path: &Path, opened: Option<(std::fs::File, u64)>) -> ImageInfo {
    use crate::safe_read::{self, OpenError};
    let ext_format = ImageFormat::from_path(path).ok().map(format_name);
    let mut info = ImageInfo {
        ext_format,
        ..Default::default()
    };
    let opened = match opened {
        Some(o) => Ok(o),
        None => safe_read::open_regular(path),
    };
    // The bytes read, and whether they are the whole file.
    let read = opened.and_then(|(mut f, len)| {
        info.bytes = Some(len);
        let mut head = Vec::with_capacity(HEAD);
        (&mut f).take(HEAD as u64).read_to_end(&mut head)?;
        if (head.len() as u64) < len && image::guess_format(&head).is_err() {
            return Ok((head, false));
        }
        let limit = safe_read::max_file_size();
        if len > limit {
            return Err(OpenError::TooLarge {
                size: Some(len),
                limit,
            });
        }
        let rest_limit = limit.saturating_sub(head.len() as u64);
        let rest = safe_read::read_opened(f, len.saturating_sub(head.len() as u64), rest_limit)?;
        head.extend_from_slice(&rest);
        Ok((head, true))
    });
    match read {
        Ok((bytes, true)) => describe_bytes(&bytes, info),
        Ok((_, false)) => not_an_image(info),
        Err(e) if e.is_missing() => info.failed(ErrorKind::Missing, "file not found"),
        Err(e) => info.failed(ErrorKind::Unreadable, e.to_string()),
    }
}

/// `image_folder::describe_file` of a file whose bytes are already in memory (a Spark
/// row's content), named `path`: the description the file on disk gets, field for
/// field, the `--max-file-size` limit included.
pub fn describe_named_bytes(path: &Path, bytes: &[u8]) -> ImageInfo {
    let ext_format = ImageFormat::from_path(path).ok().map(format_name);
    // Over the limit, a file is refused when opened, before its size is recorded or
    // its name looked at.
    let limit = crate::safe_read::max_file_size();
    if bytes.len() as u64 > limit {
        let size = Some(bytes.len() as u64);
        let e = crate::safe_read::OpenError::TooLarge { size, limit };
        let info = ImageInfo {
            ext_format,
            ..Default::default()
        };
        return info.failed(ErrorKind::Unreadable, e.to_string());
    }
    let head = &bytes[..bytes.len().min(HEAD)];
    let sniffed = image::guess_format(head).is_ok();
    if !crate::discover::is_image_path(path) && !sniffed {
        return ImageInfo::error(ErrorKind::Unsupported, "not an image file").with_bytes(bytes);
    }
    let info = ImageInfo {
        ext_format,
        bytes: Some(bytes.len() as u64),
        ..Default::default()
    };
    if head.len() < bytes.len() && !sniffed {
        return not_an_image(info);
    }
    describe_bytes(bytes, info)
}

impl ImageInfo {
    fn with_bytes(mut self, bytes: &[u8]) -> ImageInfo {
        self.bytes = Some(bytes.len() as u64);
        self
    }
}

fn not_an_image(info: ImageInfo) -> ImageInfo {
    match info.ext_format {
        Some(ext) => {
            let msg = format!("not a valid {ext} file: unrecognised header");
            info.failed(ErrorKind::Corrupt, msg)
        }
        None => info.failed(ErrorKind::Unsupported, "not an image file"),
    }
}

pub fn describe_bytes(bytes: &[u8], mut info: ImageInfo) -> ImageInfo {
    info.bytes = Some(bytes.len() as u64);
    if bytes.is_empty() {
        return info.failed(ErrorKind::Empty, "zero-byte file");
    }
    info.file_blake3 = Some(blake3::hash(bytes));
    let format = match image::guess_format(bytes) {
        Ok(f) => f,
        Err(_) => return not_an_image(info),
    };
    info.format = Some(format_name(format));
    if !READABLE.contains(&format) {
        return info.failed(
            ErrorKind::Unsupported,
            format!(
                "{} images are not supported (png, jpeg, bmp, gif, tiff, webp are)",
                format_name(format)
            ),
        );
    }
    // The budget's share is held (`_held`) until the image and its copies are gone.
    let (img, _held) = match super::decode_budget::decode(bytes, format) {
        Ok(decoded) => decoded,
        Err(e) => {
            let msg = one_line(&e.to_string());
            let kind = if looks_truncated(&msg) || missing_end_marker(bytes, format) {
                ErrorKind::Truncated
            } else {
                ErrorKind::Corrupt
            };
            return info.failed(kind, msg);
        }
    };
    let color = img.color();
    info.width = Some(img.width());
    info.height = Some(img.height());
    let channels = color.channel_count();
    info.channels = Some(channels);
    info.bit_depth = Some((color.bits_per_pixel() / channels as u16) as u8);
    info.mode = Some(mode_name(color));
    info.pixel_blake3 = Some(pixel_hash(&img));
    info.pixels = Some(super::pixel_stats::compute(&img));
    info.hashes = super::perceptual::hashes(&img);
    // Some decoders fill a cut-off image with grey and report success, so a
    // missing end marker is checked even when decoding worked.
    if missing_end_marker(bytes, format) {
        return info.failed(
            ErrorKind::Truncated,
            format!(
                "{} end marker missing: file is cut short",
                format_name(format)
            ),
        );
    }
    info
}

fn mode_name(color: ColorType) -> &'static str {
    match color.channel_count() {
        1 => "L",
        2 => "LA",
        3 => "RGB",
        _ => "RGBA",
    }
}

/// Hash of the decoded pixels with their geometry, so that the same picture saved
/// under another name or encoding hashes the same, and a reshaped buffer does not.
fn pixel_hash(img: &DynamicImage) -> blake3::Hash {
    let mut h = blake3::Hasher::new();
    h.update(&img.width().to_le_bytes());
    h.update(&img.height().to_le_bytes());
    h.update(format!("{:?}", img.color()).as_bytes());
    h.update(img.as_bytes());
    h.finalize()
}

fn looks_truncated(msg: &str) -> bool {
    let m = msg.to_ascii_lowercase();
    [
        "eof",
        "end of file",
        "unexpected end",
        "truncat",
        "not enough data",
        "no more data",
        "too short",
        "failed to fill whole buffer",
    ]
    .iter()
    .any(|k| m.contains(k))
}

fn missing_end_marker(bytes: &[u8], format: ImageFormat) -> bool {
    let tail = &bytes[bytes.len().saturating_sub(64)..];
    match format {
        ImageFormat::Png => !tail.windows(4).any(|w| w == b"IEND"),
        ImageFormat::Jpeg => !tail.windows(2).any(|w| w == [0xFF, 0xD9]),
        ImageFormat::Gif => !tail.contains(&0x3B),
        _ => false,
    }
}

pub use crate::util::one_line;

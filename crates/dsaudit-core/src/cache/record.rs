//! What the cache stores of an image's description: compact, versioned, and turned
//! back into the `ImageInfo` the load would have computed.

use super::*;

/// `ImageInfo` as serde stores it: hashes as bytes, names as their index in `NAMES`,
/// the thumbnail and shape descriptor as byte strings (nothing allocated to decode).
#[derive(Serialize, Deserialize, Debug, Clone)]
pub(crate) struct Record {
    bytes: Option<u64>,
    // As byte strings: serde's arrays are 32 one-byte values to postcard.
    #[serde(with = "serde_bytes")]
    pub(super) file_blake3: Option<[u8; 32]>,
    #[serde(with = "serde_bytes")]
    pixel_blake3: Option<[u8; 32]>,
    format: Option<u8>,
    ext_format: Option<u8>,
    width: Option<u32>,
    height: Option<u32>,
    channels: Option<u8>,
    bit_depth: Option<u8>,
    mode: Option<u8>,
    error_kind: Option<String>,
    error: Option<String>,
    pixels: Option<Pixels>,
    hashes: Option<Perceptual>,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
struct Perceptual {
    phash: u64,
    dhash: u64,
    aligned: u64,
    #[serde(with = "serde_bytes")]
    thumb: [u8; 64],
    #[serde(with = "serde_bytes")]
    small: [u8; SMALL_PIXELS],
    #[serde(with = "serde_bytes")]
    centred_thumb: [u8; 64],
    #[serde(with = "serde_bytes")]
    shape: [u8; SHAPE_DIMS],
}

#[derive(Serialize, Deserialize, Debug, Clone)]
struct Pixels {
    mean: [f64; 3],
    std: [f64; 3],
    brightness: [f64; 3],
    contrast: f64,
    dynamic_range: f64,
    max_value: f64,
    entropy: f64,
    sharpness: Option<f64>,
}

/// The bytes `v` takes postcard-encoded, as in a record or a partial scan.
pub(crate) fn encoded_len<T: Serialize + ?Sized>(v: &T) -> usize {
    postcard::to_stdvec(v).map_or(0, |b| b.len())
}

/// Every name `ImageInfo` holds as a `&'static str`.
const NAMES: &[&str] = &[
    "png", "jpeg", "gif", "webp", "tiff", "bmp", "ico", "avif", "pnm", "tga", "dds", "hdr", "exr",
    "farbfeld", "qoi", "other", "L", "LA", "RGB", "RGBA",
];

fn code(s: Option<&str>) -> Option<u8> {
    s.map(|s| NAMES.iter().position(|n| *n == s).unwrap_or(15) as u8)
}

fn name(c: Option<u8>) -> Option<&'static str> {
    c.map(|c| NAMES.get(c as usize).copied().unwrap_or("other"))
}

impl Record {
    pub(crate) fn of(i: &ImageInfo) -> Record {
        Record {
            bytes: i.bytes,
            file_blake3: i.file_blake3.map(|h| *h.as_bytes()),
            pixel_blake3: i.pixel_blake3.map(|h| *h.as_bytes()),
            format: code(i.format),
            ext_format: code(i.ext_format),
            width: i.width,
            height: i.height,
            channels: i.channels,
            bit_depth: i.bit_depth,
            mode: code(i.mode),
            error_kind: i.error_kind.map(|k| k.as_str().to_string()),
            error: i.error.clone(),
            pixels: i.pixels.map(|p| Pixels {
                mean: p.mean,
                std: p.std,
                brightness: [p.brightness, p.brightness_p5, p.brightness_p99],
                contrast: p.contrast,
                dynamic_range: p.dynamic_range,
                max_value: p.max_value,
                entropy: p.entropy,
                sharpness: p.sharpness,
            }),
            hashes: i.hashes.map(|h| Perceptual {
                phash: h.phash,
                dhash: h.dhash,
                aligned: h.aligned,
                thumb: h.thumb,
                shape: h.shape,
                small: h.small,
                centred_thumb: h.centred_thumb,
            }),
        }
    }

    /// The bytes each part of the record takes encoded, by what it is for, handed to
    /// `add` (what a partial scan's bytes are spent on: `Dsp::bytes_by_field`).
    pub(crate) fn sizes(&self, add: &mut dyn FnMut(&'static str, usize)) {
        use crate::cache::record::encoded_len as size;
        #[derive(Serialize)]
        struct Bytes<'a>(#[serde(with = "serde_bytes")] &'a [u8]);
        add(
            "file BLAKE3",
            size(&self.file_blake3.as_ref().map(|h| Bytes(h))),
        );
        add(
            "pixel BLAKE3",
            size(&self.pixel_blake3.as_ref().map(|h| Bytes(h))),
        );
        add(
            "size, format, dimensions, mode",
            size(&(
                self.bytes,
                self.format,
                self.ext_format,
                self.width,
                self.height,
                self.channels,
                self.bit_depth,
                self.mode,
            )),
        );
        add("error", size(&(&self.error_kind, &self.error)));
        add("pixel statistics (f64)", size(&self.pixels));
        add("hashes: the option's tag", 1);
        if let Some(h) = &self.hashes {
            add(
                "hashes: pHash, dHash, centred pHash",
                size(&(h.phash, h.dhash, h.aligned)),
            );
            add("8x8 thumbnail (shift tests)", size(&Bytes(&h.thumb)));
            add(
                "32x32 grey picture (near copies, label model)",
                size(&Bytes(&h.small)),
            );
            add(
                "centred 8x8 thumbnail (near-copy filter)",
                size(&Bytes(&h.centred_thumb)),
            );
            add("shape descriptor (label model)", size(&Bytes(&h.shape)));
        }
    }

    pub(crate) fn to_info(&self) -> ImageInfo {
        let hashes = self.hashes.as_ref().map(|h| Hashes {
            phash: h.phash,
            dhash: h.dhash,
            aligned: h.aligned,
            thumb: h.thumb,
            shape: h.shape,
            small: h.small,
            centred_thumb: h.centred_thumb,
        });
        ImageInfo {
            bytes: self.bytes,
            file_blake3: self.file_blake3.map(blake3::Hash::from_bytes),
            pixel_blake3: self.pixel_blake3.map(blake3::Hash::from_bytes),
            format: name(self.format),
            ext_format: name(self.ext_format),
            width: self.width,
            height: self.height,
            channels: self.channels,
            bit_depth: self.bit_depth,
            mode: name(self.mode),
            error_kind: self.error_kind.as_deref().and_then(|k| {
                // The cache keeps no record of the other kinds (they are read again
                // each run); a partial scan's `.dsp` keeps every kind.
                [
                    ErrorKind::Unreadable,
                    ErrorKind::Empty,
                    ErrorKind::Truncated,
                    ErrorKind::Corrupt,
                    ErrorKind::Unsupported,
                    ErrorKind::Missing,
                    ErrorKind::Outside,
                ]
                .into_iter()
                .find(|e| e.as_str() == k)
            }),
            error: self.error.clone(),
            pixels: self.pixels.as_ref().map(|p| PixelStats {
                mean: p.mean,
                std: p.std,
                brightness: p.brightness[0],
                brightness_p5: p.brightness[1],
                brightness_p99: p.brightness[2],
                contrast: p.contrast,
                dynamic_range: p.dynamic_range,
                max_value: p.max_value,
                entropy: p.entropy,
                sharpness: p.sharpness,
            }),
            hashes,
        }
    }
}

//! Server-side processing: the shared header rule again, then a full decode
//! under `image::Limits`, then a re-encode (dropping metadata, text chunks and
//! trailing bytes) plus 128 px and 64 px variants. CPU-bound: call it from
//! `spawn_blocking`.

use super::{LogoFormat, MAX_SIDE, Refusal, validate};
use image::{DynamicImage, ImageFormat, ImageReader};
use sha2::{Digest as _, Sha256};
use std::io::Cursor;

/// An accepted, re-encoded logo.
#[derive(Debug, Clone)]
pub struct Processed {
    pub format: LogoFormat,
    pub width: u32,
    pub height: u32,
    /// SHA-256 of `full`, hex: the storage key.
    pub hash: String,
    pub full: Vec<u8>,
    pub px128: Vec<u8>,
    pub px64: Vec<u8>,
}

impl Processed {
    /// Stored file name of the full image.
    pub fn file_name(&self) -> String {
        format!("{}.{}", self.hash, self.format.extension())
    }
}

/// Memory the decoder may allocate: a 1000×1000 RGBA image at 16 bits is 8 MB.
pub const DECODE_ALLOC_LIMIT: u64 = 32 * 1024 * 1024;

fn corrupt(format: LogoFormat, e: impl std::fmt::Display) -> Refusal {
    let mut reason = e.to_string();
    reason.truncate(160);
    Refusal::Corrupt { format, reason }
}

/// Validates, decodes with limits, and re-encodes.
pub fn process(bytes: &[u8]) -> Result<Processed, Refusal> {
    let header = validate(bytes.len() as u64, bytes)?;
    let format = header.format;
    let mut reader = ImageReader::with_format(
        Cursor::new(bytes),
        match format {
            LogoFormat::Png => ImageFormat::Png,
            LogoFormat::Jpeg => ImageFormat::Jpeg,
        },
    );
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(DECODE_ALLOC_LIMIT);
    reader.limits(limits);
    // Lenient decoders fill a cut-off JPEG with grey; a complete one ends its
    // data with the end-of-image marker (0xFF 0xD9 cannot occur inside
    // entropy-coded data), so require it.
    if format == LogoFormat::Jpeg && !bytes.windows(2).any(|w| w == [0xFF, 0xD9]) {
        return Err(corrupt(
            format,
            "the file ends before the end of the image data",
        ));
    }
    let img = reader.decode().map_err(|e| corrupt(format, e))?;
    if img.width() != header.width || img.height() != header.height {
        return Err(corrupt(
            format,
            "the header and the image data disagree on the size",
        ));
    }
    let full = encode(&img, format).map_err(|e| corrupt(format, e))?;
    let px128 = encode(&img.thumbnail(128, 128), format).map_err(|e| corrupt(format, e))?;
    let px64 = encode(&img.thumbnail(64, 64), format).map_err(|e| corrupt(format, e))?;
    Ok(Processed {
        format,
        width: header.width,
        height: header.height,
        hash: hex::encode(Sha256::digest(&full)),
        full,
        px128,
        px64,
    })
}

fn encode(img: &DynamicImage, format: LogoFormat) -> image::ImageResult<Vec<u8>> {
    let mut out = Cursor::new(Vec::new());
    match format {
        LogoFormat::Png => img.write_to(&mut out, ImageFormat::Png)?,
        LogoFormat::Jpeg => {
            let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90);
            match img {
                DynamicImage::ImageLuma8(g) => g.write_with_encoder(enc)?,
                other => other.to_rgb8().write_with_encoder(enc)?,
            }
        }
    }
    Ok(out.into_inner())
}

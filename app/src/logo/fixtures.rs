//! Generated logo fixtures for tests, benchmarks and the browser tests: every
//! bad case of the logo rules and the accepted edges, built in code (no
//! downloaded files). `server fixtures logos DIR` writes them with a manifest.

use super::MAX_BYTES;
use image::{ImageBuffer, Luma, Rgb, Rgba};
use std::io::Cursor;

/// What should happen to a fixture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "outcome", content = "code", rename_all = "snake_case")]
pub enum Expect {
    /// Accepted by the header rule and by the server.
    Accept,
    /// Refused by the shared header rule (browser and server), with this code.
    Header(&'static str),
    /// Header fine, refused by the server's full decode, with this code.
    Server(&'static str),
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Fixture {
    pub name: &'static str,
    /// The name the file is given (the content decides, not this).
    pub file_name: &'static str,
    #[serde(skip)]
    pub bytes: Vec<u8>,
    pub expect: Expect,
}

fn gradient_rgb(w: u32, h: u32) -> ImageBuffer<Rgb<u8>, Vec<u8>> {
    ImageBuffer::from_fn(w, h, |x, y| {
        Rgb([
            (x * 255 / w.max(1)) as u8,
            (y * 255 / h.max(1)) as u8,
            ((x + y) % 256) as u8,
        ])
    })
}

/// A PNG of `w`×`h` pixels (RGB gradient).
pub fn png(w: u32, h: u32) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    gradient_rgb(w, h)
        .write_to(&mut out, image::ImageFormat::Png)
        .expect("encode png");
    out.into_inner()
}

/// A baseline JPEG of `w`×`h` pixels.
pub fn jpeg(w: u32, h: u32) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    gradient_rgb(w, h)
        .write_to(&mut out, image::ImageFormat::Jpeg)
        .expect("encode jpeg");
    out.into_inner()
}

fn progressive_jpeg(w: u16, h: u16) -> Vec<u8> {
    let img = gradient_rgb(w as u32, h as u32);
    let mut out = Vec::new();
    let mut enc = jpeg_encoder::Encoder::new(&mut out, 85);
    enc.set_progressive(true);
    enc.encode(img.as_raw(), w, h, jpeg_encoder::ColorType::Rgb)
        .expect("progressive jpeg");
    out
}

fn png_with(
    w: u32,
    h: u32,
    setup: impl FnOnce(&mut png::Encoder<'_, &mut Vec<u8>>),
    data: &[u8],
) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        setup(&mut enc);
        let mut writer = enc.write_header().expect("header");
        writer.write_image_data(data).expect("data");
    }
    out
}

fn palette_png(w: u32, h: u32) -> Vec<u8> {
    let palette: Vec<u8> = (0..16u8)
        .flat_map(|i| [i * 16, 255 - i * 16, 128])
        .collect();
    let data: Vec<u8> = (0..w * h).map(|i| ((i % w) * 16 / w) as u8).collect();
    png_with(
        w,
        h,
        |e| {
            e.set_color(png::ColorType::Indexed);
            e.set_depth(png::BitDepth::Eight);
            e.set_palette(palette);
        },
        &data,
    )
}

fn encode_buffer<P: image::PixelWithColorType>(img: &ImageBuffer<P, Vec<P::Subpixel>>) -> Vec<u8>
where
    [P::Subpixel]: image::EncodableLayout,
{
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("encode");
    out.into_inner()
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Rewrites the IHDR size of a PNG (with a correct CRC, so only the data disagrees).
pub fn png_with_ihdr_size(mut png: Vec<u8>, w: u32, h: u32) -> Vec<u8> {
    png[16..20].copy_from_slice(&w.to_be_bytes());
    png[20..24].copy_from_slice(&h.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    png
}

/// The decompression bomb: a header claiming 30000×30000 and a tiny body.
pub fn bomb() -> Vec<u8> {
    let mut b = png_with_ihdr_size(png(120, 120), 30000, 30000);
    b.truncate(b.len().min(400));
    b
}

fn padded(mut bytes: Vec<u8>, total: u64) -> Vec<u8> {
    bytes.resize(total as usize, 0);
    bytes
}

/// Every fixture.
pub fn all() -> Vec<Fixture> {
    let f = |name, file_name, bytes, expect| Fixture {
        name,
        file_name,
        bytes,
        expect,
    };
    let jpeg200 = jpeg(200, 200);
    let png200 = png(200, 200);
    let mut text_png = png_with(
        200,
        200,
        |e| {
            e.set_color(png::ColorType::Rgb);
            e.add_text_chunk(
                "Comment".into(),
                "<script>alert('text-chunk')</script>".into(),
            )
            .expect("text chunk");
        },
        gradient_rgb(200, 200).as_raw(),
    );
    text_png.extend_from_slice(b"<html><script>alert('trailing')</script></html>");
    vec![
        // Refused by the header rule.
        f("empty", "empty.png", Vec::new(), Expect::Header("empty")),
        f("signature only", "signature.png", png200[..8].to_vec(), Expect::Header("bad_header")),
        f("truncated JPEG header", "truncated-header.jpg", jpeg200[..20].to_vec(), Expect::Header("bad_header")),
        f("decompression bomb 30000×30000", "bomb.png", bomb(), Expect::Header("too_large")),
        f("119×119", "119x119.png", png(119, 119), Expect::Header("too_small")),
        f("120×119", "120x119.png", png(120, 119), Expect::Header("too_small")),
        f("1001×1001", "1001x1001.png", png(1001, 1001), Expect::Header("too_large")),
        f("1000×1001", "1000x1001.png", png(1000, 1001), Expect::Header("too_large")),
        f("5,242,881 bytes", "too-big.png", padded(png(200, 200), MAX_BYTES + 1), Expect::Header("too_many_bytes")),
        f("GIF", "gif.png", b"GIF89a\x78\x00\x78\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;".to_vec(), Expect::Header("unsupported_type")),
        f("WebP", "webp.png", b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x77\x00\x1d\x00\x07\x10\x10\x10\x10\x10\x10\x00".to_vec(), Expect::Header("unsupported_type")),
        f("BMP", "bmp.png", [b"BM".as_slice(), &[0u8; 60]].concat(), Expect::Header("unsupported_type")),
        f("TIFF", "tiff.png", [b"II*\x00\x08\x00\x00\x00".as_slice(), &[0u8; 40]].concat(), Expect::Header("unsupported_type")),
        f("ICO", "ico.png", [[0u8, 0, 1, 0, 1, 0, 120, 120].as_slice(), &[0u8; 40]].concat(), Expect::Header("unsupported_type")),
        f("SVG", "svg.png", br##"<svg xmlns="http://www.w3.org/2000/svg" width="200" height="200"><rect width="200" height="200" fill="#888"/></svg>"##.to_vec(), Expect::Header("unsupported_type")),
        f("SVG with script", "svg-script.png", br#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="200" height="200"><script>alert(1)</script></svg>"#.to_vec(), Expect::Header("unsupported_type")),
        f("HTML renamed .png", "html.png", b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>".to_vec(), Expect::Header("unsupported_type")),
        // Header fine; only the server's full decode can tell.
        f("truncated PNG", "truncated.png", png200[..png200.len() * 6 / 10].to_vec(), Expect::Server("corrupt")),
        f("truncated JPEG", "truncated.jpg", jpeg200[..jpeg200.len() * 6 / 10].to_vec(), Expect::Server("corrupt")),
        f("PNG whose IHDR lies about its size", "ihdr-lies.png", png_with_ihdr_size(png(200, 200), 500, 500), Expect::Server("corrupt")),
        // Accepted edges.
        f("exactly 120×120", "120x120.png", png(120, 120), Expect::Accept),
        f("exactly 1000×1000", "1000x1000.png", png(1000, 1000), Expect::Accept),
        f("exactly 5,242,880 bytes", "exact-5mib.png", padded(png(200, 200), MAX_BYTES), Expect::Accept),
        f("1000×120", "1000x120.png", png(1000, 120), Expect::Accept),
        f("palette", "palette.png", palette_png(200, 200), Expect::Accept),
        f("grayscale", "gray.png", encode_buffer(&ImageBuffer::from_fn(200, 200, |x, _| Luma([(x % 256) as u8]))), Expect::Accept),
        f("16-bit", "16bit.png", encode_buffer(&ImageBuffer::from_fn(200, 200, |x, y| Rgb([(x * 300) as u16, (y * 300) as u16, 999u16]))), Expect::Accept),
        f("RGBA", "rgba.png", encode_buffer(&ImageBuffer::from_fn(200, 200, |x, y| Rgba([x as u8, y as u8, 80, (x ^ y) as u8]))), Expect::Accept),
        f("progressive JPEG", "progressive.jpg", progressive_jpeg(300, 200), Expect::Accept),
        f("baseline JPEG", "baseline.jpg", jpeg(300, 300), Expect::Accept),
        f("PNG named logo.jpg", "logo.jpg", png(150, 150), Expect::Accept),
        f("text chunk and trailing HTML", "text-chunk.png", text_png, Expect::Accept),
    ]
}

/// Writes every fixture and `manifest.json` into `dir`.
pub fn write_all(dir: &std::path::Path) -> std::io::Result<usize> {
    std::fs::create_dir_all(dir)?;
    let all = all();
    for f in &all {
        std::fs::write(dir.join(f.file_name), &f.bytes)?;
    }
    let manifest = serde_json::to_string_pretty(&all).map_err(std::io::Error::other)?;
    std::fs::write(dir.join("manifest.json"), manifest)?;
    Ok(all.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logo::{process::process, validate};

    /// The whole fixture set through the shared rule and the server's processing.
    #[test]
    fn every_fixture_gets_its_verdict() {
        for f in all() {
            let header = validate(f.bytes.len() as u64, &f.bytes);
            let full = process(&f.bytes);
            match f.expect {
                Expect::Accept => {
                    assert!(header.is_ok(), "{}: header {:?}", f.name, header);
                    assert!(full.is_ok(), "{}: server {:?}", f.name, full.err());
                }
                Expect::Header(code) => {
                    assert_eq!(
                        header.as_ref().map_err(|e| e.code()).err(),
                        Some(code),
                        "{}",
                        f.name
                    );
                    assert_eq!(
                        full.as_ref().map_err(|e| e.code()).err(),
                        Some(code),
                        "{} (server agrees)",
                        f.name
                    );
                    let msg = header.err().map(|e| e.message()).unwrap_or_default();
                    assert!(!msg.is_empty());
                }
                Expect::Server(code) => {
                    assert!(
                        header.is_ok(),
                        "{}: header should pass, got {:?}",
                        f.name,
                        header
                    );
                    assert_eq!(full.map_err(|e| e.code()).err(), Some(code), "{}", f.name);
                }
            }
        }
    }

    #[test]
    fn re_encoding_drops_text_chunks_and_trailing_bytes() {
        let f = all()
            .into_iter()
            .find(|f| f.file_name == "text-chunk.png")
            .expect("fixture");
        let raw = String::from_utf8_lossy(&f.bytes).to_string();
        assert!(raw.contains("text-chunk") && raw.contains("trailing"));
        let p = process(&f.bytes).expect("accepted");
        let out = String::from_utf8_lossy(&p.full).to_string();
        assert!(!out.contains("text-chunk") && !out.contains("script") && !out.contains("html"));
        assert!(!String::from_utf8_lossy(&p.px64).contains("script"));
    }

    #[test]
    fn dimensions_and_variants() {
        let p = process(&png(1000, 120)).expect("ok");
        assert_eq!((p.width, p.height), (1000, 120));
        let small = image::load_from_memory(&p.px128).expect("decode");
        assert!(small.width() <= 128 && small.height() <= 128);
        let tiny = image::load_from_memory(&p.px64).expect("decode");
        assert_eq!(tiny.width(), 64);
        // Identical uploads hash identically.
        assert_eq!(
            process(&png(200, 200)).expect("a").hash,
            process(&png(200, 200)).expect("b").hash
        );
    }
}

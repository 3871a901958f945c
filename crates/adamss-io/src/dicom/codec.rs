//! Compressed (encapsulated) pixel data of single-frame images: RLE Lossless (PS3.5 Annex G,
//! decoded here), JPEG Lossless (process 14, and its first-order-prediction form SV1) by
//! image-rs' `jpeg-decoder`, JPEG 2000 (reversible and irreversible) by `jpeg2k` over OpenJPEG
//! 2.5 (the C library, built from the source `openjpeg-sys` bundles). Each frame's own header
//! is checked against the file's `Rows`, `Columns` and `BitsAllocated` before it is decoded,
//! so no decoder allocates more than the image the file declares; a decoder that panics on a
//! malformed stream is an error naming the file, not a crash. The frame decodes to the bytes native pixel data would hold (little
//! endian, `BitsAllocated / 8` bytes a pixel), which the reader then reads as it reads those:
//! RLE and JPEG Lossless give back the stored words, read to `BitsStored` bits; JPEG 2000
//! gives each sample's value (signed where its codestream says so), taken whole — an
//! irreversible (lossy) frame may decode past `BitsStored` bits, and SimpleITK (GDCM) keeps
//! such values rather than wrapping them.

use std::path::Path;

use crate::{Error, Result};

const RLE: &str = "1.2.840.10008.1.2.5";
const JPEG_LOSSLESS: &str = "1.2.840.10008.1.2.4.57";
const JPEG_LOSSLESS_SV1: &str = "1.2.840.10008.1.2.4.70";
const J2K_LOSSLESS: &str = "1.2.840.10008.1.2.4.90";
const J2K: &str = "1.2.840.10008.1.2.4.91";

/// The encapsulated transfer syntaxes decoded here, as the error for another one lists them.
pub(crate) const DECODED: &str =
    "RLE Lossless (1.2.840.10008.1.2.5), JPEG Lossless (…4.57, …4.70), JPEG 2000 (…4.90, …4.91)";

/// Whether pixel data in the transfer syntax `uid` is decoded here.
pub(crate) fn decodes(uid: &str) -> bool {
    matches!(
        uid,
        RLE | JPEG_LOSSLESS | JPEG_LOSSLESS_SV1 | J2K_LOSSLESS | J2K
    )
}

/// One image's shape and sample size, as its file declares them.
pub(crate) struct Frame<'a> {
    pub(crate) path: &'a Path,
    pub(crate) rows: usize,
    pub(crate) columns: usize,
    pub(crate) bits_allocated: u16,
}

impl Frame<'_> {
    fn bad(&self, what: &str, reason: impl std::fmt::Display) -> Error {
        Error::Dicom {
            path: self.path.to_owned(),
            reason: format!("{what} pixel data: {reason}"),
        }
    }

    fn pixels(&self) -> usize {
        self.rows * self.columns
    }

    fn width(&self) -> usize {
        usize::from(self.bits_allocated / 8)
    }
}

/// A decoded frame: native little-endian pixel bytes, and whether they hold whole values (not
/// to be read to `BitsStored` bits).
pub(crate) struct Decoded {
    pub(crate) bytes: Vec<u8>,
    pub(crate) whole: bool,
}

/// Decodes the frame `data` (its fragments joined) of transfer syntax `uid` ([`decodes`]).
pub(crate) fn decode(uid: &str, data: &[u8], frame: &Frame) -> Result<Decoded> {
    let name = match uid {
        RLE => "RLE",
        JPEG_LOSSLESS | JPEG_LOSSLESS_SV1 => "JPEG",
        _ => "JPEG 2000",
    };
    let stored = |bytes| Decoded {
        bytes,
        whole: false,
    };
    let run = || match uid {
        RLE => rle(data, frame).map(stored),
        JPEG_LOSSLESS | JPEG_LOSSLESS_SV1 => jpeg(data, frame).map(stored),
        _ => jpeg2000(data, frame).map(|bytes| Decoded { bytes, whole: true }),
    };
    // The decoders are others' code: a panic on a malformed stream is this file's error.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(run))
        .unwrap_or_else(|_| Err(frame.bad(name, "the decoder failed on a malformed stream")))
}

/// RLE Lossless (PS3.5 Annex G): a 64-byte header of segment offsets, one PackBits segment per
/// byte of a sample, most significant first.
fn rle(data: &[u8], frame: &Frame) -> Result<Vec<u8>> {
    let bad = |reason: String| frame.bad("RLE", reason);
    let word = |i: usize| {
        data.get(4 * i..4 * i + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    };
    let segments =
        word(0).ok_or_else(|| bad(format!("{} bytes, no 64-byte header", data.len())))?;
    let width = frame.width();
    if segments != width || data.len() < 64 {
        return Err(bad(format!(
            "{segments} segments, where {} bits a pixel need {width}",
            frame.bits_allocated
        )));
    }
    let n = frame.pixels();
    let mut out = vec![0u8; n * width];
    for s in 0..segments {
        let start = word(1 + s).unwrap_or_default();
        let end = if s + 1 < segments {
            word(2 + s).unwrap_or_default()
        } else {
            data.len()
        };
        if start < 64 || start > end || end > data.len() {
            return Err(bad(format!(
                "segment {s} spans bytes {start}..{end} of {}",
                data.len()
            )));
        }
        // Segment 0 holds each pixel's most significant byte.
        let byte = width - 1 - s;
        let mut src = data[start..end].iter().copied();
        let mut p = 0;
        while p < n {
            let Some(header) = src.next() else {
                return Err(bad(format!("segment {s} ends after {p} of its {n} bytes")));
            };
            match header as i8 {
                -128 => {}
                count @ 0..=127 => {
                    for _ in 0..=count {
                        let value = src.next().filter(|_| p < n).ok_or_else(|| {
                            bad(format!(
                                "segment {s}: a literal run past its end or the image's"
                            ))
                        })?;
                        out[p * width + byte] = value;
                        p += 1;
                    }
                }
                count => {
                    let value = src
                        .next()
                        .ok_or_else(|| bad(format!("segment {s} ends inside a run")))?;
                    let repeat = (1 - isize::from(count)) as usize;
                    if p + repeat > n {
                        return Err(bad(format!("segment {s}: a run past the image's end")));
                    }
                    for q in p..p + repeat {
                        out[q * width + byte] = value;
                    }
                    p += repeat;
                }
            }
        }
    }
    Ok(out)
}

/// JPEG (lossless): the frame header checked, then decoded by `jpeg-decoder`.
fn jpeg(data: &[u8], frame: &Frame) -> Result<Vec<u8>> {
    let bad = |reason: String| frame.bad("JPEG", reason);
    let mut decoder = jpeg_decoder::Decoder::new(data);
    decoder
        .read_info()
        .map_err(|e| bad(format!("unreadable header: {e}")))?;
    let info = decoder
        .info()
        .ok_or_else(|| bad("no frame header".into()))?;
    if (usize::from(info.height), usize::from(info.width)) != (frame.rows, frame.columns) {
        return Err(bad(format!(
            "a {} × {} image, where the file declares {} rows × {} columns",
            info.height, info.width, frame.rows, frame.columns
        )));
    }
    let sample = match (info.pixel_format, frame.bits_allocated) {
        (jpeg_decoder::PixelFormat::L8, 8 | 16) => 1,
        (jpeg_decoder::PixelFormat::L16, 16) => 2,
        (format, bits) => {
            return Err(bad(format!(
                "{format:?} samples under BitsAllocated {bits}: only greyscale of at most {bits} bits is read"
            )))
        }
    };
    decoder.set_max_decoding_buffer_size(frame.pixels() * sample);
    let decoded = decoder
        .decode()
        .map_err(|e| bad(format!("cannot decode: {e}")))?;
    if decoded.len() != frame.pixels() * sample {
        return Err(bad(format!(
            "{} bytes decoded for {} pixels",
            decoded.len(),
            frame.pixels()
        )));
    }
    let width = frame.width();
    let mut out = vec![0u8; frame.pixels() * width];
    for (p, chunk) in decoded.chunks_exact(sample).enumerate() {
        // jpeg-decoder gives 16-bit samples in the machine's byte order.
        let value = if sample == 1 {
            u16::from(chunk[0])
        } else {
            u16::from_ne_bytes([chunk[0], chunk[1]])
        };
        out[p * width..(p + 1) * width].copy_from_slice(&value.to_le_bytes()[..width]);
    }
    Ok(out)
}

/// Most tiles a JPEG 2000 frame may have (one is usual): the decoder keeps state per tile.
const MAX_TILES: u64 = 4096;

/// JPEG 2000: the codestream's size marker (SIZ) checked, then decoded by `jpeg2k`.
fn jpeg2000(data: &[u8], frame: &Frame) -> Result<Vec<u8>> {
    let bad = |reason: String| frame.bad("JPEG 2000", reason);
    // SOC then SIZ open the codestream (inside a JP2 file's `jp2c` box where one wraps it).
    let at = data
        .windows(4)
        .position(|w| w == [0xFF, 0x4F, 0xFF, 0x51])
        .ok_or_else(|| bad("no codestream (SOC, SIZ markers)".into()))?;
    let siz = &data[at + 4..];
    let u16_at = |p: usize| {
        siz.get(p..p + 2)
            .map(|b| u64::from(u16::from_be_bytes([b[0], b[1]])))
    };
    let u32_at = |p: usize| {
        siz.get(p..p + 4)
            .map(|b| u64::from(u32::from_be_bytes([b[0], b[1], b[2], b[3]])))
    };
    let cut = || bad("the size marker (SIZ) is cut short".into());
    // Xsiz, Ysiz, XOsiz, YOsiz, XTsiz, YTsiz, XTOsiz, YTOsiz: after Lsiz and Rsiz.
    let field = |i: usize| u32_at(4 + 4 * i).ok_or_else(cut);
    let (xsiz, ysiz, x0, y0) = (field(0)?, field(1)?, field(2)?, field(3)?);
    let (xt, yt, xt0, yt0) = (field(4)?, field(5)?, field(6)?, field(7)?);
    let components = u16_at(36).ok_or_else(cut)?;
    let (width, height) = (xsiz.saturating_sub(x0), ysiz.saturating_sub(y0));
    if (height, width) != (frame.rows as u64, frame.columns as u64) || components != 1 {
        return Err(bad(format!(
            "a {width} × {height} image of {components} components, where the file declares {} rows × {} columns of one",
            frame.rows, frame.columns
        )));
    }
    let precision = siz
        .get(38)
        .map(|s| u16::from(s & 0x7F) + 1)
        .ok_or_else(cut)?;
    if precision > frame.bits_allocated || siz.get(39..41) != Some(&[1, 1][..]) {
        return Err(bad(format!(
            "{precision}-bit or subsampled samples under BitsAllocated {}",
            frame.bits_allocated
        )));
    }
    let tiles = |size: u64, tile: u64, origin: u64| {
        (tile > 0).then(|| (size.saturating_sub(origin)).div_ceil(tile))
    };
    match (tiles(xsiz, xt, xt0), tiles(ysiz, yt, yt0)) {
        (Some(a), Some(b)) if a * b <= MAX_TILES => {}
        _ => {
            return Err(bad(format!(
                "tiles of {xt} × {yt}: more than {MAX_TILES} tiles"
            )))
        }
    }
    let image = jpeg2k::Image::from_bytes(data).map_err(|e| bad(format!("cannot decode: {e}")))?;
    let [component] = image.components() else {
        return Err(bad(format!(
            "{} components decoded",
            image.components().len()
        )));
    };
    let samples = component.data();
    if samples.len() != frame.pixels() {
        return Err(bad(format!(
            "{} samples decoded for {} pixels",
            samples.len(),
            frame.pixels()
        )));
    }
    let width = frame.width();
    let mut out = vec![0u8; frame.pixels() * width];
    for (p, &v) in samples.iter().enumerate() {
        // Two's complement of the stored width: as native pixel data stores a signed sample.
        out[p * width..(p + 1) * width].copy_from_slice(&v.to_le_bytes()[..width]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(rows: usize, columns: usize, bits_allocated: u16) -> Frame<'static> {
        Frame {
            path: Path::new("x.dcm"),
            rows,
            columns,
            bits_allocated,
        }
    }

    /// PS3.5 Annex G's PackBits: literal runs, replicate runs and the no-op byte, two segments
    /// (most significant byte first) giving 16-bit little-endian pixels.
    #[test]
    fn rle_segments_decode_as_annex_g_describes() {
        let mut data = vec![0u8; 64];
        data[0] = 2;
        let seg0 = [0xFD, 0x01, 0x80]; // replicate 0x01 four times; no-op
        let seg1 = [0x01, 0x0A, 0x0B, 0xFF, 0x0C]; // literal 0A 0B; replicate 0C twice
        data[4] = 64;
        data[8] = 64 + seg0.len() as u8;
        data.extend(seg0);
        data.extend(seg1);
        let out = rle(&data, &frame(2, 2, 16)).unwrap();
        assert_eq!(out, [0x0A, 1, 0x0B, 1, 0x0C, 1, 0x0C, 1]);
        // A segment short of the image, and a run past it, are refused.
        assert!(rle(&data[..data.len() - 1], &frame(2, 2, 16)).is_err());
        assert!(rle(&data, &frame(1, 2, 16)).is_err());
        assert!(rle(&data, &frame(2, 2, 8)).is_err());
    }
}

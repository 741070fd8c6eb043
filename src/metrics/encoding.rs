//! The stored form of a latency histogram: base64 of HdrHistogram's V2+DEFLATE encoding.
//! Stored histograms come from files anyone can edit, so decoding checks every size the
//! encoding declares against the bytes actually there, and bounds what inflating may
//! produce, before anything is allocated by them: a 52-character string claiming a 4 GiB
//! payload is an error, not an allocation.

use std::io::Read;

use base64::Engine;
use flate2::read::ZlibDecoder;
use hdrhistogram::serialization::Deserializer;
use hdrhistogram::Histogram;

/// HdrHistogram's V2 cookies (plain and compressed), as its serializers write them.
const V2_COOKIE: u32 = 0x1c84_9303 | 0x10;
const V2_COMPRESSED_COOKIE: u32 = 0x1c84_9304 | 0x10;
/// Cookie, payload length, normalizing offset, digits, lowest, highest, ratio.
const V2_HEADER_BYTES: usize = 40;
/// The largest uncompressed encoding accepted: a 3-digit histogram of microseconds over
/// any range a latency takes encodes in well under this.
const MAX_DECODED_BYTES: usize = 4 << 20;
/// The largest base64 text accepted (its compressed encoding is smaller still).
const MAX_TEXT_CHARS: usize = MAX_DECODED_BYTES * 4 / 3 + 4;
/// The harness writes 3 significant digits; more would allocate counts for nothing.
const MAX_DIGITS: u32 = 3;
/// The highest trackable value accepted: 2^48 µs, nine years.
const MAX_HIGHEST: u64 = 1 << 48;

/// A stored histogram that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum HistogramError {
    #[error("not base64: {0}")]
    Base64(String),
    #[error("not an HdrHistogram V2 encoding: {0}")]
    Decode(String),
    #[error("larger than the {MAX_DECODED_BYTES} bytes a stored histogram may take")]
    TooLarge,
}

fn decode_error(message: impl Into<String>) -> HistogramError {
    HistogramError::Decode(message.into())
}

/// Decodes `text`, written by the harness (or any HdrHistogram V2 writer at 3 digits).
pub fn decode(text: &str) -> Result<Histogram<u64>, HistogramError> {
    if text.len() > MAX_TEXT_CHARS {
        return Err(HistogramError::TooLarge);
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| HistogramError::Base64(e.to_string()))?;
    let v2 = uncompressed(&bytes)?;
    check_header(&v2)?;
    Deserializer::new()
        .deserialize(&mut v2.as_slice())
        .map_err(|e| decode_error(format!("{e:?}")))
}

/// The first four bytes of `bytes` as a big-endian number, and the rest.
fn split_u32(bytes: &[u8]) -> Result<(u32, &[u8]), HistogramError> {
    match bytes.split_first_chunk::<4>() {
        Some((head, rest)) => Ok((u32::from_be_bytes(*head), rest)),
        None => Err(decode_error("it ends inside its header")),
    }
}

/// The plain V2 encoding, inflated from a compressed one within [`MAX_DECODED_BYTES`].
fn uncompressed(bytes: &[u8]) -> Result<Vec<u8>, HistogramError> {
    let (cookie, rest) = split_u32(bytes)?;
    match cookie {
        V2_COOKIE if bytes.len() <= MAX_DECODED_BYTES => Ok(bytes.to_vec()),
        V2_COOKIE => Err(HistogramError::TooLarge),
        V2_COMPRESSED_COOKIE => {
            let (length, rest) = split_u32(rest)?;
            let compressed = rest.get(..length as usize).ok_or_else(|| {
                decode_error(format!(
                    "it declares {length} compressed bytes and holds {}",
                    rest.len()
                ))
            })?;
            let mut v2 = Vec::new();
            ZlibDecoder::new(compressed)
                .take(MAX_DECODED_BYTES as u64 + 1)
                .read_to_end(&mut v2)
                .map_err(|e| decode_error(format!("cannot inflate it: {e}")))?;
            if v2.len() > MAX_DECODED_BYTES {
                return Err(HistogramError::TooLarge);
            }
            Ok(v2)
        }
        other => Err(decode_error(format!("unknown cookie {other:#x}"))),
    }
}

/// Checks what the plain V2 header declares before the deserializer allocates by it.
fn check_header(v2: &[u8]) -> Result<(), HistogramError> {
    let header = v2
        .get(..V2_HEADER_BYTES)
        .ok_or_else(|| decode_error("it ends inside its header"))?;
    let word = |at: usize| u32::from_be_bytes(header[at..at + 4].try_into().expect("4 bytes"));
    let long = |at: usize| u64::from_be_bytes(header[at..at + 8].try_into().expect("8 bytes"));
    if word(0) != V2_COOKIE {
        return Err(decode_error("the inflated encoding is not V2"));
    }
    let payload = word(4) as usize;
    let held = v2.len() - V2_HEADER_BYTES;
    if payload > held {
        return Err(decode_error(format!(
            "it declares {payload} bytes of counts and holds {held}"
        )));
    }
    if word(12) > MAX_DIGITS {
        return Err(decode_error(format!(
            "{} significant digits; at most {MAX_DIGITS} are read",
            word(12)
        )));
    }
    if long(24) > MAX_HIGHEST {
        return Err(decode_error(format!(
            "its highest trackable value {} is beyond {MAX_HIGHEST}",
            long(24)
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    #[test]
    fn a_header_claiming_gigabytes_is_an_error_not_an_allocation() {
        // 4 GiB of compressed payload declared, nothing there.
        let mut claim = V2_COMPRESSED_COOKIE.to_be_bytes().to_vec();
        claim.extend(u32::MAX.to_be_bytes());
        claim.extend([0u8; 30]);
        let text = base64(&claim);
        assert!(text.len() <= 52, "{}", text.len());
        let e = decode(&text).unwrap_err().to_string();
        assert!(e.contains("declares 4294967295 compressed bytes"), "{e}");
        // A plain V2 header claiming 1 GiB of counts.
        let mut plain = V2_COOKIE.to_be_bytes().to_vec();
        plain.extend((1u32 << 30).to_be_bytes());
        plain.extend([0u8; 32]);
        let e = decode(&base64(&plain)).unwrap_err().to_string();
        assert!(
            e.contains("declares 1073741824 bytes of counts and holds 0"),
            "{e}"
        );
    }

    #[test]
    fn garbage_is_an_error_naming_what_is_wrong() {
        assert!(matches!(decode("!!!"), Err(HistogramError::Base64(_))));
        assert!(matches!(decode("AAAA"), Err(HistogramError::Decode(_))));
        assert!(matches!(decode(""), Err(HistogramError::Decode(_))));
        let huge = "A".repeat(MAX_TEXT_CHARS + 4);
        assert!(matches!(decode(&huge), Err(HistogramError::TooLarge)));
    }
}

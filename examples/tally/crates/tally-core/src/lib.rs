//! Pure-Rust core of `tally`: a few tiny text statistics and a checksum.

/// Number of whitespace-separated words in `text`.
pub fn word_count(text: &str) -> usize {
    text.split_whitespace().count()
}

/// Number of lines in `text`, counted the way `str.splitlines()` does for
/// `\n` / `\r\n`: a trailing newline does not start a new line.
pub fn line_count(text: &str) -> usize {
    text.lines().count()
}

/// Adler-32 checksum of `data` (same result as Python's `zlib.adler32`).
pub fn adler32(data: &[u8]) -> u32 {
    const MOD: u32 = 65_521;
    // 5552 is the largest n such that 255n(n+1)/2 + (n+1)(MOD-1) fits in u32.
    const NMAX: usize = 5552;
    let (mut a, mut b) = (1u32, 0u32);
    for chunk in data.chunks(NMAX) {
        for &byte in chunk {
            a += u32::from(byte);
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    (b << 16) | a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_words() {
        assert_eq!(word_count(""), 0);
        assert_eq!(word_count("  hello   world\n\tagain "), 3);
    }

    #[test]
    fn counts_lines() {
        assert_eq!(line_count(""), 0);
        assert_eq!(line_count("one\ntwo\r\nthree\n"), 3);
        assert_eq!(line_count("no newline"), 1);
    }

    #[test]
    fn adler32_known_values() {
        assert_eq!(adler32(b""), 1);
        // Reference value from the Adler-32 Wikipedia article.
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
        // Longer than one NMAX block, to exercise the modulo folding.
        let big = vec![0xFFu8; 100_000];
        assert_eq!(adler32(&big), 0x149A_302C); // == zlib.adler32(b"\xff" * 100_000)
    }
}

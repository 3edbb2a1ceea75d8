//! Python bindings for `tally-core`, importable as `tally._tally`.

use pyo3::prelude::*;

/// Number of whitespace-separated words in `text`.
#[pyfunction]
fn word_count(text: &str) -> usize {
    tally_core::word_count(text)
}

/// Number of lines in `text` (a trailing newline does not add a line).
#[pyfunction]
fn line_count(text: &str) -> usize {
    tally_core::line_count(text)
}

/// Adler-32 checksum of `data`; equal to `zlib.adler32(data)`.
#[pyfunction]
fn adler32(data: &[u8]) -> u32 {
    tally_core::adler32(data)
}

#[pymodule]
fn _tally(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(word_count, m)?)?;
    m.add_function(wrap_pyfunction!(line_count, m)?)?;
    m.add_function(wrap_pyfunction!(adler32, m)?)?;
    Ok(())
}

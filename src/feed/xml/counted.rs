//! A `BufRead` wrapper that counts lines and bytes as the XML parser consumes them, and refuses
//! to let one token (tag, text, DTD…) grow past a limit so that memory stays bounded whatever
//! the input.

use std::io::{self, BufRead, Read};

/// Largest slice handed to the parser at once.
const CHUNK: usize = 64 << 10;

pub struct Counted<R> {
    inner: R,
    /// Newlines consumed so far.
    lines: u64,
    bytes: u64,
    /// Bytes consumed since the last `mark`, i.e. by the token being read.
    since_mark: u64,
    max_token: u64,
}

impl<R: BufRead> Counted<R> {
    pub fn new(inner: R, max_token: u64) -> Self {
        Self { inner, lines: 0, bytes: 0, since_mark: 0, max_token }
    }

    /// 1-based line of the next unread byte.
    pub fn line(&self) -> u64 {
        self.lines + 1
    }

    /// Bytes consumed so far.
    pub fn consumed(&self) -> u64 {
        self.bytes
    }

    /// Starts a new token.
    pub fn mark(&mut self) {
        self.since_mark = 0;
    }
}

/// The error `fill_buf` returns when a token passes the limit; `reader.rs` recognises it.
#[derive(Debug)]
pub struct TokenTooLarge(pub u64);

impl std::fmt::Display for TokenTooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "an XML token (tag, text or declaration) is larger than {} bytes", self.0)
    }
}

impl std::error::Error for TokenTooLarge {}

impl<R: BufRead> Read for Counted<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counted<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.since_mark > self.max_token {
            return Err(io::Error::new(io::ErrorKind::InvalidData, TokenTooLarge(self.max_token)));
        }
        // Hand out bounded slices, so that the limit trips even when the inner reader holds
        // everything in one buffer (an in-memory cursor).
        let buffer = self.inner.fill_buf()?;
        Ok(&buffer[..buffer.len().min(CHUNK)])
    }

    fn consume(&mut self, amount: usize) {
        if let Ok(buffer) = self.inner.fill_buf() {
            let consumed = &buffer[..amount.min(buffer.len())];
            self.lines += consumed.iter().filter(|&&b| b == b'\n').count() as u64;
        }
        self.bytes += amount as u64;
        self.since_mark += amount as u64;
        self.inner.consume(amount);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_lines_and_limits_tokens() {
        let mut reader = Counted::new(io::Cursor::new(b"a\nb\nc".to_vec()), 3);
        let mut first = String::new();
        reader.read_line(&mut first).unwrap();
        assert_eq!((reader.line(), reader.consumed()), (2, 2));
        reader.mark();
        let mut rest = Vec::new();
        reader.read_to_end(&mut rest).unwrap();
        assert_eq!(reader.line(), 3);

        let mut long = Counted::new(io::Cursor::new(vec![b'x'; 100]), 10);
        let mut sink = Vec::new();
        let error = long.read_to_end(&mut sink).unwrap_err();
        assert!(error.get_ref().is_some_and(|e| e.is::<TokenTooLarge>()), "{error}");
    }
}

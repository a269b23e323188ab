//! The bundle file's writer: a write buffer the ZIP writer can seek back into.
//!
//! After each entry the `zip` crate seeks back to the entry's local header to
//! fill in its CRC-32 and sizes, then forward again, and it asks for the
//! stream position at every entry. `std::io::BufWriter` flushes on every seek,
//! so a bundle of a few hundred small snapshots cost a few thousand small
//! writes and seeks (issue 8's export row). [`PatchBuffer`] keeps the unwritten
//! tail of the file in memory: a seek that lands inside it only moves a
//! cursor, a write there overwrites in place, and the buffer goes to the file
//! in large writes; a write as large as the buffer goes straight to the file. A seek before the buffer (an entry larger than the
//! buffer) flushes and seeks the file for real, so any seek pattern stays
//! correct.

use std::io::{Seek, SeekFrom, Write};

/// Buffered writer over a seekable file whose buffered bytes can be rewritten.
pub struct PatchBuffer<W: Write + Seek> {
    inner: W,
    /// File offset of `buf[0]`; `inner` is positioned there.
    base: u64,
    buf: Vec<u8>,
    /// The write position, relative to `base` (at most `buf.len()`).
    at: usize,
    capacity: usize,
}

impl<W: Write + Seek> PatchBuffer<W> {
    /// Buffers up to about `capacity` bytes before writing to `inner`,
    /// which must be positioned at its start.
    pub fn new(inner: W, capacity: usize) -> PatchBuffer<W> {
        PatchBuffer {
            inner,
            base: 0,
            buf: Vec::with_capacity(capacity),
            at: 0,
            capacity: capacity.max(1),
        }
    }

    /// Writes out the buffer; the position stays where it was.
    fn spill(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        self.inner.write_all(&self.buf)?;
        let end = self.base + self.buf.len() as u64;
        let position = self.base + self.at as u64;
        if position != end {
            self.inner.seek(SeekFrom::Start(position))?;
        }
        self.base = position;
        self.buf.clear();
        self.at = 0;
        Ok(())
    }

    /// Writes out what is buffered and returns the file.
    pub fn into_inner(mut self) -> std::io::Result<W> {
        self.spill()?;
        self.inner.flush()?;
        Ok(self.inner)
    }
}

impl<W: Write + Seek> Write for PatchBuffer<W> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if self.at == self.buf.len() && data.len() >= self.capacity {
            // A large write goes to the file straight from the caller's
            // (cache-warm) bytes, as `BufWriter` does: copying it through the
            // buffer cost more than the write itself (1 GiB bundle).
            self.spill()?;
            self.inner.write_all(data)?;
            self.base += data.len() as u64;
            return Ok(data.len());
        }
        let overlap = data.len().min(self.buf.len() - self.at);
        self.buf[self.at..self.at + overlap].copy_from_slice(&data[..overlap]);
        self.buf.extend_from_slice(&data[overlap..]);
        self.at += data.len();
        if self.at == self.buf.len() && self.buf.len() >= self.capacity {
            self.spill()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.spill()?;
        self.inner.flush()
    }
}

impl<W: Write + Seek> Seek for PatchBuffer<W> {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let position = self.base + self.at as u64;
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::Current(delta) => position.checked_add_signed(delta),
            SeekFrom::End(_) => None,
        };
        match target {
            Some(target) if target >= self.base && target <= self.base + self.buf.len() as u64 => {
                self.at = (target - self.base) as usize;
                Ok(target)
            }
            Some(target) => {
                self.spill()?;
                self.base = self.inner.seek(SeekFrom::Start(target))?;
                Ok(self.base)
            }
            None => {
                // The file's end may lie in the buffer: write it out and let the file answer.
                self.spill()?;
                self.base = self.inner.seek(to)?;
                Ok(self.base)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::io::Cursor;

    #[derive(Clone, Debug)]
    enum Op {
        Write(Vec<u8>),
        Seek(SeekFrom),
        Position,
        Flush,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            // Not empty: past the end, `Cursor` pads even for no bytes, a file does not.
            4 => proptest::collection::vec(any::<u8>(), 1..40).prop_map(Op::Write),
            2 => (0u64..120).prop_map(|n| Op::Seek(SeekFrom::Start(n))),
            1 => (-60i64..60).prop_map(|d| Op::Seek(SeekFrom::Current(d))),
            1 => (-30i64..5).prop_map(|d| Op::Seek(SeekFrom::End(d))),
            1 => Just(Op::Position),
            1 => Just(Op::Flush),
        ]
    }

    proptest! {
        /// Any mix of writes and seeks leaves the same bytes as writing to the
        /// file directly, and every seek answers the same position.
        #[test]
        fn same_bytes_and_positions_as_the_file(ops in proptest::collection::vec(op(), 0..60), capacity in 1usize..64) {
            let mut direct = Cursor::new(Vec::new());
            let mut buffered = PatchBuffer::new(Cursor::new(Vec::new()), capacity);
            for op in &ops {
                match op {
                    Op::Write(bytes) => {
                        direct.write_all(bytes).unwrap();
                        buffered.write_all(bytes).unwrap();
                    }
                    Op::Seek(to) => {
                        let expected = direct.seek(*to).map_err(|e| e.kind());
                        let got = buffered.seek(*to).map_err(|e| e.kind());
                        prop_assert_eq!(got, expected);
                    }
                    Op::Position => {
                        prop_assert_eq!(buffered.stream_position().unwrap(), direct.stream_position().unwrap());
                    }
                    Op::Flush => buffered.flush().unwrap(),
                }
            }
            prop_assert_eq!(buffered.into_inner().unwrap().into_inner(), direct.into_inner());
        }
    }

    #[test]
    fn a_header_patched_inside_the_buffer_costs_no_file_write() {
        struct Counting {
            file: Cursor<Vec<u8>>,
            writes: usize,
            seeks: usize,
        }
        impl Write for Counting {
            fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
                self.writes += 1;
                self.file.write(data)
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        impl Seek for Counting {
            fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
                self.seeks += 1;
                self.file.seek(to)
            }
        }
        let counting = Counting {
            file: Cursor::new(Vec::new()),
            writes: 0,
            seeks: 0,
        };
        let mut out = PatchBuffer::new(counting, 1 << 20);
        for entry in 0..500u32 {
            let header = out.stream_position().unwrap();
            out.write_all(&[0; 30]).unwrap();
            out.write_all(&entry.to_le_bytes().repeat(100)).unwrap();
            let end = out.stream_position().unwrap();
            out.seek(SeekFrom::Start(header + 14)).unwrap();
            out.write_all(&entry.to_le_bytes()).unwrap();
            out.seek(SeekFrom::Start(end)).unwrap();
        }
        let counting = out.into_inner().unwrap();
        assert_eq!((counting.writes, counting.seeks), (1, 0));
        let bytes = counting.file.into_inner();
        assert_eq!(bytes.len(), 500 * 430);
        assert_eq!(&bytes[430 * 7 + 14..430 * 7 + 18], &7u32.to_le_bytes());
    }
}

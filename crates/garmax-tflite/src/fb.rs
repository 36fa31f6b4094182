//! A minimal, bounds-checked FlatBuffers reader.
//!
//! The `flatbuffers` crate reads fields without bounds checks unless the buffer
//! is first run through a verifier generated from the schema. We only need a
//! handful of TFLite tables, so instead every access here is checked as it is
//! made: a truncated or hostile file yields [`ConvertError::Malformed`], never a
//! panic or an out-of-bounds read.
//!
//! Wire format (FlatBuffers, little-endian): a table starts with an `i32`
//! offset back to its vtable; the vtable holds `u16` byte size of the vtable,
//! `u16` size of the table, then one `u16` per field giving the field's offset
//! inside the table (0 = absent, use the default). Reference fields (tables,
//! vectors, strings) hold a `u32` offset relative to the field's own position.
//! Vectors and strings start with a `u32` element count.

use crate::ConvertError;

/// Result type of the reader.
pub(crate) type FbResult<T> = Result<T, ConvertError>;

fn malformed(what: impl Into<String>) -> ConvertError {
    ConvertError::Malformed(what.into())
}

/// The whole flatbuffer; every read goes through its checked accessors.
#[derive(Clone, Copy)]
pub(crate) struct Buf<'a> {
    pub(crate) data: &'a [u8],
}

impl<'a> Buf<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Self { data }
    }

    fn bytes<const N: usize>(&self, pos: usize) -> FbResult<[u8; N]> {
        let end = pos
            .checked_add(N)
            .ok_or_else(|| malformed("offset overflow"))?;
        let slice = self
            .data
            .get(pos..end)
            .ok_or_else(|| malformed(format!("read of {N} bytes at {pos} past end of file")))?;
        let mut out = [0u8; N];
        out.copy_from_slice(slice);
        Ok(out)
    }

    pub(crate) fn u8_at(&self, pos: usize) -> FbResult<u8> {
        Ok(self.bytes::<1>(pos)?[0])
    }
    pub(crate) fn u16_at(&self, pos: usize) -> FbResult<u16> {
        Ok(u16::from_le_bytes(self.bytes(pos)?))
    }
    pub(crate) fn u32_at(&self, pos: usize) -> FbResult<u32> {
        Ok(u32::from_le_bytes(self.bytes(pos)?))
    }
    pub(crate) fn i32_at(&self, pos: usize) -> FbResult<i32> {
        Ok(i32::from_le_bytes(self.bytes(pos)?))
    }
    pub(crate) fn u64_at(&self, pos: usize) -> FbResult<u64> {
        Ok(u64::from_le_bytes(self.bytes(pos)?))
    }
    pub(crate) fn i64_at(&self, pos: usize) -> FbResult<i64> {
        Ok(i64::from_le_bytes(self.bytes(pos)?))
    }
    pub(crate) fn f32_at(&self, pos: usize) -> FbResult<f32> {
        Ok(f32::from_le_bytes(self.bytes(pos)?))
    }

    /// Follows a `u32` forward offset stored at `pos`.
    fn deref(&self, pos: usize) -> FbResult<usize> {
        let off = self.u32_at(pos)? as usize;
        let target = pos
            .checked_add(off)
            .ok_or_else(|| malformed("offset overflow"))?;
        if target >= self.data.len() {
            return Err(malformed(format!(
                "offset at {pos} points past end of file"
            )));
        }
        Ok(target)
    }

    /// The root table (the first `u32` of the buffer points to it).
    pub(crate) fn root(&self) -> FbResult<Table<'a>> {
        Table::at(*self, self.deref(0)?)
    }
}

/// A table: its position and its vtable, both already validated.
#[derive(Clone, Copy)]
pub(crate) struct Table<'a> {
    buf: Buf<'a>,
    pos: usize,
    vtable: usize,
    vtable_len: usize,
}

impl<'a> Table<'a> {
    fn at(buf: Buf<'a>, pos: usize) -> FbResult<Self> {
        let soff = buf.i32_at(pos)? as i64;
        let vtable = pos as i64 - soff;
        if vtable < 0 || vtable as usize >= buf.data.len() {
            return Err(malformed(format!(
                "table at {pos} has vtable out of bounds"
            )));
        }
        let vtable = vtable as usize;
        let vtable_len = buf.u16_at(vtable)? as usize;
        if vtable_len < 4 || !vtable_len.is_multiple_of(2) {
            return Err(malformed(format!(
                "table at {pos} has invalid vtable size {vtable_len}"
            )));
        }
        // The whole vtable must lie in the buffer so later field lookups
        // cannot step out of it.
        if vtable + vtable_len > buf.data.len() {
            return Err(malformed(format!("vtable of table at {pos} truncated")));
        }
        Ok(Self {
            buf,
            pos,
            vtable,
            vtable_len,
        })
    }

    /// Absolute position of field `index`, or `None` when absent.
    fn field(&self, index: usize) -> FbResult<Option<usize>> {
        let entry = 4 + 2 * index;
        if entry + 2 > self.vtable_len {
            return Ok(None);
        }
        let off = self.buf.u16_at(self.vtable + entry)? as usize;
        if off == 0 {
            return Ok(None);
        }
        Ok(Some(self.pos + off))
    }

    pub(crate) fn u8_or(&self, index: usize, default: u8) -> FbResult<u8> {
        match self.field(index)? {
            Some(p) => self.buf.u8_at(p),
            None => Ok(default),
        }
    }
    pub(crate) fn bool_or(&self, index: usize, default: bool) -> FbResult<bool> {
        Ok(self.u8_or(index, u8::from(default))? != 0)
    }
    pub(crate) fn i32_or(&self, index: usize, default: i32) -> FbResult<i32> {
        match self.field(index)? {
            Some(p) => self.buf.i32_at(p),
            None => Ok(default),
        }
    }
    pub(crate) fn u32_or(&self, index: usize, default: u32) -> FbResult<u32> {
        match self.field(index)? {
            Some(p) => self.buf.u32_at(p),
            None => Ok(default),
        }
    }
    pub(crate) fn u64_or(&self, index: usize, default: u64) -> FbResult<u64> {
        match self.field(index)? {
            Some(p) => self.buf.u64_at(p),
            None => Ok(default),
        }
    }

    pub(crate) fn table(&self, index: usize) -> FbResult<Option<Table<'a>>> {
        match self.field(index)? {
            Some(p) => Ok(Some(Table::at(self.buf, self.buf.deref(p)?)?)),
            None => Ok(None),
        }
    }

    pub(crate) fn vector(&self, index: usize, elem_size: usize) -> FbResult<Option<Vector<'a>>> {
        match self.field(index)? {
            Some(p) => Ok(Some(Vector::at(self.buf, self.buf.deref(p)?, elem_size)?)),
            None => Ok(None),
        }
    }

    pub(crate) fn string(&self, index: usize) -> FbResult<Option<String>> {
        match self.vector(index, 1)? {
            Some(v) => Ok(Some(String::from_utf8_lossy(v.bytes()).into_owned())),
            None => Ok(None),
        }
    }

    pub(crate) fn i32_vec(&self, index: usize) -> FbResult<Vec<i32>> {
        match self.vector(index, 4)? {
            Some(v) => (0..v.len()).map(|i| v.i32(i)).collect(),
            None => Ok(Vec::new()),
        }
    }

    pub(crate) fn table_vec(&self, index: usize) -> FbResult<Vec<Table<'a>>> {
        match self.vector(index, 4)? {
            Some(v) => (0..v.len()).map(|i| v.table(i)).collect(),
            None => Ok(Vec::new()),
        }
    }
}

/// A vector whose element bytes are known to lie inside the buffer.
#[derive(Clone, Copy)]
pub(crate) struct Vector<'a> {
    buf: Buf<'a>,
    start: usize,
    len: usize,
    elem_size: usize,
}

impl<'a> Vector<'a> {
    fn at(buf: Buf<'a>, pos: usize, elem_size: usize) -> FbResult<Self> {
        let len = buf.u32_at(pos)? as usize;
        let start = pos + 4;
        let end = len
            .checked_mul(elem_size)
            .and_then(|n| n.checked_add(start))
            .ok_or_else(|| malformed("vector size overflow"))?;
        if end > buf.data.len() {
            return Err(malformed(format!(
                "vector at {pos} of {len} elements runs past end of file"
            )));
        }
        Ok(Self {
            buf,
            start,
            len,
            elem_size,
        })
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn bytes(&self) -> &'a [u8] {
        // In range: checked in `at`.
        &self.buf.data[self.start..self.start + self.len * self.elem_size]
    }

    fn elem(&self, i: usize) -> FbResult<usize> {
        if i >= self.len {
            return Err(malformed("vector index out of range"));
        }
        Ok(self.start + i * self.elem_size)
    }

    pub(crate) fn i32(&self, i: usize) -> FbResult<i32> {
        self.buf.i32_at(self.elem(i)?)
    }
    pub(crate) fn u16(&self, i: usize) -> FbResult<u16> {
        self.buf.u16_at(self.elem(i)?)
    }
    pub(crate) fn u8(&self, i: usize) -> FbResult<u8> {
        self.buf.u8_at(self.elem(i)?)
    }
    pub(crate) fn f32(&self, i: usize) -> FbResult<f32> {
        self.buf.f32_at(self.elem(i)?)
    }
    pub(crate) fn i64(&self, i: usize) -> FbResult<i64> {
        self.buf.i64_at(self.elem(i)?)
    }
    pub(crate) fn table(&self, i: usize) -> FbResult<Table<'a>> {
        let p = self.elem(i)?;
        Table::at(self.buf, self.buf.deref(p)?)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A tiny FlatBuffers builder for tests, enough to hand-build small
    /// TFLite models. Objects are created bottom-up (children before the
    /// tables that reference them) and laid out in reverse creation order,
    /// so every reference points forward as the format requires. No vtable
    /// sharing.
    #[derive(Default)]
    pub(crate) struct Builder {
        /// Serialised objects; index = handle.
        objects: Vec<Obj>,
    }

    pub(crate) enum Field {
        U8(u8),
        I32(i32),
        U32(u32),
        Ref(usize),
    }

    enum Obj {
        Table(Vec<Option<Field>>),
        Bytes { count: u32, data: Vec<u8> },
        RefVec(Vec<usize>),
    }

    impl Builder {
        pub(crate) fn table(&mut self, fields: Vec<Option<Field>>) -> usize {
            self.objects.push(Obj::Table(fields));
            self.objects.len() - 1
        }
        pub(crate) fn bytes(&mut self, count: usize, data: Vec<u8>) -> usize {
            self.objects.push(Obj::Bytes {
                count: count as u32,
                data,
            });
            self.objects.len() - 1
        }
        pub(crate) fn i32s(&mut self, v: &[i32]) -> usize {
            self.bytes(v.len(), v.iter().flat_map(|x| x.to_le_bytes()).collect())
        }
        pub(crate) fn u16s(&mut self, v: &[u16]) -> usize {
            self.bytes(v.len(), v.iter().flat_map(|x| x.to_le_bytes()).collect())
        }
        /// A `[ubyte]` vector (e.g. a buffer's data).
        pub(crate) fn ubytes(&mut self, v: Vec<u8>) -> usize {
            self.bytes(v.len(), v)
        }
        pub(crate) fn string(&mut self, s: &str) -> usize {
            let mut d = s.as_bytes().to_vec();
            d.push(0);
            self.objects.push(Obj::Bytes {
                count: s.len() as u32,
                data: d,
            });
            self.objects.len() - 1
        }
        pub(crate) fn refs(&mut self, v: Vec<usize>) -> usize {
            self.objects.push(Obj::RefVec(v));
            self.objects.len() - 1
        }

        /// Lays the objects out (last created first, after the root offset and
        /// file identifier) and patches references; objects are 8-aligned.
        pub(crate) fn finish(&self, root: usize) -> Vec<u8> {
            let mut out = vec![0u8; 8];
            out[4..8].copy_from_slice(b"TFL3");
            let mut pos = vec![0usize; self.objects.len()];
            let mut patches: Vec<(usize, usize)> = Vec::new(); // (field pos, target obj)
            for (i, obj) in self.objects.iter().enumerate().rev() {
                while !out.len().is_multiple_of(8) {
                    out.push(0);
                }
                match obj {
                    Obj::Table(fields) => {
                        // vtable first, then table (soffset = table - vtable).
                        let vt = out.len();
                        let mut offs = Vec::new();
                        let mut size = 4usize;
                        for f in fields {
                            match f {
                                None => offs.push(0u16),
                                Some(f) => {
                                    let w = if matches!(f, Field::U8(_)) { 1 } else { 4 };
                                    size = size.div_ceil(w) * w;
                                    offs.push(size as u16);
                                    size += w;
                                }
                            }
                        }
                        let vt_len = 4 + 2 * offs.len();
                        out.extend((vt_len as u16).to_le_bytes());
                        out.extend((size as u16).to_le_bytes());
                        for o in &offs {
                            out.extend(o.to_le_bytes());
                        }
                        while !out.len().is_multiple_of(4) {
                            out.push(0);
                        }
                        let t = out.len();
                        pos[i] = t;
                        out.resize(t + size.div_ceil(4) * 4, 0);
                        out[t..t + 4].copy_from_slice(&((t - vt) as i32).to_le_bytes());
                        for (f, o) in fields.iter().zip(&offs) {
                            let p = t + *o as usize;
                            match f {
                                None => {}
                                Some(Field::U8(v)) => out[p] = *v,
                                Some(Field::I32(v)) => {
                                    out[p..p + 4].copy_from_slice(&v.to_le_bytes())
                                }
                                Some(Field::U32(v)) => {
                                    out[p..p + 4].copy_from_slice(&v.to_le_bytes())
                                }
                                Some(Field::Ref(r)) => patches.push((p, *r)),
                            }
                        }
                    }
                    Obj::Bytes { count, data } => {
                        pos[i] = out.len();
                        out.extend(count.to_le_bytes());
                        out.extend(data);
                    }
                    Obj::RefVec(v) => {
                        pos[i] = out.len();
                        out.extend((v.len() as u32).to_le_bytes());
                        for r in v {
                            patches.push((out.len(), *r));
                            out.extend([0u8; 4]);
                        }
                    }
                }
            }
            // Forward offsets only: an object referenced must come later.
            let root_pos = pos[root];
            out[0..4].copy_from_slice(&(root_pos as u32).to_le_bytes());
            for (p, r) in patches {
                let target = pos[r];
                assert!(
                    target > p,
                    "test builder needs referenced objects created before referrers"
                );
                out[p..p + 4].copy_from_slice(&((target - p) as u32).to_le_bytes());
            }
            out
        }
    }

    #[test]
    fn reads_scalars_vectors_strings_and_defaults() {
        let mut b = Builder::default();
        let v = b.i32s(&[1, 2, 3]);
        let s = b.string("hello");
        let root = b.table(vec![
            Some(Field::I32(-7)),
            None,
            Some(Field::Ref(v)),
            Some(Field::Ref(s)),
            Some(Field::U8(3)),
        ]);
        let data = b.finish(root);
        let t = Buf::new(&data).root().unwrap();
        assert_eq!(t.i32_or(0, 5).unwrap(), -7);
        assert_eq!(t.i32_or(1, 5).unwrap(), 5);
        assert_eq!(t.i32_vec(2).unwrap(), vec![1, 2, 3]);
        assert_eq!(t.string(3).unwrap().as_deref(), Some("hello"));
        assert_eq!(t.u8_or(4, 0).unwrap(), 3);
        // A field beyond the vtable is absent, not an error.
        assert_eq!(t.i32_or(40, 9).unwrap(), 9);
    }

    #[test]
    fn out_of_bounds_is_an_error() {
        assert!(Buf::new(&[]).root().is_err());
        assert!(Buf::new(&[0xff, 0xff, 0xff, 0x7f]).root().is_err());
        // Root points inside, vtable offset points far before the start.
        let mut d = vec![0u8; 16];
        d[0] = 8;
        d[8..12].copy_from_slice(&1000i32.to_le_bytes());
        assert!(Buf::new(&d).root().is_err());
        // Vector claiming more elements than the file holds.
        let mut b = Builder::default();
        let v = b.i32s(&[1, 2]);
        let root = b.table(vec![Some(Field::Ref(v))]);
        let mut data = b.finish(root);
        let n = data.len();
        // The vector is laid out last: its count is 8 bytes before the end.
        data[n - 12..n - 8].copy_from_slice(&1_000_000u32.to_le_bytes());
        let t = Buf::new(&data).root().unwrap();
        assert!(t.i32_vec(0).is_err());
    }
}

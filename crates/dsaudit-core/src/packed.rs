//! Numeric vectors as the cache stores them: one little-endian byte string each.
//! postcard writes a `Vec<u128>` number by number, as varints of up to 19 bytes, a
//! loop each way; the state of 100,000 images holds a few million such numbers. As
//! bytes it is one copy each way. Little-endian whatever the machine, so that a cache
//! directory on a shared disk reads the same everywhere.
//!
//! Use with `#[serde(with = "crate::packed")]` on a `Vec` of `u128`, `f64`, `f32` or
//! pairs of them.

use serde::de::Error as _;
use serde::{Deserializer, Serializer};
use std::borrow::Cow;

/// A number of fixed width, as little-endian bytes.
pub trait Packed: Sized + Copy {
    const WIDTH: usize;
    fn put(self, out: &mut Vec<u8>);
    /// `bytes` is `WIDTH` long.
    fn get(bytes: &[u8]) -> Self;
}

macro_rules! packed_number {
    ($($t:ty),*) => {$(
        impl Packed for $t {
            const WIDTH: usize = std::mem::size_of::<$t>();
            fn put(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            fn get(bytes: &[u8]) -> Self {
                <$t>::from_le_bytes(bytes.try_into().expect("a chunk of the number's width"))
            }
        }
    )*};
}
packed_number!(u128, f64, f32);

impl<A: Packed, B: Packed> Packed for (A, B) {
    const WIDTH: usize = A::WIDTH + B::WIDTH;
    fn put(self, out: &mut Vec<u8>) {
        self.0.put(out);
        self.1.put(out);
    }
    fn get(bytes: &[u8]) -> Self {
        let (a, b) = bytes.split_at(A::WIDTH);
        (A::get(a), B::get(b))
    }
}

pub fn serialize<T: Packed, S: Serializer>(v: &[T], s: S) -> Result<S::Ok, S::Error> {
    let mut out = Vec::with_capacity(v.len() * T::WIDTH);
    for &x in v {
        x.put(&mut out);
    }
    s.serialize_bytes(&out)
}

pub fn deserialize<'de, T: Packed, D: Deserializer<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    let bytes: Cow<'de, [u8]> = serde_bytes::deserialize(d)?;
    if !bytes.len().is_multiple_of(T::WIDTH) {
        return Err(D::Error::custom(format!(
            "{} bytes are not a whole number of {}-byte values",
            bytes.len(),
            T::WIDTH
        )));
    }
    Ok(bytes.chunks_exact(T::WIDTH).map(T::get).collect())
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize, PartialEq, Debug, Default)]
    struct S {
        #[serde(with = "crate::packed")]
        ids: Vec<u128>,
        #[serde(with = "crate::packed")]
        pairs: Vec<(u128, u128)>,
        #[serde(with = "crate::packed")]
        xs: Vec<f64>,
        #[serde(with = "crate::packed")]
        ys: Vec<f32>,
    }

    #[test]
    fn round_trips_and_rejects_a_ragged_length() {
        let s = S {
            ids: vec![0, 1, u128::MAX, 0x0123_4567_89ab_cdef_0011_2233_4455_6677],
            pairs: vec![(1, 2), (u128::MAX, 0)],
            xs: vec![0.0, -1.5, f64::INFINITY, f64::MIN_POSITIVE],
            ys: vec![],
        };
        let bytes = postcard::to_allocvec(&s).unwrap();
        // One length and the raw numbers: no varints.
        assert_eq!(bytes.len(), 1 + 64 + 1 + 64 + 1 + 32 + 1);
        assert_eq!(postcard::from_bytes::<S>(&bytes).unwrap(), s);
        let nan = S {
            xs: vec![f64::NAN],
            ..Default::default()
        };
        let back: S = postcard::from_bytes(&postcard::to_allocvec(&nan).unwrap()).unwrap();
        assert!(back.xs[0].is_nan());
        // 17 bytes where 16-byte values are stored: an error, not a panic.
        let mut ragged = vec![17u8];
        ragged.extend([0u8; 17]);
        ragged.extend([0u8, 0, 0]);
        assert!(postcard::from_bytes::<S>(&ragged).is_err());
    }
}

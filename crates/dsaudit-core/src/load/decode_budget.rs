//! One memory budget for every image decode in the process. Each decode asks for
//! the memory its pixels will take (read from the header, before decoding) and waits
//! while the images already being decoded hold the rest: a folder of large legal
//! images takes at most the budget at once, not the per-image limit times the number
//! of worker threads (4.1 GB at 8 threads for 2 MB of PNGs before this).

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, ImageResult, Limits};
use std::io::Cursor;
use std::sync::{Condvar, Mutex};

/// The most memory one decode may allocate; `image`'s own default, which refuses
/// decompression bombs.
pub const MAX_DECODE: u64 = 512 << 20;

/// The memory all decodes in flight may hold together. A decode reserves twice its
/// pixels (the grey copy and the thumbnails made from them come on top), capped at
/// the budget, so the largest image allowed still runs, alone.
pub const BUDGET: u64 = 640 << 20;

/// Images below this size decode without asking: the budget's lock would cost more
/// than the memory it guards (a 32×32 PNG needs 3 KiB).
const FREE: u64 = 4 << 20;

struct Budget {
    used: Mutex<u64>,
    freed: Condvar,
}

static SHARED: Budget = Budget {
    used: Mutex::new(0),
    freed: Condvar::new(),
};

/// Memory held for one decoded image; given back when dropped (panics included).
/// Kept alive for as long as the image is: the image is most of that memory.
pub struct Held(u64);

impl Budget {
    fn take(&'static self, want: u64) -> Held {
        let want = want.min(BUDGET);
        let mut used = self.used.lock().unwrap_or_else(|p| p.into_inner());
        while *used + want > BUDGET {
            used = self.freed.wait(used).unwrap_or_else(|p| p.into_inner());
        }
        *used += want;
        Held(want)
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let mut used = SHARED.used.lock().unwrap_or_else(|p| p.into_inner());
        *used -= self.0;
        SHARED.freed.notify_all();
    }
}

/// Decodes an image whose format is known, within the per-image limit and the
/// process-wide budget; the budget's share is held until the returned guard is
/// dropped, which the caller does when it is done with the image and its copies.
pub fn decode(bytes: &[u8], format: ImageFormat) -> ImageResult<(DynamicImage, Option<Held>)> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_DECODE);
    reader.limits(limits.clone());
    let decoder = reader.into_decoder()?;
    // `ImageReader::decode` checks the pixels' size against the limit before it
    // allocates them; a decoder taken out of the reader does not (the fuzzer found a
    // 733-byte PNG header claiming 196 GB of pixels, which aborted the process).
    limits.reserve(decoder.total_bytes())?;
    let need = decoder.total_bytes().saturating_mul(2);
    let held = (need > FREE).then(|| SHARED.take(need));
    Ok((DynamicImage::from_decoder(decoder)?, held))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_is_given_back() {
        let a = SHARED.take(BUDGET * 3);
        assert_eq!(a.0, BUDGET);
        drop(a);
        // A second reservation would wait forever had the first not been returned.
        let b = SHARED.take(BUDGET / 2);
        let c = SHARED.take(BUDGET / 2);
        drop((b, c));
    }
}

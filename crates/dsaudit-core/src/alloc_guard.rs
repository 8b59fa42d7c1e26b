//! A global allocator wrapper that turns an impossible allocation into a one-line
//! error naming the file being read, instead of Rust's abort.
//!
//! Damaged Parquet and Arrow IPC files make polars' readers ask for sizes read from
//! the file without a check (a negative page value count cast to 2^61 bytes, a
//! buffer length of 5·10^18): the allocation fails and the process aborts with
//! "memory allocation of N bytes failed", exit 134, which no `catch_unwind` can stop
//! (an allocator must not unwind). A request larger than the machine's memory and swap
//! together can never succeed; this wrapper answers it by printing
//! `error: FILE: cannot read: damaged file (its reader asked for N bytes of memory)`
//! and exiting with status 2, as for any other unreadable table.

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// The wrapped allocator (the binary wraps mimalloc).
pub struct Guarded<A>(pub A);

static LIMIT: AtomicUsize = AtomicUsize::new(usize::MAX);

/// The file being read now, for the message.
static READING: Mutex<Option<String>> = Mutex::new(None);

/// Sets the limit to this machine's memory plus swap: no single allocation above it
/// can succeed (the kernel refuses it, or the process is killed when it is touched).
pub fn set_limit_from_machine() {
    if let Some(total) = machine_bytes() {
        LIMIT.store(total.min(usize::MAX as u64) as usize, Ordering::Relaxed);
    }
}

/// This machine's memory plus swap, in bytes (None where it cannot be asked).
pub fn machine_bytes() -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        let mut info: libc::sysinfo = unsafe { std::mem::zeroed() };
        if unsafe { libc::sysinfo(&mut info) } == 0 {
            let unit = info.mem_unit.max(1) as u128;
            let total = (info.totalram as u128 + info.totalswap as u128) * unit;
            return Some(total.min(u64::MAX as u128) as u64);
        }
    }
    None
}

/// Names `path` as the file being read until the returned guard is dropped.
pub fn reading(path: &std::path::Path) -> Reading {
    if let Ok(mut r) = READING.lock() {
        *r = Some(path.display().to_string());
    }
    Reading
}

pub struct Reading;

impl Drop for Reading {
    fn drop(&mut self) {
        if let Ok(mut r) = READING.lock() {
            *r = None;
        }
    }
}

/// Ends the process with the one-line error. Allocates nothing: it runs inside the
/// allocator.
#[cold]
fn refuse(size: usize) -> ! {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut n = size;
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let write = |bytes: &[u8]| {
        #[cfg(unix)]
        unsafe {
            libc::write(2, bytes.as_ptr().cast(), bytes.len());
        }
        #[cfg(not(unix))]
        let _ = bytes;
    };
    write(b"error: ");
    match READING.try_lock().ok().as_ref().and_then(|r| r.as_ref()) {
        Some(file) => {
            write(file.as_bytes());
            write(b": cannot read: damaged file (its reader asked for ");
        }
        None => write(b"internal error: an allocation of "),
    }
    write(&digits[at..]);
    write(b" bytes of memory, more than this machine has)\n");
    #[cfg(unix)]
    unsafe {
        libc::_exit(2)
    }
    #[cfg(not(unix))]
    std::process::abort()
}

unsafe impl<A: GlobalAlloc> GlobalAlloc for Guarded<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.size() > LIMIT.load(Ordering::Relaxed) {
            refuse(layout.size());
        }
        self.0.alloc(layout)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if layout.size() > LIMIT.load(Ordering::Relaxed) {
            refuse(layout.size());
        }
        self.0.alloc_zeroed(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        self.0.dealloc(ptr, layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > LIMIT.load(Ordering::Relaxed) {
            refuse(new_size);
        }
        self.0.realloc(ptr, layout, new_size)
    }
}

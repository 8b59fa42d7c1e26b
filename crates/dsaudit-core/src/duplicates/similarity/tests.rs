use super::*;

/// A centred stroke figure on black, like a digit.
fn figure(ox: i32, oy: i32, bend: f32) -> [u8; SMALL_PIXELS] {
    std::array::from_fn(|i| {
        let (x, y) = ((i % 32) as i32 - ox, (i / 32) as i32 - oy);
        let (fx, fy) = (x as f32 - 15.5, y as f32 - 15.5);
        let ring = ((fx * fx + fy * fy).sqrt() - 9.0).abs() < 2.0;
        let bar = (fx - bend * fy).abs() < 1.5 && fy.abs() < 12.0;
        if ring || bar {
            230
        } else {
            10
        }
    })
}

#[test]
fn same_picture_shifted_or_rescaled_in_brightness_is_close() {
    let a = figure(0, 0, 0.0);
    assert_eq!(distance(&a, &a), 0.0);
    for (dx, dy) in [(1, 0), (0, -1), (2, 1), (-2, -2)] {
        assert!(distance(&a, &figure(dx, dy, 0.0)) < 1e-3, "{dx},{dy}");
    }
    let darker = a.map(|v| (v as f32 * 0.9) as u8);
    assert!(distance(&a, &darker) < 1e-3);
}

#[test]
fn a_different_figure_is_far_and_flat_is_unrelated() {
    let a = figure(0, 0, 0.0);
    assert!(distance(&a, &figure(0, 0, 0.4)) > 0.05);
    assert!(
        distance(&a, &figure(3, 3, 0.0)) > 0.05,
        "beyond the searched shift"
    );
    assert_eq!(distance(&a, &[7; SMALL_PIXELS]), 1.0);
    assert_eq!(distance(&[7; SMALL_PIXELS], &a), 1.0);
    let negative = a.map(|v| 255 - v);
    assert!(distance(&a, &negative) > 1.0);
}

#[test]
fn the_coarse_test_keeps_copies_and_flat_thumbnails() {
    let block = |p: &[u8; SMALL_PIXELS]| -> [u8; 64] {
        std::array::from_fn(|k| {
            let (ty, tx) = (k / 8, k % 8);
            let s: u32 = (0..16)
                .map(|j| p[(ty * 4 + j / 4) * 32 + tx * 4 + j % 4] as u32)
                .sum();
            (s / 16) as u8
        })
    };
    // b: the same figure at half the contrast; c: another picture (a ring alone).
    let a = figure(0, 0, 0.0);
    let b = a.map(|v| v / 2 + 3);
    let c: [u8; SMALL_PIXELS] = std::array::from_fn(|i| {
        let (fx, fy) = ((i % 32) as f32 - 15.5, (i / 32) as f32 - 15.5);
        if (fx * fx + fy * fy).sqrt() > 12.0 {
            200
        } else {
            20
        }
    });
    let (ta, tb, tc) = (
        Thumb::new(&block(&a)),
        Thumb::new(&block(&b)),
        Thumb::new(&block(&c)),
    );
    assert!(!ta.surely_apart(&tb));
    assert!(Prepared::new(&a).distance(&Prepared::new(&b)) < 1e-3);
    assert!(ta.surely_apart(&tc));
    assert!(!ta.surely_apart(&ta));
    let flat = Thumb::new(&[9; 64]);
    assert!(
        !flat.surely_apart(&tc) && !tc.surely_apart(&flat),
        "a flat thumbnail rules nothing out"
    );
}

#[test]
fn window_sums_match_a_direct_count() {
    let a = figure(1, -1, 0.2);
    let p = Prepared::new(&a);
    for k in 0..WINDOWS {
        let (dx, dy) = (k % (2 * SHIFT + 1), k / (2 * SHIFT + 1));
        let (s, ss) = count(&a, dx, dy, WIN);
        assert_eq!(
            p.windows[k],
            (s as u32, (N * ss - s * s).sqrt()),
            "window {k}"
        );
        for (c, &rows) in CHECKPOINTS.iter().enumerate() {
            let (s_d, _) = count(&a, dx, dy, rows);
            let mean = s / N;
            let rest: f64 = (dy + rows..dy + WIN)
                .flat_map(|y| a[y * SMALL_SIDE + dx..][..WIN].iter())
                .map(|&v| (v as f64 - mean).powi(2))
                .sum();
            let (got_s, got_rest) = p.tops[c][k];
            assert_eq!(got_s, s_d as u32, "window {k}, {rows} rows");
            let want = (N * rest).sqrt() as f32;
            assert!(
                (got_rest - want).abs() <= 1e-3 * want.max(1.0),
                "window {k}, {rows} rows: {got_rest} vs {want}"
            );
        }
    }
}

/// Pictures of noise, of figures, and of a figure and its slight variations.
fn pictures() -> Vec<[u8; SMALL_PIXELS]> {
    let mut x = 0x2545f4914f6cdd1du64;
    let mut noise = || -> [u8; SMALL_PIXELS] {
        std::array::from_fn(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 56) as u8
        })
    };
    let mut out = vec![noise(), noise(), [0; SMALL_PIXELS], [255; SMALL_PIXELS]];
    for (dx, dy, bend) in [
        (0, 0, 0.0),
        (1, 0, 0.0),
        (0, 1, 0.05),
        (-1, 2, 0.1),
        (2, 2, 0.4),
    ] {
        out.push(figure(dx, dy, bend));
    }
    let a = figure(0, 0, 0.0);
    let grain = noise();
    out.push(std::array::from_fn(|i| a[i].saturating_add(grain[i] / 40)));
    out.push(a.map(|v| v / 2 + 40));
    out
}

#[test]
fn simd_and_scalar_sums_agree() {
    let p = pictures();
    for (a, b) in [(&p[0], &p[1]), (&p[3], &p[0]), (&p[4], &p[5])] {
        for dy in 0..=2 * SHIFT {
            for dx in 0..=2 * SHIFT {
                for (from, to) in [(0, WIN), (0, 7), (7, 14), (21, WIN), (3, 3)] {
                    let want = cross_scalar(a, b, dx, dy, from, to);
                    assert_eq!(
                        cross(a, b, dx, dy, from, to),
                        want,
                        "{dx},{dy} rows {from}..{to}"
                    );
                    #[cfg(target_arch = "x86_64")]
                    assert_eq!(simd::cross_sse2(a, b, dx, dy, from, to), want);
                }
            }
        }
    }
}

/// Σv and Σv² of the window at (dx, dy) over its first `rows` rows, counted.
fn count(p: &[u8; SMALL_PIXELS], dx: usize, dy: usize, rows: usize) -> (f64, f64) {
    let px = (dy..dy + rows).flat_map(|y| p[y * SMALL_SIDE + dx..][..WIN].iter());
    px.fold((0.0, 0.0), |(s, ss), &v| {
        (s + v as f64, ss + (v as f64).powi(2))
    })
}

/// The best correlation over the same translations, every row compared, from
/// sums counted here.
fn distance_in_full(a: &Prepared, b: &Prepared) -> f32 {
    let (sa, ssa) = count(a.pixels, SHIFT, SHIFT, WIN);
    let va = N * ssa - sa * sa;
    let d = |x: f32, y: f32| (y - x).round() as i64 + SHIFT as i64;
    let (ey, ex) = (d(a.centroid.1, b.centroid.1), d(a.centroid.0, b.centroid.0));
    let mut best = f64::NEG_INFINITY;
    for dy in 0..=2 * SHIFT {
        for dx in 0..=2 * SHIFT {
            if (dy as i64 - ey).abs() > 1 || (dx as i64 - ex).abs() > 1 {
                continue;
            }
            let (sb, ssb) = count(b.pixels, dx, dy, WIN);
            let vb = N * ssb - sb * sb;
            if va > 0.0 && vb > 0.0 {
                let sab = cross_scalar(a.pixels, b.pixels, dx, dy, 0, WIN) as f64;
                best = best.max((N * sab - sa * sb) / (va * vb).sqrt());
            }
        }
    }
    if best == f64::NEG_INFINITY {
        1.0
    } else {
        (1.0 - best).max(0.0) as f32
    }
}

#[test]
fn giving_up_early_never_changes_the_answer() {
    let p = pictures();
    let prepared: Vec<Prepared> = p.iter().map(Prepared::new).collect();
    for a in &prepared {
        for b in &prepared {
            let full = distance_in_full(a, b);
            assert_eq!(a.distance(b), full);
            for limit in [0.0, 0.001, 0.005, 0.05, 0.5, 2.5] {
                let want = (full <= limit).then_some(full);
                assert_eq!(a.distance_within(b, limit), want, "limit {limit}");
            }
        }
    }
}

#[test]
fn symmetric_enough_for_either_order() {
    let (a, b) = (figure(0, 0, 0.0), figure(1, 1, 0.1));
    assert!((distance(&a, &b) - distance(&b, &a)).abs() < 0.02);
}

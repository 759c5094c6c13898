//! The tray icon, drawn here: a disc (a ring around the hole) whose colour
//! says the state. ARGB32 in network byte order, as StatusNotifierItem wants.

/// What the icon shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Look {
    /// Nothing is burning.
    Idle,
    /// A drive is burning.
    Busy,
    /// A site asks to pair.
    Attention,
}

impl Look {
    /// (R, G, B) of the disc.
    fn colour(self) -> (u8, u8, u8) {
        match self {
            Look::Idle => (0x5b, 0x64, 0x70),
            Look::Busy => (0xc2, 0x41, 0x0c),
            Look::Attention => (0xb9, 0x1c, 0x1c),
        }
    }
}

/// A `size` × `size` disc: ARGB bytes, row by row.
pub(crate) fn disc(size: u32, look: Look) -> Vec<u8> {
    let (red, green, blue) = look.colour();
    let centre = (f64::from(size) - 1.0) / 2.0;
    let outer = f64::from(size) / 2.0 - 0.5;
    let hole = f64::from(size) * 0.14;
    let shine = f64::from(size) * 0.30;
    let mut out = Vec::with_capacity((size * size * 4) as usize);
    for row in 0..size {
        for col in 0..size {
            let dist = (f64::from(col) - centre).hypot(f64::from(row) - centre);
            // Soft edges: coverage over the last pixel of each boundary.
            let cover = (outer - dist + 0.5).clamp(0.0, 1.0) * (dist - hole + 0.5).clamp(0.0, 1.0);
            let alpha = (cover * 255.0).round() as u8;
            // A lighter band around the hole, like a disc's clamping area.
            let lighter = |v: u8| if dist < shine { v / 2 + 0x70 } else { v };
            out.extend_from_slice(&[alpha, lighter(red), lighter(green), lighter(blue)]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pixel(data: &[u8], size: u32, x: u32, y: u32) -> [u8; 4] {
        let i = ((y * size + x) * 4) as usize;
        [data[i], data[i + 1], data[i + 2], data[i + 3]]
    }

    #[test]
    fn a_ring_with_a_hole_in_the_state_colour() {
        let size = 32;
        let busy = disc(size, Look::Busy);
        assert_eq!(busy.len(), 32 * 32 * 4);
        assert_eq!(pixel(&busy, size, 0, 0)[0], 0, "corner transparent");
        assert_eq!(pixel(&busy, size, 16, 16)[0], 0, "hole transparent");
        assert_eq!(
            pixel(&busy, size, 2, 16),
            [255, 0xc2, 0x41, 0x0c],
            "the ring"
        );
        let attention = disc(size, Look::Attention);
        assert_eq!(pixel(&attention, size, 2, 16)[1..], [0xb9, 0x1c, 0x1c]);
        assert_ne!(disc(size, Look::Idle), busy);
    }
}

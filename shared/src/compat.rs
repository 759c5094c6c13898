//! Versions on both sides. Within protocol v1 a helper grows by named
//! features, listed in `/v1/status` and `welcome`; a library build names
//! the features it needs and the oldest helper release that has them all.
//! A helper too old for a page is told apart from one that is not running,
//! and the person is asked to update it; a newer helper keeps serving older
//! pages (PROTOCOL.md section 10).

/// What every v1 helper has had; a helper that lists no features (one
/// released before the list existed) has these.
pub const BASELINE: &[&str] = &["rawFrames", "discFlow", "verify", "duplicate", "mediumKind"];

/// A disc-flow write whose data ends where the page's stream ends
/// ([`crate::DiscOptions::open_end`]): images whose size is known only once
/// they are decoded.
pub const OPEN_END: &str = "openEnd";

/// A disk on USB powered off when its burn is done
/// ([`crate::DiscOptions::power_off`]).
pub const POWER_OFF: &str = "powerOff";

/// `eraseDisc`: a CD-RW or DVD-RW blanked from the page (IDiscFormat2Erase).
pub const ERASE: &str = "erase";

/// A disc-flow burn that leaves a write-once disc appendable
/// ([`crate::DiscOptions::leave_appendable`]), and the next session on it.
pub const APPENDABLE: &str = "appendable";

/// `watch`: the helper tells a page when its recorder list (and, for the
/// helper's own page, the pairings) change, so nothing polls.
pub const WATCH: &str = "watch";

/// What this helper build offers.
pub const OFFERED: &[&str] = &[
    "rawFrames",
    "discFlow",
    "verify",
    "duplicate",
    "mediumKind",
    OPEN_END,
    POWER_OFF,
    ERASE,
    APPENDABLE,
    WATCH,
];

/// What this library build needs of the helper it talks to.
pub const NEEDED: &[&str] = &["rawFrames", "discFlow", "verify", "mediumKind"];

/// The oldest helper release that has every feature in [`NEEDED`].
pub const MIN_HELPER_VERSION: &str = "0.1.0";

/// [`OFFERED`] as the wire carries it.
pub fn offered() -> Vec<String> {
    OFFERED.iter().map(|f| (*f).to_owned()).collect()
}

/// The features of [`NEEDED`] a helper lacks; `offered` is what it listed
/// (`None`: it lists nothing, so it has the [`BASELINE`]).
pub fn missing(offered: Option<&[String]>) -> Vec<&'static str> {
    NEEDED
        .iter()
        .copied()
        .filter(|need| match offered {
            Some(list) => !list.iter().any(|f| f == need),
            None => !BASELINE.contains(need),
        })
        .collect()
}

/// What the person is told when their helper is too old for the page.
pub fn update_text(installed: &str) -> String {
    format!(
        "Update the webburn helper (installed {installed}, this page needs {MIN_HELPER_VERSION} or newer)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| (*n).to_owned()).collect()
    }

    #[test]
    fn this_helper_has_what_this_library_needs() {
        assert!(missing(Some(&offered())).is_empty());
        assert!(NEEDED.iter().all(|n| BASELINE.contains(n)));
    }

    #[test]
    fn a_helper_that_lists_nothing_has_the_baseline() {
        assert!(missing(None).is_empty());
    }

    #[test]
    fn a_newer_helpers_extra_features_do_not_matter() {
        let mut newer = offered();
        newer.push("somethingNew".into());
        assert!(missing(Some(&newer)).is_empty());
    }

    #[test]
    fn an_older_helper_lacks_features_and_the_text_says_what_to_do() {
        assert_eq!(
            missing(Some(&list(&["rawFrames", "discFlow"]))),
            ["verify", "mediumKind"]
        );
        assert_eq!(
            update_text("0.0.9"),
            format!(
                "Update the webburn helper (installed 0.0.9, this page needs {MIN_HELPER_VERSION} or newer)"
            )
        );
    }
}

//! `*`-only glob matching: the one wildcard operators write in check data
//! and waivers, without a glob crate's path and bracket semantics.

/// Whether `text` matches `pattern` whole, where `*` stands for any run of
/// characters (process names in the check data, waivers' subjects).
pub fn matches(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = text.strip_prefix(first) else { return false };
    let mut parts: Vec<&str> = parts.collect();
    let Some(last) = parts.pop() else { return rest.is_empty() };
    for part in parts {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn a_star_matches_any_run_and_the_ends_are_anchored() {
        assert!(matches("a*b*c", "aXbYc") && matches("*", "") && !matches("a*bc", "abc-"));
        assert!(!matches("ab*ba", "aba"));
        assert!(matches("host SZV*", "host SZV1000265118") && !matches("host SZV*", "a host SZV1"));
    }
}

//! The wildcards operators write: `*`-only globs (check data, waivers'
//! subjects and nodes), without a glob crate's path and bracket semantics,
//! and the check-id patterns of `--only`, `--skip` and waivers.

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

/// Whether the check `id` is one a pattern names, as `--only`, `--skip`
/// and waivers read it: the id itself, a family (`zk.`) or a prefix (`zk*`).
pub fn check_matches(pattern: &str, id: &str) -> bool {
    let pattern = pattern.trim();
    match pattern.strip_suffix('*') {
        Some(prefix) => id.starts_with(prefix),
        None if pattern.ends_with('.') => id.starts_with(pattern),
        None => id == pattern,
    }
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

//! Ids that repeat in every task of a big `/master/state` (the agent's, the
//! framework's), held once: 200,000 tasks on 10,000 agents keep 10,000
//! agent ids, not 200,000 copies.

use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use serde::Deserializer;
use serde::de::{self, Visitor};

thread_local! {
    /// The ids seen by the parse running on this thread, while one runs
    /// (std's randomly keyed hash: the ids come from the cluster, and ids
    /// made to collide must not slow a parse down).
    static SEEN: RefCell<Option<HashSet<Arc<str>>>> = const { RefCell::new(None) };
}

/// Runs `parse` with ids interned: equal ids it deserializes with
/// [`id`] share one allocation. Nothing is kept after it returns.
pub fn interning<T>(parse: impl FnOnce() -> T) -> T {
    let outer = SEEN.with(|seen| seen.replace(Some(HashSet::new())));
    let parsed = parse();
    SEEN.with(|seen| *seen.borrow_mut() = outer);
    parsed
}

/// `Arc::from(text)`, or the copy the running parse already holds.
fn intern(text: &str) -> Arc<str> {
    SEEN.with(|seen| match seen.borrow_mut().as_mut() {
        Some(seen) => match seen.get(text) {
            Some(known) => Arc::clone(known),
            None => {
                let new: Arc<str> = Arc::from(text);
                seen.insert(Arc::clone(&new));
                new
            }
        },
        None => Arc::from(text),
    })
}

struct IdVisitor;

impl Visitor<'_> for IdVisitor {
    type Value = Arc<str>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an id (a string)")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Arc<str>, E> {
        Ok(intern(text))
    }
}

/// Deserializes an id, interned inside [`interning`].
pub fn id<'de, D: Deserializer<'de>>(d: D) -> Result<Arc<str>, D::Error> {
    d.deserialize_str(IdVisitor)
}

/// [`id`] for an optional one (`null` or absent: None).
pub fn optional_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Arc<str>>, D::Error> {
    struct Optional;
    impl<'de> Visitor<'de> for Optional {
        type Value = Option<Arc<str>>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an id (a string) or null")
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            id(d).map(Some)
        }
    }
    d.deserialize_option(Optional)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct Task {
        #[serde(deserialize_with = "id")]
        agent: Arc<str>,
        #[serde(default, deserialize_with = "optional_id")]
        framework: Option<Arc<str>>,
    }

    #[test]
    fn equal_ids_share_one_allocation_while_interning_and_only_then() {
        let text = r#"[{"agent": "S1", "framework": "F"}, {"agent": "S1", "framework": null}, {"agent": "S\u0031"}]"#;
        let tasks: Vec<Task> = interning(|| serde_json::from_str(text).unwrap());
        assert!(Arc::ptr_eq(&tasks[0].agent, &tasks[1].agent) && Arc::ptr_eq(&tasks[0].agent, &tasks[2].agent));
        assert_eq!(
            (tasks[0].framework.as_deref(), tasks[1].framework.as_deref(), tasks[2].framework.as_deref()),
            (Some("F"), None, None)
        );
        let apart: Vec<Task> = serde_json::from_str(text).unwrap();
        assert!(!Arc::ptr_eq(&apart[0].agent, &apart[1].agent), "outside a parse nothing is kept");
        assert!(SEEN.with(|seen| seen.borrow().is_none()));
    }
}

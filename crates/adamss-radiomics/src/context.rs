//! The case being extracted, named in the crate's warnings: a batch file's line, a cohort's
//! patient (PyRadiomics' batch mode prefixes its log records with the case the same way).

use std::cell::RefCell;

thread_local! {
    static CASE: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Runs `f` with `case` named in this crate's warnings (`case <case>: …`, through the
/// [`log`](https://docs.rs/log) facade), on this thread and in the tasks the crate's own
/// parallel sections hand to other threads. Nested calls name the innermost case.
pub fn with_case<R>(case: &str, f: impl FnOnce() -> R) -> R {
    let previous = CASE.with(|c| c.replace(Some(case.to_owned())));
    let _restore = Restore(previous);
    f()
}

/// Puts the previous case back, also when `f` unwinds (rayon runs tasks stolen by a waiting
/// thread to completion within the wait, so cases nest).
struct Restore(Option<String>);

impl Drop for Restore {
    fn drop(&mut self) {
        let previous = self.0.take();
        CASE.with(|c| *c.borrow_mut() = previous);
    }
}

/// The case named on this thread, to carry into a task that may run on another.
pub(crate) fn current() -> Option<String> {
    CASE.with(|c| c.borrow().clone())
}

/// `f` with `case` ([`current`] on the thread that made the task) named again.
pub(crate) fn carrying<R>(case: &Option<String>, f: impl FnOnce() -> R) -> R {
    match case {
        Some(c) => with_case(c, f),
        None => f(),
    }
}

/// `log::warn!`, naming the case being extracted where there is one ([`with_case`]).
macro_rules! warn_case {
    ($($arg:tt)+) => {
        match $crate::context::current() {
            Some(case) => ::log::warn!("case {case}: {}", format_args!($($arg)+)),
            None => ::log::warn!($($arg)+),
        }
    };
}
pub(crate) use warn_case;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases_nest_and_are_restored() {
        assert_eq!(current(), None);
        with_case("a", || {
            assert_eq!(current().as_deref(), Some("a"));
            with_case("b", || assert_eq!(current().as_deref(), Some("b")));
            assert_eq!(current().as_deref(), Some("a"));
            let carried = current();
            std::thread::spawn(move || {
                assert_eq!(current(), None);
                carrying(&carried, || assert_eq!(current().as_deref(), Some("a")));
            })
            .join()
            .unwrap();
        });
        assert_eq!(current(), None);
    }
}

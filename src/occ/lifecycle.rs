//! The service lifecycle (occ-domain.md §4.2): which requests move a
//! service from which state, on the generated `service-lifecycle-state`.
//!
//! ```text
//!   feasibility-checked ─┐
//!   designed ────────────┼── activate ──► active ── suspend ──► inactive
//!   reserved ────────────┤                  ▲                     │
//!   inactive ────────────┘                  └────── activate ─────┘
//!   every state but terminated ── terminate ──► terminated (final)
//! ```
//!
//! A request that leaves the state as it is (activate an active service,
//! suspend an inactive one) succeeds and changes nothing; any other
//! request from a state the table does not list is refused with the
//! module's `invalid-state-transition`.

use crate::model::typedefs::ServiceLifecycleState as S;

/// What a client asks for (the activate and deactivate RPCs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    Activate,
    Suspend,
    Terminate,
}

/// The state a service configured in running starts in: its design is
/// complete, nothing is reserved in the network yet.
pub const INITIAL: S = S::Designed;

/// The state after `req` from `from`, or `None` when the transition is not
/// allowed.
pub fn next(from: S, req: Request) -> Option<S> {
    match (req, from) {
        (_, S::Terminated) => None,
        (Request::Activate, _) => Some(S::Active),
        (Request::Suspend, S::Active | S::Inactive) => Some(S::Inactive),
        (Request::Suspend, _) => None,
        (Request::Terminate, _) => Some(S::Terminated),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [S; 6] =
        [S::FeasibilityChecked, S::Designed, S::Reserved, S::Inactive, S::Active, S::Terminated];

    #[test]
    fn every_transition() {
        use Request::*;
        let table = [
            (
                Activate,
                [Some(S::Active), Some(S::Active), Some(S::Active), Some(S::Active), Some(S::Active), None],
            ),
            (Suspend, [None, None, None, Some(S::Inactive), Some(S::Inactive), None]),
            (
                Terminate,
                [
                    Some(S::Terminated),
                    Some(S::Terminated),
                    Some(S::Terminated),
                    Some(S::Terminated),
                    Some(S::Terminated),
                    None,
                ],
            ),
        ];
        for (req, want) in table {
            for (from, to) in ALL.iter().zip(want) {
                assert_eq!(next(*from, req), to, "{req:?} from {from:?}");
            }
        }
    }
}

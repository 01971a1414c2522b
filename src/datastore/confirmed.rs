//! The confirmed-commit state machine of RFC 6241 §8.4 (`:confirmed-commit:1.1`).
//!
//! It decides, for each `<commit>`, `<cancel-commit>`, session end and timer
//! expiry, whether the request is allowed and whether the running
//! configuration must be restored. It holds the rollback point (the running
//! configuration from before the first confirmed commit of a chain) as an
//! opaque value `B`; the datastore supplies it and applies it. It does no I/O
//! and reads no clock: time comes in as an argument, so tests drive it with
//! paused tokio time.
//!
//! Rules (RFC 6241 §8.4.1, §8.4.5.1, §8.4.9):
//! - A confirmed commit is reverted unless a confirming commit (a `<commit>`
//!   without `<confirmed/>`) arrives within `confirm-timeout` (600 s by
//!   default). A follow-up confirmed commit resets the timer to its own
//!   timeout; the rollback point stays the one from before the first.
//! - Without `<persist>`, follow-up and confirming commits and
//!   `<cancel-commit>` must come from the session that issued the confirmed
//!   commit, and that session ending reverts the configuration.
//! - With `<persist>`, any session may follow up, confirm or cancel, but
//!   must give `<persist-id>` equal to the `<persist>` value (else
//!   `invalid-value`); the session ending does not revert.
//! - A restart reverts a pending non-persistent confirmed commit; a
//!   persistent one stays pending ([`ConfirmedCommit::restore`]).
//!
//! Choices where the RFC is silent (tag in brackets):
//! - another session's commit while a non-persistent confirmed commit is
//!   pending is refused [in-use], as is `<cancel-commit>` from it;
//! - `<persist-id>` when no persistent confirmed commit is pending
//!   [invalid-value]; `<cancel-commit>` with nothing pending [operation-failed].

use std::time::Duration;

use tokio::time::Instant;

/// RFC 6241 §8.4.5.1: `confirm-timeout` default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

pub type SessionId = u32;

/// The confirmed-commit parameters of one `<commit>`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommitParams {
    pub confirmed: bool,
    /// `confirm-timeout`; `None` means [`DEFAULT_TIMEOUT`].
    pub timeout: Option<Duration>,
    pub persist: Option<String>,
    pub persist_id: Option<String>,
}

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfirmedCommitError {
    /// A non-persistent confirmed commit of another session is pending.
    #[error("a confirmed commit of session {owner} is pending; only that session may commit or cancel it")]
    NotOwner { owner: SessionId },
    /// `persist-id` does not match the pending commit's `persist`.
    #[error("persist-id does not match the pending confirmed commit")]
    PersistIdMismatch,
    /// The pending confirmed commit is persistent and no `persist-id` was given.
    #[error("a persistent confirmed commit is pending; persist-id is required")]
    PersistIdMissing,
    /// `persist-id` given, but no persistent confirmed commit is pending.
    #[error("no persistent confirmed commit is pending")]
    NoPersistentCommit,
    /// `<cancel-commit>` with no confirmed commit pending.
    #[error("no confirmed commit is pending")]
    NothingPending,
}

impl ConfirmedCommitError {
    /// The RFC 6241 error-tag for this refusal.
    pub fn error_tag(&self) -> &'static str {
        match self {
            ConfirmedCommitError::NotOwner { .. } => "in-use",
            ConfirmedCommitError::PersistIdMismatch
            | ConfirmedCommitError::PersistIdMissing
            | ConfirmedCommitError::NoPersistentCommit => "invalid-value",
            ConfirmedCommitError::NothingPending => "operation-failed",
        }
    }
}

/// What the datastore must do after an accepted `<commit>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitOutcome {
    /// An ordinary commit: nothing pending before or after.
    Plain,
    /// A confirmed commit started; revert unless confirmed by `deadline`.
    Started { deadline: Instant },
    /// A follow-up confirmed commit: the timer now ends at `deadline`.
    Extended { deadline: Instant },
    /// The confirming commit: the pending commit is now permanent.
    Confirmed,
}

#[derive(Debug, Clone)]
struct Pending<B> {
    owner: SessionId,
    persist: Option<String>,
    deadline: Instant,
    rollback: B,
}

/// A pending confirmed commit as it survives a restart (only persistent ones
/// do): the `persist` value, the time left and the rollback point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Persisted<B> {
    pub persist: String,
    pub remaining: Duration,
    pub rollback: B,
}

/// A pending confirmed commit, persistent or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingState<B> {
    pub persist: Option<String>,
    pub remaining: Duration,
    pub rollback: B,
}

/// At most one pending confirmed commit, and the rules around it.
#[derive(Debug, Clone)]
pub struct ConfirmedCommit<B> {
    pending: Option<Pending<B>>,
}

impl<B> Default for ConfirmedCommit<B> {
    fn default() -> Self {
        ConfirmedCommit { pending: None }
    }
}

impl<B> ConfirmedCommit<B> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether a confirmed commit is pending, and until when.
    pub fn deadline(&self) -> Option<Instant> {
        self.pending.as_ref().map(|p| p.deadline)
    }

    /// The session owning a pending non-persistent confirmed commit.
    pub fn owner(&self) -> Option<SessionId> {
        self.pending.as_ref().filter(|p| p.persist.is_none()).map(|p| p.owner)
    }

    /// Checks who may act on the pending commit (RFC 6241 §8.4.1).
    fn authorize(&self, session: SessionId, persist_id: Option<&str>) -> Result<(), ConfirmedCommitError> {
        match (&self.pending, persist_id) {
            (None, None) => Ok(()),
            (None, Some(_)) => Err(ConfirmedCommitError::NoPersistentCommit),
            (Some(p), id) => match (&p.persist, id) {
                (Some(persist), Some(id)) if persist == id => Ok(()),
                (Some(_), Some(_)) => Err(ConfirmedCommitError::PersistIdMismatch),
                (Some(_), None) => Err(ConfirmedCommitError::PersistIdMissing),
                (None, Some(_)) => Err(ConfirmedCommitError::NoPersistentCommit),
                (None, None) if p.owner == session => Ok(()),
                (None, None) => Err(ConfirmedCommitError::NotOwner { owner: p.owner }),
            },
        }
    }

    /// A `<commit>` from `session` at `now`. `running` is called only when a
    /// new chain starts, to take the rollback point. On error nothing
    /// changes and the commit must not happen.
    pub fn commit(
        &mut self,
        session: SessionId,
        params: &CommitParams,
        now: Instant,
        running: impl FnOnce() -> B,
    ) -> Result<CommitOutcome, ConfirmedCommitError> {
        self.authorize(session, params.persist_id.as_deref())?;
        if !params.confirmed {
            return Ok(match self.pending.take() {
                Some(_) => CommitOutcome::Confirmed,
                None => CommitOutcome::Plain,
            });
        }
        let deadline = now + params.timeout.unwrap_or(DEFAULT_TIMEOUT);
        match &mut self.pending {
            Some(p) => {
                // A follow-up keeps the first rollback point; it may change
                // (or drop) `persist`, and the issuing session becomes owner.
                p.deadline = deadline;
                p.persist = params.persist.clone();
                p.owner = session;
                Ok(CommitOutcome::Extended { deadline })
            }
            None => {
                self.pending = Some(Pending {
                    owner: session,
                    persist: params.persist.clone(),
                    deadline,
                    rollback: running(),
                });
                Ok(CommitOutcome::Started { deadline })
            }
        }
    }

    /// `<cancel-commit>`: returns the rollback point to restore.
    pub fn cancel(
        &mut self,
        session: SessionId,
        persist_id: Option<&str>,
    ) -> Result<B, ConfirmedCommitError> {
        if self.pending.is_none() {
            return Err(ConfirmedCommitError::NothingPending);
        }
        self.authorize(session, persist_id)?;
        self.pending.take().map(|p| p.rollback).ok_or(ConfirmedCommitError::NothingPending)
    }

    /// A session ended: if it owned a non-persistent confirmed commit, the
    /// rollback point to restore.
    pub fn session_ended(&mut self, session: SessionId) -> Option<B> {
        match &self.pending {
            Some(p) if p.persist.is_none() && p.owner == session => self.pending.take().map(|p| p.rollback),
            _ => None,
        }
    }

    /// The timer: at or after the deadline, the rollback point to restore.
    pub fn expire(&mut self, now: Instant) -> Option<B> {
        match &self.pending {
            Some(p) if now >= p.deadline => self.pending.take().map(|p| p.rollback),
            _ => None,
        }
    }

    /// What must survive a restart: a persistent pending commit only.
    pub fn persisted(&self, now: Instant) -> Option<Persisted<&B>> {
        let p = self.pending.as_ref()?;
        Some(Persisted {
            persist: p.persist.clone()?,
            remaining: p.deadline.saturating_duration_since(now),
            rollback: &p.rollback,
        })
    }

    /// The pending commit, persistent or not, as the datastore keeps it on
    /// disk: a restart reverts a non-persistent one (RFC 6241 §8.4.1) and
    /// resumes a persistent one, so both need their rollback point saved.
    pub fn pending_state(&self, now: Instant) -> Option<PendingState<&B>> {
        let p = self.pending.as_ref()?;
        Some(PendingState {
            persist: p.persist.clone(),
            remaining: p.deadline.saturating_duration_since(now),
            rollback: &p.rollback,
        })
    }

    /// State after a restart, from what [`ConfirmedCommit::persisted`] gave.
    /// The owner is irrelevant for a persistent commit.
    pub fn restore(saved: Persisted<B>, now: Instant) -> Self {
        ConfirmedCommit {
            pending: Some(Pending {
                owner: 0,
                persist: Some(saved.persist),
                deadline: now + saved.remaining,
                rollback: saved.rollback,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn confirmed(timeout: u64, persist: Option<&str>, persist_id: Option<&str>) -> CommitParams {
        CommitParams {
            confirmed: true,
            timeout: Some(Duration::from_secs(timeout)),
            persist: persist.map(str::to_string),
            persist_id: persist_id.map(str::to_string),
        }
    }

    fn confirming(persist_id: Option<&str>) -> CommitParams {
        CommitParams { persist_id: persist_id.map(str::to_string), ..CommitParams::default() }
    }

    #[tokio::test(start_paused = true)]
    async fn timeout_reverts_to_the_state_before_the_first_confirmed_commit() {
        let mut cc = ConfirmedCommit::new();
        let t0 = Instant::now();
        assert_eq!(
            cc.commit(1, &confirmed(10, None, None), t0, || "v1"),
            Ok(CommitOutcome::Started { deadline: t0 + Duration::from_secs(10) })
        );
        tokio::time::advance(Duration::from_secs(5)).await;
        // A follow-up resets the timer but keeps the first rollback point.
        let t1 = Instant::now();
        assert_eq!(
            cc.commit(1, &confirmed(10, None, None), t1, || "v2"),
            Ok(CommitOutcome::Extended { deadline: t1 + Duration::from_secs(10) })
        );
        tokio::time::advance(Duration::from_secs(9)).await;
        assert_eq!(cc.expire(Instant::now()), None);
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(cc.expire(Instant::now()), Some("v1"));
        assert_eq!(cc.deadline(), None);
    }

    #[tokio::test(start_paused = true)]
    async fn default_timeout_is_600_seconds() {
        let mut cc = ConfirmedCommit::new();
        let t0 = Instant::now();
        let params = CommitParams { confirmed: true, ..CommitParams::default() };
        assert_eq!(
            cc.commit(1, &params, t0, || ()),
            Ok(CommitOutcome::Started { deadline: t0 + DEFAULT_TIMEOUT })
        );
    }

    #[test]
    fn confirming_commit_makes_it_permanent() {
        let mut cc = ConfirmedCommit::new();
        let now = Instant::now();
        cc.commit(1, &confirmed(60, None, None), now, || "old").unwrap();
        assert_eq!(cc.commit(1, &confirming(None), now, || "unused"), Ok(CommitOutcome::Confirmed));
        assert_eq!(cc.expire(now + Duration::from_secs(3600)), None);
        assert_eq!(cc.commit(1, &confirming(None), now, || "x"), Ok(CommitOutcome::Plain));
    }

    #[test]
    fn without_persist_only_the_issuing_session_may_act_and_its_end_reverts() {
        let mut cc = ConfirmedCommit::new();
        let now = Instant::now();
        cc.commit(7, &confirmed(60, None, None), now, || "old").unwrap();
        assert_eq!(cc.owner(), Some(7));
        let refused = cc.commit(8, &confirming(None), now, || "x").unwrap_err();
        assert_eq!(refused, ConfirmedCommitError::NotOwner { owner: 7 });
        assert_eq!(refused.error_tag(), "in-use");
        assert_eq!(cc.cancel(8, None), Err(ConfirmedCommitError::NotOwner { owner: 7 }));
        assert_eq!(cc.session_ended(8), None);
        assert_eq!(cc.session_ended(7), Some("old"));
        assert_eq!(cc.deadline(), None);
    }

    #[test]
    fn with_persist_any_session_acts_with_the_persist_id() {
        let mut cc = ConfirmedCommit::new();
        let now = Instant::now();
        cc.commit(1, &confirmed(60, Some("abc"), None), now, || "old").unwrap();
        assert_eq!(cc.owner(), None);
        // Ending the issuing session does not revert.
        assert_eq!(cc.session_ended(1), None);
        assert_eq!(cc.commit(2, &confirming(None), now, || "x"), Err(ConfirmedCommitError::PersistIdMissing));
        let wrong = cc.commit(2, &confirming(Some("abd")), now, || "x").unwrap_err();
        assert_eq!(wrong, ConfirmedCommitError::PersistIdMismatch);
        assert_eq!(wrong.error_tag(), "invalid-value");
        assert_eq!(cc.commit(2, &confirming(Some("abc")), now, || "x"), Ok(CommitOutcome::Confirmed));
    }

    #[test]
    fn cancel_commit_restores_and_checks_the_persist_id() {
        let mut cc: ConfirmedCommit<&str> = ConfirmedCommit::new();
        let now = Instant::now();
        let nothing = cc.cancel(1, None).unwrap_err();
        assert_eq!(nothing, ConfirmedCommitError::NothingPending);
        assert_eq!(nothing.error_tag(), "operation-failed");
        cc.commit(1, &confirmed(60, Some("p"), None), now, || "old").unwrap();
        assert_eq!(cc.cancel(3, Some("q")), Err(ConfirmedCommitError::PersistIdMismatch));
        assert_eq!(cc.cancel(3, None), Err(ConfirmedCommitError::PersistIdMissing));
        assert_eq!(cc.cancel(3, Some("p")), Ok("old"));
        assert_eq!(cc.deadline(), None);
    }

    #[test]
    fn persist_id_without_a_persistent_commit_is_invalid() {
        let mut cc = ConfirmedCommit::new();
        let now = Instant::now();
        assert_eq!(
            cc.commit(1, &confirming(Some("x")), now, || ()),
            Err(ConfirmedCommitError::NoPersistentCommit)
        );
        cc.commit(1, &confirmed(60, None, None), now, || ()).unwrap();
        assert_eq!(
            cc.commit(1, &confirming(Some("x")), now, || ()),
            Err(ConfirmedCommitError::NoPersistentCommit)
        );
    }

    #[test]
    fn a_follow_up_can_change_persistence() {
        let mut cc = ConfirmedCommit::new();
        let now = Instant::now();
        cc.commit(1, &confirmed(60, Some("p"), None), now, || "old").unwrap();
        // Follow-up from another session, dropping persist: it becomes the owner.
        assert!(matches!(
            cc.commit(2, &confirmed(60, None, Some("p")), now, || "new"),
            Ok(CommitOutcome::Extended { .. })
        ));
        assert_eq!(cc.owner(), Some(2));
        assert_eq!(cc.session_ended(2), Some("old"));
    }

    #[tokio::test(start_paused = true)]
    async fn only_a_persistent_commit_survives_a_restart() {
        let mut cc = ConfirmedCommit::new();
        let t0 = Instant::now();
        cc.commit(1, &confirmed(100, None, None), t0, || "old").unwrap();
        assert_eq!(cc.persisted(t0), None);
        let mut cc = ConfirmedCommit::new();
        cc.commit(1, &confirmed(100, Some("p"), None), t0, || "old".to_string()).unwrap();
        tokio::time::advance(Duration::from_secs(40)).await;
        let saved = cc.persisted(Instant::now()).unwrap();
        assert_eq!(saved.remaining, Duration::from_secs(60));
        let saved = Persisted {
            persist: saved.persist,
            remaining: saved.remaining,
            rollback: saved.rollback.clone(),
        };
        let mut restored = ConfirmedCommit::restore(saved, Instant::now());
        tokio::time::advance(Duration::from_secs(59)).await;
        assert_eq!(restored.expire(Instant::now()), None);
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(restored.expire(Instant::now()), Some("old".to_string()));
    }
}

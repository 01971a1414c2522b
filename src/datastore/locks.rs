//! Datastore locks of RFC 6241 §7.5 and §7.6, one per datastore, owned by a
//! session and released when it unlocks or ends.
//!
//! This module only keeps who holds what and applies the rules; the
//! datastore tells it the two facts the rules depend on (whether the
//! candidate has uncommitted changes, whether another session has a
//! confirmed commit pending) and calls [`Locks::release_session`] when a
//! session ends or is killed.

use crate::datastore::confirmed::SessionId;
use crate::error::Error;

/// The datastores that can be locked (RFC 6241 `<target>` of `<lock>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lockable {
    Running,
    Candidate,
    Startup,
}

impl Lockable {
    pub fn name(self) -> &'static str {
        match self {
            Lockable::Running => "running",
            Lockable::Candidate => "candidate",
            Lockable::Startup => "startup",
        }
    }

    const ALL: [Lockable; 3] = [Lockable::Running, Lockable::Candidate, Lockable::Startup];

    fn index(self) -> usize {
        self as usize
    }
}

/// What the lock rules need to know about the datastore at lock time.
#[derive(Debug, Clone, Copy, Default)]
pub struct LockContext {
    /// The candidate differs from running (uncommitted changes).
    pub candidate_modified: bool,
    /// The session that has a confirmed commit pending, if any.
    pub confirmed_commit_by: Option<SessionId>,
}

/// Holder of each datastore's lock.
#[derive(Debug, Default)]
pub struct Locks {
    holders: [Option<SessionId>; 3],
}

impl Locks {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn holder(&self, ds: Lockable) -> Option<SessionId> {
        self.holders[ds.index()]
    }

    /// `<lock>` (RFC 6241 §7.5). Refused with lock-denied, carrying the
    /// holder's session-id, when the lock is held (by anyone, this session
    /// included); when the target is the candidate and it has uncommitted
    /// changes; or when the target is running and another session has a
    /// confirmed commit pending (session-id 0 when nobody holds the lock
    /// itself).
    pub fn lock(&mut self, ds: Lockable, session: SessionId, ctx: LockContext) -> Result<(), Error> {
        if let Some(holder) = self.holder(ds) {
            return Err(Error::lock_denied(holder)
                .with_message(format!("the {} datastore is locked by session {holder}", ds.name())));
        }
        if ds == Lockable::Candidate && ctx.candidate_modified {
            return Err(Error::lock_denied(0).with_message(
                "the candidate datastore has uncommitted changes; commit or discard-changes first",
            ));
        }
        if let Some(other) = ctx.confirmed_commit_by.filter(|s| *s != session) {
            if ds == Lockable::Running {
                return Err(Error::lock_denied(0)
                    .with_message(format!("session {other} has a confirmed commit pending on running")));
            }
        }
        self.holders[ds.index()] = Some(session);
        Ok(())
    }

    /// `<unlock>` (RFC 6241 §7.6): only the holder may unlock an active
    /// lock; otherwise operation-failed.
    pub fn unlock(&mut self, ds: Lockable, session: SessionId) -> Result<(), Error> {
        match self.holder(ds) {
            Some(holder) if holder == session => {
                self.holders[ds.index()] = None;
                Ok(())
            }
            Some(holder) => Err(Error::operation_failed(format!(
                "the {} datastore is locked by session {holder}, not by this session",
                ds.name()
            ))),
            None => Err(Error::operation_failed(format!("the {} datastore is not locked", ds.name()))),
        }
    }

    /// Whether `session` may write `ds`: refused with in-use while another
    /// session holds its lock.
    pub fn check_write(&self, ds: Lockable, session: SessionId) -> Result<(), Error> {
        match self.holder(ds) {
            Some(holder) if holder != session => {
                Err(Error::in_use(format!("the {} datastore is locked by session {holder}", ds.name())))
            }
            _ => Ok(()),
        }
    }

    /// A session ended or was killed: its locks are released. Returns the
    /// datastores it held, so the caller can log them (and discard the
    /// candidate's changes where its policy says so).
    pub fn release_session(&mut self, session: SessionId) -> Vec<Lockable> {
        let mut released = Vec::new();
        for ds in Lockable::ALL {
            if self.holders[ds.index()] == Some(session) {
                self.holders[ds.index()] = None;
                released.push(ds);
            }
        }
        released
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{ErrorInfo, ErrorTag};

    fn session_id_info(e: &Error) -> Option<u32> {
        e.info.iter().find_map(|i| match i {
            ErrorInfo::SessionId(s) => Some(*s),
            _ => None,
        })
    }

    #[test]
    fn lock_is_exclusive_and_names_the_holder() {
        let mut locks = Locks::new();
        locks.lock(Lockable::Running, 3, LockContext::default()).unwrap();
        for session in [3, 4] {
            let e = locks.lock(Lockable::Running, session, LockContext::default()).unwrap_err();
            assert_eq!(e.tag, ErrorTag::LockDenied);
            assert_eq!(session_id_info(&e), Some(3));
        }
        // Other datastores are independent.
        locks.lock(Lockable::Candidate, 4, LockContext::default()).unwrap();
        assert_eq!(locks.holder(Lockable::Candidate), Some(4));
    }

    #[test]
    fn unlock_only_by_the_holder_of_an_active_lock() {
        let mut locks = Locks::new();
        let e = locks.unlock(Lockable::Running, 1).unwrap_err();
        assert_eq!(e.tag, ErrorTag::OperationFailed);
        locks.lock(Lockable::Running, 1, LockContext::default()).unwrap();
        assert_eq!(locks.unlock(Lockable::Running, 2).unwrap_err().tag, ErrorTag::OperationFailed);
        locks.unlock(Lockable::Running, 1).unwrap();
        assert_eq!(locks.holder(Lockable::Running), None);
    }

    #[test]
    fn modified_candidate_cannot_be_locked() {
        let mut locks = Locks::new();
        let ctx = LockContext { candidate_modified: true, ..LockContext::default() };
        let e = locks.lock(Lockable::Candidate, 1, ctx).unwrap_err();
        assert_eq!(e.tag, ErrorTag::LockDenied);
        assert_eq!(session_id_info(&e), Some(0));
        // Running is not affected by the candidate's state.
        locks.lock(Lockable::Running, 1, ctx).unwrap();
    }

    #[test]
    fn running_cannot_be_locked_during_another_sessions_confirmed_commit() {
        let mut locks = Locks::new();
        let ctx = LockContext { confirmed_commit_by: Some(9), ..LockContext::default() };
        assert_eq!(locks.lock(Lockable::Running, 1, ctx).unwrap_err().tag, ErrorTag::LockDenied);
        locks.lock(Lockable::Running, 9, ctx).unwrap();
    }

    #[test]
    fn writes_by_others_are_in_use_and_session_end_releases() {
        let mut locks = Locks::new();
        locks.lock(Lockable::Running, 5, LockContext::default()).unwrap();
        locks.lock(Lockable::Startup, 5, LockContext::default()).unwrap();
        assert!(locks.check_write(Lockable::Running, 5).is_ok());
        assert_eq!(locks.check_write(Lockable::Running, 6).unwrap_err().tag, ErrorTag::InUse);
        assert!(locks.check_write(Lockable::Candidate, 6).is_ok());
        assert_eq!(locks.release_session(5), vec![Lockable::Running, Lockable::Startup]);
        assert!(locks.check_write(Lockable::Running, 6).is_ok());
        assert!(locks.release_session(5).is_empty());
    }
}

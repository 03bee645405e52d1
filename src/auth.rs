//! API tokens and roles: who may read what, and who may write.
//!
//! A token is `lb_<id>_<secret>` (the id is public, listed by `landbank token list`; the secret is 32
//! random bytes from the operating system, hex). Only the SHA-256 of the whole token is stored, so a copy
//! of the database gives no working token. Requests send it as `Authorization: Bearer <token>`.
//!
//! Roles, each including the ones before it: anonymous and `viewer` read public fields only (no project
//! contacts, no clearance owners, no compensation amounts: those fields are absent); `planner` reads
//! everything and writes; `admin` also manages tokens and reads the audit log.

use std::sync::Arc;

use serde::Serialize;
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::store::history::{Token, now_us};
use crate::store::{Store, StoreError};

/// What a token may do. Ordered: each role includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads public fields (like anonymous requests, but known by name).
    Viewer,
    /// Reads every field and writes (create, replace, update, delete).
    Planner,
    /// Also manages tokens and reads the audit log.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Planner => "planner",
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "viewer" => Some(Role::Viewer),
            "planner" => Some(Role::Planner),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// Who is asking: a token's name and role, or anonymous.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The token's name (the actor in history), `anonymous` without one.
    pub name: String,
    pub role: Option<Role>,
}

impl Principal {
    pub fn anonymous() -> Self {
        Principal { name: "anonymous".into(), role: None }
    }

    /// Whether private fields (contacts, owners, compensation) are shown to this principal.
    pub fn sees_private(&self) -> bool {
        self.role >= Some(Role::Planner)
    }

    /// Whether the principal has at least `role`.
    pub fn has(&self, role: Role) -> bool {
        self.role >= Some(role)
    }
}

#[derive(Debug, Error)]
pub enum AuthError {
    #[error("the Authorization header is not 'Bearer <token>'")]
    Malformed,
    #[error("the token is not known; ask an administrator for one (landbank token create)")]
    Unknown,
    #[error("the token '{0}' was revoked")]
    Revoked(String),
    #[error("--name must not be empty")]
    EmptyName,
    #[error("the operating system gave no random bytes: {0}")]
    Random(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// SHA-256 of a token, hex.
pub fn hash(token: &str) -> String {
    faster_hex::hex_string(&Sha256::digest(token.as_bytes()))
}

/// Makes a token for `name` with `role`, stores its hash, and returns it with the token itself (shown
/// once, never stored).
pub async fn create(store: &Arc<dyn Store>, role: Role, name: &str) -> Result<(Token, String), AuthError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(AuthError::EmptyName);
    }
    let mut id = [0u8; 4];
    let mut secret = [0u8; 32];
    getrandom::fill(&mut id).map_err(|e| AuthError::Random(e.to_string()))?;
    getrandom::fill(&mut secret).map_err(|e| AuthError::Random(e.to_string()))?;
    let token_id = faster_hex::hex_string(&id);
    let text = format!("lb_{token_id}_{}", faster_hex::hex_string(&secret));
    let token = Token {
        token_id,
        name: name.into(),
        role: role.as_str().into(),
        created_us: now_us(),
        revoked_us: None,
    };
    store.create_token(&token, &hash(&text)).await?;
    Ok((token, text))
}

/// The principal an `Authorization` header names (anonymous without one).
pub async fn authenticate(store: &Arc<dyn Store>, header: Option<&str>) -> Result<Principal, AuthError> {
    let Some(header) = header else { return Ok(Principal::anonymous()) };
    let token = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or(AuthError::Malformed)?;
    let found = store.token_by_hash(&hash(token)).await?.ok_or(AuthError::Unknown)?;
    if found.revoked_us.is_some() {
        return Err(AuthError::Revoked(found.name));
    }
    let role = Role::parse(&found.role).ok_or(AuthError::Unknown)?;
    Ok(Principal { name: found.name, role: Some(role) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_include_the_ones_before() {
        let planner = Principal { name: "p".into(), role: Some(Role::Planner) };
        assert!(planner.has(Role::Viewer) && planner.has(Role::Planner) && !planner.has(Role::Admin));
        assert!(planner.sees_private());
        assert!(!Principal::anonymous().sees_private());
        assert!(!Principal { name: "v".into(), role: Some(Role::Viewer) }.sees_private());
        assert_eq!(hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}

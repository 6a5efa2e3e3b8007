//! What every feature leans on, one file per concern: who is calling and what
//! they may do ([`access`], [`caller`]), a namespace's sponsorship as a cached
//! read model ([`perks`]), the audit log ([`audit`]), notifications and their
//! outbox ([`notify`]), the table of rate limits ([`limits`]), the registry of
//! background jobs ([`jobs`]), what `/metrics` reports ([`metrics`]), REST plumbing ([`http`]), the pool of namespace names ([`names`]) and the
//! shared state of a request ([`state`]). Features import this layer, never
//! each other's `api.rs` or `store.rs`.

#[cfg(feature = "ssr")]
pub mod access;
pub mod audit;
#[cfg(feature = "ssr")]
pub mod caller;
#[cfg(feature = "ssr")]
pub mod catalog;
#[cfg(feature = "ssr")]
pub mod events;
#[cfg(feature = "ssr")]
pub mod geo;
#[cfg(feature = "ssr")]
pub mod http;
#[cfg(feature = "ssr")]
pub mod jobs;
#[cfg(feature = "ssr")]
pub mod limits;
#[cfg(feature = "ssr")]
pub mod metrics;
pub mod names;
pub mod notify;
#[cfg(feature = "ssr")]
pub mod origin;
#[cfg(feature = "ssr")]
pub mod perks;
#[cfg(feature = "ssr")]
pub mod state;

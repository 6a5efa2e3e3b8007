//! The hub's HTTP server: configuration, the router and startup. Feature logic
//! lives in the `app` crate; this crate only wires it.

pub mod backup;
pub mod cli;
pub mod config;
pub mod demo;
pub mod observe;
pub mod routes;

pub use routes::router;

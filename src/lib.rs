//! landbank: the land inside industrial zones — inventory, occupancy and OGC API - Features.
//!
//! Layers point one way (`tests/layers.rs` fails on an import against them; ARCHITECTURE.md says more):
//! - [`http`] and [`config`] (with the binary's `main.rs`): how people reach landbank;
//! - services: [`occupancy`], [`available`], [`register`], [`report`], [`tiles`], [`import`], [`export`], [`edit`],
//!   [`ingest`], [`demo`], [`synthetic`], [`auth`];
//! - [`store`]: where the inventory is kept;
//! - the pure layer, no I/O of its own: [`domain`], [`spatial`], [`geography`], [`rules`],
//!   [`collections`], [`crs`], [`vnenc`], [`cache`].
//!
//! Within a layer, and among the files of one directory (the resources of `http/`), no two modules use
//! each other, directly or through others: `tests/layers.rs` fails on such a cycle and names it.

pub mod auth;
pub mod available;
pub mod cache;
pub mod collections;
pub mod config;
pub mod crs;
pub mod demo;
pub mod domain;
pub mod edit;
pub mod export;
pub mod geography;
pub mod http;
pub mod import;
pub mod ingest;
pub mod occupancy;
pub mod register;
pub mod report;
pub mod rules;
pub mod spatial;
pub mod store;
pub mod synthetic;
pub mod tiles;
pub mod vnenc;
pub mod warm;

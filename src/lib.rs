//! landbank: the land inside industrial zones — inventory, occupancy and OGC API - Features.
//!
//! Layers point one way: [`http`] and the CLI call [`occupancy`] and [`demo`], which use [`store`],
//! [`spatial`] and [`domain`]; `domain` and `spatial` import nothing of the rest.

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
pub mod report;
pub mod rules;
pub mod spatial;
pub mod store;
pub mod tiles;
pub mod vnenc;

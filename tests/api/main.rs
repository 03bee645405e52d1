//! Integration tests: the router in-process, real SQLite files and PostGIS databases, and GDAL's OAPIF
//! client on a real socket. Every test in a `contract!` list runs once per store, with the same
//! fixtures and the same assertions.

/// Runs each named `async fn name(backend: Backend)` as two tests: `sqlite::name` and `postgis::name`.
#[macro_export]
macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::Backend::Sqlite).await
                }
            )*
        }
        mod postgis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::Backend::Postgis).await
                }
            )*
        }
    };
}

mod available;
mod cli;
mod crash;
mod crs;
mod editing;
mod features;
mod files;
mod filter;
mod fresh;
mod fuzz;
mod geometry;
mod helpers;
mod html;
mod import;
mod integrity;
mod maps;
mod memory;
mod occupancy;
mod ogr;
mod plans;
mod postgis;
mod register;
mod reports;
mod store;
mod tiles;

//! The `landbank` command: parses flags and calls the library.

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use landbank::config::{
    Cli, Command, CrsCommand, ExportArgs, ImportArgs, ReportArgs, ReportFormat, ServeArgs, TokenCommand,
};
use landbank::http::{AppState, router};
use landbank::store::Store;
use landbank::{demo, store};
use std::sync::Arc;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    // Before any thread allocates: the runtime's threads are started below.
    landbank::cache::limit_malloc_arenas();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("landbank: cannot start its threads: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(start())
}

async fn start() -> ExitCode {
    // Before anything opens SQLite (a store, GDAL).
    store::sqlite::configure_library();
    tracing_subscriber::fmt()
        // PostgreSQL's notices ("relation _sqlx_migrations already exists, skipping" on every command)
        // are not news to whoever runs landbank.
        .with_env_filter(
            EnvFilter::try_from_env("LANDBANK_LOG")
                .unwrap_or_else(|_| EnvFilter::new("info,sqlx::postgres::notice=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("landbank: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// A server starts before its database more often than not (containers, reboots): it waits, saying so,
/// rather than exiting.
async fn open_waiting(database: &str) -> std::sync::Arc<dyn store::Store> {
    let mut wait = std::time::Duration::from_secs(1);
    loop {
        match store::open(database).await {
            Ok(store) => return store,
            Err(e) => {
                tracing::warn!(
                    database = %store::redacted(database),
                    "waiting for the database ({e}); trying again in {} s",
                    wait.as_secs()
                );
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(std::time::Duration::from_secs(15));
            }
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    // Commands that need no database never open (or create) one.
    if let Command::Crs { command: CrsCommand::List } = &cli.command {
        print_crs_list();
        return Ok(());
    }
    // Commands that read a board's data refuse to create an empty file where they expected one.
    if matches!(cli.command, Command::Report(_) | Command::Export(_)) && !store::exists(&cli.database) {
        anyhow::bail!(
            "no database at {}: point --database (or LANDBANK_DATABASE) at yours, e.g. --database landbank-demo.db \
             (the file ./scripts/demo uses), or postgres://USER@HOST/DB",
            cli.database
        );
    }
    let store = if matches!(cli.command, Command::Serve(_)) {
        open_waiting(&cli.database).await
    } else {
        store::open(&cli.database)
            .await
            .with_context(|| format!("opening database {}", store::redacted(&cli.database)))?
    };
    if !cli.skip_migrations || matches!(cli.command, Command::Migrate) {
        store.migrate().await.context("applying migrations")?;
    }
    match cli.command {
        Command::Migrate => {
            println!("{}: migrations applied", cli.database);
        }
        Command::Demo => {
            let written = demo::load_if_empty(&store).await?;
            if written == 0 {
                println!("{}: already holds zones; demo not loaded", cli.database);
            } else {
                println!("{}: loaded {written} demo records. {}", cli.database, demo::NOTICE);
            }
        }
        Command::Token { command } => token(&store, command).await?,
        Command::Crs { command: CrsCommand::List } => unreachable!("answered before the database is opened"),
        Command::Import(args) => import(&store, args).await?,
        Command::Export(args) => export(&store, args).await?,
        Command::Report(args) => report(&store, &cli.database, args).await?,
        Command::Serve(args) => serve(store, &cli.database, args).await?,
    }
    Ok(())
}

/// `landbank crs list`: the VN-2000 presets, for `--srs`.
fn print_crs_list() {
    println!("{:<18} {:<20} {:<6} {:>8}  EPSG", "--srs", "province", "code", "meridian");
    for p in landbank::crs::PRESETS {
        let code = landbank::crs::tm3_epsg(p.central_meridian).unwrap_or_default();
        println!(
            "vn2000:{:<11} {:<20} {:<6} {:>8.2}  {code}",
            p.slug, p.province, p.province_code, p.central_meridian
        );
    }
}

/// `landbank token create|list|revoke`.
async fn token(store: &Arc<dyn Store>, command: TokenCommand) -> anyhow::Result<()> {
    match command {
        TokenCommand::Create { role, name } => {
            let (token, secret) = landbank::auth::create(store, role, &name).await?;
            eprintln!(
                "landbank: {} token '{}' (id {}) created. It is shown once, below; landbank keeps only its SHA-256.",
                token.role, token.name, token.token_id
            );
            println!("{secret}");
        }
        TokenCommand::List => {
            println!("{:<10} {:<8} {:<21} {:<21} name", "id", "role", "created", "revoked");
            let time = |us: i64| {
                chrono::DateTime::from_timestamp_micros(us)
                    .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                    .unwrap_or_default()
            };
            for t in store.tokens().await? {
                println!(
                    "{:<10} {:<8} {:<21} {:<21} {}",
                    t.token_id,
                    t.role,
                    time(t.created_us),
                    t.revoked_us.map(time).unwrap_or_else(|| "-".into()),
                    t.name
                );
            }
        }
        TokenCommand::Revoke { id_or_name } => {
            if !store.revoke_token(&id_or_name).await? {
                anyhow::bail!("no active token with id or name '{id_or_name}' (see landbank token list)");
            }
            println!("revoked {id_or_name}");
        }
    }
    Ok(())
}

/// The collection `--collection` names, or an error listing those there are.
fn collection_arg(id: &str, verb: &str) -> anyhow::Result<&'static landbank::collections::Collection> {
    landbank::import::importable(id).ok_or_else(|| {
        anyhow::anyhow!(
            "--collection {id}: not a collection to {verb}; use one of {}",
            landbank::collections::editable_ids().join(", ")
        )
    })
}

/// `landbank import`: a board's file into a collection, checked, in one transaction.
async fn import(store: &Arc<dyn Store>, args: ImportArgs) -> anyhow::Result<()> {
    let collection = collection_arg(&args.collection, "import into")?;
    let options = landbank::import::ImportOptions {
        path: args.file,
        collection,
        layer: args.layer,
        srs: args.srs,
        map: args.map,
        set: args.set,
        encoding: args.encoding,
        dry_run: args.dry_run,
        fix: args.fix,
        update: args.update,
    };
    let report = match landbank::import::run(store, options).await {
        Ok(report) => report,
        Err(e) => {
            if let landbank::import::ImportError::Problems { report, .. } = &e {
                print!("{}", landbank::import::describe(report));
            }
            return Err(e.into());
        }
    };
    print!("{}", landbank::import::describe(&report));
    // Figures are measured from zones, land use, plots, leases and clearance parcels (the collections
    // with geometry), and a file of decisions may end leases; projects, results and targets change none.
    let changes_figures = collection.spatial || report.leases_ended > 0;
    if !args.skip_figures && !report.dry_run && report.written > 0 && changes_figures {
        ready_figures(store).await;
    }
    Ok(())
}

/// After an import: today's figures of the zones it changed, measured and kept in the database, with a
/// spinner while they are. The import has landed whatever happens here: a failure is a warning.
async fn ready_figures(store: &Arc<dyn Store>) {
    let at = landbank::domain::today();
    let spinner = indicatif::ProgressBar::new_spinner();
    spinner.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} ({elapsed})").expect("valid template"),
    );
    spinner
        .set_message(format!("measuring today's ({at}) occupancy and available land of the zones changed"));
    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    let started = std::time::Instant::now();
    let readied = landbank::warm::ready_after_write(store, at).await;
    spinner.finish_and_clear();
    match readied {
        Ok(r) => println!(
            "Today's figures ({at}) are ready: occupancy and available land of {} zone{}, {} of them \
             measured now, in {:.1} s (--skip-figures leaves them to the first question).",
            r.zones,
            if r.zones == 1 { "" } else { "s" },
            r.occupancy_measured.max(r.available_measured),
            started.elapsed().as_secs_f64()
        ),
        Err(e) => {
            // The reason goes to the log (for whoever runs the database), the user gets what it means.
            tracing::warn!(error = %e, "today's figures not measured after the import");
            eprintln!(
                "landbank: the import is written, but today's figures could not be measured in advance (see \
                 the log line above); the service measures them when first asked."
            )
        }
    }
}

/// `landbank export`: a collection (filtered, as of a date) into a file through GDAL.
async fn export(store: &Arc<dyn Store>, args: ExportArgs) -> anyhow::Result<()> {
    let collection = collection_arg(&args.collection, "export")?;
    let format = match args.format {
        Some(f) => f,
        None => {
            let ext = args.out.extension().and_then(|e| e.to_str()).unwrap_or_default().to_lowercase();
            <landbank::export::ExportFormat as clap::ValueEnum>::from_str(&ext, true)
                .ok()
                .or(if ext == "json" { Some(landbank::export::ExportFormat::Geojson) } else { None })
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "--out {}: say the format with --format gpkg|shp|kml|geojson|fgb|csv|dxf",
                        args.out.display()
                    )
                })?
        }
    };
    let query = landbank::export::query(collection, &args.filter, args.bbox.map(|b| b.0))
        .map_err(anyhow::Error::msg)?;
    let options = landbank::export::ExportOptions {
        collection,
        format,
        out: args.out,
        srs: args.srs,
        at: args.at,
        query,
        overwrite: args.overwrite,
        public_only: false,
    };
    let report = landbank::export::run(store, options).await?;
    print!("{}", landbank::export::describe(&report));
    Ok(())
}

/// `landbank report`: the board's report in the format `--format` or `--out` asks for.
async fn report(store: &Arc<dyn Store>, database: &str, args: ReportArgs) -> anyhow::Result<()> {
    let query = landbank::report::ReportQuery {
        province_code: args.province.clone(),
        at: args.at.unwrap_or_else(landbank::http::today),
        rules: args.rules.rules(),
        with_series: true,
    };
    // Through the figures kept in the database (today's, left by the last import, and any a service
    // measured), adding those measured here for the service: a report reads its date and the 19
    // quarter-ends before it, and measuring each afresh took 8 s at 100,000 plots.
    let figures = landbank::occupancy::FiguresCache::default();
    let report = landbank::report::compute_with(store, Some(&figures), &query).await?;
    if store.count(&landbank::collections::ZONES).await? == 0 {
        eprintln!(
            "landbank: {} holds no zones yet: import them (landbank import --help), or point --database \
                 (LANDBANK_DATABASE) at the database that has them, e.g. landbank-demo.db",
            store::redacted(database)
        );
    }
    let format = args.format();
    let text: Vec<u8> = match format {
        ReportFormat::Json => (serde_json::to_string_pretty(&report)? + "\n").into_bytes(),
        ReportFormat::Csv => landbank::report::to_csv(&report)?.into_bytes(),
        ReportFormat::Md => landbank::report::render_markdown(&report, args.lang).into_bytes(),
        ReportFormat::Html => landbank::report::render_html(&report, args.lang, "charts")?.into_bytes(),
        ReportFormat::Docx | ReportFormat::Xlsx | ReportFormat::Pdf if args.out.is_none() => {
            let ext = format!("{format:?}").to_lowercase();
            anyhow::bail!("{ext} is a file, not text: add --out FILE (e.g. --out bao-cao.{ext})")
        }
        ReportFormat::Docx => landbank::report::render_docx(&report, args.lang)?,
        ReportFormat::Xlsx => landbank::report::render_xlsx(&report, args.lang)?,
        ReportFormat::Pdf => landbank::report::render_pdf(&report, args.lang)?,
    };
    match &args.out {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
            eprintln!("landbank: report written to {}", path.display());
        }
        None => {
            use std::io::Write;
            std::io::stdout().write_all(&text)?;
        }
    }
    Ok(())
}

/// `landbank serve`: the API and the map page until Ctrl-C.
async fn serve(store: Arc<dyn Store>, database: &str, args: ServeArgs) -> anyhow::Result<()> {
    if args.demo {
        let written = demo::load_if_empty(&store).await?;
        if written > 0 {
            tracing::info!(records = written, "demo dataset loaded. {}", demo::NOTICE);
        }
    }
    let listener = tokio::net::TcpListener::bind(args.bind).await.with_context(|| {
        format!("cannot listen on {}: is another server using it? choose --bind", args.bind)
    })?;
    tracing::info!(database = %database, "landbank serving on http://{}/", listener.local_addr()?);
    match &args.maps_dir {
        Some(dir) if !dir.join("index.html").exists() => {
            tracing::warn!(dir = %dir.display(), "no map page there; /maps/ will answer 404 (leave out --maps-dir to serve the built-in page)");
        }
        None if !landbank::http::map_page_embedded() => {
            tracing::warn!(
                "this binary was built without MapLibre (npm was missing): /maps/ cannot draw; serve with --maps-dir maps after `npm ci --prefix maps`"
            );
        }
        _ => {}
    }
    let state = AppState {
        public_url: args.public_url,
        maps_dir: args.maps_dir,
        basemap: args.basemap,
        basemap_attribution: args.basemap_attribution,
        rules: args.rules.rules(),
        cors_origins: args.cors_origins,
        max_body_bytes: args.max_body_mb as usize * 1024 * 1024,
        ..AppState::new(store)
    };
    if args.warm_seconds > 0 {
        tokio::spawn(landbank::warm::keep_warm(
            state.store.clone(),
            state.figures.clone(),
            state.available.clone(),
            std::time::Duration::from_secs(args.warm_seconds),
        ));
    }
    axum::serve(listener, router(state))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

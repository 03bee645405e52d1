//! Vietnam's provincial-level units, before and after the 2025 mergers, as reference data that ships
//! with landbank (no boundary geometry: none is public; zones carry their own).
//!
//! Resolution 202/2025/QH15 (12/06/2025) merged 52 of the 63 provinces and centrally-run cities into 23
//! new units; with the 11 it left as they were, Vietnam has had 34 since **01/07/2025**.
//!
//! # Codes
//! - The 63 units before the mergers keep their **ISO 3166-2:VN** codes (`VN-56` Bắc Ninh, `VN-HN` Hà
//!   Nội, …), which landbank has always used: old records, files and URLs keep working.
//! - ISO 3166-2:VN has not been updated for the 23 new units, and reusing an old code for a larger unit
//!   would silently change what old figures mean. The new units are coded **`VN2025-<GSO>`**, the
//!   statistical code the General Statistics Office gives the unit (two digits, e.g. `VN2025-24` for the
//!   new Bắc Ninh): it cannot collide with an ISO code, says which geography it belongs to, and carries
//!   the number officials already use. Every unit keeps its GSO code in `gso_code` too.
//! - The 11 unchanged units (Hà Nội, Huế, Lai Châu, Điện Biên, Sơn La, Lạng Sơn, Quảng Ninh, Thanh Hóa,
//!   Nghệ An, Hà Tĩnh, Cao Bằng) continue under their ISO code, without an end.
//!
//! A unit holds from `valid_from` (inclusive; empty: before any data landbank keeps) until `valid_to`
//! (exclusive; empty: still). A merged unit names its `successor_code`; a new one its
//! `predecessor_codes`. The table is `units.csv` beside this file.

use std::collections::HashMap;
use std::sync::LazyLock;

use crate::domain::{Date, Province, parse_date};

/// The day the 34 units began (Resolution 202/2025/QH15).
pub const MERGER_DAY: &str = "2025-07-01";

/// One provincial-level unit: the domain's [`Province`], as stored in `provinces` and served.
pub type Unit = Province;

impl Province {
    /// Whether the unit exists on `at`.
    pub fn valid_at(&self, at: Date) -> bool {
        self.valid_from.is_none_or(|f| f <= at) && self.valid_to.is_none_or(|t| at < t)
    }

    /// The units it was formed from.
    pub fn predecessors(&self) -> impl Iterator<Item = &str> {
        self.predecessor_codes
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
    }
}

/// Every unit, the 63 old ones first, then the 23 new ones (an empty cell is an absent value).
pub static UNITS: LazyLock<Vec<Unit>> = LazyLock::new(|| {
    csv::Reader::from_reader(include_str!("units.csv").as_bytes())
        .deserialize::<Province>()
        .map(|row| row.expect("units.csv is well formed (a unit test reads it)"))
        .collect()
});

static BY_CODE: LazyLock<HashMap<&'static str, &'static Unit>> =
    LazyLock::new(|| UNITS.iter().map(|u| (u.province_code.as_str(), u)).collect());

/// The unit with this code.
pub fn unit(code: &str) -> Option<&'static Unit> {
    BY_CODE.get(code).copied()
}

/// The units that exist on `at` (63 before 01/07/2025, 34 from then).
pub fn units_at(at: Date) -> Vec<&'static Unit> {
    UNITS.iter().filter(|u| u.valid_at(at)).collect()
}

/// The unit whose territory held a record of unit `code` on `at`: the unit itself while it exists,
/// then its successor (and so on). `None` for an unknown code.
pub fn resolve_at(code: &str, at: Date) -> Option<&'static Unit> {
    let mut u = unit(code)?;
    while u.valid_to.is_some_and(|t| t <= at) {
        match u.successor_code.as_deref().and_then(unit) {
            Some(next) => u = next,
            None => break,
        }
    }
    Some(u)
}

/// The dates on which [`resolve_at`] of `code` changes answer: the end of the unit, of its successor,
/// and so on.
pub fn handovers(code: &str) -> Vec<Date> {
    let mut dates = Vec::new();
    let mut next = unit(code);
    while let Some(u) = next {
        let Some(end) = u.valid_to.filter(|end| !dates.contains(end)) else { break };
        dates.push(end);
        next = u.successor_code.as_deref().and_then(unit);
    }
    dates
}

/// The codes whose records make up a unit's territory: the unit and, transitively, the units it was
/// formed from. The new Bắc Ninh is itself plus old Bắc Ninh and Bắc Giang, on any date.
pub fn territory(code: &str) -> Vec<String> {
    let mut codes = vec![code.to_string()];
    let mut i = 0;
    while i < codes.len() {
        if let Some(u) = unit(&codes[i]) {
            for p in u.predecessors() {
                if !codes.iter().any(|c| c == p) {
                    codes.push(p.to_string());
                }
            }
        }
        i += 1;
    }
    codes
}

/// How a province asked for relates to the date it is asked for, in words a planner reads; `None`
/// when the unit simply exists then.
pub fn notice(code: &str, at: Date) -> Option<String> {
    let u = unit(code)?;
    if let Some(end) = u.valid_to.filter(|t| *t <= at) {
        let next = resolve_at(code, at)?;
        return Some(format!(
            "{} {} ended on {}; on {} its territory is part of {} {}. Figures are for {}'s own territory.",
            u.province_code,
            u.name,
            end.format("%d/%m/%Y"),
            at.format("%d/%m/%Y"),
            next.province_code,
            next.name,
            u.name
        ));
    }
    if let Some(start) = u.valid_from.filter(|f| at < *f) {
        let names: Vec<String> =
            u.predecessors().filter_map(unit).map(|p| format!("{} {}", p.province_code, p.name)).collect();
        return Some(format!(
            "{} {} was formed on {}; figures before then cover the territory of {}.",
            u.province_code,
            u.name,
            start.format("%d/%m/%Y"),
            names.join(", ")
        ));
    }
    None
}

/// The unit with this code, or a message naming the units that exist on `at`.
pub fn known(code: &str, at: Date) -> Result<&'static Unit, String> {
    unit(code).ok_or_else(|| {
        let mut codes: Vec<String> =
            units_at(at).iter().map(|u| format!("{} {}", u.province_code, u.name)).collect();
        codes.sort();
        format!("no province {code}; provinces on {}: {}", at.format("%d/%m/%Y"), codes.join(", "))
    })
}

/// An unknown code, or a unit that had ended before `on`, as a message naming what to use instead.
pub fn check(code: &str, on: Option<Date>) -> Result<&'static Unit, String> {
    let u = known(code, on.unwrap_or_else(|| parse_date(MERGER_DAY).expect("a date")))?;
    if let (Some(on), Some(end)) = (on, u.valid_to)
        && end <= on
    {
        let next =
            resolve_at(code, on).map(|n| format!("{} {}", n.province_code, n.name)).unwrap_or_default();
        return Err(format!(
            "province {code} {} ended on {}, before {}; use {next}",
            u.name,
            end.format("%d/%m/%Y"),
            on.format("%d/%m/%Y")
        ));
    }
    Ok(u)
}

/// How figures are grouped for a question about `asked` (or the nation) on `at`: the codes to read, and
/// the unit each record's province code counts under.
#[derive(Debug, Clone)]
pub struct Lens {
    asked: Option<String>,
    at: Date,
}

impl Lens {
    pub fn new(asked: Option<&str>, at: Date) -> Self {
        Lens { asked: asked.map(str::to_string), at }
    }

    /// The province codes whose records to read (`None`: every one).
    pub fn codes(&self) -> Option<Vec<String>> {
        self.asked.as_deref().map(territory)
    }

    /// The unit a record of province `code` counts under: the one asked for, or the unit that holds
    /// its territory on the date.
    pub fn label(&self, code: &str) -> String {
        match &self.asked {
            Some(asked) => asked.clone(),
            None => resolve_at(code, self.at).map(|u| u.province_code.clone()).unwrap_or_else(|| code.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        parse_date(s).unwrap()
    }

    #[test]
    fn sixty_three_units_before_the_mergers_and_thirty_four_after() {
        assert_eq!(UNITS.len(), 63 + 23);
        assert_eq!(units_at(d("2025-06-30")).len(), 63);
        assert_eq!(units_at(d("2025-07-01")).len(), 34);
        let continuing = UNITS.iter().filter(|u| u.valid_from.is_none() && u.valid_to.is_none()).count();
        assert_eq!(continuing, 11);
        // Every merged unit names a successor that lists it back.
        for u in UNITS.iter().filter(|u| u.valid_to.is_some()) {
            let next = unit(u.successor_code.as_deref().unwrap()).unwrap();
            assert!(next.predecessors().any(|p| p == u.province_code), "{}", u.province_code);
        }
        for u in UNITS.iter() {
            use unicode_normalization::UnicodeNormalization;
            assert_eq!(u.name, u.name.nfc().collect::<String>());
        }
    }

    #[test]
    fn the_new_bac_ninh_holds_old_bac_ninh_and_bac_giang() {
        let bn = resolve_at("VN-56", d("2026-01-01")).unwrap();
        assert_eq!((bn.province_code.as_str(), bn.name.as_str()), ("VN2025-24", "Bắc Ninh"));
        assert_eq!(resolve_at("VN-54", d("2026-01-01")).unwrap().province_code, "VN2025-24");
        assert_eq!(resolve_at("VN-56", d("2023-11-17")).unwrap().province_code, "VN-56");
        assert_eq!(territory("VN2025-24"), ["VN2025-24", "VN-56", "VN-54"]);
        assert_eq!(territory("VN-56"), ["VN-56"]);
        assert_eq!(resolve_at("VN-HN", d("2026-01-01")).unwrap().province_code, "VN-HN");
        assert!(notice("VN-56", d("2026-01-01")).unwrap().contains("VN2025-24"));
        assert!(notice("VN-56", d("2023-11-17")).is_none());
        assert!(check("VN-56", Some(d("2026-01-05"))).unwrap_err().contains("VN2025-24"));
        assert!(check("VN-99", None).unwrap_err().contains("no province VN-99"));
        assert!(check("VN-56", Some(d("2010-01-01"))).is_ok());
    }
}

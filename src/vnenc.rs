//! Legacy Vietnamese byte encodings found in planners' Shapefile (DBF) attributes.
//!
//! Vietnamese GIS data made before Unicode was common stores attribute text in one of three
//! legacy 8-bit encodings, which the DBF header usually does not declare:
//!
//! * **TCVN3** (TCVN 5712:1993 "VN3", the "ABC" encoding of the `.VnTime` fonts): one byte per
//!   letter, precomposed lowercase letters with tones in 0xB5–0xFE and the toneless ă â ê ô ơ ư đ
//!   (and their capitals) in 0xA1–0xAE. Capitals *with tones* have no code at all.
//! * **VNI-Windows** (the `VNI-Times` fonts): an ASCII base letter followed by one mark byte taken
//!   from the Windows-1252 letter positions ("aù" = á, "oà" = ồ), plus a few one-byte letters
//!   (ơ "ô", ư "ö", đ "ñ", the toned i's and ỵ).
//! * **Windows-1258**: Microsoft's code page, a mix of precomposed letters and combining tones.
//!
//! [`VnEncoding::decode`] turns bytes into NFC Unicode text, [`VnEncoding::encode`] does the
//! reverse (used by tests to build legacy files) and [`detect`] picks the encoding of a sample of
//! values by how Vietnamese each candidate decoding looks.

use std::sync::OnceLock;

use encoding_rs::WINDOWS_1258;
use unicode_normalization::UnicodeNormalization;

/// A text encoding of Vietnamese attribute bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VnEncoding {
    /// UTF-8 (invalid sequences decode to U+FFFD).
    Utf8,
    /// Microsoft code page 1258 (Windows-1258), decoded with `encoding_rs` and composed to NFC.
    Windows1258,
    /// TCVN 5712:1993 VN3, the "ABC" encoding of the `.VnTime`/`.VnTimeH` fonts.
    Tcvn3,
    /// VNI-Windows, the encoding of the `VNI-Times` fonts (base letter + mark bytes).
    Vni,
}

impl VnEncoding {
    /// Parses what a user types after `--encoding` (case-insensitive): "utf-8"/"utf8", "cp1258"/"windows-1258"/"1258",
    /// "tcvn3"/"abc"/"tcvn"/"tcvn-3"/"tcvn5712", "vni"/"vni-windows". Returns None for anything else (including "auto").
    pub fn from_label(label: &str) -> Option<VnEncoding> {
        match label.trim().to_ascii_lowercase().as_str() {
            "utf-8" | "utf8" => Some(VnEncoding::Utf8),
            "cp1258" | "windows-1258" | "1258" => Some(VnEncoding::Windows1258),
            "tcvn3" | "abc" | "tcvn" | "tcvn-3" | "tcvn5712" => Some(VnEncoding::Tcvn3),
            "vni" | "vni-windows" => Some(VnEncoding::Vni),
            _ => None,
        }
    }

    /// Canonical name shown to users: "UTF-8", "CP1258", "TCVN3", "VNI".
    pub fn name(self) -> &'static str {
        match self {
            VnEncoding::Utf8 => "UTF-8",
            VnEncoding::Windows1258 => "CP1258",
            VnEncoding::Tcvn3 => "TCVN3",
            VnEncoding::Vni => "VNI",
        }
    }

    /// Decodes bytes to a Unicode String composed to NFC. Never panics; bytes without a mapping map as in
    /// Windows-1252 (or U+FFFD).
    ///
    /// * UTF-8: invalid sequences become U+FFFD.
    /// * TCVN3: VN3 (the ABC fonts) has no codes for capital letters with tones (the capitals-only
    ///   `.VnTimeH` font drew them from the *lowercase* codes), so such bytes decode to the lowercase
    ///   letter, raised again in a word whose other letters are all capitals: "NGHI\xD6P" decodes to
    ///   "NGHIỆP" (a two-letter word such as "S\xE8" stays "Số"). The capitals the full VN1 table
    ///   places where VN3 has nothing (0x80–0x9F, 0xAF, 0xBA, 0xBF–0xC5, …) decode as those capitals;
    ///   Ă Â Ê Ô Ơ Ư Đ have their own codes. Anything else decodes as Windows-1252.
    /// * VNI: a mark byte (e.g. 0xF9 "ù" = acute) combines with the letter before it; a mark byte
    ///   with no letter before it decodes as its Windows-1252 character.
    pub fn decode(self, bytes: &[u8]) -> String {
        match self {
            VnEncoding::Utf8 => String::from_utf8_lossy(bytes).nfc().collect(),
            VnEncoding::Windows1258 => {
                let (text, _had_errors) = WINDOWS_1258.decode_without_bom_handling(bytes);
                text.nfc().collect()
            }
            VnEncoding::Tcvn3 => {
                capitalise_shouted_words(&bytes.iter().map(|&b| tcvn3_char(b)).nfc().collect::<String>())
            }
            VnEncoding::Vni => decode_vni(bytes),
        }
    }

    /// Encodes NFC text into this encoding (used by tests to build legacy files); characters it cannot represent
    /// become b'?'.
    ///
    /// TCVN3 writes a capital letter with a tone (e.g. "Ệ") as its lowercase code, as `.VnTimeH`
    /// text did; decoding it back therefore gives the lowercase letter.
    pub fn encode(self, text: &str) -> Vec<u8> {
        let text: String = text.nfc().collect();
        match self {
            VnEncoding::Utf8 => text.into_bytes(),
            VnEncoding::Windows1258 => encode_cp1258(&text),
            VnEncoding::Tcvn3 => encode_tcvn3(&text),
            VnEncoding::Vni => encode_vni(&text),
        }
    }
}

/// What `--encoding auto` picked and why (one sentence for the user, e.g. "TCVN3: 41 of 50 non-ASCII values decode to Vietnamese text").
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    /// The encoding picked.
    pub encoding: VnEncoding,
    /// One sentence for the user, starting with the encoding's [`VnEncoding::name`].
    pub reason: String,
}

/// Detects the encoding of a sample of attribute values (raw bytes of each string value). Pure-ASCII samples → Utf8.
/// Valid UTF-8 with non-ASCII → Utf8. Otherwise scores CP1258, TCVN3 and VNI by how Vietnamese the decoded text looks
/// (e.g. share of decoded words that are valid Vietnamese syllables / only use Vietnamese letters) and picks the best.
///
/// Scoring: every non-ASCII value is decoded with each candidate (TCVN3, VNI, CP1258 and, when
/// some values are valid UTF-8 and some are not, UTF-8 too) and split into words at whitespace,
/// ASCII punctuation and digits. A word that contains a non-ASCII character counts as Vietnamese
/// when it only uses Vietnamese letters, carries at most one tone and parses as
/// initial consonant + vowel nucleus + final consonant (with the rules that ă/â/iê/uô/ươ need a
/// final consonant, that ai/ao/ưa/… take none, that -nh/-ch follow only a/ê/i/y, that -ng/-c never
/// follow a bare i/y, and that finals c/ch/p/t take only the acute or dot-below tone). A value
/// counts when all its non-ASCII words do. Candidates are ranked by
/// values that count, then words that count, then fewest non-Vietnamese characters; remaining
/// ties go to TCVN3, then VNI, then CP1258, the order of how common they are in GIS data.
pub fn detect(samples: &[&[u8]]) -> Detection {
    let non_ascii: Vec<&[u8]> = samples.iter().copied().filter(|s| !s.is_ascii()).collect();
    if non_ascii.is_empty() {
        let reason = if samples.is_empty() {
            "UTF-8: there are no values to inspect, so the default applies".to_string()
        } else {
            format!(
                "UTF-8: all {} values are plain ASCII, which reads the same in every encoding",
                samples.len()
            )
        };
        return Detection { encoding: VnEncoding::Utf8, reason };
    }
    let valid_utf8 = non_ascii.iter().filter(|s| std::str::from_utf8(s).is_ok()).count();
    if valid_utf8 == non_ascii.len() {
        return Detection {
            encoding: VnEncoding::Utf8,
            reason: format!("UTF-8: all {} non-ASCII values are valid UTF-8", non_ascii.len()),
        };
    }

    let mut candidates = vec![VnEncoding::Tcvn3, VnEncoding::Vni, VnEncoding::Windows1258];
    if valid_utf8 > 0 {
        candidates.push(VnEncoding::Utf8);
    }
    let mut scores: Vec<Score> = candidates.iter().map(|&enc| Score::of(enc, &non_ascii)).collect();
    // Stable sort: ties keep the preference order of `candidates`.
    scores.sort_by_key(|s| std::cmp::Reverse(s.rank()));
    let best = &scores[0];
    let total = non_ascii.len();
    let reason = if best.values_ok == 0 {
        format!(
            "{}: best guess, although none of the {total} non-ASCII values decode to Vietnamese text \
             in any encoding ({} of {} words do)",
            best.encoding.name(),
            best.words_ok,
            best.words
        )
    } else {
        let runner_up = &scores[1];
        format!(
            "{}: {} of {total} non-ASCII values decode to Vietnamese text (next best {}: {})",
            best.encoding.name(),
            best.values_ok,
            runner_up.encoding.name(),
            runner_up.values_ok
        )
    };
    Detection { encoding: best.encoding, reason }
}

/// How Vietnamese one candidate decoding of the sample looks.
#[derive(Debug)]
struct Score {
    encoding: VnEncoding,
    /// Values all of whose non-ASCII words are Vietnamese syllables.
    values_ok: usize,
    /// Non-ASCII words that are Vietnamese syllables.
    words_ok: usize,
    /// Non-ASCII words in all.
    words: usize,
    /// Non-ASCII characters that are not Vietnamese letters.
    bad_chars: usize,
}

impl Score {
    fn of(encoding: VnEncoding, samples: &[&[u8]]) -> Score {
        let mut score = Score { encoding, values_ok: 0, words_ok: 0, words: 0, bad_chars: 0 };
        for sample in samples {
            let text = encoding.decode(sample);
            score.bad_chars += text.chars().filter(|&c| !c.is_ascii() && !is_vietnamese_char(c)).count();
            let mut all_ok = true;
            for word in words(&text).filter(|w| !w.is_ascii()) {
                score.words += 1;
                if is_vietnamese_syllable(word) {
                    score.words_ok += 1;
                } else {
                    all_ok = false;
                }
            }
            if all_ok {
                score.values_ok += 1;
            }
        }
        score
    }

    /// Bigger is better.
    fn rank(&self) -> (usize, usize, std::cmp::Reverse<usize>) {
        (self.values_ok, self.words_ok, std::cmp::Reverse(self.bad_chars))
    }
}

// ---------------------------------------------------------------------------------------------
// Shared tables
// ---------------------------------------------------------------------------------------------

const GRAVE: char = '\u{0300}';
const ACUTE: char = '\u{0301}';
const CIRCUMFLEX: char = '\u{0302}';
const TILDE: char = '\u{0303}';
const BREVE: char = '\u{0306}';
const HOOK: char = '\u{0309}';
const HORN: char = '\u{031B}';
const DOT: char = '\u{0323}';

/// The five Vietnamese tone marks as combining characters.
const TONES: [char; 5] = [GRAVE, ACUTE, TILDE, HOOK, DOT];

/// Windows-1252 for 0x80–0x9F; the five unassigned positions give U+FFFD.
const CP1252_80_9F: [char; 32] = [
    '€', '\u{FFFD}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{FFFD}', 'Ž', '\u{FFFD}',
    '\u{FFFD}', '\u{2018}', '\u{2019}', '\u{201C}', '\u{201D}', '•', '–', '—', '˜', '™', 'š', '›', 'œ',
    '\u{FFFD}', 'ž', 'Ÿ',
];

/// A byte as Windows-1252.
fn cp1252(b: u8) -> char {
    match b {
        0x80..=0x9F => CP1252_80_9F[usize::from(b - 0x80)],
        _ => char::from(b),
    }
}

// ---------------------------------------------------------------------------------------------
// TCVN3
// ---------------------------------------------------------------------------------------------

/// The Vietnamese letters of TCVN3 (VN3); the other bytes are ASCII or Windows-1252.
fn tcvn3_letter(b: u8) -> Option<char> {
    Some(match b {
        0xA1 => 'Ă',
        0xA2 => 'Â',
        0xA3 => 'Ê',
        0xA4 => 'Ô',
        0xA5 => 'Ơ',
        0xA6 => 'Ư',
        0xA7 => 'Đ',
        0xA8 => 'ă',
        0xA9 => 'â',
        0xAA => 'ê',
        0xAB => 'ô',
        0xAC => 'ơ',
        0xAD => 'ư',
        0xAE => 'đ',
        // a
        0xB5 => 'à',
        0xB6 => 'ả',
        0xB7 => 'ã',
        0xB8 => 'á',
        0xB9 => 'ạ',
        // ă
        0xBB => 'ằ',
        0xBC => 'ẳ',
        0xBD => 'ẵ',
        0xBE => 'ắ',
        0xC6 => 'ặ',
        // â
        0xC7 => 'ầ',
        0xC8 => 'ẩ',
        0xC9 => 'ẫ',
        0xCA => 'ấ',
        0xCB => 'ậ',
        // e
        0xCC => 'è',
        0xCE => 'ẻ',
        0xCF => 'ẽ',
        0xD0 => 'é',
        0xD1 => 'ẹ',
        // ê
        0xD2 => 'ề',
        0xD3 => 'ể',
        0xD4 => 'ễ',
        0xD5 => 'ế',
        0xD6 => 'ệ',
        // i
        0xD7 => 'ì',
        0xD8 => 'ỉ',
        0xDC => 'ĩ',
        0xDD => 'í',
        0xDE => 'ị',
        // o
        0xDF => 'ò',
        0xE1 => 'ỏ',
        0xE2 => 'õ',
        0xE3 => 'ó',
        0xE4 => 'ọ',
        // ô
        0xE5 => 'ồ',
        0xE6 => 'ổ',
        0xE7 => 'ỗ',
        0xE8 => 'ố',
        0xE9 => 'ộ',
        // ơ
        0xEA => 'ờ',
        0xEB => 'ở',
        0xEC => 'ỡ',
        0xED => 'ớ',
        0xEE => 'ợ',
        // u
        0xEF => 'ù',
        0xF1 => 'ủ',
        0xF2 => 'ũ',
        0xF3 => 'ú',
        0xF4 => 'ụ',
        // ư
        0xF5 => 'ừ',
        0xF6 => 'ử',
        0xF7 => 'ữ',
        0xF8 => 'ứ',
        0xF9 => 'ự',
        // y
        0xFA => 'ỳ',
        0xFB => 'ỷ',
        0xFC => 'ỹ',
        0xFD => 'ý',
        0xFE => 'ỵ',
        _ => return None,
    })
}

/// One TCVN3 byte as a character.
fn tcvn3_char(b: u8) -> char {
    tcvn3_letter(b).or_else(|| tcvn_vn1_capital(b)).unwrap_or_else(|| cp1252(b))
}

/// Capitals with tones in the positions VN3 leaves free, as the full TCVN 5712:1993 (VN1) table has
/// them (checked against glibc's `TCVN5712-1`): files typed with VN1 fonts keep their capitals. The
/// VN1 capitals VN3 overlaps with control codes (0x01–0x17) are not taken.
fn tcvn_vn1_capital(b: u8) -> Option<char> {
    Some(match b {
        0x80 => 'À',
        0x81 => 'Ả',
        0x82 => 'Ã',
        0x83 => 'Á',
        0x84 => 'Ạ',
        0x85 => 'Ặ',
        0x86 => 'Ậ',
        0x87 => 'È',
        0x88 => 'Ẻ',
        0x89 => 'Ẽ',
        0x8A => 'É',
        0x8B => 'Ẹ',
        0x8C => 'Ệ',
        0x8D => 'Ì',
        0x8E => 'Ỉ',
        0x8F => 'Ĩ',
        0x90 => 'Í',
        0x91 => 'Ị',
        0x92 => 'Ò',
        0x93 => 'Ỏ',
        0x94 => 'Õ',
        0x95 => 'Ó',
        0x96 => 'Ọ',
        0x97 => 'Ộ',
        0x98 => 'Ờ',
        0x99 => 'Ở',
        0x9A => 'Ỡ',
        0x9B => 'Ớ',
        0x9C => 'Ợ',
        0x9D => 'Ù',
        0x9E => 'Ủ',
        0x9F => 'Ũ',
        0xAF => 'Ằ',
        0xBA => 'Ẳ',
        0xBF => 'Ẵ',
        0xC0 => 'Ắ',
        0xC1 => 'Ầ',
        0xC2 => 'Ẩ',
        0xC3 => 'Ẫ',
        0xC4 => 'Ấ',
        0xC5 => 'Ề',
        0xCD => 'Ể',
        0xD9 => 'Ễ',
        0xDA => 'Ế',
        0xDB => 'Ồ',
        0xE0 => 'Ổ',
        0xF0 => 'Ỗ',
        0xFF => 'Ố',
        _ => return None,
    })
}

fn encode_tcvn3(text: &str) -> Vec<u8> {
    let byte_of = |c: char| (0x80..=0xFFu8).find(|&b| c != '\u{FFFD}' && tcvn3_char(b) == c);
    text.chars()
        .map(|c| {
            if c.is_ascii() {
                return c as u8;
            }
            byte_of(c)
                .or_else(|| {
                    // Capitals with tones have no code: use the lowercase one (.VnTimeH style).
                    let mut lower = c.to_lowercase();
                    match (lower.next(), lower.next()) {
                        (Some(l), None) if l != c => byte_of(l),
                        _ => None,
                    }
                })
                .unwrap_or(b'?')
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// VNI-Windows
// ---------------------------------------------------------------------------------------------

/// What one VNI byte stands for.
enum VniByte {
    /// A letter (or any other character) on its own.
    Char(char),
    /// Combining marks for the letter before it, and the byte's Windows-1252 character used when
    /// there is no letter before it.
    Marks(&'static [char], char),
}

/// Raises the lowercase letters of words whose other letters are all capitals (TCVN3 capitals with
/// tones were written with lowercase codes): "NGHIệP" → "NGHIỆP"; "Quế" and "Võ" stay (one capital
/// is a capitalised word).
fn capitalise_shouted_words(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        let upper = word.chars().filter(|c| c.is_uppercase()).count();
        let ascii_lower = word.chars().filter(|c| c.is_ascii_lowercase()).count();
        if upper >= 2 && ascii_lower == 0 && word.chars().any(|c| c.is_lowercase()) {
            out.push_str(&word.to_uppercase());
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in text.chars() {
        if c.is_alphabetic() {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// The VNI-Windows table. Capital forms sit 0x20 below the lowercase ones, as in Windows-1252:
/// "ù" 0xF9 is the acute for lowercase letters and "Ù" 0xD9 the acute for capitals.
fn vni_byte(b: u8) -> VniByte {
    if b < 0xC0 {
        return VniByte::Char(cp1252(b));
    }
    let upper = b < 0xE0;
    let letter = |lower: char, capital: char| VniByte::Char(if upper { capital } else { lower });
    let marks = |m: &'static [char]| VniByte::Marks(m, cp1252(b));
    match b | 0x20 {
        0xE0 => marks(&[CIRCUMFLEX, GRAVE]),
        0xE1 => marks(&[CIRCUMFLEX, ACUTE]),
        0xE2 => marks(&[CIRCUMFLEX]),
        0xE3 => marks(&[CIRCUMFLEX, TILDE]),
        0xE4 => marks(&[CIRCUMFLEX, DOT]),
        0xE5 => marks(&[CIRCUMFLEX, HOOK]),
        0xE6 => letter('ỉ', 'Ỉ'),
        0xE8 => marks(&[BREVE, GRAVE]),
        0xE9 => marks(&[BREVE, ACUTE]),
        0xEA => marks(&[BREVE]),
        0xEB => marks(&[BREVE, DOT]),
        0xEC => letter('ì', 'Ì'),
        0xED => letter('í', 'Í'),
        0xEE => letter('ỵ', 'Ỵ'),
        0xEF => marks(&[DOT]),
        0xF1 => letter('đ', 'Đ'),
        0xF2 => letter('ị', 'Ị'),
        0xF3 => letter('ĩ', 'Ĩ'),
        0xF4 => letter('ơ', 'Ơ'),
        0xF5 => marks(&[TILDE]),
        0xF6 => letter('ư', 'Ư'),
        0xF8 => marks(&[GRAVE]),
        0xF9 => marks(&[ACUTE]),
        0xFA => marks(&[BREVE, HOOK]),
        0xFB => marks(&[HOOK]),
        0xFC => marks(&[BREVE, TILDE]),
        _ => VniByte::Char(cp1252(b)),
    }
}

fn decode_vni(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + bytes.len() / 2);
    for &b in bytes {
        match vni_byte(b) {
            VniByte::Char(c) => out.push(c),
            VniByte::Marks(marks, alone) => {
                let after_letter = out.chars().next_back().is_some_and(|p| p.is_alphabetic() || is_mark(p));
                if after_letter {
                    out.extend(marks);
                } else {
                    out.push(alone);
                }
            }
        }
    }
    out.nfc().collect()
}

/// A combining diacritical mark (U+0300–U+036F).
fn is_mark(c: char) -> bool {
    ('\u{0300}'..='\u{036F}').contains(&c)
}

/// The lowercase VNI mark byte for a vowel quality mark (circumflex or breve, if any) and a tone.
fn vni_mark_byte(quality: Option<char>, tone: Option<char>) -> Option<u8> {
    let column = match tone {
        None => 0,
        Some(ACUTE) => 1,
        Some(GRAVE) => 2,
        Some(HOOK) => 3,
        Some(TILDE) => 4,
        Some(DOT) => 5,
        Some(_) => return None,
    };
    let row: [u8; 6] = match quality {
        None => [0, 0xF9, 0xF8, 0xFB, 0xF5, 0xEF],
        Some(CIRCUMFLEX) => [0xE2, 0xE1, 0xE0, 0xE5, 0xE3, 0xE4],
        Some(BREVE) => [0xEA, 0xE9, 0xE8, 0xFA, 0xFC, 0xEB],
        Some(_) => return None,
    };
    Some(row[column]).filter(|&b| b != 0)
}

/// One non-ASCII character in VNI, if VNI can write it.
fn vni_encode_char(c: char, out: &mut Vec<u8>) -> bool {
    let Some(Split { base, quality, tone }) = split_letter(c) else { return false };
    if !base.is_ascii_alphabetic() {
        return false;
    }
    let upper = base.is_ascii_uppercase();
    let case = |b: u8| if upper { b - 0x20 } else { b };
    let lower = base.to_ascii_lowercase();
    match (lower, quality) {
        ('d', Some('đ')) => out.push(case(0xF1)),
        ('o' | 'u', Some(HORN)) => {
            out.push(case(if lower == 'o' { 0xF4 } else { 0xF6 }));
            if let Some(t) = tone {
                let Some(m) = vni_mark_byte(None, Some(t)) else { return false };
                out.push(case(m));
            }
        }
        ('i', None) => {
            let b = match tone {
                Some(ACUTE) => 0xED,
                Some(GRAVE) => 0xEC,
                Some(HOOK) => 0xE6,
                Some(TILDE) => 0xF3,
                Some(DOT) => 0xF2,
                _ => return false,
            };
            out.push(case(b));
        }
        ('y', None) if tone == Some(DOT) => out.push(case(0xEE)),
        ('a' | 'e' | 'o' | 'u' | 'y', None) | ('a' | 'e' | 'o', Some(CIRCUMFLEX)) | ('a', Some(BREVE)) => {
            let Some(m) = vni_mark_byte(quality, tone) else { return false };
            out.push(base as u8);
            out.push(case(m));
        }
        _ => return false,
    }
    true
}

fn encode_vni(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() * 2);
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c as u8);
        } else if !vni_encode_char(c, &mut out) {
            // Bytes that stand for themselves in VNI (e.g. "€"), else '?'.
            let own = (0x80..=0xFFu8)
                .find(|&b| c != '\u{FFFD}' && matches!(vni_byte(b), VniByte::Char(x) if x == c));
            out.push(own.unwrap_or(b'?'));
        }
    }
    out
}

/// A Vietnamese letter taken apart.
struct Split {
    /// The ASCII base letter (or the letter itself when it has no decomposition).
    base: char,
    /// Circumflex, breve or horn as a combining mark, or 'đ' for the stroke of đ/Đ.
    quality: Option<char>,
    /// One of [`TONES`].
    tone: Option<char>,
}

/// Takes a letter apart into base, quality mark and tone; None when it has other or repeated marks.
fn split_letter(c: char) -> Option<Split> {
    if c == 'đ' || c == 'Đ' {
        return Some(Split { base: if c == 'đ' { 'd' } else { 'D' }, quality: Some('đ'), tone: None });
    }
    let mut parts = std::iter::once(c).nfd();
    let base = parts.next()?;
    let (mut quality, mut tone) = (None, None);
    for m in parts {
        let slot = if TONES.contains(&m) {
            &mut tone
        } else if matches!(m, CIRCUMFLEX | BREVE | HORN) {
            &mut quality
        } else {
            return None;
        };
        if slot.replace(m).is_some() {
            return None;
        }
    }
    Some(Split { base, quality, tone })
}

// ---------------------------------------------------------------------------------------------
// Windows-1258
// ---------------------------------------------------------------------------------------------

/// The characters of Windows-1258 bytes 0x80–0xFF, as `encoding_rs` decodes them.
fn cp1258_high() -> &'static [char; 128] {
    static TABLE: OnceLock<[char; 128]> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = ['\u{FFFD}'; 128];
        for (i, slot) in table.iter_mut().enumerate() {
            let byte = [0x80 + i as u8];
            let (text, _) = WINDOWS_1258.decode_without_bom_handling(&byte);
            let mut chars = text.chars();
            if let (Some(c), None) = (chars.next(), chars.next()) {
                *slot = c;
            }
        }
        table
    })
}

/// The Windows-1258 byte of one character, if it has one.
fn cp1258_byte(c: char) -> Option<u8> {
    if c.is_ascii() {
        return Some(c as u8);
    }
    if c == '\u{FFFD}' {
        return None;
    }
    cp1258_high().iter().position(|&x| x == c).map(|i| 0x80 + i as u8)
}

fn encode_cp1258(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        if let Some(b) = cp1258_byte(c) {
            out.push(b);
            continue;
        }
        // Precomposed letter without a code: toneless letter (often precomposed) + tone byte.
        let decomposed: String = std::iter::once(c).nfd().collect();
        let tones: Vec<char> = decomposed.chars().filter(|m| TONES.contains(m)).collect();
        let rest: String = decomposed.chars().filter(|m| !TONES.contains(m)).nfc().collect();
        let mut rest_chars = rest.chars();
        let encoded = match (rest_chars.next(), rest_chars.next(), tones.as_slice()) {
            (Some(base), None, [tone]) => cp1258_byte(base).zip(cp1258_byte(*tone)),
            _ => None,
        };
        match encoded {
            Some((base, tone)) => out.extend([base, tone]),
            None => out.push(b'?'),
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// What Vietnamese text looks like
// ---------------------------------------------------------------------------------------------

/// Words of a decoded value: split at whitespace, ASCII punctuation and digits, and the general
/// punctuation block (dashes, curly quotes), which reads the same in every candidate encoding.
fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| {
        c.is_whitespace()
            || c.is_ascii_punctuation()
            || c.is_ascii_digit()
            || ('\u{2010}'..='\u{2027}').contains(&c)
    })
    .filter(|w| !w.is_empty())
}

const VOWELS: &str = "aăâeêioôơuưy";
const CONSONANTS: &str = "bcdđghklmnpqrstvx";

/// A lowercase toneless letter of the Vietnamese alphabet.
fn is_vietnamese_letter(c: char) -> bool {
    VOWELS.contains(c) || CONSONANTS.contains(c)
}

/// A letter (either case, with or without tone) of the Vietnamese alphabet.
fn is_vietnamese_char(c: char) -> bool {
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(l), None) => strip_tone(l).is_some_and(|(b, _)| is_vietnamese_letter(b)),
        _ => false,
    }
}

/// Splits a lowercase character into its toneless form and tone.
fn strip_tone(c: char) -> Option<(char, Option<char>)> {
    if c.is_ascii() || c == 'đ' {
        return Some((c, None));
    }
    let mut tone = None;
    let mut rest = String::new();
    for d in std::iter::once(c).nfd() {
        if TONES.contains(&d) {
            if tone.replace(d).is_some() {
                return None;
            }
        } else {
            rest.push(d);
        }
    }
    let mut toneless = rest.nfc();
    match (toneless.next(), toneless.next()) {
        (Some(b), None) => Some((b, tone)),
        _ => None,
    }
}

/// Onsets, longest first; the empty onset last.
const INITIALS: [&str; 28] = [
    "ngh", "ng", "nh", "ch", "gh", "gi", "kh", "ph", "qu", "th", "tr", "b", "c", "d", "đ", "g", "h", "k",
    "l", "m", "n", "p", "r", "s", "t", "v", "x", "",
];

/// Whether a vowel nucleus takes a final consonant.
#[derive(Clone, Copy, PartialEq)]
enum Coda {
    Optional,
    Required,
    Forbidden,
}

fn nucleus(v: &str) -> Option<Coda> {
    Some(match v {
        "a" | "e" | "ê" | "i" | "o" | "ô" | "ơ" | "u" | "ư" | "y" | "oa" | "oe" | "uê" | "uy" => {
            Coda::Optional
        }
        "ă" | "â" | "iê" | "yê" | "uô" | "ươ" | "uâ" | "oă" | "uyê" | "oo" => Coda::Required,
        "ai" | "ao" | "au" | "ay" | "âu" | "ây" | "eo" | "êu" | "ia" | "iu" | "oi" | "ôi" | "ơi" | "ua"
        | "ui" | "ưa" | "ưi" | "ưu" | "uơ" | "iêu" | "yêu" | "oai" | "oay" | "oao" | "oeo" | "uây"
        | "uôi" | "ươi" | "ươu" | "uya" | "uyu" => Coda::Forbidden,
        _ => return None,
    })
}

/// Whether `rest` (after the onset) is a vowel nucleus plus an allowed final consonant.
fn is_rhyme(rest: &str, tone: Option<char>) -> bool {
    let split = rest.char_indices().find(|&(_, c)| !VOWELS.contains(c)).map_or(rest.len(), |(i, _)| i);
    let (vowels, last) = rest.split_at(split);
    let Some(coda) = nucleus(vowels) else { return false };
    if coda == Coda::Forbidden && !last.is_empty() {
        return false;
    }
    // -nh and -ch follow only a, ê, i, y (anh, oanh, ênh, uêch, inh, uynh).
    let palatal_ok = vowels.ends_with(['a', 'ê', 'i', 'y']);
    // -ng and -c never follow a bare i/y (no "ing", "ic", "uyng"); "oo" takes only -ng/-c.
    let velar_ok = !matches!(vowels, "i" | "y" | "uy");
    let stop_tone_ok = matches!(tone, Some(ACUTE | DOT));
    if vowels == "oo" && !matches!(last, "ng" | "c") {
        return false;
    }
    match last {
        "" => coda != Coda::Required,
        "m" | "n" => true,
        "ng" => velar_ok,
        "nh" => palatal_ok,
        // Stops take only the acute or dot-below tone.
        "p" | "t" => stop_tone_ok,
        "c" => velar_ok && stop_tone_ok,
        "ch" => palatal_ok && stop_tone_ok,
        // Highland place names ("Đắk Lắk", "Đăk Hà").
        "k" => true,
        _ => false,
    }
}

/// Whether a word (any case) is a plausible Vietnamese syllable.
fn is_vietnamese_syllable(word: &str) -> bool {
    let mut letters = String::with_capacity(word.len());
    let mut tone = None;
    for c in word.chars().flat_map(char::to_lowercase) {
        let Some((base, t)) = strip_tone(c) else { return false };
        if !is_vietnamese_letter(base) {
            return false;
        }
        if let Some(t) = t
            && (tone.replace(t).is_some() || !VOWELS.contains(base))
        {
            return false;
        }
        letters.push(base);
    }
    INITIALS.iter().any(|init| letters.strip_prefix(init).is_some_and(|rest| is_rhyme(rest, tone)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Real names whose toned letters are all lowercase (TCVN3 can represent them exactly).
    const NAMES: &[&str] = &[
        "Quế Võ",
        "Yên Phong",
        "Thăng Long",
        "Đồng Sóc",
        "Hưng Yên",
        "Khu công nghiệp Tiên Sơn",
        "Bắc Ninh",
        "Hải Phòng",
        "Đình Vũ",
        "Nhơn Trạch",
        "Bình Dương",
        "Long Hậu",
        "Phố Nối A",
        "Đại An",
        "Nội Bài",
        "Khu đô thị Nam Thăng Long",
        "Lô đất CN-05, đường số 3",
        "Dung Quất",
        "Hiệp Phước",
        "Tân Tạo",
        "Mỹ Phước 3",
        "Amata Biên Hòa",
        "Ông Kèo",
        "Ưu tiên mở rộng giai đoạn 2",
        "Đắk Lắk",
        "Khu kinh tế Nghi Sơn",
        "Xã Ân Thi, huyện Ân Thi",
        "Ơn Đức",
    ];

    /// Real names with capital letters carrying tones (not representable in TCVN3).
    const UPPER_TONED: &[&str] = &[
        "KHU CÔNG NGHIỆP QUẾ VÕ",
        "Ấp Bình Chánh",
        "Ủy ban nhân dân tỉnh",
        "Vũng Áng",
        "ĐƯỜNG SỐ 7",
        "Ỷ Lan",
        "ĐỒNG VĂN",
        "Ỵ",
        "Ĩ Ị Ỉ Ì Í",
    ];

    const ALL: [VnEncoding; 4] =
        [VnEncoding::Utf8, VnEncoding::Windows1258, VnEncoding::Tcvn3, VnEncoding::Vni];

    #[test]
    fn labels_and_names() {
        let cases = [
            ("utf-8", Some(VnEncoding::Utf8)),
            ("UTF8", Some(VnEncoding::Utf8)),
            ("cp1258", Some(VnEncoding::Windows1258)),
            ("Windows-1258", Some(VnEncoding::Windows1258)),
            ("1258", Some(VnEncoding::Windows1258)),
            ("tcvn3", Some(VnEncoding::Tcvn3)),
            ("ABC", Some(VnEncoding::Tcvn3)),
            ("tcvn", Some(VnEncoding::Tcvn3)),
            ("TCVN-3", Some(VnEncoding::Tcvn3)),
            ("tcvn5712", Some(VnEncoding::Tcvn3)),
            ("VNI", Some(VnEncoding::Vni)),
            ("vni-windows", Some(VnEncoding::Vni)),
            ("auto", None),
            ("latin1", None),
            ("", None),
        ];
        for (label, want) in cases {
            assert_eq!(VnEncoding::from_label(label), want, "{label}");
        }
        let names: Vec<&str> = ALL.iter().map(|e| e.name()).collect();
        assert_eq!(names, ["UTF-8", "CP1258", "TCVN3", "VNI"]);
        for enc in ALL {
            assert_eq!(VnEncoding::from_label(enc.name()), Some(enc));
        }
    }

    #[test]
    fn round_trips() {
        assert!(NAMES.len() >= 20);
        for enc in ALL {
            let names: Vec<&str> = match enc {
                VnEncoding::Tcvn3 => NAMES.to_vec(),
                _ => NAMES.iter().chain(UPPER_TONED).copied().collect(),
            };
            for name in names {
                let bytes = enc.encode(name);
                assert!(!bytes.contains(&b'?'), "{} cannot encode {name:?}: {bytes:x?}", enc.name());
                if enc != VnEncoding::Utf8 {
                    assert!(std::str::from_utf8(&bytes).is_err() || bytes.is_ascii(), "{name:?}");
                }
                assert_eq!(enc.decode(&bytes), name, "{} round trip of {name:?} via {bytes:x?}", enc.name());
            }
        }
    }

    #[test]
    fn decode_composes_nfd_input_and_encode_accepts_nfd() {
        let nfd: String = "Khu công nghiệp Quế Võ".nfd().collect();
        for enc in ALL {
            assert_eq!(enc.decode(&enc.encode(&nfd)), "Khu công nghiệp Quế Võ", "{}", enc.name());
        }
    }

    #[test]
    fn tcvn3_capitals_with_tones_fall_back_to_lowercase_codes() {
        // VN1 gives some capitals with tones a code of their own (0x8C Ệ); for the others .VnTimeH drew
        // capitals from the lowercase codes, so "Ử" is written as ử (0xF6).
        assert_eq!(VnEncoding::Tcvn3.encode("Ệ"), [0x8C]);
        assert_eq!(VnEncoding::Tcvn3.encode("ệ"), [0xD6]);
        assert_eq!(VnEncoding::Tcvn3.encode("Ử"), [0xF6]);
        assert_eq!(VnEncoding::Tcvn3.decode(b"KHU C\xA4NG NGHI\x8CP"), "KHU CÔNG NGHIỆP");
        // In a word of capitals, the lowercase codes were capitals too.
        assert_eq!(VnEncoding::Tcvn3.decode(b"KHU C\xA4NG NGHI\xD6P"), "KHU CÔNG NGHIỆP");
        // A two-letter word with one capital reads as capitalised ("Số"): TCVN3 cannot say more.
        assert_eq!(VnEncoding::Tcvn3.decode(b"\xA7\xA6\xEANG S\xF6 7"), "ĐƯỜNG Sử 7");
        assert_eq!(VnEncoding::Tcvn3.decode(b"Qu\xD5 V\xE2 II"), "Quế Võ II", "mixed case stays");
        // Capitals without tone have their own codes.
        assert_eq!(VnEncoding::Tcvn3.encode("ĂÂÊÔƠƯĐ"), [0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7]);
    }

    #[test]
    fn tcvn3_known_bytes() {
        let tcvn3 = VnEncoding::Tcvn3;
        assert_eq!(tcvn3.decode(b"Qu\xD5 V\xE2"), "Quế Võ");
        assert_eq!(tcvn3.decode(b"\xA7\xE5ng S\xE3c"), "Đồng Sóc");
        assert_eq!(tcvn3.decode(b"Khu c\xABng nghi\xD6p Ti\xAAn S\xACn"), "Khu công nghiệp Tiên Sơn");
        assert_eq!(tcvn3.decode(b"H\xADng Y\xAAn"), "Hưng Yên");
        assert_eq!(tcvn3.decode(b"Th\xA8ng Long"), "Thăng Long");
        assert_eq!(tcvn3.decode(b"\xB8\xB5\xB6\xB7\xB9"), "áàảãạ");
        assert_eq!(tcvn3.decode(b"\xA8\xA9\xAA\xAB\xAC\xAD\xAE"), "ăâêôơưđ");
        assert_eq!(tcvn3.decode(b"\xA1\xA2\xA3\xA4\xA5\xA6\xA7"), "ĂÂÊÔƠƯĐ");
        assert_eq!(tcvn3.decode(b"\xFA\xFB\xFC\xFD\xFE"), "ỳỷỹýỵ");
        // VN1 capitals where VN3 has none; unassigned positions read as Windows-1252.
        assert_eq!(tcvn3.decode(b"\x80\xC0\xFF"), "ÀẮỐ");
        assert_eq!(tcvn3.decode(b"\xB0\xB1"), "°±");
    }

    #[test]
    fn vni_known_bytes() {
        let vni = VnEncoding::Vni;
        assert_eq!(vni.decode(b"Xin cha\xF8o ca\xF9c ba\xEFn"), "Xin chào các bạn");
        assert_eq!(vni.decode(b"Que\xE1 Vo\xF5"), "Quế Võ");
        assert_eq!(vni.decode(b"Ye\xE2n Phong"), "Yên Phong");
        assert_eq!(vni.decode(b"Tha\xEAng Long"), "Thăng Long");
        assert_eq!(vni.decode(b"\xD1o\xE0ng So\xF9c"), "Đồng Sóc");
        assert_eq!(vni.decode(b"H\xF6ng Ye\xE2n"), "Hưng Yên");
        assert_eq!(vni.decode(b"Khu co\xE2ng nghie\xE4p Tie\xE2n S\xF4n"), "Khu công nghiệp Tiên Sơn");
        assert_eq!(vni.decode(b"Tr\xF6\xF4\xF8ng"), "Trường");
        // Capitals take the capital marks.
        assert_eq!(vni.decode(b"\xD1A\xC1T \xD6\xD9NG"), "ĐẤT ỨNG");
        assert_eq!(vni.decode(b"\xED\xEC\xE6\xF3\xF2 \xCD\xCC\xC6\xD3\xD2 \xEE\xCE"), "íìỉĩị ÍÌỈĨỊ ỵỴ");
        assert_eq!(vni.decode(b"a\xE9 a\xE8 a\xFA a\xFC a\xEB"), "ắ ằ ẳ ẵ ặ");
        // A mark with no letter before it reads as Windows-1252.
        assert_eq!(vni.decode(b"\xF9 5"), "ù 5");
    }

    #[test]
    fn cp1258_known_bytes() {
        let cp = VnEncoding::Windows1258;
        assert_eq!(cp.decode(b"H\xFDng Y\xEAn"), "Hưng Yên");
        assert_eq!(cp.decode(b"Qu\xEA\xEC Vo\xDE"), "Quế Võ");
        assert_eq!(cp.decode(b"\xD0\xF4\xCCng S\xF3c"), "Đồng Sóc");
        assert_eq!(cp.decode(b"Th\xE3ng Long"), "Thăng Long");
        assert_eq!(cp.decode(b"Ti\xEAn S\xF5n"), "Tiên Sơn");
        assert_eq!(cp.decode(b"nghi\xEA\xF2p"), "nghiệp");
    }

    #[test]
    fn decode_never_panics_and_is_nfc() {
        let mut all: Vec<u8> = (0..=255).collect();
        all.extend((0..=255u8).rev());
        all.extend((0..=255u8).step_by(7));
        for enc in ALL {
            for b in 0..=255u8 {
                let s = enc.decode(&[b]);
                assert!(!s.is_empty());
            }
            let s = enc.decode(&all);
            assert_eq!(s, s.nfc().collect::<String>());
            for window in all.windows(3) {
                enc.decode(window);
            }
        }
    }

    #[test]
    fn unrepresentable_characters_become_question_marks() {
        assert_eq!(VnEncoding::Tcvn3.encode("ß漢"), b"??");
        assert_eq!(VnEncoding::Vni.encode("ü漢"), b"??");
        assert_eq!(VnEncoding::Windows1258.encode("漢"), b"?");
        assert_eq!(VnEncoding::Vni.encode("€"), [0x80]);
    }

    fn detect_encoded(enc: VnEncoding, names: &[&str]) -> Detection {
        let encoded: Vec<Vec<u8>> = names.iter().map(|n| enc.encode(n)).collect();
        let samples: Vec<&[u8]> = encoded.iter().map(Vec::as_slice).collect();
        detect(&samples)
    }

    const ZONES: &[&str] = &[
        "Khu công nghiệp Quế Võ",
        "Yên Phong II",
        "Lô CN-12 đường số 3",
        "Đất cây xanh",
        "Thăng Long",
        "Hưng Yên",
        "Đồng Sóc",
        "Khu dân cư Tiên Sơn",
    ];

    const PLOTS: &[&str] = &[
        "Đất công nghiệp",
        "Đất giao thông",
        "Đất hạ tầng kỹ thuật",
        "Đất dịch vụ",
        "Mặt nước",
        "Nhà máy xử lý nước thải",
    ];

    const UPPER_ZONES: &[&str] =
        &["KHU CÔNG NGHIỆP NHƠN TRẠCH", "ĐẤT CÂY XANH", "BÃI ĐỖ XE", "TRẠM BIẾN ÁP", "LÔ ĐẤT SỐ 5"];

    #[test]
    fn detect_legacy_encodings() {
        for enc in [VnEncoding::Tcvn3, VnEncoding::Vni, VnEncoding::Windows1258] {
            for names in [ZONES, PLOTS, UPPER_ZONES, NAMES] {
                let got = detect_encoded(enc, names);
                assert_eq!(got.encoding, enc, "{names:?}: {}", got.reason);
                assert!(got.reason.starts_with(enc.name()), "{}", got.reason);
                assert!(got.reason.contains("decode to Vietnamese text"), "{}", got.reason);
            }
        }
        let got = detect_encoded(VnEncoding::Tcvn3, ZONES);
        assert!(got.reason.starts_with("TCVN3: 8 of 8 non-ASCII values"), "{}", got.reason);
    }

    #[test]
    fn detect_single_values() {
        // Even one value is usually enough.
        for enc in [VnEncoding::Tcvn3, VnEncoding::Vni, VnEncoding::Windows1258] {
            for name in ["Khu công nghiệp Quế Võ", "Đất cây xanh", "Nhà máy xử lý nước thải"]
            {
                let got = detect_encoded(enc, &[name]);
                assert_eq!(got.encoding, enc, "{name}: {}", got.reason);
            }
        }
    }

    #[test]
    fn detect_utf8_and_ascii() {
        let got = detect(&[b"Lot 12", b"KCN Que Vo", b""]);
        assert_eq!(got.encoding, VnEncoding::Utf8);
        assert!(got.reason.starts_with("UTF-8"), "{}", got.reason);
        assert!(got.reason.contains("ASCII"), "{}", got.reason);

        let got = detect_encoded(VnEncoding::Utf8, ZONES);
        assert_eq!(got.encoding, VnEncoding::Utf8);
        assert_eq!(got.reason, "UTF-8: all 8 non-ASCII values are valid UTF-8");

        let got = detect(&[]);
        assert_eq!(got.encoding, VnEncoding::Utf8);
        assert!(got.reason.starts_with("UTF-8"), "{}", got.reason);
    }

    #[test]
    fn detect_mostly_utf8_with_a_broken_value() {
        let mut encoded: Vec<Vec<u8>> = ZONES.iter().map(|n| n.as_bytes().to_vec()).collect();
        encoded.push(b"Qu\xEA\xEC V\xF5".to_vec());
        let samples: Vec<&[u8]> = encoded.iter().map(Vec::as_slice).collect();
        let got = detect(&samples);
        assert_eq!(got.encoding, VnEncoding::Utf8, "{}", got.reason);
        assert!(got.reason.starts_with("UTF-8: 8 of 9"), "{}", got.reason);
    }

    #[test]
    fn detect_garbage_still_answers() {
        let got = detect(&[b"\x81\x8D\x8F", b"\xFF\xFE"]);
        assert!(got.reason.starts_with(got.encoding.name()), "{}", got.reason);
        assert!(got.reason.contains("best guess"), "{}", got.reason);
    }

    #[test]
    fn syllables() {
        for w in [
            "nghiệp",
            "Quế",
            "Võ",
            "giữa",
            "gì",
            "quyết",
            "người",
            "Đắk",
            "khuỷu",
            "thuở",
            "xoong",
            "Trường",
            "yến",
            "ỨNG",
            "huỳnh",
            "khoanh",
            "oai",
            "ươm",
        ] {
            assert!(is_vietnamese_syllable(w), "{w}");
        }
        for w in [
            "nghieọp",
            "Qũ",
            "vâ",
            "tiê",
            "càc",
            "aê",
            "§ång",
            "Y\u{306}n",
            "ñoàng",
            "Bỡnh",
            "ưch",
            "tíng",
            "toọn",
        ] {
            assert!(!is_vietnamese_syllable(w), "{w}");
        }
    }
}

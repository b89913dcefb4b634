//! Text safety shared by every reader and writer: control characters are refused where text
//! comes in (submissions, the registry, the catalog, frameworks) and made visible where text
//! goes out (terminal, CSV, HTML, Markdown), so a stored escape sequence can never drive a
//! terminal or a spreadsheet.

use std::borrow::Cow;
use std::io::Write;

/// A C0 or C1 control character, or DEL. Tab, line feed and carriage return are not
/// counted when `allow_breaks` (free text that may hold line breaks).
pub fn is_control(c: char, allow_breaks: bool) -> bool {
    if allow_breaks && matches!(c, '\t' | '\n' | '\r') {
        return false;
    }
    c.is_control()
}

/// The first control character of `s`, with its 1-based character position.
pub fn first_control(s: &str, allow_breaks: bool) -> Option<(usize, char)> {
    s.chars()
        .enumerate()
        .find(|(_, c)| is_control(*c, allow_breaks))
        .map(|(i, c)| (i + 1, c))
}

/// The first string in a TOML document holding a control character other than tab and line
/// break: (key path, the string, character position, the character).
pub fn control_in_toml(v: &toml::Value, path: &str) -> Option<(String, String, usize, char)> {
    match v {
        toml::Value::String(s) => {
            first_control(s, true).map(|(at, c)| (path.to_string(), s.clone(), at, c))
        }
        toml::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, x)| control_in_toml(x, &format!("{path}[{i}]"))),
        toml::Value::Table(t) => t.iter().find_map(|(k, x)| {
            let p = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            control_in_toml(x, &p)
        }),
        _ => None,
    }
}

/// The first control character of `s` that is not in `except`, with its 1-based position.
pub fn first_control_but(s: &str, except: &[char]) -> Option<(usize, char)> {
    s.chars()
        .enumerate()
        .find(|(_, c)| c.is_control() && !except.contains(c))
        .map(|(i, c)| (i + 1, c))
}

/// How a control character is named in a message: `U+001B`.
pub fn code_point(c: char) -> String {
    format!("U+{:04X}", c as u32)
}

/// `s` with every control character other than tab and line feed written as a visible
/// escape (`\u{1b}`); unchanged (and not copied) when there is none.
pub fn printable(s: &str) -> Cow<'_, str> {
    if !s
        .chars()
        .any(|c| is_control(c, false) && c != '\t' && c != '\n')
    {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_control(c, false) && c != '\t' && c != '\n' {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A writer that passes text through with control characters made visible (see
/// [`printable`]), for everything a command prints on standard output. Carriage return is
/// kept only as part of a CRLF line end. Bytes are UTF-8; a C1 character (0xC2 0x80–0x9F)
/// split across two writes is still caught.
pub struct Printable<W: Write> {
    inner: W,
    /// a 0xC2 or a carriage return waiting for the next byte
    pending: Option<u8>,
}

impl<W: Write> Printable<W> {
    pub fn new(inner: W) -> Printable<W> {
        Printable {
            inner,
            pending: None,
        }
    }

    fn escape(out: &mut Vec<u8>, code: u32) {
        out.extend_from_slice(format!("\\u{{{code:x}}}").as_bytes());
    }
}

impl<W: Write> Write for Printable<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut out = Vec::with_capacity(buf.len() + 8);
        for &b in buf {
            match self.pending.take() {
                Some(0xC2) if (0x80..=0x9F).contains(&b) => {
                    Self::escape(&mut out, b as u32);
                    continue;
                }
                Some(b'\r') if b == b'\n' => {
                    out.extend_from_slice(b"\r\n");
                    continue;
                }
                Some(b'\r') => Self::escape(&mut out, 0x0d),
                Some(p) => out.push(p),
                None => {}
            }
            match b {
                0xC2 | b'\r' => self.pending = Some(b),
                b'\t' | b'\n' => out.push(b),
                0x00..=0x1F | 0x7F => Self::escape(&mut out, b as u32),
                _ => out.push(b),
            }
        }
        self.inner.write_all(&out)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self.pending.take() {
            Some(b'\r') => {
                let mut out = Vec::new();
                Self::escape(&mut out, 0x0d);
                self.inner.write_all(&out)?;
            }
            Some(p) => self.inner.write_all(&[p])?,
            None => {}
        }
        self.inner.flush()
    }
}

impl<W: Write> Drop for Printable<W> {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// Show a user's text safely inside a message: quoted, control characters escaped, cut short.
pub fn shown(text: &str) -> String {
    let mut out = String::from("'");
    for (i, c) in text.chars().enumerate() {
        if i == 60 {
            out.push('…');
            break;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text.as_bytes()[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map(|p| p + 1)
        .unwrap_or(0);
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn through(parts: &[&[u8]]) -> String {
        let mut buf = Vec::new();
        {
            let mut p = Printable::new(&mut buf);
            for part in parts {
                p.write_all(part).unwrap();
            }
            p.flush().unwrap();
        }
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn escape_sequences_become_visible() {
        assert_eq!(
            through(&[b"a\x1b]0;owned\x07b\n"]),
            "a\\u{1b}]0;owned\\u{7}b\n"
        );
        // C1 CSI (U+009B) split across two writes
        assert_eq!(through(&[b"x\xc2", b"\x9b2J"]), "x\\u{9b}2J");
        // a real two-byte character is kept
        assert_eq!(through(&["Bodø ©\n".as_bytes()]), "Bodø ©\n");
    }

    #[test]
    fn crlf_line_ends_stay_but_a_lone_carriage_return_does_not() {
        assert_eq!(through(&[b"a,b\r", b"\nc\rd\r"]), "a,b\r\nc\\u{d}d\\u{d}");
        assert_eq!(through(&[b"tab\tkept\n"]), "tab\tkept\n");
    }

    #[test]
    fn printable_and_first_control() {
        assert_eq!(printable("Oslo"), Cow::Borrowed("Oslo"));
        assert_eq!(printable("O\u{1b}[31m"), "O\\u{1b}[31m");
        assert_eq!(printable("a\u{85}b"), "a\\u{85}b");
        assert_eq!(first_control("ab\u{7}", false), Some((3, '\u{7}')));
        assert_eq!(first_control("a\tb\r\n", true), None);
        assert_eq!(first_control("a\tb", false), Some((2, '\t')));
        assert_eq!(code_point('\u{1b}'), "U+001B");
    }
}

/// Text compared as people type it: lower case, accents and Norwegian letters folded
/// (`Bodø` = `bodo`, `Å` = `a`, `æ` = `ae`), every run of punctuation and spaces one space.
/// Used to match KPI and city names across spellings.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = true;
    for c in s.chars().flat_map(char::to_lowercase) {
        let mapped: &str = match c {
            'æ' | 'ä' => "ae",
            'ø' | 'ö' | 'ó' | 'ò' | 'ô' => "o",
            'å' | 'á' | 'à' | 'â' => "a",
            'é' | 'è' | 'ê' | 'ë' => "e",
            'ü' | 'ú' | 'ù' => "u",
            'í' | 'ì' | 'ï' => "i",
            _ => "",
        };
        if !mapped.is_empty() {
            out.push_str(mapped);
            space = false;
        } else if c.is_alphanumeric() || c == '%' {
            out.push(c);
            space = false;
        } else if !space {
            out.push(' ');
            space = true;
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

#[cfg(test)]
mod fold_tests {
    use super::fold;

    #[test]
    fn names_fold_across_case_accents_and_punctuation() {
        assert_eq!(
            fold("Husholdninger med  internettilgang"),
            "husholdninger med internettilgang"
        );
        assert_eq!(fold("Bodø"), "bodo");
        assert_eq!(
            fold("ÅPNE DATA: andel publisert"),
            "apne data andel publisert"
        );
        assert_eq!(fold("Luftforurensning: PM2,5"), "luftforurensning pm2 5");
        assert_eq!(fold(" Tromsø "), "tromso");
    }
}
